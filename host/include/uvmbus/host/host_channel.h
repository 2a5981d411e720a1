// HostChannel: one open channel as the host's data path sees it, and the
// runtime Pollable a worker drives. It reads the guest-to-host ring with a
// RingReader (every packet copied out before the device sees it) and writes
// the host-to-guest ring with a RingWriter; each poll() handles up to
// `budget` packets, then publishes reads and writes with one commit each and
// rings the guest's doorbell at most once, only if a commit says so.
//
// Back-pressure. When a reply does not fit the host-to-guest ring, the
// channel holds it (one reply, in a buffer allocated at open) and stops
// reading until it fits; before sleeping it asks the guest, through
// pending_send_sz, for a signal once there is room. A guest that never reads
// its ring thus stalls only its own channel. A second reply while one is
// held is dropped and counted.
//
// A ring the guest corrupts ends the channel's data path: poll() does
// nothing from then on, and the cause is counted.
//
// Host-originated packets. A device that sends requests of its own calls
// notify() from any thread; the owning worker then calls the handler's
// on_notify() from its next poll (waking it through the doorbell eventfd if
// it sleeps), and the handler sends from there. A channel nobody notifies
// pays one relaxed load per poll.
//
// Threads: the data path (poll, interrupt mode, send, complete) runs on the
// worker that owns the channel; stats(), corrupt() and notify() from any
// thread.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "uvmbus/channel/host_transport.h"
#include "uvmbus/channel/mapped_guest_memory.h"
#include "uvmbus/channel/relaxed_counter.h"
#include "uvmbus/host/device.h"
#include "uvmbus/ring/ring.h"
#include "uvmbus/runtime/pollable.h"

namespace uvmbus::host {

enum class HostDropCause : uint8_t {
  ring_corrupt,        // the guest broke the ring protocol; the channel stopped
  unexpected_packet,   // a packet type or request the device does not handle
  bad_gpa_range,       // a GPA-direct range outside registered memory or malformed
  reply_too_large,     // a reply that can never fit the host-to-guest ring
  reply_ring_full,     // a reply while another was already held for room
};
inline constexpr std::size_t kHostDropCauseCount =
    static_cast<std::size_t>(HostDropCause::reply_ring_full) + 1;

const char* to_string(HostDropCause cause) noexcept;

struct HostChannelStats {
  uint64_t packets_in = 0;       // guest packets handled
  uint64_t bytes_in = 0;         // their ring bytes
  uint64_t packets_out = 0;      // packets published to the guest
  uint64_t bytes_out = 0;
  uint64_t signals_sent = 0;     // doorbells rung to the guest
  uint64_t signals_avoided = 0;  // publishing polls that needed no doorbell
  uint64_t ring_full = 0;        // replies held because the guest's ring was full
  std::array<uint64_t, kHostDropCauseCount> drops{};
};

enum class SendOutcome : uint8_t {
  sent,     // in the current batch
  held,     // ring full: held until it fits (the channel stops reading)
  dropped,  // counted in drops
};

class HostChannel final : public runtime::Pollable {
 public:
  // Attaches to the two rings of a channel being opened (both headers
  // already initialised by the guest; the host sets the pending-send
  // feature and clears pending_send_sz on its outgoing ring, and masks the
  // guest's doorbell on the incoming one while polling). Returns nullptr if
  // either ring is unusable.
  static std::unique_ptr<HostChannel> create(const ring::RingMemory& from_guest,
                                             const ring::RingMemory& to_guest,
                                             std::shared_ptr<channel::HostChannelLink> link,
                                             const channel::MappedGuestMemory& memory,
                                             ChannelContext context);

  HostChannel(const HostChannel&) = delete;
  HostChannel& operator=(const HostChannel&) = delete;
  ~HostChannel() override;

  // Before the channel is attached to a worker.
  void set_handler(std::unique_ptr<ChannelHandler> handler) noexcept;
  // On the control thread, once no worker polls the channel any more.
  void close(CloseReason reason) noexcept;

  // ---- Data path (the owning worker, from within on_packet) ------------------
  SendOutcome send(const ring::OutPacket& packet) noexcept;
  // A completion packet for `trans_id` carrying `payload`.
  SendOutcome complete(uint64_t trans_id, std::span<const std::byte> payload) noexcept;
  void count_drop(HostDropCause cause) noexcept { counters_.drops[static_cast<std::size_t>(cause)].add(); }
  const channel::MappedGuestMemory& guest_memory() const noexcept { return memory_; }
  const ChannelContext& context() const noexcept { return context_; }

  // ---- runtime::Pollable -------------------------------------------------------
  std::size_t poll(std::size_t budget) noexcept override;
  [[nodiscard]] bool try_enter_interrupt_mode() noexcept override;
  void exit_interrupt_mode() noexcept override;
  int wake_fd() const noexcept override { return link_->doorbell_fd(); }

  // ---- Any thread ------------------------------------------------------------
  HostChannelStats stats() const noexcept;
  // Has the handler's on_notify() called from the worker's next poll.
  void notify() noexcept;
  bool corrupt() const noexcept { return corrupt_.load(std::memory_order_relaxed); }

 private:
  struct HeldReply {
    bool present = false;
    wire::PacketType type = wire::PacketType::data_inband;
    uint16_t flags = 0;
    uint64_t trans_id = 0;
    std::size_t header_ext_bytes = 0;
    std::size_t payload_bytes = 0;
  };
  struct Counters {
    channel::RelaxedCounter packets_in;
    channel::RelaxedCounter bytes_in;
    channel::RelaxedCounter packets_out;
    channel::RelaxedCounter bytes_out;
    channel::RelaxedCounter signals_sent;
    channel::RelaxedCounter signals_avoided;
    channel::RelaxedCounter ring_full;
    std::array<channel::RelaxedCounter, kHostDropCauseCount> drops;
  };

  HostChannel(const ring::RingMemory& from_guest, const ring::RingMemory& to_guest,
              std::shared_ptr<channel::HostChannelLink> link,
              const channel::MappedGuestMemory& memory, ChannelContext context);

  bool hold(const ring::OutPacket& packet) noexcept;
  bool write_held() noexcept;
  uint32_t held_ring_bytes() const noexcept;
  void publish() noexcept;
  void mark_corrupt() noexcept;

  ring::RingReader reader_;  // guest -> host
  ring::RingWriter writer_;  // host -> guest
  std::shared_ptr<channel::HostChannelLink> link_;
  const channel::MappedGuestMemory& memory_;
  ChannelContext context_;
  std::unique_ptr<ChannelHandler> handler_;
  std::vector<std::byte> copy_;       // copy-out buffer: the largest guest packet
  std::vector<std::byte> held_bytes_; // header_ext then payload of the held reply
  HeldReply held_;
  std::atomic<bool> corrupt_{false};
  // Set by notify() (release), taken by poll() (acquire): what the notifier
  // prepared for the handler is visible to on_notify().
  std::atomic<bool> notified_{false};
  Counters counters_;
};

}  // namespace uvmbus::host
