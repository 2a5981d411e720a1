// VmbusClient: the guest side of the VMBus control protocol as a sans-IO
// state machine. Requests (start_connect, start_create_gpadl, start_open, ...)
// write their messages through a ControlSender and return at once; messages
// from the host go in through on_message(), which completes the requests
// they answer. Nothing here waits: VmbusConnection adds the bounded waits and
// the transport plumbing on top.
//
// The protocol (shared/spec/vmbus-channel.md): InitiateContact with version
// fallback, newest first as Linux does, down to the oldest version the spec
// lists; RequestOffers, OfferChannel..., AllOffersDelivered; GPADLs as one
// header message (up to 26 PFNs) plus body messages (up to 28 each), answered
// by GpadlCreated with the same relid and handle; OpenChannel answered by
// OpenChannelResult with the same relid and openid; CloseChannel (no reply);
// ModifyChannel, answered from 5.3 on by ModifyChannelResponse;
// GpadlTeardown / GpadlTorndown; Rescind, then RelidReleased once the guest
// let go of the channel; Unload / UnloadResponse.
//
// The host is untrusted. Every message is parsed from a private copy and
// length-checked against its type (parse_host_message); offers are checked
// field by field (decode_offer) and against the other offers; replies must
// match an outstanding request exactly. Anything else is dropped: the call
// returns why, and a per-cause counter goes up. No input can crash the
// client, grow its tables (they are bounded by relids and by the guest's own
// requests) or complete a request it does not answer.
//
// Once the host rescinds a channel it answers nothing more about it, so
// pending requests on it fail with `rescinded`, and close and teardown send
// nothing. After EOF (on_host_gone) everything pending fails with host_gone.
//
// Not thread-safe: one control-plane thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "uvmbus/channel/control_error.h"
#include "uvmbus/channel/expected.h"
#include "uvmbus/channel/offer.h"
#include "uvmbus/channel/transport.h"
#include "uvmbus/wire/channel_messages.h"

namespace uvmbus::channel {

// Versions tried by default, newest first: Linux's list (6.0 .. Win8), then
// the two older ones the spec lists.
inline constexpr std::array kDefaultVmbusVersions = {
    wire::VmbusVersion::win10_v6_0, wire::VmbusVersion::win10_v5_3,
    wire::VmbusVersion::win10_v5_2, wire::VmbusVersion::win10_v5_1,
    wire::VmbusVersion::win10_v5,   wire::VmbusVersion::win10_v4_1,
    wire::VmbusVersion::win10,      wire::VmbusVersion::win8_1,
    wire::VmbusVersion::win8,       wire::VmbusVersion::win7,
    wire::VmbusVersion::ws2008,
};

// GpadlHeader::range_buflen is 16 bits: one range of at most this many pages.
inline constexpr uint32_t kMaxGpadlPages =
    (0xFFFFu - sizeof(wire::GpaRange)) / sizeof(uint64_t);

// First GPADL handle (as Linux's counter); handles only grow, so a late
// reply can never match a newer GPADL.
inline constexpr uint32_t kFirstGpadlHandle = 0xE1E10;

struct ClientOptions {
  // Newest first; the span must outlive the client. Empty = nothing to try.
  std::span<const wire::VmbusVersion> versions = kDefaultVmbusVersions;
  uint32_t target_vcpu = 0;  // InitiateContact: the VP for control messages
};

enum class ConnectionState : uint8_t {
  idle,        // nothing sent yet
  contacting,  // InitiateContact sent, waiting for VersionResponse
  connected,
  unloading,   // Unload sent
  unloaded,
  failed,      // negotiation failed; failure() says why; start_connect() may retry
  host_gone,   // EOF from the transport
};

enum class ClientEventType : uint8_t { offer, rescind, all_offers_delivered };

struct ClientEvent {
  ClientEventType type;
  uint32_t relid = 0;  // offer, rescind
};

enum class GpadlState : uint8_t {
  none,          // no such GPADL (never created, torn down, or forgotten)
  creating,      // header and bodies sent, waiting for GpadlCreated
  created,
  failed,        // creation failed; see GpadlStatus::error
  tearing_down,  // GpadlTeardown sent, waiting for GpadlTorndown
};

struct GpadlStatus {
  GpadlState state = GpadlState::none;
  ControlError error = ControlError::none;
  uint32_t host_status = 0;  // GpadlCreated::creation_status when refused
};

enum class OpenState : uint8_t {
  closed,   // never opened, or closed
  opening,  // OpenChannel sent, waiting for OpenChannelResult
  open,
  failed,   // see OpenStatus::error
};

struct OpenStatus {
  OpenState state = OpenState::closed;
  ControlError error = ControlError::none;
  uint32_t host_status = 0;  // OpenChannelResult::status when refused
};

// ModifyChannel (protocol 4.1+): moves a channel's host-to-guest interrupts
// to another VP. Hosts acknowledge it from 5.3 on; before that the request
// counts as applied once sent.
enum class ModifyState : uint8_t {
  none,     // no ModifyChannel since the channel was opened
  pending,  // sent, waiting for ModifyChannelResponse
  applied,  // acknowledged, or sent to a host that does not acknowledge
  failed,   // see ModifyStatus::error
};

struct ModifyStatus {
  ModifyState state = ModifyState::none;
  ControlError error = ControlError::none;
  uint32_t host_status = 0;  // ModifyChannelResponse::status when refused
  uint32_t target_vp = 0;    // of the latest request
};

struct OpenRequest {
  uint32_t relid = 0;
  uint32_t ring_gpadl = 0;              // a created GPADL of this channel
  uint32_t downstream_page_offset = 0;  // first page of the host-to-guest ring
  uint32_t target_vp = 0;               // VP for host-to-guest interrupts
  std::array<uint8_t, wire::kOpenChannelUserDataSize> user_data{};
};

struct ClientStats {
  uint64_t messages_sent = 0;
  uint64_t messages_received = 0;  // host messages used
  uint64_t messages_rejected = 0;  // host messages dropped, by cause below
  std::array<uint64_t, kControlErrorCount> rejected_by_cause{};
  uint64_t offers_accepted = 0;
  std::array<uint64_t, kOfferErrorCount> offers_rejected_by_cause{};
  uint64_t versions_tried = 0;
  uint64_t events_dropped = 0;  // events not collected in time (queue bound)
};

class VmbusClient {
 public:
  static constexpr std::size_t kMaxQueuedEvents = 4096;

