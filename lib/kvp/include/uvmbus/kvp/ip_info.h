// IP configuration of one adapter as GET_IP_INFO / SET_IP_INFO carry it, and
// its two wire forms:
//   - string form (KVP 3.0/4.0, Linux): ';'-separated UTF-16 lists; subnets
//     are dotted masks for IPv4 and "/<prefix>" for IPv6, as Linux writes them;
//   - binary form (KVP 5.0, OpenVMM): counted arrays in network byte order,
//     IPv6 subnets as prefix lengths, an origin per address.
// One model serves both, so a SET in one form can be answered in the other.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "uvmbus/kvp/text.h"
#include "uvmbus/wire/kvp.h"

namespace uvmbus::kvp {

using Ipv4Address = std::array<uint8_t, 4>;   // network byte order
using Ipv6Address = std::array<uint8_t, 16>;  // network byte order

struct Ipv4Entry {
  Ipv4Address address{};
  Ipv4Address subnet_mask{};
  wire::KvpAddressOrigin origin = wire::KvpAddressOrigin::unknown;
  friend bool operator==(const Ipv4Entry&, const Ipv4Entry&) = default;
};

struct Ipv6Entry {
  Ipv6Address address{};
  uint32_t prefix_length = 0;
  wire::KvpAddressOrigin origin = wire::KvpAddressOrigin::unknown;
  friend bool operator==(const Ipv6Entry&, const Ipv6Entry&) = default;
};

struct IpInfo {
  std::string adapter_id;  // GET: the MAC ("00:15:5D:..."); SET: "{vmbus instance guid}"
  uint8_t address_family = 0;  // wire::kKvpAddressFamily* bits
  bool dhcp_enabled = false;
  std::vector<Ipv4Entry> ipv4;
  std::vector<Ipv6Entry> ipv6;
  std::vector<Ipv4Address> ipv4_gateways;
  std::vector<Ipv6Address> ipv6_gateways;
  std::vector<Ipv4Address> ipv4_dns_servers;
  std::vector<Ipv6Address> ipv6_dns_servers;
  friend bool operator==(const IpInfo&, const IpInfo&) = default;
};

enum class IpInfoError : uint8_t {
  none,
  bad_adapter_id,      // not a valid UTF-16 string (see TextError)
  bad_list_text,       // a list is not a valid UTF-16 string (see TextError)
  unparsable_address,  // a list item is not an address, mask or prefix
  subnet_count,        // string form: not one subnet per address
  too_many_entries,    // more entries than the binary form's arrays hold
  list_too_long,       // string form: a list does not fit its field
};

const char* to_string(IpInfoError error) noexcept;

struct IpInfoResult {
  IpInfoError error;
  TextError text_error;  // for bad_adapter_id / bad_list_text
  IpInfo info;
};

[[nodiscard]] IpInfoResult read_ip_info(const wire::KvpIpInfoStringMessage& message);
[[nodiscard]] IpInfoResult read_ip_info(const wire::KvpIpInfoBinary& message);

// Write every field but the KVP header; unused array entries are zero.
[[nodiscard]] IpInfoError write_ip_info(const IpInfo& info, wire::KvpIpInfoStringMessage& message);
[[nodiscard]] IpInfoError write_ip_info(const IpInfo& info, wire::KvpIpInfoBinary& message);

}  // namespace uvmbus::kvp
