// The host's KVP device against guests over loopback: VmbusServer with the
// KVP device at one end, and at the other kvpd's own service and daemon
// (every operation, the burst, limits), a guest that never answers, and a
// hostile guest whose replies are broken on purpose.
#include <gtest/gtest.h>
#include <sys/uio.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <thread>

#include "fake_ip_config.h"
#include "kvp_daemon.h"
#include "kvp_service.h"
#include "pool_files.h"
#include "uvmbus/channel/loopback_transport.h"
#include "uvmbus/channel/vmbus_connection.h"
#include "uvmbus/host/kvp_device.h"
#include "uvmbus/host/vmbus_server.h"
#include "uvmbus/kvp/versions.h"
#include "uvmbus/runtime/affinity.h"

namespace uvmbus::host {
namespace {

using namespace std::chrono_literals;
using kvp::testing::ScratchDir;
using wire::KvpPool;

// The nth CPU this process may use (the last one if there are fewer).
unsigned allowed_cpu(std::size_t nth) {
  const std::vector<unsigned> cpus = runtime::allowed_cpus();
  return cpus.empty() ? 0 : cpus[std::min(nth, cpus.size() - 1)];
}

// The host: one worker, the server, the KVP device.
struct Host {
  explicit Host(KvpDeviceConfig config = {}) {
    auto loaded = runtime::Topology::load();
    EXPECT_TRUE(loaded);
    topology = std::make_unique<runtime::Topology>(std::move(*loaded));
    auto started = runtime::Worker::start(*topology, {.cpu = allowed_cpu(0)});
    EXPECT_TRUE(started);
    worker = std::move(*started);
    auto server_started = VmbusServer::start({.workers = {worker.get()}, .limits = {}});
    EXPECT_TRUE(server_started);
    server = std::move(*server_started);
    device = KvpDevice::create(config);
    EXPECT_TRUE(server->add_device(device));
  }
  ~Host() {
    server->stop();
    worker->stop();
  }
  std::unique_ptr<runtime::Topology> topology;
  std::unique_ptr<runtime::Worker> worker;
  std::unique_ptr<VmbusServer> server;
  std::shared_ptr<KvpDevice> device;
};

// kvpd (its service and daemon) as the guest of one partition.
struct Kvpd {
  Kvpd(Host& host, const std::string& name, const std::filesystem::path& pool_dir)
      : store(kvp::testing::open_store(pool_dir)),
        service(kvp::kGuestVersions, *store, auto_pool, ip_config) {
    EXPECT_TRUE(memory.add_region(1 << 20));
    auto made = channel::make_loopback_pair();
    EXPECT_TRUE(made);
    pair = std::move(*made);
    EXPECT_NE(host.server->add_partition(std::move(pair.host), name), 0u);
    kvpd::DaemonConfig config;
    config.worker.cpu = allowed_cpu(1);
    kvpd::KvpDaemon::StartResult started =
        kvpd::KvpDaemon::start(*pair.guest, memory, service, *host.topology, config);
    EXPECT_EQ(started.error, kvpd::DaemonError::none) << started.detail;
    daemon = std::move(started.daemon);
  }
  channel::GuestMemory memory;
  channel::LoopbackPair pair;
  std::unique_ptr<kvp::PoolStore> store;
  kvpd::AutoPool auto_pool;
  kvpd::test::FakeIpConfig ip_config;
  kvpd::KvpService service;
  std::unique_ptr<kvpd::KvpDaemon> daemon;
};

// What a second store (another process would do the same) reads from the pool files.
std::vector<KvpItem> pool_items(const std::filesystem::path& dir, KvpPool pool) {
  auto store = kvp::testing::open_store(dir);
  std::vector<KvpItem> items;
  for (uint32_t i = 0;; ++i) {
    kvp::ItemResult item = store->enumerate(pool, i);
    if (item.status != kvp::StoreStatus::ok) {
      return items;
    }
    items.push_back({item.key, item.value});
  }
}

// Waits until the VM's channel has negotiated.
bool negotiated(KvpDevice& device, const std::string& vm, std::chrono::milliseconds limit = 5s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    KvpResult<KvpVmStatus> status = device.status(vm);
    if (status && status->versions) {
      return true;
    }
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

// The usual pairing: a host with the KVP device and kvpd as VM "vm1",
// negotiated before the test body runs.
class KvpDeviceWithKvpd : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(negotiated(kvp, "vm1")); }

