// Options, run loop and output of `uvmbus-perf kvp` (see kvp_command.h).
#include "kvp/kvp_command.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "harness/machine.h"
#include "harness/report.h"
#include "harness/run_options.h"
#include "harness/stats.h"
#include "kvp/kvp_bench_host.h"
#include "uvmbus/kvp/pool_store.h"

namespace uvmbus::perf::kvp_bench {
namespace {

using Clock = std::chrono::steady_clock;
using wire::KvpPool;

struct KvpOptions {
  std::vector<std::string> impls{"process"};
  std::vector<std::string> ops{"set", "get", "enumerate"};
  std::vector<uint32_t> records{10, 10000};
  std::size_t batch = 1000;  // calls handed to the device at once
  std::vector<std::size_t> windows{1, 4};  // the device's calls in flight
  std::string pool_root = "/var/lib/hyperv";
  std::string kvpd;
  std::string values = "whole";  // what each SET writes (see value_of)
  RunOptions run;
};

std::string key_of(uint32_t i) { return fmt::format("perf-key-{:06}", i); }
// small-change: about 100 bytes, as bench/kvp_pool_bench uses; each pass
// changes a few of them (the store writes just those). whole: 64 to 1,000
// bytes, the length moving with `i` and `round`, every byte different from
// the previous pass's value, so each SET rewrites the whole value.
std::string value_of(const std::string& values, uint32_t i, uint64_t round) {
  if (values == "small-change") {
    return fmt::format("value {:06} round {:08} {:->72}", i, round, "");
  }
  const std::size_t length = 64 + (i * 37u + round * 101u) % 937u;
  std::string value(length, ' ');
  for (std::size_t n = 0; n < length; ++n) {
    value[n] = static_cast<char>('!' + (i + round + n) % 94);  // printable, shifts by one each pass
  }
  return value;
}

// The uvmbus-kvpd next to this binary in a build tree, else the installed one.
std::string default_kvpd() {
  std::error_code error;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (!error) {
    const std::filesystem::path built = self.parent_path().parent_path() / "kvpd" / "uvmbus-kvpd";
    if (std::filesystem::exists(built)) {
      return built.string();
    }
    const std::filesystem::path installed = self.parent_path() / "uvmbus-kvpd";
    if (std::filesystem::exists(installed)) {
      return installed.string();
    }
  }
  return "/usr/local/bin/uvmbus-kvpd";
}

host::KvpCall call(const std::string& values, wire::KvpOperation operation, KvpPool pool, uint32_t i,
                   uint64_t round) {
  host::KvpCall c;
  c.operation = operation;
  c.pool = pool;
  if (operation == wire::KvpOperation::enumerate) {
    c.index = i;
  } else {
    c.key = key_of(i);
  }
  if (operation == wire::KvpOperation::set) {
    c.value = value_of(values, i, round);
  }
  return c;
}

std::vector<host::KvpDevice::CallOutcome> run_batch(host::KvpDevice& device, std::vector<host::KvpCall> calls) {
  auto outcomes = device.call_batch(kVmName, std::move(calls));
  if (!outcomes) {
    throw std::runtime_error(host::describe(outcomes.error()));
  }
  for (const auto& outcome : *outcomes) {
    if (outcome.failure) {
      throw std::runtime_error(host::describe(*outcome.failure));
    }
  }
  return std::move(*outcomes);
}

// Pool 0 (SET, GET) through the device, pool 1 (ENUMERATE) as a guest
// program would write it.
void prefill(BenchHost& bench, uint32_t records, const std::string& values) {
  for (uint32_t first = 0; first < records; first += 1000) {
    std::vector<host::KvpCall> calls;
    for (uint32_t i = first; i < std::min(records, first + 1000); ++i) {
      calls.push_back(call(values, wire::KvpOperation::set, KvpPool::external, i, 0));
    }
    run_batch(bench.device(), std::move(calls));
  }
  kvp::StoreOptions options;
  options.directory = bench.pool_dir();
  kvp::PoolStore::OpenResult store = kvp::PoolStore::open(options);
  if (store.status != kvp::StoreStatus::ok) {
    throw std::runtime_error("pool store for pool 1");
  }
  for (uint32_t i = 0; i < records; ++i) {
    if (store.store->set(KvpPool::guest, key_of(i), value_of(values, i, 0)) != kvp::StoreStatus::ok) {
      throw std::runtime_error("writing pool 1");
    }
  }
}

struct Measured {
  double ops_per_s = 0;
  std::vector<double> gaps_ns;  // reply-to-reply gaps inside batches: each call's round trip
};

Measured measure(BenchHost& bench, wire::KvpOperation operation, uint32_t records, const KvpOptions& options) {
  const KvpPool pool = operation == wire::KvpOperation::enumerate ? KvpPool::guest : KvpPool::external;
  Measured measured;
  uint64_t done = 0;
  uint64_t round = 1;
  uint32_t next = 0;
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration<double>(options.run.duration_s);
  while (Clock::now() < end) {
    std::vector<host::KvpCall> calls;
    calls.reserve(options.batch);
    for (std::size_t n = 0; n < options.batch; ++n) {
      calls.push_back(call(options.values, operation, pool, next, round));
      if (++next == records) {
        next = 0;
        ++round;
      }
    }
    const auto outcomes = run_batch(bench.device(), std::move(calls));
    for (std::size_t i = 1; i < outcomes.size(); ++i) {
      measured.gaps_ns.push_back(
          std::chrono::duration<double, std::nano>(outcomes[i].finished - outcomes[i - 1].finished).count());
    }
    done += outcomes.size();
  }
  measured.ops_per_s = static_cast<double>(done) / std::chrono::duration<double>(Clock::now() - start).count();
  return measured;
}

double percentile(std::vector<double>& values, double p) {
  if (values.empty()) {
    return 0;
  }
  const auto at = values.begin() + static_cast<std::ptrdiff_t>(p * static_cast<double>(values.size() - 1));
  std::nth_element(values.begin(), at, values.end());
  return *at;
}

wire::KvpOperation operation_of(const std::string& name) {
  return name == "set" ? wire::KvpOperation::set
         : name == "get" ? wire::KvpOperation::get
                         : wire::KvpOperation::enumerate;
}

void run_kvp(const KvpOptions& options) {
  const CpuTopology topology;
  const CpuPair cpus = choose_cpus(options.run, topology);
  const Machine machine = describe_machine(topology);
  auto runtime_topology = runtime::Topology::load();
  if (!runtime_topology) {
    throw std::runtime_error("hwloc topology");
  }
  std::vector<Record> records;
  for (const std::string& impl : options.impls) {
    for (const std::size_t window : options.windows) {
    for (const uint32_t count : options.records) {
      // A fresh guest and pool directory per size.
      BenchHost bench(*runtime_topology, {.impl = impl,
                                          .host_cpu = cpus.consumer,
                                          .guest_cpu = cpus.producer,
                                          .pool_root = options.pool_root,
                                          .kvpd_binary = options.kvpd.empty() ? default_kvpd() : options.kvpd,
                                          .window = window});
      prefill(bench, count, options.values);
      for (const std::string& op : options.ops) {
        std::vector<double> rates;
        std::vector<double> p50;
        std::vector<double> p99;
        for (unsigned r = 0; r < std::max(1u, options.run.repeat); ++r) {
          Measured m = measure(bench, operation_of(op), count, options);
          rates.push_back(m.ops_per_s);
          p50.push_back(percentile(m.gaps_ns, 0.50));
          p99.push_back(percentile(m.gaps_ns, 0.99));
        }
        const double rate = median_of(rates);
        Record record{.scenario = "kvp", .impl = impl, .params = {}, .metrics = {}};
        record.params["op"] = op;
        record.params["records"] = count;
        record.params["window"] = window;
        record.params["batch"] = options.batch;
        record.params["values"] = options.values;
        record.metrics.mpps = rate / 1e6;
        record.metrics.ns_per_pkt = rate > 0 ? 1e9 / rate : 0;
        record.derived["ops_per_s"] = std::round(rate);
        record.derived["p50_us"] = std::round(median_of(p50) / 10) / 100;
        record.derived["p99_us"] = std::round(median_of(p99) / 10) / 100;
        records.push_back(std::move(record));
      }
    }
    }
  }
  if (options.run.json) {
    fmt::print("{}\n", records_json(records, machine).dump(2));
    return;
  }
  std::vector<std::string> notes{
      fmt::format("host device worker (poll mode) on CPU {}, kvpd's worker on CPU {}; pool files in {}", cpus.consumer,
                  cpus.producer, options.pool_root),
      fmt::format("{} calls per batch handed to the device at once; window: calls in flight (1 = one "
                  "transaction at a time); p50/p99: reply-to-reply gaps (with window 1, each call's round trip); "
                  "SET values: {}; median of {} run(s) of {} s",
                  options.batch,
                  options.values == "whole" ? "each rewrites the whole stored value (64-1,000 bytes)"
                                            : "each differs from the stored one in a few bytes",
                  std::max(1u, options.run.repeat), options.run.duration_s)};
  std::vector<TargetCheck> checks;
  for (const std::string& impl : options.impls) {
    for (const std::size_t window : options.windows) {
    std::optional<double> small;
    std::optional<double> large;
    for (const Record& record : records) {
      if (record.impl != impl || record.params["op"] != "set" || record.params["window"] != window) {
        continue;
      }
      const auto count = record.params["records"].get<uint32_t>();
      if (count == 10) {
        small = record.derived["ops_per_s"].get<double>();
      } else if (count == 10000) {
        large = record.derived["ops_per_s"].get<double>();
      }
    }
    checks.push_back({fmt::format("{} window {}: SETs/s at 10,000 records", impl, window), large, 50000, true});
    checks.push_back({fmt::format("{} window {}: SET rate at 10 / rate at 10,000", impl, window),
                      small && large && *large > 0 ? std::optional(*small / *large) : std::nullopt, 2, false});
    }
  }
  print_table(stdout, records, machine, notes, checks);
}

}  // namespace

void add_kvp_command(CLI::App& app) {
  auto options = std::make_shared<KvpOptions>();
  CLI::App* command = app.add_subcommand(
      "kvp", "host-driven KVP SET, GET and ENUMERATE: the embedded host's KVP device against uvmbus-kvpd");
  command->add_option("--impl", options->impls, "process: a uvmbus-kvpd process (user transport); inproc: kvpd "
                                                "in this process (loopback)")
      ->delimiter(',')
      ->check(CLI::IsMember({"process", "inproc"}))
      ->capture_default_str();
  command->add_option("--op", options->ops, "operations to measure")
      ->delimiter(',')
      ->check(CLI::IsMember({"set", "get", "enumerate"}))
      ->capture_default_str();
  command->add_option("--records", options->records, "pool sizes")
      ->delimiter(',')
      ->check(CLI::Range(1u, 1000000u))
      ->capture_default_str();
  command->add_option("--batch", options->batch, "calls handed to the device at once")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100000}))
      ->capture_default_str();
  command->add_option("--window", options->windows,
                      "calls in flight at once (1: Hyper-V's one transaction at a time); at most 4 fit kvpd's ring")
      ->delimiter(',')
      ->check(CLI::Range(std::size_t{1}, std::size_t{4}))
      ->capture_default_str();
  command->add_option("--pool-root", options->pool_root, "where the scratch pool directory is made")
      ->capture_default_str();
  command->add_option("--values", options->values,
                      "whole: every SET writes a new 64-1,000 byte value differing throughout; small-change: "
                      "about 100 bytes differing from the stored value in a few")
      ->check(CLI::IsMember({"whole", "small-change"}))
      ->capture_default_str();
  command->add_option("--kvpd", options->kvpd, "the uvmbus-kvpd binary (default: next to uvmbus-perf)");
  add_run_options(*command, options->run);
  command->callback([options] { run_kvp(*options); });
}

}  // namespace uvmbus::perf::kvp_bench
