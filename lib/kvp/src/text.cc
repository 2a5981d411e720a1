// Strict UTF-16LE <-> UTF-8 conversion for KVP strings.
#include "uvmbus/kvp/text.h"

#include <algorithm>
#include <cstring>
#include <optional>

namespace uvmbus::kvp {

namespace {

constexpr char32_t kMaxCodePoint = 0x10FFFF;

bool is_high_surrogate(uint32_t unit) noexcept { return unit >= 0xD800 && unit <= 0xDBFF; }
bool is_low_surrogate(uint32_t unit) noexcept { return unit >= 0xDC00 && unit <= 0xDFFF; }

uint16_t unit_at(std::span<const std::byte> field, std::size_t index) noexcept {
  return static_cast<uint16_t>(std::to_integer<uint16_t>(field[2 * index]) |
                               std::to_integer<uint16_t>(field[2 * index + 1]) << 8);
}

void put_unit(std::span<std::byte> field, std::size_t index, uint16_t unit) noexcept {
  field[2 * index] = static_cast<std::byte>(unit & 0xff);
  field[2 * index + 1] = static_cast<std::byte>(unit >> 8);
}

void append_utf8(std::string& out, char32_t code_point) {
  if (code_point < 0x80) {
    out.push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else if (code_point < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (code_point >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

// Decodes the code point at `pos` and advances past it; nullopt if the bytes
// there are not well-formed UTF-8.
std::optional<char32_t> next_code_point(std::string_view text, std::size_t& pos) noexcept {
  const auto lead = static_cast<unsigned char>(text[pos]);
  std::size_t length = 0;
  char32_t code_point = 0;
  char32_t minimum = 0;
  if (lead < 0x80) {
    ++pos;
    return lead;
  } else if ((lead & 0xE0) == 0xC0) {
    length = 2;
    code_point = lead & 0x1F;
    minimum = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    code_point = lead & 0x0F;
    minimum = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    code_point = lead & 0x07;
    minimum = 0x10000;
  } else {
    return std::nullopt;
  }
  if (text.size() - pos < length) {
    return std::nullopt;
  }
  for (std::size_t i = 1; i < length; ++i) {
    const auto continuation = static_cast<unsigned char>(text[pos + i]);
    if ((continuation & 0xC0) != 0x80) {
      return std::nullopt;
    }
    code_point = (code_point << 6) | (continuation & 0x3F);
  }
  if (code_point < minimum || code_point > kMaxCodePoint ||
      (code_point >= 0xD800 && code_point <= 0xDFFF)) {
    return std::nullopt;
  }
  pos += length;
  return code_point;
}

// Converts `count` UTF-16 units, none of which may be NUL.
TextResult decode_units(std::span<const std::byte> field, std::size_t count,
                        std::size_t max_utf8_bytes) {
  TextResult result{TextError::none, {}};
  for (std::size_t i = 0; i < count; ++i) {
    const uint32_t unit = unit_at(field, i);
    char32_t code_point = unit;
    if (unit == 0) {
      return {TextError::embedded_nul, {}};
    }
    if (is_high_surrogate(unit)) {
      if (i + 1 == count || !is_low_surrogate(unit_at(field, i + 1))) {
        return {TextError::unpaired_surrogate, {}};
      }
      code_point = 0x10000 + ((unit - 0xD800) << 10) + (unit_at(field, i + 1) - 0xDC00);
      ++i;
    } else if (is_low_surrogate(unit)) {
      return {TextError::unpaired_surrogate, {}};
    }
    append_utf8(result.text, code_point);
    if (result.text.size() > max_utf8_bytes) {
      return {TextError::too_long, {}};
    }
  }
  return result;
}

}  // namespace

const char* to_string(TextError error) noexcept {
  switch (error) {
    case TextError::none: return "none";
    case TextError::odd_size: return "odd_size";
    case TextError::size_beyond_field: return "size_beyond_field";
    case TextError::missing_terminator: return "missing_terminator";
    case TextError::embedded_nul: return "embedded_nul";
    case TextError::unpaired_surrogate: return "unpaired_surrogate";
    case TextError::invalid_utf8: return "invalid_utf8";
    case TextError::too_long: return "too_long";
  }
  return "unknown";
}

TextResult utf16le_to_utf8(std::span<const std::byte> field, uint32_t size_bytes,
                           std::size_t max_utf8_bytes) {
  if (size_bytes % 2 != 0) {
    return {TextError::odd_size, {}};
  }
  if (size_bytes > field.size()) {
    return {TextError::size_beyond_field, {}};
  }
  const std::size_t units = size_bytes / 2;
  if (units == 0 || unit_at(field, units - 1) != 0) {
    return {TextError::missing_terminator, {}};
  }
  return decode_units(field, units - 1, max_utf8_bytes);
}

TextResult utf16le_field_to_utf8(std::span<const std::byte> field, std::size_t max_utf8_bytes) {
  const std::size_t units = field.size() / 2;
  std::size_t length = 0;
  while (length < units && unit_at(field, length) != 0) {
    ++length;
  }
  if (length == units) {
    return {TextError::missing_terminator, {}};
  }
  return decode_units(field, length, max_utf8_bytes);
}

Utf16Result utf8_to_utf16le(std::string_view text, std::span<std::byte> field,
                            Overflow overflow) {
  std::fill(field.begin(), field.end(), std::byte{0});
  if (field.size() < 2) {
    return {TextError::too_long, 0, false};
  }
  const std::size_t capacity = field.size() / 2 - 1;  // units before the NUL
  std::size_t units = 0;
  std::size_t pos = 0;
  bool truncated = false;
  while (pos < text.size()) {
    const std::optional<char32_t> code_point = next_code_point(text, pos);
    if (!code_point) {
      std::fill(field.begin(), field.end(), std::byte{0});
      return {TextError::invalid_utf8, 0, false};
    }
    if (*code_point == 0) {
      std::fill(field.begin(), field.end(), std::byte{0});
      return {TextError::embedded_nul, 0, false};
    }
    const std::size_t needed = *code_point >= 0x10000 ? 2 : 1;
    if (units + needed > capacity) {
      if (overflow == Overflow::reject) {
        std::fill(field.begin(), field.end(), std::byte{0});
        return {TextError::too_long, 0, false};
      }
      truncated = true;
      break;
    }
    if (needed == 2) {
      const char32_t offset = *code_point - 0x10000;
      put_unit(field, units++, static_cast<uint16_t>(0xD800 + (offset >> 10)));
      put_unit(field, units++, static_cast<uint16_t>(0xDC00 + (offset & 0x3FF)));
    } else {
      put_unit(field, units++, static_cast<uint16_t>(*code_point));
    }
  }
  return {TextError::none, static_cast<uint32_t>(2 * (units + 1)), truncated};
}

bool is_valid_utf8(std::string_view text) noexcept {
  constexpr uint64_t kHighBits = 0x8080808080808080ull;
  std::size_t pos = 0;
  while (pos < text.size()) {
    // ASCII (each byte below 0x80 is a code point of its own) eight bytes
    // at a time: a SET checks its value several times, and most are ASCII.
    uint64_t word = 0;
    while (text.size() - pos >= sizeof(word) &&
           (std::memcpy(&word, text.data() + pos, sizeof(word)), (word & kHighBits) == 0)) {
      pos += sizeof(word);
    }
    if (pos == text.size()) {
      break;
    }
    if (!next_code_point(text, pos)) {
      return false;
    }
  }
  return true;
}

}  // namespace uvmbus::kvp
