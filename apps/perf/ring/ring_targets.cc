// Ratio checks over ring records.
#include "ring/ring_targets.h"

#include <optional>
#include <string>

namespace uvmbus::perf::ring_bench {
namespace {

const Record* find_record(std::span<const Record> records, const std::string& impl, const std::string& mode,
                          bool any_payload) {
  for (const Record& record : records) {
    const auto& p = record.params;
    const bool copy_or_none = p["reader"].is_null() || p["reader"] == "copy";
    const bool target_size = any_payload || (p["payload_bytes"] == 64 && (mode == "pingpong" || p["batch"] == 32));
    if (record.impl == impl && p["mode"] == mode && p["consumer"] == "poll" && copy_or_none && target_size) {
      return &record;
    }
  }
  return nullptr;
}

std::optional<double> ratio(const Record* numerator, const Record* denominator, double Metrics::*field) {
  if (numerator == nullptr || denominator == nullptr || denominator->metrics.*field == 0) {
    return std::nullopt;
  }
  return numerator->metrics.*field / denominator->metrics.*field;
}

std::optional<double> p50_ratio(const Record* numerator, const Record* denominator) {
  if (numerator == nullptr || denominator == nullptr || !numerator->metrics.latency ||
      !denominator->metrics.latency || denominator->metrics.latency->p50_ns == 0) {
    return std::nullopt;
  }
  return numerator->metrics.latency->p50_ns / denominator->metrics.latency->p50_ns;
}

}  // namespace

std::vector<TargetCheck> ring_target_checks(std::span<const Record> records) {
  const Record* uvmbus = find_record(records, "uvmbus", "stream", false);
  const Record* unbatched = find_record(records, "uvmbus-unbatched", "stream", false);
  const Record* rte_ring = find_record(records, "rte_ring", "stream", false);
  const Record* uvmbus_pingpong = find_record(records, "uvmbus", "pingpong", false);
  const Record* cacheline = find_record(records, "cacheline", "pingpong", true);
  return {
      TargetCheck{.what = "uvmbus / rte_ring Mpps (64 B, batch 32, copy reader, poll)",
                  .value = ratio(uvmbus, rte_ring, &Metrics::mpps),
                  .target = 0.8},
      TargetCheck{.what = "uvmbus / uvmbus-unbatched Mpps (64 B, batch 32, copy reader, poll)",
                  .value = ratio(uvmbus, unbatched, &Metrics::mpps),
                  .target = 2.0},
      TargetCheck{.what = "ping-pong p50 uvmbus / cacheline (64 B, copy reader, poll)",
                  .value = p50_ratio(uvmbus_pingpong, cacheline),
                  .target = 1.3,
                  .at_least = false},
  };
}

}  // namespace uvmbus::perf::ring_bench
