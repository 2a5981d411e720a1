// Key and value limits, and the KVP device's error names (see kvp_text.h).
#include "kvp_text.h"

#include <fmt/format.h>

#include "uvmbus/kvp/guest_codec.h"
#include "uvmbus/kvp/text.h"
#include "uvmbus/wire/kvp.h"

namespace uvmbus::host {

const char* to_string(KvpErrc code) noexcept {
  switch (code) {
    case KvpErrc::no_such_vm: return "no_such_vm";
    case KvpErrc::guest_not_connected: return "guest_not_connected";
    case KvpErrc::timeout: return "timeout";
    case KvpErrc::key_too_long: return "key_too_long";
    case KvpErrc::value_too_long: return "value_too_long";
    case KvpErrc::bad_text: return "bad_text";
    case KvpErrc::bad_pool: return "bad_pool";
    case KvpErrc::not_found: return "not_found";
    case KvpErrc::guest_failed: return "guest_failed";
    case KvpErrc::bad_reply: return "bad_reply";
    case KvpErrc::bad_ip_info: return "bad_ip_info";
    case KvpErrc::stopped: return "stopped";
  }
  return "unknown";
}

std::string describe(const KvpFailure& failure) {
  if (failure.status != wire::HvStatus::ok) {
    return fmt::format("{} ({:#010x}): {}", to_string(failure.code),
                       static_cast<uint32_t>(failure.status), failure.detail);
  }
  return fmt::format("{}: {}", to_string(failure.code), failure.detail);
}

namespace detail {

namespace {

// UTF-16 code units of valid UTF-8 text: one per code point, two above U+FFFF
// (lead bytes 0xF0-0xF4).
std::size_t utf16_units(std::string_view text) {
  std::size_t units = 0;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte & 0xC0) != 0x80) {
      units += byte >= 0xF0 ? 2 : 1;
    }
  }
  return units;
}

std::optional<KvpFailure> check(std::string_view text, const char* what, std::size_t max_utf16_bytes,
                                std::size_t max_utf8, KvpErrc too_long) {
  if (!kvp::is_valid_utf8(text)) {
    return KvpFailure{KvpErrc::bad_text, wire::HvStatus::ok, fmt::format("the {} is not valid UTF-8", what)};
  }
  const std::size_t utf16_bytes = 2 * (utf16_units(text) + 1);
  if (utf16_bytes > max_utf16_bytes || text.size() > max_utf8) {
    return KvpFailure{too_long, wire::HvStatus::ok,
                      fmt::format("the {} takes {} bytes of UTF-16 with its NUL (at most {}) and {} "
                                  "bytes of UTF-8 (at most {})",
                                  what, utf16_bytes, max_utf16_bytes, text.size(), max_utf8)};
  }
  return std::nullopt;
}

}  // namespace

std::optional<KvpFailure> check_key(std::string_view key) {
  if (key.empty()) {
    return KvpFailure{KvpErrc::bad_text, wire::HvStatus::ok, "the key is empty"};
  }
  return check(key, "key", wire::kKvpMaxKeyBytes, kvp::kMaxKeyUtf8, KvpErrc::key_too_long);
}

std::optional<KvpFailure> check_value(std::string_view value) {
  return check(value, "value", wire::kKvpMaxValueBytes, kvp::kMaxValueUtf8, KvpErrc::value_too_long);
}

}  // namespace detail
}  // namespace uvmbus::host
