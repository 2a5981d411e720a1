// One open KVP channel on the worker (see kvp_channel.h).
#include "kvp_channel.h"

#include <sys/uio.h>

#include <algorithm>

#include "uvmbus/host/host_channel.h"

namespace uvmbus::host::detail {

namespace {

KvpFailure guest_failure(wire::HvStatus status, const char* what) {
  return {KvpErrc::guest_failed, status, what};
}

// Calls that go alone: a whole-pool enumeration sends its next index only
// after each reply, and IP info may change what later calls see.
bool exclusive(const KvpOp& op) {
  return op.whole_pool || op.call.operation == wire::KvpOperation::get_ip_info ||
         op.call.operation == wire::KvpOperation::set_ip_info;
}

}  // namespace

KvpChannelHandler::KvpChannelHandler(std::shared_ptr<KvpLink> link, KvpChannelConfig config)
    : link_(std::move(link)), config_(config) {
  session_.set_window(config_.window);
}

void KvpChannelHandler::on_bind(HostChannel& channel) noexcept {
  link_->bind(&channel);
  link_->busy.store(true, std::memory_order_relaxed);
  channel.notify();  // the first poll sends NEGOTIATE
}

void KvpChannelHandler::on_notify(HostChannel& channel) noexcept {
  if (!link_->take(pending_)) {
    channel.notify();  // a control thread holds the queue for a moment: next poll
  }
  const Clock::time_point now = Clock::now();
  if (!session_.versions()) {
    if (!negotiate_sent_ || now - negotiate_at_ >= negotiate_backoff_) {
      if (negotiate_sent_) {
        link_->counters.negotiate_retries.add();
      }
      send_negotiate(channel, now);
    }
    return;
  }
  if (!in_flight_.empty() && now - in_flight_.front().sent_at >= config_.request_timeout) {
    link_->counters.timeouts.add();
    abandon_in_flight(KvpFailure{KvpErrc::timeout, wire::HvStatus::ok,
                                 "the guest did not answer the request"});
    // Negotiating again makes a late answer to the abandoned request stale.
    negotiate_backoff_ = {};
    send_negotiate(channel, now);
    return;
  }
  pump(channel);
}

void KvpChannelHandler::send_negotiate(HostChannel& channel, Clock::time_point now) noexcept {
  const KvpHostSession::Packet packet = session_.negotiate();
  negotiate_sent_ = true;
  negotiate_at_ = now;
  // Back off up to 16 retry intervals, so a guest that never reads its ring
  // does not get it filled with NEGOTIATEs.
  negotiate_backoff_ = negotiate_backoff_ == std::chrono::milliseconds::zero()
                           ? config_.negotiate_retry
                           : std::min(negotiate_backoff_ * 2, config_.negotiate_retry * 16);
  link_->busy.store(true, std::memory_order_relaxed);
  link_->versions.store(0, std::memory_order_relaxed);
  if (packet.ic_error == ic::IcError::none) {
    [[maybe_unused]] const bool sent = send(channel, packet.bytes);
  }
}

bool KvpChannelHandler::send(HostChannel& channel, std::span<const std::byte> bytes) noexcept {
  const iovec segment{.iov_base = const_cast<std::byte*>(bytes.data()), .iov_len = bytes.size()};
  // In-band, no completion requested; the guest answers in place and echoes
  // the transaction id (spec §1).
  const SendOutcome outcome = channel.send(ring::OutPacket{.type = wire::PacketType::data_inband,
                                                           .flags = 0,
                                                           .trans_id = next_trans_id_++,
                                                           .header_ext = {},
                                                           .payload = std::span(&segment, 1)});
  if (outcome == SendOutcome::dropped) {
    link_->counters.send_failures.add();
    return false;
  }
  link_->counters.requests.add();
  return true;
}

void KvpChannelHandler::pump(HostChannel& channel) noexcept {
  while (session_.can_send() && !pending_.empty()) {
    if (!in_flight_.empty() && (exclusive(*in_flight_.back().op) || exclusive(*pending_.front()))) {
      break;
    }
    std::shared_ptr<KvpOp> op = std::move(pending_.front());
    pending_.pop_front();
    uint8_t expected = KvpOp::queued;
    if (!op->phase.compare_exchange_strong(expected, KvpOp::started)) {
      continue;  // the caller gave up waiting
    }
    if (op->whole_pool) {
      op->call.index = 0;
    }
    [[maybe_unused]] const bool sent = send_call(channel, std::move(op));
  }
  if (in_flight_.empty() && pending_.empty() && session_.versions()) {
    link_->busy.store(false, std::memory_order_relaxed);
  }
}

bool KvpChannelHandler::send_call(HostChannel& channel, std::shared_ptr<KvpOp> op) noexcept {
  const KvpHostSession::Packet packet = session_.request(op->call);
  if (packet.kvp_error != kvp::KvpError::none) {
    // The control plane checks keys and values first; what is left here is
    // IP info the wire form cannot carry.
    op->finish(KvpFailure{packet.kvp_error == kvp::KvpError::bad_ip_info ? KvpErrc::bad_ip_info
                                                                         : KvpErrc::bad_text,
                          wire::HvStatus::ok, kvp::to_string(packet.kvp_error)});
    return false;
  }
  if (packet.ic_error != ic::IcError::none || !send(channel, packet.bytes)) {
    const KvpFailure refused{KvpErrc::timeout, wire::HvStatus::ok, "the guest's ring did not take the request"};
    op->finish(refused);
    if (packet.ic_error == ic::IcError::none) {
      // The session expects replies that will not come.
      abandon_in_flight(refused);
      negotiate_backoff_ = {};
      send_negotiate(channel, Clock::now());
    }
    return false;
  }
  in_flight_.push_back({std::move(op), Clock::now()});
  link_->busy.store(true, std::memory_order_relaxed);
  return true;
}

void KvpChannelHandler::on_packet(HostChannel& channel, const ring::InPacket& packet) noexcept {
  if (packet.type() != wire::PacketType::data_inband) {
    link_->counters.dropped.add();
    channel.count_drop(HostDropCause::unexpected_packet);
    return;
  }
  KvpSessionEvent event = session_.on_packet(packet.payload());
  switch (event.kind) {
    case KvpSessionEventKind::dropped:
      link_->counters.dropped.add();
      return;
    case KvpSessionEventKind::negotiate_refused:
      // No common version: try again at the next retry, as for silence.
      link_->counters.dropped.add();
      return;
    case KvpSessionEventKind::negotiated:
      link_->counters.negotiations.add();
      link_->versions.store(pack_versions(*session_.versions()), std::memory_order_relaxed);
      negotiate_backoff_ = {};
      link_->take(pending_);
      pump(channel);
      return;
    case KvpSessionEventKind::reply:
      link_->counters.replies.add();
      on_reply(channel, event);
      pump(channel);
      return;
  }
}

void KvpChannelHandler::on_reply(HostChannel& channel, KvpSessionEvent& event) noexcept {
  if (in_flight_.empty()) {
    return;  // the session matched it, so a call was outstanding; defensive
  }
  std::shared_ptr<KvpOp> op = std::move(in_flight_.front().op);
  in_flight_.pop_front();
  if (event.bad_body != kvp::KvpError::none) {
    link_->counters.bad_bodies.add();
    op->finish(KvpFailure{KvpErrc::bad_reply, event.status,
                          std::string("the guest's reply does not decode: ") + kvp::to_string(event.bad_body)});
    return;
  }
  const wire::HvStatus status = event.status;
  switch (op->call.operation) {
    case wire::KvpOperation::enumerate:
      if (!op->whole_pool) {
        break;
      }
      if (status == wire::HvStatus::no_more_items) {
        op->finish(std::nullopt);
      } else if (status != wire::HvStatus::ok) {
        op->finish(guest_failure(status, "ENUMERATE failed"));
      } else if (op->items.size() >= kMaxEnumeratedItems) {
        op->finish(KvpFailure{KvpErrc::bad_reply, status, "the guest enumerates without end"});
      } else {
        op->items.push_back({std::move(event.key), std::move(event.value)});
        ++op->call.index;
        [[maybe_unused]] const bool sent = send_call(channel, std::move(op));
      }
      return;
    case wire::KvpOperation::get:
      if (status == wire::HvStatus::ok) {
        op->value = std::move(event.value);
        op->finish(std::nullopt);
      } else if (status == wire::HvStatus::not_found) {
        op->finish(KvpFailure{KvpErrc::not_found, status, "the guest has no such key"});
      } else {
        op->finish(guest_failure(status, "GET failed"));
      }
      return;
    case wire::KvpOperation::del:
      // A guest that no longer has the item is where the host wants it.
      op->finish(status == wire::HvStatus::ok || status == wire::HvStatus::not_found
                     ? std::nullopt
                     : std::optional(guest_failure(status, "DELETE failed")));
      return;
    case wire::KvpOperation::get_ip_info:
      if (status == wire::HvStatus::ok) {
        op->ip_info = std::move(event.ip_info);
        op->finish(std::nullopt);
      } else {
        op->finish(guest_failure(status, "GET_IP_INFO failed"));
      }
      return;
    default:
      break;
  }
  op->finish(status == wire::HvStatus::ok ? std::nullopt
                                          : std::optional(guest_failure(status, "request failed")));
}

void KvpChannelHandler::abandon_in_flight(const KvpFailure& failure) noexcept {
  for (InFlight& call : in_flight_) {
    call.op->finish(failure);
  }
  in_flight_.clear();
}

void KvpChannelHandler::on_close(CloseReason reason) noexcept {
  std::deque<std::shared_ptr<KvpOp>> left = link_->close();
  left.insert(left.begin(), pending_.begin(), pending_.end());
  pending_.clear();
  const KvpFailure closed{KvpErrc::guest_not_connected, wire::HvStatus::ok,
                          std::string("the KVP channel closed: ") + to_string(reason)};
  abandon_in_flight(closed);
  for (const std::shared_ptr<KvpOp>& op : left) {
    uint8_t expected = KvpOp::queued;
    if (op->phase.compare_exchange_strong(expected, KvpOp::started)) {
      op->finish(closed);
    }
  }
  link_->busy.store(false, std::memory_order_relaxed);
}

}  // namespace uvmbus::host::detail
