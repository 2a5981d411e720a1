// Which configurations `uvmbus-perf channel` measures: the options expanded
// into cases. Each (mode, payload, batch) point gets a raw-ring case (the
// ring scenario's uvmbus queue on the same cores, polling, copy-out reader)
// followed by the channel cases for each host consumer mode, so the table
// shows the two side by side and every channel row can be divided by its
// ring row.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "harness/run_options.h"

namespace uvmbus::perf::channel_bench {

enum class Impl : uint8_t { channel, ring };
enum class Transport : uint8_t { loopback, user };
enum class Mode : uint8_t { stream, echo };
// How the host's device worker waits: never sleeps, or sleeps on the
// channel's doorbell after the runtime's idle threshold.
enum class HostConsumer : uint8_t { poll, adaptive };

inline constexpr std::string_view kImplNames[] = {"channel", "ring"};

struct ChannelOptions {
  std::string transport = "loopback";
  std::string socket;  // user: where uvmbus-hostd listens
  std::size_t payload_bytes = 64;
  std::size_t batch = 32;
  std::size_t ring_bytes = 256 * 1024;  // each direction's data area; the raw ring's too
  std::vector<std::string> impls{std::begin(kImplNames), std::end(kImplNames)};
  std::string mode = "both";      // stream | echo | both
  std::string consumer = "both";  // poll | adaptive | both (loopback); what hostd runs (user)
  double idle_threshold_us = 50;  // adaptive host worker: idle spin before sleeping
  bool sweep = false;             // payloads 64..4096 x batches 1..256
  RunOptions run;
};

struct ChannelCase {
  Impl impl = Impl::channel;
  Mode mode = Mode::stream;
  HostConsumer consumer = HostConsumer::poll;  // ring: its consumer polls
  std::size_t payload_bytes = 64;
  std::size_t batch = 32;  // 1 in echo: one packet in flight
};

struct ChannelPlan {
  Transport transport = Transport::loopback;
  std::vector<ChannelCase> cases;
  std::vector<std::string> notes;
};

ChannelPlan plan_channel_cases(const ChannelOptions& options);

// The record's fields: transport (null for the raw ring), mode, reader,
// consumer, payload_bytes, batch.
nlohmann::ordered_json case_params(const ChannelCase& c, Transport transport);
// One line naming the case, for progress and error messages.
std::string describe_case(const ChannelCase& c, Transport transport);
std::string_view impl_name(Impl impl);

}  // namespace uvmbus::perf::channel_bench
