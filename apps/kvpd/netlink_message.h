// rtnetlink messages, sans-IO: parsing the replies of link, address and
// route dumps (and the kernel's acknowledgements) from raw datagram bytes,
// and building the requests kvpd sends. Nothing here touches a socket, so
// the parser can be fed hostile bytes (tests/kvpd/fuzz_netlink.cc).
//
// Every length is checked against the datagram before it is used; a message
// or attribute that does not fit ends the parse as malformed.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace uvmbus::kvpd {

using MacAddress = std::array<uint8_t, 6>;
using IpBytes = std::array<uint8_t, 16>;  // IPv4 in the first 4 bytes

struct NetLink {
  int index = 0;
  unsigned flags = 0;  // IFF_*
  std::string name;
  bool has_mac = false;
  MacAddress mac{};
};

struct NetAddress {
  int link_index = 0;
  uint8_t family = 0;  // AF_INET / AF_INET6
  uint8_t prefix_length = 0;
  uint8_t scope = 0;
  uint32_t flags = 0;  // IFA_F_* (IFA_FLAGS when present)
  IpBytes address{};
};

struct NetRoute {
  uint8_t family = 0;
  uint8_t destination_length = 0;  // 0: a default route
  uint32_t table = 0;
  int output_link = 0;
  bool has_gateway = false;
  IpBytes gateway{};
};

enum class ParseStatus : uint8_t {
  more,       // the datagram was consumed; the dump continues
  done,       // NLMSG_DONE, or an acknowledgement (see error_code)
  malformed,  // a length or attribute out of bounds
};

struct NetlinkDump {
  std::vector<NetLink> links;
  std::vector<NetAddress> addresses;
  std::vector<NetRoute> routes;
  int error_code = 0;  // NLMSG_ERROR: 0 for an ACK, else a negative errno
};

// Adds what one datagram carries to `dump`.
[[nodiscard]] ParseStatus parse_netlink(std::span<const std::byte> datagram, NetlinkDump& dump);

// A dump request (RTM_GETLINK / RTM_GETADDR / RTM_GETROUTE) for `family`.
[[nodiscard]] std::vector<std::byte> dump_request(uint16_t type, uint8_t family, uint32_t sequence);

// RTM_NEWADDR (create or replace) or RTM_DELADDR for one address.
[[nodiscard]] std::vector<std::byte> address_request(bool add, const NetAddress& address,
                                                     uint32_t sequence);

// RTM_NEWROUTE (create or replace) of a default route via `gateway` on
// `output_link` in the main table, with `metric`.
[[nodiscard]] std::vector<std::byte> default_route_request(uint8_t family, const IpBytes& gateway,
                                                           int output_link, uint32_t metric,
                                                           uint32_t sequence);

// Bytes of an address of `family` (4 or 16; 0 for another family).
[[nodiscard]] std::size_t address_bytes(uint8_t family) noexcept;

}  // namespace uvmbus::kvpd
