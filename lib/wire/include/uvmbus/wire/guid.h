// VMBus GUIDs: the 16-byte wire form, its canonical text form, and the
// well-known device class GUIDs carried in OfferChannel::if_type.
//
// Reference: shared/spec/vmbus-channel.md §5 (byte order) and §10 (classes).
// On the wire a GUID uses Microsoft's mixed byte order: the first three groups
// (u32, u16, u16) are little-endian, the last eight bytes are kept as written.
// So "f8615163-df3e-46c5-913f-f2d2f965ed0e" is 63 51 61 f8 3e df c5 46 91 3f ...
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>

#include "uvmbus/wire/layout.h"

namespace uvmbus::wire {

struct Guid {
  uint8_t bytes[16];

  friend constexpr bool operator==(const Guid&, const Guid&) = default;
  friend constexpr auto operator<=>(const Guid&, const Guid&) = default;
};
UVMBUS_WIRE_STRUCT(Guid, 16);
UVMBUS_WIRE_OFFSET(Guid, bytes, 0);

// Length of "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx".
inline constexpr std::size_t kGuidTextLength = 36;

namespace detail {

constexpr int hex_digit_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Text position of each wire byte's two hex digits. The text lists the first
// three groups most significant byte first, the wire stores them reversed.
inline constexpr std::array<uint8_t, 16> kGuidTextPosition = {
    6, 4, 2, 0,     // group 1 (u32, little-endian on the wire)
    11, 9,          // group 2 (u16)
    16, 14,         // group 3 (u16)
    19, 21,         // group 4, as written
    24, 26, 28, 30, 32, 34,  // group 5, as written
};

inline constexpr std::array<uint8_t, 4> kGuidDashPosition = {8, 13, 18, 23};

}  // namespace detail

// Parses the canonical text form, hex digits in either case, optionally
// wrapped in one pair of braces ("{...}"). Anything else (wrong length, a
// missing or misplaced dash, a non-hex digit, an unmatched brace, surrounding
// spaces) yields nullopt.
constexpr std::optional<Guid> parse_guid(std::string_view text) noexcept {
  if (text.size() == kGuidTextLength + 2 && text.front() == '{' && text.back() == '}') {
    text = text.substr(1, kGuidTextLength);
  }
  if (text.size() != kGuidTextLength) {
    return std::nullopt;
  }
  for (uint8_t dash : detail::kGuidDashPosition) {
    if (text[dash] != '-') {
      return std::nullopt;
    }
  }
  Guid guid{};
  for (std::size_t i = 0; i < std::size(guid.bytes); ++i) {
    const int high = detail::hex_digit_value(text[detail::kGuidTextPosition[i]]);
    const int low = detail::hex_digit_value(text[detail::kGuidTextPosition[i] + 1]);
    if (high < 0 || low < 0) {
      return std::nullopt;
    }
    guid.bytes[i] = static_cast<uint8_t>(high << 4 | low);
  }
  return guid;
}

// Canonical lower-case text form without braces.
std::string to_string(const Guid& guid);

// For GUID constants written in text: a malformed literal fails to compile.
consteval Guid guid_literal(std::string_view text) {
  const std::optional<Guid> guid = parse_guid(text);
  if (!guid) {
    throw "malformed GUID literal";  // not a constant expression: compile error
  }
  return *guid;
}

// Well-known device class GUIDs (OfferChannel::if_type), named after Linux's
// HV_*_GUID constants.
inline constexpr Guid kHvNicGuid = guid_literal("f8615163-df3e-46c5-913f-f2d2f965ed0e");
inline constexpr Guid kHvScsiGuid = guid_literal("ba6163d9-04a1-4d29-b605-72e2ffb1dc7f");
inline constexpr Guid kHvIdeGuid = guid_literal("32412632-86cb-44a2-9b5c-50d1417354f5");
inline constexpr Guid kHvShutdownGuid = guid_literal("0e0b6031-5213-4934-818b-38d90ced39db");
inline constexpr Guid kHvTsGuid = guid_literal("9527e630-d0ae-497b-adce-e80ab0175caf");
inline constexpr Guid kHvHeartBeatGuid = guid_literal("57164f39-9115-4e78-ab55-382f3bd5422d");
inline constexpr Guid kHvKvpGuid = guid_literal("a9a0f4e7-5a45-4d96-b827-8a841e8c03e6");
inline constexpr Guid kHvVssGuid = guid_literal("35fa2e29-ea23-4236-96ae-3a6ebacba440");
inline constexpr Guid kHvFcopyGuid = guid_literal("34d14be3-dee4-41c8-9ae7-6b174977c192");
inline constexpr Guid kHvDmGuid = guid_literal("525074dc-8985-46e2-8057-a307dc18a502");
inline constexpr Guid kHvSynthvidGuid = guid_literal("da0a7802-e377-4aac-8e77-0558eb1073f8");
inline constexpr Guid kHvKbdGuid = guid_literal("f912ad6d-2b17-48ea-bd65-f927a61c7684");
inline constexpr Guid kHvMouseGuid = guid_literal("cfa8b69e-5b4a-4cc0-b98b-8ba1a1f3f95a");
inline constexpr Guid kHvSynthfcGuid = guid_literal("2f9bcc4a-0069-4af3-b76b-6fd0be528cda");
inline constexpr Guid kHvNdGuid = guid_literal("8c2eaf3d-32a7-4b09-ab99-bd1f1c86b501");
inline constexpr Guid kHvPcieGuid = guid_literal("44c4f61d-4444-4400-9d52-802e27ede19f");
inline constexpr Guid kHvAvma1Guid = guid_literal("f8e65716-3cb3-4a06-9a60-1889c5cccab5");
inline constexpr Guid kHvAvma2Guid = guid_literal("3375baf4-9e15-4b30-b765-67acb10d607b");
inline constexpr Guid kHvRdvGuid = guid_literal("276aacf4-ac15-426c-98dd-7521ad3f01fe");
inline constexpr Guid kHvImcGuid = guid_literal("c376c1c3-d276-48d2-90a9-c04748072c60");

}  // namespace uvmbus::wire

// Hashes the 16 bytes as two 64-bit words; the odd multiplier spreads the
// second word's bits before the halves are combined.
template <>
struct std::hash<uvmbus::wire::Guid> {
  std::size_t operator()(const uvmbus::wire::Guid& guid) const noexcept {
    uint64_t low = 0;
    uint64_t high = 0;
    for (std::size_t i = 0; i < 8; ++i) {
      low |= uint64_t{guid.bytes[i]} << (8 * i);
      high |= uint64_t{guid.bytes[8 + i]} << (8 * i);
    }
    return static_cast<std::size_t>(low ^ (high * 0x9e3779b97f4a7c15ull));
  }
};
