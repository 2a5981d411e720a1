// KvpDaemon: kvpd on a VMBus connection. Finds the KVP device among the
// host's offers, opens its channel and serves it with a KvpService on a
// poll-mode worker: the worker busy-polls while the host sends and sleeps on
// the channel's doorbell after `worker.idle_threshold` without work, so an
// idle kvpd uses no CPU. The calling thread keeps the control plane
// (rescinds, host death) going in run().
//
// The host's SET burst right after negotiation needs nothing special: the
// channel is opened before anything is read, packets wait in the ring, and
// every SET is in the pool files before its reply is sent.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "kvp_service.h"
#include "uvmbus/channel/channel_pollable.h"
#include "uvmbus/channel/vmbus_connection.h"
#include "uvmbus/runtime/topology.h"
#include "uvmbus/runtime/worker.h"

namespace uvmbus::kvpd {

struct DaemonConfig {
  channel::ConnectionOptions connection;
  runtime::WorkerConfig worker;
  // Per direction; Linux uses 3 pages of data for an IC ring.
  uint32_t ring_bytes = 4 * 4096;
};

enum class DaemonError : uint8_t { none, connect_failed, no_device, open_failed, worker_failed };

const char* to_string(DaemonError error) noexcept;

struct DaemonCounters {
  std::atomic<uint64_t> replies_sent{0};
  std::atomic<uint64_t> send_failures{0};  // the reply did not fit the ring or the channel ended
  std::atomic<uint64_t> oversized{0};      // packets beyond an IC message, not answered
};

class KvpDaemon {
 public:
  struct StartResult;
  // Connects over `transport` and starts serving. `transport`, `memory`,
  // `service` and `topology` must outlive the daemon.
  [[nodiscard]] static StartResult start(channel::Transport& transport,
                                         channel::GuestMemory& memory, KvpService& service,
                                         const runtime::Topology& topology,
                                         const DaemonConfig& config);
  ~KvpDaemon();
  KvpDaemon(const KvpDaemon&) = delete;
  KvpDaemon& operator=(const KvpDaemon&) = delete;

  // Handles control messages until `stop` is set or the host is gone (then
  // returns false).
  bool run(const std::atomic<bool>& stop);

  [[nodiscard]] const DaemonCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] runtime::WorkerStats worker_stats() const noexcept { return worker_->stats(); }
  [[nodiscard]] channel::Channel& channel() noexcept { return *channel_; }

 private:
  // Answers each in-band packet in a copy and sends the reply back with the
  // host's transaction id.
  struct PacketHandler {
    KvpDaemon* daemon;
    void operator()(channel::Channel& channel, std::span<const channel::ReceivedPacket> packets) noexcept;
  };

  KvpDaemon(KvpService& service, std::unique_ptr<channel::VmbusConnection> connection,
            channel::Channel& channel);

  KvpService& service_;
  std::unique_ptr<channel::VmbusConnection> connection_;
  channel::Channel* channel_;
  channel::ChannelPollable<PacketHandler> pollable_;
  std::unique_ptr<runtime::Worker> worker_;
  bool attached_ = false;
  DaemonCounters counters_;
  std::array<std::byte, wire::kIcMaxMessageSize> packet_{};  // the worker's scratch
};

struct KvpDaemon::StartResult {
  DaemonError error;
  std::string detail;  // the lower layer's reason
  std::unique_ptr<KvpDaemon> daemon;
};

}  // namespace uvmbus::kvpd
