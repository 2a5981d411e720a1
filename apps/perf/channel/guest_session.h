// The benchmark's guest: guest memory, a transport (the embedded host's
// loopback pair, or the `user` socket of a running uvmbus-hostd), a VMBus
// connection over it, and one open channel to the device of a given class.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "uvmbus/channel/channel.h"
#include "uvmbus/channel/guest_memory.h"
#include "uvmbus/channel/transport.h"
#include "uvmbus/channel/vmbus_connection.h"
#include "uvmbus/wire/guid.h"

namespace uvmbus::perf::channel_bench {

class GuestSession {
 public:
  // Connects over `transport` (negotiation and offers). `ring_bytes` sizes
  // the guest memory for one channel with data areas that big. Throws
  // std::runtime_error saying what failed.
  GuestSession(std::unique_ptr<channel::Transport> transport, std::size_t ring_bytes);
  // Connects to the host listening on the `user` socket at `socket_path`.
  static std::unique_ptr<GuestSession> connect_user(const std::string& socket_path, std::size_t ring_bytes);
  ~GuestSession();
  GuestSession(const GuestSession&) = delete;
  GuestSession& operator=(const GuestSession&) = delete;

  // Opens the primary channel of the first offered device of `class_id`,
  // with both data areas `ring_bytes`. Throws std::runtime_error if there is
  // none or it does not open.
  channel::Channel& open(const wire::Guid& class_id, const char* device_name);

 private:
  channel::GuestMemory memory_;
  std::unique_ptr<channel::Transport> transport_;
  std::unique_ptr<channel::VmbusConnection> connection_;  // destroyed first: closes the channel
  std::size_t ring_bytes_ = 0;
};

}  // namespace uvmbus::perf::channel_bench
