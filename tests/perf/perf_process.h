// Test support for the uvmbus-perf CLI tests: runs the real binary (path in
// $UVMBUS_PERF) with arguments, capturing exit code, stdout and stderr; and
// the parameterized check that a bad option fails naming the problem.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

#include "child_process.h"

namespace uvmbus::perf::test {

using PerfRun = test_support::RunResult;

// Runs `$UVMBUS_PERF args` through the shell; throws if $UVMBUS_PERF is unset.
PerfRun run_perf(const std::string& args);

// A finite number above zero.
bool positive_finite(const nlohmann::json& value);

struct BadOption {
  const char* args;
  const char* message;  // must appear on stderr
};

// Instantiated per subcommand with INSTANTIATE_TEST_SUITE_P.
class RejectsBadOption : public testing::TestWithParam<BadOption> {};

}  // namespace uvmbus::perf::test
