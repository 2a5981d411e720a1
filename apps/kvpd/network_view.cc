// GET_IP_INFO and auto-pool network facts from a snapshot (see network_view.h).
#include "network_view.h"

#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstring>

#include "uvmbus/wire/kvp.h"

namespace uvmbus::kvpd {
namespace {

bool same_mac_text(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::toupper(static_cast<unsigned char>(x)) ==
                  std::toupper(static_cast<unsigned char>(y));
         });
}

const NetLink* find_link(const NetworkSnapshot& network, int index) {
  const auto found = std::find_if(network.links.begin(), network.links.end(),
                                  [&](const NetLink& link) { return link.index == index; });
  return found == network.links.end() ? nullptr : &*found;
}

bool has_address(const NetworkSnapshot& network, int index) {
  return std::any_of(network.addresses.begin(), network.addresses.end(),
                     [&](const NetAddress& address) { return address.link_index == index; });
}

kvp::Ipv4Address mask_of(uint8_t prefix) {
  const uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
  return {static_cast<uint8_t>(mask >> 24), static_cast<uint8_t>(mask >> 16),
          static_cast<uint8_t>(mask >> 8), static_cast<uint8_t>(mask)};
}

template <std::size_t N>
std::array<uint8_t, N> first_bytes(const IpBytes& bytes) {
  std::array<uint8_t, N> out;
  std::copy_n(bytes.begin(), N, out.begin());
  return out;
}

}  // namespace

std::string format_mac(const MacAddress& mac) {
  std::string text;
  constexpr char kDigits[] = "0123456789ABCDEF";
  for (std::size_t i = 0; i < mac.size(); ++i) {
    if (i != 0) {
      text.push_back(':');
    }
    text.push_back(kDigits[mac[i] >> 4]);
    text.push_back(kDigits[mac[i] & 0xf]);
  }
  return text;
}

std::optional<int> link_by_mac(const NetworkSnapshot& network, std::string_view mac) {
  for (const NetLink& link : network.links) {
    if (link.has_mac && same_mac_text(format_mac(link.mac), mac) &&
        has_address(network, link.index)) {
      return link.index;
    }
  }
  return std::nullopt;
}

kvp::IpInfo ip_info_of_link(const NetworkSnapshot& network, int link_index,
                            const DnsServers& dns) {
  kvp::IpInfo info;
  for (const NetAddress& address : network.addresses) {
    if (address.link_index != link_index) {
      continue;
    }
    const bool dynamic = (address.flags & IFA_F_PERMANENT) == 0;
    const auto origin = dynamic ? wire::KvpAddressOrigin::other
                                : wire::KvpAddressOrigin::static_assignment;
    if (address.family == AF_INET && info.ipv4.size() < wire::kKvpMaxAddresses) {
      info.ipv4.push_back({first_bytes<4>(address.address), mask_of(address.prefix_length), origin});
      info.dhcp_enabled = info.dhcp_enabled || dynamic;
    } else if (address.family == AF_INET6 && info.ipv6.size() < wire::kKvpMaxAddresses) {
      info.ipv6.push_back({first_bytes<16>(address.address), address.prefix_length, origin});
    }
  }
  for (const NetRoute& route : network.routes) {
    if (route.destination_length != 0 || !route.has_gateway || route.table != RT_TABLE_MAIN ||
        route.output_link != link_index) {
      continue;
    }
    if (route.family == AF_INET && info.ipv4_gateways.size() < wire::kKvpMaxGateways) {
      info.ipv4_gateways.push_back(first_bytes<4>(route.gateway));
    } else if (route.family == AF_INET6 && info.ipv6_gateways.size() < wire::kKvpMaxGateways) {
      info.ipv6_gateways.push_back(first_bytes<16>(route.gateway));
    }
  }
  info.ipv4_dns_servers = dns.ipv4;
  info.ipv6_dns_servers = dns.ipv6;
  info.address_family = static_cast<uint8_t>((info.ipv4.empty() ? 0 : wire::kKvpAddressFamilyIpv4) |
                                             (info.ipv6.empty() ? 0 : wire::kKvpAddressFamilyIpv6));
  return info;
}

std::string joined_addresses(const NetworkSnapshot& network, uint8_t family) {
  std::string joined;
  char buffer[INET6_ADDRSTRLEN];
  for (const NetAddress& address : network.addresses) {
    const NetLink* link = find_link(network, address.link_index);
    if (address.family != family || link == nullptr || (link->flags & IFF_LOOPBACK) != 0) {
      continue;
    }
    if (!joined.empty()) {
      joined.push_back(';');
    }
    joined.append(inet_ntop(family, address.address.data(), buffer, sizeof(buffer)));
  }
  return joined;
}

std::optional<uint8_t> prefix_of_mask(const kvp::Ipv4Address& mask) {
  const uint32_t bits = (uint32_t{mask[0]} << 24) | (uint32_t{mask[1]} << 16) |
                        (uint32_t{mask[2]} << 8) | mask[3];
  const auto prefix = static_cast<uint8_t>(std::countl_one(bits));
  if (mask_of(prefix) != mask) {
    return std::nullopt;
  }
  return prefix;
}

}  // namespace uvmbus::kvpd
