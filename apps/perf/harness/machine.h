// The machine a report was measured on, recorded with every result.
#pragma once

#include <string>

#include "harness/topology.h"

namespace uvmbus::perf {

struct Machine {
  std::string cpu_model;
  int cores = 0;        // physical cores available to this process
  std::string kernel;   // uname -r
};

Machine describe_machine(const CpuTopology& topology);

}  // namespace uvmbus::perf
