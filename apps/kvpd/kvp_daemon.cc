// kvpd on a VMBus connection (see kvp_daemon.h).
#include "kvp_daemon.h"

#include <sys/uio.h>

#include <algorithm>
#include <cstring>

#include "log.h"
#include "uvmbus/wire/guid.h"

namespace uvmbus::kvpd {

const char* to_string(DaemonError error) noexcept {
  switch (error) {
    case DaemonError::none:
      return "none";
    case DaemonError::connect_failed:
      return "connect_failed";
    case DaemonError::no_device:
      return "no_device";
    case DaemonError::open_failed:
      return "open_failed";
    case DaemonError::worker_failed:
      return "worker_failed";
  }
  return "unknown";
}

KvpDaemon::StartResult KvpDaemon::start(channel::Transport& transport,
                                        channel::GuestMemory& memory, KvpService& service,
                                        const runtime::Topology& topology,
                                        const DaemonConfig& config) {
  auto connected = channel::VmbusConnection::connect(transport, memory, config.connection);
  if (!connected) {
    return {DaemonError::connect_failed, channel::to_string(connected.error()), nullptr};
  }
  std::unique_ptr<channel::VmbusConnection> connection = std::move(*connected);
  const std::vector<channel::Offer> offers = connection->offers();
  const auto offer = std::find_if(offers.begin(), offers.end(), [](const channel::Offer& o) {
    return o.class_id == wire::kHvKvpGuid && o.is_primary();
  });
  if (offer == offers.end()) {
    return {DaemonError::no_device,
            fmt::format("the host offered {} devices, none of class {}", offers.size(),
                        wire::to_string(wire::kHvKvpGuid)),
            nullptr};
  }
  channel::OpenOptions open;
  open.outbound_ring_bytes = config.ring_bytes;
  open.inbound_ring_bytes = config.ring_bytes;
  auto opened = connection->open_channel(offer->relid, open);
  if (!opened) {
    return {DaemonError::open_failed, channel::to_string(opened.error()), nullptr};
  }
  std::unique_ptr<KvpDaemon> daemon(new KvpDaemon(service, std::move(connection), **opened));
  auto worker = runtime::Worker::start(topology, config.worker);
  if (!worker) {
    return {DaemonError::worker_failed, runtime::to_string(worker.error().code), nullptr};
  }
  daemon->worker_ = std::move(*worker);
  if (auto attached = daemon->worker_->attach(daemon->pollable_); !attached) {
    return {DaemonError::worker_failed, runtime::to_string(attached.error().code), nullptr};
  }
  daemon->attached_ = true;
  log(LogLevel::info, "event=channel_open relid={} ring_bytes={} cpu={}", offer->relid,
      config.ring_bytes, config.worker.cpu);
  return {DaemonError::none, {}, std::move(daemon)};
}

KvpDaemon::KvpDaemon(KvpService& service, std::unique_ptr<channel::VmbusConnection> connection,
                     channel::Channel& channel)
    : service_(service),
      connection_(std::move(connection)),
      channel_(&channel),
      pollable_(channel, PacketHandler{this}) {}

KvpDaemon::~KvpDaemon() {
  if (attached_) {
    [[maybe_unused]] auto detached = worker_->detach(pollable_);
  }
  if (worker_) {
    worker_->stop();
  }
  [[maybe_unused]] const channel::ControlError closed =
      connection_->close_channel(channel_->offer().relid);
}

bool KvpDaemon::run(const std::atomic<bool>& stop) {
  while (!stop.load(std::memory_order_relaxed)) {
    if (!connection_->pump(std::chrono::milliseconds(100))) {
      return false;
    }
    if (channel_->ended()) {
      log(LogLevel::error, "event=channel_ended reason={}", channel::to_string(channel_->end_reason()));
      return false;
    }
  }
  return true;
}

void KvpDaemon::PacketHandler::operator()(channel::Channel& channel,
                                          std::span<const channel::ReceivedPacket> packets) noexcept {
  KvpDaemon& self = *daemon;
  for (const channel::ReceivedPacket& received : packets) {
    if (received.kind != channel::PacketKind::inband) {
      continue;
    }
    if (received.payload.size() > self.packet_.size()) {
      self.counters_.oversized.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    const std::span<std::byte> packet = std::span(self.packet_).first(received.payload.size());
    std::memcpy(packet.data(), received.payload.data(), packet.size());
    const PacketOutcome outcome = self.service_.on_packet(packet);
    log(LogLevel::debug, "event=request negotiate={} op={} pool={} status={:#010x} ic={} kvp={} store={}",
        outcome.negotiated, static_cast<int>(outcome.operation), static_cast<int>(outcome.pool),
        static_cast<uint32_t>(outcome.status), ic::to_string(outcome.ic_error),
        kvp::to_string(outcome.kvp_error), kvp::to_string(outcome.store_status));
    if (!outcome.send_reply) {
      continue;
    }
    const iovec segment{.iov_base = packet.data(), .iov_len = packet.size()};
    const channel::SendItem reply{.kind = channel::SendKind::inband,
                                  .payload = std::span(&segment, 1),
                                  .trans_id = received.trans_id};
    // One transaction at a time keeps the outbound ring nearly empty: a
    // full ring or an ended channel is rare, counted and logged.
    const channel::SendResult sent = channel.send_burst(std::span(&reply, 1));
    if (sent.sent == 1) {
      self.counters_.replies_sent.fetch_add(1, std::memory_order_relaxed);
    } else {
      self.counters_.send_failures.fetch_add(1, std::memory_order_relaxed);
      log(LogLevel::error, "event=reply_not_sent reason={}", channel::to_string(sent.status));
    }
  }
}

}  // namespace uvmbus::kvpd
