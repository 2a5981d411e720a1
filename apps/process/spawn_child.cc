// Child processes with their output in files (see spawn_child.h).
#include "spawn_child.h"

#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>

extern char** environ;

namespace uvmbus::process {

pid_t spawn_child(std::vector<std::string> args, const SpawnOutput& output) {
  std::vector<char*> argv;
  for (std::string& arg : args) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const int flags = O_WRONLY | O_CREAT | (output.append ? O_APPEND : O_TRUNC);
  if (!output.out.empty()) {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, output.out.c_str(), flags, 0644);
  }
  if (!output.err.empty() && output.err == output.out) {
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  } else if (!output.err.empty()) {
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, output.err.c_str(), flags, 0644);
  }
  pid_t pid = -1;
  if (posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) != 0) {
    pid = -1;
  }
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

}  // namespace uvmbus::process