  ScratchDir dir;
  Host host;
  Kvpd guest{host, "vm1", dir.path()};
  KvpDevice& kvp = *host.device;
};

TEST_F(KvpDeviceWithKvpd, EveryOperationAgainstKvpd) {
  EXPECT_EQ(kvp.status("vm1")->versions->service, wire::kKvpVersion5);

  // SET in both host pools, modify, list.
  KvpResult<Delivery> set = kvp.set_item("vm1", KvpPool::external, "Key1", "one");
  ASSERT_TRUE(set) << describe(set.error());
  EXPECT_EQ(*set, Delivery::acknowledged);
  ASSERT_TRUE(kvp.set_item("vm1", KvpPool::external, "Key2", "two"));
  ASSERT_TRUE(kvp.set_item("vm1", KvpPool::external, "Key1", "uno"));
  ASSERT_TRUE(kvp.set_item("vm1", KvpPool::auto_external, "VirtualMachineName", "vm1"));
  const std::vector<KvpItem> external{{"Key1", "uno"}, {"Key2", "two"}};
  EXPECT_EQ(*kvp.host_items("vm1", KvpPool::external), external);
  EXPECT_EQ(pool_items(dir.path(), KvpPool::external), external);
  EXPECT_EQ(pool_items(dir.path(), KvpPool::auto_external),
            (std::vector<KvpItem>{{"VirtualMachineName", "vm1"}}));

  // GET from the guest's copy; a missing key.
  EXPECT_EQ(*kvp.get_value("vm1", KvpPool::external, "Key2"), "two");
  KvpResult<std::string> missing = kvp.get_value("vm1", KvpPool::external, "nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, KvpErrc::not_found);

  // DELETE.
  ASSERT_TRUE(kvp.delete_item("vm1", KvpPool::external, "Key1"));
  EXPECT_EQ(pool_items(dir.path(), KvpPool::external), (std::vector<KvpItem>{{"Key2", "two"}}));
  EXPECT_EQ(kvp.delete_item("vm1", KvpPool::external, "Key1").error().code, KvpErrc::not_found);

  // The guest's pools: pool 1 as a guest program writes it, pool 2 intrinsic.
  {
    auto writer = kvp::testing::open_store(dir.path());
    ASSERT_EQ(writer->set(KvpPool::guest, "GuestKey", "guest value"), kvp::StoreStatus::ok);
    ASSERT_EQ(writer->set(KvpPool::guest, "Ключ", "значение"), kvp::StoreStatus::ok);
  }
  KvpResult<GuestItems> guest_pool = kvp.guest_items("vm1", KvpPool::guest, true);
  ASSERT_TRUE(guest_pool) << describe(guest_pool.error());
  EXPECT_EQ(guest_pool->items,
            (std::vector<KvpItem>{{"GuestKey", "guest value"}, {"Ключ", "значение"}}));
  EXPECT_FALSE(guest_pool->from_cache);
  EXPECT_TRUE(kvp.guest_items("vm1", KvpPool::guest, false)->from_cache);
  KvpResult<GuestItems> intrinsic = kvp.guest_items("vm1", KvpPool::automatic, true);
  ASSERT_TRUE(intrinsic);
  ASSERT_EQ(intrinsic->items.size(), 10u);
  EXPECT_EQ(intrinsic->items[0].key, "FullyQualifiedDomainName");
  EXPECT_EQ(intrinsic->items[9].key, "ProcessorArchitecture");

  // IP info: GET by MAC, SET by GUID; an unknown MAC is the guest's failure.
  kvp::IpInfo served;
  served.adapter_id = "00:15:5D:00:00:01";
  served.address_family = wire::kKvpAddressFamilyIpv4;
  served.ipv4.push_back({.address = {10, 0, 0, 5}, .subnet_mask = {255, 255, 255, 0},
                         .origin = wire::KvpAddressOrigin::static_assignment});
  served.ipv4_gateways.push_back({10, 0, 0, 1});
  guest.ip_config.serve("00:15:5D:00:00:01", served);
  KvpResult<kvp::IpInfo> info = kvp.get_ip_info("vm1", "00:15:5D:00:00:01");
  ASSERT_TRUE(info) << describe(info.error());
  EXPECT_EQ(info->ipv4, served.ipv4);
  EXPECT_EQ(info->ipv4_gateways, served.ipv4_gateways);
  KvpResult<kvp::IpInfo> unknown = kvp.get_ip_info("vm1", "00:15:5D:00:00:99");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, KvpErrc::guest_failed);
  EXPECT_EQ(unknown.error().status, wire::HvStatus::fail);
  kvp::IpInfo wanted = served;
  wanted.adapter_id = "{5e1ec7ed-0000-4000-8000-0000000000e1}";
  ASSERT_TRUE(kvp.set_ip_info("vm1", wanted));
  ASSERT_EQ(guest.ip_config.sets().size(), 1u);
  EXPECT_EQ(guest.ip_config.sets()[0].adapter_id, wanted.adapter_id);
  EXPECT_EQ(guest.ip_config.sets()[0].ipv4, wanted.ipv4);

  // Errors the control plane reports before anything is sent.
  EXPECT_EQ(kvp.set_item("vm1", KvpPool::guest, "k", "v").error().code, KvpErrc::bad_pool);
  EXPECT_EQ(kvp.guest_items("nobody", KvpPool::guest, false).error().code, KvpErrc::no_such_vm);
  EXPECT_EQ(kvp.host_items("nobody", KvpPool::external).error().code, KvpErrc::no_such_vm);
  EXPECT_EQ(kvp.status("vm1")->counters.dropped, 0u);
}

TEST(KvpDeviceTest, BurstAtConnectCarriesItemsSetBeforeTheGuestCame) {
  ScratchDir dir;
  Host host;
  KvpDevice& kvp = *host.device;
  EXPECT_EQ(*kvp.set_item("vm1", KvpPool::external, "Admin", "a"), Delivery::stored);
  EXPECT_EQ(*kvp.set_item("vm1", KvpPool::auto_external, "HostName", "h"), Delivery::stored);
  EXPECT_EQ(*kvp.set_item("vm1", KvpPool::external, "Admin2", "b"), Delivery::stored);
  EXPECT_EQ(kvp.get_value("vm1", KvpPool::external, "Admin").error().code,
            KvpErrc::guest_not_connected);
  Kvpd guest(host, "vm1", dir.path());
  ASSERT_TRUE(negotiated(kvp, "vm1"));
  // A call queued behind the burst returns after it.
  ASSERT_TRUE(kvp.get_value("vm1", KvpPool::external, "Admin2"));
  EXPECT_EQ(pool_items(dir.path(), KvpPool::external),
            (std::vector<KvpItem>{{"Admin", "a"}, {"Admin2", "b"}}));
  EXPECT_EQ(pool_items(dir.path(), KvpPool::auto_external), (std::vector<KvpItem>{{"HostName", "h"}}));
}

TEST_F(KvpDeviceWithKvpd, KeysAndValuesAtTheLimitsInNonAsciiText) {
  auto repeat = [](std::string_view unit, std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) {
      s += unit;
    }
    return s;
  };
  // 255 UTF-16 units (510 bytes + NUL = the 512-byte field), 510 UTF-8 bytes.
  const std::string key = repeat("é", 255);
  // 1,023 units (2,048 bytes with the NUL), 2,046 UTF-8 bytes.
  const std::string value = repeat("ü", 1023);
  KvpResult<Delivery> set = kvp.set_item("vm1", KvpPool::external, key, value);
  ASSERT_TRUE(set) << describe(set.error());
  EXPECT_EQ(pool_items(dir.path(), KvpPool::external), (std::vector<KvpItem>{{key, value}}));
  EXPECT_EQ(*kvp.get_value("vm1", KvpPool::external, key), value);
  // Surrogate pairs: 127 emoji = 254 units, 508 UTF-8 bytes.
  const std::string emoji_key = repeat("😀", 127);
  ASSERT_TRUE(kvp.set_item("vm1", KvpPool::external, emoji_key, "😀"));
  EXPECT_EQ(*kvp.get_value("vm1", KvpPool::external, emoji_key), "😀");

