// Partition: message dispatch, version negotiation, offers, GPADLs,
// open/close, sub-channels, rescind and unload for one guest.
#include "uvmbus/host/partition.h"

#include <algorithm>
#include <array>

#include "uvmbus/channel/offer.h"
#include "uvmbus/ring/ring_memory.h"
#include "uvmbus/wire/bytes.h"

namespace uvmbus::host {

namespace {

using wire::ChannelMessageType;
using wire::VmbusVersion;

constexpr uint64_t kPageSize = wire::kHvPageSize;

bool version_supported(VmbusVersion version) {
  return std::find(kSupportedVersions.begin(), kSupportedVersions.end(), version) !=
         kSupportedVersions.end();
}

bool at_least(VmbusVersion version, VmbusVersion minimum) {
  return static_cast<uint32_t>(version) >= static_cast<uint32_t>(minimum);
}

// VersionResponse as protocol 6.0 sends it: the base form plus the features
// this host supports (none of the optional ones).
struct VersionResponse6 {
  wire::VersionResponse base;
  uint32_t supported_features;
};
static_assert(sizeof(VersionResponse6) == 20);

bool pages_contiguous(const std::vector<uint64_t>& pfns) {
  return std::adjacent_find(pfns.begin(), pfns.end(),
                            [](uint64_t a, uint64_t b) { return b != a + 1; }) == pfns.end();
}

}  // namespace

Partition::Partition(uint32_t id, std::string name, channel::HostTransport& transport,
                     ChannelPlacer& placer, SubchannelPoster post_subchannels, PartitionLimits limits)
    : id_(id),
      name_(std::move(name)),
      transport_(transport),
      placer_(placer),
      post_subchannels_(std::move(post_subchannels)),
      limits_(limits),
      gpadls_(limits.gpadls) {}

Partition::~Partition() {
  if (state_ != PartitionState::gone) {
    shutdown(false);
  }
}

// ---------------------------------------------------------------------------
// Devices

void Partition::add_device(std::shared_ptr<Device> device) {
  const std::optional<uint32_t> relid = allocate_relid();
  if (!relid) {
    fault(ControlFault::relid_exhausted);
    return;
  }
  devices_.push_back(device);
  Slot& slot = slots_[*relid];
  slot.device = std::move(device);
  if (state_ == PartitionState::offers_sent) {
    send_offer(*relid, slot);
  }
}

void Partition::remove_device(const wire::Guid& instance_id) {
  std::erase_if(devices_, [&](const auto& device) { return device->offer().instance_id == instance_id; });
  for (auto it = slots_.begin(); it != slots_.end();) {
    Slot& slot = it->second;
    if (slot.device->offer().instance_id != instance_id || slot.state == ChannelState::rescinded) {
      ++it;
      continue;
    }
    close_channel(slot, CloseReason::rescinded);
    if (state_ == PartitionState::offers_sent) {
      auto rescind = wire::make_channel_message<wire::RescindChannelOffer>();
      rescind.child_relid = it->first;
      send(rescind);
      slot.state = ChannelState::rescinded;
      ++it;
    } else {
      it = slots_.erase(it);  // never offered to the guest
    }
  }
}

void Partition::offer_subchannels(uint32_t relid, uint16_t count) {
  const Slot* asking = find_slot(relid);
  if (asking == nullptr || asking->state == ChannelState::rescinded || !version_ ||
      !at_least(*version_, VmbusVersion::win8)) {
    return;
  }
  const std::shared_ptr<Device> device = asking->device;
  const uint16_t granted = std::min(count, device->offer().max_subchannels);
  for (uint16_t index = 1; index <= granted; ++index) {
    const bool offered = std::any_of(slots_.begin(), slots_.end(), [&](const auto& entry) {
      return entry.second.device == device && entry.second.subchannel_index == index &&
             entry.second.state != ChannelState::rescinded;
    });
    if (offered) {
      continue;
    }
    const std::optional<uint32_t> sub_relid = allocate_relid();
    if (!sub_relid) {
      fault(ControlFault::relid_exhausted);
      return;
    }
    Slot& slot = slots_[*sub_relid];
    slot.device = device;
    slot.subchannel_index = index;
    if (state_ == PartitionState::offers_sent) {
      send_offer(*sub_relid, slot);
    }
  }
}

std::optional<uint32_t> Partition::allocate_relid() {
  // Relids are not reused until the id space wraps, so a late message for a
  // removed channel never reaches a new one.
  for (uint32_t tried = 0; tried < channel::kMaxRelid; ++tried) {
    const uint32_t relid = next_relid_;
    next_relid_ = next_relid_ % channel::kMaxRelid + 1;
    if (!slots_.contains(relid)) {
      return relid;
    }
  }
  return std::nullopt;
}

Partition::Slot* Partition::find_slot(uint32_t relid) {
  const auto found = slots_.find(relid);
  return found == slots_.end() ? nullptr : &found->second;
}

void Partition::send_offer(uint32_t relid, const Slot& slot) {
  const DeviceOffer& device = slot.device->offer();
  auto offer = wire::make_channel_message<wire::OfferChannel>();
  offer.if_type = device.class_id;
  offer.if_instance = device.instance_id;
  offer.chn_flags = device.chn_flags;
  offer.mmio_megabytes = device.mmio_megabytes;
  std::copy(device.user_defined.begin(), device.user_defined.end(), offer.user_def);
  offer.sub_channel_index = slot.subchannel_index;
  offer.child_relid = relid;
  // Signals arrive on the channel's own doorbell: no monitor page, no shared
  // interrupt page.
  offer.is_dedicated_interrupt = wire::kOfferDedicatedInterrupt;
  offer.connection_id = relid;
  send(offer);
}

// ---------------------------------------------------------------------------
// Messages

void Partition::fault(ControlFault cause) {
  ++faults_[static_cast<std::size_t>(cause)];
  last_fault_ = cause;
}

void Partition::send_bytes(std::span<const std::byte> bytes) {
  if (transport_.send_control(bytes) != channel::TransportStatus::ok) {
    fault(ControlFault::send_failed);
  }
}

bool Partition::pump() {
  std::array<std::byte, wire::kMaxChannelMessageSize> buffer;
  for (std::size_t handled = 0; handled < limits_.max_messages_per_pump; ++handled) {
    const channel::ControlReceive received = transport_.receive_control(buffer);
    switch (received.status) {
      case channel::TransportStatus::ok:
        handle_message(std::span(buffer).first(received.size));
        break;
      case channel::TransportStatus::oversized:
        ++messages_;
        fault(ControlFault::message_oversized);
        break;
      case channel::TransportStatus::empty:
        return true;
      default:  // closed or failed: the guest is gone
        shutdown(false, CloseReason::guest_gone);
        return false;
    }
  }
  return true;
}

void Partition::handle_message(std::span<const std::byte> message) {
  ++messages_;
  if (state_ == PartitionState::gone) {
    return;
  }
  if (message.size() > wire::kMaxChannelMessageSize) {
    fault(ControlFault::message_oversized);
    return;
  }
  if (!wire::fits<wire::ChannelMessageHeader>(message, 0)) {
    fault(ControlFault::message_truncated);
    return;
  }
  const auto type = wire::load<ChannelMessageType>(message);
  // Copies the message out as `Message` if it is long enough and the
  // partition has negotiated a version (InitiateContact is checked apart).
  const auto parse = [&]<typename Message>(Message* out) {
    if (!wire::fits<Message>(message, 0)) {
      fault(ControlFault::message_truncated);
      return false;
    }
    if (Message::kType != ChannelMessageType::initiate_contact &&
        state_ == PartitionState::awaiting_contact) {
      fault(ControlFault::out_of_order);
      return false;
    }
    *out = wire::load<Message>(message);
    return true;
  };
  switch (type) {
    case ChannelMessageType::initiate_contact: {
      wire::InitiateContact request;
      if (parse(&request)) {
        on_initiate_contact(request);
      }
      return;
    }
    case ChannelMessageType::requestoffers: {
      wire::RequestOffers request;
      if (parse(&request)) {
        on_request_offers();
      }
      return;
    }
    case ChannelMessageType::gpadl_header: {
      wire::GpadlHeader header;
      if (!parse(&header)) {
        return;
      }
      if (find_slot(header.child_relid) == nullptr) {
        on_gpadl(GpadlProgress{.handle = header.gpadl,
                               .relid = header.child_relid,
                               .reply = true,
                               .failure = ControlFault::unknown_relid});
        return;
      }
      on_gpadl(gpadls_.on_header(message, transport_.guest_memory()));
      return;
    }
    case ChannelMessageType::gpadl_body: {
      wire::GpadlBody body;
      if (parse(&body)) {
        on_gpadl(gpadls_.on_body(message, transport_.guest_memory()));
      }
      return;
    }
    case ChannelMessageType::gpadl_teardown: {
      wire::GpadlTeardown request;
      if (parse(&request)) {
        on_gpadl_teardown(request);
      }
      return;
    }
    case ChannelMessageType::openchannel: {
      wire::OpenChannel request;
      if (parse(&request)) {
        on_open(request);
      }
      return;
    }
    case ChannelMessageType::closechannel: {
      wire::CloseChannel request;
      if (parse(&request)) {
        on_close(request);
      }
      return;
    }
    case ChannelMessageType::relid_released: {
      wire::RelidReleased request;
      if (parse(&request)) {
        on_relid_released(request);
      }
      return;
    }
    case ChannelMessageType::modifychannel: {
      wire::ModifyChannel request;
      if (parse(&request)) {
        on_modify(request);
      }
      return;
    }
    case ChannelMessageType::unload: {
      wire::Unload request;
      if (parse(&request)) {
        on_unload();
      }
      return;
    }
    case ChannelMessageType::offerchannel:
    case ChannelMessageType::rescind_channeloffer:
    case ChannelMessageType::alloffers_delivered:
    case ChannelMessageType::openchannel_result:
    case ChannelMessageType::gpadl_created:
    case ChannelMessageType::gpadl_torndown:
    case ChannelMessageType::version_response:
    case ChannelMessageType::unload_response:
    case ChannelMessageType::close_reserved_channel_response:
    case ChannelMessageType::tl_connect_result:
    case ChannelMessageType::modifychannel_response:
    case ChannelMessageType::modify_connection_response:
    case ChannelMessageType::pause_response:
      fault(ControlFault::wrong_direction);
      return;
    default:
      fault(ControlFault::unknown_type);
      return;
  }
}

void Partition::on_initiate_contact(const wire::InitiateContact& message) {
  if (state_ != PartitionState::awaiting_contact) {
    fault(ControlFault::out_of_order);
    return;
  }
  const VmbusVersion version = message.vmbus_version_requested;
  VersionResponse6 response{.base = wire::make_channel_message<wire::VersionResponse>(),
                            .supported_features = 0};
  if (!version_supported(version)) {
    fault(ControlFault::unsupported_version);
    send(response.base);  // version_supported = 0: the guest tries a lower one
    return;
  }
  response.base.version_supported = 1;
  response.base.connection_state = wire::ConnectionState::successful;
  // From 5.0 on the guest sends later messages to the connection id given
  // here; older guests ignore the field (OpenVMM puts the version there).
  response.base.msg_conn_id = at_least(version, VmbusVersion::win10_v5)
                                  ? wire::kVmbusMessageConnectionId4
                                  : static_cast<uint32_t>(version);
  version_ = version;
  state_ = PartitionState::connected;
  if (at_least(version, VmbusVersion::win10_v6_0)) {
    send(response);
  } else {
    send(response.base);
  }
}

void Partition::on_request_offers() {
  for (const auto& [relid, slot] : slots_) {
    if (slot.state != ChannelState::rescinded) {
      send_offer(relid, slot);
    }
  }
  send(wire::make_channel_message<wire::AllOffersDelivered>());
  state_ = PartitionState::offers_sent;
}

void Partition::on_gpadl(const GpadlProgress& progress) {
  if (progress.failure) {
    fault(*progress.failure);
  }
  if (!progress.reply) {
    return;
  }
  auto reply = wire::make_channel_message<wire::GpadlCreated>();
  reply.child_relid = progress.relid;
  reply.gpadl = progress.handle;
  reply.creation_status = progress.failure ? kHostFailureStatus : 0;
  send(reply);
}

void Partition::on_gpadl_teardown(const wire::GpadlTeardown& message) {
  if (const std::optional<ControlFault> refused = gpadls_.teardown(message.gpadl)) {
    fault(*refused);
    return;
  }
  auto reply = wire::make_channel_message<wire::GpadlTorndown>();
  reply.gpadl = message.gpadl;
  send(reply);
}

void Partition::on_open(const wire::OpenChannel& message) {
  auto reply = wire::make_channel_message<wire::OpenChannelResult>();
  reply.child_relid = message.child_relid;
  reply.openid = message.openid;
  reply.status = kHostFailureStatus;
  Slot* slot = find_slot(message.child_relid);
  std::optional<ControlFault> failure;
  if (slot == nullptr) {
    failure = ControlFault::unknown_relid;
  } else if (slot->state == ChannelState::rescinded) {
    failure = ControlFault::out_of_order;
  } else if (slot->state == ChannelState::open) {
    failure = ControlFault::channel_already_open;
  } else {
    failure = open_channel(message, *slot);
  }
  if (failure) {
    fault(*failure);
  } else {
    reply.status = 0;
  }
  send(reply);
}

std::optional<ControlFault> Partition::open_channel(const wire::OpenChannel& message, Slot& slot) {
  const Gpadl* gpadl = gpadls_.find(message.ringbuffer_gpadlhandle);
  if (gpadl == nullptr) {
    return ControlFault::gpadl_unknown;
  }
  if (gpadl->in_use) {
    return ControlFault::gpadl_in_use;
  }
  const std::vector<uint64_t>& pfns = gpadl->pfns;
  if (gpadl->relid != message.child_relid || gpadl->ranges.size() != 1 ||
      gpadl->ranges.front().byte_offset != 0 ||
      gpadl->ranges.front().byte_count != pfns.size() * kPageSize || !pages_contiguous(pfns)) {
    return ControlFault::ring_gpadl_invalid;
  }
  const uint64_t offset = message.downstream_ringbuffer_pageoffset;
  if (offset == 0 || offset >= pfns.size()) {
    return ControlFault::ring_offset_invalid;
  }
  std::byte* base = transport_.guest_memory().page_address(pfns.front(), pfns.size());
  if (base == nullptr) {
    return ControlFault::ring_gpadl_invalid;  // contiguous PFNs across two regions
  }
  const std::optional<ring::RingMemory> from_guest = ring::ring_memory_from(base, offset * kPageSize);
  const std::optional<ring::RingMemory> to_guest =
      ring::ring_memory_from(base + offset * kPageSize, (pfns.size() - offset) * kPageSize);
  if (!from_guest || !to_guest) {
    return ControlFault::ring_offset_invalid;
  }
  std::shared_ptr<channel::HostChannelLink> link = transport_.channel_link(message.child_relid);
  if (link == nullptr) {
    return ControlFault::no_doorbell;
  }
  ChannelContext context{.partition_id = id_,
                         .relid = message.child_relid,
                         .partition_name = name_,
                         .subchannel_index = slot.subchannel_index,
                         .version = *version_,
                         .open_user_data = {},
                         .request_subchannels = {}};
  std::copy(std::begin(message.userdata), std::end(message.userdata), context.open_user_data.begin());
  if (post_subchannels_) {
    context.request_subchannels = [post = post_subchannels_, relid = message.child_relid](uint16_t count) {
      post(relid, count);
    };
  }
  std::unique_ptr<ChannelHandler> handler = slot.device->open_channel(context);
  if (handler == nullptr) {
    return ControlFault::device_refused;
  }
  std::unique_ptr<HostChannel> channel = HostChannel::create(
      *from_guest, *to_guest, std::move(link), transport_.guest_memory(), std::move(context));
  if (channel == nullptr) {
    return ControlFault::ring_gpadl_invalid;
  }
  channel->set_handler(std::move(handler));
  if (!placer_.attach(*channel)) {
    return ControlFault::no_worker;
  }
  gpadls_.set_in_use(message.ringbuffer_gpadlhandle, true);
  slot.channel = std::move(channel);
  slot.ring_gpadl = message.ringbuffer_gpadlhandle;
  slot.state = ChannelState::open;
  return std::nullopt;
}

void Partition::on_close(const wire::CloseChannel& message) {
  Slot* slot = find_slot(message.child_relid);
  if (slot == nullptr) {
    fault(ControlFault::unknown_relid);
  } else if (slot->state != ChannelState::open) {
    fault(ControlFault::channel_not_open);
  } else {
    close_channel(*slot, CloseReason::guest_closed);
  }
}

void Partition::on_relid_released(const wire::RelidReleased& message) {
  const Slot* slot = find_slot(message.child_relid);
  if (slot == nullptr) {
    fault(ControlFault::unknown_relid);
    return;
  }
  if (slot->state != ChannelState::rescinded) {
    fault(ControlFault::out_of_order);
    return;
  }
  // After a rescind the guest tears nothing down itself: the channel's
  // GPADLs go with the relid.
  gpadls_.erase_relid(message.child_relid);
  slots_.erase(message.child_relid);
}

void Partition::on_modify(const wire::ModifyChannel& message) {
  if (!at_least(*version_, VmbusVersion::win10_v4_1)) {
    fault(ControlFault::out_of_order);
    return;
  }
  const Slot* slot = find_slot(message.child_relid);
  const bool open = slot != nullptr && slot->state == ChannelState::open;
  if (!open) {
    fault(slot == nullptr ? ControlFault::unknown_relid : ControlFault::channel_not_open);
  }
  // Interrupts go to the channel's doorbell whatever the target VP; from 5.3
  // on the guest expects an answer.
  if (at_least(*version_, VmbusVersion::win10_v5_3)) {
    auto reply = wire::make_channel_message<wire::ModifyChannelResponse>();
    reply.child_relid = message.child_relid;
    reply.status = open ? 0 : kHostFailureStatus;
    send(reply);
  }
}

void Partition::on_unload() {
  close_all_channels(CloseReason::unloaded);
  // Back to a fresh partition: primaries keep their relids, sub-channels and
  // rescinded offers are forgotten, every GPADL is dropped.
  std::erase_if(slots_, [](const auto& entry) {
    return entry.second.subchannel_index != 0 || entry.second.state == ChannelState::rescinded;
  });
  gpadls_.clear();
  version_.reset();
  state_ = PartitionState::awaiting_contact;
  send(wire::make_channel_message<wire::UnloadResponse>());
}

void Partition::close_channel(Slot& slot, CloseReason reason) {
  if (slot.channel == nullptr) {
    return;
  }
  placer_.detach(*slot.channel);
  slot.channel->close(reason);
  gpadls_.set_in_use(slot.ring_gpadl, false);
  slot.channel.reset();
  slot.ring_gpadl = 0;
  slot.state = ChannelState::offered;
}

void Partition::close_all_channels(CloseReason reason) {
  for (auto& [relid, slot] : slots_) {
    close_channel(slot, reason);
  }
}

void Partition::shutdown(bool rescind, CloseReason reason) {
  if (state_ == PartitionState::gone) {
    return;
  }
  close_all_channels(reason);
  if (rescind && state_ == PartitionState::offers_sent) {
    for (auto& [relid, slot] : slots_) {
      if (slot.state != ChannelState::rescinded) {
        auto message = wire::make_channel_message<wire::RescindChannelOffer>();
        message.child_relid = relid;
        send(message);
        slot.state = ChannelState::rescinded;
      }
    }
  }
  gpadls_.clear();
  state_ = PartitionState::gone;
}

// ---------------------------------------------------------------------------
// Admin

PartitionSnapshot Partition::snapshot() const {
  PartitionSnapshot snapshot{.id = id_,
                             .name = name_,
                             .state = state_,
                             .version = version_,
                             .faults = faults_,
                             .last_fault = last_fault_,
                             .messages = messages_,
                             .gpadls = gpadls_.size(),
                             .gpadl_pages = gpadls_.pages(),
                             .channels = {}};
  for (const auto& [relid, slot] : slots_) {
    snapshot.channels.push_back(ChannelSnapshot{
        .relid = relid,
        .device = std::string(slot.device->name()),
        .instance_id = slot.device->offer().instance_id,
        .subchannel_index = slot.subchannel_index,
        .state = slot.state,
        .ring_corrupt = slot.channel != nullptr && slot.channel->corrupt(),
        .stats = slot.channel != nullptr ? slot.channel->stats() : HostChannelStats{},
    });
  }
  return snapshot;
}

}  // namespace uvmbus::host
