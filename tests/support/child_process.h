// Test support: a child process (process::spawn_child) with its stdout and
// stderr in files, waited for with a timeout and ended with signals; runs of
// a command to its end with its output; and binaries named by environment
// variables.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "spawn_child.h"

namespace uvmbus::test_support {

// Where a child's stdout and stderr go (see process::SpawnOutput).
using ChildOutput = process::SpawnOutput;

// What wait_exit() and stop() return besides an exit code.
inline constexpr int kStillRunning = -1;   // or never started
inline constexpr int kEndedBySignal = -2;

class ChildProcess {
 public:
  // Starts args[0] (a path) with `args` and the test's environment; pid()
  // is -1 if it could not. Does not wait.
  ChildProcess(std::vector<std::string> args, const ChildOutput& output)
      : pid_(process::spawn_child(std::move(args), output)) {}
  ~ChildProcess();  // kill_now()
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int number) const;
  // The exit code once it exits within `timeout`, else kStillRunning;
  // kEndedBySignal if a signal ended it.
  int wait_exit(std::chrono::milliseconds timeout);
  // Waits for as long as it runs; the exit code or kEndedBySignal.
  int wait();
  // SIGKILL and reap, if running.
  void kill_now();
  // SIGTERM, up to `grace` to exit, then SIGKILL; the exit code, or
  // kEndedBySignal (kStillRunning if it was not running).
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

 private:
  pid_t pid_ = -1;
};

struct RunResult {
  int exit_code = kStillRunning;  // kEndedBySignal if a signal ended it
  std::string out;
  std::string err;
};

// Runs args[0] with `args` to its end, stdout and stderr captured.
RunResult run(std::vector<std::string> args);

// The path of a binary named by an environment variable; throws if unset.
std::string binary_from_env(const char* variable);

}  // namespace uvmbus::test_support
