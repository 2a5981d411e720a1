// ifcfg and NetworkManager keyfile text (see ifcfg_files.h).
#include "ifcfg_files.h"

#include <arpa/inet.h>
#include <fmt/core.h>

#include <array>

#include "network_view.h"

namespace uvmbus::kvpd {
namespace {

std::string ipv4_text(const kvp::Ipv4Address& address) {
  std::array<char, INET_ADDRSTRLEN> text{};
  return inet_ntop(AF_INET, address.data(), text.data(), text.size());
}

std::string ipv6_text(const kvp::Ipv6Address& address) {
  std::array<char, INET6_ADDRSTRLEN> text{};
  return inet_ntop(AF_INET6, address.data(), text.data(), text.size());
}

// Eight groups of four hex digits, as Linux's daemon writes IPv6 values.
std::string ipv6_expanded(const kvp::Ipv6Address& address) {
  std::string text;
  for (std::size_t group = 0; group < 8; ++group) {
    text += fmt::format("{}{:02x}{:02x}", group == 0 ? "" : ":", address[2 * group],
                        address[2 * group + 1]);
  }
  return text;
}

// KEY for the first item and KEY<separator><n> after it.
std::string numbered(std::string_view key, std::string_view separator, std::size_t index) {
  return index == 0 ? std::string(key) : fmt::format("{}{}{}", key, separator, index);
}

template <typename List, typename Format>
std::string joined(const List& list, Format format) {
  std::string text;
  for (const auto& item : list) {
    if (!text.empty()) {
      text.push_back(',');
    }
    text.append(format(item));
  }
  return text;
}

}  // namespace

std::string ifcfg_text(std::string_view interface, std::string_view mac, const kvp::IpInfo& info) {
  std::string text = fmt::format("HWADDR={}\nDEVICE={}\nBOOTPROTO={}\n", mac, interface,
                                 info.dhcp_enabled ? "dhcp" : "none");
  for (std::size_t i = 0; i < info.ipv4.size(); ++i) {
    text += fmt::format("IPADDR{}={}\n", i, ipv4_text(info.ipv4[i].address));
  }
  for (std::size_t i = 0; i < info.ipv6.size(); ++i) {
    text += fmt::format("{}={}\n", numbered("IPV6ADDR", "_", i), ipv6_expanded(info.ipv6[i].address));
  }
  for (std::size_t i = 0; i < info.ipv4.size(); ++i) {
    text += fmt::format("NETMASK{}={}\n", i, ipv4_text(info.ipv4[i].subnet_mask));
  }
  for (std::size_t i = 0; i < info.ipv6.size(); ++i) {
    text += fmt::format("{}={}\n", numbered("IPV6NETMASK", "_", i), info.ipv6[i].prefix_length);
  }
  for (std::size_t i = 0; i < info.ipv4_gateways.size(); ++i) {
    text += fmt::format("{}={}\n", numbered("GATEWAY", "", i), ipv4_text(info.ipv4_gateways[i]));
  }
  for (std::size_t i = 0; i < info.ipv6_gateways.size(); ++i) {
    text += fmt::format("{}={}\n", numbered("IPV6_DEFAULTGW", "_", i),
                        ipv6_expanded(info.ipv6_gateways[i]));
  }
  std::size_t dns = 0;
  for (const auto& server : info.ipv4_dns_servers) {
    text += fmt::format("DNS{}={}\n", ++dns, ipv4_text(server));
  }
  for (const auto& server : info.ipv6_dns_servers) {
    text += fmt::format("DNS{}={}\n", ++dns, ipv6_expanded(server));
  }
  return text;
}

std::string keyfile_text(std::string_view interface, std::string_view mac, const kvp::IpInfo& info) {
  std::string text =
      fmt::format("[connection]\ninterface-name={}\n\n[ethernet]\nmac-address={}\n\n[ipv4]\n",
                  interface, mac);
  for (std::size_t i = 0; i < info.ipv4.size(); ++i) {
    text += fmt::format("address{}={}/{}\n", i + 1, ipv4_text(info.ipv4[i].address),
                        prefix_of_mask(info.ipv4[i].subnet_mask).value_or(32));
  }
  text += fmt::format("method={}\n", info.dhcp_enabled    ? "auto"
                                     : !info.ipv4.empty() ? "manual"
                                                          : "disabled");
  if (!info.ipv4_gateways.empty()) {
    text += "gateway=" + joined(info.ipv4_gateways, ipv4_text) + "\n";
  }
  if (!info.ipv4_dns_servers.empty()) {
    text += "dns=" + joined(info.ipv4_dns_servers, ipv4_text) + "\n";
  }
  text += "\n[ipv6]\n";
  for (std::size_t i = 0; i < info.ipv6.size(); ++i) {
    text += fmt::format("address{}={}/{}\n", i + 1, ipv6_text(info.ipv6[i].address),
                        info.ipv6[i].prefix_length);
  }
  text += fmt::format("method={}\n", info.ipv6.empty() ? "auto" : "manual");
  if (!info.ipv6_gateways.empty()) {
    text += "gateway=" + joined(info.ipv6_gateways, ipv6_text) + "\n";
  }
  if (!info.ipv6_dns_servers.empty()) {
    text += "dns=" + joined(info.ipv6_dns_servers, ipv6_text) + "\n";
  }
  return text;
}

}  // namespace uvmbus::kvpd
