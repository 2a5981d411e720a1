// HostTransport: the host's end of a transport, what a VMBus server (the
// host emulator, or a test's scripted host) drives: the guest's control
// messages in and replies out, the guest's registered memory, and each open
// channel's doorbells. The loopback transport provides one in-process; the
// `user` socket transport one per connected guest (user_host_transport.h).
//
// The guest is untrusted: messages arrive as raw bytes of any length up to
// the transport's limit, and memory is reachable only through
// MappedGuestMemory's bounds-checked lookups.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "uvmbus/channel/mapped_guest_memory.h"
#include "uvmbus/channel/transport.h"

namespace uvmbus::channel {

// The host side of one channel's doorbells.
class HostChannelLink {
 public:
  virtual ~HostChannelLink() = default;
  // The host-to-guest interrupt. Never blocks.
  virtual void signal_guest() noexcept = 0;
  // Readable when the guest signalled this channel (HvSignalEvent).
  virtual int doorbell_fd() const noexcept = 0;
  // Consumes the pending signals of doorbell_fd().
  virtual void acknowledge_doorbell() noexcept = 0;
};

class HostTransport {
 public:
  virtual ~HostTransport() = default;

  // Sends one message to the guest.
  [[nodiscard]] virtual TransportStatus send_control(std::span<const std::byte> message) noexcept = 0;
  // Non-blocking: the next guest message into `buffer` (at least
  // wire::kMaxChannelMessageSize bytes); closed once the guest is gone.
  [[nodiscard]] virtual ControlReceive receive_control(std::span<std::byte> buffer) noexcept = 0;
  // Readable while receive_control() has something to report.
  virtual int control_fd() const noexcept = 0;

  // The guest's registered memory.
  virtual const MappedGuestMemory& guest_memory() const noexcept = 0;
  // The doorbells the guest attached for `relid`, or nullptr if it attached
  // none. The host keeps the link as long as it needs it.
  virtual std::shared_ptr<HostChannelLink> channel_link(uint32_t relid) = 0;

  // Disconnects: the guest sees EOF after the messages already sent.
  virtual void close() noexcept = 0;
};

}  // namespace uvmbus::channel
