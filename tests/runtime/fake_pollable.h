// Test support for lib/runtime: a Pollable with scriptable work that plays
// both sides of the interrupt-mask protocol (a peer adds work and signals the
// eventfd only while the pollable is in interrupt mode) and records what the
// worker did to it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "uvmbus/runtime/pollable.h"

namespace uvmbus::runtime::test {

class FakePollable : public Pollable {
 public:
  enum class WakeFd : bool { none, eventfd };

  explicit FakePollable(WakeFd wake = WakeFd::eventfd);
  ~FakePollable() override;
  FakePollable(const FakePollable&) = delete;
  FakePollable& operator=(const FakePollable&) = delete;

  // Peer side, any thread: queues `units` of work and signals the wake fd if
  // the pollable is in interrupt mode.
  void add_work(uint64_t units);
  // Every poll() does its whole budget from now on.
  void make_endless() { endless_.store(true, std::memory_order_relaxed); }
  // The next `count` try_enter_interrupt_mode() calls refuse, as if work had raced in.
  void refuse_next_entries(int count) { refusals_left_.store(count, std::memory_order_relaxed); }

  std::size_t poll(std::size_t budget) noexcept override;
  bool try_enter_interrupt_mode() noexcept override;
  void exit_interrupt_mode() noexcept override;
  int wake_fd() const noexcept override { return wake_fd_; }

  // What the worker did (read from any thread).
  uint64_t polls() const { return polls_.load(std::memory_order_relaxed); }
  uint64_t units_done() const { return units_done_.load(std::memory_order_relaxed); }
  std::size_t largest_budget() const { return largest_budget_.load(std::memory_order_relaxed); }
  int last_cpu() const { return last_cpu_.load(std::memory_order_relaxed); }
  uint64_t entries() const { return entries_.load(std::memory_order_relaxed); }
  uint64_t exits() const { return exits_.load(std::memory_order_relaxed); }
  bool in_interrupt_mode() const { return in_interrupt_mode_.load(std::memory_order_relaxed); }
  // poll() in interrupt mode, or an entry while already entered.
  uint64_t protocol_violations() const {
    return protocol_violations_.load(std::memory_order_relaxed);
  }

 private:
  int wake_fd_ = -1;
  std::atomic<bool> endless_{false};
  std::atomic<int> refusals_left_{0};
  // The Dekker pair that makes the protocol lossless: the peer adds work,
  // then reads `unmasked_`; the pollable sets `unmasked_`, then reads `pending_`.
  // Both seq_cst, so one of them sees the other's store.
  std::atomic<uint64_t> pending_{0};
  std::atomic<bool> unmasked_{false};

  std::atomic<bool> in_interrupt_mode_{false};
  std::atomic<uint64_t> polls_{0};
  std::atomic<uint64_t> units_done_{0};
  std::atomic<std::size_t> largest_budget_{0};
  std::atomic<int> last_cpu_{-1};
  std::atomic<uint64_t> entries_{0};
  std::atomic<uint64_t> exits_{0};
  std::atomic<uint64_t> protocol_violations_{0};
};

}  // namespace uvmbus::runtime::test
