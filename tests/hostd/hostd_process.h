// Test support for the real binaries: a uvmbus-hostd child process
// ($HOSTD_BINARY) on sockets in a private directory, with its log in a
// file, and runs of uvmbus-host ($HOST_CLI_BINARY) with their output.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "child_process.h"
#include "scratch_dir.h"

namespace uvmbus::hostd::test {

using test_support::binary_from_env;
using test_support::read_file;
using test_support::ScratchDir;
using CliRun = test_support::RunResult;

class HostdProcess {
 public:
  // Starts hostd with `--socket DIR/vmbus.sock --control DIR/hostd.sock -n`
  // and `extra` flags, stdout and stderr to DIR/hostd.log (appended). Does
  // not wait. SIGKILL at destruction if still running.
  HostdProcess(const std::filesystem::path& dir, std::vector<std::string> extra = {});

  pid_t pid() const { return child_.pid(); }
  std::string guest_socket() const { return (dir_ / "vmbus.sock").string(); }
  std::string control_socket() const { return (dir_ / "hostd.sock").string(); }
  std::string log() const { return read_file(dir_ / "hostd.log"); }

  // True once the control socket answers ping (within `timeout`).
  bool wait_ready(std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  // The exit code once it exits within `timeout`; -1 otherwise, -2 if killed by a signal.
  int wait_exit(std::chrono::milliseconds timeout) { return child_.wait_exit(timeout); }
  void signal(int number) const { child_.signal(number); }

 private:
  std::filesystem::path dir_;
  test_support::ChildProcess child_;
};

// Runs uvmbus-host with `args` and waits for it.
CliRun run_cli(std::vector<std::string> args);

}  // namespace uvmbus::hostd::test
