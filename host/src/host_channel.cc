// HostChannel: the per-channel data path (read, hand to the device, publish,
// back-pressure).
#include "uvmbus/host/host_channel.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>

namespace uvmbus::host {

const char* to_string(CloseReason reason) noexcept {
  switch (reason) {
    case CloseReason::guest_closed: return "guest_closed";
    case CloseReason::rescinded: return "rescinded";
    case CloseReason::unloaded: return "unloaded";
    case CloseReason::guest_gone: return "guest_gone";
    case CloseReason::shutdown: return "shutdown";
  }
  return "unknown";
}

const char* to_string(HostDropCause cause) noexcept {
  switch (cause) {
    case HostDropCause::ring_corrupt: return "ring_corrupt";
    case HostDropCause::unexpected_packet: return "unexpected_packet";
    case HostDropCause::bad_gpa_range: return "bad_gpa_range";
    case HostDropCause::reply_too_large: return "reply_too_large";
    case HostDropCause::reply_ring_full: return "reply_ring_full";
  }
  return "unknown";
}

std::unique_ptr<HostChannel> HostChannel::create(const ring::RingMemory& from_guest,
                                                 const ring::RingMemory& to_guest,
                                                 std::shared_ptr<channel::HostChannelLink> link,
                                                 const channel::MappedGuestMemory& memory,
                                                 ChannelContext context) {
  if (!ring::ring_memory_valid(from_guest) || !ring::ring_memory_valid(to_guest) || link == nullptr) {
    return nullptr;
  }
  // Spec §13: on open the host advertises pending-send on its outgoing ring
  // and starts with no request pending. The guest may write these words at
  // any time, so they are stored atomically (seq_cst: no ordering with the
  // data is needed, but it is the simplest correct choice for a one-off).
  std::atomic_ref(to_guest.header->feature_bits).fetch_or(wire::kRingFeaturePendingSendSz);
  std::atomic_ref(to_guest.header->pending_send_sz).store(0);
  std::unique_ptr<HostChannel> made(
      new HostChannel(from_guest, to_guest, std::move(link), memory, std::move(context)));
  if (made->reader_.corrupt() || made->writer_.corrupt()) {
    return nullptr;
  }
  return made;
}

HostChannel::HostChannel(const ring::RingMemory& from_guest, const ring::RingMemory& to_guest,
                         std::shared_ptr<channel::HostChannelLink> link,
                         const channel::MappedGuestMemory& memory, ChannelContext context)
    : reader_(from_guest),
      writer_(to_guest),
      link_(std::move(link)),
      memory_(memory),
      context_(std::move(context)),
      copy_(reader_.max_packet_bytes()),
      held_bytes_(writer_.max_packet_bytes()) {
  reader_.mask_interrupts();
}

HostChannel::~HostChannel() = default;

void HostChannel::set_handler(std::unique_ptr<ChannelHandler> handler) noexcept {
  handler_ = std::move(handler);
  if (handler_ != nullptr) {
    handler_->on_bind(*this);
  }
}

void HostChannel::notify() noexcept {
  notified_.store(true, std::memory_order_release);
  // The worker sleeps in epoll on the doorbell eventfd: one more count on it
  // wakes the worker as the guest's signal would (it drains the count).
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t written = ::write(link_->doorbell_fd(), &one, sizeof(one));
}

void HostChannel::close(CloseReason reason) noexcept {
  if (handler_ != nullptr) {
    handler_->on_close(reason);
    handler_.reset();
  }
}

SendOutcome HostChannel::send(const ring::OutPacket& packet) noexcept {
  if (held_.present) {
    count_drop(HostDropCause::reply_ring_full);
    return SendOutcome::dropped;
  }
  switch (writer_.write(packet)) {
    case ring::WriteStatus::ok:
      return SendOutcome::sent;
    case ring::WriteStatus::full:
      counters_.ring_full.add();
      if (hold(packet)) {
        return SendOutcome::held;
      }
      count_drop(HostDropCause::reply_too_large);
      return SendOutcome::dropped;
    case ring::WriteStatus::too_large:
      count_drop(HostDropCause::reply_too_large);
      return SendOutcome::dropped;
    case ring::WriteStatus::corrupt:
      mark_corrupt();
      return SendOutcome::dropped;
  }
  return SendOutcome::dropped;
}

SendOutcome HostChannel::complete(uint64_t trans_id, std::span<const std::byte> payload) noexcept {
  const iovec segment{.iov_base = const_cast<std::byte*>(payload.data()), .iov_len = payload.size()};
  return send(ring::OutPacket{.type = wire::PacketType::completion,
                              .flags = 0,
                              .trans_id = trans_id,
                              .header_ext = {},
                              .payload = std::span(&segment, payload.empty() ? 0 : 1)});
}

// Copies `packet` into the held-reply buffer; false if it cannot fit there
// (then it could never fit the ring either).
bool HostChannel::hold(const ring::OutPacket& packet) noexcept {
  std::size_t total = packet.header_ext.size();
  for (const iovec& segment : packet.payload) {
    total += segment.iov_len;
  }
  if (total > held_bytes_.size()) {
    return false;
  }
  // std::copy_n, not memcpy: empty spans may carry a null pointer.
  std::copy_n(packet.header_ext.data(), packet.header_ext.size(), held_bytes_.data());
  std::size_t at = packet.header_ext.size();
  for (const iovec& segment : packet.payload) {
    std::copy_n(static_cast<const std::byte*>(segment.iov_base), segment.iov_len, held_bytes_.data() + at);
    at += segment.iov_len;
  }
  held_ = HeldReply{.present = true,
                    .type = packet.type,
                    .flags = packet.flags,
                    .trans_id = packet.trans_id,
                    .header_ext_bytes = packet.header_ext.size(),
                    .payload_bytes = at - packet.header_ext.size()};
  return true;
}

// Writes the held reply if it fits now; true if nothing is held any more.
bool HostChannel::write_held() noexcept {
  if (!held_.present) {
    return true;
  }
  const iovec segment{.iov_base = held_bytes_.data() + held_.header_ext_bytes,
                      .iov_len = held_.payload_bytes};
  const ring::OutPacket packet{
      .type = held_.type,
      .flags = held_.flags,
      .trans_id = held_.trans_id,
      .header_ext = std::span<const std::byte>(held_bytes_.data(), held_.header_ext_bytes),
      .payload = std::span(&segment, held_.payload_bytes == 0 ? 0 : 1)};
  switch (writer_.write(packet)) {
    case ring::WriteStatus::ok:
      held_.present = false;
      writer_.disarm_pending_send();
      return true;
    case ring::WriteStatus::full:
      return false;
    case ring::WriteStatus::too_large:
      held_.present = false;
      count_drop(HostDropCause::reply_too_large);
      return true;
    case ring::WriteStatus::corrupt:
      mark_corrupt();
      return false;
  }
  return false;
}

uint32_t HostChannel::held_ring_bytes() const noexcept {
  return static_cast<uint32_t>(ring::packet_ring_bytes(held_.header_ext_bytes, held_.payload_bytes));
}

std::size_t HostChannel::poll(std::size_t budget) noexcept {
  if (corrupt() || handler_ == nullptr) {
    return 0;
  }
  std::size_t handled = 0;
  if (write_held()) {
    if (notified_.load(std::memory_order_relaxed)) [[unlikely]] {
      if (notified_.exchange(false, std::memory_order_acquire)) {
        handler_->on_notify(*this);
      }
    }
    while (handled < budget && !held_.present && !corrupt()) {
      ring::InPacket packet;
      const ring::ReadStatus status = reader_.next_copy(copy_, packet);
      if (status == ring::ReadStatus::corrupt) {
        mark_corrupt();
        break;
      }
      if (status != ring::ReadStatus::ok) {
        break;  // empty (buffer_small cannot happen: copy_ holds the largest packet)
      }
      counters_.packets_in.add();
      counters_.bytes_in.add(packet.bytes.size());
      handler_->on_packet(*this, packet);
      ++handled;
    }
  }
  publish();
  return handled;
}

// One read commit and one write commit; at most one doorbell for both.
void HostChannel::publish() noexcept {
  const uint64_t packets_before = writer_.stats().packets;
  const uint64_t bytes_before = writer_.stats().bytes;
  const uint64_t reads_before = reader_.stats().commits;
  bool signal = reader_.commit() == ring::Signal::needed;
  signal = (writer_.commit() == ring::Signal::needed) || signal;
  const uint64_t packets_written = writer_.stats().packets - packets_before;
  if (packets_written != 0) {
    counters_.packets_out.add(packets_written);
    counters_.bytes_out.add(writer_.stats().bytes - bytes_before);
  }
  if (signal) {
    link_->signal_guest();
    counters_.signals_sent.add();
  } else if (packets_written != 0 || reader_.stats().commits != reads_before) {
    counters_.signals_avoided.add();
  }
}

bool HostChannel::try_enter_interrupt_mode() noexcept {
  if (corrupt()) {
    return true;  // nothing more will be done; doorbells are ignored
  }
  if (notified_.load(std::memory_order_relaxed) && !held_.present) {
    return false;  // the handler has host-originated work
  }
  if (held_.present) {
    // Waiting for room only: the guest signals once pending_send_sz fits.
    // Reading stays paused, so the guest's doorbell stays masked. A guest
    // that cleared the pending-send feature bit the host set gets no more
    // service on this channel until it signals for another reason: it
    // cannot make the worker spin.
    return writer_.arm_pending_send(held_ring_bytes()) != ring::PendingSend::space_available;
  }
  // The reader's last commit happened in poll(); this is the re-check the
  // ring's "Sleeping" rule asks for.
  return !reader_.unmask_interrupts();
}

void HostChannel::exit_interrupt_mode() noexcept {
  reader_.mask_interrupts();
}

void HostChannel::mark_corrupt() noexcept {
  if (!corrupt()) {
    corrupt_.store(true, std::memory_order_relaxed);
    count_drop(HostDropCause::ring_corrupt);
  }
}

HostChannelStats HostChannel::stats() const noexcept {
  HostChannelStats stats;
  stats.packets_in = counters_.packets_in.get();
  stats.bytes_in = counters_.bytes_in.get();
  stats.packets_out = counters_.packets_out.get();
  stats.bytes_out = counters_.bytes_out.get();
  stats.signals_sent = counters_.signals_sent.get();
  stats.signals_avoided = counters_.signals_avoided.get();
  stats.ring_full = counters_.ring_full.get();
  for (std::size_t i = 0; i < kHostDropCauseCount; ++i) {
    stats.drops[i] = counters_.drops[i].get();
  }
  return stats;
}

}  // namespace uvmbus::host
