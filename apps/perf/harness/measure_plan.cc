// Round-robin repeats and medians.
#include "harness/measure_plan.h"

#include <unistd.h>

#include <fmt/format.h>

#include <stdexcept>

#include "harness/stats.h"

namespace uvmbus::perf {

std::vector<Metrics> measure_medians(std::size_t case_count, unsigned repeat,
                                     const std::function<Metrics(std::size_t)>& measure,
                                     const std::function<std::string(std::size_t)>& describe) {
  const bool progress = isatty(STDERR_FILENO) != 0;
  std::vector<std::vector<Metrics>> runs(case_count);
  for (unsigned round = 0; round < repeat; ++round) {
    for (std::size_t index = 0; index < case_count; ++index) {
      try {
        runs[index].push_back(measure(index));
      } catch (const std::runtime_error& error) {
        throw std::runtime_error(fmt::format("{}: {}", describe(index), error.what()));
      }
      if (progress) {
        fmt::print(stderr, "[run {}/{}, case {}/{}] {}: {:.2f} Mpps\n", round + 1, repeat, index + 1,
                   case_count, describe(index), runs[index].back().mpps);
      }
    }
  }
  std::vector<Metrics> medians;
  medians.reserve(case_count);
  for (const auto& case_runs : runs) {
    medians.push_back(median_metrics(case_runs));
  }
  return medians;
}

}  // namespace uvmbus::perf
