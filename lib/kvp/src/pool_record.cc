// Reading and writing single pool-file records.
#include "uvmbus/kvp/pool_record.h"

#include <cassert>
#include <cstring>
#include <optional>

#include "uvmbus/kvp/text.h"

namespace uvmbus::kvp {

namespace {

// The text before the field's first NUL, if there is one.
template <std::size_t N>
std::optional<std::string_view> terminated(const char (&field)[N]) noexcept {
  const void* nul = std::memchr(field, '\0', N);
  if (nul == nullptr) {
    return std::nullopt;
  }
  return std::string_view(field, static_cast<const char*>(nul) - field);
}

bool is_storable(std::string_view text, std::size_t max_bytes) noexcept {
  return text.size() <= max_bytes && text.find('\0') == std::string_view::npos &&
         is_valid_utf8(text);
}

}  // namespace

RecordView inspect_record(const wire::KvpPoolRecord& record) noexcept {
  if (record.key[0] == '\0') {
    return {RecordState::blank, {}, {}};
  }
  const auto key = terminated(record.key);
  if (!key || !is_valid_utf8(*key)) {
    return {RecordState::bad_key, {}, {}};
  }
  const auto value = terminated(record.value);
  if (!value || !is_valid_utf8(*value)) {
    return {RecordState::bad_value, *key, {}};
  }
  return {RecordState::valid, *key, *value};
}

bool is_storable_key(std::string_view key) noexcept {
  return !key.empty() && is_storable(key, wire::kKvpMaxKeyBytes - 1);
}

bool is_storable_value(std::string_view value) noexcept {
  return is_storable(value, wire::kKvpMaxValueBytes - 1);
}

wire::KvpPoolRecord make_record(std::string_view key, std::string_view value) noexcept {
  assert(is_storable_key(key) && is_storable_value(value));
  wire::KvpPoolRecord record{};
  std::memcpy(record.key, key.data(), key.size());
  std::memcpy(record.value, value.data(), value.size());
  return record;
}

}  // namespace uvmbus::kvp
