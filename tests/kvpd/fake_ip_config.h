// Test support: an IpConfig that answers from fixed data and records SETs.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "ip_config.h"

namespace uvmbus::kvpd::test {

class FakeIpConfig final : public IpConfig {
 public:
  // GET_IP_INFO of `mac` answers `info`; any other MAC fails.
  void serve(std::string mac, kvp::IpInfo info) {
    const std::lock_guard lock(mutex_);
    mac_ = std::move(mac);
    info_ = std::move(info);
  }

  IpLookup get(std::string_view mac) override {
    const std::lock_guard lock(mutex_);
    if (mac != mac_) {
      return {wire::HvStatus::fail, {}};
    }
    return {wire::HvStatus::ok, info_};
  }

  wire::HvStatus set(const kvp::IpInfo& info) override {
    const std::lock_guard lock(mutex_);
    sets_.push_back(info);
    return wire::HvStatus::ok;
  }

  std::vector<kvp::IpInfo> sets() {
    const std::lock_guard lock(mutex_);
    return sets_;
  }

 private:
  std::mutex mutex_;
  std::string mac_;
  kvp::IpInfo info_;
  std::vector<kvp::IpInfo> sets_;
};

}  // namespace uvmbus::kvpd::test
