// uvmbus-hostd and uvmbus-host as child processes (see hostd_process.h).
#include "hostd_process.h"

#include <thread>

#include "control_client.h"

namespace uvmbus::hostd::test {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> hostd_args(const std::filesystem::path& dir, std::vector<std::string> extra) {
  std::vector<std::string> args{binary_from_env("HOSTD_BINARY"), "-n", "--socket", dir / "vmbus.sock",
                                "--control", dir / "hostd.sock"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

}  // namespace

HostdProcess::HostdProcess(const std::filesystem::path& dir, std::vector<std::string> extra)
    : dir_(dir),
      child_(hostd_args(dir, std::move(extra)), {.out = dir / "hostd.log", .err = dir / "hostd.log", .append = true}) {}

bool HostdProcess::wait_ready(std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto client = hostctl::ControlClient::connect(control_socket())) {
      if (auto reply = client->command("ping"); reply && (*reply)["ok"].get<bool>()) {
        return true;
      }
    }
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

CliRun run_cli(std::vector<std::string> args) {
  args.insert(args.begin(), binary_from_env("HOST_CLI_BINARY"));
  return test_support::run(std::move(args));
}

}  // namespace uvmbus::hostd::test
