// Which partitions may connect to hostd: VM ids, names and uids of the
// guest process. Each list that is not empty is a condition every partition
// must meet; with all three empty anyone the guest socket's mode lets in
// may connect.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "uvmbus/channel/user_host_transport.h"
#include "uvmbus/wire/guid.h"

namespace uvmbus::hostd {

struct AllowList {
  std::vector<wire::Guid> vm_ids;
  std::vector<std::string> names;
  std::vector<uid_t> uids;

  // nullopt if `partition` may connect, else the condition it failed
  // (vm_id, name or uid).
  std::optional<std::string> refusal(const channel::PartitionIdentity& partition) const;
};

}  // namespace uvmbus::hostd
