// libFuzzer target for the GUID text parser: any input either fails to parse
// or round-trips through the canonical form to the same GUID.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "uvmbus/wire/guid.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::optional<uvmbus::wire::Guid> guid = uvmbus::wire::parse_guid(text);
  if (!guid) {
    return 0;
  }
  const std::string canonical = uvmbus::wire::to_string(*guid);
  if (uvmbus::wire::parse_guid(canonical) != guid) {
    __builtin_trap();
  }
  // The canonical form is the input without braces, in lower case.
  const std::string_view core = text.size() == uvmbus::wire::kGuidTextLength
                                    ? text
                                    : text.substr(1, uvmbus::wire::kGuidTextLength);
  for (std::size_t i = 0; i < core.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(core[i])) != canonical[i]) {
      __builtin_trap();
    }
  }
  return 0;
}
