// uvmbus-hostd's service: runtime workers, the VMBus server with the
// configured devices, the guest socket (the `user` transport's listener,
// admitting partitions by the allow-list and the partition limit) and the
// control socket, all driven by one main-thread loop until a signal.
// Destruction is the clean shutdown: the guest socket closes, the server
// rescinds every offer, drains and unmaps every partition, the control
// socket closes (socket files removed), then the workers stop.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "command_table.h"
#include "control_server.h"
#include "hostd_config.h"
#include "hostd_context.h"
#include "kvp_feature.h"
#include "partition_directory.h"
#include "uvmbus/channel/user_host_transport.h"
#include "uvmbus/host/vmbus_server.h"
#include "uvmbus/runtime/worker.h"

namespace uvmbus::hostd {

struct StartError {
  int exit_code = 0;
  std::string message;  // one line
};

class Hostd {
 public:
  static runtime::Expected<std::unique_ptr<Hostd>, StartError> start(HostdConfig config);
  ~Hostd();
  Hostd(const Hostd&) = delete;
  Hostd& operator=(const Hostd&) = delete;

  // Serves until `signal_fd` (a signalfd) reports a signal; returns 0.
  int run(int signal_fd);

 private:
  explicit Hostd(HostdConfig config);
  void accept_guests();
  void admit(channel::AcceptResult accepted);
  void prune_partitions();

  HostdConfig config_;
  std::vector<std::unique_ptr<runtime::Worker>> workers_;
  std::unique_ptr<host::VmbusServer> server_;
  PartitionDirectory directory_;
  std::unique_ptr<HostdContext> context_;
  std::unique_ptr<KvpFeature> kvp_;  // with config.kvp.enabled
  CommandTable commands_;
  std::unique_ptr<channel::UserListener> listener_;
  std::unique_ptr<ControlServer> control_;
};

}  // namespace uvmbus::hostd
