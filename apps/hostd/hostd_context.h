// What hostd's control commands act on: the VMBus server, the identities of
// its partitions, and the running configuration. Commands run on hostd's
// main thread, one at a time.
#pragma once

#include "hostd_config.h"
#include "partition_directory.h"
#include "uvmbus/host/vmbus_server.h"

namespace uvmbus::hostd {

struct HostdContext {
  host::VmbusServer& server;
  PartitionDirectory& partitions;
  const HostdConfig& config;
};

}  // namespace uvmbus::hostd
