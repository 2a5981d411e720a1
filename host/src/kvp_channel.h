// KvpChannelHandler: one open KVP channel on the worker. It negotiates
// (again every retry interval while the guest is silent), then runs the
// calls its KvpLink queues, one request at a time (or up to `window` of
// independent calls in flight; whole-pool enumerations and IP info always go
// alone), and matches each guest packet to the oldest outstanding request
// through a KvpHostSession. Never blocks:
// the queue is taken with try_lock, results are handed over through the
// call's own condition variable. Private to host/src/kvp_*.
#pragma once

#include <chrono>
#include <deque>
#include <memory>

#include "kvp_op.h"
#include "uvmbus/host/device.h"
#include "uvmbus/host/kvp_session.h"

namespace uvmbus::host::detail {

struct KvpChannelConfig {
  std::chrono::milliseconds request_timeout;
  std::chrono::milliseconds negotiate_retry;
  std::size_t window = 1;
};

// A whole-pool enumeration stops (bad_reply) beyond this many items: a guest
// cannot keep the host enumerating forever.
inline constexpr std::size_t kMaxEnumeratedItems = 1u << 20;

class KvpChannelHandler final : public ChannelHandler {
 public:
  KvpChannelHandler(std::shared_ptr<KvpLink> link, KvpChannelConfig config);

  void on_bind(HostChannel& channel) noexcept override;
  void on_notify(HostChannel& channel) noexcept override;
  void on_packet(HostChannel& channel, const ring::InPacket& packet) noexcept override;
  void on_close(CloseReason reason) noexcept override;

 private:
  void send_negotiate(HostChannel& channel, Clock::time_point now) noexcept;
  bool send(HostChannel& channel, std::span<const std::byte> bytes) noexcept;
  // Starts queued calls while the window has room.
  void pump(HostChannel& channel) noexcept;
  // Sends the call's (next) request; false if it finished instead.
  bool send_call(HostChannel& channel, std::shared_ptr<KvpOp> op) noexcept;
  void on_reply(HostChannel& channel, KvpSessionEvent& event) noexcept;
  // Fails every call in flight (their replies will be stale).
  void abandon_in_flight(const KvpFailure& failure) noexcept;

  struct InFlight {
    std::shared_ptr<KvpOp> op;
    Clock::time_point sent_at;
  };

  std::shared_ptr<KvpLink> link_;
  KvpChannelConfig config_;
  KvpHostSession session_;
  std::deque<std::shared_ptr<KvpOp>> pending_;  // taken from the link, not started
  std::deque<InFlight> in_flight_;  // oldest first
  bool negotiate_sent_ = false;
  Clock::time_point negotiate_at_{};
  std::chrono::milliseconds negotiate_backoff_{};
  uint64_t next_trans_id_ = 1;
};

}  // namespace uvmbus::host::detail
