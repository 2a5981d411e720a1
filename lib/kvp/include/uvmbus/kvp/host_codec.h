// The host side of the KVP codec: writes requests as a host sends them and
// reads the guest's replies. Used by the host emulator and by tests that
// play the host.
//
// Requests have the sizes OpenVMM sends: wire::kKvpMessageSize for GET, SET,
// DELETE and ENUMERATE, wire::kKvpIpMessageSize for the IP-info operations,
// zero-filled. `out` is where the IC body goes (out[wire::kIcBodyOffset..] of
// the packet); the returned size is the body size to frame.
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

struct RequestSize {
  KvpError error;    // none, buffer_too_small, bad_key or bad_value
  std::size_t size;  // body bytes written; 0 on error
};

[[nodiscard]] RequestSize write_set_request(std::span<std::byte> out, wire::KvpPool pool,
                                            std::string_view key, std::string_view value);
// SET of a number: `type` is u32 (value must fit), u64 or u64_linux.
[[nodiscard]] RequestSize write_set_number_request(std::span<std::byte> out, wire::KvpPool pool,
                                                   std::string_view key,
                                                   wire::KvpValueType type, uint64_t value);
[[nodiscard]] RequestSize write_get_request(std::span<std::byte> out, wire::KvpPool pool,
                                            std::string_view key);
[[nodiscard]] RequestSize write_delete_request(std::span<std::byte> out, wire::KvpPool pool,
                                               std::string_view key);
[[nodiscard]] RequestSize write_enumerate_request(std::span<std::byte> out, wire::KvpPool pool,
                                                  uint32_t index);
// GET_IP_INFO / SET_IP_INFO in the form of `kvp_version`. GET sends only the
// adapter id and address family of `info`.
[[nodiscard]] RequestSize write_ip_info_request(std::span<std::byte> out,
                                                wire::KvpOperation operation,
                                                wire::IcVersion kvp_version, const IpInfo& info);

struct ItemReply {
  KvpError error;
  TextError text_error;  // detail for bad_key / bad_value
  std::string key;       // ENUMERATE only
  std::string value;
};

// Reads an ENUMERATE reply (key and value) or a GET reply (value). The
// guest's strings are checked as strictly as the host's are.
[[nodiscard]] ItemReply read_enumerate_reply(std::span<const std::byte> body);
[[nodiscard]] ItemReply read_get_reply(std::span<const std::byte> body);

struct IpInfoReply {
  KvpError error;        // none, truncated or bad_ip_info
  IpInfoError ip_error;  // detail for bad_ip_info
  TextError text_error;  // detail for a bad string
  IpInfo info;
};

[[nodiscard]] IpInfoReply read_ip_info_reply(std::span<const std::byte> body,
                                             wire::IcVersion kvp_version);

}  // namespace uvmbus::kvp
