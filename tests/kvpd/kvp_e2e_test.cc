// KVP end to end with real processes: uvmbus-hostd ($HOSTD_BINARY, --kvp
// with a state directory), uvmbus-kvpd ($KVPD_BINARY, user transport) and
// every operation through uvmbus-host kvp ($HOST_CLI_BINARY): each pool,
// keys and values at the limits in non-ASCII text, the errors the CLI
// reports, kvpd restarts (state kept) and hostd restarts (burst sent again),
// and kvpd killed at random instants under host SET load.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "child_process.h"
#include "control_client.h"
#include "pool_files.h"
#include "uvmbus/kvp/pool_store.h"

namespace uvmbus::kvpd::test {
namespace {

using kvp::testing::ScratchDir;
using namespace std::chrono_literals;
using nlohmann::json;
using test_support::binary_from_env;
using test_support::ChildProcess;
using wire::KvpPool;

// A run of uvmbus-host, its stdout parsed on demand.
struct CliResult : test_support::RunResult {
  json parsed() const { return json::parse(out); }
};

class KvpEndToEnd : public ::testing::Test {
 protected:
  std::filesystem::path guest_socket() const { return dir_.path() / "vmbus.sock"; }
  std::filesystem::path control() const { return dir_.path() / "hostd.sock"; }
  std::filesystem::path pools() const { return dir_.path() / "pools"; }
  std::filesystem::path state() const { return dir_.path() / "state"; }
  std::filesystem::path log() const { return dir_.path() / "log"; }
  // Both daemons' stdout and stderr, appended to log().
  test_support::ChildOutput log_output() const { return {.out = log(), .err = log(), .append = true}; }

  // Stopped as a user stops them: SIGTERM, then SIGKILL after 5 s.
  ~KvpEndToEnd() override {
    if (kvpd_) {
      kvpd_->stop();
    }
    if (hostd_) {
      hostd_->stop();
    }
  }

  void start_hostd() {
    hostd_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{binary_from_env("HOSTD_BINARY"), "-n", "--socket", guest_socket(), "--control",
                                 control(), "--kvp-state", state(), "--device", "echo"},
        log_output());
    ASSERT_TRUE(eventually([&] { return cli({"ping"}).exit_code == 0; })) << logs();
  }
  void start_kvpd() {
    kvpd_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{binary_from_env("KVPD_BINARY"), "-n", "--transport", "user", "--socket",
                                 guest_socket(), "--pool-dir", pools(), "--vm-name", "vm1"},
        log_output());
    ASSERT_TRUE(eventually([&] {
      const CliResult status = cli({"--json", "kvp", "status", "vm1"});
      return status.exit_code == 0 && status.parsed()[0]["version"] == "5.0" &&
             status.parsed()[0]["connected"] == true;
    })) << logs();
  }
  int stop_kvpd() { return kvpd_->stop(); }
  void kill_kvpd() { kvpd_->kill_now(); }
  int stop_hostd() { return hostd_->stop(); }

  CliResult cli(std::vector<std::string> args) {
    args.insert(args.begin(), {binary_from_env("HOST_CLI_BINARY"), "--control", control().string()});
    return {test_support::run(std::move(args))};
  }

  std::string logs() const { return test_support::read_file(log()); }

  static bool eventually(const std::function<bool()>& check, std::chrono::milliseconds limit = 10s) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      if (check()) {
        return true;
      }
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  // Items of a pool as another program reads the files.
  std::vector<std::pair<std::string, std::string>> pool_file(KvpPool pool) const {
    auto store = kvp::testing::open_store(pools());
    std::vector<std::pair<std::string, std::string>> items;
    for (uint32_t i = 0;; ++i) {
      kvp::ItemResult item = store->enumerate(pool, i);
      if (item.status != kvp::StoreStatus::ok) {
        return items;
      }
      items.emplace_back(item.key, item.value);
    }
  }

  static std::string repeat(std::string_view unit, std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) {
      s += unit;
    }
    return s;
  }

  ScratchDir dir_;
  std::unique_ptr<ChildProcess> hostd_;
  std::unique_ptr<ChildProcess> kvpd_;
};

