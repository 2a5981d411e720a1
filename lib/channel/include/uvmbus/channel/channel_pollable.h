// ChannelPollable: a Channel as a runtime::Pollable, so a poll-mode worker
// can drive it. Each poll() takes one receive burst (at most the budget),
// hands the packets to `handler(channel, packets)` and gives them back to the
// ring; the interrupt-mode calls map onto the channel's inbound interrupt
// mask and its interrupt fd (see channel.h).
//
// Header-only: lib/channel uses only the runtime's Pollable interface, not
// its implementation.
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <span>
#include <utility>

#include "uvmbus/channel/channel.h"
#include "uvmbus/runtime/pollable.h"

namespace uvmbus::channel {

template <typename Handler>
  requires std::invocable<Handler&, Channel&, std::span<const ReceivedPacket>>
class ChannelPollable final : public runtime::Pollable {
 public:
  static constexpr std::size_t kMaxBurst = 64;

  // `channel` must outlive the pollable. The handler runs on the worker and
  // must not throw.
  ChannelPollable(Channel& channel, Handler handler)
      : channel_(channel), handler_(std::move(handler)) {}

  std::size_t poll(std::size_t budget) noexcept override {
    const std::size_t count =
        channel_.receive_burst(std::span(packets_).first(std::min(budget, kMaxBurst)));
    if (count != 0) {
      handler_(channel_, std::span<const ReceivedPacket>(packets_.data(), count));
    }
    channel_.release_received();
    return count;
  }

  bool try_enter_interrupt_mode() noexcept override { return channel_.try_enter_interrupt_mode(); }
  void exit_interrupt_mode() noexcept override { channel_.exit_interrupt_mode(); }
  int wake_fd() const noexcept override { return channel_.wake_fd(); }

 private:
  Channel& channel_;
  Handler handler_;
  std::array<ReceivedPacket, kMaxBurst> packets_{};  // reused: no per-poll setup
};

}  // namespace uvmbus::channel
