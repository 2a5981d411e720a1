// Partition admission (see allow_list.h).
#include "allow_list.h"

#include <algorithm>

namespace uvmbus::hostd {
namespace {

template <typename T>
bool allowed(const std::vector<T>& list, const T& value) {
  return list.empty() || std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

std::optional<std::string> AllowList::refusal(const channel::PartitionIdentity& partition) const {
  if (!allowed(vm_ids, partition.vm_id)) {
    return "vm_id";
  }
  if (!allowed(names, partition.name)) {
    return "name";
  }
  if (!allowed(uids, partition.peer.uid)) {
    return "uid";
  }
  return std::nullopt;
}

}  // namespace uvmbus::hostd
