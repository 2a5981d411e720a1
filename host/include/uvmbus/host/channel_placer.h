// ChannelPlacer: where a partition puts the channels it opens. The server's
// placer attaches each channel to one of its runtime workers; a test or a
// fuzz target may poll channels itself, or not at all.
//
// Threads: called on the control thread only. detach() returns once nothing
// polls the channel any more, so the partition may then destroy it.
#pragma once

#include "uvmbus/host/host_channel.h"

namespace uvmbus::host {

class ChannelPlacer {
 public:
  virtual ~ChannelPlacer() = default;
  // False if no worker took the channel (the open then fails).
  [[nodiscard]] virtual bool attach(HostChannel& channel) = 0;
  virtual void detach(HostChannel& channel) = 0;
};

}  // namespace uvmbus::host
