// The set of pollables a worker drives. Immutable once published: a change
// builds a new set, and the worker switches to it between two rounds.
#pragma once

#include <memory>
#include <vector>

#include "uvmbus/runtime/pollable.h"

namespace uvmbus::runtime::detail {

struct PollSet {
  std::vector<Pollable*> pollables;  // polled in this order, every round
  std::vector<int> wake_fds;         // distinct wake fds of `pollables`
  bool can_sleep = true;             // every pollable has a wake fd
  // The pollable this set added, if any: the worker puts it into poll mode
  // (exit_interrupt_mode) when it adopts the set.
  Pollable* attached = nullptr;
};

// Builds the set of `pollables` (asking each for its wake fd once).
std::unique_ptr<const PollSet> make_poll_set(std::vector<Pollable*> pollables,
                                             Pollable* attached);

}  // namespace uvmbus::runtime::detail
