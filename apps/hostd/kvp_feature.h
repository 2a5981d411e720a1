// hostd's KVP feature: the host library's KVP device offered to every
// partition, the host pool items of each VM kept in `state_dir` (one JSON
// file per VM, rewritten after each change and loaded at start, so a
// restarted hostd sends the same burst), and the `kvp-*` control commands
// (docs/hostd.md, "KVP"). The commands that talk to the guest are deferred
// (command_table.h): they wait for its answer (at most the device's call and
// request timeouts) off hostd's main loop; the state file is written on it.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "command_table.h"
#include "hostd_context.h"
#include "kvp_settings.h"
#include "uvmbus/host/kvp_device.h"
#include "uvmbus/runtime/expected.h"

namespace uvmbus::hostd {

class KvpFeature {
 public:
  // Creates the device, loads the saved items, offers the device.
  static runtime::Expected<std::unique_ptr<KvpFeature>, std::string> start(host::VmbusServer& server,
                                                                           const KvpSettings& settings);
  void register_commands(CommandTable& table, HostdContext& context);
  host::KvpDevice& device() noexcept { return *device_; }

 private:
  KvpFeature(std::shared_ptr<host::KvpDevice> device, std::filesystem::path state_dir);
  // Writes the VM's host items to its state file (if there is a state dir).
  void save(const std::string& vm) const;
  std::string load();
  // The reply to a SET or DELETE of a host item (after saving the VM's items).
  nlohmann::json host_change(const host::KvpResult<host::Delivery>& change, const std::string& vm, wire::KvpPool pool,
                             const std::string& key) const;

  std::shared_ptr<host::KvpDevice> device_;
  std::filesystem::path state_dir_;
};

}  // namespace uvmbus::hostd
