// KvpHostSession: the host end of one KVP channel, sans-IO. It writes the
// host's NEGOTIATE and KVP requests into its own buffer (lib/ic's
// HostEndpoint frames them, lib/kvp's host codec writes the bodies) and
// turns each packet from the guest into an event: negotiated, the reply to
// the outstanding call (decoded for its operation), or dropped with the
// reason. The KVP device runs one per channel on the worker; tests that play
// the host use it directly.
//
// One call at a time (spec §4) unless set_window() allows more in flight
// (answered in order); a request beyond the window is refused. negotiate()
// may be sent again at any time (a guest that did not answer yet, or a reset
// after a timeout); replies to older requests are then dropped as stale.
//
// Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "uvmbus/ic/host_endpoint.h"
#include "uvmbus/kvp/host_codec.h"
#include "uvmbus/kvp/ip_info.h"
#include "uvmbus/wire/ic.h"
#include "uvmbus/wire/kvp.h"

namespace uvmbus::host {

// One request the host sends.
struct KvpCall {
  wire::KvpOperation operation = wire::KvpOperation::get;
  wire::KvpPool pool = wire::KvpPool::external;
  std::string key;     // get, set, del
  std::string value;   // set
  uint32_t index = 0;  // enumerate
  kvp::IpInfo ip_info; // get_ip_info (adapter_id = MAC), set_ip_info (adapter_id = "{guid}")
};

enum class KvpSessionEventKind : uint8_t {
  negotiated,         // the guest accepted a version pair (versions() is set)
  negotiate_refused,  // the guest answered NEGOTIATE without a common version
  reply,              // the reply to the outstanding call
  dropped,            // not a usable reply; `ic_error` says why
};

struct KvpSessionEvent {
  KvpSessionEventKind kind = KvpSessionEventKind::dropped;
  ic::IcError ic_error = ic::IcError::none;
  wire::HvStatus status = wire::HvStatus::ok;  // the guest's status (negotiate, reply)
  // reply with status ok: what the body says for GET, ENUMERATE and GET_IP_INFO.
  // A body that does not decode leaves `bad_body` set (the guest broke the format).
  kvp::KvpError bad_body = kvp::KvpError::none;
  std::string key;    // ENUMERATE
  std::string value;  // ENUMERATE, GET
  kvp::IpInfo ip_info;  // GET_IP_INFO
};

class KvpHostSession {
 public:
  KvpHostSession();

  // The packet (pipe + IC headers + body) to send, or the reason there is
  // none. The span points into the session's buffer and stays valid until
  // the next call that writes one.
  struct Packet {
    ic::IcError ic_error = ic::IcError::none;
    kvp::KvpError kvp_error = kvp::KvpError::none;  // the call's key/value/IP info
    std::span<const std::byte> bytes;
  };
  [[nodiscard]] Packet negotiate();
  [[nodiscard]] Packet request(const KvpCall& call);
  // Frames a body the caller wrote at body() (tests send hostile bodies).
  [[nodiscard]] Packet frame(std::size_t body_size);
  [[nodiscard]] std::span<std::byte> body() noexcept {
    return std::span(buffer_).subspan(wire::kIcBodyOffset);
  }

  [[nodiscard]] KvpSessionEvent on_packet(std::span<const std::byte> packet);

  [[nodiscard]] std::optional<ic::NegotiatedVersions> versions() const noexcept {
    return endpoint_.versions();
  }
  [[nodiscard]] bool awaiting_reply() const noexcept { return endpoint_.awaiting_reply(); }
  // Negotiated, with room in the window for another request.
  [[nodiscard]] bool can_send() const noexcept { return endpoint_.can_send(); }
  void set_window(std::size_t window) noexcept { endpoint_.set_window(window); }
  [[nodiscard]] ic::HostEndpoint& endpoint() noexcept { return endpoint_; }

 private:
  ic::HostEndpoint endpoint_;
  std::deque<wire::KvpOperation> outstanding_;  // operations of the calls in flight, oldest first
  std::vector<std::byte> buffer_;
};

}  // namespace uvmbus::host
