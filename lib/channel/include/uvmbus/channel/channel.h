// Channel: one open VMBus channel as the guest's data path sees it: an
// outbound ring (guest -> host) and an inbound ring (host -> guest) in one
// GPADL, the channel's doorbells, and its in-flight transactions.
//
// Sending. send_burst() writes every item it can into the outbound ring's
// private batch, then publishes the batch with one index store and rings the
// doorbell at most once, only when lib/ring's commit says the host may be
// asleep (empty -> non-empty, interrupt mask clear). Requests and GPA-direct
// packets take a transaction id (TransactionTable); their completions come
// back through receive_burst() with the caller's cookie.
//
// Receiving. receive_burst() hands out packets already validated: completions
// matched to a live transaction (unknown, duplicate and stale ids are
// dropped and counted), GPA-direct ranges checked against guest memory,
// transfer-page ranges checked against the sets registered on the channel.
// For an untrusted host every packet is copied out of the ring first, so
// nothing the host writes later changes what was validated; for a trusted
// host packets are handed out in place. Consumption is published once per
// burst, with at most one space-available signal.
//
// End of channel. When the control plane learns that the channel was
// rescinded or the host is gone, it calls end() (any thread): sends then
// fail with channel_ended, every in-flight transaction comes back from
// receive_burst() as a completion with status `aborted`, and after that
// receive_burst() returns 0 with ended() true. A ring the host corrupted ends
// the channel the same way (ring_corrupt). Nothing waits for the host.
//
// Polling. The receive side maps onto the runtime's Pollable contract:
// the inbound interrupt mask is set while polling (exit_interrupt_mode),
// try_enter_interrupt_mode() clears it and re-checks, and wake_fd() is the
// channel's interrupt fd (see channel_pollable.h for an adapter).
//
// Threads: one worker thread owns the channel's data path (send, receive,
// interrupt mode). end(), ended(), end_reason() and stats() may be called
// from any thread. The fast path (send_burst, receive_burst) never
// allocates, locks, throws or makes a syscall other than the doorbell write.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "uvmbus/channel/channel_packet.h"
#include "uvmbus/channel/control_error.h"
#include "uvmbus/channel/expected.h"
#include "uvmbus/channel/guest_memory.h"
#include "uvmbus/channel/offer.h"
#include "uvmbus/channel/relaxed_counter.h"
#include "uvmbus/channel/transaction_table.h"
#include "uvmbus/channel/transport.h"
#include "uvmbus/ring/ring.h"

namespace uvmbus::channel {

enum class HostTrust : uint8_t {
  untrusted,  // copy every packet out of the ring before validating it
  trusted,    // validate and hand out packets in place
};

struct ChannelOptions {
  HostTrust host_trust = HostTrust::untrusted;
  uint32_t max_transactions = 1024;  // in-flight requests, 1..TransactionTable::kMaxCapacity
};

enum class ChannelEnd : uint8_t {
  none,          // open
  closed,        // closed by the guest
  rescinded,     // the host rescinded the offer
  host_gone,     // the transport reported EOF
  unloaded,      // the guest unloaded VMBus
  ring_corrupt,  // the host broke the ring protocol
};

const char* to_string(ChannelEnd end) noexcept;

struct ChannelStats {
  uint64_t packets_sent = 0;
  uint64_t packets_received = 0;  // handed out, aborted completions included
  uint64_t signals_sent = 0;      // doorbell writes (new data, or space freed)
  uint64_t signals_avoided = 0;   // published batches that needed no doorbell
  uint64_t ring_full = 0;         // send bursts stopped by a full ring
  uint64_t transactions_aborted = 0;
  std::array<uint64_t, kDropCauseCount> drops{};  // received packets dropped, by cause
};

class Channel {
 public:
  static constexpr std::size_t kMaxTransferPageSets = 4;

  // Attaches to two initialised rings (headers zeroed, feature bits set by
  // whoever allocated them) and masks inbound interrupts (poll mode).
  // `memory` (may be null: no GPA-direct) must outlive the channel; it turns
  // buffer addresses into page numbers and bounds the host's GPA ranges.
  static Expected<std::unique_ptr<Channel>, ControlError> create(
      const Offer& offer, const ring::RingMemory& outbound, const ring::RingMemory& inbound,
      std::unique_ptr<ChannelLink> link, const ChannelOptions& options,
      const GuestMemory* memory);

  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
  ~Channel();

  // ---- Data path (the owning worker) ---------------------------------------