  EXPECT_EQ(kvp.set_item("vm1", KvpPool::external, repeat("é", 256), "v").error().code,
            KvpErrc::key_too_long);
  EXPECT_EQ(kvp.set_item("vm1", KvpPool::external, repeat("😀", 128), "v").error().code,
            KvpErrc::key_too_long);  // 256 units
  EXPECT_EQ(kvp.set_item("vm1", KvpPool::external, repeat("a", 256), "v").error().code,
            KvpErrc::key_too_long);
  EXPECT_EQ(kvp.set_item("vm1", KvpPool::external, "k", repeat("ü", 1024)).error().code,
            KvpErrc::value_too_long);
  EXPECT_EQ(kvp.set_item("vm1", KvpPool::external, "k", repeat("a", 1024)).error().code,
            KvpErrc::value_too_long);
  EXPECT_EQ(kvp.set_item("vm1", KvpPool::external, "", "v").error().code, KvpErrc::bad_text);
  EXPECT_EQ(kvp.set_item("vm1", KvpPool::external, "bad\xff", "v").error().code, KvpErrc::bad_text);
  // Nothing refused was stored on either side.
  EXPECT_EQ(kvp.host_items("vm1", KvpPool::external)->size(), 2u);
  EXPECT_EQ(pool_items(dir.path(), KvpPool::external).size(), 2u);
}

