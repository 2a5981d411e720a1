// Minimal EAL start-up for rte_ring.
#include "ring/dpdk_eal.h"

#include <sched.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include <fmt/format.h>

#include <string>
#include <vector>

namespace uvmbus::perf::ring_bench {
namespace {

std::string try_start_eal() {
  cpu_set_t affinity;
  CPU_ZERO(&affinity);
  if (sched_getaffinity(0, sizeof affinity, &affinity) != 0) {
    return "cannot read this thread's CPU affinity";
  }
  int first_cpu = 0;
  while (first_cpu < CPU_SETSIZE && !CPU_ISSET(first_cpu, &affinity)) {
    ++first_cpu;
  }
  // EAL's main lcore must be a CPU we may use; EAL pins the calling thread
  // there, which is undone below.
  std::vector<std::string> args = {
      "uvmbus-perf",        "--no-huge",      "--no-pci", "--no-shconf", "--no-telemetry",
      "-m",                 "128",            "--log-level=lib.eal:error",
      fmt::format("--lcores=0@{}", first_cpu),
  };
  std::vector<char*> argv;
  for (std::string& arg : args) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  const int parsed = rte_eal_init(static_cast<int>(args.size()), argv.data());
  const int error = rte_errno;
  sched_setaffinity(0, sizeof affinity, &affinity);
  if (parsed < 0) {
    return fmt::format("DPDK EAL did not start: {}", rte_strerror(error));
  }
  return {};
}

}  // namespace

const std::string& start_eal() {
  static const std::string failure = try_start_eal();
  return failure;
}

}  // namespace uvmbus::perf::ring_bench
