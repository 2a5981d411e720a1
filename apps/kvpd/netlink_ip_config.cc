// rtnetlink-backed GET_IP_INFO / SET_IP_INFO (see netlink_ip_config.h).
#include "netlink_ip_config.h"

#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "ifconfig_hook.h"
#include "network_view.h"

namespace uvmbus::kvpd {
namespace {

std::string read_text(const std::filesystem::path& path) {
  std::ifstream file(path);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

// The addresses `info` asks for, as netlink addresses on `link_index`;
// nullopt if an IPv4 mask is not contiguous or an IPv6 prefix exceeds 128.
std::optional<std::vector<NetAddress>> wanted_addresses(const kvp::IpInfo& info, int link_index) {
  std::vector<NetAddress> wanted;
  for (const kvp::Ipv4Entry& entry : info.ipv4) {
    const std::optional<uint8_t> prefix = prefix_of_mask(entry.subnet_mask);
    if (!prefix) {
      return std::nullopt;
    }
    NetAddress address{.link_index = link_index, .family = AF_INET, .prefix_length = *prefix};
    std::copy(entry.address.begin(), entry.address.end(), address.address.begin());
    wanted.push_back(address);
  }
  for (const kvp::Ipv6Entry& entry : info.ipv6) {
    if (entry.prefix_length > 128) {
      return std::nullopt;
    }
    NetAddress address{.link_index = link_index,
                       .family = AF_INET6,
                       .prefix_length = static_cast<uint8_t>(entry.prefix_length)};
    std::copy(entry.address.begin(), entry.address.end(), address.address.begin());
    wanted.push_back(address);
  }
  return wanted;
}

bool same_address(const NetAddress& a, const NetAddress& b) {
  return a.family == b.family && a.prefix_length == b.prefix_length && a.address == b.address;
}

}  // namespace

IpLookup NetlinkIpConfig::get(std::string_view mac) {
  const SnapshotResult read = read_network();
  if ((last_errno_ = read.error) != 0) {
    return {wire::HvStatus::fail, {}};
  }
  const NetworkSnapshot& network = read.network;
  const std::optional<int> link = link_by_mac(network, mac);
  if (!link) {
    return {wire::HvStatus::fail, {}};
  }
  IpLookup lookup{wire::HvStatus::ok,
                  ip_info_of_link(network, *link, parse_resolv_conf(read_text(options_.resolv_conf)))};
  lookup.info.adapter_id = std::string(mac);
  return lookup;
}

wire::HvStatus NetlinkIpConfig::set(const kvp::IpInfo& info) {
  const std::optional<std::string> name =
      options_.nic_map.interface_for(info.adapter_id, options_.sysfs_net);
  if (!name) {
    return wire::HvStatus::not_found;
  }
  const unsigned index = if_nametoindex(name->c_str());
  if (index == 0) {
    last_errno_ = errno;
    return wire::HvStatus::not_found;
  }
  return apply(info, static_cast<int>(index));
}

// Removes the link's global addresses the host did not ask for, adds (or
// replaces) the ones it did, then sets one default route per gateway
// (metrics 100, 101, ... in the host's order) and the nameservers.
wire::HvStatus NetlinkIpConfig::apply(const kvp::IpInfo& info, int link_index) {
  const std::optional<std::vector<NetAddress>> wanted = wanted_addresses(info, link_index);
  if (!wanted) {
    return wire::HvStatus::invalid_arg;
  }
  NetlinkSocket::OpenResult opened = NetlinkSocket::open();
  if ((last_errno_ = opened.error) != 0) {
    return wire::HvStatus::fail;
  }
  NetlinkSocket* socket = opened.socket.get();
  SnapshotResult read = socket->snapshot();
  if ((last_errno_ = read.error) != 0) {
    return wire::HvStatus::fail;
  }
  const NetworkSnapshot& network = read.network;
  for (const NetAddress& present : network.addresses) {
    const bool keep = present.link_index != link_index || present.scope != RT_SCOPE_UNIVERSE ||
                      std::any_of(wanted->begin(), wanted->end(), [&](const NetAddress& address) {
                        return same_address(address, present);
                      });
    if (!keep && (last_errno_ = socket->request(
                      address_request(false, present, socket->next_sequence()))) != 0) {
      return wire::HvStatus::fail;
    }
  }
  for (const NetAddress& address : *wanted) {
    if ((last_errno_ = socket->request(address_request(true, address, socket->next_sequence()))) != 0) {
      return wire::HvStatus::fail;
    }
  }
  uint32_t metric = 100;
  auto add_route = [&](uint8_t family, const auto& gateway) {
    IpBytes bytes{};
    std::copy(gateway.begin(), gateway.end(), bytes.begin());
    return (last_errno_ = socket->request(default_route_request(
                family, bytes, link_index, metric++, socket->next_sequence()))) == 0;
  };
  for (const auto& gateway : info.ipv4_gateways) {
    if (!add_route(AF_INET, gateway)) {
      return wire::HvStatus::fail;
    }
  }
  metric = 100;
  for (const auto& gateway : info.ipv6_gateways) {
    if (!add_route(AF_INET6, gateway)) {
      return wire::HvStatus::fail;
    }
  }
  if (!write_resolv_conf(info) || !run_hook(info, network, link_index)) {
    return wire::HvStatus::fail;
  }
  return wire::HvStatus::ok;
}

bool NetlinkIpConfig::run_hook(const kvp::IpInfo& info, const NetworkSnapshot& network,
                               int link_index) {
  if (options_.ifconfig_hook.empty()) {
    return true;
  }
  const auto link = std::find_if(network.links.begin(), network.links.end(),
                                 [&](const NetLink& l) { return l.index == link_index; });
  if (link == network.links.end()) {
    last_errno_ = ENODEV;
    return false;
  }
  const HookResult result = run_ifconfig_hook(options_.ifconfig_hook, options_.ifconfig_dir,
                                              link->name, format_mac(link->mac), info);
  last_errno_ = result.error_number;
  return result.ok;
}

// Replaces the nameservers through a temporary file and rename, so readers
// see the old or the new file, never half of one. Nothing to do without
// servers.
bool NetlinkIpConfig::write_resolv_conf(const kvp::IpInfo& info) {
  if (info.ipv4_dns_servers.empty() && info.ipv6_dns_servers.empty()) {
    return true;
  }
  const std::string text = replace_nameservers(
      read_text(options_.resolv_conf), {info.ipv4_dns_servers, info.ipv6_dns_servers});
  std::filesystem::path temporary = options_.resolv_conf;
  temporary += ".kvpd-new";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << text;
    if (!out.flush()) {
      last_errno_ = EIO;
      return false;
    }
  }
  std::error_code error;
  std::filesystem::rename(temporary, options_.resolv_conf, error);
  last_errno_ = error.value();
  return !error;
}

}  // namespace uvmbus::kvpd
