// Worker lifecycle and control path: start (thread creation and pinning),
// attach/detach by publishing a new pollable set, stop.
#include "uvmbus/runtime/worker.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <system_error>
#include <utility>
#include <vector>

#include "poll_set.h"
#include "uvmbus/runtime/cycle_clock.h"

namespace uvmbus::runtime {

namespace {

bool contains(const std::vector<int>& fds, int fd) {
  return std::find(fds.begin(), fds.end(), fd) != fds.end();
}

Unexpected<RuntimeError> system_error(RuntimeErrorCode code) noexcept {
  return Unexpected(RuntimeError{code, 0, errno});
}

}  // namespace

Expected<std::unique_ptr<Worker>, RuntimeError> Worker::start(const Topology& topology,
                                                               const WorkerConfig& config) {
  if (config.burst == 0 || config.idle_threshold < std::chrono::nanoseconds::zero()) {
    return Unexpected(RuntimeError{RuntimeErrorCode::invalid_config});
  }
  const int kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (kick_fd < 0) {
    return system_error(RuntimeErrorCode::eventfd_failed);
  }
  const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) {
    const auto failure = system_error(RuntimeErrorCode::epoll_failed);
    close(kick_fd);
    return failure;
  }
  // From here the worker owns both fds.
  std::unique_ptr<Worker> worker(new Worker(config, kick_fd, epoll_fd));
  epoll_event kick_event{.events = EPOLLIN, .data = {.fd = kick_fd}};
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, kick_fd, &kick_event) != 0) {
    return system_error(RuntimeErrorCode::epoll_failed);
  }

  // The thread pins itself, reports the outcome, and polls only if pinned.
  try {
    worker->thread_ = std::thread([&topology, self = worker.get()] {
      const Expected<void, RuntimeError> bound = topology.bind_current_thread(self->config_.cpu);
      if (!bound) {
        self->pin_error_ = bound.error();
      }
      // S-PIN: release; pairs with the acquire wait below, which then sees pin_error_.
      self->pin_reported_.store(true, std::memory_order_release);
      self->pin_reported_.notify_one();
      if (bound) {
        self->run();
      }
    });
  } catch (const std::system_error& failure) {
    return Unexpected(
        RuntimeError{RuntimeErrorCode::thread_failed, 0, failure.code().value()});
  }
  worker->pin_reported_.wait(false, std::memory_order_acquire);
  if (worker->pin_error_) {
    worker->thread_.join();
    return Unexpected(*worker->pin_error_);
  }
  worker->worker_thread_id_ = worker->thread_.get_id();
  return worker;
}

Worker::Worker(const WorkerConfig& config, int kick_fd, int epoll_fd)
    : config_(config),
      // kNeverSleep saturates to UINT64_MAX cycles, an idle time never reached.
      idle_threshold_cycles_(to_cycles(config.idle_threshold)),
      kick_fd_(kick_fd),
      epoll_fd_(epoll_fd),
      current_set_(detail::make_poll_set({}, nullptr)),
      published_set_(current_set_.get()),
      adopted_set_(current_set_.get()) {}

Worker::~Worker() {
  stop();
  close(epoll_fd_);
  close(kick_fd_);
}

Expected<void, RuntimeError> Worker::attach(Pollable& pollable) {
  if (on_worker_thread()) {
    return Unexpected(RuntimeError{RuntimeErrorCode::on_worker_thread});
  }
  std::lock_guard lock(control_mutex_);
  if (!thread_.joinable()) {
    return Unexpected(RuntimeError{RuntimeErrorCode::worker_stopped});
  }
  std::vector<Pollable*> pollables = current_set_->pollables;
  if (std::find(pollables.begin(), pollables.end(), &pollable) != pollables.end()) {
    return Unexpected(RuntimeError{RuntimeErrorCode::already_attached});
  }
  pollables.push_back(&pollable);
  return replace_set(detail::make_poll_set(std::move(pollables), &pollable));
}

Expected<void, RuntimeError> Worker::detach(Pollable& pollable) {
  if (on_worker_thread()) {
    return Unexpected(RuntimeError{RuntimeErrorCode::on_worker_thread});
  }
  std::lock_guard lock(control_mutex_);
  std::vector<Pollable*> pollables = current_set_->pollables;
  const auto found = std::find(pollables.begin(), pollables.end(), &pollable);
  if (found == pollables.end()) {
    return Unexpected(RuntimeError{RuntimeErrorCode::not_attached});
  }
  pollables.erase(found);
  return replace_set(detail::make_poll_set(std::move(pollables), nullptr));
}

void Worker::stop() noexcept {
  assert(!on_worker_thread());
  std::lock_guard lock(control_mutex_);
  if (!thread_.joinable()) {
    return;
  }
  stop_requested_.store(true, std::memory_order_release);
  kick();
  thread_.join();
}

Expected<void, RuntimeError> Worker::replace_set(std::unique_ptr<const detail::PollSet> next) {
  const detail::PollSet& previous = *current_set_;
  // Register new wake fds before the worker can sleep on the new set.
  std::vector<int> added;
  for (const int fd : next->wake_fds) {
    if (contains(previous.wake_fds, fd)) {
      continue;
    }
    epoll_event event{.events = EPOLLIN, .data = {.fd = fd}};
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
      const auto failure = system_error(RuntimeErrorCode::epoll_failed);
      for (const int undo : added) {
        epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, undo, nullptr);
      }
      return failure;
    }
    added.push_back(fd);
  }

  // C-PUB: release; pairs with W-ADOPT (see worker.h).
  published_set_.store(next.get(), std::memory_order_release);
  if (thread_.joinable()) {
    kick();
    // C-WAIT: acquire; pairs with W-ACK. After it the worker no longer uses
    // the previous set or any pollable missing from the new one.
    const detail::PollSet* adopted = adopted_set_.load(std::memory_order_acquire);
    while (adopted != next.get()) {
      adopted_set_.wait(adopted, std::memory_order_acquire);
      adopted = adopted_set_.load(std::memory_order_acquire);
    }
  }

  // Unregister wake fds nobody in the new set uses (the worker is done with them).
  for (const int fd : previous.wake_fds) {
    if (!contains(next->wake_fds, fd)) {
      epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    }
  }
  current_set_ = std::move(next);
  return {};
}

bool Worker::on_worker_thread() const noexcept {
  return std::this_thread::get_id() == worker_thread_id_;
}

void Worker::kick() const noexcept {
  const uint64_t one = 1;
  // Cannot fail short of a counter overflow (2^64 - 2 unread kicks).
  const ssize_t written = write(kick_fd_, &one, sizeof(one));
  static_cast<void>(written);
}

}  // namespace uvmbus::runtime
