// KvpDevice: the host's Data Exchange (KVP) integration service, as a
// Hyper-V host plays it (shared/spec/ic-kvp.md §4, §6, §13).
//
// It offers the KVP class (a9a0f4e7-...) as a pipe channel to every
// partition. When a guest opens it, the device negotiates (framework 1.0/3.0,
// KVP 3.0/4.0/5.0), sending NEGOTIATE again at `negotiate_retry` while the
// guest does not answer (Linux leaves it unanswered until its daemon runs),
// then sends its SET burst: the VM's auto-external (pool 3) items, then its
// external (pool 0) items. After that it sends what the control plane asks
// for, one transaction at a time, and enumerates the guest (1) and
// intrinsic (2) pools every `enumerate_interval` and on demand, until the
// guest answers "no more items".
//
// State per VM (keyed by partition name, so it survives the guest
// reconnecting): the host's pool 0 and 3 items, in insertion order, and the
// last enumeration of pools 1 and 2.
//
// Data path: each open channel's handler runs on the runtime worker polling
// it and never blocks; control-plane calls queue requests for it and wake it
// through HostChannel::notify(). A guest's reply that is malformed, late,
// for another transaction, or for an operation it was not asked is counted
// and dropped; a request the guest leaves unanswered for `request_timeout`
// fails with `timeout`, and the device negotiates again (so a late reply is
// recognised as stale) before sending the next one.
//
// Threads: every public call may come from any thread except the runtime
// workers; calls that talk to the guest wait for its answer (at most
// `call_timeout` in the queue, then `request_timeout` per request).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "uvmbus/channel/expected.h"
#include "uvmbus/host/device.h"
#include "uvmbus/host/kvp_session.h"
#include "uvmbus/ic/negotiate.h"
#include "uvmbus/kvp/ip_info.h"
#include "uvmbus/wire/guid.h"
#include "uvmbus/wire/ic.h"
#include "uvmbus/wire/kvp.h"

namespace uvmbus::host {

// OpenVMM's instance GUID for the KVP device.
inline constexpr wire::Guid kKvpInstanceGuid = wire::guid_literal("242ff919-07db-4180-9c2e-b86cb68c8c55");

struct KvpDeviceConfig {
  wire::Guid instance_id = kKvpInstanceGuid;
  // How long the guest has to answer one request before it fails.
  std::chrono::milliseconds request_timeout{5000};
  // How long a call may wait in the queue (the guest not negotiated yet, or
  // busy with earlier requests) before it fails with `timeout`.
  std::chrono::milliseconds call_timeout{10000};
  // NEGOTIATE is sent again after this long without an answer.
  std::chrono::milliseconds negotiate_retry{1000};
  // Background enumeration of pools 1 and 2; 0 = only on demand.
  std::chrono::milliseconds enumerate_interval{30000};
  // Independent calls (SET, GET, DELETE, one-item ENUMERATE) in flight at
  // once, answered in order; 1 is Hyper-V's one-transaction discipline
  // (spec §4). More overlaps the VMBus round trip with the guest's work; a
  // guest that handles one packet at a time (Linux, kvpd) keeps the rest in
  // its ring, so window × 2.6 KB must fit the guest's inbound ring.
  std::size_t window = 1;
};

enum class KvpErrc : uint8_t {
  no_such_vm,           // no VM of that name has connected or been given items
  guest_not_connected,  // the VM's guest has not opened the KVP channel
  timeout,              // the guest did not answer in time
  key_too_long,         // more than 255 UTF-16 units (512 bytes with the NUL) or 511 UTF-8 bytes
  value_too_long,       // more than 1,023 UTF-16 units (2,048 bytes) or 2,047 UTF-8 bytes
  bad_text,             // empty key, or text that is not valid UTF-8
  bad_pool,             // the host writes pools 0 and 3 and reads pools 1 and 2 only
  not_found,            // no such item (host pool), or the guest has none (GET)
  guest_failed,         // the guest answered with a failure status (see `status`)
  bad_reply,            // the guest's reply did not decode
  bad_ip_info,          // the IP configuration cannot be sent
  stopped,              // the device is shutting down
};

const char* to_string(KvpErrc code) noexcept;

struct KvpFailure {
  KvpErrc code;
  wire::HvStatus status = wire::HvStatus::ok;  // guest_failed / not_found from the guest
  std::string detail;
};

// "guest_failed (0x80004005): ..." for logs and the CLI.
std::string describe(const KvpFailure& failure);

template <typename T>
using KvpResult = channel::Expected<T, KvpFailure>;

struct KvpItem {
  std::string key;
  std::string value;
  friend bool operator==(const KvpItem&, const KvpItem&) = default;
};

struct GuestItems {
  std::vector<KvpItem> items;
  std::chrono::system_clock::time_point fetched;  // when the enumeration ended
  bool from_cache = false;
};

// What a host-pool change did.
enum class Delivery : uint8_t {
  acknowledged,  // the guest acknowledged it
  stored,        // recorded; the guest is not connected and gets it in its next burst
};

// Per-channel counters of what the guest sent that could not be used.
struct KvpChannelCounters {
  uint64_t requests = 0;         // requests sent (NEGOTIATE included)
  uint64_t replies = 0;          // replies matched to the outstanding request
  uint64_t negotiations = 0;     // successful NEGOTIATEs
  uint64_t negotiate_retries = 0;
  uint64_t timeouts = 0;         // requests left unanswered
  uint64_t dropped = 0;          // guest packets not usable as a reply (any cause)
  uint64_t bad_bodies = 0;       // replies whose body did not decode
  uint64_t send_failures = 0;    // requests the guest's ring would not take
};

struct KvpVmStatus {
  std::string name;
  bool connected = false;   // the KVP channel is open
  std::optional<ic::NegotiatedVersions> versions;
  std::size_t external_items = 0;       // pool 0
  std::size_t auto_external_items = 0;  // pool 3
  KvpChannelCounters counters;          // of the current (or last) channel
};

class KvpDevice final : public Device {
 public:
  static std::shared_ptr<KvpDevice> create(KvpDeviceConfig config = {});
  ~KvpDevice() override;

