// Test support for lib/runtime: the CPUs this process may run on, and a
// bounded wait for conditions other threads make true (a test fails instead
// of hanging).
#pragma once

#include <chrono>
#include <functional>
#include <vector>

namespace uvmbus::runtime::test {

// CPUs in this process's affinity mask, ascending.
std::vector<unsigned> allowed_cpus();

// Polls `condition` until it holds or `timeout` passes; returns the last result.
bool wait_until(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace uvmbus::runtime::test
