// uvmbus-hostd and uvmbus-host as child processes (see hostd_process.h).
#include "hostd_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <thread>

#include "control_client.h"

extern char** environ;

namespace uvmbus::hostd::test {
namespace {

using namespace std::chrono_literals;

pid_t spawn(const std::string& binary, std::vector<std::string> args, const std::filesystem::path& out,
            const std::filesystem::path& err, bool append) {
  args.insert(args.begin(), binary);
  std::vector<char*> argv;
  for (std::string& arg : args) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const int flags = O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(), flags, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(), flags, 0644);
  pid_t pid = -1;
  if (posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ) != 0) {
    pid = -1;
  }
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

}  // namespace

ScratchDir::ScratchDir() {
  std::string pattern = std::filesystem::temp_directory_path() / "uvmbus-hostd-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp");
  }
  path_ = pattern;
}

ScratchDir::~ScratchDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream file(path);
  return std::string(std::istreambuf_iterator<char>(file), {});
}

std::string binary_from_env(const char* variable) {
  const char* value = std::getenv(variable);
  if (value == nullptr) {
    throw std::runtime_error(std::string(variable) + " is not set");
  }
  return value;
}

HostdProcess::HostdProcess(const std::filesystem::path& dir, std::vector<std::string> extra) : dir_(dir) {
  std::vector<std::string> args{"-n", "--socket", guest_socket(), "--control", control_socket()};
  args.insert(args.end(), extra.begin(), extra.end());
  pid_ = spawn(binary_from_env("HOSTD_BINARY"), args, dir_ / "hostd.log", dir_ / "hostd.log", true);
}

HostdProcess::~HostdProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

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

int HostdProcess::wait_exit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (pid_ > 0 && std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -2;
    }
    std::this_thread::sleep_for(5ms);
  }
  return -1;
}

void HostdProcess::signal(int number) const {
  if (pid_ > 0) {
    kill(pid_, number);
  }
}

CliRun run_cli(const std::vector<std::string>& args) {
  static int serial = 0;
  const std::filesystem::path base = std::filesystem::temp_directory_path() /
                                     ("uvmbus-host-cli-" + std::to_string(getpid()) + "-" + std::to_string(serial++));
  const std::filesystem::path out = base.string() + ".out";
  const std::filesystem::path err = base.string() + ".err";
  CliRun run;
  const pid_t pid = spawn(binary_from_env("HOST_CLI_BINARY"), args, out, err, false);
  if (pid > 0) {
    int status = 0;
    waitpid(pid, &status, 0);
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -2;
  }
  run.out = read_file(out);
  run.err = read_file(err);
  std::filesystem::remove(out);
  std::filesystem::remove(err);
  return run;
}

}  // namespace uvmbus::hostd::test