// A guest on a raw channel: the test decides what (if anything) it answers.
class ScriptedGuest {
 public:
  // Gets each host packet and the reply KvpService wrote for it; returns
  // the packets to send back (none: silence).
  using Script = std::function<std::vector<std::vector<std::byte>>(
      std::span<const std::byte> request, std::vector<std::byte> reply)>;

  ScriptedGuest(Host& host, const std::string& name, const std::filesystem::path& pool_dir,
                Script script)
      : store_(kvp::testing::open_store(pool_dir)),
        service_(kvp::kGuestVersions, *store_, auto_pool_, ip_config_),
        script_(std::move(script)) {
    EXPECT_TRUE(memory_.add_region(1 << 20));
    auto made = channel::make_loopback_pair();
    EXPECT_TRUE(made);
    pair_ = std::move(*made);
    EXPECT_NE(host.server->add_partition(std::move(pair_.host), name), 0u);
    auto connected = channel::VmbusConnection::connect(*pair_.guest, memory_, {});
    EXPECT_TRUE(connected);
    connection_ = std::move(*connected);
    for (const channel::Offer& offer : connection_->offers()) {
      if (offer.class_id == wire::kHvKvpGuid) {
        channel::OpenOptions open;
        open.outbound_ring_bytes = 4 * 4096;
        open.inbound_ring_bytes = 4 * 4096;
        auto opened = connection_->open_channel(offer.relid, open);
        EXPECT_TRUE(opened);
        channel_ = *opened;
      }
    }
    EXPECT_NE(channel_, nullptr);
    thread_ = std::thread([this] { run(); });
  }
  ~ScriptedGuest() {
    stop_ = true;
    thread_.join();
  }

 private:
  void run() {
    std::array<channel::ReceivedPacket, 8> packets;
    while (!stop_) {
      const std::size_t n = channel_->receive_burst(packets);
      if (n == 0) {
        std::this_thread::sleep_for(100us);
        continue;
      }
      for (std::size_t i = 0; i < n; ++i) {
        if (packets[i].kind != channel::PacketKind::inband) {
          continue;
        }
        std::vector<std::byte> reply(packets[i].payload.begin(), packets[i].payload.end());
        [[maybe_unused]] const kvpd::PacketOutcome outcome = service_.on_packet(reply);
        for (const std::vector<std::byte>& out : script_(packets[i].payload, std::move(reply))) {
          const iovec segment{.iov_base = const_cast<std::byte*>(out.data()), .iov_len = out.size()};
          const channel::SendItem item{.kind = channel::SendKind::inband,
                                       .payload = std::span(&segment, 1),
                                       .trans_id = packets[i].trans_id};
          [[maybe_unused]] const channel::SendResult sent = channel_->send_burst(std::span(&item, 1));
        }
      }
      channel_->release_received();
    }
  }

