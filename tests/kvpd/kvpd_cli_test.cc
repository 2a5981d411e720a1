// The real uvmbus-kvpd binary (path in $KVPD_BINARY): bad flags, an unusable
// pool directory and an unavailable transport each give a clear message and
// a non-zero exit code; -h prints the hv_kvp_daemon-compatible flags.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>

#include "kvpd_options.h"
#include "pool_files.h"

namespace uvmbus::kvpd {
namespace {

struct KvpdRun {
  int exit_code;
  std::string output;  // stdout and stderr
};

KvpdRun run_kvpd(const std::string& arguments) {
  const char* binary = std::getenv("KVPD_BINARY");
  if (binary == nullptr) {
    ADD_FAILURE() << "KVPD_BINARY is not set";
    return {-1, {}};
  }
  FILE* pipe = popen((std::string(binary) + " " + arguments + " 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    ADD_FAILURE() << "popen failed";
    return {-1, {}};
  }
  KvpdRun run{-1, {}};
  std::array<char, 4096> buffer;
  while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) {
    run.output += buffer.data();
  }
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

TEST(KvpdCliTest, HelpListsTheHvKvpDaemonFlags) {
  const KvpdRun run = run_kvpd("-h");
  EXPECT_EQ(run.exit_code, 0);
  for (const char* flag : {"-n,--no-daemon", "-d,--debug", "-h,--help", "--pool-dir", "--sync",
                           "--kvp-version", "--transport", "--nic-map"}) {
    EXPECT_NE(run.output.find(flag), std::string::npos) << flag;
  }
}

TEST(KvpdCliTest, BadFlagsExitNonZeroWithAReason) {
  KvpdRun run = run_kvpd("-n --no-such-flag");
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.output.find("--no-such-flag"), std::string::npos) << run.output;
  run = run_kvpd("-n --kvp-version 3");
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.output.find("--kvp-version"), std::string::npos) << run.output;
  run = run_kvpd("-n --nic-map eth0");
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.output.find("GUID=ifname"), std::string::npos) << run.output;
  run = run_kvpd("-n --transport carrier-pigeon");
  EXPECT_NE(run.exit_code, 0);
}

TEST(KvpdCliTest, AnUnusablePoolDirectoryExitsWithCantCreate) {
  kvp::testing::ScratchDir dir;
  kvp::testing::write_file(dir.path() / "file", "x");
  const KvpdRun run = run_kvpd("-n --pool-dir " + (dir.path() / "file" / "pools").string());
  EXPECT_EQ(run.exit_code, kExitCantCreate);
  EXPECT_NE(run.output.find("event=pool_dir_unusable"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("Not a directory"), std::string::npos) << run.output;
}

TEST(KvpdCliTest, AnUnavailableTransportExitsWithUnavailable) {
  kvp::testing::ScratchDir dir;
  for (const char* transport : {"user", "loopback"}) {
    const KvpdRun run = run_kvpd("-n --pool-dir " + dir.path().string() + " --transport " + transport);
    EXPECT_EQ(run.exit_code, kExitUnavailable) << transport;
    EXPECT_NE(run.output.find("event=transport_unavailable"), std::string::npos) << run.output;
  }
}

}  // namespace
}  // namespace uvmbus::kvpd
