// What a side does when it cannot make progress: a consumer that finds its
// queue empty, a producer that finds it full. Polling pauses once; in
// interrupt mode the side asks its peer for a signal and sleeps on a doorbell
// until rung. Shared by the stream and ping-pong drivers.
#pragma once

#include "harness/doorbell.h"
#include "harness/queue.h"
#include "harness/spin.h"

namespace uvmbus::perf {

// A sleeping side re-checks its queue at least this often, so a lost wakeup
// shows up as a stall instead of a hang.
inline constexpr int kSleepTimeoutMs = 1000;

// The caller re-checks the queue either way. Returns false if the sleep
// timed out.
template <PacketQueue Q>
bool wait_while_empty(Q& queue, Consumer mode, Doorbell* bell) noexcept {
  if constexpr (SleepingQueue<Q>) {
    if (mode == Consumer::interrupt) {
      bool rung = true;
      if (queue.request_signal()) {
        rung = bell->wait(kSleepTimeoutMs);
      }
      queue.cancel_signal();
      return rung;
    }
  }
  cpu_relax();
  return true;
}

// The producer's side of the same, for queues whose consumer can signal
// freed space; other queues (and poll mode) poll.
template <PacketQueue Q>
bool wait_while_full(Q& queue, Consumer mode, Doorbell* bell) noexcept {
  if constexpr (SpaceSignallingQueue<Q>) {
    if (mode == Consumer::interrupt) {
      bool rung = true;
      if (queue.request_space_signal()) {
        rung = bell->wait(kSleepTimeoutMs);
      }
      queue.cancel_space_signal();
      return rung;
    }
  }
  cpu_relax();
  return true;
}

}  // namespace uvmbus::perf
