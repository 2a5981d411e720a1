// Pollable: what a poll-mode worker drives. A channel (or a device, or an
// app's queue) implements it; the runtime calls it from one pinned thread.
//
// The contract follows the VMBus interrupt-mask protocol: while polling, the
// pollable keeps the peer from signalling it (interrupt mask set). Before the
// worker sleeps, try_enter_interrupt_mode() clears the mask and re-checks; it
// returns false if work raced in, and the worker keeps polling. After waking
// (or after a refused entry) exit_interrupt_mode() sets the mask again.
//
// Threads: poll(), try_enter_interrupt_mode() and exit_interrupt_mode() are
// called only by the worker the pollable is attached to, between attach and
// the return of detach. The worker calls exit_interrupt_mode() once when it
// takes the pollable over, so a pollable may be attached in either mode; it
// leaves the pollable in poll mode when it lets go. wake_fd() is called by the
// thread that attaches or detaches, and must not change while attached.
#pragma once

#include <cstddef>

namespace uvmbus::runtime {

class Pollable {
 public:
  virtual ~Pollable() = default;

  // Does up to `budget` units of work (packets); returns how many it did.
  // 0 means idle. Never blocks.
  virtual std::size_t poll(std::size_t budget) noexcept = 0;

  // Clears the interrupt mask and re-checks for work. True: nothing pending,
  // the peer will signal wake_fd() on new work, safe to sleep. False: work
  // arrived; keep polling (exit_interrupt_mode() follows).
  [[nodiscard]] virtual bool try_enter_interrupt_mode() noexcept = 0;

  // Back to polling: sets the interrupt mask again.
  virtual void exit_interrupt_mode() noexcept = 0;

  // An eventfd (ideally EFD_NONBLOCK) that becomes readable when the peer
  // signals this pollable. After waking, the worker reads its 8-byte counter
  // to drain it. Several pollables may share one. -1 if it has none (the
  // worker then never sleeps while this pollable is attached).
  virtual int wake_fd() const noexcept = 0;
};

}  // namespace uvmbus::runtime
