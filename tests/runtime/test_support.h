// Test support for lib/runtime: a bounded wait for conditions other threads make true (a test fails instead
// of hanging).
#pragma once

#include <chrono>
#include <functional>

namespace uvmbus::runtime::test {

// Polls `condition` until it holds or `timeout` passes; returns the last result.
bool wait_until(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace uvmbus::runtime::test
