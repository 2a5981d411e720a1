// Partition: the VMBus server's state machine for one guest, fed with the
// guest's control messages and answering through its HostTransport.
//
// It negotiates the version like Hyper-V (every version the spec lists,
// WS2008 to 6.0; unknown ones refused with version_supported = 0 so the guest
// can try a lower one), answers RequestOffers with one OfferChannel per
// device and AllOffersDelivered, assembles and validates GPADLs
// (GpadlTable), opens channels (the ring GPADL must be one page-aligned
// range of contiguous pages in one registered region, split at the open's
// downstream page offset into two valid rings) and hands each to its device,
// closes them, offers sub-channels when a device asks, rescinds offers of
// removed devices, and unloads.
//
// The guest is untrusted: every message is size-checked for its type, then
// copied out once. Anything wrong is counted by cause (ControlFault) and
// answered the way a real host answers (a failed GpadlCreated or
// OpenChannelResult), or ignored when the protocol has no answer; nothing
// the guest sends can crash the host, make it touch memory outside the
// registered regions, or grow its memory without bound (GpadlLimits, and
// at most kMaxRelid channels).
//
// Sans-IO apart from the transport's send and the placer: handle_message()
// can be driven with raw bytes (tests, the fuzzer); pump() reads the
// transport. Threads: one control thread calls everything.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "uvmbus/channel/host_transport.h"
#include "uvmbus/host/channel_placer.h"
#include "uvmbus/host/control_fault.h"
#include "uvmbus/host/device.h"
#include "uvmbus/host/gpadl_table.h"
#include "uvmbus/host/host_channel.h"
#include "uvmbus/host/snapshot.h"
#include "uvmbus/wire/channel_messages.h"

namespace uvmbus::host {

// Versions this host accepts, newest first (spec §4).
inline constexpr std::array kSupportedVersions = {
    wire::VmbusVersion::win10_v6_0, wire::VmbusVersion::win10_v5_3, wire::VmbusVersion::win10_v5_2,
    wire::VmbusVersion::win10_v5_1, wire::VmbusVersion::win10_v5,   wire::VmbusVersion::win10_v4_1,
    wire::VmbusVersion::win10,      wire::VmbusVersion::win8_1,     wire::VmbusVersion::win8,
    wire::VmbusVersion::win7,       wire::VmbusVersion::ws2008,
};

// The status a failed GpadlCreated or OpenChannelResult carries (OpenVMM's).
inline constexpr uint32_t kHostFailureStatus = 0x8000FFFF;

struct PartitionLimits {
  GpadlLimits gpadls;
  std::size_t max_messages_per_pump = 64;  // fairness between partitions
};

// Queues a device's sub-channel request for the control thread:
// (relid of the channel that asked, sub-channels wanted).
using SubchannelPoster = std::function<void(uint32_t relid, uint16_t count)>;

class Partition {
 public:
  Partition(uint32_t id, std::string name, channel::HostTransport& transport, ChannelPlacer& placer,
            SubchannelPoster post_subchannels, PartitionLimits limits = {});
  Partition(const Partition&) = delete;
  Partition& operator=(const Partition&) = delete;
  // Closes every channel (see shutdown()).
  ~Partition();

  // ---- Devices ----------------------------------------------------------------
  // Offers `device` (at once if the guest already requested offers).
  void add_device(std::shared_ptr<Device> device);
  // Closes the device's channels and rescinds its offers.
  void remove_device(const wire::Guid& instance_id);
  // Offers sub-channels 1..count of the device behind `relid` (capped by its
  // max_subchannels); indices already offered are kept.
  void offer_subchannels(uint32_t relid, uint16_t count);

  // ---- Guest messages ---------------------------------------------------------
  // One control message, as raw bytes of any length.
  void handle_message(std::span<const std::byte> message);
  // Handles up to max_messages_per_pump messages from the transport. False
  // once the guest is gone (everything is then reclaimed, see shutdown()).
  bool pump();
  int control_fd() const noexcept { return transport_.control_fd(); }

  // Rescinds every offer (when `rescind` and the guest requested offers),
  // closes every channel (handlers see `reason`) and drops every GPADL. The
  // partition is `gone`.
  void shutdown(bool rescind, CloseReason reason = CloseReason::shutdown);

  // ---- Admin --------------------------------------------------------------------
  uint32_t id() const noexcept { return id_; }
  const std::string& name() const noexcept { return name_; }
  PartitionState state() const noexcept { return state_; }
  std::optional<wire::VmbusVersion> version() const noexcept { return version_; }
  const ControlFaultCounts& faults() const noexcept { return faults_; }
  PartitionSnapshot snapshot() const;

 private:
  struct Slot {
    std::shared_ptr<Device> device;
    uint16_t subchannel_index = 0;
    ChannelState state = ChannelState::offered;
    std::unique_ptr<HostChannel> channel;  // while open
    uint32_t ring_gpadl = 0;               // while open
  };

  void fault(ControlFault cause);
  template <typename Message>
  void send(const Message& message) {
    send_bytes(std::as_bytes(std::span(&message, 1)));
  }
  void send_bytes(std::span<const std::byte> bytes);
  void send_offer(uint32_t relid, const Slot& slot);
  std::optional<uint32_t> allocate_relid();
  Slot* find_slot(uint32_t relid);

  void on_initiate_contact(const wire::InitiateContact& message);
  void on_request_offers();
  void on_gpadl(const GpadlProgress& progress);
  void on_gpadl_teardown(const wire::GpadlTeardown& message);
  void on_open(const wire::OpenChannel& message);
  std::optional<ControlFault> open_channel(const wire::OpenChannel& message, Slot& slot);
  void on_close(const wire::CloseChannel& message);
  void on_relid_released(const wire::RelidReleased& message);
  void on_modify(const wire::ModifyChannel& message);
  void on_unload();
  void close_channel(Slot& slot, CloseReason reason);
  void close_all_channels(CloseReason reason);

  const uint32_t id_;
  const std::string name_;
  channel::HostTransport& transport_;
  ChannelPlacer& placer_;
  SubchannelPoster post_subchannels_;
  PartitionLimits limits_;

  PartitionState state_ = PartitionState::awaiting_contact;
  std::optional<wire::VmbusVersion> version_;
  std::vector<std::shared_ptr<Device>> devices_;
  std::map<uint32_t, Slot> slots_;  // by relid
  uint32_t next_relid_ = 1;
  GpadlTable gpadls_;
  ControlFaultCounts faults_{};
  std::optional<ControlFault> last_fault_;
  uint64_t messages_ = 0;
};

}  // namespace uvmbus::host
