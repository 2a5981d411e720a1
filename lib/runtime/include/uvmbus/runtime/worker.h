// Worker: one thread pinned to one CPU, driving a set of Pollables.
//
// Each round polls every attached pollable once with a budget of
// `config.burst` (round-robin, so one busy pollable cannot starve the others).
// After `idle_threshold` without work the worker tries to sleep: it calls
// try_enter_interrupt_mode() on every pollable; if one refuses (work raced
// in), exit_interrupt_mode() goes to every pollable tried and polling goes on;
// otherwise it blocks in epoll_wait over all wake fds and its own eventfd,
// drains what is readable, calls exit_interrupt_mode() on all and polls again
// at once. idle_threshold 0 sleeps after every idle round (interrupt mode);
// kNeverSleep never sleeps (pure poll mode). A pollable without a wake fd
// keeps the worker polling.
//
// Control path. attach(), detach() and stop() may be called from any thread
// but the worker's own (they are serialised among themselves). A change
// builds a new immutable set of pollables, publishes it with one atomic
// store, wakes the worker through its eventfd, and waits until the worker
// has adopted it between two rounds. The poll loop never takes a lock: it
// loads one pointer per round. When detach() returns, the worker no longer
// touches the pollable (and has left it in poll mode), so it may be closed.
//
// Memory ordering (the labels appear at the loads and stores in worker.cc and
// poll_loop.cc):
//   C-PUB   control: store of the new set (release). Pairs with W-ADOPT, the
//           worker's load of it once per round (acquire): the worker sees the
//           set fully built.
//   W-ACK   worker: store of the adopted set (release), after its last use of
//           the previous one. Pairs with C-WAIT, the control thread's load
//           (acquire): every call the worker made on a detached pollable
//           happens before detach() returns.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "uvmbus/runtime/expected.h"
#include "uvmbus/runtime/pollable.h"
#include "uvmbus/runtime/runtime_error.h"
#include "uvmbus/runtime/topology.h"
#include "uvmbus/runtime/worker_stats.h"

namespace uvmbus::runtime {

namespace detail {
struct PollSet;
}

// Pure poll mode: the worker never sleeps.
inline constexpr std::chrono::nanoseconds kNeverSleep = std::chrono::nanoseconds::max();

// Default idle spin before sleeping: about what one sleep/wake cycle costs on
// our reference machine (a 16-34 us wake-up plus the peer's ~10 us eventfd
// write; bench/runtime_wakeup_bench, docs/runtime.md), so an idle worker
// spends at most about one wake-up's worth of CPU before it sleeps.
inline constexpr std::chrono::nanoseconds kDefaultIdleThreshold = std::chrono::microseconds(50);

struct WorkerConfig {
  unsigned cpu = 0;           // operating-system CPU number to pin to
  std::size_t burst = 32;     // budget of each poll() call; at least 1
  std::chrono::nanoseconds idle_threshold = kDefaultIdleThreshold;  // >= 0, or kNeverSleep
};

class Worker {
 public:
  // Creates the worker thread, pins it to config.cpu and starts polling (an
  // empty set at first). `topology` is used only during start. Errors:
  // invalid_config, cpu_out_of_range, pin_failed, eventfd_failed,
  // epoll_failed, thread_failed.
  static Expected<std::unique_ptr<Worker>, RuntimeError> start(const Topology& topology,
                                                                const WorkerConfig& config);

  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  // Stops the worker (see stop()); pollables still attached are left as they are.
  ~Worker();

  // Adds `pollable` to the set; returns once the worker has adopted it (it has
  // called exit_interrupt_mode() on it and will poll it from the next round).
  // The pollable and its wake fd must stay valid until detach() returns or
  // the worker is destroyed. Errors: already_attached, worker_stopped,
  // epoll_failed, on_worker_thread.
  Expected<void, RuntimeError> attach(Pollable& pollable);

  // Removes `pollable`; returns once the worker no longer touches it. The
  // pollable is left in poll mode. Errors: not_attached, on_worker_thread.
  Expected<void, RuntimeError> detach(Pollable& pollable);

  // Ends the poll loop (waking a sleeping worker) and joins the thread.
  // Idempotent. Precondition: not called from the worker thread.
  void stop() noexcept;

  // Counters as of the last completed round; callable from any thread.
  WorkerStats stats() const noexcept { return stats_.snapshot(); }
  const WorkerConfig& config() const noexcept { return config_; }

 private:
  Worker(const WorkerConfig& config, int kick_fd, int epoll_fd);

  // Control path (worker.cc), under control_mutex_.
  Expected<void, RuntimeError> replace_set(std::unique_ptr<const detail::PollSet> next);
  bool on_worker_thread() const noexcept;
  void kick() const noexcept;

  // Poll loop (poll_loop.cc), on the worker thread only.
  void run() noexcept;
  const detail::PollSet* adopt(const detail::PollSet* set) noexcept;
  // Enters interrupt mode on the whole set and blocks until a wake fd or the
  // kick fd is readable; false (without blocking) if a pollable refused.
  bool try_sleep(const detail::PollSet& set, WorkerStats& totals) noexcept;

  // Fixed at start.
  const WorkerConfig config_;
  const uint64_t idle_threshold_cycles_;
  const int kick_fd_;   // the worker's eventfd: stop and control commands
  const int epoll_fd_;  // the kick fd and every distinct wake fd of the set
  std::thread::id worker_thread_id_;

  // Start handshake: the new thread sets pin_error_ if pinning failed, then
  // pin_reported_ (the worker object outlives the thread, unlike start()'s frame).
  std::optional<RuntimeError> pin_error_;
  std::atomic<bool> pin_reported_{false};

  // Control threads only.
  std::mutex control_mutex_;
  std::thread thread_;                                 // joinable while running
  std::unique_ptr<const detail::PollSet> current_set_;  // the set the worker has (or had)

  // Written by control threads, read by the worker once per round.
  alignas(128) std::atomic<const detail::PollSet*> published_set_;
  // Release by stop(), acquire by the worker once per round. It publishes no
  // data of its own (join() orders what the worker did); stop() writes the
  // kick eventfd after the store, so a worker woken by the kick sees it.
  std::atomic<bool> stop_requested_{false};

  // Written by the worker on adoption, read by the control thread waiting.
  alignas(128) std::atomic<const detail::PollSet*> adopted_set_;

  alignas(128) detail::AtomicWorkerStats stats_;
};

}  // namespace uvmbus::runtime
