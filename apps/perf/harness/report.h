// Output of every scenario: records as a JSON array, or as a table followed
// by notes and the scenario's target checks (each PASS or MISS).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdio>
#include <optional>
#include <span>
#include <string>

#include "harness/machine.h"
#include "harness/record.h"

namespace uvmbus::perf {

// "`what` should be >= target" (or <= when !at_least); value is empty when
// the run did not measure what the check needs.
struct TargetCheck {
  std::string what;
  std::optional<double> value;
  double target = 0;
  bool at_least = true;
};

// [{scenario, impl, machine{cpu_model, cores, kernel}, <params...>, mpps,
//   gbit_per_s, ns_per_pkt, cycles_per_pkt, signals_per_pkt, p50_ns, p99_ns,
//   p999_ns, <derived...>}, ...]; latency fields are null outside ping-pong
//   runs.
nlohmann::ordered_json records_json(std::span<const Record> records, const Machine& machine);

void print_table(std::FILE* out, std::span<const Record> records, const Machine& machine,
                 std::span<const std::string> notes, std::span<const TargetCheck> checks);

}  // namespace uvmbus::perf
