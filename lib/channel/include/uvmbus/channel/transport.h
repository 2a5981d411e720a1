// Transport: how the guest side of lib/channel reaches a VMBus host. Four
// jobs, one interface:
//   control messages  exact VMBus channel-message bytes, <= 240 each, out
//                     (HvPostMessage) and in (the SynIC message slot), with
//                     an fd to wait on and EOF when the host is gone;
//   memory            registering guest-physical regions, so that the page
//                     numbers in GPADLs and GPA-direct packets resolve on the
//                     host side (loopback shares the process; the socket
//                     transport passes each region's memfd);
//   doorbells         per channel, "signal the host" (HvSignalEvent) and an
//                     fd that becomes readable when the host interrupts us.
//
// Implementations: `loopback` (in-process pair, loopback_transport.h) and
// `user` (unix socket + memfd + eventfd, user_transport.h). A real Hyper-V guest reaches
// its devices through uio_hv_generic, where the kernel runs the control
// protocol itself: that path needs only a ChannelLink and the mapped rings
// (Channel takes exactly those), not the control half of Transport.
//
// Threads: the control half and attach_channel() belong to the control-plane
// thread. A ChannelLink is used by the channel's worker (signal_host,
// interrupt_fd) and by the control plane (wake_poller) at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "uvmbus/channel/expected.h"
#include "uvmbus/channel/guest_memory_region.h"
#include "uvmbus/channel/offer.h"

namespace uvmbus::channel {

enum class TransportStatus : uint8_t {
  ok,
  empty,      // receive: nothing queued now
  oversized,  // receive: the peer sent a message over 240 bytes; it was dropped
  closed,     // the peer is gone (EOF); nothing more will arrive
  busy,       // send: the peer did not take the message within the transport's bound
  invalid,    // the arguments cannot be sent (e.g. a message over 240 bytes)
  failed,     // a system call failed
};

const char* to_string(TransportStatus status) noexcept;

struct ControlReceive {
  TransportStatus status = TransportStatus::empty;
  std::size_t size = 0;  // bytes copied into the buffer when status is ok
};

// Sends control messages. The whole of what VmbusClient needs from a
// transport, so the client can be driven without one.
class ControlSender {
 public:
  virtual ~ControlSender() = default;
  // Sends one whole message, or nothing. Never blocks longer than the
  // transport's own bound.
  [[nodiscard]] virtual TransportStatus send_control(std::span<const std::byte> message) noexcept = 0;
};

// The doorbells of one channel.
class ChannelLink {
 public:
  virtual ~ChannelLink() = default;
  // HvSignalEvent: there is work for the host on this channel's rings. The
  // only syscall on the data path; never blocks.
  virtual void signal_host() noexcept = 0;
  // Readable when the host has interrupted this channel (new data, or space
  // freed in the outbound ring).
  virtual int interrupt_fd() const noexcept = 0;
  // Consumes the pending interrupts of interrupt_fd().
  virtual void acknowledge_interrupts() noexcept = 0;
  // Makes interrupt_fd() readable from the guest side, so a poller asleep on
  // it wakes up (used when the channel ends). Any thread.
  virtual void wake_poller() noexcept = 0;
};

class Transport : public ControlSender {
 public:
  // Non-blocking: copies the next host message into `buffer`, which must hold
  // wire::kMaxChannelMessageSize bytes. After the host is gone and every
  // queued message was received, returns closed for ever.
  [[nodiscard]] virtual ControlReceive receive_control(std::span<std::byte> buffer) noexcept = 0;
  // Readable while receive_control() has something to report.
  virtual int control_fd() const noexcept = 0;

  // Makes `region` reachable by the host (by its GPAs). The region must stay
  // alive while the host may use it.
  [[nodiscard]] virtual TransportStatus register_memory(const GuestMemoryRegion& region) noexcept = 0;

  // Creates the doorbells for `offer`'s channel; called before OpenChannel is
  // sent. Destroying the link detaches it.
  virtual Expected<std::unique_ptr<ChannelLink>, TransportStatus> attach_channel(
      const Offer& offer) = 0;
};

}  // namespace uvmbus::channel
