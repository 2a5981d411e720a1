// Runs the cases of a scenario's plan: every case `repeat` times, round-robin,
// so a slow spell of a shared machine touches every case alike instead of all
// runs of one case, and returns each case's median. Progress goes to stderr
// when stderr is a terminal.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "harness/record.h"

namespace uvmbus::perf {

// A failed run rethrows its std::runtime_error prefixed with describe(case).
std::vector<Metrics> measure_medians(std::size_t case_count, unsigned repeat,
                                     const std::function<Metrics(std::size_t)>& measure,
                                     const std::function<std::string(std::size_t)>& describe);

}  // namespace uvmbus::perf
