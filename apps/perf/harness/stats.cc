// Metrics arithmetic.
#include "harness/stats.h"

#include <algorithm>
#include <vector>

#include "harness/tsc.h"

namespace uvmbus::perf {
namespace {

template <class Field>
double median_field(std::span<const Metrics> runs, Field field) {
  std::vector<double> values;
  values.reserve(runs.size());
  for (const Metrics& run : runs) {
    values.push_back(field(run));
  }
  return median_of(std::move(values));
}

}  // namespace

double median_of(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t mid = values.size() / 2;
  return values.size() % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

Metrics throughput_metrics(const Throughput& run) {
  Metrics metrics;
  if (run.packets == 0 || run.ticks == 0) {
    return metrics;
  }
  const double packets = static_cast<double>(run.packets);
  const double ns = static_cast<double>(run.ticks) / tsc_ticks_per_ns();
  metrics.mpps = packets / ns * 1e3;
  metrics.gbit_per_s = packets * static_cast<double>(run.payload_bytes) * 8 / ns;
  metrics.ns_per_pkt = ns / packets;
  metrics.cycles_per_pkt = static_cast<double>(run.ticks) / packets;
  metrics.signals_per_pkt = static_cast<double>(run.signals) / packets;
  return metrics;
}

Latency one_way_latency(std::span<uint64_t> round_trip_ticks) {
  if (round_trip_ticks.empty()) {
    return {};
  }
  std::sort(round_trip_ticks.begin(), round_trip_ticks.end());
  auto one_way_ns = [&](double quantile) {
    const auto index = static_cast<std::size_t>(quantile * static_cast<double>(round_trip_ticks.size() - 1));
    return static_cast<double>(round_trip_ticks[index]) / 2 / tsc_ticks_per_ns();
  };
  return Latency{.p50_ns = one_way_ns(0.5), .p99_ns = one_way_ns(0.99), .p999_ns = one_way_ns(0.999)};
}

Metrics median_metrics(std::span<const Metrics> runs) {
  Metrics median;
  median.mpps = median_field(runs, [](const Metrics& m) { return m.mpps; });
  median.gbit_per_s = median_field(runs, [](const Metrics& m) { return m.gbit_per_s; });
  median.ns_per_pkt = median_field(runs, [](const Metrics& m) { return m.ns_per_pkt; });
  median.cycles_per_pkt = median_field(runs, [](const Metrics& m) { return m.cycles_per_pkt; });
  median.signals_per_pkt = median_field(runs, [](const Metrics& m) { return m.signals_per_pkt; });
  if (runs.front().latency) {
    median.latency = Latency{
        .p50_ns = median_field(runs, [](const Metrics& m) { return m.latency->p50_ns; }),
        .p99_ns = median_field(runs, [](const Metrics& m) { return m.latency->p99_ns; }),
        .p999_ns = median_field(runs, [](const Metrics& m) { return m.latency->p999_ns; }),
    };
  }
  return median;
}

}  // namespace uvmbus::perf
