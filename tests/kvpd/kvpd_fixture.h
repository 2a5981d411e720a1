// Test support: kvpd (KvpService + KvpDaemon on a runtime worker) at the
// guest end of a loopback transport, and a KVP host played by the test on a
// ScriptedHost: the host library's KvpHostSession (lib/ic's HostEndpoint and
// lib/kvp's host codec) writes the requests, the scripted host puts them on
// the guest's inbound ring, and the guest's replies come back through its
// in-band handler.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "fake_ip_config.h"
#include "kvp_daemon.h"
#include "kvp_service.h"
#include "pool_files.h"
#include "scripted_host.h"
#include "uvmbus/channel/guest_memory.h"
#include "uvmbus/channel/loopback_transport.h"
#include "uvmbus/host/kvp_session.h"
#include "uvmbus/ic/host_endpoint.h"
#include "uvmbus/kvp/host_codec.h"
#include "uvmbus/kvp/versions.h"

namespace uvmbus::kvpd::test {

inline constexpr uint32_t kKvpRelid = 14;
inline constexpr wire::Guid kKvpInstance = wire::guid_literal("242ff919-07db-4180-9c2e-b86cb68c8c55");

// A host offering the KVP device (or, with `offer_kvp` false, only a NIC).
channel::test::ScriptedHostConfig kvp_host_config(bool offer_kvp = true);

// The host side of the KVP channel.
class KvpHost {
 public:
  KvpHost(channel::test::ScriptedHost& host, uint32_t relid);

  // Sends `packet` as an in-band packet with `trans_id`; returns the guest's
  // reply, or nullopt if none came within `timeout`.
  std::optional<std::vector<std::byte>> exchange(
      std::span<const std::byte> packet, uint64_t trans_id = 0,
      std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

  // NEGOTIATE through the endpoint; the endpoint's view of the reply.
  ic::HostEvent negotiate();
  // Frames the body the caller wrote at body() and exchanges it.
  ic::HostEvent request(kvp::RequestSize written);
  // The same, with a body size the caller chooses (hostile messages).
  ic::HostEvent request_raw(std::size_t body_size);

  std::span<std::byte> body() { return session_.body(); }
  ic::HostEndpoint& endpoint() { return session_.endpoint(); }
  uint64_t last_reply_trans_id() const { return last_trans_id_; }

 private:
  ic::HostEvent exchange_framed(std::span<const std::byte> packet);

  channel::test::ScriptedHost& host_;
  uint32_t relid_;
  host::KvpHostSession session_;
  std::vector<std::byte> reply_;
  uint64_t last_trans_id_ = 0;
  uint64_t next_trans_id_ = 100;

  std::mutex mutex_;
  std::condition_variable arrived_;
  std::deque<std::pair<uint64_t, std::vector<std::byte>>> replies_;
};

// kvpd serving a pool directory, and the host facing it.
class KvpdUnderTest {
 public:
  KvpdUnderTest(const std::filesystem::path& pool_dir,
                std::span<const wire::IcVersion> versions, FakeIpConfig& ip_config,
                std::chrono::nanoseconds idle_threshold = runtime::kDefaultIdleThreshold);
  ~KvpdUnderTest();

  KvpHost& host() { return *kvp_host_; }
  KvpService& service() { return *service_; }
  KvpDaemon& daemon() { return *daemon_; }
  kvp::PoolStore& store() { return *store_; }

 private:
  channel::GuestMemory memory_;
  channel::LoopbackPair pair_;
  std::unique_ptr<channel::test::ScriptedHost> scripted_host_;
  std::unique_ptr<kvp::PoolStore> store_;
  AutoPool auto_pool_;
  std::unique_ptr<KvpService> service_;
  std::unique_ptr<runtime::Topology> topology_;
  std::unique_ptr<KvpDaemon> daemon_;
  std::unique_ptr<KvpHost> kvp_host_;
};

}  // namespace uvmbus::kvpd::test