  // `sender` must outlive the client. Allocates the offer table and the
  // event queue here, so that no host message makes the client allocate.
  explicit VmbusClient(ControlSender& sender, ClientOptions options = {});

  VmbusClient(const VmbusClient&) = delete;
  VmbusClient& operator=(const VmbusClient&) = delete;

  // ---- Input from the host -------------------------------------------------

  // Handles one message. Returns none if it was used; otherwise why it was
  // dropped (also counted in stats()).
  ControlError on_message(std::span<const std::byte> bytes) noexcept;
  // Counts a message the transport dropped for being over 240 bytes.
  void on_oversized_message() noexcept;
  // The transport reported EOF: every pending request fails with host_gone.
  void on_host_gone() noexcept;

  // ---- Requests ------------------------------------------------------------
  // Each returns none once its message is sent, or why nothing (or, for a
  // GPADL, not everything) was sent.

  // InitiateContact with the newest version; the VersionResponse either
  // connects or makes the client try the next one. From idle or failed.
  ControlError start_connect() noexcept;
  // RequestOffers; once, when connected.
  ControlError request_offers() noexcept;
  // A GPADL of `page_count` contiguous pages from `first_pfn` for channel
  // `relid`, as one range. Returns the new handle.
  Expected<uint32_t, ControlError> start_create_gpadl(uint32_t relid, uint64_t first_pfn,
                                                      uint32_t page_count);
  // GpadlTeardown for a created GPADL; a failed one, or one whose channel was
  // rescinded or whose host is gone, is dropped at once (state none).
  ControlError start_teardown_gpadl(uint32_t handle) noexcept;
  // Drops the record of a GPADL whose creation failed.
  void forget_gpadl(uint32_t handle) noexcept;
  // OpenChannel (openid = relid, as Linux).
  ControlError start_open(const OpenRequest& request) noexcept;
  // ModifyChannel for an open channel; one at a time per channel. From
  // protocol 4.1 on (invalid_state before).
  ControlError start_modify(uint32_t relid, uint32_t target_vp) noexcept;
  // CloseChannel; no reply. Sends nothing for a rescinded channel.
  ControlError close_channel(uint32_t relid) noexcept;
  // RelidReleased for a rescinded channel the guest no longer uses; the relid
  // may then be offered again.
  ControlError release_relid(uint32_t relid) noexcept;
  // Unload; from Win7 on the host answers with UnloadResponse.
  ControlError start_unload() noexcept;

