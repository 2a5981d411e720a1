// Snapshots for the admin interface: partitions, devices and per-channel
// statistics, as plain values a CLI can print or turn into JSON.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "uvmbus/host/control_fault.h"
#include "uvmbus/host/host_channel.h"
#include "uvmbus/wire/channel_messages.h"
#include "uvmbus/wire/guid.h"

namespace uvmbus::host {

enum class ChannelState : uint8_t {
  offered,    // offered (or waiting for RequestOffers); not open
  open,       // rings mapped, polled by a worker
  rescinded,  // rescind sent, waiting for the guest's RelIdReleased
};

enum class PartitionState : uint8_t {
  awaiting_contact,  // no version negotiated (new, or after Unload)
  connected,         // version negotiated, offers not requested yet
  offers_sent,       // RequestOffers answered; hot-adds are offered at once
  gone,              // the guest disconnected; everything reclaimed
};

const char* to_string(ChannelState state) noexcept;
const char* to_string(PartitionState state) noexcept;

struct ChannelSnapshot {
  uint32_t relid = 0;
  std::string device;
  wire::Guid instance_id{};
  uint16_t subchannel_index = 0;
  ChannelState state = ChannelState::offered;
  bool ring_corrupt = false;
  HostChannelStats stats;  // zero unless open
};

struct PartitionSnapshot {
  uint32_t id = 0;
  std::string name;
  PartitionState state = PartitionState::awaiting_contact;
  std::optional<wire::VmbusVersion> version;
  ControlFaultCounts faults{};
  std::optional<ControlFault> last_fault;
  uint64_t messages = 0;  // guest control messages handled
  std::size_t gpadls = 0;
  uint64_t gpadl_pages = 0;
  std::vector<ChannelSnapshot> channels;
};

struct DeviceSnapshot {
  std::string name;
  wire::Guid class_id{};
  wire::Guid instance_id{};
  uint16_t max_subchannels = 0;
};

struct ServerSnapshot {
  std::vector<PartitionSnapshot> partitions;
  std::vector<DeviceSnapshot> devices;
};

}  // namespace uvmbus::host
