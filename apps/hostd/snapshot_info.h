// The server's snapshot in the control protocol's shapes (hostctl/shapes.h),
// with each partition's identity from the directory.
#pragma once

#include "partition_directory.h"
#include "shapes.h"
#include "uvmbus/host/snapshot.h"

namespace uvmbus::hostd {

hostctl::PartitionInfo partition_info(const host::PartitionSnapshot& snapshot,
                                      const channel::PartitionIdentity* identity);
hostctl::DeviceInfo device_info(const host::DeviceSnapshot& snapshot);

}  // namespace uvmbus::hostd
