// The loopback transport: an in-process connected pair. The guest end is a
// Transport, the host end a HostTransport; control messages travel through
// two mutex-guarded queues, each with an eventfd that is readable exactly
// while its queue has something to report; each attached channel gets two
// eventfd doorbells. Registered memory is mapped a second time for the host
// end from the region's memfd, as the socket transport's host will do.
//
// Whatever plays the host (a test's scripted host, or the host library on a
// thread) is supplied by the caller; lib/channel never depends on it.
// Destroying either end is EOF for the other; queued messages are still
// delivered first.
#pragma once

#include <cstddef>
#include <memory>

#include "uvmbus/channel/host_transport.h"
#include "uvmbus/channel/transport.h"

namespace uvmbus::channel {

// Largest message the host end accepts: above wire::kMaxChannelMessageSize so
// tests can play a host that sends oversized messages.
inline constexpr std::size_t kLoopbackMaxHostMessage = 4096;
// Messages a queue holds before send_control() reports busy.
inline constexpr std::size_t kLoopbackQueueDepth = 4096;

struct LoopbackPair {
  std::unique_ptr<Transport> guest;
  std::unique_ptr<HostTransport> host;
};

// Fails only if eventfds cannot be created (the error is errno).
Expected<LoopbackPair, int> make_loopback_pair();

}  // namespace uvmbus::channel
