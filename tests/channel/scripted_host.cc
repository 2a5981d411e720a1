// Test support: the scripted host's control-protocol answers and its ring
// service loop.
#include "scripted_host.h"

#include <poll.h>

#include <algorithm>
#include <cstring>
#include <future>
#include <stdexcept>

#include "uvmbus/channel/loopback_transport.h"
#include "uvmbus/channel/vmbus_client.h"
#include "uvmbus/wire/bytes.h"

namespace uvmbus::channel::test {

namespace {

using wire::ChannelMessageType;

// The failure status OpenVMM puts in GpadlCreated and OpenChannelResult.
constexpr uint32_t kHostFailure = 0x8000FFFF;

bool version_listed(wire::VmbusVersion version) {
  for (const wire::VmbusVersion known : kDefaultVmbusVersions) {
    if (known == version) {
      return true;
    }
  }
  return false;
}

EventFd make_event_fd() {
  Expected<EventFd, int> fd = EventFd::create();
  if (!fd) {
    throw std::runtime_error("eventfd failed");
  }
  return std::move(*fd);
}

}  // namespace

uint64_t checksum_bytes(std::span<const std::byte> bytes, uint64_t seed) {
  uint64_t hash = seed;
  for (const std::byte b : bytes) {
    hash = (hash ^ static_cast<uint8_t>(b)) * 0x100000001b3ull;
  }
  return hash;
}

ScriptedHost::ScriptedHost(HostTransport& transport, ScriptedHostConfig config)
    : transport_(transport), config_(std::move(config)), wake_(make_event_fd()) {
  for (const HostOffer& offer : config_.offers) {
    offers_[offer.relid] = offer;
  }
  thread_ = std::thread([this] { loop(); });
}

ScriptedHost::~ScriptedHost() {
  stop_.store(true);
  wake_.signal();
  thread_.join();
}

void ScriptedHost::run(const std::function<void()>& action) {
  std::promise<void> done;
  std::future<void> finished = done.get_future();
  {
    const std::lock_guard lock(commands_mutex_);
    commands_.push_back([&] {
      action();
      done.set_value();
    });
  }
  wake_.signal();
  finished.wait();
}

void ScriptedHost::set_inband_handler(uint32_t relid, InbandHandler handler) {
  run([&] {
    const auto found = channels_.find(relid);
    if (found != channels_.end()) {
      found->second->inband_handler = std::move(handler);
    }
  });
}

void ScriptedHost::set_mode(uint32_t relid, ChannelMode mode) {
  run([&] {
    const auto found = channels_.find(relid);
    if (found != channels_.end()) {
      found->second->mode = mode;
    }
  });
}

void ScriptedHost::rescind(uint32_t relid) {
  run([&] {
    channels_.erase(relid);
    auto message = wire::make_channel_message<wire::RescindChannelOffer>();
    message.child_relid = relid;
    send_message(message);
  });
}

void ScriptedHost::offer(const HostOffer& offer) {
  run([&] {
    offers_[offer.relid] = offer;
    send_offer(offer);
  });
}

void ScriptedHost::send_raw(std::vector<std::byte> bytes) {
  run([&] { send(bytes); });
}

void ScriptedHost::die() {
  run([&] {
    dead_ = true;
    channels_.clear();
    transport_.close();
  });
}

ring::WriteStatus ScriptedHost::inject(uint32_t relid, const ring::OutPacket& packet) {
  ring::WriteStatus status = ring::WriteStatus::corrupt;
  run([&] {
    const auto found = channels_.find(relid);
    if (found == channels_.end()) {
      return;
    }
    HostChannel& channel = *found->second;
    status = channel.writer.write(packet);
    if (channel.writer.commit() == ring::Signal::needed) {
      channel.link->signal_guest();
    }
  });
  return status;
}

wire::RingHeader* ScriptedHost::inbound_ring_header(uint32_t relid) {
  wire::RingHeader* header = nullptr;
  run([&] {
    const auto found = channels_.find(relid);
    if (found != channels_.end()) {
      header = found->second->to_guest_header;
    }
  });
  return header;
}

std::vector<uint32_t> ScriptedHost::open_channels() {
  std::vector<uint32_t> relids;
  run([&] {
    for (const auto& [relid, channel] : channels_) {
      relids.push_back(relid);
    }
  });
  return relids;
}

std::size_t ScriptedHost::gpadl_count() {
  std::size_t count = 0;
  run([&] { count = gpadls_.size(); });
  return count;
}

// ---------------------------------------------------------------------------
// The loop

void ScriptedHost::loop() {
  std::vector<pollfd> fds;
  std::vector<uint32_t> fd_relids;
  std::array<std::byte, kLoopbackMaxHostMessage> buffer;
  while (!stop_.load()) {
    fds.assign({pollfd{.fd = wake_.fd(), .events = POLLIN, .revents = 0}});
    fd_relids.assign({0});
    if (!dead_) {
      fds.push_back(pollfd{.fd = transport_.control_fd(), .events = POLLIN, .revents = 0});
      fd_relids.push_back(0);
      for (const auto& [relid, channel] : channels_) {
        fds.push_back(pollfd{.fd = channel->link->doorbell_fd(), .events = POLLIN, .revents = 0});
        fd_relids.push_back(relid);
      }
    }
    if (poll(fds.data(), fds.size(), -1) < 0) {
      continue;
    }
    // Count and consume exactly the doorbells this poll saw; one rung later
    // is seen by the next poll.
    for (std::size_t i = 2; i < fds.size(); ++i) {
      if ((fds[i].revents & POLLIN) != 0) {
        ++counters_.doorbells;
        channels_.at(fd_relids[i])->link->acknowledge_doorbell();
      }
    }
    wake_.drain();
    std::vector<std::function<void()>> commands;
    {
      const std::lock_guard lock(commands_mutex_);
      commands.swap(commands_);
    }
    for (const auto& command : commands) {
      command();
    }
    if (dead_) {
      continue;
    }
    for (;;) {
      const ControlReceive received = transport_.receive_control(buffer);
      if (received.status != TransportStatus::ok) {
        break;
      }
      ++counters_.messages;
      handle_control(std::span(buffer).first(received.size));
    }
    // Serve every channel after any wake-up: doorbells only say "look".
    for (auto it = channels_.begin(); it != channels_.end();) {
      const uint32_t relid = it->first;
      HostChannel& channel = *it->second;
      ++it;  // a packet may add sub-channel offers, never remove channels
      service_channel(relid, channel);
    }
  }
}

void ScriptedHost::send(std::span<const std::byte> bytes) {
  if (!dead_) {
    [[maybe_unused]] const TransportStatus status = transport_.send_control(bytes);
  }
}

void ScriptedHost::send_offer(const HostOffer& offer) {
  auto message = wire::make_channel_message<wire::OfferChannel>();
  message.if_type = offer.class_id;
  message.if_instance = offer.instance_id;
  message.sub_channel_index = offer.subchannel_index;
  message.child_relid = offer.relid;
  message.connection_id = offer.relid;
  send_message(message);
}

// ---------------------------------------------------------------------------
// Control protocol

void ScriptedHost::handle_control(std::span<const std::byte> message) {
  if (!wire::fits<wire::ChannelMessageHeader>(message, 0)) {
    return;
  }
  const auto type = wire::load<ChannelMessageType>(message);
  switch (type) {
    case ChannelMessageType::initiate_contact: {
      if (!wire::fits<wire::InitiateContact>(message, 0)) {
        return;
      }
      ++counters_.initiate_contacts;
      if (!config_.answer_initiate_contact) {
        return;
      }
      const auto request = wire::load<wire::InitiateContact>(message);
      const wire::VmbusVersion version = request.vmbus_version_requested;
      const bool accepted = config_.versions.empty()
                                ? version_listed(version)
                                : std::find(config_.versions.begin(), config_.versions.end(),
                                            version) != config_.versions.end();
      auto response = wire::make_channel_message<wire::VersionResponse>();
      response.version_supported = accepted ? 1 : 0;
      response.msg_conn_id = wire::kVmbusMessageConnectionId4;
      send_message(response);
      return;
    }
    case ChannelMessageType::requestoffers:
      for (const auto& [relid, offer] : offers_) {
        send_offer(offer);
      }
      send_message(wire::make_channel_message<wire::AllOffersDelivered>());
      return;
    case ChannelMessageType::gpadl_header:
      ++counters_.gpadl_messages;
      on_gpadl_header(message);
      return;
    case ChannelMessageType::gpadl_body:
      ++counters_.gpadl_messages;
      on_gpadl_body(message);
      return;
    case ChannelMessageType::gpadl_teardown: {
      if (!wire::fits<wire::GpadlTeardown>(message, 0)) {
        return;
      }
      const auto request = wire::load<wire::GpadlTeardown>(message);
      if (gpadls_.erase(request.gpadl) == 0 || !config_.answer_teardown) {
        return;
      }
      ++counters_.gpadls_torn_down;
      auto reply = wire::make_channel_message<wire::GpadlTorndown>();
      reply.gpadl = request.gpadl;
      send_message(reply);
      return;
    }
    case ChannelMessageType::openchannel:
      if (wire::fits<wire::OpenChannel>(message, 0)) {
        on_open(wire::load<wire::OpenChannel>(message));
      }
      return;
    case ChannelMessageType::closechannel:
      if (wire::fits<wire::CloseChannel>(message, 0)) {
        ++counters_.closes;
        channels_.erase(wire::load<wire::CloseChannel>(message).child_relid);
      }
      return;
    case ChannelMessageType::relid_released:
      if (wire::fits<wire::RelidReleased>(message, 0)) {
        ++counters_.relids_released;
        offers_.erase(wire::load<wire::RelidReleased>(message).child_relid);
      }
      return;
    case ChannelMessageType::unload:
      ++counters_.unloads;
      channels_.clear();
      send_message(wire::make_channel_message<wire::UnloadResponse>());
      return;
    default:
      return;
  }
}

void ScriptedHost::on_gpadl_header(std::span<const std::byte> message) {
  if (!wire::fits<wire::GpadlHeader>(message, 0) ||
      !wire::fits<wire::GpaRange>(message, sizeof(wire::GpadlHeader))) {
    return;
  }
  const auto header = wire::load<wire::GpadlHeader>(message);
  const auto range = wire::load<wire::GpaRange>(message, sizeof(header));
  Gpadl gpadl;
  gpadl.relid = header.child_relid;
  const bool well_formed = header.rangecount == 1 && range.byte_offset == 0 &&
                           range.byte_count % wire::kHvPageSize == 0 && range.byte_count != 0 &&
                           header.range_buflen ==
                               sizeof(wire::GpaRange) +
                                   range.byte_count / wire::kHvPageSize * sizeof(uint64_t) &&
                           !gpadls_.contains(header.gpadl);
  gpadl.expected_pages = well_formed ? range.byte_count / wire::kHvPageSize : 0;
  for (std::size_t at = sizeof(header) + sizeof(range);
       wire::fits<uint64_t>(message, at) && gpadl.pfns.size() < gpadl.expected_pages;
       at += sizeof(uint64_t)) {
    gpadl.pfns.push_back(wire::load<uint64_t>(message, at));
  }
  auto& stored = gpadls_[header.gpadl] = std::move(gpadl);
  if (!well_formed || stored.pfns.size() == stored.expected_pages) {
    finish_gpadl(header.gpadl, stored);
  }
}

void ScriptedHost::on_gpadl_body(std::span<const std::byte> message) {
  if (!wire::fits<wire::GpadlBody>(message, 0)) {
    return;
  }
  const auto body = wire::load<wire::GpadlBody>(message);
  const auto found = gpadls_.find(body.gpadl);
  if (found == gpadls_.end() || found->second.complete) {
    return;
  }
  Gpadl& gpadl = found->second;
  for (std::size_t at = sizeof(body);
       wire::fits<uint64_t>(message, at) && gpadl.pfns.size() < gpadl.expected_pages;
       at += sizeof(uint64_t)) {
    gpadl.pfns.push_back(wire::load<uint64_t>(message, at));
  }
  if (gpadl.pfns.size() == gpadl.expected_pages) {
    finish_gpadl(body.gpadl, gpadl);
  }
}

// Every PFN must be inside the guest's registered memory.
void ScriptedHost::finish_gpadl(uint32_t handle, Gpadl& gpadl) {
  const MappedGuestMemory& memory = transport_.guest_memory();
  const bool valid = gpadl.expected_pages != 0 &&
                     std::all_of(gpadl.pfns.begin(), gpadl.pfns.end(), [&](uint64_t pfn) {
                       return memory.page_address(pfn) != nullptr;
                     });
  auto reply = wire::make_channel_message<wire::GpadlCreated>();
  reply.child_relid = gpadl.relid;
  reply.gpadl = handle;
  reply.creation_status = valid ? 0 : kHostFailure;
  if (valid) {
    gpadl.complete = true;
    ++counters_.gpadls_created;
  } else {
    ++counters_.gpadls_refused;
    gpadls_.erase(handle);
  }
  if (config_.answer_gpadl) {
    send_message(reply);
  }
}

void ScriptedHost::on_open(const wire::OpenChannel& message) {
  ++counters_.opens;
  if (!config_.answer_open) {
    return;
  }
  auto reply = wire::make_channel_message<wire::OpenChannelResult>();
  reply.child_relid = message.child_relid;
  reply.openid = message.openid;
  reply.status = config_.open_status != 0 ? config_.open_status : kHostFailure;
  const auto gpadl = gpadls_.find(message.ringbuffer_gpadlhandle);
  std::shared_ptr<HostChannelLink> link = transport_.channel_link(message.child_relid);
  const uint32_t offset = message.downstream_ringbuffer_pageoffset;
  if (config_.open_status == 0 && gpadl != gpadls_.end() && gpadl->second.complete &&
      gpadl->second.relid == message.child_relid && link != nullptr && offset > 0 &&
      offset < gpadl->second.pfns.size() && !channels_.contains(message.child_relid)) {
    const std::vector<uint64_t>& pfns = gpadl->second.pfns;
    // The host maps the two rings through the registered memory; our guest
    // allocates them contiguously, which the host requires here.
    const bool contiguous = std::adjacent_find(pfns.begin(), pfns.end(), [](uint64_t a, uint64_t b) {
                              return b != a + 1;
                            }) == pfns.end();
    std::byte* base = transport_.guest_memory().page_address(pfns.front(), pfns.size());
    if (contiguous && base != nullptr) {
      const std::optional<ring::RingMemory> from_guest =
          ring::ring_memory_from(base, std::size_t{offset} * wire::kHvPageSize);
      const std::optional<ring::RingMemory> to_guest = ring::ring_memory_from(
          base + std::size_t{offset} * wire::kHvPageSize,
          (pfns.size() - offset) * wire::kHvPageSize);
      if (from_guest && to_guest) {
        auto channel = std::make_unique<HostChannel>(*from_guest, *to_guest);
        channel->link = std::move(link);
        channel->to_guest_header = to_guest->header;
        channel->mode = config_.default_mode;
        channel->copy.resize(channel->reader.max_packet_bytes());
        channels_[message.child_relid] = std::move(channel);
        reply.status = 0;
      }
    }
  }
  send_message(reply);
}

// ---------------------------------------------------------------------------
// Rings

void ScriptedHost::service_channel(uint32_t relid, HostChannel& channel) {
  if (channel.mode == ChannelMode::hold) {
    return;
  }
  // Read only while replies fit (a bounded backlog), so a guest that never
  // reads its inbound ring eventually finds its outbound ring full.
  constexpr std::size_t kMaxBacklog = 256;
  flush_backlog(channel);
  // Drain, publish, then look again with unmask_interrupts() (this host
  // never masks; the call is the ordered re-check): a packet the guest
  // published before it could see our read index came without a doorbell,
  // so it must be seen now, before the host sleeps.
  do {
    while (channel.backlog.size() < kMaxBacklog) {
      ring::InPacket packet;
      const ring::ReadStatus status = channel.reader.next_copy(channel.copy, packet);
      if (status != ring::ReadStatus::ok) {
        if (status == ring::ReadStatus::corrupt) {
          ++counters_.bad_guest_packets;
        }
        break;
      }
      ++counters_.packets;
      handle_packet(relid, channel, packet);
    }
    if (channel.reader.commit() == ring::Signal::needed) {
      channel.link->signal_guest();
    }
    flush_backlog(channel);
  } while (channel.backlog.size() < kMaxBacklog && channel.reader.unmask_interrupts());
  // Ask the guest to tell us when the first waiting reply fits; if it fits
  // already (the guest read meanwhile), write and ask again.
  while (!channel.backlog.empty()) {
    const uint64_t needed = ring::packet_ring_bytes(0, channel.backlog.front().payload.size());
    if (channel.writer.arm_pending_send(static_cast<uint32_t>(needed)) !=
        ring::PendingSend::space_available) {
      return;
    }
    flush_backlog(channel);
  }
  channel.writer.disarm_pending_send();
}

// Writes queued replies in order; returns true if the backlog emptied.
bool ScriptedHost::flush_backlog(HostChannel& channel) {
  std::size_t written = 0;
  for (const OwnedPacket& reply : channel.backlog) {
    const iovec segment{.iov_base = const_cast<std::byte*>(reply.payload.data()),
                        .iov_len = reply.payload.size()};
    const ring::OutPacket packet{.type = reply.type,
                                 .flags = reply.flags,
                                 .trans_id = reply.trans_id,
                                 .header_ext = {},
                                 .payload = std::span(&segment, reply.payload.empty() ? 0 : 1)};
    if (channel.writer.write(packet) != ring::WriteStatus::ok) {
      break;
    }
    ++written;
  }
  channel.backlog.erase(channel.backlog.begin(), channel.backlog.begin() + written);
  if (channel.writer.commit() == ring::Signal::needed) {
    channel.link->signal_guest();
  }
  return channel.backlog.empty();
}

void ScriptedHost::handle_packet(uint32_t relid, HostChannel& channel, const ring::InPacket& packet) {
  const std::span<const std::byte> payload = packet.payload();
  const bool echo = channel.mode == ChannelMode::echo;
  switch (packet.type()) {
    case wire::PacketType::completion:
      ++counters_.completions;
      return;
    case wire::PacketType::data_using_gpa_direct: {
      const GpaDirectReply result = read_gpa_direct(packet.header_ext());
      const auto* bytes = reinterpret_cast<const std::byte*>(&result);
      channel.backlog.push_back({.type = wire::PacketType::completion,
                                 .trans_id = packet.desc.trans_id,
                                 .payload = {bytes, bytes + sizeof(result)}});
      return;
    }
    case wire::PacketType::data_inband:
      if (channel.inband_handler) {
        channel.inband_handler(packet.desc.trans_id, payload);
        return;
      }
      break;
    default:
      ++counters_.bad_guest_packets;
      return;
  }
  if (wire::fits<SubchannelRequest>(payload, 0) &&
      wire::load<SubchannelRequest>(payload).magic == kSubchannelRequestMagic) {
    SubchannelRequest granted = wire::load<SubchannelRequest>(payload);
    granted.count = std::min(granted.count, config_.max_subchannels);
    const auto* bytes = reinterpret_cast<const std::byte*>(&granted);
    channel.backlog.push_back({.type = wire::PacketType::completion,
                               .trans_id = packet.desc.trans_id,
                               .payload = {bytes, bytes + sizeof(granted)}});
    flush_backlog(channel);
    offer_subchannels(relid, granted.count);
    return;
  }
  if (packet.completion_requested()) {
    channel.backlog.push_back({.type = wire::PacketType::completion,
                               .trans_id = packet.desc.trans_id,
                               .payload = echo ? std::vector(payload.begin(), payload.end())
                                               : std::vector<std::byte>{}});
  } else if (echo) {
    channel.backlog.push_back({.type = wire::PacketType::data_inband,
                               .payload = std::vector(payload.begin(), payload.end())});
  }
}

GpaDirectReply ScriptedHost::read_gpa_direct(std::span<const std::byte> header_ext) {
  GpaDirectReply reply;
  reply.checksum = checksum_bytes({});
  if (!wire::fits<wire::GpaDirectHeader>(header_ext, 0)) {
    return reply;
  }
  const auto header = wire::load<wire::GpaDirectHeader>(header_ext);
  std::size_t at = sizeof(header);
  const MappedGuestMemory& memory = transport_.guest_memory();
  for (uint32_t i = 0; i < header.range_count && wire::fits<wire::GpaRange>(header_ext, at); ++i) {
    const auto range = wire::load<wire::GpaRange>(header_ext, at);
    at += sizeof(range);
    const uint64_t pages =
        (uint64_t{range.byte_offset} + range.byte_count + wire::kHvPageSize - 1) / wire::kHvPageSize;
    uint64_t offset = range.byte_offset;
    uint64_t left = range.byte_count;
    bool readable = true;
    for (uint64_t page = 0; page < pages && wire::fits<uint64_t>(header_ext, at);
         ++page, at += sizeof(uint64_t)) {
      const std::byte* data = memory.page_address(wire::load<uint64_t>(header_ext, at));
      if (data == nullptr) {
        readable = false;
        continue;
      }
      const uint64_t chunk = std::min<uint64_t>(left, wire::kHvPageSize - offset);
      reply.checksum = checksum_bytes({data + offset, chunk}, reply.checksum);
      reply.bytes_read += static_cast<uint32_t>(chunk);
      left -= chunk;
      offset = 0;
    }
    reply.ranges_read += readable ? 1 : 0;
  }
  return reply;
}

void ScriptedHost::offer_subchannels(uint32_t primary_relid, uint32_t count) {
  const auto primary = offers_.find(primary_relid);
  if (primary == offers_.end()) {
    return;
  }
  const HostOffer base = primary->second;
  for (uint32_t index = 1; index <= count; ++index) {
    const HostOffer sub{.class_id = base.class_id,
                        .instance_id = base.instance_id,
                        .relid = next_relid_++,
                        .subchannel_index = static_cast<uint16_t>(index)};
    offers_[sub.relid] = sub;
    send_offer(sub);
  }
}

}  // namespace uvmbus::channel::test
