// A lib/channel Channel as a benchmark queue, for the drivers that run
// against a device on a host worker (run_stream_to_sink, run_echo). send()
// numbers a burst of staged payloads and hands it to Channel::send_burst
// (one publish, at most one doorbell); receive() takes echoed packets with
// Channel::receive_burst and checks their numbers; drain() sends one
// request and waits for its completion, which the device sends only after
// it has consumed everything before it (rings deliver in order).
//
// Signals are counted from the stats: the guest's doorbells from
// ChannelStats::signals_sent, the host's from a HostSignals source (the
// embedded server's per-channel counter, or the guest's interrupt eventfd
// for a host in another process).
#pragma once

#include <sys/uio.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "harness/line_buffer.h"
#include "harness/queue.h"
#include "uvmbus/channel/channel.h"

namespace uvmbus::perf::channel_bench {

// Doorbells the host has rung to the guest on one channel, so far.
class HostSignals {
 public:
  virtual ~HostSignals() = default;
  virtual uint64_t count() noexcept = 0;
};

// Counts the host's doorbells by reading the channel's interrupt eventfd
// (the guest polls, so nothing else consumes it). The count read is the sum
// of the host's eventfd writes, one per doorbell.
class InterruptFdSignals final : public HostSignals {
 public:
  explicit InterruptFdSignals(int fd) noexcept : fd_(fd) {}
  uint64_t count() noexcept override;

 private:
  int fd_;
  uint64_t total_ = 0;
};

class ChannelQueue {
 public:
  // `host_signals` must outlive the queue. Counting starts here.
  ChannelQueue(channel::Channel& channel, HostSignals& host_signals, std::size_t payload_bytes,
               std::size_t max_burst);
  ChannelQueue(const ChannelQueue&) = delete;
  ChannelQueue& operator=(const ChannelQueue&) = delete;

  std::size_t send(uint64_t first, std::size_t count) noexcept;
  std::size_t receive(std::size_t count, SequenceCheck& check) noexcept;
  bool drain() noexcept;
  // Guest and host doorbells since construction (after the run).
  uint64_t signals() const noexcept { return guest_signals() + host_signals(); }
  uint64_t guest_signals() const noexcept;
  uint64_t host_signals() const noexcept;
  // Packets moved through the channel in either direction (drain's own excluded).
  uint64_t packets() const noexcept { return sent_ + received_; }
  const char* failure() const noexcept { return failure_.load(std::memory_order_relaxed); }

 private:
  void fail(channel::SendStatus status) noexcept;

  channel::Channel& channel_;
  HostSignals& host_signals_;
  const std::size_t max_burst_;
  const std::size_t payload_stride_;  // staged payloads start on cache lines
  LineBuffer payloads_;               // max_burst payloads, sequence number first
  std::unique_ptr<iovec[]> gathers_;
  std::unique_ptr<channel::SendItem[]> items_;
  std::unique_ptr<channel::ReceivedPacket[]> received_packets_;
  uint64_t guest_signals_before_ = 0;
  uint64_t host_signals_before_ = 0;
  uint64_t sent_ = 0;
  uint64_t received_ = 0;
  std::atomic<const char*> failure_{nullptr};
};

static_assert(DrainableQueue<ChannelQueue>);

}  // namespace uvmbus::perf::channel_bench
