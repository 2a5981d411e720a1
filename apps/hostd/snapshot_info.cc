// Snapshot to protocol shapes (see snapshot_info.h).
#include "snapshot_info.h"

#include <fmt/core.h>

namespace uvmbus::hostd {
namespace {

hostctl::ChannelInfo channel_info(const host::ChannelSnapshot& snapshot) {
  const host::HostChannelStats& stats = snapshot.stats;
  hostctl::ChannelInfo info{.relid = snapshot.relid,
                            .device = snapshot.device,
                            .instance = wire::to_string(snapshot.instance_id),
                            .subchannel = snapshot.subchannel_index,
                            .state = host::to_string(snapshot.state),
                            .ring_corrupt = snapshot.ring_corrupt,
                            .packets_in = stats.packets_in,
                            .bytes_in = stats.bytes_in,
                            .packets_out = stats.packets_out,
                            .bytes_out = stats.bytes_out,
                            .signals_sent = stats.signals_sent,
                            .signals_avoided = stats.signals_avoided,
                            .ring_full = stats.ring_full,
                            .drops = {}};
  for (std::size_t cause = 0; cause < stats.drops.size(); ++cause) {
    if (stats.drops[cause] != 0) {
      info.drops[host::to_string(static_cast<host::HostDropCause>(cause))] = stats.drops[cause];
    }
  }
  return info;
}

}  // namespace

hostctl::PartitionInfo partition_info(const host::PartitionSnapshot& snapshot,
                                      const channel::PartitionIdentity* identity) {
  hostctl::PartitionInfo info;
  info.id = snapshot.id;
  info.name = snapshot.name;
  if (identity != nullptr) {
    info.vm_id = wire::to_string(identity->vm_id);
    info.pid = identity->peer.pid;
    info.uid = identity->peer.uid;
  }
  info.state = host::to_string(snapshot.state);
  if (snapshot.version) {
    const auto version = static_cast<uint32_t>(*snapshot.version);
    info.version = fmt::format("{}.{}", version >> 16, version & 0xffff);
  }
  info.messages = snapshot.messages;
  info.gpadls = snapshot.gpadls;
  info.gpadl_pages = snapshot.gpadl_pages;
  for (std::size_t cause = 0; cause < snapshot.faults.size(); ++cause) {
    if (snapshot.faults[cause] != 0) {
      info.faults[host::to_string(static_cast<host::ControlFault>(cause))] = snapshot.faults[cause];
    }
  }
  if (snapshot.last_fault) {
    info.last_fault = host::to_string(*snapshot.last_fault);
  }
  for (const host::ChannelSnapshot& channel : snapshot.channels) {
    info.channels_open += channel.state == host::ChannelState::open ? 1 : 0;
    info.channels.push_back(channel_info(channel));
  }
  return info;
}

hostctl::DeviceInfo device_info(const host::DeviceSnapshot& snapshot) {
  return {.type = snapshot.name,
          .class_id = wire::to_string(snapshot.class_id),
          .instance = wire::to_string(snapshot.instance_id),
          .max_subchannels = snapshot.max_subchannels};
}

}  // namespace uvmbus::hostd