  channel::GuestMemory memory_;
  channel::LoopbackPair pair_;
  std::unique_ptr<kvp::PoolStore> store_;
  kvpd::AutoPool auto_pool_;
  kvpd::test::FakeIpConfig ip_config_;
  kvpd::KvpService service_;
  Script script_;
  std::unique_ptr<channel::VmbusConnection> connection_;
  channel::Channel* channel_ = nullptr;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

KvpDeviceConfig short_timeouts() {
  KvpDeviceConfig config;
  config.request_timeout = 200ms;
  config.call_timeout = 400ms;
  config.negotiate_retry = 50ms;
  config.enumerate_interval = 0ms;
  return config;
}

TEST(KvpDeviceTest, AGuestThatNeverAnswersTimesOutAndIsAskedAgain) {
  ScratchDir dir;
  Host host(short_timeouts());
  ScriptedGuest silent(host, "silent", dir.path(),
                       [](std::span<const std::byte>, std::vector<std::byte>) {
                         return std::vector<std::vector<std::byte>>{};
                       });
  KvpDevice& kvp = *host.device;
  const auto before = std::chrono::steady_clock::now();
  KvpResult<Delivery> set = kvp.set_item("silent", KvpPool::external, "k", "v");
  ASSERT_FALSE(set);
  EXPECT_EQ(set.error().code, KvpErrc::timeout);
  EXPECT_LT(std::chrono::steady_clock::now() - before, 3s);
  const KvpVmStatus status = *kvp.status("silent");
  EXPECT_TRUE(status.connected);
  EXPECT_FALSE(status.versions);
  EXPECT_GT(status.counters.negotiate_retries, 0u);
  // The item stays in the host's pool for the next burst.
  EXPECT_EQ(kvp.host_items("silent", KvpPool::external)->size(), 1u);
}

TEST(KvpDeviceTest, AGuestThatStopsAnsweringMidwayTimesOutThenRecovers) {
  ScratchDir dir;
  Host host(short_timeouts());
  std::atomic<int> sets_seen{0};
  ScriptedGuest flaky(host, "flaky", dir.path(),
                      [&](std::span<const std::byte> request, std::vector<std::byte> reply) {
                        // The KVP operation byte sits right after the IC header.
                        const bool is_set = request.size() > wire::kIcBodyOffset &&
                                            request[wire::kIcBodyOffset] == std::byte{1};
                        if (is_set && sets_seen++ == 0) {
                          return std::vector<std::vector<std::byte>>{};  // swallow the first SET
                        }
                        return std::vector<std::vector<std::byte>>{std::move(reply)};
                      });
  KvpDevice& kvp = *host.device;
  ASSERT_TRUE(negotiated(kvp, "flaky"));
  KvpResult<Delivery> first = kvp.set_item("flaky", KvpPool::external, "a", "1");
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().code, KvpErrc::timeout);
  // The device negotiates again and the next call goes through.
  KvpResult<Delivery> second = kvp.set_item("flaky", KvpPool::external, "b", "2");
  ASSERT_TRUE(second) << describe(second.error());
  const KvpVmStatus status = *kvp.status("flaky");
  EXPECT_EQ(status.counters.timeouts, 1u);
  EXPECT_GE(status.counters.negotiations, 2u);
}

