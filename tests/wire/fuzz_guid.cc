// libFuzzer target for the GUID text form. Any input read as text either
// fails to parse or round-trips through the canonical form; the first 16
// bytes read as a GUID must survive formatting and re-parsing in lower case,
// upper case and braces.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "uvmbus/wire/guid.h"

namespace {

using uvmbus::wire::Guid;
using uvmbus::wire::kGuidTextLength;
using uvmbus::wire::parse_guid;
using uvmbus::wire::to_string;

void check_text(std::string_view text) {
  const std::optional<Guid> guid = parse_guid(text);
  if (!guid) {
    return;
  }
  const std::string canonical = to_string(*guid);
  // The canonical form is the input without braces, in lower case.
  const std::string_view core =
      text.size() == kGuidTextLength ? text : text.substr(1, kGuidTextLength);
  for (std::size_t i = 0; i < core.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(core[i])) != canonical[i]) {
      __builtin_trap();
    }
  }
}

void check_bytes(const Guid& guid) {
  std::string text = to_string(guid);
  if (parse_guid(text) != guid || parse_guid("{" + text + "}") != guid) {
    __builtin_trap();
  }
  for (char& c : text) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (parse_guid(text) != guid) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  check_text(std::string_view(reinterpret_cast<const char*>(data), size));
  if (size >= sizeof(Guid)) {
    Guid guid;
    std::memcpy(&guid, data, sizeof(guid));
    check_bytes(guid);
  }
  return 0;
}
