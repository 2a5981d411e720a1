// Canonical text form of a wire GUID (the inverse of parse_guid).
#include "uvmbus/wire/guid.h"

namespace uvmbus::wire {

std::string to_string(const Guid& guid) {
  static constexpr char kHexDigits[] = "0123456789abcdef";
  std::string text(kGuidTextLength, '-');
  for (std::size_t i = 0; i < std::size(guid.bytes); ++i) {
    const std::size_t position = detail::kGuidTextPosition[i];
    text[position] = kHexDigits[guid.bytes[i] >> 4];
    text[position + 1] = kHexDigits[guid.bytes[i] & 0xf];
  }
  return text;
}

}  // namespace uvmbus::wire