  // Sends items in order until one cannot be sent; publishes once and rings
  // the doorbell at most once. Partial success is normal (ring_full).
  [[nodiscard]] SendResult send_burst(std::span<const SendItem> items) noexcept;

  // Hands out up to out.size() validated packets; 0 if none (or ended()).
  // Packets stay valid until the next receive_burst() or release_received().
  [[nodiscard]] std::size_t receive_burst(std::span<ReceivedPacket> out) noexcept;
  // Gives the packets of the last burst back to the ring (trusted mode holds
  // them in the ring until now; copy-out mode already has).
  void release_received() noexcept;

  // Back-pressure: asks the host to interrupt us once a packet with
  // `payload_bytes` of in-band data fits. `space_available`: send now;
  // `armed`: wait on wake_fd(); `unsupported`: the host never signals space
  // on this channel, poll. Cleared by the next send that publishes.
  [[nodiscard]] ring::PendingSend request_space_signal(std::size_t payload_bytes) noexcept;

  // Registers a transfer-page set for validating transfer-page packets.
  // False if kMaxTransferPageSets are registered or the id is taken.
  [[nodiscard]] bool add_transfer_page_set(TransferPageSet set) noexcept;

  // Pollable contract (see the file comment).
  [[nodiscard]] bool try_enter_interrupt_mode() noexcept;
  void exit_interrupt_mode() noexcept;
  int wake_fd() const noexcept { return link_->interrupt_fd(); }
  // Consumes pending interrupts (for callers that sleep on wake_fd() themselves).
  void acknowledge_interrupts() noexcept { link_->acknowledge_interrupts(); }

  uint32_t transactions_in_flight() const noexcept { return transactions_.in_flight(); }

  // ---- Any thread -----------------------------------------------------------

  // Ends the channel (first reason wins) and wakes a poller sleeping on it.
  void end(ChannelEnd reason) noexcept;
  bool ended() const noexcept { return end_reason() != ChannelEnd::none; }
  ChannelEnd end_reason() const noexcept { return end_.load(std::memory_order_acquire); }
  ChannelStats stats() const noexcept;
  const Offer& offer() const noexcept { return offer_; }

 private:
  struct Counters {
    RelaxedCounter packets_sent;
    RelaxedCounter packets_received;
    RelaxedCounter signals_sent;
    RelaxedCounter signals_avoided;
    RelaxedCounter ring_full;
    RelaxedCounter transactions_aborted;
    std::array<RelaxedCounter, kDropCauseCount> drops;
  };

  Channel(const Offer& offer, const ring::RingMemory& outbound, const ring::RingMemory& inbound,
          std::unique_ptr<ChannelLink> link, const ChannelOptions& options,
          const GuestMemory* memory);

  SendStatus write_one(const SendItem& item) noexcept;
  SendStatus to_send_status(ring::WriteStatus status) noexcept;
  Expected<std::span<const std::byte>, SendStatus> build_gpa_direct(
      std::span<const GuestBuffer> buffers) noexcept;
  bool accept(const ring::InPacket& packet, ReceivedPacket& out) noexcept;
  std::size_t deliver_aborted(std::span<ReceivedPacket> out) noexcept;
  void commit_reads() noexcept;
  void drop(DropCause cause) noexcept;

  static constexpr std::size_t kGpaScratchBytes =
      sizeof(wire::GpaDirectHeader) + kMaxGpaDirectRanges * sizeof(wire::GpaRange) +
      kMaxGpaDirectPages * sizeof(uint64_t);

  ring::RingWriter writer_;
  ring::RingReader reader_;
  Offer offer_;
  std::unique_ptr<ChannelLink> link_;
  const GuestMemory* memory_;
  HostTrust host_trust_;
  TransactionTable transactions_;
  std::unique_ptr<std::byte[]> copy_buffer_;  // untrusted mode: one burst of packets
  std::size_t copy_buffer_bytes_ = 0;
  bool space_requested_ = false;
  std::array<TransferPageSet, kMaxTransferPageSets> transfer_page_sets_{};
  std::size_t transfer_page_set_count_ = 0;
  alignas(8) std::array<std::byte, kGpaScratchBytes> gpa_scratch_{};
  std::array<ring::OutPacket, 32> plain_packets_{};  // send_burst's runs of in-band items
  std::atomic<ChannelEnd> end_{ChannelEnd::none};
  Counters counters_;
};

}  // namespace uvmbus::channel
