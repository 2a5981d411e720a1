// Core lists as users write them ("0", "0,1", "2-5", "0,2-3"): the syntax
// only. Whether the CPUs exist on this machine is Topology's question.
#pragma once

#include <string_view>
#include <vector>

#include "uvmbus/runtime/expected.h"
#include "uvmbus/runtime/runtime_error.h"

namespace uvmbus::runtime {

// Highest CPU number a core list may name (Linux's largest NR_CPUS - 1).
inline constexpr unsigned kMaxCpu = 8191;

// The CPUs of `list`, in the order written, ranges expanded. Items are "N" or
// "N-M" with N <= M, separated by single commas, no spaces. Errors:
// malformed_cpu_list (subject: byte offset of the problem), cpu_out_of_range
// (a number above kMaxCpu), duplicate_cpu.
Expected<std::vector<unsigned>, RuntimeError> parse_cpu_list(std::string_view list);

}  // namespace uvmbus::runtime
