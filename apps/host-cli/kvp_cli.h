// `uvmbus-host kvp ...`: the KVP (data exchange) commands of hostd, per VM,
// in the PowerShell workflow's terms: set (add/modify) and remove host items
// in pools external and auto-external, list any pool (the host's items, or
// the guest's guest and intrinsic items, cached or --refresh), get one key
// from the guest, get and set a NIC's IP configuration, and each VM's KVP
// channel status. Each maps onto one kvp-* control command; list fetches
// every page of kvp-list and shows them as one list.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "control_client.h"

namespace uvmbus::hostcli {

class KvpCli {
 public:
  explicit KvpCli(CLI::App& app);
  bool chosen() const { return kvp_->parsed(); }
  // After parsing: the control command and its arguments.
  std::string command() const;
  nlohmann::json args() const;

 private:
  CLI::App* kvp_;
  CLI::App* set_;
  CLI::App* remove_;
  CLI::App* list_;
  CLI::App* get_;
  CLI::App* ip_get_;
  CLI::App* ip_set_;
  CLI::App* status_;
  std::string vm_, key_, value_, pool_, mac_, adapter_;
  bool refresh_ = false;
  bool dhcp_ = false;
  std::vector<std::string> addresses_, gateways_, dns_;
};

// How long a kvp command waits for hostd's reply: longer than the KVP
// device's call and request timeouts (10 s + 5 s), so that a guest that does
// not answer is reported as hostd's `timeout`, not as a lost reply.
inline constexpr std::chrono::milliseconds kKvpReplyTimeout{30000};

// kvp-list page after page (following "next") as one reply holding every
// item; the first reply that is not ok, or a failure, as it came.
runtime::Expected<nlohmann::json, hostctl::ClientError> list_all_pages(hostctl::ControlClient& client,
                                                                      nlohmann::json args);

// The text form of a kvp-* command's result.
std::string render_kvp(const std::string& command, const nlohmann::json& result);

}  // namespace uvmbus::hostcli