// Hostile replies: each request is answered first with junk, then (except
// where noted) with the right reply. Every piece of junk is counted and the
// device keeps serving.
TEST(KvpDeviceTest, HostileRepliesAreCountedAndSurvived) {
  ScratchDir dir;
  Host host(short_timeouts());
  std::atomic<bool> break_enumerate{false};
  ScriptedGuest hostile(
      host, "hostile", dir.path(), [&](std::span<const std::byte> request, std::vector<std::byte> reply) {
        std::vector<std::vector<std::byte>> out;
        out.emplace_back(reply.begin(), reply.begin() + 10);  // short: no IC header
        std::vector<std::byte> as_request = reply;
        as_request[8 + 17] = std::byte{wire::kIcFlagsRequest};  // not a response
        out.push_back(as_request);
        std::vector<std::byte> wrong_id = reply;
        wrong_id[8 + 16] ^= std::byte{0x55};  // another transaction
        out.push_back(wrong_id);
        std::vector<std::byte> unknown_type = reply;
        unknown_type[8 + 4] = std::byte{0x7e};  // message type nobody asked for
        out.push_back(unknown_type);
        std::vector<std::byte> oversized = reply;
        oversized[8 + 10] = std::byte{0xff};  // message_size beyond the packet
        oversized[8 + 11] = std::byte{0xff};
        out.push_back(oversized);
        const bool is_enumerate = request.size() > wire::kIcBodyOffset &&
                                  request[wire::kIcBodyOffset] == std::byte{3};
        if (is_enumerate && break_enumerate) {
          // The item's key_size far beyond its field: the only reply sent.
          std::vector<std::byte> bad = reply;
          const std::size_t key_size_at = wire::kIcBodyOffset + 8 + 4;
          bad[key_size_at] = std::byte{0x00};
          bad[key_size_at + 1] = std::byte{0x40};
          out.push_back(bad);
          return out;
        }
        out.push_back(std::move(reply));
        return out;
      });
  KvpDevice& kvp = *host.device;
  ASSERT_TRUE(negotiated(kvp, "hostile"));
  KvpResult<Delivery> set = kvp.set_item("hostile", KvpPool::external, "k", "v");
  ASSERT_TRUE(set) << describe(set.error());
  EXPECT_EQ(*kvp.get_value("hostile", KvpPool::external, "k"), "v");
  break_enumerate = true;
  KvpResult<GuestItems> items = kvp.guest_items("hostile", KvpPool::automatic, true);
  ASSERT_FALSE(items);
  EXPECT_EQ(items.error().code, KvpErrc::bad_reply);
  break_enumerate = false;
  KvpResult<GuestItems> good = kvp.guest_items("hostile", KvpPool::automatic, true);
  ASSERT_TRUE(good) << describe(good.error());
  EXPECT_EQ(good->items.size(), 10u);
  const KvpVmStatus status = *kvp.status("hostile");
  EXPECT_GE(status.counters.dropped, 5u * 3);  // NEGOTIATE, SET, GET at least
  EXPECT_EQ(status.counters.bad_bodies, 1u);
  EXPECT_EQ(status.counters.timeouts, 0u);
}

