// Expanding ring options into cases.
#include "ring/ring_plan.h"

#include <fmt/format.h>

#include <algorithm>

namespace uvmbus::perf::ring_bench {
namespace {

// The raw cache line carries only its 8-byte counter.
constexpr std::size_t kCachelinePayload = 8;

std::vector<std::size_t> sweep_or(bool sweep, std::vector<std::size_t> swept, std::size_t single) {
  return sweep ? swept : std::vector<std::size_t>{single};
}

bool selected(const std::string& choice, std::string_view value) { return choice == "both" || choice == value; }

bool impl_selected(const RingOptions& options, Impl impl) {
  return std::find(options.impls.begin(), options.impls.end(), impl_name(impl)) != options.impls.end();
}

}  // namespace

std::string_view impl_name(Impl impl) { return kImplNames[static_cast<std::size_t>(impl)]; }

RingPlan plan_ring_cases(const RingOptions& options) {
  RingPlan plan;
  const auto payloads = sweep_or(options.sweep, {64, 256, 1024, 4096}, options.payload_bytes);
  const auto batches = sweep_or(options.sweep, {1, 8, 32, 256}, options.batch);

  std::vector<Mode> modes;
  for (Mode mode : {Mode::stream, Mode::pingpong}) {
    if (selected(options.mode, mode == Mode::stream ? "stream" : "pingpong")) {
      modes.push_back(mode);
    }
  }
  std::vector<Consumer> consumers;
  for (Consumer consumer : {Consumer::poll, Consumer::interrupt}) {
    if (selected(options.consumer, consumer == Consumer::poll ? "poll" : "interrupt")) {
      consumers.push_back(consumer);
    }
  }
  std::vector<ReaderMode> readers;
  for (ReaderMode reader : {ReaderMode::copy, ReaderMode::in_place}) {
    if (selected(options.reader, reader == ReaderMode::copy ? "copy" : "inplace")) {
      readers.push_back(reader);
    }
  }

  for (Mode mode : modes) {
    for (std::size_t payload : payloads) {
      const auto mode_batches = mode == Mode::pingpong ? std::vector<std::size_t>{1} : batches;
      for (std::size_t batch : mode_batches) {
        for (Consumer consumer : consumers) {
          for (Impl impl : {Impl::uvmbus, Impl::uvmbus_unbatched, Impl::rte_ring, Impl::cacheline}) {
            if (!impl_selected(options, impl)) {
              continue;
            }
            const bool vmbus = impl == Impl::uvmbus || impl == Impl::uvmbus_unbatched;
            if (!vmbus && consumer == Consumer::interrupt) {
              continue;  // no interrupt mode
            }
            if (impl == Impl::cacheline && mode == Mode::stream) {
              continue;  // one packet in flight only
            }
            if (impl == Impl::uvmbus_unbatched && mode == Mode::pingpong) {
              continue;  // one packet per commit already: the same as uvmbus
            }
            if (impl == Impl::cacheline && payload != payloads.front()) {
              continue;  // carries no payload: one measurement is enough
            }
            RingCase c{.impl = impl,
                       .mode = mode,
                       .reader = std::nullopt,
                       .consumer = consumer,
                       .payload_bytes = impl == Impl::cacheline ? kCachelinePayload : payload,
                       .batch = batch};
            if (vmbus) {
              for (ReaderMode reader : readers) {
                c.reader = reader;
                plan.cases.push_back(c);
              }
            } else {
              plan.cases.push_back(c);
            }
          }
        }
      }
    }
  }

  auto note_if = [&](bool condition, const char* note) {
    if (condition) {
      plan.notes.emplace_back(note);
    }
  };
  const bool interrupt = selected(options.consumer, "interrupt");
  note_if(impl_selected(options, Impl::rte_ring) && interrupt,
          "rte_ring has no interrupt mode: measured with a polling consumer only");
  note_if(impl_selected(options, Impl::cacheline),
          "cacheline: one 8-byte counter per direction, ping-pong with a polling consumer only");
  note_if(impl_selected(options, Impl::uvmbus_unbatched) && selected(options.mode, "pingpong"),
          "uvmbus-unbatched: no ping-pong rows (one packet per commit is what uvmbus ping-pong does)");
  note_if(selected(options.mode, "pingpong"), "ping-pong rows: batch 1, latency = half the round trip");
  return plan;
}

nlohmann::ordered_json case_params(const RingCase& c) {
  nlohmann::ordered_json params;
  params["mode"] = c.mode == Mode::stream ? "stream" : "pingpong";
  params["reader"] = c.reader ? nlohmann::ordered_json(*c.reader == ReaderMode::copy ? "copy" : "inplace")
                              : nlohmann::ordered_json(nullptr);
  params["consumer"] = c.consumer == Consumer::poll ? "poll" : "interrupt";
  params["payload_bytes"] = c.payload_bytes;
  params["batch"] = c.batch;
  return params;
}

std::string describe_case(const RingCase& c) {
  const auto params = case_params(c);
  return fmt::format("{} {} reader={} consumer={} payload={} batch={}", impl_name(c.impl),
                     params["mode"].get<std::string>(),
                     params["reader"].is_null() ? "-" : params["reader"].get<std::string>(),
                     params["consumer"].get<std::string>(), c.payload_bytes, c.batch);
}

}  // namespace uvmbus::perf::ring_bench