  // ---- Device ------------------------------------------------------------------
  std::string_view name() const noexcept override { return "kvp"; }
  const DeviceOffer& offer() const noexcept override { return offer_; }
  std::unique_ptr<ChannelHandler> open_channel(const ChannelContext& context) override;

  // ---- Host pools (0 external, 3 auto-external) ---------------------------------
  // Adds or replaces an item and sends the SET if the guest is connected.
  KvpResult<Delivery> set_item(std::string_view vm, wire::KvpPool pool, std::string_view key,
                               std::string_view value);
  // Several SETs in order, pipelined behind each other (one wait for all).
  KvpResult<Delivery> set_items(std::string_view vm, wire::KvpPool pool,
                                const std::vector<KvpItem>& items);
  // Removes an item and sends the DELETE if the guest is connected (a guest
  // that no longer has the item counts as success).
  KvpResult<Delivery> delete_item(std::string_view vm, wire::KvpPool pool, std::string_view key);
  KvpResult<std::vector<KvpItem>> host_items(std::string_view vm, wire::KvpPool pool) const;

  // ---- Guest pools (1 guest, 2 intrinsic) ---------------------------------------
  // The last enumeration, or a fresh one if `refresh` or none was made yet.
  KvpResult<GuestItems> guest_items(std::string_view vm, wire::KvpPool pool, bool refresh);
  // GET of one key in any pool 0-3 (the guest answers from its own copy).
  KvpResult<std::string> get_value(std::string_view vm, wire::KvpPool pool, std::string_view key);

  // ---- IP configuration of one NIC -----------------------------------------------
  // `mac`: the adapter's MAC, upper-case colon form ("00:15:5D:00:00:01").
  KvpResult<kvp::IpInfo> get_ip_info(std::string_view vm, std::string_view mac);
  // info.adapter_id: the NIC's VMBus instance GUID ("{...}").
  KvpResult<void> set_ip_info(std::string_view vm, const kvp::IpInfo& info);

  // ---- Raw calls (bulk work, benchmarks) -----------------------------------------
  // Sends `calls` in order, each the moment the guest answered the one
  // before (no thread hand-off in between), and waits for all; no host-pool
  // bookkeeping (SETs here are not in the next burst). `finished` is when
  // the reply arrived on the worker, so the gaps between consecutive calls
  // are their round trips.
  struct CallOutcome {
    std::optional<KvpFailure> failure;
    std::chrono::steady_clock::time_point finished;
  };
  KvpResult<std::vector<CallOutcome>> call_batch(std::string_view vm, std::vector<KvpCall> calls);

  // ---- Status ---------------------------------------------------------------------
  std::vector<KvpVmStatus> status() const;
  KvpResult<KvpVmStatus> status(std::string_view vm) const;

  struct Core;  // shared with the channel handlers

 private:
  explicit KvpDevice(KvpDeviceConfig config);

  DeviceOffer offer_;
  std::shared_ptr<Core> core_;
};

}  // namespace uvmbus::host