TEST(KvpDeviceTest, ClosingTheChannelFailsWaitingCallsAndKeepsTheHostPools) {
  ScratchDir dir;
  Host host(short_timeouts());
  KvpDevice& kvp = *host.device;
  {
    Kvpd guest(host, "vm1", dir.path());
    ASSERT_TRUE(negotiated(kvp, "vm1"));
    ASSERT_TRUE(kvp.set_item("vm1", KvpPool::external, "kept", "1"));
  }
  // The guest is gone: reads say so, host pools remain.
  const auto end = std::chrono::steady_clock::now() + 5s;
  while (kvp.status("vm1")->connected && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(kvp.guest_items("vm1", KvpPool::guest, true).error().code, KvpErrc::guest_not_connected);
  EXPECT_EQ(*kvp.set_item("vm1", KvpPool::external, "later", "2"), Delivery::stored);
  // A new guest of the same VM gets both in its burst.
  ScratchDir fresh;
  Kvpd again(host, "vm1", fresh.path());
  ASSERT_TRUE(negotiated(kvp, "vm1"));
  ASSERT_TRUE(kvp.get_value("vm1", KvpPool::external, "later"));
  EXPECT_EQ(pool_items(fresh.path(), KvpPool::external),
            (std::vector<KvpItem>{{"kept", "1"}, {"later", "2"}}));
}

TEST(KvpDeviceTest, AWindowOfCallsInFlightKeepsTheirOrderAndResults) {
  ScratchDir dir;
  KvpDeviceConfig config;
  config.window = 4;
  Host host(config);
  Kvpd guest(host, "vm1", dir.path());
  KvpDevice& kvp = *host.device;
  ASSERT_TRUE(negotiated(kvp, "vm1"));
  std::vector<KvpItem> items;
  for (int i = 0; i < 200; ++i) {
    items.push_back({"key" + std::to_string(i), "value" + std::to_string(i)});
  }
  ASSERT_TRUE(kvp.set_items("vm1", KvpPool::external, items));
  EXPECT_EQ(pool_items(dir.path(), KvpPool::external), items);
  // GETs, a missing key among them, and a whole-pool enumeration (which goes alone).
  std::vector<KvpCall> calls;
  for (const int i : {5, 150, 999, 7}) {
    KvpCall call;
    call.operation = wire::KvpOperation::get;
    call.pool = KvpPool::external;
    call.key = "key" + std::to_string(i);
    calls.push_back(call);
  }
  KvpResult<std::vector<KvpDevice::CallOutcome>> outcomes = kvp.call_batch("vm1", calls);
  ASSERT_TRUE(outcomes);
  ASSERT_EQ(outcomes->size(), 4u);
  EXPECT_FALSE((*outcomes)[0].failure);
  EXPECT_FALSE((*outcomes)[1].failure);
  ASSERT_TRUE((*outcomes)[2].failure);
  EXPECT_EQ((*outcomes)[2].failure->code, KvpErrc::not_found);
  EXPECT_FALSE((*outcomes)[3].failure);
  EXPECT_LE((*outcomes)[0].finished, (*outcomes)[3].finished);
  EXPECT_EQ(*kvp.get_value("vm1", KvpPool::external, "key150"), "value150");
  KvpResult<GuestItems> intrinsic = kvp.guest_items("vm1", KvpPool::automatic, true);
  ASSERT_TRUE(intrinsic);
  EXPECT_EQ(intrinsic->items.size(), 10u);
  EXPECT_EQ(kvp.status("vm1")->counters.dropped, 0u);
}

// cloud-init appends telemetry to pool 1 under flock while the host keeps
// enumerating it: every enumeration is a consistent prefix of the appends
// (in order, nothing invented), and the last one sees all of them.
TEST_F(KvpDeviceWithKvpd, AppendsOfACloudInitStyleWriterDuringEnumerationAllShowUp) {
  constexpr int kAppends = 300;
  auto key = [](int i) { return "CLOUD_INIT|1700000000|diagnostic|event|" + std::to_string(i); };
  auto value = [](int i) { return "{\"msg\": \"событие " + std::to_string(i) + "\"}"; };
  std::atomic<bool> writing{true};
  std::atomic<int> enumerations{0};
  std::thread writer([&] {
    const std::filesystem::path pool1 = dir.path() / ".kvp_pool_1";
    for (int i = 0; i < kAppends; ++i) {
      kvp::testing::append_like_cloud_init(pool1, kvp::testing::record_bytes(key(i), value(i)));
      // Every 50 appends, let one more host enumeration finish, so that
      // enumerations interleave with the appends however slow the machine.
      if (i % 50 == 49) {
        const int seen = enumerations.load();
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (enumerations.load() == seen && std::chrono::steady_clock::now() < deadline) {
          std::this_thread::sleep_for(100us);
        }
      }
    }
    writing = false;
  });
  auto check_prefix = [&](const std::vector<KvpItem>& items) {
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (items[i].key != key(static_cast<int>(i)) || items[i].value != value(static_cast<int>(i))) {
        ADD_FAILURE() << "item " << i << " is " << items[i].key;
        return;
      }
    }
  };
  while (writing) {
    KvpResult<GuestItems> items = kvp.guest_items("vm1", KvpPool::guest, true);
    ASSERT_TRUE(items) << describe(items.error());
    check_prefix(items->items);
    ++enumerations;
  }
  writer.join();
  KvpResult<GuestItems> last = kvp.guest_items("vm1", KvpPool::guest, true);
  ASSERT_TRUE(last);
  EXPECT_EQ(last->items.size(), static_cast<std::size_t>(kAppends));
  check_prefix(last->items);
  EXPECT_GE(enumerations.load(), kAppends / 50);
}

}  // namespace
}  // namespace uvmbus::host
