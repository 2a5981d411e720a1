// The intrinsic keys of pool 2 (see auto_pool.h).
#include "auto_pool.h"

#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <array>
#include <climits>
#include <fstream>
#include <sstream>

#include "netlink_socket.h"
#include "network_view.h"

namespace uvmbus::kvpd {
namespace {

constexpr std::array<std::string_view, kAutoPoolKeyCount> kKeys{
    "FullyQualifiedDomainName", "IntegrationServicesVersion", "NetworkAddressIPv4",
    "NetworkAddressIPv6",       "OSBuildNumber",              "OSName",
    "OSMajorVersion",           "OSMinorVersion",             "OSVersion",
    "ProcessorArchitecture"};

std::string unquote(std::string_view value) {
  if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
      value.back() == value.front()) {
    value = value.substr(1, value.size() - 2);
  }
  return std::string(value);
}

std::string addresses(uint8_t family) {
  const SnapshotResult read = read_network();
  return read.error == 0 ? joined_addresses(read.network, family) : std::string{};
}

std::string host_name() {
  std::array<char, HOST_NAME_MAX + 1> name{};
  if (gethostname(name.data(), name.size() - 1) != 0) {
    return {};
  }
  return name.data();
}

}  // namespace

OsRelease parse_os_release(std::string_view text) {
  OsRelease release;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    if (line.starts_with("NAME=")) {
      release.name = unquote(line.substr(5));
    } else if (line.starts_with("VERSION_ID=")) {
      release.version_id = unquote(line.substr(11));
    }
  }
  return release;
}

std::optional<AutoItem> AutoPool::item(uint32_t index) const {
  if (index >= kAutoPoolKeyCount) {
    return std::nullopt;
  }
  return AutoItem{std::string(kKeys[index]), compute(index)};
}

std::optional<std::string> AutoPool::value(std::string_view key) const {
  for (uint32_t index = 0; index < kAutoPoolKeyCount; ++index) {
    if (kKeys[index] == key) {
      return compute(index);
    }
  }
  return std::nullopt;
}

std::string AutoPool::compute(uint32_t index) const {
  utsname system{};
  uname(&system);
  const auto os_release = [this] {
    std::ifstream file(os_release_);
    std::ostringstream text;
    text << file.rdbuf();
    return parse_os_release(text.str());
  };
  switch (index) {
    case 0:
      return host_name();
    case 1:
      return "3.1";
    case 2:
      return addresses(AF_INET);
    case 3:
      return addresses(AF_INET6);
    case 4:
      return system.release;
    case 5: {
      std::string name = os_release().name;
      return name.empty() ? std::string(system.sysname) : name;
    }
    case 6:
      return os_release().version_id;
    case 7:
      return {};
    case 8: {
      const std::string_view release = system.release;
      return std::string(release.substr(0, release.find('-')));
    }
    default:
      return system.machine;
  }
}

}  // namespace uvmbus::kvpd
