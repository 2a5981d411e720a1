// Options, run loop and output of `uvmbus-perf channel`.
#include "channel/channel_command.h"

#include <fmt/format.h>

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

// Records in plan order; channel records carry their ratio to the raw ring
// and their signals split by side.
std::vector<Record> make_records(const ChannelPlan& plan, const std::vector<Metrics>& medians,
                                 const std::vector<std::vector<SignalSplit>>& splits) {
  std::vector<Record> records;
  for (std::size_t index = 0; index < plan.cases.size(); ++index) {
    const ChannelCase& c = plan.cases[index];
    records.push_back(Record{.scenario = "channel",
                             .impl = std::string(impl_name(c.impl)),
                             .params = case_params(c, plan.transport),
                             .metrics = medians[index]});
  }
  for (std::size_t index = 0; index < records.size(); ++index) {
    Record& record = records[index];
    const Record* ring = record.impl == "channel" ? ring_record_for(records, record) : nullptr;
    record.derived["vs_ring"] = ring != nullptr && ring->metrics.mpps > 0
                                    ? nlohmann::ordered_json(record.metrics.mpps / ring->metrics.mpps)
                                    : nlohmann::ordered_json(nullptr);
    const auto& runs = splits[index];
    auto median_side = [&](double SignalSplit::*side) -> nlohmann::ordered_json {
      if (runs.empty()) {
        return nullptr;
      }
      std::vector<double> values;
      for (const SignalSplit& run : runs) {
        values.push_back(run.*side);
      }
      return median_of(std::move(values));
    };
    record.derived["guest_sig_per_pkt"] = median_side(&SignalSplit::guest_per_pkt);
    record.derived["host_sig_per_pkt"] = median_side(&SignalSplit::host_per_pkt);
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
  std::vector<std::vector<SignalSplit>> splits(plan.cases.size());
  const std::vector<Metrics> medians = measure_medians(
      plan.cases.size(), options.run.repeat,
      [&](std::size_t index) {
        const CaseRun run = measure_case(plan.cases[index], context);
        if (run.signals) {
          splits[index].push_back(*run.signals);
        }
        return run.metrics;
      },
      [&](std::size_t index) { return describe_case(plan.cases[index], plan.transport); });
  const std::vector<Record> records = make_records(plan, medians, splits);

  if (options.run.json) {
    fmt::print("{}\n", records_json(records, machine).dump(2));
    return;
  }
  plan.notes.emplace_back(
      "vs_ring: channel Mpps / ring Mpps at the same mode, payload and batch; guest_sig_per_pkt, "
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
  auto* payload = command->add_option("--payload", options->payload_bytes, "payload bytes per packet")
                      ->check(CLI::Range(8, 4096))
                      ->capture_default_str();
  auto* batch = command->add_option("--batch", options->batch, "packets per send burst (stream)")
                    ->check(CLI::Range(1, 256))
                    ->capture_default_str();
  command->add_option("--ring-size", options->ring_bytes, "ring data bytes per direction, a multiple of 4096")
      ->transform(CLI::AsSizeValue(false))
      ->check(CLI::Range(std::size_t{8} << 10, std::size_t{16} << 20))
      ->check(CLI::Validator(
          [](const std::string& text) {
            return std::stoull(text) % 4096 == 0 ? std::string() : std::string("not a multiple of 4096");
          },
          "MULTIPLE OF 4096"))
      ->capture_default_str();
  command->add_option("--impl", options->impls, "what to measure: the channel, the raw ring beside it")
      ->delimiter(',')
      ->check(CLI::IsMember(std::vector<std::string>(std::begin(kImplNames), std::end(kImplNames))))
      ->capture_default_str();
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
  command->add_flag("--sweep", options->sweep, "payloads 64,256,1024,4096 x batches 1,8,32,256")
      ->excludes(payload)
      ->excludes(batch);
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
