// The network side of GET_IP_INFO / SET_IP_INFO, behind an interface so
// the KVP service can be tested with a fake and run with rtnetlink
// (netlink_ip_config.h).
#pragma once

#include <string_view>

#include "uvmbus/kvp/ip_info.h"
#include "uvmbus/wire/ic.h"

namespace uvmbus::kvpd {

struct IpLookup {
  wire::HvStatus status;  // ok, or fail when no adapter has this MAC
  kvp::IpInfo info;
};

class IpConfig {
 public:
  virtual ~IpConfig() = default;
  // GET_IP_INFO: the adapter whose MAC is `mac` (upper-case colon form).
  [[nodiscard]] virtual IpLookup get(std::string_view mac) = 0;
  // SET_IP_INFO: applies `info` to the adapter its adapter_id (a VMBus
  // instance GUID) names: ok, not_found (no such adapter), invalid_arg, fail.
  [[nodiscard]] virtual wire::HvStatus set(const kvp::IpInfo& info) = 0;
};

}  // namespace uvmbus::kvpd