TEST_F(KvpEndToEnd, EveryOperationOnEveryPool) {
  start_hostd();
  start_kvpd();
  // Pool 0 (external): add, modify, at the limits, non-ASCII.
  const std::string key = repeat("ключ", 63) + "abc";     // 255 UTF-16 units, 507 UTF-8 bytes
  const std::string value = repeat("значение😀", 102) + "abc";  // 1,023 units, 2,043 bytes
  CliResult set = cli({"--json", "kvp", "add", "vm1", key, value});
  ASSERT_EQ(set.exit_code, 0) << set.err << logs();
  EXPECT_EQ(set.parsed()["delivery"], "acknowledged");
  ASSERT_EQ(cli({"kvp", "set", "vm1", "Name", "first"}).exit_code, 0);
  ASSERT_EQ(cli({"kvp", "modify", "vm1", "Name", "second"}).exit_code, 0);
  EXPECT_EQ(pool_file(KvpPool::external),
            (std::vector<std::pair<std::string, std::string>>{{key, value}, {"Name", "second"}}));
  CliResult listed = cli({"--json", "kvp", "list", "vm1"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  ASSERT_EQ(listed.parsed()["items"].size(), 2u);
  EXPECT_EQ(listed.parsed()["items"][0]["key"], key);
  EXPECT_EQ(listed.parsed()["items"][0]["value"], value);
  CliResult got = cli({"kvp", "get", "vm1", key});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_EQ(got.out, value + "\n");

  // Pool 3 (auto-external).
  ASSERT_EQ(cli({"kvp", "set", "vm1", "HostName", "host-1", "--pool", "auto-external"}).exit_code, 0);
  EXPECT_EQ(pool_file(KvpPool::auto_external),
            (std::vector<std::pair<std::string, std::string>>{{"HostName", "host-1"}}));
  CliResult listed3 = cli({"--json", "kvp", "list", "vm1", "--pool", "3"});
  ASSERT_EQ(listed3.exit_code, 0);
  EXPECT_EQ(listed3.parsed()["items"][0]["value"], "host-1");

  // Remove from both.
  ASSERT_EQ(cli({"kvp", "remove", "vm1", "Name"}).exit_code, 0);
  ASSERT_EQ(cli({"kvp", "remove", "vm1", "HostName", "--pool", "auto-external"}).exit_code, 0);
  EXPECT_EQ(pool_file(KvpPool::external).size(), 1u);
  EXPECT_TRUE(pool_file(KvpPool::auto_external).empty());

  // Pool 1 (guest) as a guest program writes it; pool 2 (intrinsic).
  {
    auto writer = kvp::testing::open_store(pools());
    ASSERT_EQ(writer->set(KvpPool::guest, "CloudInit|Ключ", "{\"msg\": \"готово\"}"), kvp::StoreStatus::ok);
  }
  CliResult guest = cli({"--json", "kvp", "list", "vm1", "--pool", "guest", "--refresh"});
  ASSERT_EQ(guest.exit_code, 0) << guest.err;
  ASSERT_EQ(guest.parsed()["items"].size(), 1u);
  EXPECT_EQ(guest.parsed()["items"][0]["key"], "CloudInit|Ключ");
  EXPECT_EQ(guest.parsed()["items"][0]["value"], "{\"msg\": \"готово\"}");
  EXPECT_EQ(guest.parsed()["source"], "guest");
  EXPECT_EQ(cli({"--json", "kvp", "list", "vm1", "--pool", "guest"}).parsed()["source"], "cache");
  CliResult intrinsic = cli({"--json", "kvp", "list", "vm1", "--pool", "intrinsic", "--refresh"});
  ASSERT_EQ(intrinsic.exit_code, 0) << intrinsic.err;
  ASSERT_EQ(intrinsic.parsed()["items"].size(), 10u);
  EXPECT_EQ(intrinsic.parsed()["items"][1]["key"], "IntegrationServicesVersion");

  // IP configuration: the guest's failure for an adapter it does not have.
  CliResult ip_get = cli({"kvp", "ip", "get", "vm1", "00:15:5D:FF:FF:FF"});
  EXPECT_EQ(ip_get.exit_code, 1);
  EXPECT_NE(ip_get.err.find("guest_failed (0x80004005)"), std::string::npos) << ip_get.err;
  CliResult ip_set = cli({"kvp", "ip", "set", "vm1", "{5e1ec7ed-0000-4000-8000-00000000dead}", "--address",
                          "192.0.2.10/24", "--gateway", "192.0.2.1", "--dns", "192.0.2.53"});
  EXPECT_EQ(ip_set.exit_code, 1);
  EXPECT_NE(ip_set.err.find("0x80041002"), std::string::npos) << ip_set.err;  // HV_GUID_NOTFOUND

  // Errors the CLI names.
  CliResult too_long = cli({"kvp", "set", "vm1", repeat("k", 256), "v"});
  EXPECT_EQ(too_long.exit_code, 2);
  EXPECT_NE(too_long.err.find("key_too_long"), std::string::npos) << too_long.err;
  CliResult value_too_long = cli({"kvp", "set", "vm1", "k", repeat("ü", 1024)});
  EXPECT_EQ(value_too_long.exit_code, 2);
  EXPECT_NE(value_too_long.err.find("value_too_long"), std::string::npos) << value_too_long.err;
  CliResult no_vm = cli({"--json", "kvp", "list", "vm2"});
  EXPECT_EQ(no_vm.exit_code, 3);
  EXPECT_EQ(no_vm.parsed()["error"], "no_such_partition");
  CliResult missing = cli({"kvp", "get", "vm1", "absent"});
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_NE(missing.err.find("not_found"), std::string::npos);
}

TEST_F(KvpEndToEnd, KvpdRestartKeepsItsPoolsAndHostdRestartSendsTheBurstAgain) {
  start_hostd();
  start_kvpd();
  ASSERT_EQ(cli({"kvp", "set", "vm1", "Keep", "kept"}).exit_code, 0);
  ASSERT_EQ(cli({"kvp", "set", "vm1", "VirtualMachineName", "vm1", "--pool", "auto-external"}).exit_code, 0);
  {
    auto writer = kvp::testing::open_store(pools());
    ASSERT_EQ(writer->set(KvpPool::guest, "GuestItem", "g"), kvp::StoreStatus::ok);
  }

  // kvpd restarts: the pools are on disk, the guest's items answer at once.
  EXPECT_EQ(stop_kvpd(), 0);
  EXPECT_TRUE(eventually([&] {
    const CliResult status = cli({"--json", "kvp", "status", "vm1"});
    return status.exit_code != 0 || status.parsed()[0]["connected"] == false;
  }));
  CliResult offline = cli({"kvp", "list", "vm1", "--pool", "guest", "--refresh"});
  EXPECT_NE(offline.exit_code, 0);
  start_kvpd();
  CliResult kept = cli({"kvp", "get", "vm1", "Keep"});
  ASSERT_EQ(kept.exit_code, 0) << kept.err;
  EXPECT_EQ(kept.out, "kept\n");
  CliResult guest = cli({"--json", "kvp", "list", "vm1", "--pool", "guest", "--refresh"});
  ASSERT_EQ(guest.exit_code, 0);
  EXPECT_EQ(guest.parsed()["items"][0]["key"], "GuestItem");

  // hostd restarts with its state directory; kvpd (which exits when its
  // host goes) starts again on pool files emptied meanwhile: the burst
  // puts the host's items back.
  EXPECT_EQ(stop_hostd(), 0);
  stop_kvpd();
  std::filesystem::resize_file(pools() / ".kvp_pool_0", 0);
  std::filesystem::resize_file(pools() / ".kvp_pool_3", 0);
  start_hostd();
  start_kvpd();
  EXPECT_TRUE(eventually([&] {
    return pool_file(KvpPool::external).size() == 1 && pool_file(KvpPool::auto_external).size() == 1;
  })) << logs();
  EXPECT_EQ(pool_file(KvpPool::external),
            (std::vector<std::pair<std::string, std::string>>{{"Keep", "kept"}}));
  EXPECT_EQ(pool_file(KvpPool::auto_external),
            (std::vector<std::pair<std::string, std::string>>{{"VirtualMachineName", "vm1"}}));
}

TEST_F(KvpEndToEnd, KvpdKilledAtRandomUnderSetLoadLosesNoAcknowledgedSet) {
  start_hostd();
  constexpr int kKeys = 20;
  constexpr int kKills = 300;
  std::mt19937 random(12345);
  // Per key: the value last acknowledged, and values sent after it (a SET in
  // flight at the kill may or may not have landed).
  std::map<std::string, std::string> acknowledged;
  std::map<std::string, std::set<std::string>> in_doubt;
  uint64_t acks = 0;
  for (int kill = 0; kill < kKills; ++kill) {
    start_kvpd();
    std::atomic<bool> stop{false};
    std::thread load([&] {
      auto client = hostctl::ControlClient::connect(control().string());
      ASSERT_TRUE(client);
      for (int n = 0; !stop; ++n) {
        const std::string key = "k" + std::to_string(n % kKeys);
        const std::string value = "v" + std::to_string(kill) + "-" + std::to_string(n);
        in_doubt[key].insert(value);
        auto reply = client->command("kvp-set", {{"vm", "vm1"}, {"key", key}, {"value", value}});
        ASSERT_TRUE(reply);
        if ((*reply)["ok"] == true && (*reply)["result"]["delivery"] == "acknowledged") {
          acknowledged[key] = value;
          in_doubt[key].clear();
          ++acks;
        } else {
          break;  // kvpd is gone
        }
      }
    });
    std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(500, 20000)(random)));
    kill_kvpd();
    stop = true;
    load.join();
    // Whole records only, then every acknowledged SET is there (or a later one).
    ASSERT_EQ(std::filesystem::file_size(pools() / ".kvp_pool_0") % sizeof(wire::KvpPoolRecord), 0u);
    std::map<std::string, std::string> found;
    for (const auto& [key, value] : pool_file(KvpPool::external)) {
      found.emplace(key, value);  // the first record with a key wins
    }
    for (const auto& [key, value] : acknowledged) {
      ASSERT_TRUE(found.contains(key)) << "kill " << kill << ": " << key << " lost";
      EXPECT_TRUE(found[key] == value || in_doubt[key].contains(found[key]))
          << "kill " << kill << ": " << key << " = " << found[key] << ", acknowledged " << value;
    }
  }
  EXPECT_GT(acks, static_cast<uint64_t>(kKills));
}

}  // namespace
}  // namespace uvmbus::kvpd::test
