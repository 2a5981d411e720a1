// Options, run loop and output of `uvmbus-perf ring`.
#include "ring/ring_command.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "harness/machine.h"
#include "harness/measure_plan.h"
#include "harness/packet_options.h"
#include "harness/report.h"
#include "harness/tsc.h"
#include "ring/dpdk_eal.h"
#include "ring/ring_plan.h"
#include "ring/ring_runner.h"
#include "ring/ring_targets.h"

namespace uvmbus::perf::ring_bench {
namespace {

// Drops the rte_ring cases, with a note, if DPDK's EAL cannot start.
void start_dpdk_or_skip(RingPlan& plan) {
  auto uses_rte_ring = [](const RingCase& c) { return c.impl == Impl::rte_ring; };
  if (std::none_of(plan.cases.begin(), plan.cases.end(), uses_rte_ring)) {
    return;
  }
  const std::string& failure = start_eal();
  if (!failure.empty()) {
    std::erase_if(plan.cases, uses_rte_ring);
    plan.notes.push_back(fmt::format("rte_ring skipped: {}", failure));
    fmt::print(stderr, "uvmbus-perf ring: rte_ring skipped: {}\n", failure);
  }
}

void run_ring(const RingOptions& options) {
  const CpuTopology topology;
  const CpuPair cpus = choose_cpus(options.run, topology);
  const Machine machine = describe_machine(topology);
  RingPlan plan = plan_ring_cases(options);
  start_dpdk_or_skip(plan);
  tsc_ticks_per_ns();  // calibrate before the first measurement

  const RingRunContext context{.topology = topology,
                               .cpus = cpus,
                               .duration_s = options.run.duration_s,
                               .ring_bytes = static_cast<uint32_t>(options.ring_bytes)};
  const std::vector<Metrics> medians = measure_medians(
      plan.cases.size(), options.run.repeat,
      [&](std::size_t index) { return measure_case(plan.cases[index], context); },
      [&](std::size_t index) { return describe_case(plan.cases[index]); });
  std::vector<Record> records;
  for (std::size_t index = 0; index < plan.cases.size(); ++index) {
    const RingCase& c = plan.cases[index];
    records.push_back(Record{.scenario = "ring",
                             .impl = std::string(impl_name(c.impl)),
                             .params = case_params(c),
                             .metrics = medians[index]});
  }

  if (options.run.json) {
    fmt::print("{}\n", records_json(records, machine).dump(2));
    return;
  }
  plan.notes.push_back(fmt::format("producer on CPU {}, consumer on CPU {}; ring data area {} bytes; "
                                   "median of {} run(s) of {} s",
                                   cpus.producer, cpus.consumer, options.ring_bytes, options.run.repeat,
                                   options.run.duration_s));
  print_table(stdout, records, machine, plan.notes, ring_target_checks(records));
}

}  // namespace

void add_ring_command(CLI::App& app) {
  auto options = std::make_shared<RingOptions>();
  CLI::App* command = app.add_subcommand(
      "ring", "VMBus ring (batched, unbatched; copy-out and in-place readers) against rte_ring and a raw "
              "cache line, on two pinned cores");

  const PacketOptions packet =
      add_packet_options(*command, options->payload_bytes, options->batch, options->ring_bytes, options->impls,
                         kImplNames, {.batch = "packets per commit / burst",
                                      .ring_size = "ring data bytes, a multiple of 4096 (K/M suffixes ok)",
                                      .impl = "implementations to measure"});
  command->add_option("--reader", options->reader, "VMBus reader: copy-out, in place, or both")
      ->check(CLI::IsMember({"copy", "inplace", "both"}))
      ->capture_default_str();
  command->add_option("--consumer", options->consumer, "consumer polls or sleeps until signalled")
      ->check(CLI::IsMember({"poll", "interrupt", "both"}))
      ->capture_default_str();
  command->add_option("--mode", options->mode, "stream throughput, ping-pong latency, or both")
      ->check(CLI::IsMember({"stream", "pingpong", "both"}))
      ->capture_default_str();
  add_sweep_flag(*command, options->sweep, packet);
  add_run_options(*command, options->run);

  command->callback([options] { run_ring(*options); });
}

}  // namespace uvmbus::perf::ring_bench
