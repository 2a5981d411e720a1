// Starting a program as a child process (posix_spawn) with its stdout and
// stderr in files, for the tools and tests that run the uvmbus daemons.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace uvmbus::process {

// Where a child's stdout and stderr go: files opened for writing, created,
// appended to or truncated. An empty path leaves the stream as this
// process's; the same path for both shares one descriptor.
struct SpawnOutput {
  std::filesystem::path out{};
  std::filesystem::path err{};
  bool append = false;
};

// Starts args[0] (a path) with `args` and this process's environment; the
// child's pid, or -1 if it could not start. Does not wait.
pid_t spawn_child(std::vector<std::string> args, const SpawnOutput& output);

}  // namespace uvmbus::process
