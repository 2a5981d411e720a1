// The auto pool's keys are computed when asked: a hostname change (made in
// a UTS namespace of the test's own) shows at once; os-release is parsed
// like Linux's daemon reads it.
#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "auto_pool.h"
#include "pool_files.h"

namespace uvmbus::kvpd {
namespace {

TEST(AutoPoolTest, ReportsAHostnameChangeWithoutARestart) {
  const AutoPool pool;
  std::string failure;
  std::thread thread([&] {
    if (unshare(CLONE_NEWUTS) != 0) {
      failure = std::strerror(errno);
      return;
    }
    ASSERT_EQ(sethostname("before-change", 13), 0);
    EXPECT_EQ(pool.item(0)->value, "before-change");
    ASSERT_EQ(sethostname("after-change", 12), 0);
    EXPECT_EQ(pool.item(0)->key, "FullyQualifiedDomainName");
    EXPECT_EQ(pool.item(0)->value, "after-change");
    EXPECT_EQ(pool.value("FullyQualifiedDomainName"), "after-change");
  });
  thread.join();
  if (!failure.empty()) {
    GTEST_SKIP() << "UTS namespaces unavailable: " << failure;
  }
}

TEST(AutoPoolTest, ReadsOsReleaseAndEndsAfterTenKeys) {
  EXPECT_EQ(parse_os_release("NAME=\"Debian GNU/Linux\"\nVERSION_ID='12'\nID=debian\n").name,
            "Debian GNU/Linux");
  EXPECT_EQ(parse_os_release("VERSION_ID=12\n").version_id, "12");
  kvp::testing::ScratchDir dir;
  kvp::testing::write_file(dir.path() / "os-release", "NAME=Uvm OS\nVERSION_ID=\"7.1\"\n");
  const AutoPool pool(dir.path() / "os-release");
  EXPECT_EQ(pool.item(5)->value, "Uvm OS");
  EXPECT_EQ(pool.item(6)->value, "7.1");
  EXPECT_EQ(pool.item(7)->value, "");
  EXPECT_EQ(pool.item(kAutoPoolKeyCount), std::nullopt);
  EXPECT_EQ(pool.value("OSMajorVersion"), "7.1");
}

}  // namespace
}  // namespace uvmbus::kvpd
