// JSON and table rendering of records.
#include "harness/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

namespace uvmbus::perf {
namespace {

nlohmann::ordered_json machine_json(const Machine& machine) {
  return {{"cpu_model", machine.cpu_model}, {"cores", machine.cores}, {"kernel", machine.kernel}};
}

nlohmann::ordered_json optional_json(const std::optional<Latency>& latency, double Latency::*field) {
  return latency ? nlohmann::ordered_json(*latency.*field) : nlohmann::ordered_json(nullptr);
}

// Keys of `field` (params or derived) in order of first appearance over all records.
std::vector<std::string> columns_of(std::span<const Record> records, nlohmann::ordered_json Record::*field) {
  std::vector<std::string> keys;
  for (const Record& record : records) {
    for (const auto& item : (record.*field).items()) {
      if (std::find(keys.begin(), keys.end(), item.key()) == keys.end()) {
        keys.push_back(item.key());
      }
    }
  }
  return keys;
}

std::string param_cell(const nlohmann::ordered_json& params, const std::string& key) {
  if (!params.contains(key) || params[key].is_null()) {
    return "-";
  }
  const auto& value = params[key];
  if (value.is_number_float()) {
    return fmt::format("{:.3f}", value.get<double>());
  }
  return value.is_string() ? value.get<std::string>() : value.dump();
}

std::vector<std::string> metric_cells(const Metrics& m) {
  auto latency = [&](double Latency::*field) {
    return m.latency ? fmt::format("{:.0f}", *m.latency.*field) : std::string("-");
  };
  return {fmt::format("{:.2f}", m.mpps),          fmt::format("{:.2f}", m.gbit_per_s),
          fmt::format("{:.1f}", m.ns_per_pkt),    fmt::format("{:.0f}", m.cycles_per_pkt),
          fmt::format("{:.4f}", m.signals_per_pkt), latency(&Latency::p50_ns),
          latency(&Latency::p99_ns),              latency(&Latency::p999_ns)};
}

std::string check_line(const TargetCheck& check) {
  const char* relation = check.at_least ? ">=" : "<=";
  if (!check.value) {
    return fmt::format("{}: not measured in this run (target {} {:.2f})", check.what, relation, check.target);
  }
  const bool pass = check.at_least ? *check.value >= check.target : *check.value <= check.target;
  return fmt::format("{}: {:.2f} (target {} {:.2f}) {}", check.what, *check.value, relation,
                     check.target, pass ? "PASS" : "MISS");
}

}  // namespace

nlohmann::ordered_json records_json(std::span<const Record> records, const Machine& machine) {
  auto array = nlohmann::ordered_json::array();
  for (const Record& record : records) {
    nlohmann::ordered_json item = {
        {"scenario", record.scenario}, {"impl", record.impl}, {"machine", machine_json(machine)}};
    for (const auto& param : record.params.items()) {
      item[param.key()] = param.value();
    }
    const Metrics& m = record.metrics;
    item["mpps"] = m.mpps;
    item["gbit_per_s"] = m.gbit_per_s;
    item["ns_per_pkt"] = m.ns_per_pkt;
    item["cycles_per_pkt"] = m.cycles_per_pkt;
    item["signals_per_pkt"] = m.signals_per_pkt;
    item["p50_ns"] = optional_json(m.latency, &Latency::p50_ns);
    item["p99_ns"] = optional_json(m.latency, &Latency::p99_ns);
    item["p999_ns"] = optional_json(m.latency, &Latency::p999_ns);
    for (const auto& figure : record.derived.items()) {
      item[figure.key()] = figure.value();
    }
    array.push_back(std::move(item));
  }
  return array;
}

void print_table(std::FILE* out, std::span<const Record> records, const Machine& machine,
                 std::span<const std::string> notes, std::span<const TargetCheck> checks) {
  const std::vector<std::string> keys = columns_of(records, &Record::params);
  const std::vector<std::string> derived_keys = columns_of(records, &Record::derived);
  std::vector<std::string> header = {"impl"};
  std::vector<bool> align_left = {true};  // text columns align left, numbers right
  for (const std::string& key : keys) {
    header.push_back(key);
    align_left.push_back(std::any_of(records.begin(), records.end(), [&](const Record& record) {
      return record.params.contains(key) && record.params[key].is_string();
    }));
  }
  for (const char* metric : {"Mpps", "Gbit/s", "ns/pkt", "cyc/pkt", "sig/pkt", "p50 ns", "p99 ns", "p99.9 ns"}) {
    header.emplace_back(metric);
    align_left.push_back(false);
  }
  for (const std::string& key : derived_keys) {
    header.push_back(key);
    align_left.push_back(false);
  }

  std::vector<std::vector<std::string>> rows;
  for (const Record& record : records) {
    std::vector<std::string> row = {record.impl};
    for (const std::string& key : keys) {
      row.push_back(param_cell(record.params, key));
    }
    for (std::string& cell : metric_cells(record.metrics)) {
      row.push_back(std::move(cell));
    }
    for (const std::string& key : derived_keys) {
      row.push_back(param_cell(record.derived, key));
    }
    rows.push_back(std::move(row));
  }

  std::vector<std::size_t> widths(header.size());
  for (std::size_t column = 0; column < header.size(); ++column) {
    widths[column] = header[column].size();
    for (const auto& row : rows) {
      widths[column] = std::max(widths[column], row[column].size());
    }
  }
  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (std::size_t column = 0; column < row.size(); ++column) {
      line += align_left[column] ? fmt::format("{:<{}}  ", row[column], widths[column])
                   : fmt::format("{:>{}}  ", row[column], widths[column]);
    }
    line.erase(line.find_last_not_of(' ') + 1);
    fmt::print(out, "{}\n", line);
  };

  const std::string scenario = records.empty() ? "" : records.front().scenario;
  fmt::print(out, "uvmbus-perf {} on {} ({} cores, Linux {})\n\n", scenario, machine.cpu_model,
             machine.cores, machine.kernel);
  print_row(header);
  for (const auto& row : rows) {
    print_row(row);
  }
  if (!notes.empty()) {
    fmt::print(out, "\n");
    for (const std::string& note : notes) {
      fmt::print(out, "note: {}\n", note);
    }
  }
  if (!checks.empty()) {
    fmt::print(out, "\n");
    for (const TargetCheck& check : checks) {
      fmt::print(out, "{}\n", check_line(check));
    }
  }
}

}  // namespace uvmbus::perf
