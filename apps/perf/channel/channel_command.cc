// Options, run loop and output of `uvmbus-perf channel`.
#include "channel/channel_command.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>

#include "channel/channel_plan.h"
#include "channel/channel_runner.h"
#include "channel/channel_targets.h"
#include "harness/machine.h"
#include "harness/measure_plan.h"
#include "harness/packet_options.h"
#include "harness/report.h"
#include "harness/stats.h"
#include "harness/tsc.h"

namespace uvmbus::perf::channel_bench {
namespace {

runtime::Topology load_runtime_topology() {
  auto topology = runtime::Topology::load();
  if (!topology) {
    throw std::runtime_error(fmt::format("hwloc: {}", runtime::to_string(topology.error().code)));
  }
  return std::move(*topology);
}

// What each run measured beyond Metrics, kept per case in run order.
struct RunExtras {
  std::vector<double> mpps;          // every run's, for ratios within a round
  std::vector<SignalSplit> signals;  // channel cases
};

// The index of the ring case at the same point as `c`, or none.
std::optional<std::size_t> ring_case_for(const ChannelPlan& plan, const ChannelCase& c) {
  for (std::size_t index = 0; index < plan.cases.size(); ++index) {
    const ChannelCase& other = plan.cases[index];
    if (other.impl == Impl::ring && other.mode == c.mode && other.payload_bytes == c.payload_bytes &&
        other.batch == c.batch) {
      return index;
    }
  }
  return std::nullopt;
}

nlohmann::ordered_json median_or_null(std::vector<double> values) {
  return values.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(median_of(std::move(values)));
}

// Records in plan order. A channel record's vs_ring is the median over the
// rounds of its Mpps divided by the ring's in the same round (the two run
// back to back, so a change of the machine's state between rounds cancels
// out); the signal split is the median of each side.
std::vector<Record> make_records(const ChannelPlan& plan, const std::vector<Metrics>& medians,
                                 const std::vector<RunExtras>& extras) {
  std::vector<Record> records;
  for (std::size_t index = 0; index < plan.cases.size(); ++index) {
    const ChannelCase& c = plan.cases[index];
    Record record{.scenario = "channel",
                  .impl = std::string(impl_name(c.impl)),
                  .params = case_params(c, plan.transport),
                  .metrics = medians[index]};
    std::vector<double> ratios;
    const std::optional<std::size_t> ring = c.impl == Impl::channel ? ring_case_for(plan, c) : std::nullopt;
    if (ring) {
      const std::vector<double>& mine = extras[index].mpps;
      const std::vector<double>& theirs = extras[*ring].mpps;
      for (std::size_t round = 0; round < std::min(mine.size(), theirs.size()); ++round) {
        if (theirs[round] > 0) {
          ratios.push_back(mine[round] / theirs[round]);
        }
      }
    }
    std::vector<double> guest;
    std::vector<double> host;
    for (const SignalSplit& split : extras[index].signals) {
      guest.push_back(split.guest_per_pkt);
      host.push_back(split.host_per_pkt);
    }
    record.derived["vs_ring"] = median_or_null(std::move(ratios));
    record.derived["guest_sig_per_pkt"] = median_or_null(std::move(guest));
    record.derived["host_sig_per_pkt"] = median_or_null(std::move(host));
    records.push_back(std::move(record));
  }
  return records;
}

void run_channel(const ChannelOptions& options) {
  const CpuTopology topology;
  const CpuPair cpus = choose_cpus(options.run, topology);
  const Machine machine = describe_machine(topology);
  const runtime::Topology runtime_topology = load_runtime_topology();
  ChannelPlan plan = plan_channel_cases(options);
  tsc_ticks_per_ns();  // calibrate before the first measurement

  const ChannelRunContext context{
      .topology = topology,
      .runtime_topology = runtime_topology,
      .cpus = cpus,
      .duration_s = options.run.duration_s,
      .ring_bytes = static_cast<uint32_t>(options.ring_bytes),
      .transport = plan.transport,
      .socket = options.socket,
      .idle_threshold = std::chrono::nanoseconds(static_cast<int64_t>(options.idle_threshold_us * 1000)),
  };
  std::vector<RunExtras> extras(plan.cases.size());
  const std::vector<Metrics> medians = measure_medians(
      plan.cases.size(), options.run.repeat,
      [&](std::size_t index) {
        const CaseRun run = measure_case(plan.cases[index], context);
        extras[index].mpps.push_back(run.metrics.mpps);
        if (run.signals) {
          extras[index].signals.push_back(*run.signals);
        }
        return run.metrics;
      },
      [&](std::size_t index) { return describe_case(plan.cases[index], plan.transport); });
  const std::vector<Record> records = make_records(plan, medians, extras);

  if (options.run.json) {
    fmt::print("{}\n", records_json(records, machine).dump(2));
    return;
  }
  plan.notes.emplace_back(
      "vs_ring: median over the runs of channel Mpps / ring Mpps at the same mode, payload and batch, "
      "measured back to back in each round; guest_sig_per_pkt, "
      "host_sig_per_pkt: each side's doorbells per packet (sig/pkt is their sum)");
  plan.notes.push_back(fmt::format("guest (ring producer) on CPU {}, host device worker (ring consumer) on CPU {}; "
                                   "ring data areas {} bytes; median of {} run(s) of {} s",
                                   cpus.producer, cpus.consumer, options.ring_bytes, options.run.repeat,
                                   options.run.duration_s));
  print_table(stdout, records, machine, plan.notes, channel_target_checks(records, plan.transport));
}

}  // namespace

void add_channel_command(CLI::App& app) {
  auto options = std::make_shared<ChannelOptions>();
  CLI::App* command = app.add_subcommand(
      "channel", "lib/channel to the host's sink (stream) and echo (round trips) devices, embedded host over "
                 "loopback or uvmbus-hostd over the user transport, beside the raw ring");

  command->add_option("--transport", options->transport, "loopback: embedded host; user: hostd")
                        ->check(CLI::IsMember({"loopback", "user"}))
                        ->capture_default_str();
  auto* socket = command->add_option("--socket", options->socket, "the user transport socket of uvmbus-hostd");
  const PacketOptions packet =
      add_packet_options(*command, options->payload_bytes, options->batch, options->ring_bytes, options->impls,
                         kImplNames, {.batch = "packets per send burst (stream)",
                                      .ring_size = "ring data bytes per direction, a multiple of 4096",
                                      .impl = "what to measure: the channel, the raw ring beside it"});
  command->add_option("--mode", options->mode, "stream to sink, round trips through echo, or both")
      ->check(CLI::IsMember({"stream", "echo", "both"}))
      ->capture_default_str();
  command
      ->add_option("--consumer", options->consumer,
                   "host device worker: poll, adaptive (sleeps after --idle-threshold), or both; with --transport "
                   "user, how hostd's workers run (default adaptive)")
      ->check(CLI::IsMember({"poll", "adaptive", "both"}))
      ->capture_default_str();
  command->add_option("--idle-threshold", options->idle_threshold_us, "adaptive host worker: idle microseconds "
                                                                     "before it sleeps")
      ->check(CLI::Range(0.0, 1e6))
      ->capture_default_str();
  add_sweep_flag(*command, options->sweep, packet);
  add_run_options(*command, options->run);

  command->callback([options, socket] {
    if (options->transport == "user" && options->socket.empty()) {
      throw CLI::RequiredError("--transport user needs --socket PATH");
    }
    if (options->transport == "loopback" && socket->count() > 0) {
      throw CLI::ValidationError("--socket", "only with --transport user");
    }
    if (options->transport == "user" && options->consumer == "both") {
      options->consumer = "adaptive";
    }
    run_channel(*options);
  });
}

}  // namespace uvmbus::perf::channel_bench
