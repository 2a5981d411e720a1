// resolv.conf parsing and rewriting (see resolv_conf.h).
#include "resolv_conf.h"

#include <arpa/inet.h>

#include <cstring>

#include "uvmbus/wire/kvp.h"

namespace uvmbus::kvpd {
namespace {

constexpr std::string_view kKeyword = "nameserver";

std::string_view trim(std::string_view text) {
  const std::size_t first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) {
    return {};
  }
  return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

// The address of a nameserver line, or empty if the line is something else.
std::string_view nameserver_of(std::string_view line) {
  line = trim(line);
  if (!line.starts_with(kKeyword) || line.size() == kKeyword.size() ||
      (line[kKeyword.size()] != ' ' && line[kKeyword.size()] != '\t')) {
    return {};
  }
  const std::string_view rest = trim(line.substr(kKeyword.size()));
  return rest.substr(0, rest.find_first_of(" \t#;"));
}

template <typename Visit>
void for_each_line(std::string_view text, Visit visit) {
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    visit(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
  }
}

}  // namespace

DnsServers parse_resolv_conf(std::string_view text) {
  DnsServers servers;
  for_each_line(text, [&](std::string_view line) {
    const std::string address(nameserver_of(line));
    kvp::Ipv4Address v4;
    kvp::Ipv6Address v6;
    if (inet_pton(AF_INET, address.c_str(), v4.data()) == 1) {
      if (servers.ipv4.size() < wire::kKvpMaxDnsServers) {
        servers.ipv4.push_back(v4);
      }
    } else if (inet_pton(AF_INET6, address.c_str(), v6.data()) == 1) {
      if (servers.ipv6.size() < wire::kKvpMaxDnsServers) {
        servers.ipv6.push_back(v6);
      }
    }
  });
  return servers;
}

std::string replace_nameservers(std::string_view text, const DnsServers& servers) {
  std::string out;
  for_each_line(text, [&](std::string_view line) {
    if (nameserver_of(line).empty()) {
      out.append(line).push_back('\n');
    }
  });
  char buffer[INET6_ADDRSTRLEN];
  for (const auto& address : servers.ipv4) {
    out.append("nameserver ").append(inet_ntop(AF_INET, address.data(), buffer, sizeof(buffer)));
    out.push_back('\n');
  }
  for (const auto& address : servers.ipv6) {
    out.append("nameserver ").append(inet_ntop(AF_INET6, address.data(), buffer, sizeof(buffer)));
    out.push_back('\n');
  }
  return out;
}

}  // namespace uvmbus::kvpd
