// The device (VSP) interface: what netvsp, storvsp, the integration services
// and the built-in echo and sink devices implement.
//
// A Device is registered once with the server and offered to every
// partition: a primary offer with its class and instance GUIDs, and
// sub-channel offers (same GUIDs, index 1..n) when a guest asks through the
// device protocol. Each channel a guest opens gets its own ChannelHandler,
// created on the control thread by open_channel(); its on_packet() then runs
// on the runtime worker that polls the channel, and it is destroyed on the
// control thread after the worker let go of the channel (close, rescind,
// unload, or the guest vanishing).
//
// Threads: name(), offer() and open_channel() are called on the control
// thread and may be called for several partitions; a device shares nothing
// between channels unless it synchronises it itself. on_packet() runs on
// one worker at a time per channel and must not block; so does on_notify().
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "uvmbus/ring/ring.h"
#include "uvmbus/wire/channel_messages.h"
#include "uvmbus/wire/guid.h"

namespace uvmbus::host {

class HostChannel;

// What the offer of a device says, and how many sub-channels it grants.
struct DeviceOffer {
  wire::Guid class_id{};
  wire::Guid instance_id{};
  uint16_t chn_flags = 0;
  uint16_t mmio_megabytes = 0;
  std::array<uint8_t, wire::kOfferUserDefinedSize> user_defined{};
  uint16_t max_subchannels = 0;
};

// Who a channel belongs to, handed to open_channel() and kept by the channel.
struct ChannelContext {
  uint32_t partition_id = 0;
  uint32_t relid = 0;
  std::string partition_name;     // as given to VmbusServer::add_partition
  uint16_t subchannel_index = 0;  // 0 = primary
  wire::VmbusVersion version{};
  std::array<uint8_t, wire::kOpenChannelUserDataSize> open_user_data{};
  // Asks the control thread to offer sub-channels 1..count of this device to
  // this partition (indices already offered stay). Callable from the worker:
  // it only queues the request. Empty in contexts that cannot grant any.
  std::function<void(uint16_t count)> request_subchannels;
};

// Why a channel's handler is being let go.
enum class CloseReason : uint8_t {
  guest_closed,  // CloseChannel
  rescinded,     // the device was removed (hot-remove)
  unloaded,      // the guest unloaded VMBus
  guest_gone,    // the guest's transport reported EOF
  shutdown,      // the server or the partition is shutting down
};

const char* to_string(CloseReason reason) noexcept;

// Per-channel packet processing.
class ChannelHandler {
 public:
  virtual ~ChannelHandler() = default;
  // On the control thread, after the worker let go of the channel and before
  // the handler and the ring mappings are destroyed.
  virtual void on_close(CloseReason) noexcept {}
  // One guest packet, already validated by the ring and copied out of shared
  // memory (the guest cannot change it any more). Replies go through
  // `channel.send()` / `channel.complete()`; they are published together
  // when the current poll ends.
  virtual void on_packet(HostChannel& channel, const ring::InPacket& packet) noexcept = 0;
  // On the control thread, when the handler is bound to its channel, before
  // any worker polls it. A handler that originates packets (a host sending
  // requests, as the KVP device does) keeps `channel` to call notify() from
  // other threads, until on_close().
  virtual void on_bind(HostChannel&) noexcept {}
  // On the worker polling the channel, once per channel.notify() (several
  // notifications may fold into one call). Sends go out with the poll's
  // other packets.
  virtual void on_notify(HostChannel&) noexcept {}
};

class Device {
 public:
  virtual ~Device() = default;
  // Short name for logs and the admin CLI ("echo", "netvsp").
  virtual std::string_view name() const noexcept = 0;
  virtual const DeviceOffer& offer() const noexcept = 0;
  // A handler for a channel the guest is opening, or nullptr to refuse the
  // open (the guest gets a failed OpenChannelResult).
  virtual std::unique_ptr<ChannelHandler> open_channel(const ChannelContext& context) = 0;
};

}  // namespace uvmbus::host
