// Running uvmbus-perf from a test.
#include "perf_process.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>

namespace uvmbus::perf::test {

PerfRun run_perf(const std::string& args) {
  const char* perf = std::getenv("UVMBUS_PERF");
  if (perf == nullptr) {
    ADD_FAILURE() << "UVMBUS_PERF is not set";
    return {};
  }
  char err_path[] = "/tmp/uvmbus-perf-test-XXXXXX";
  const int err_fd = mkstemp(err_path);
  if (err_fd < 0) {
    ADD_FAILURE() << "mkstemp failed";
    return {};
  }
  close(err_fd);
  const std::string command = std::string(perf) + " " + args + " 2>" + err_path;
  PerfRun run;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    ADD_FAILURE() << "popen failed: " << command;
    return run;
  }
  char buffer[4096];
  std::size_t got;
  while ((got = fread(buffer, 1, sizeof buffer, pipe)) > 0) {
    run.out.append(buffer, got);
  }
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream err_file(err_path);
  run.err.assign(std::istreambuf_iterator<char>(err_file), std::istreambuf_iterator<char>());
  unlink(err_path);
  return run;
}

bool positive_finite(const nlohmann::json& value) {
  return value.is_number() && std::isfinite(value.get<double>()) && value.get<double>() > 0;
}

}  // namespace uvmbus::perf::test
