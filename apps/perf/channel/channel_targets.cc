// Ratio and signal checks over channel records.
#include "channel/channel_targets.h"

#include <fmt/format.h>

#include <optional>
#include <string>

namespace uvmbus::perf::channel_bench {
namespace {

const Record* find_stream_point(std::span<const Record> records, const std::string& impl, const char* consumer) {
  for (const Record& record : records) {
    const auto& p = record.params;
    if (record.impl == impl && p["mode"] == "stream" && p["consumer"] == consumer && p["payload_bytes"] == 64 &&
        p["batch"] == 32) {
      return &record;
    }
  }
  return nullptr;
}

}  // namespace

std::vector<TargetCheck> channel_target_checks(std::span<const Record> records, Transport transport) {
  const bool loopback = transport == Transport::loopback;
  const char* name = loopback ? "loopback" : "user";
  std::vector<TargetCheck> checks;
  // Over the user transport the one consumer mode is hostd's; either row counts.
  for (const char* consumer : {"poll", "adaptive"}) {
    const Record* channel = find_stream_point(records, "channel", consumer);
    if (!loopback && channel == nullptr) {
      continue;
    }
    std::optional<double> ratio;
    if (channel != nullptr && channel->derived.contains("vs_ring") && channel->derived["vs_ring"].is_number()) {
      ratio = channel->derived["vs_ring"].get<double>();
    }
    checks.push_back(TargetCheck{
        .what = fmt::format("channel / ring Mpps ({}, stream, 64 B, batch 32, {} host)", name, consumer),
        .value = ratio,
        .target = loopback ? 0.9 : 0.8});
  }
  const Record* adaptive = find_stream_point(records, "channel", "adaptive");
  checks.push_back(TargetCheck{
      .what = fmt::format("signals per 32 packets, adaptive host ({}, stream, 64 B, batch 32)", name),
      .value = adaptive ? std::optional<double>(32 * adaptive->metrics.signals_per_pkt) : std::nullopt,
      .target = 1,
      .at_least = false});
  return checks;
}

}  // namespace uvmbus::perf::channel_bench
