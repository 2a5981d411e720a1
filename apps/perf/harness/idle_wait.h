// What a consumer does when it finds its queue empty, in either consumer
// mode. Shared by the stream and ping-pong drivers.
#pragma once

#include "harness/doorbell.h"
#include "harness/queue.h"
#include "harness/spin.h"

namespace uvmbus::perf {

// A sleeping consumer re-checks its queue at least this often, so a lost
// wakeup shows up as a stall instead of a hang.
inline constexpr int kSleepTimeoutMs = 1000;

// Poll mode pauses once. Interrupt mode asks the producer for a signal and
// sleeps on `bell` until rung; the caller re-checks the queue either way.
// Returns false if the sleep timed out.
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

}  // namespace uvmbus::perf
