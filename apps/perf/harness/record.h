// The result record every scenario reports: which implementation ran with
// which parameters, and what it measured. One type for all scenarios, so one
// table printer and one JSON writer serve them all.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace uvmbus::perf {

// One-way latency percentiles: half of a measured round trip.
struct Latency {
  double p50_ns = 0;
  double p99_ns = 0;
  double p999_ns = 0;
};

struct Metrics {
  double mpps = 0;             // packets delivered per second, millions
  double gbit_per_s = 0;       // payload bits delivered per second, billions
  double ns_per_pkt = 0;       // wall time per delivered packet
  double cycles_per_pkt = 0;   // TSC ticks per delivered packet
  double signals_per_pkt = 0;  // doorbells rung per delivered packet
  std::optional<Latency> latency;  // ping-pong runs only
};

struct Record {
  std::string scenario;            // subcommand: "ring", ...
  std::string impl;                // implementation measured
  nlohmann::ordered_json params;   // the scenario's own fields, in column order
  Metrics metrics;
  // Figures a scenario derives from this record and others of the same run
  // (e.g. a ratio to a baseline), in column order after the metrics; a
  // number or null.
  nlohmann::ordered_json derived = nlohmann::ordered_json::object();
};

}  // namespace uvmbus::perf
