// uvmbus-host's command line without a hostd: argument errors exit 2 with a
// message, a missing hostd exits 69 (with a JSON error under --json), and
// --help exits 0.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "host_cli.h"
#include "hostd_process.h"

namespace uvmbus::hostcli::test {
namespace {

using hostd::test::run_cli;

TEST(HostCli, BadArgumentsExitWithUsage) {
  const std::vector<std::vector<std::string>> cases = {
      {},
      {"frobnicate"},
      {"add-device"},
      {"add-device", "disk"},
      {"add-device", "echo", "--instance", "xyz"},
      {"add-device", "echo", "--subchannels", "1000"},
      {"add-device", "echo", "--class", "5e1ec7ed"},
      {"remove-device"},
      {"remove-device", "not-a-guid"},
      {"stats", "--partition"},
      {"devices", "--bogus"},
  };
  for (const auto& args : cases) {
    const auto run = run_cli(args);
    EXPECT_EQ(run.exit_code, kExitUsage) << testing::PrintToString(args) << run.err;
    EXPECT_FALSE(run.err.empty());
  }
}

TEST(HostCli, HelpExitsZero) {
  const auto run = run_cli({"--help"});
  EXPECT_EQ(run.exit_code, kExitOk);
  EXPECT_NE(run.out.find("add-device"), std::string::npos);
}

TEST(HostCli, NoHostdIsItsOwnExitCode) {
  hostd::test::ScratchDir dir;
  const std::string control = (dir.path() / "hostd.sock").string();
  auto run = run_cli({"--control", control, "partitions"});
  EXPECT_EQ(run.exit_code, kExitNotRunning);
  EXPECT_NE(run.err.find("hostd is not running"), std::string::npos) << run.err;
  run = run_cli({"--control", control, "devices", "--json"});
  EXPECT_EQ(run.exit_code, kExitNotRunning);
  const nlohmann::json error = nlohmann::json::parse(run.out);
  EXPECT_EQ(error["ok"], false);
  EXPECT_EQ(error["error"], "not_running");
}

}  // namespace
}  // namespace uvmbus::hostcli::test
