// Running uvmbus-perf from a test.
#include "perf_process.h"

#include <cmath>

namespace uvmbus::perf::test {

PerfRun run_perf(const std::string& args) {
  return test_support::run({"/bin/sh", "-c", test_support::binary_from_env("UVMBUS_PERF") + " " + args});
}

bool positive_finite(const nlohmann::json& value) {
  return value.is_number() && std::isfinite(value.get<double>()) && value.get<double>() > 0;
}

}  // namespace uvmbus::perf::test
