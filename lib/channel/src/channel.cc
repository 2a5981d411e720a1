// Channel: send bursts with batched signalling, validated receive bursts,
// transactions, and the end-of-channel path.
#include "uvmbus/channel/channel.h"

#include <algorithm>

#include "packet_validation.h"
#include "uvmbus/wire/bytes.h"

namespace uvmbus::channel {

const char* to_string(SendStatus status) noexcept {
  switch (status) {
    case SendStatus::ok: return "ok";
    case SendStatus::ring_full: return "ring full";
    case SendStatus::no_transaction: return "no free transaction id";
    case SendStatus::too_large: return "packet too large for the ring";
    case SendStatus::bad_buffer: return "buffer outside guest memory or too many pages";
    case SendStatus::channel_ended: return "channel ended";
  }
  return "unknown";
}

const char* to_string(DropCause cause) noexcept {
  switch (cause) {
    case DropCause::completion_unknown: return "completion with an unknown id";
    case DropCause::completion_duplicate: return "duplicate completion";
    case DropCause::completion_stale: return "stale completion";
    case DropCause::gpa_direct_malformed: return "malformed GPA-direct ranges";
    case DropCause::gpa_direct_outside_memory: return "GPA-direct page outside guest memory";
    case DropCause::transfer_page_malformed: return "malformed transfer-page ranges";
    case DropCause::transfer_page_unknown_set: return "unknown transfer-page set";
    case DropCause::transfer_page_out_of_range: return "transfer-page range outside its set";
  }
  return "unknown";
}

const char* to_string(ChannelEnd end) noexcept {
  switch (end) {
    case ChannelEnd::none: return "open";
    case ChannelEnd::closed: return "closed";
    case ChannelEnd::rescinded: return "rescinded";
    case ChannelEnd::host_gone: return "host gone";
    case ChannelEnd::unloaded: return "unloaded";
    case ChannelEnd::ring_corrupt: return "ring corrupt";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------
// Construction

Expected<std::unique_ptr<Channel>, ControlError> Channel::create(
    const Offer& offer, const ring::RingMemory& outbound, const ring::RingMemory& inbound,
    std::unique_ptr<ChannelLink> link, const ChannelOptions& options, const GuestMemory* memory) {
  if (link == nullptr || options.max_transactions == 0 ||
      options.max_transactions > TransactionTable::kMaxCapacity) {
    return Unexpected(ControlError::invalid_argument);
  }
  std::unique_ptr<Channel> channel(
      new Channel(offer, outbound, inbound, std::move(link), options, memory));
  if (channel->writer_.corrupt() || channel->reader_.corrupt()) {
    return Unexpected(ControlError::invalid_argument);
  }
  channel->reader_.mask_interrupts();
  return channel;
}

Channel::Channel(const Offer& offer, const ring::RingMemory& outbound,
                 const ring::RingMemory& inbound, std::unique_ptr<ChannelLink> link,
                 const ChannelOptions& options, const GuestMemory* memory)
    : writer_(outbound),
      reader_(inbound),
      offer_(offer),
      link_(std::move(link)),
      memory_(memory),
      host_trust_(options.host_trust),
      transactions_(options.max_transactions) {
  if (host_trust_ == HostTrust::untrusted && !reader_.corrupt()) {
    // A burst can never hold more than the ring's data area.
    copy_buffer_bytes_ = reader_.data_size();
    copy_buffer_ = std::make_unique<std::byte[]>(copy_buffer_bytes_);
  }
}

Channel::~Channel() = default;

void Channel::end(ChannelEnd reason) noexcept {
  ChannelEnd expected = ChannelEnd::none;
  // E-PUB: pairs with the load-acquire in end_reason(). Only the reason is
  // published; the worker owns everything it then cleans up.
  if (end_.compare_exchange_strong(expected, reason, std::memory_order_acq_rel)) {
    link_->wake_poller();
  }
}

ChannelStats Channel::stats() const noexcept {
  ChannelStats stats;
  stats.packets_sent = counters_.packets_sent.get();
  stats.packets_received = counters_.packets_received.get();
  stats.signals_sent = counters_.signals_sent.get();
  stats.signals_avoided = counters_.signals_avoided.get();
  stats.ring_full = counters_.ring_full.get();
  stats.transactions_aborted = counters_.transactions_aborted.get();
  for (std::size_t i = 0; i < kDropCauseCount; ++i) {
    stats.drops[i] = counters_.drops[i].get();
  }
  return stats;
}

bool Channel::add_transfer_page_set(TransferPageSet set) noexcept {
  const auto registered = std::span(transfer_page_sets_).first(transfer_page_set_count_);
  if (transfer_page_set_count_ == kMaxTransferPageSets ||
      std::any_of(registered.begin(), registered.end(),
                  [&](const TransferPageSet& other) { return other.id == set.id; })) {
    return false;
  }
  transfer_page_sets_[transfer_page_set_count_++] = set;
  return true;
}

// ---------------------------------------------------------------------------
// Sending

Expected<std::span<const std::byte>, SendStatus> Channel::build_gpa_direct(
    std::span<const GuestBuffer> buffers) noexcept {
  if (memory_ == nullptr || buffers.empty() || buffers.size() > kMaxGpaDirectRanges) {
    return Unexpected(SendStatus::bad_buffer);
  }
  const std::span<std::byte> scratch(gpa_scratch_);
  wire::store(scratch, 0, wire::GpaDirectHeader{
                              .reserved = 0,
                              .range_count = static_cast<uint32_t>(buffers.size())});
  std::size_t at = sizeof(wire::GpaDirectHeader);
  std::size_t pages_used = 0;
  for (const GuestBuffer& buffer : buffers) {
    const std::optional<uint64_t> gpa = buffer.bytes == 0 ? std::nullopt
                                                         : memory_->gpa_of(buffer.data, buffer.bytes);
    if (!gpa) {
      return Unexpected(SendStatus::bad_buffer);
    }
    const uint32_t offset = static_cast<uint32_t>(*gpa % wire::kHvPageSize);
    const uint64_t pages = (uint64_t{offset} + buffer.bytes + wire::kHvPageSize - 1) / wire::kHvPageSize;
    if (pages > kMaxGpaDirectPages - pages_used) {
      return Unexpected(SendStatus::bad_buffer);
    }
    pages_used += pages;
    wire::store(scratch, at, wire::GpaRange{.byte_count = buffer.bytes, .byte_offset = offset});
    at += sizeof(wire::GpaRange);
    // One region is contiguous in guest-physical space: consecutive PFNs.
    const uint64_t first_pfn = gpa_to_pfn(*gpa);
    for (uint64_t page = 0; page < pages; ++page, at += sizeof(uint64_t)) {
      wire::store(scratch, at, first_pfn + page);
    }
  }
  return std::span<const std::byte>(scratch.first(at));
}

SendStatus Channel::to_send_status(ring::WriteStatus status) noexcept {
  switch (status) {
    case ring::WriteStatus::ok:
      return SendStatus::ok;
    case ring::WriteStatus::full:
      return SendStatus::ring_full;
    case ring::WriteStatus::too_large:
      return SendStatus::too_large;
    case ring::WriteStatus::corrupt:
      break;
  }
  end(ChannelEnd::ring_corrupt);
  return SendStatus::channel_ended;
}

SendStatus Channel::write_one(const SendItem& item) noexcept {
  ring::OutPacket packet{.payload = item.payload};
  bool needs_transaction = false;
  switch (item.kind) {
    case SendKind::inband:
      packet.type = wire::PacketType::data_inband;
      packet.trans_id = item.trans_id;
      break;
    case SendKind::completion:
      packet.type = wire::PacketType::completion;
      packet.trans_id = item.trans_id;
      break;
    case SendKind::request:
      packet.type = wire::PacketType::data_inband;
      needs_transaction = true;
      break;
    case SendKind::gpa_direct: {
      Expected<std::span<const std::byte>, SendStatus> ranges = build_gpa_direct(item.buffers);
      if (!ranges) {
        return ranges.error();
      }
      packet.type = wire::PacketType::data_using_gpa_direct;
      packet.header_ext = *ranges;
      needs_transaction = true;
      break;
    }
  }
  if (needs_transaction) {
    const std::optional<uint64_t> id = transactions_.allocate(item.cookie);
    if (!id) {
      return SendStatus::no_transaction;
    }
    packet.flags = wire::kPacketFlagCompletionRequested;
    packet.trans_id = *id;
  }
  const ring::WriteStatus status = writer_.write(packet);
  if (status == ring::WriteStatus::ok) {
    return SendStatus::ok;
  }
  if (needs_transaction) {
    // Never sent: give the id back.
    [[maybe_unused]] const auto freed = transactions_.complete(packet.trans_id);
  }
  return to_send_status(status);
}

SendResult Channel::send_burst(std::span<const SendItem> items) noexcept {
  if (ended()) {
    return {0, SendStatus::channel_ended};
  }
  SendResult result;
  while (result.sent < items.size() && result.status == SendStatus::ok) {
    // A run of in-band items goes to the ring as one write_burst, which keeps
    // the ring's cursor in registers across the packets.
    std::size_t run = 0;
    while (run < plain_packets_.size() && result.sent + run < items.size() &&
           items[result.sent + run].kind == SendKind::inband) {
      const SendItem& item = items[result.sent + run];
      plain_packets_[run] = ring::OutPacket{.type = wire::PacketType::data_inband,
                                            .flags = 0,
                                            .trans_id = item.trans_id,
                                            .header_ext = {},
                                            .payload = item.payload};
      ++run;
    }
    if (run == 0) {
      result.status = write_one(items[result.sent]);
      result.sent += result.status == SendStatus::ok ? 1 : 0;
      continue;
    }
    const ring::WriteBurst burst = writer_.write_burst(std::span(plain_packets_.data(), run));
    result.sent += burst.written;
    result.status = to_send_status(burst.status);
  }
  if (result.status == SendStatus::ring_full) {
    counters_.ring_full.add();
  }
  if (result.sent == 0) {
    return result;
  }
  if (writer_.commit() == ring::Signal::needed) {
    link_->signal_host();
    counters_.signals_sent.add();
  } else {
    counters_.signals_avoided.add();
  }
  if (space_requested_) {
    writer_.disarm_pending_send();
    space_requested_ = false;
  }
  counters_.packets_sent.add(result.sent);
  return result;
}

ring::PendingSend Channel::request_space_signal(std::size_t payload_bytes) noexcept {
  if (ended()) {
    return ring::PendingSend::space_available;  // the send fails at once
  }
  const uint64_t bytes = std::min<uint64_t>(ring::packet_ring_bytes(0, payload_bytes),
                                            writer_.max_packet_bytes());
  space_requested_ = true;
  return writer_.arm_pending_send(static_cast<uint32_t>(bytes));
}

// ---------------------------------------------------------------------------
// Receiving

void Channel::drop(DropCause cause) noexcept {
  counters_.drops[static_cast<std::size_t>(cause)].add();
}

// Validates one packet and fills `out`; false if it was dropped.
bool Channel::accept(const ring::InPacket& packet, ReceivedPacket& out) noexcept {
  out = ReceivedPacket{
      .completion_requested = packet.completion_requested(),
      .trans_id = packet.desc.trans_id,
      .payload = packet.payload(),
  };
  switch (packet.type()) {
    case wire::PacketType::completion: {
      const TransactionTable::Completion completion = transactions_.complete(packet.desc.trans_id);
      switch (completion.match) {
        case TransactionTable::Match::matched:
          out.kind = PacketKind::completion;
          out.cookie = completion.cookie;
          out.completion_requested = false;
          return true;
        case TransactionTable::Match::duplicate:
          drop(DropCause::completion_duplicate);
          return false;
        case TransactionTable::Match::stale:
          drop(DropCause::completion_stale);
          return false;
        case TransactionTable::Match::unknown:
          drop(DropCause::completion_unknown);
          return false;
      }
      return false;
    }
    case wire::PacketType::data_using_gpa_direct: {
      const Expected<detail::GpaDirectView, DropCause> view =
          detail::validate_gpa_direct(packet.header_ext(), memory_);
      if (!view) {
        drop(view.error());
        return false;
      }
      out.kind = PacketKind::gpa_direct;
      out.gpa_range_count = view->range_count;
      out.gpa_ranges = view->ranges;
      return true;
    }
    case wire::PacketType::data_using_xfer_pages: {
      const Expected<detail::TransferPageView, DropCause> view = detail::validate_transfer_pages(
          packet.header_ext(), std::span(transfer_page_sets_).first(transfer_page_set_count_));
      if (!view) {
        drop(view.error());
        return false;
      }
      out.kind = PacketKind::transfer_pages;
      out.transfer_page_set = view->set_id;
      out.transfer_ranges = view->ranges;
      return true;
    }
    default:
      // The ring reader admits only the four types in use; the rest is in-band.
      out.kind = PacketKind::inband;
      return true;
  }
}

void Channel::commit_reads() noexcept {
  if (reader_.commit() == ring::Signal::needed) {
    link_->signal_host();
    counters_.signals_sent.add();
  }
}

void Channel::release_received() noexcept { commit_reads(); }

std::size_t Channel::deliver_aborted(std::span<ReceivedPacket> out) noexcept {
  std::size_t count = 0;
  while (count < out.size()) {
    const std::optional<uint64_t> cookie = transactions_.take_any();
    if (!cookie) {
      break;
    }
    out[count++] = ReceivedPacket{
        .kind = PacketKind::completion, .status = CompletionStatus::aborted, .cookie = *cookie};
  }
  counters_.transactions_aborted.add(count);
  counters_.packets_received.add(count);
  return count;
}

std::size_t Channel::receive_burst(std::span<ReceivedPacket> out) noexcept {
  release_received();
  if (ended()) {
    return deliver_aborted(out);
  }
  const bool copy_out = host_trust_ == HostTrust::untrusted;
  std::size_t count = 0;
  std::size_t copied = 0;
  while (count < out.size()) {
    ring::InPacket packet;
    const ring::ReadStatus status =
        copy_out ? reader_.next_copy(std::span(copy_buffer_.get(), copy_buffer_bytes_).subspan(copied),
                                     packet)
                 : reader_.next(packet);
    if (status != ring::ReadStatus::ok) {
      if (status == ring::ReadStatus::corrupt) {
        end(ChannelEnd::ring_corrupt);
      }
      break;  // empty, or the copy buffer is used up for this burst
    }
    copied += copy_out ? packet.bytes.size() : 0;
    if (accept(packet, out[count])) {
      ++count;
    }
  }
  if (copy_out) {
    commit_reads();
  }
  counters_.packets_received.add(count);
  return count;
}

// ---------------------------------------------------------------------------
// Interrupt mode

bool Channel::try_enter_interrupt_mode() noexcept {
  if (ended()) {
    // Aborted completions are still to be handed out: keep polling.
    return transactions_.in_flight() == 0;
  }
  return !reader_.unmask_interrupts();
}

void Channel::exit_interrupt_mode() noexcept { reader_.mask_interrupts(); }

}  // namespace uvmbus::channel
