// Shared scenario options.
#include "harness/run_options.h"

#include <charconv>

namespace uvmbus::perf {
namespace {

std::optional<unsigned> parse_cpu(std::string_view text) {
  unsigned cpu = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), cpu);
  if (text.empty() || error != std::errc{} || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return cpu;
}

}  // namespace

std::optional<CpuPair> parse_cpu_pair(std::string_view text) {
  const std::size_t comma = text.find(',');
  if (comma == std::string_view::npos) {
    return std::nullopt;
  }
  const auto producer = parse_cpu(text.substr(0, comma));
  const auto consumer = parse_cpu(text.substr(comma + 1));
  if (!producer || !consumer || *producer == *consumer) {
    return std::nullopt;
  }
  return CpuPair{.producer = *producer, .consumer = *consumer};
}

void add_run_options(CLI::App& command, RunOptions& options) {
  command.add_option("--duration", options.duration_s, "seconds per measured run")
      ->check(CLI::Range(0.01, 3600.0))
      ->capture_default_str();
  command.add_option("--repeat", options.repeat, "runs per figure; the median is reported")
      ->check(CLI::Range(1U, 1000U))
      ->capture_default_str();
  command
      .add_option("--cores", options.cores,
                  "producer,consumer CPU numbers (default: two physical cores chosen with hwloc)")
      ->check(CLI::Validator(
          [](const std::string& text) {
            return parse_cpu_pair(text) ? std::string()
                                        : std::string("expected two different CPU numbers as a,b");
          },
          "A,B"));
  command.add_flag("--json", options.json, "print a JSON array of records instead of the table");
}

CpuPair choose_cpus(const RunOptions& options, const CpuTopology& topology) {
  if (options.cores.empty()) {
    return topology.pick_pair();
  }
  const CpuPair cpus = *parse_cpu_pair(options.cores);
  topology.check_pair(cpus);
  return cpus;
}

}  // namespace uvmbus::perf
