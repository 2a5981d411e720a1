// VmbusConnection: transport pumping, bounded waits, and the open/close
// sequences built from VmbusClient requests.
#include "uvmbus/channel/vmbus_connection.h"

#include <poll.h>

#include <algorithm>
#include <array>
#include <climits>

namespace uvmbus::channel {

namespace {

using Clock = std::chrono::steady_clock;

// Messages handled per pump() call, so a flooding host cannot keep a wait
// from checking its deadline.
constexpr int kMaxMessagesPerPump = 256;

ControlError memory_failure(const MemoryError& error) noexcept {
  return error.code == MemoryErrorCode::invalid_argument ? ControlError::invalid_argument
                                                         : ControlError::out_of_memory;
}

}  // namespace

VmbusConnection::VmbusConnection(Transport& transport, GuestMemory& memory,
                                 const ConnectionOptions& options)
    : transport_(transport), memory_(memory), options_(options), client_(transport, options.client) {}

Expected<std::unique_ptr<VmbusConnection>, ControlError> VmbusConnection::connect(
    Transport& transport, GuestMemory& memory, const ConnectionOptions& options) {
  std::unique_ptr<VmbusConnection> connection(new VmbusConnection(transport, memory, options));
  VmbusClient& client = connection->client_;
  ControlError error = connection->register_new_regions();
  if (error == ControlError::none) {
    error = client.start_connect();
  }
  if (error == ControlError::none) {
    error = connection->wait_until([&] { return client.state() != ConnectionState::contacting; },
                                   options.reply_timeout);
  }
  if (error == ControlError::none && client.state() != ConnectionState::connected) {
    error = client.failure();
  }
  if (error == ControlError::none) {
    error = client.request_offers();
  }
  if (error == ControlError::none) {
    error = connection->wait_until([&] { return client.offers_delivered(); }, options.reply_timeout);
  }
  if (error != ControlError::none) {
    return Unexpected(error);
  }
  return connection;
}

VmbusConnection::~VmbusConnection() {
  // Sub-channels before their primaries.
  for (const bool primaries : {false, true}) {
    for (auto it = channels_.begin(); it != channels_.end();) {
      const uint32_t relid = it->first;
      ++it;  // close_channel() erases the record
      if (channels_.at(relid).channel->offer().is_primary() == primaries) {
        [[maybe_unused]] const ControlError error = close_channel(relid);
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Pumping and waiting

bool VmbusConnection::pump(std::chrono::milliseconds max_wait) {
  if (client_.state() == ConnectionState::host_gone) {
    return false;
  }
  pollfd ready{.fd = transport_.control_fd(), .events = POLLIN, .revents = 0};
  const auto wait_ms = std::clamp<std::chrono::milliseconds::rep>(max_wait.count(), 0, INT_MAX);
  // EINTR or a timeout just means nothing to read yet.
  [[maybe_unused]] const int polled = poll(&ready, 1, static_cast<int>(wait_ms));
  std::array<std::byte, wire::kMaxChannelMessageSize> buffer;
  for (int handled = 0; handled < kMaxMessagesPerPump; ++handled) {
    const ControlReceive received = transport_.receive_control(buffer);
    if (received.status == TransportStatus::ok) {
      [[maybe_unused]] const ControlError error =
          client_.on_message(std::span(buffer).first(received.size));
      collect_events();
    } else if (received.status == TransportStatus::oversized) {
      client_.on_oversized_message();
    } else if (received.status == TransportStatus::closed) {
      client_.on_host_gone();
      break;
    } else {
      break;
    }
  }
  if (client_.state() == ConnectionState::host_gone) {
    end_all_channels(ChannelEnd::host_gone);
    return false;
  }
  return true;
}

template <typename Done>
ControlError VmbusConnection::wait_until(Done done, std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  while (!done()) {
    if (client_.state() == ConnectionState::host_gone) {
      end_all_channels(ChannelEnd::host_gone);
      return ControlError::host_gone;
    }
    const Clock::time_point now = Clock::now();
    if (now >= deadline) {
      return ControlError::timed_out;
    }
    pump(std::chrono::ceil<std::chrono::milliseconds>(deadline - now));
  }
  return ControlError::none;
}

// Applies rescinds to channels and queues every event for the caller.
void VmbusConnection::collect_events() {
  while (const std::optional<ClientEvent> event = client_.next_event()) {
    if (event->type == ClientEventType::rescind) {
      const auto found = channels_.find(event->relid);
      if (found != channels_.end()) {
        found->second.channel->end(ChannelEnd::rescinded);
      } else if (event->relid != opening_relid_) {
        // No channel uses it: release at once so the host can reuse the relid.
        [[maybe_unused]] const ControlError error = client_.release_relid(event->relid);
      }
    }
    if (events_.size() == VmbusClient::kMaxQueuedEvents) {
      ++events_dropped_;
      continue;
    }
    events_.push_back(*event);
  }
}

std::optional<ClientEvent> VmbusConnection::next_event() noexcept {
  if (events_.empty()) {
    return std::nullopt;
  }
  const ClientEvent event = events_.front();
  events_.pop_front();
  return event;
}

void VmbusConnection::end_all_channels(ChannelEnd reason) {
  for (auto& [relid, record] : channels_) {
    record.channel->end(reason);
  }
}

ControlError VmbusConnection::register_new_regions() {
  for (; registered_regions_ < memory_.region_count(); ++registered_regions_) {
    if (transport_.register_memory(memory_.region(registered_regions_)) != TransportStatus::ok) {
      return ControlError::transport_failed;
    }
  }
  return ControlError::none;
}

ControlError VmbusConnection::modify_channel(uint32_t relid, uint32_t target_vp) {
  ControlError error = client_.start_modify(relid, target_vp);
  if (error == ControlError::none) {
    error = wait_until(
        [&] { return client_.modify_status(relid).state != ModifyState::pending; },
        options_.reply_timeout);
  }
  const ModifyStatus status = client_.modify_status(relid);
  if (status.state == ModifyState::failed) {
    return status.error;
  }
  return error;
}

// ---------------------------------------------------------------------------
// GPADLs

ControlError VmbusConnection::wait_for_gpadl(uint32_t handle) {
  const ControlError error = wait_until(
      [&] { return client_.gpadl_status(handle).state != GpadlState::creating; },
      options_.reply_timeout);
  const GpadlStatus status = client_.gpadl_status(handle);
  if (status.state == GpadlState::created) {
    return ControlError::none;
  }
  if (status.state == GpadlState::failed) {
    client_.forget_gpadl(handle);
    return status.error;
  }
  return error != ControlError::none ? error : ControlError::timed_out;
}

// Tears the GPADL down and waits for the host to let go of it. If the host
// may still be using it, `rings_to_keep` (if any) moves to unreleased_rings_.
ControlError VmbusConnection::teardown_and_wait(uint32_t handle, RingPair* rings_to_keep) {
  ControlError error = client_.start_teardown_gpadl(handle);
  if (error == ControlError::none) {
    error = wait_until([&] { return client_.gpadl_status(handle).state == GpadlState::none; },
                       options_.reply_timeout);
  }
  if (error != ControlError::none && error != ControlError::host_gone && rings_to_keep != nullptr) {
    unreleased_rings_.push_back(std::move(*rings_to_keep));
  }
  return error;
}

Expected<uint32_t, ControlError> VmbusConnection::create_gpadl(uint32_t relid,
                                                               const GuestPages& pages) {
  if (pages.empty() || pages.page_count() > kMaxGpadlPages) {
    return Unexpected(ControlError::invalid_argument);
  }
  if (const ControlError error = register_new_regions(); error != ControlError::none) {
    return Unexpected(error);
  }
  const Expected<uint32_t, ControlError> handle = client_.start_create_gpadl(
      relid, pages.first_pfn(), static_cast<uint32_t>(pages.page_count()));
  if (!handle) {
    return handle;
  }
  if (const ControlError error = wait_for_gpadl(*handle); error != ControlError::none) {
    return Unexpected(error);
  }
  return handle;
}

ControlError VmbusConnection::teardown_gpadl(uint32_t handle) {
  return teardown_and_wait(handle, nullptr);
}

// ---------------------------------------------------------------------------
// Channels

Channel* VmbusConnection::channel(uint32_t relid) const noexcept {
  const auto found = channels_.find(relid);
  return found != channels_.end() ? found->second.channel.get() : nullptr;
}

Expected<Channel*, ControlError> VmbusConnection::open_channel(uint32_t relid,
                                                               const OpenOptions& options) {
  if (client_.state() != ConnectionState::connected) {
    return Unexpected(ControlError::invalid_state);
  }
  if (client_.offer(relid) == nullptr) {
    return Unexpected(ControlError::invalid_argument);
  }
  if (client_.rescinded(relid)) {
    return Unexpected(ControlError::rescinded);
  }
  if (channels_.contains(relid)) {
    return Unexpected(ControlError::invalid_state);
  }
  Expected<RingPair, MemoryError> rings =
      RingPair::allocate(memory_, options.outbound_ring_bytes, options.inbound_ring_bytes);
  if (!rings) {
    return Unexpected(memory_failure(rings.error()));
  }
  opening_relid_ = relid;
  Expected<Channel*, ControlError> opened = open_with_rings(relid, options, std::move(*rings));
  opening_relid_ = 0;
  if (!opened && client_.rescinded(relid)) {
    [[maybe_unused]] const ControlError error = client_.release_relid(relid);
  }
  return opened;
}

Expected<Channel*, ControlError> VmbusConnection::open_with_rings(uint32_t relid,
                                                                  const OpenOptions& options,
                                                                  RingPair rings) {
  // Both rings advertise the pending-send protocol, as Linux does.
  ring::init_ring_header(*rings.outbound().header, true);
  ring::init_ring_header(*rings.inbound().header, true);
  if (const ControlError error = register_new_regions(); error != ControlError::none) {
    return Unexpected(error);
  }
  const Offer offer = *client_.offer(relid);
  Expected<std::unique_ptr<ChannelLink>, TransportStatus> link = transport_.attach_channel(offer);
  if (!link) {
    return Unexpected(ControlError::transport_failed);
  }
  Expected<std::unique_ptr<Channel>, ControlError> channel = Channel::create(
      offer, rings.outbound(), rings.inbound(), std::move(*link), options.channel, &memory_);
  if (!channel) {
    return Unexpected(channel.error());
  }
  const Expected<uint32_t, ControlError> gpadl = client_.start_create_gpadl(
      relid, rings.pages().first_pfn(), static_cast<uint32_t>(rings.pages().page_count()));
  if (!gpadl) {
    return Unexpected(gpadl.error());
  }
  if (const ControlError error = wait_for_gpadl(*gpadl); error != ControlError::none) {
    if (error == ControlError::timed_out) {
      unreleased_rings_.push_back(std::move(rings));  // the host may map it yet
    }
    return Unexpected(error);
  }

  OpenRequest request{
      .relid = relid,
      .ring_gpadl = *gpadl,
      .downstream_page_offset = rings.downstream_ringbuffer_pageoffset(),
      .target_vp = options.target_vp,
      .user_data = options.user_data,
  };
  ControlError error = client_.start_open(request);
  if (error == ControlError::none) {
    error = wait_until([&] { return client_.open_status(relid).state != OpenState::opening; },
                       options_.reply_timeout);
  }
  if (error == ControlError::none) {
    const OpenStatus status = client_.open_status(relid);
    if (status.state != OpenState::open) {
      // A rescind may have released the offer record altogether.
      error = status.error != ControlError::none ? status.error : ControlError::rescinded;
    }
  }
  if (error == ControlError::timed_out) {
    // The host may still open the channel on these rings: never reuse them.
    unreleased_rings_.push_back(std::move(rings));
    return Unexpected(error);
  }
  if (error != ControlError::none) {
    [[maybe_unused]] const ControlError teardown = teardown_and_wait(*gpadl, &rings);
    return Unexpected(error);
  }
  Channel* opened = channel->get();
  channels_.emplace(relid, ChannelRecord{.rings = std::move(rings),
                                         .ring_gpadl = *gpadl,
                                         .channel = std::move(*channel)});
  return opened;
}

ControlError VmbusConnection::close_channel(uint32_t relid) {
  const auto found = channels_.find(relid);
  if (found == channels_.end()) {
    return ControlError::invalid_argument;
  }
  ChannelRecord& record = found->second;
  const Offer& offer = record.channel->offer();
  if (offer.is_primary()) {
    for (const auto& [other_relid, other] : channels_) {
      const Offer& other_offer = other.channel->offer();
      if (!other_offer.is_primary() && other_offer.instance_id == offer.instance_id) {
        return ControlError::subchannels_open;
      }
    }
  }
  record.channel->end(ChannelEnd::closed);
  ControlError error = client_.close_channel(relid);
  const ControlError teardown = teardown_and_wait(record.ring_gpadl, &record.rings);
  if (error == ControlError::none) {
    error = teardown;
  }
  if (client_.rescinded(relid)) {
    const ControlError release = client_.release_relid(relid);
    if (error == ControlError::none) {
      error = release;
    }
  }
  channels_.erase(found);
  return error == ControlError::host_gone ? ControlError::none : error;
}

std::vector<Offer> VmbusConnection::wait_for_subchannels(uint32_t primary_relid, uint16_t count,
                                                         std::chrono::milliseconds timeout) {
  const Offer* primary = client_.offer(primary_relid);
  if (primary == nullptr || !primary->is_primary()) {
    return {};
  }
  const wire::Guid class_id = primary->class_id;
  const wire::Guid instance_id = primary->instance_id;
  auto offered = [&] {
    std::vector<Offer> found;
    for (const Offer& offer : client_.offers()) {
      if (offer.class_id == class_id && offer.instance_id == instance_id &&
          offer.subchannel_index >= 1 && offer.subchannel_index <= count) {
        found.push_back(offer);
      }
    }
    std::sort(found.begin(), found.end(), [](const Offer& a, const Offer& b) {
      return a.subchannel_index < b.subchannel_index;
    });
    return found;
  };
  [[maybe_unused]] const ControlError error =
      wait_until([&] { return offered().size() == count; }, timeout);
  return offered();
}

ControlError VmbusConnection::unload() {
  if (const ControlError error = client_.start_unload(); error != ControlError::none) {
    return error;
  }
  const ControlError error = wait_until(
      [&] { return client_.state() != ConnectionState::unloading; }, options_.unload_timeout);
  end_all_channels(ChannelEnd::unloaded);
  return error;
}

}  // namespace uvmbus::channel
