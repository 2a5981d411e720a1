// The KVP guest service, sans-IO: one packet from the host goes in and is
// turned into its reply in place. lib/ic negotiates and keeps the
// one-transaction discipline, lib/kvp decodes and encodes bodies; this class
// maps each operation onto its pool:
//   pools 0, 1, 3  the pool store (SET, GET, DELETE, ENUMERATE)
//   pool 2         the intrinsic keys (ENUMERATE, GET); SET/DELETE refused
//   pool 4         never exchanged with the host: refused
//   IP info        IpConfig (GET_IP_INFO by MAC, SET_IP_INFO by GUID)
// Every request the IC layer can frame gets an answer; failures carry a
// status that names the cause, never "no more items" (only the end of an
// ENUMERATE does).
//
// Not thread-safe: used by the worker that polls the channel.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "auto_pool.h"
#include "ip_config.h"
#include "uvmbus/ic/guest_endpoint.h"
#include "uvmbus/kvp/guest_codec.h"
#include "uvmbus/kvp/kvp_error.h"
#include "uvmbus/kvp/pool_store.h"
#include "uvmbus/wire/kvp.h"

namespace uvmbus::kvpd {

struct PacketOutcome {
  bool send_reply = false;  // the packet holds the reply: send it back as is
  bool negotiated = false;  // the packet was a NEGOTIATE
  ic::IcError ic_error = ic::IcError::none;
  kvp::KvpError kvp_error = kvp::KvpError::none;
  kvp::StoreStatus store_status = kvp::StoreStatus::ok;
  wire::KvpOperation operation{};  // for service requests
  wire::KvpPool pool{};
  wire::HvStatus status = wire::HvStatus::ok;  // what the reply says
};

struct ServiceCounters {
  std::array<uint64_t, wire::kKvpOperationCount> requests{};  // by operation, decoded ones
  uint64_t negotiations = 0;
  uint64_t refused = 0;  // answered with a failure for malformed or refused input
  uint64_t dropped = 0;  // too broken to answer
};

class KvpService {
 public:
  // `versions`: KVP service versions, newest first (kvp::kGuestVersions or
  // kvp::kLinuxGuestVersions); must outlive the service.
  KvpService(std::span<const wire::IcVersion> versions, kvp::PoolStore& store,
             const AutoPool& auto_pool, IpConfig& ip_config) noexcept;

  [[nodiscard]] PacketOutcome on_packet(std::span<std::byte> packet);

  [[nodiscard]] const ServiceCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] std::optional<ic::NegotiatedVersions> versions() const noexcept {
    return endpoint_.versions();
  }

 private:
  void serve(std::span<std::byte> body, PacketOutcome& outcome);
  wire::HvStatus serve_store(const kvp::KvpRequest& request, std::span<std::byte> body,
                             PacketOutcome& outcome);
  wire::HvStatus serve_auto_pool(const kvp::KvpRequest& request, std::span<std::byte> body,
                                 PacketOutcome& outcome);
  wire::HvStatus serve_ip_info(const kvp::KvpRequest& request, std::span<std::byte> body,
                               PacketOutcome& outcome);

  ic::GuestEndpoint endpoint_;
  kvp::PoolStore& store_;
  const AutoPool& auto_pool_;
  IpConfig& ip_config_;
  ServiceCounters counters_;
};

}  // namespace uvmbus::kvpd
