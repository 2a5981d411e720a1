// Who each of hostd's partitions is: the identity its guest gave in the
// handshake (VM id, name) and the process the kernel saw connect (pid,
// uid), by the server's partition id. The server reclaims a partition as
// soon as its guest goes away; prune() drops the entries the server's
// snapshot no longer lists. Main thread only.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include "uvmbus/channel/user_host_transport.h"
#include "uvmbus/host/snapshot.h"

namespace uvmbus::hostd {

class PartitionDirectory {
 public:
  void add(uint32_t id, channel::PartitionIdentity identity);
  // Removes and returns the entries whose partition `snapshot` lacks.
  std::vector<std::pair<uint32_t, channel::PartitionIdentity>> prune(const host::ServerSnapshot& snapshot);
  const channel::PartitionIdentity* find(uint32_t id) const;
  std::size_t size() const noexcept { return entries_.size(); }

 private:
  std::map<uint32_t, channel::PartitionIdentity> entries_;
};

}  // namespace uvmbus::hostd
