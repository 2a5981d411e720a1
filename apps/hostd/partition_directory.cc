// Partition identities by id (see partition_directory.h).
#include "partition_directory.h"

#include <algorithm>

namespace uvmbus::hostd {

void PartitionDirectory::add(uint32_t id, channel::PartitionIdentity identity) {
  entries_[id] = std::move(identity);
}

std::vector<std::pair<uint32_t, channel::PartitionIdentity>> PartitionDirectory::prune(
    const host::ServerSnapshot& snapshot) {
  std::vector<std::pair<uint32_t, channel::PartitionIdentity>> gone;
  for (auto it = entries_.begin(); it != entries_.end();) {
    const bool present = std::any_of(snapshot.partitions.begin(), snapshot.partitions.end(),
                                     [&](const host::PartitionSnapshot& p) { return p.id == it->first; });
    if (present) {
      ++it;
    } else {
      gone.emplace_back(it->first, std::move(it->second));
      it = entries_.erase(it);
    }
  }
  return gone;
}

const channel::PartitionIdentity* PartitionDirectory::find(uint32_t id) const {
  const auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second;
}

}  // namespace uvmbus::hostd
