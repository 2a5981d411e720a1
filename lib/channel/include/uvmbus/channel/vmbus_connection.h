// VmbusConnection: the guest's VMBus over a Transport, for the control-plane
// thread. It drives a VmbusClient with the transport's messages and adds
// bounded waits: connect (register memory, negotiate, collect offers), open
// and close channels (ring memory, ring GPADL, doorbells, OpenChannel),
// extra GPADLs for device buffers, sub-channel discovery, and unload.
//
// Every wait ends by a deadline (ConnectionOptions); a host that stops
// answering yields timed_out, never a hang. Rescinds and host death are
// applied to the open channels as soon as pump() sees them: the channel ends
// (its worker sees channel_ended / aborted transactions / end of channel),
// and close_channel() then sends nothing the host would not answer.
//
// Memory a host may still touch is never freed: if a GPADL teardown is not
// acknowledged in time, its pages stay allocated until the connection is
// destroyed.
//
// Threads: every call from one control-plane thread. Channels are handed to
// workers between open_channel() and close_channel(); the caller stops
// using a channel before closing it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "uvmbus/channel/channel.h"
#include "uvmbus/channel/control_error.h"
#include "uvmbus/channel/expected.h"
#include "uvmbus/channel/guest_memory.h"
#include "uvmbus/channel/ring_pair.h"
#include "uvmbus/channel/transport.h"
#include "uvmbus/channel/vmbus_client.h"

namespace uvmbus::channel {

struct ConnectionOptions {
  ClientOptions client;
  // Bound on each wait for a reply (version negotiation, offers, GPADL,
  // open, teardown).
  std::chrono::milliseconds reply_timeout{5000};
  // Unload can take long while the host flushes caches (Linux waits 100 s).
  std::chrono::milliseconds unload_timeout{100000};
};

struct OpenOptions {
  uint32_t outbound_ring_bytes = 256 * 1024;  // data area, multiple of 4 KiB
  uint32_t inbound_ring_bytes = 256 * 1024;
  uint32_t target_vp = 0;
  std::array<uint8_t, wire::kOpenChannelUserDataSize> user_data{};
  ChannelOptions channel;
};

class VmbusConnection {
 public:
  // Registers `memory`'s regions, negotiates the version, requests offers
  // and waits for AllOffersDelivered. `transport` and `memory` must outlive
  // the connection.
  static Expected<std::unique_ptr<VmbusConnection>, ControlError> connect(
      Transport& transport, GuestMemory& memory, const ConnectionOptions& options = {});

  VmbusConnection(const VmbusConnection&) = delete;
  VmbusConnection& operator=(const VmbusConnection&) = delete;
  // Closes the channels still open (sub-channels first), with bounded waits.
  ~VmbusConnection();

  // Handles what the host sent, waiting up to `max_wait` for something to
  // arrive. Returns false once the host is gone.
  bool pump(std::chrono::milliseconds max_wait);
  // Readable when pump() has something to do.
  int control_fd() const noexcept { return transport_.control_fd(); }

  // ---- Offers ---------------------------------------------------------------

  std::vector<Offer> offers() const { return client_.offers(); }
  const Offer* offer(uint32_t relid) const noexcept { return client_.offer(relid); }
  // Offers, rescinds, AllOffersDelivered as pump() saw them, oldest first.
  std::optional<ClientEvent> next_event() noexcept;
  // Waits until sub-channels 1..count of `primary_relid`'s device are
  // offered, or the timeout; returns those offered by then, by index. The
  // device protocol asks for them (and may be granted fewer).
  std::vector<Offer> wait_for_subchannels(uint32_t primary_relid, uint16_t count,
                                          std::chrono::milliseconds timeout);

  // ---- Channels -------------------------------------------------------------

  // Allocates the ring pair, creates its GPADL, attaches the doorbells and
  // opens the channel. The Channel lives until close_channel(relid).
  Expected<Channel*, ControlError> open_channel(uint32_t relid, const OpenOptions& options = {});
  // Ends and closes the channel (CloseChannel, ring GPADL teardown; after a
  // rescind only RelidReleased) and frees it. A primary's sub-channels must
  // be closed first (subchannels_open).
  ControlError close_channel(uint32_t relid);
  Channel* channel(uint32_t relid) const noexcept;
  // ModifyChannel: moves the open channel's host-to-guest interrupts to
  // `target_vp`, waiting for the host's acknowledgement from protocol 5.3 on.
  ControlError modify_channel(uint32_t relid, uint32_t target_vp);

  // ---- Device buffers -------------------------------------------------------

  // A GPADL over `pages` on channel `relid`; `pages` must stay allocated
  // until teardown_gpadl() succeeds.
  Expected<uint32_t, ControlError> create_gpadl(uint32_t relid, const GuestPages& pages);
  ControlError teardown_gpadl(uint32_t handle);

  // ---- Connection -----------------------------------------------------------

  // Unload; ends every open channel (close them afterwards to free them).
  ControlError unload();
  ConnectionState state() const noexcept { return client_.state(); }
  std::optional<wire::VmbusVersion> version() const noexcept { return client_.version(); }
  const ClientStats& stats() const noexcept { return client_.stats(); }
  const VmbusClient& client() const noexcept { return client_; }
  uint64_t events_dropped() const noexcept { return events_dropped_; }

 private:
  struct ChannelRecord {
    RingPair rings;  // destroyed after the channel
    uint32_t ring_gpadl = 0;
    std::unique_ptr<Channel> channel;
  };

  VmbusConnection(Transport& transport, GuestMemory& memory, const ConnectionOptions& options);

  template <typename Done>
  ControlError wait_until(Done done, std::chrono::milliseconds timeout);
  ControlError register_new_regions();
  void collect_events();
  void end_all_channels(ChannelEnd reason);
  ControlError wait_for_gpadl(uint32_t handle);
  ControlError teardown_and_wait(uint32_t handle, RingPair* rings_to_keep);
  Expected<Channel*, ControlError> open_with_rings(uint32_t relid, const OpenOptions& options,
                                                   RingPair rings);

  Transport& transport_;
  GuestMemory& memory_;
  ConnectionOptions options_;
  VmbusClient client_;
  std::size_t registered_regions_ = 0;
  uint32_t opening_relid_ = 0;  // the channel open_channel() is working on
  std::map<uint32_t, ChannelRecord> channels_;  // by relid
  std::deque<ClientEvent> events_;
  uint64_t events_dropped_ = 0;
  // Memory whose GPADL teardown was never acknowledged: kept, not reused.
  std::vector<RingPair> unreleased_rings_;
};

}  // namespace uvmbus::channel
