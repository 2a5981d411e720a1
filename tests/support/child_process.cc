// Child processes for tests (see child_process.h).
#include "child_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "scratch_dir.h"

namespace uvmbus::test_support {
namespace {

using namespace std::chrono_literals;

int exit_code(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : kEndedBySignal; }

}  // namespace

ChildProcess::~ChildProcess() { kill_now(); }

void ChildProcess::signal(int number) const {
  if (pid_ > 0) {
    ::kill(pid_, number);
  }
}

int ChildProcess::wait_exit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (pid_ > 0 && std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return exit_code(status);
    }
    std::this_thread::sleep_for(5ms);
  }
  return kStillRunning;
}

int ChildProcess::wait() {
  if (pid_ <= 0) {
    return kStillRunning;
  }
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return exit_code(status);
}

void ChildProcess::kill_now() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
}

int ChildProcess::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) {
    return kStillRunning;
  }
  signal(SIGTERM);
  const int code = wait_exit(grace);
  if (pid_ > 0) {
    kill_now();
    return kEndedBySignal;
  }
  return code;
}

RunResult run(std::vector<std::string> args) {
  static int serial = 0;
  const std::string base = std::filesystem::temp_directory_path() /
                           ("uvmbus-run-" + std::to_string(getpid()) + "-" + std::to_string(serial++));
  const ChildOutput output{.out = base + ".out", .err = base + ".err"};
  RunResult result;
  result.exit_code = ChildProcess(std::move(args), output).wait();
  result.out = read_file(output.out);
  result.err = read_file(output.err);
  std::error_code ignored;
  std::filesystem::remove(output.out, ignored);
  std::filesystem::remove(output.err, ignored);
  return result;
}

std::string binary_from_env(const char* variable) {
  const char* value = std::getenv(variable);
  if (value == nullptr) {
    throw std::runtime_error(std::string(variable) + " is not set");
  }
  return value;
}

}  // namespace uvmbus::test_support
