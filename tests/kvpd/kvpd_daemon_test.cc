// kvpd's process-level behaviour over loopback: it sleeps when the host is
// idle (bounded CPU use), reports a missing KVP device, and wakes up for a
// request after sleeping.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <thread>

#include "kvpd_fixture.h"
#include "kvpd_run.h"

namespace uvmbus::kvpd::test {
namespace {

using kvp::testing::ScratchDir;

double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

TEST(KvpdDaemonTest, SleepsOnTheDoorbellWhileTheHostIsIdle) {
  ScratchDir dir;
  FakeIpConfig ip_config;
  KvpdUnderTest kvpd(dir.path(), kvp::kGuestVersions, ip_config);
  ASSERT_EQ(kvpd.host().negotiate().error, ic::IcError::none);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let it settle
  const double before = process_cpu_seconds();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const double used = process_cpu_seconds() - before;
  // A worker that never slept would use ~1 s; the bound leaves room for the
  // control thread's 100 ms pumps and a loaded machine.
  EXPECT_LT(used, 0.1) << "kvpd (worker, control thread and scripted host) used " << used
                       << " s of CPU in 1 s idle";
  EXPECT_GT(kvpd.daemon().worker_stats().sleeps, 0u);
  // And it wakes up for the next request.
  const ic::HostEvent event = kvpd.host().request(
      kvp::write_set_request(kvpd.host().body(), wire::KvpPool::external, "k", "v"));
  EXPECT_EQ(event.status, wire::HvStatus::ok);
}

TEST(KvpdDaemonTest, ReportsAHostWithoutAKvpDevice) {
  channel::GuestMemory memory;
  ASSERT_TRUE(memory.add_region(1 << 20));
  auto pair = channel::make_loopback_pair();
  ASSERT_TRUE(pair);
  channel::test::ScriptedHost host(*pair->host, kvp_host_config(/*offer_kvp=*/false));
  ScratchDir dir;
  auto store = kvp::testing::open_store(dir.path());
  KvpdOptions options;
  options.pool_dir = dir.path();
  const std::atomic<bool> stop{false};
  ::testing::internal::CaptureStderr();
  const int exit_code = serve(options, *pair->guest, *store, stop);
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(exit_code, kExitUnavailable);
  EXPECT_NE(log.find("event=no_kvp_device"), std::string::npos) << log;
  EXPECT_NE(log.find("a9a0f4e7-5a45-4d96-b827-8a841e8c03e6"), std::string::npos) << log;
}

TEST(KvpdDaemonTest, ServeReturnsWhenStoppedAndWhenTheHostGoes) {
  channel::GuestMemory memory;
  ASSERT_TRUE(memory.add_region(1 << 20));
  auto pair = channel::make_loopback_pair();
  ASSERT_TRUE(pair);
  auto host = std::make_unique<channel::test::ScriptedHost>(*pair->host, kvp_host_config());
  ScratchDir dir;
  auto store = kvp::testing::open_store(dir.path());
  KvpdOptions options;
  options.pool_dir = dir.path();
  std::atomic<bool> stop{false};
  int exit_code = -1;
  std::thread daemon([&] { exit_code = serve(options, *pair->guest, *store, stop); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  host->die();
  daemon.join();
  EXPECT_EQ(exit_code, kExitSoftware);
}

}  // namespace
}  // namespace uvmbus::kvpd::test
