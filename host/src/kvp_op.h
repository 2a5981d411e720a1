// The KVP device's hand-off between control-plane threads and the worker:
// KvpOp is one call (its result and the caller's wait), KvpLink one open
// channel's queue of calls and its counters. Private to host/src/kvp_*.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "uvmbus/channel/relaxed_counter.h"
#include "uvmbus/host/kvp_device.h"
#include "uvmbus/host/kvp_session.h"

namespace uvmbus::host::detail {

using Clock = std::chrono::steady_clock;

// One call. The worker starts it (queued -> started) unless the caller gave
// up first (queued -> cancelled); whoever wins the exchange owns the outcome.
struct KvpOp {
  enum Phase : uint8_t { queued, started, cancelled };

  KvpCall call;
  bool whole_pool = false;  // ENUMERATE from index 0 until "no more items"
  Clock::time_point deadline = Clock::time_point::max();  // latest start

  std::atomic<uint8_t> phase{queued};

  // The outcome, written once by the worker (or by on_close).
  std::mutex mutex;
  std::condition_variable finished;
  bool done = false;
  std::optional<KvpFailure> failure;
  std::string value;             // GET
  std::vector<KvpItem> items;    // whole-pool ENUMERATE
  kvp::IpInfo ip_info;           // GET_IP_INFO
  std::chrono::system_clock::time_point finished_at{};
  Clock::time_point finished_steady{};

  void finish(std::optional<KvpFailure> outcome);
  // Waits for the outcome; a call still queued at its deadline is cancelled
  // and fails with `timeout`. Once started, the worker's request timeout
  // bounds the wait.
  std::optional<KvpFailure> wait();
  bool is_done();
};

struct KvpLinkCounters {
  channel::RelaxedCounter requests, replies, negotiations, negotiate_retries, timeouts, dropped,
      bad_bodies, send_failures;
  KvpChannelCounters snapshot() const noexcept;
};

// One open KVP channel as the control plane sees it.
class KvpLink {
 public:
  // Worker side, from the handler.
  void bind(HostChannel* channel) noexcept;
  // On the control thread when the channel closes: no more submissions;
  // returns what was still queued.
  std::deque<std::shared_ptr<KvpOp>> close() noexcept;
  // Moves queued calls to `out` without blocking; false if the lock was busy.
  bool take(std::deque<std::shared_ptr<KvpOp>>& out) noexcept;

  // Control plane. False if the channel has closed.
  bool submit(std::span<const std::shared_ptr<KvpOp>> ops);
  // Has the worker look at its timers (a request or NEGOTIATE outstanding).
  void poke() noexcept;

  bool open() const;
  std::size_t queued() const;

  std::atomic<bool> busy{false};  // NEGOTIATE or a request outstanding
  std::atomic<uint64_t> versions{0};  // framework and service, packed; 0 = none
  KvpLinkCounters counters;

 private:
  mutable std::mutex mutex_;
  HostChannel* channel_ = nullptr;
  bool closed_ = false;
  std::deque<std::shared_ptr<KvpOp>> queue_;
};

uint64_t pack_versions(const ic::NegotiatedVersions& versions) noexcept;
std::optional<ic::NegotiatedVersions> unpack_versions(uint64_t packed) noexcept;

}  // namespace uvmbus::host::detail
