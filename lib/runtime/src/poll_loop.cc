// The worker's poll loop: rounds over the pollable set, busy/idle accounting
// with one clock read per round, and the sleep/wake path (interrupt mode and
// epoll_wait). Runs on the worker thread only; no locks, allocation or
// syscalls except epoll_wait and the eventfd reads around a sleep, and the
// futex wake-up of a control thread when a new set is adopted.
#include <sys/epoll.h>
#include <unistd.h>

#include <cstdint>

#include "poll_set.h"
#include "uvmbus/runtime/cycle_clock.h"
#include "uvmbus/runtime/worker.h"

namespace uvmbus::runtime {

namespace {

// Readable fds handled per wake. More stay readable (level-triggered) and
// end the next sleep at once.
constexpr int kMaxWakeEvents = 64;

}  // namespace

void Worker::run() noexcept {
  WorkerStats totals;
  const detail::PollSet* set = adopt(published_set_.load(std::memory_order_acquire));
  uint64_t round_start = read_cycles();
  uint64_t last_work = round_start;
  bool last_round_busy = false;

  while (!stop_requested_.load(std::memory_order_acquire)) {
    // W-ADOPT: acquire; pairs with C-PUB (see worker.h).
    const detail::PollSet* published = published_set_.load(std::memory_order_acquire);
    if (published != set) {
      set = adopt(published);
    }

    // The one clock read of the round: it closes the previous round's
    // accounting and stamps this one.
    const uint64_t now = read_cycles();
    (last_round_busy ? totals.busy_cycles : totals.idle_cycles) += now - round_start;
    round_start = now;

    std::size_t work = 0;
    for (Pollable* pollable : set->pollables) {
      work += pollable->poll(config_.burst);
    }
    ++totals.rounds;
    totals.work_units += work;
    last_round_busy = work != 0;

    if (work != 0) {
      last_work = now;
    } else if (set->can_sleep && now - last_work >= idle_threshold_cycles_) {
      const uint64_t sleep_start = read_cycles();
      totals.idle_cycles += sleep_start - round_start;
      round_start = sleep_start;
      if (try_sleep(*set, totals)) {
        // Awake: spin for a whole threshold again before the next sleep.
        round_start = last_work = read_cycles();
        totals.asleep_cycles += round_start - sleep_start;
      }
    }
    stats_.publish(totals);
  }
}

const detail::PollSet* Worker::adopt(const detail::PollSet* set) noexcept {
  if (set->attached != nullptr) {
    set->attached->exit_interrupt_mode();
  }
  // W-ACK: release, after the last use of the previous set; pairs with C-WAIT.
  adopted_set_.store(set, std::memory_order_release);
  adopted_set_.notify_all();
  return set;
}

bool Worker::try_sleep(const detail::PollSet& set, WorkerStats& totals) noexcept {
  const std::size_t count = set.pollables.size();
  for (std::size_t entered = 0; entered < count; ++entered) {
    if (!set.pollables[entered]->try_enter_interrupt_mode()) {
      // Work raced in: every pollable tried (the refusing one too) back to
      // poll mode.
      for (std::size_t i = 0; i <= entered; ++i) {
        set.pollables[i]->exit_interrupt_mode();
      }
      ++totals.refused_sleeps;
      return false;
    }
  }

  ++totals.sleeps;
  epoll_event events[kMaxWakeEvents];
  const int ready = epoll_wait(epoll_fd_, events, kMaxWakeEvents, -1);
  bool peer_signalled = false;
  for (int i = 0; i < ready; ++i) {
    // Drain the eventfd counter so the fd stops being readable. A failed read
    // (already drained) leaves nothing to do.
    uint64_t counter;
    const ssize_t drained = read(events[i].data.fd, &counter, sizeof(counter));
    static_cast<void>(drained);
    peer_signalled |= events[i].data.fd != kick_fd_;
  }
  for (Pollable* pollable : set.pollables) {
    pollable->exit_interrupt_mode();
  }
  if (peer_signalled) {
    ++totals.wakeups;
  }
  return true;
}

}  // namespace uvmbus::runtime
