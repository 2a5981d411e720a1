// Expanding channel options into cases.
#include "channel/channel_plan.h"

#include <fmt/format.h>

#include <algorithm>

namespace uvmbus::perf::channel_bench {
namespace {

bool selected(const std::string& choice, std::string_view value) { return choice == "both" || choice == value; }

bool impl_selected(const ChannelOptions& options, Impl impl) {
  return std::find(options.impls.begin(), options.impls.end(), impl_name(impl)) != options.impls.end();
}

}  // namespace

std::string_view impl_name(Impl impl) { return kImplNames[static_cast<std::size_t>(impl)]; }

ChannelPlan plan_channel_cases(const ChannelOptions& options) {
  ChannelPlan plan;
  plan.transport = options.transport == "user" ? Transport::user : Transport::loopback;
  const auto payloads = options.sweep ? std::vector<std::size_t>{64, 256, 1024, 4096}
                                      : std::vector<std::size_t>{options.payload_bytes};
  const auto batches = options.sweep ? std::vector<std::size_t>{1, 8, 32, 256}
                                     : std::vector<std::size_t>{options.batch};

  std::vector<HostConsumer> consumers;
  if (plan.transport == Transport::user) {
    // hostd's workers run as hostd was started; the tool cannot switch them.
    consumers.push_back(options.consumer == "poll" ? HostConsumer::poll : HostConsumer::adaptive);
  } else {
    for (HostConsumer consumer : {HostConsumer::poll, HostConsumer::adaptive}) {
      if (selected(options.consumer, consumer == HostConsumer::poll ? "poll" : "adaptive")) {
        consumers.push_back(consumer);
      }
    }
  }

  for (Mode mode : {Mode::stream, Mode::echo}) {
    if (!selected(options.mode, mode == Mode::stream ? "stream" : "echo")) {
      continue;
    }
    for (std::size_t payload : payloads) {
      const auto mode_batches = mode == Mode::echo ? std::vector<std::size_t>{1} : batches;
      for (std::size_t batch : mode_batches) {
        const ChannelCase point{.impl = Impl::ring,
                                .mode = mode,
                                .consumer = HostConsumer::poll,
                                .payload_bytes = payload,
                                .batch = batch};
        if (impl_selected(options, Impl::ring)) {
          plan.cases.push_back(point);
        }
        if (impl_selected(options, Impl::channel)) {
          for (HostConsumer consumer : consumers) {
            ChannelCase c = point;
            c.impl = Impl::channel;
            c.consumer = consumer;
            plan.cases.push_back(c);
          }
        }
      }
    }
  }

  if (impl_selected(options, Impl::ring)) {
    plan.notes.emplace_back(
        "ring: the ring scenario's uvmbus queue (copy-out reader, polling consumer) on the same cores, "
        "same payload and batch; echo rows are its ping-pong");
  }
  if (impl_selected(options, Impl::channel)) {
    if (plan.transport == Transport::loopback) {
      plan.notes.emplace_back(
          "channel: lib/channel guest (untrusted host: copy-out) to the embedded host (host/ VmbusServer, "
          "builtin sink and echo devices, one device worker) over a loopback transport pair");
    } else {
      plan.notes.push_back(fmt::format(
          "channel: lib/channel guest over the user transport to the host at {}; consumer = how its "
          "device workers were started (as declared with --consumer; not switched by this tool)",
          options.socket));
      if (impl_selected(options, Impl::ring)) {
        plan.notes.emplace_back(
            "ring rows run while that host's worker holds the consumer CPU: valid only if it sleeps when "
            "idle (hostd's default idle threshold); a polling host slows them down");
      }
    }
    if (std::find(consumers.begin(), consumers.end(), HostConsumer::adaptive) != consumers.end() &&
        plan.transport == Transport::loopback) {
      plan.notes.push_back(fmt::format("adaptive: the host worker sleeps on the doorbell after {} us idle",
                                       options.idle_threshold_us));
    }
  }
  if (selected(options.mode, "echo")) {
    plan.notes.emplace_back(
        "echo rows: batch 1, latency = half the round trip (as the ring scenario's ping-pong)");
  }
  return plan;
}

nlohmann::ordered_json case_params(const ChannelCase& c, Transport transport) {
  nlohmann::ordered_json params;
  params["transport"] = c.impl == Impl::ring ? nlohmann::ordered_json(nullptr)
                                             : nlohmann::ordered_json(transport == Transport::loopback ? "loopback"
                                                                                                       : "user");
  params["mode"] = c.mode == Mode::stream ? "stream" : "echo";
  params["reader"] = "copy";
  params["consumer"] = c.consumer == HostConsumer::poll ? "poll" : "adaptive";
  params["payload_bytes"] = c.payload_bytes;
  params["batch"] = c.batch;
  return params;
}

std::string describe_case(const ChannelCase& c, Transport transport) {
  const auto params = case_params(c, transport);
  return fmt::format("{} {} {} consumer={} payload={} batch={}", impl_name(c.impl),
                     params["transport"].is_null() ? "-" : params["transport"].get<std::string>(),
                     params["mode"].get<std::string>(), params["consumer"].get<std::string>(), c.payload_bytes,
                     c.batch);
}

}  // namespace uvmbus::perf::channel_bench
