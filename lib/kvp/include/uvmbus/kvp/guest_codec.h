// The guest side of the KVP codec: decodes a host request from the body of
// an IC kvp_exchange message and writes the reply into the same body.
//
// `body` is the IC body with its room (ic::GuestEvent::body): every field is
// checked to lie inside it before it is read. Strings are converted strictly
// (see text.h); SET values of type u32 and u64 (both 8 and 11) become decimal
// text, as Linux stores them. The IP-info form follows the negotiated KVP
// version: binary from 5.0 on, strings before.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "uvmbus/kvp/ip_info.h"
#include "uvmbus/kvp/kvp_error.h"
#include "uvmbus/kvp/text.h"
#include "uvmbus/wire/kvp.h"

namespace uvmbus::kvp {

// Longest UTF-8 key and value a pool record holds (its fields less the NUL).
inline constexpr std::size_t kMaxKeyUtf8 = wire::kKvpMaxKeyBytes - 1;
inline constexpr std::size_t kMaxValueUtf8 = wire::kKvpMaxValueBytes - 1;

// True if the KVP version exchanges IP info in the binary form.
[[nodiscard]] constexpr bool uses_binary_ip_info(wire::IcVersion version) noexcept {
  return version.major >= 5;
}

// A decoded request. Which fields are set depends on the operation.
struct KvpRequest {
  wire::KvpOperation operation{};
  wire::KvpPool pool{};       // get, set, del, enumerate
  std::string key;            // get, set, del
  std::string value;          // set: UTF-8 text, numbers in decimal
  uint32_t index = 0;         // enumerate
  IpInfo ip_info;             // get_ip_info: adapter_id and address_family; set_ip_info: all
};

struct DecodeResult {
  KvpError error;
  TextError text_error;    // detail for bad_key / bad_value
  IpInfoError ip_error;    // detail for bad_ip_info
  KvpRequest request;
};

[[nodiscard]] DecodeResult decode_request(std::span<const std::byte> body,
                                          wire::IcVersion kvp_version);

struct ReplyResult {
  KvpError error;
  IpInfoError ip_error;  // detail for bad_ip_info
  bool truncated;        // a key or value was cut to fit its UTF-16 field
};

// GET: the value as REG_SZ; the host's key stays as it was sent.
[[nodiscard]] ReplyResult write_get_reply(std::span<std::byte> body, std::string_view value);

// ENUMERATE: key and value as REG_SZ. Pool records can hold more text than
// the UTF-16 fields (a 511-byte ASCII key needs 1,024 bytes of UTF-16); such
// a record is cut at a code-point boundary to fill its field and reported as
// truncated, so the host still sees the item, as it does from Linux.
[[nodiscard]] ReplyResult write_enumerate_reply(std::span<std::byte> body, std::string_view key,
                                                std::string_view value);

// GET_IP_INFO: the adapter's configuration in the negotiated form.
[[nodiscard]] ReplyResult write_ip_info_reply(std::span<std::byte> body,
                                              wire::IcVersion kvp_version, const IpInfo& info);

}  // namespace uvmbus::kvp
