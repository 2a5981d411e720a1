// IC version negotiation: the host offers framework and service versions in
// a NEGOTIATE message, the guest picks one of each and answers in place.
//
// Guest rule (Linux vmbus_prep_negotiate_resp): walk our own preference list,
// newest first, and take the first entry the host offered exactly; do this
// for the framework list and for the service list. The reply has counts 1/1,
// entry 0 = framework, entry 1 = service, message_size 16. Without a match
// the counts are 0/0 and, unlike Linux (which leaves status 0), the status is
// HV_E_FAIL, as the upstream uio fcopy daemon does.
//
// Host rule (OpenVMM hyperv_ic common.rs): offer framework [1.0, 3.0] and the
// service's versions in ascending order; accept a reply only if both counts
// are 1 and both versions are among those offered.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "uvmbus/ic/frame.h"
#include "uvmbus/ic/ic_error.h"
#include "uvmbus/wire/ic.h"

namespace uvmbus::ic {

inline constexpr wire::IcVersion kFrameworkVersion1{1, 0};
inline constexpr wire::IcVersion kFrameworkVersion3{3, 0};

// Guest framework preference (Linux UTIL_FW_VERSION, UTIL_WS2K8_FW_VERSION).
inline constexpr std::array kGuestFrameworkVersions{kFrameworkVersion3, kFrameworkVersion1};
// Host framework offer, ascending.
inline constexpr std::array kHostFrameworkVersions{kFrameworkVersion1, kFrameworkVersion3};

// Version lists. The spans must outlive whoever holds them (use constants).
struct VersionLists {
  std::span<const wire::IcVersion> framework;
  std::span<const wire::IcVersion> service;
};

struct NegotiatedVersions {
  wire::IcVersion framework;
  wire::IcVersion service;

  friend constexpr bool operator==(const NegotiatedVersions&,
                                   const NegotiatedVersions&) = default;
};

// The first of `preferred` that appears in `offered`, if any.
[[nodiscard]] std::optional<wire::IcVersion> select_version(
    std::span<const wire::IcVersion> preferred,
    std::span<const wire::IcVersion> offered) noexcept;

struct NegotiateAnswer {
  IcError error;  // none, or why the reply says "no versions"
  std::optional<NegotiatedVersions> versions;
};

// Guest: answers the host's NEGOTIATE request in `packet` (which passed
// parse_frame and has message type negotiate) in place, choosing from
// `preferences` (newest first). Every outcome leaves a reply in `packet`.
[[nodiscard]] NegotiateAnswer answer_negotiate(std::span<std::byte> packet,
                                               const VersionLists& preferences) noexcept;

// Host: writes a NEGOTIATE request offering `offer` (each list ascending).
[[nodiscard]] SizeResult write_negotiate_request(std::span<std::byte> out,
                                                 const VersionLists& offer,
                                                 uint8_t transaction_id) noexcept;

// Host: reads the guest's NEGOTIATE reply body (frame of a response).
[[nodiscard]] NegotiateAnswer read_negotiate_reply(const IcFrame& reply,
                                                   const VersionLists& offer) noexcept;

}  // namespace uvmbus::ic
