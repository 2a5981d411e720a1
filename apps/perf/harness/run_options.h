// Options every scenario takes: how long and how often to measure, on which
// CPUs, and in which output format.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "harness/topology.h"

namespace uvmbus::perf {

struct RunOptions {
  double duration_s = 2;
  unsigned repeat = 1;  // each figure is the median over this many runs
  std::string cores;    // "producer,consumer" CPU numbers; empty: chosen with hwloc
  bool json = false;
};

// Adds --duration, --repeat, --cores and --json to a scenario's subcommand.
void add_run_options(CLI::App& command, RunOptions& options);

// "a,b" with two different non-negative CPU numbers; nullopt otherwise.
std::optional<CpuPair> parse_cpu_pair(std::string_view text);

// The CPUs to run on: --cores checked against the topology, else hwloc's pick.
CpuPair choose_cpus(const RunOptions& options, const CpuTopology& topology);

}  // namespace uvmbus::perf
