// The real uvmbus-kvpd process ($KVPD_BINARY) over the `user` transport,
// facing a UserListener and a scripted KVP host in the test: it negotiates
// and persists SETs, uses almost no CPU while the host is idle (read from
// /proc/<pid>/stat), stops cleanly on SIGTERM, and exits with a clear
// message when the host offers no KVP device.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "child_process.h"
#include "kvpd_fixture.h"
#include "kvpd_options.h"
#include "user_fixture.h"

namespace uvmbus::kvpd::test {
namespace {

using kvp::testing::ScratchDir;
using namespace std::chrono_literals;

// The kvpd child process, its stderr in `log`; killed if still running at destruction.
class KvpdProcess : public test_support::ChildProcess {
 public:
  KvpdProcess(const std::string& socket, const std::filesystem::path& pool_dir, const std::filesystem::path& log)
      : ChildProcess({test_support::binary_from_env("KVPD_BINARY"), "-n", "--transport", "user", "--socket", socket,
                      "--pool-dir", pool_dir.string(), "--vm-name", "kvpd-test"},
                     {.err = log}) {}
  // utime + stime in clock ticks (/proc/<pid>/stat fields 14 and 15).
  long cpu_ticks() const {
    std::ifstream file("/proc/" + std::to_string(pid()) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(file)), {});
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));
    std::string field;
    long utime = 0;
    long stime = 0;
    for (int number = 3; number <= 15 && fields >> field; ++number) {
      if (number == 14) {
        utime = std::stol(field);
      } else if (number == 15) {
        stime = std::stol(field);
      }
    }
    return utime + stime;
  }
};

bool wait_for_open(channel::test::ScriptedHost& host, uint32_t relid) {
  for (int i = 0; i < 500; ++i) {
    const auto open = host.open_channels();
    if (std::find(open.begin(), open.end(), relid) != open.end()) {
      return true;
    }
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

class KvpdProcessTest : public ::testing::Test {
 protected:
  channel::test::SocketDirectory socket_dir_;
  channel::test::ListenerThread listener_{socket_dir_.socket_path()};
  ScratchDir pool_dir_;
  ScratchDir log_dir_;
  std::filesystem::path log_ = log_dir_.path() / "kvpd.log";
};

TEST_F(KvpdProcessTest, ServesTheHostIdlesWithoutCpuAndStopsOnSigterm) {
  KvpdProcess kvpd(socket_dir_.socket_path(), pool_dir_.path(), log_);
  ASSERT_GT(kvpd.pid(), 0);
  std::unique_ptr<channel::UserHostTransport> partition = listener_.next_partition();
  ASSERT_NE(partition, nullptr) << kvp::testing::read_file(log_);
  EXPECT_EQ(partition->partition().name, "kvpd-test");
  channel::test::ScriptedHost host(*partition, kvp_host_config());
  ASSERT_TRUE(wait_for_open(host, kKvpRelid)) << kvp::testing::read_file(log_);
  {
    KvpHost kvp_host(host, kKvpRelid);
    ASSERT_EQ(kvp_host.negotiate().error, ic::IcError::none);
    EXPECT_EQ(kvp_host.endpoint().versions()->service, wire::kKvpVersion5);
    const ic::HostEvent set = kvp_host.request(
        kvp::write_set_request(kvp_host.body(), wire::KvpPool::auto_external, "HostName", "h1"));
    EXPECT_EQ(set.status, wire::HvStatus::ok);
    EXPECT_EQ(kvp::testing::read_items(pool_dir_.path() / ".kvp_pool_3"),
              (std::vector<kvp::testing::RawItem>{{"HostName", "h1"}}));

    std::this_thread::sleep_for(100ms);
    const long before = kvpd.cpu_ticks();
    std::this_thread::sleep_for(1s);
    const long used = kvpd.cpu_ticks() - before;
    const long per_second = sysconf(_SC_CLK_TCK);
    RecordProperty("idle_cpu_ticks_per_second", std::to_string(used) + "/" + std::to_string(per_second));
    EXPECT_LT(used, per_second / 10) << "kvpd used " << used << " of " << per_second
                                     << " ticks in 1 s with an idle host";
    const ic::HostEvent after = kvp_host.request(
        kvp::write_enumerate_request(kvp_host.body(), wire::KvpPool::automatic, 1));
    EXPECT_EQ(after.status, wire::HvStatus::ok);  // awake again for the next request
    host.set_inband_handler(kKvpRelid, {});
  }
  ASSERT_EQ(kill(kvpd.pid(), SIGTERM), 0);
  EXPECT_EQ(kvpd.wait_exit(5s), 0) << kvp::testing::read_file(log_);
  EXPECT_NE(kvp::testing::read_file(log_).find("event=exit reason=stopped"), std::string::npos);
}

TEST_F(KvpdProcessTest, ExitsWithAReasonWhenTheHostOffersNoKvpDevice) {
  KvpdProcess kvpd(socket_dir_.socket_path(), pool_dir_.path(), log_);
  ASSERT_GT(kvpd.pid(), 0);
  std::unique_ptr<channel::UserHostTransport> partition = listener_.next_partition();
  ASSERT_NE(partition, nullptr);
  channel::test::ScriptedHost host(*partition, kvp_host_config(/*offer_kvp=*/false));
  EXPECT_EQ(kvpd.wait_exit(10s), kExitUnavailable);
  const std::string log = kvp::testing::read_file(log_);
  EXPECT_NE(log.find("event=no_kvp_device"), std::string::npos) << log;
}

}  // namespace
}  // namespace uvmbus::kvpd::test
