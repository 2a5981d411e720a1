// libFuzzer target: hostile bytes as one rtnetlink datagram. The parser must
// stay inside the buffer and keep only well-formed items.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "netlink_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using namespace uvmbus::kvpd;
  NetlinkDump dump;
  const ParseStatus status =
      parse_netlink(std::as_bytes(std::span(data, size)), dump);
  for (const NetAddress& address : dump.addresses) {
    if (address.prefix_length > address_bytes(address.family) * 8) {
      std::abort();
    }
  }
  for (const NetLink& link : dump.links) {
    if (link.name.size() >= 16) {
      std::abort();
    }
  }
  return status == ParseStatus::malformed ? 0 : 0;
}
