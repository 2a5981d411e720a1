// ChannelQueue: numbered packets through Channel::send_burst / receive_burst.
#include "channel/channel_queue.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <span>

#include "harness/spin.h"
#include "harness/tsc.h"

namespace uvmbus::perf::channel_bench {
namespace {

// How long drain() waits for room for its request and for the completion.
constexpr double kDrainTimeoutS = 5;
constexpr uint64_t kDrainCookie = 0xd4a1d4a1;
// Most packets one receive_burst() takes.
constexpr std::size_t kReceiveBurst = 64;

}  // namespace

uint64_t InterruptFdSignals::count() noexcept {
  uint64_t rung = 0;
  // Non-blocking: fails with EAGAIN while the counter is 0.
  while (read(fd_, &rung, sizeof rung) == static_cast<ssize_t>(sizeof rung)) {
    total_ += rung;
  }
  return total_;
}

ChannelQueue::ChannelQueue(channel::Channel& channel, HostSignals& host_signals, std::size_t payload_bytes,
                           std::size_t max_burst)
    : channel_(channel),
      host_signals_(host_signals),
      max_burst_(max_burst),
      payload_stride_((payload_bytes + 63) & ~std::size_t{63}),
      payloads_(make_line_buffer(payload_stride_ * max_burst)),
      gathers_(std::make_unique<iovec[]>(max_burst)),
      items_(std::make_unique<channel::SendItem[]>(max_burst)),
      received_packets_(std::make_unique<channel::ReceivedPacket[]>(kReceiveBurst)),
      guest_signals_before_(channel.stats().signals_sent),
      host_signals_before_(host_signals.count()) {
  for (std::size_t i = 0; i < max_burst; ++i) {
    gathers_[i] = iovec{.iov_base = payloads_.get() + i * payload_stride_, .iov_len = payload_bytes};
    items_[i] = channel::SendItem{.kind = channel::SendKind::inband, .payload = std::span(&gathers_[i], 1)};
  }
}

void ChannelQueue::fail(channel::SendStatus status) noexcept {
  const char* healthy = nullptr;
  failure_.compare_exchange_strong(healthy, channel::to_string(status), std::memory_order_relaxed);
}

std::size_t ChannelQueue::send(uint64_t first, std::size_t count) noexcept {
  count = std::min(count, max_burst_);
  // Number the burst before writing any of it (as the ring scenario does).
  for (std::size_t i = 0; i < count; ++i) {
    const uint64_t sequence = first + i;
    std::memcpy(payloads_.get() + i * payload_stride_, &sequence, sizeof sequence);
  }
  const channel::SendResult result = channel_.send_burst(std::span(items_.get(), count));
  if (result.status != channel::SendStatus::ok && result.status != channel::SendStatus::ring_full) {
    fail(result.status);
  }
  sent_ += result.sent;
  return result.sent;
}

std::size_t ChannelQueue::receive(std::size_t count, SequenceCheck& check) noexcept {
  const std::size_t got =
      channel_.receive_burst(std::span(received_packets_.get(), std::min(count, kReceiveBurst)));
  std::size_t numbered = 0;
  for (std::size_t i = 0; i < got; ++i) {
    const channel::ReceivedPacket& packet = received_packets_[i];
    if (packet.kind != channel::PacketKind::inband || packet.payload.size() < sizeof(uint64_t)) {
      continue;  // not an echoed packet
    }
    uint64_t sequence = 0;
    std::memcpy(&sequence, packet.payload.data(), sizeof sequence);
    check.see(sequence);
    ++numbered;
  }
  if (got == 0 && channel_.ended()) {
    failure_.store(channel::to_string(channel_.end_reason()), std::memory_order_relaxed);
  }
  received_ += numbered;
  return numbered;
}

bool ChannelQueue::drain() noexcept {
  const uint64_t marker = ~uint64_t{0};
  const iovec segment{.iov_base = const_cast<uint64_t*>(&marker), .iov_len = sizeof marker};
  const channel::SendItem request{
      .kind = channel::SendKind::request, .payload = std::span(&segment, 1), .cookie = kDrainCookie};
  const uint64_t timeout = tsc_ticks(kDrainTimeoutS);
  const bool requested = spin_until(
      [&] {
        const channel::SendResult result = channel_.send_burst(std::span(&request, 1));
        if (result.status != channel::SendStatus::ok && result.status != channel::SendStatus::ring_full) {
          fail(result.status);
          return true;
        }
        return result.sent == 1;
      },
      timeout);
  if (!requested || failure() != nullptr) {
    return false;
  }
  bool completed = false;
  const bool answered = spin_until(
      [&] {
        const std::size_t got = channel_.receive_burst(std::span(received_packets_.get(), kReceiveBurst));
        for (std::size_t i = 0; i < got; ++i) {
          const channel::ReceivedPacket& packet = received_packets_[i];
          completed = completed || (packet.kind == channel::PacketKind::completion &&
                                    packet.status == channel::CompletionStatus::ok &&
                                    packet.cookie == kDrainCookie);
        }
        return completed || channel_.ended();
      },
      timeout);
  channel_.release_received();
  return answered && completed;
}

uint64_t ChannelQueue::guest_signals() const noexcept {
  return channel_.stats().signals_sent - guest_signals_before_;
}

uint64_t ChannelQueue::host_signals() const noexcept { return host_signals_.count() - host_signals_before_; }

}  // namespace uvmbus::perf::channel_bench