  // ---- State ---------------------------------------------------------------

  ConnectionState state() const noexcept { return state_; }
  // Why the state is failed (or host_gone).
  ControlError failure() const noexcept { return failure_; }
  // The negotiated version, once connected.
  std::optional<wire::VmbusVersion> version() const noexcept;
  // Connection id for messages after InitiateContact (protocol >= 5.0: from
  // the VersionResponse; before: 1).
  uint32_t message_connection_id() const noexcept { return message_connection_id_; }
  bool offers_delivered() const noexcept { return offers_delivered_; }

  // The offer with this relid (also while rescinded, until released).
  const Offer* offer(uint32_t relid) const noexcept;
  bool rescinded(uint32_t relid) const noexcept;
  // Offers not rescinded, in relid order.
  std::vector<Offer> offers() const;
  OpenStatus open_status(uint32_t relid) const noexcept;
  ModifyStatus modify_status(uint32_t relid) const noexcept;
  GpadlStatus gpadl_status(uint32_t handle) const noexcept;

  // Offers, rescinds and AllOffersDelivered, oldest first.
  std::optional<ClientEvent> next_event() noexcept;

  const ClientStats& stats() const noexcept { return stats_; }

 private:
  struct OfferRecord {
    Offer offer;
    bool rescinded = false;
    OpenStatus open;
    ModifyStatus modify;
  };
  struct GpadlRecord {
    uint32_t relid = 0;
    GpadlStatus status;
  };

  ControlError reject(ControlError error) noexcept;
  template <typename Message>
  ControlError send(const Message& message) noexcept;
  ControlError send_bytes(std::span<const std::byte> bytes) noexcept;
  ControlError send_initiate_contact() noexcept;
  ControlError send_gpadl(uint32_t relid, uint32_t handle, uint64_t first_pfn,
                          uint32_t page_count) noexcept;
  void push_event(ClientEvent event) noexcept;
  bool accepting_channel_messages() const noexcept;
  OfferRecord* find_offer(uint32_t relid) noexcept;
  const OfferRecord* find_offer(uint32_t relid) const noexcept;
  uint32_t allocate_gpadl_handle() noexcept;
  void fail_pending(ControlError error) noexcept;
  static void fail_pending(OfferRecord& record, ControlError error) noexcept;

  ControlError handle(const wire::VersionResponse& message) noexcept;
  ControlError handle(const wire::OfferChannel& message) noexcept;
  ControlError handle(const wire::RescindChannelOffer& message) noexcept;
  ControlError handle(const wire::AllOffersDelivered& message) noexcept;
  ControlError handle(const wire::GpadlCreated& message) noexcept;
  ControlError handle(const wire::GpadlTorndown& message) noexcept;
  ControlError handle(const wire::OpenChannelResult& message) noexcept;
  ControlError handle(const wire::ModifyChannelResponse& message) noexcept;
  ControlError handle(const wire::UnloadResponse& message) noexcept;
  std::optional<OfferError> check_against_others(const Offer& offer) const noexcept;

  ControlSender& sender_;
  ClientOptions options_;
  ConnectionState state_ = ConnectionState::idle;
  ControlError failure_ = ControlError::none;
  std::size_t version_index_ = 0;  // into options_.versions
  uint32_t message_connection_id_ = wire::kVmbusMessageConnectionId;
  bool offers_requested_ = false;
  bool offers_delivered_ = false;
  uint32_t next_gpadl_handle_ = kFirstGpadlHandle;
  std::vector<std::optional<OfferRecord>> offers_;    // indexed by relid, 0..kMaxRelid
  std::unordered_map<uint32_t, GpadlRecord> gpadls_;  // by handle; grows only on guest requests
  std::vector<ClientEvent> events_;                   // ring of kMaxQueuedEvents
  std::size_t first_event_ = 0;
  std::size_t event_count_ = 0;
  ClientStats stats_;
};

}  // namespace uvmbus::channel
