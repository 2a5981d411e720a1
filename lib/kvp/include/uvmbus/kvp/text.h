// Text conversion between the wire (NUL-terminated UTF-16LE in fixed fields)
// and the pool files (UTF-8), strict in both directions.
//
// From the host: the declared byte count must be even, fit its field and end
// with the one NUL; surrogates must pair; the UTF-8 result must fit where it
// goes. Anything else is an error, never a silently shortened string.
// To the host: the UTF-8 must be valid; a string longer than its field is
// either refused or, where the caller asks for it, cut at a code-point
// boundary and reported as truncated.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace uvmbus::kvp {

enum class TextError : uint8_t {
  none,
  odd_size,            // a UTF-16 byte count that is not even
  size_beyond_field,   // a declared size larger than its field
  missing_terminator,  // the declared string does not end with NUL (or the field has none)
  embedded_nul,        // a NUL before the declared end
  unpaired_surrogate,  // UTF-16 high/low surrogate without its partner
  invalid_utf8,        // malformed, overlong, surrogate or out-of-range UTF-8
  too_long,            // the text does not fit its destination
};

const char* to_string(TextError error) noexcept;

struct TextResult {
  TextError error;
  std::string text;  // UTF-8 without the NUL; empty on error
};

// Converts a host string whose size in bytes (including the NUL) the message
// declares. The result must be at most `max_utf8_bytes` long.
[[nodiscard]] TextResult utf16le_to_utf8(std::span<const std::byte> field, uint32_t size_bytes,
                                         std::size_t max_utf8_bytes);

// Converts a host string from a field without a declared size: the text runs
// to the first NUL, which must be inside the field.
[[nodiscard]] TextResult utf16le_field_to_utf8(std::span<const std::byte> field,
                                               std::size_t max_utf8_bytes);

enum class Overflow : bool { reject, truncate };

struct Utf16Result {
  TextError error;
  uint32_t size_bytes;  // bytes written including the NUL; 0 on error
  bool truncated;       // Overflow::truncate cut the text
};

// Writes `text` as NUL-terminated UTF-16LE into `field` and zeroes the rest
// of the field. On error the field is all zeros.
[[nodiscard]] Utf16Result utf8_to_utf16le(std::string_view text, std::span<std::byte> field,
                                          Overflow overflow);

// Strict UTF-8 check (RFC 3629: no overlong forms, no surrogates, at most
// U+10FFFF).
[[nodiscard]] bool is_valid_utf8(std::string_view text) noexcept;

}  // namespace uvmbus::kvp
