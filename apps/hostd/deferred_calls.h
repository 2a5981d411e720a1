// Control commands that wait on a guest (the kvp-* commands) without
// blocking hostd's main loop: start() runs a command's Deferred work on a
// thread of its own, and when it is done, an eventfd (fd()) wakes the loop,
// which collects the replies with finished() and sends each to its client.
// Bounded: at most kMaxPerClient calls of one client and kMaxCalls in all;
// start() refuses more. A client gone before its reply is fine: the reply is
// dropped by the caller. Destruction waits for the calls still running (stop
// the VMBus server first, so that guest calls end at once).
#pragma once

#include <cstdint>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "command_table.h"

namespace uvmbus::hostd {

class DeferredCalls {
 public:
  static constexpr std::size_t kMaxPerClient = 4;
  static constexpr std::size_t kMaxCalls = 32;

  DeferredCalls();  // throws std::system_error without an eventfd
  ~DeferredCalls();
  DeferredCalls(const DeferredCalls&) = delete;
  DeferredCalls& operator=(const DeferredCalls&) = delete;

  int fd() const noexcept { return event_; }
  // Runs `work` for `client`; the reply's "id" is `id` if not null. False
  // when over a bound (nothing started).
  bool start(uint64_t client, nlohmann::json id, Deferred work);

  struct Finished {
    uint64_t client;
    nlohmann::json reply;
  };
  // The calls that are done, their replies made on the calling thread.
  std::vector<Finished> finished();

 private:
  struct Call {
    uint64_t client;
    nlohmann::json id;
    Completion completion;  // set by the thread when `done`
    bool done = false;
    std::thread thread;
  };

  int event_;
  std::mutex mutex_;
  std::list<Call> calls_;
};

}  // namespace uvmbus::hostd
