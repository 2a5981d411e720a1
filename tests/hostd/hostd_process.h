// Test support for the real binaries: a uvmbus-hostd child process
// ($HOSTD_BINARY) on sockets in a private directory, with its log in a
// file, and runs of uvmbus-host ($HOST_CLI_BINARY) with their output.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace uvmbus::hostd::test {

// A fresh directory, removed with its contents on destruction.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::string read_file(const std::filesystem::path& path);

class HostdProcess {
 public:
  // Starts hostd with `--socket DIR/vmbus.sock --control DIR/hostd.sock -n`
  // and `extra` flags, stderr to DIR/hostd.log (appended). Does not wait.
  HostdProcess(const std::filesystem::path& dir, std::vector<std::string> extra = {});
  ~HostdProcess();  // SIGKILL if still running
  HostdProcess(const HostdProcess&) = delete;
  HostdProcess& operator=(const HostdProcess&) = delete;

  pid_t pid() const { return pid_; }
  std::string guest_socket() const { return (dir_ / "vmbus.sock").string(); }
  std::string control_socket() const { return (dir_ / "hostd.sock").string(); }
  std::string log() const { return read_file(dir_ / "hostd.log"); }

  // True once the control socket answers ping (within `timeout`).
  bool wait_ready(std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  // The exit code once it exits within `timeout`; -1 otherwise, -2 if killed by a signal.
  int wait_exit(std::chrono::milliseconds timeout);
  void signal(int number) const;

 private:
  std::filesystem::path dir_;
  pid_t pid_ = -1;
};

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs uvmbus-host with `args` and waits for it.
CliRun run_cli(const std::vector<std::string>& args);

// The path of a binary named by an environment variable; throws if unset.
std::string binary_from_env(const char* variable);

}  // namespace uvmbus::hostd::test
