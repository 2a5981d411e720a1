// The KVP device's calls and per-channel queues (see kvp_op.h).
#include "kvp_op.h"

#include "uvmbus/host/host_channel.h"

namespace uvmbus::host::detail {

void KvpOp::finish(std::optional<KvpFailure> outcome) {
  const std::lock_guard lock(mutex);
  failure = std::move(outcome);
  finished_at = std::chrono::system_clock::now();
  finished_steady = Clock::now();
  done = true;
  finished.notify_all();
}

std::optional<KvpFailure> KvpOp::wait() {
  const KvpFailure late{KvpErrc::timeout, wire::HvStatus::ok,
                        "the guest did not take the request in time (not negotiated, or busy)"};
  std::unique_lock lock(mutex);
  while (!done) {
    if (phase.load() == cancelled) {
      return late;  // an earlier wait gave up on it
    }
    if (finished.wait_until(lock, deadline) == std::cv_status::timeout && !done) {
      uint8_t expected = queued;
      if (phase.compare_exchange_strong(expected, cancelled)) {
        return late;
      }
      if (expected == started) {
        finished.wait(lock, [this] { return done; });  // the worker's request timeout ends it
      }
    }
  }
  return failure;
}

bool KvpOp::is_done() {
  const std::lock_guard lock(mutex);
  return done;
}

KvpChannelCounters KvpLinkCounters::snapshot() const noexcept {
  return {.requests = requests.get(),
          .replies = replies.get(),
          .negotiations = negotiations.get(),
          .negotiate_retries = negotiate_retries.get(),
          .timeouts = timeouts.get(),
          .dropped = dropped.get(),
          .bad_bodies = bad_bodies.get(),
          .send_failures = send_failures.get()};
}

void KvpLink::bind(HostChannel* channel) noexcept {
  const std::lock_guard lock(mutex_);
  channel_ = channel;
}

std::deque<std::shared_ptr<KvpOp>> KvpLink::close() noexcept {
  const std::lock_guard lock(mutex_);
  closed_ = true;
  channel_ = nullptr;
  return std::exchange(queue_, {});
}

bool KvpLink::take(std::deque<std::shared_ptr<KvpOp>>& out) noexcept {
  const std::unique_lock lock(mutex_, std::try_to_lock);
  if (!lock.owns_lock()) {
    return false;
  }
  while (!queue_.empty()) {
    out.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return true;
}

bool KvpLink::submit(std::span<const std::shared_ptr<KvpOp>> ops) {
  const std::lock_guard lock(mutex_);
  if (closed_) {
    return false;
  }
  queue_.insert(queue_.end(), ops.begin(), ops.end());
  if (channel_ != nullptr) {
    channel_->notify();
  }
  return true;
}

void KvpLink::poke() noexcept {
  const std::lock_guard lock(mutex_);
  if (channel_ != nullptr) {
    channel_->notify();
  }
}

bool KvpLink::open() const {
  const std::lock_guard lock(mutex_);
  return !closed_;
}

std::size_t KvpLink::queued() const {
  const std::lock_guard lock(mutex_);
  return queue_.size();
}

uint64_t pack_versions(const ic::NegotiatedVersions& v) noexcept {
  return uint64_t{1} << 63 | uint64_t{v.framework.major} << 48 | uint64_t{v.framework.minor} << 32 |
         uint64_t{v.service.major} << 16 | v.service.minor;
}

std::optional<ic::NegotiatedVersions> unpack_versions(uint64_t packed) noexcept {
  if (packed == 0) {
    return std::nullopt;
  }
  return ic::NegotiatedVersions{
      .framework = {static_cast<uint16_t>(packed >> 48 & 0x7fff), static_cast<uint16_t>(packed >> 32)},
      .service = {static_cast<uint16_t>(packed >> 16), static_cast<uint16_t>(packed)}};
}

}  // namespace uvmbus::host::detail
