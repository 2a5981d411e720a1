// Topology: core lists checked against this machine, one CPU per physical
// core of a NUMA node (compared with what sysfs says), thread binding.
#include "uvmbus/runtime/topology.h"

#include <sched.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <utility>

#include <gtest/gtest.h>

#include "test_support.h"
#include "uvmbus/runtime/affinity.h"
#include "uvmbus/runtime/cpu_list.h"

namespace uvmbus::runtime {
namespace {

Topology load_topology() {
  auto topology = Topology::load();
  EXPECT_TRUE(topology.has_value());
  return std::move(*topology);
}

std::string read_line(const std::string& path) {
  std::ifstream file(path);
  std::string line;
  std::getline(file, line);
  return line;
}

TEST(Topology, CoreListsNameOnlyCpusOfThisMachine) {
  const Topology topology = load_topology();
  const std::vector<unsigned> allowed = allowed_cpus();
  ASSERT_FALSE(allowed.empty());

  auto first = topology.cpus_from_list(std::to_string(allowed.front()));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(*first, std::vector<unsigned>{allowed.front()});

  // A CPU past every CPU this process may use.
  const unsigned absent = allowed.back() + 1;
  auto missing = topology.cpus_from_list(std::to_string(allowed.front()) + "," +
                                         std::to_string(absent));
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, RuntimeErrorCode::cpu_out_of_range);
  EXPECT_EQ(missing.error().subject, absent);

  // Syntax errors come through unchanged.
  auto malformed = topology.cpus_from_list("0,,1");
  ASSERT_FALSE(malformed.has_value());
  EXPECT_EQ(malformed.error().code, RuntimeErrorCode::malformed_cpu_list);
}

// The oracle: node 0's CPUs from sysfs, restricted to those we may run on,
// grouped by (package, core id); the smallest CPU of each group.
std::vector<unsigned> first_cpu_of_each_core_per_sysfs(unsigned node) {
  const std::string node_cpus =
      read_line("/sys/devices/system/node/node" + std::to_string(node) + "/cpulist");
  auto cpus = parse_cpu_list(node_cpus);
  if (!cpus) {
    return {};
  }
  const std::vector<unsigned> allowed = allowed_cpus();
  std::map<std::pair<std::string, std::string>, unsigned> first_of_core;
  for (const unsigned cpu : *cpus) {
    if (std::find(allowed.begin(), allowed.end(), cpu) == allowed.end()) {
      continue;
    }
    const std::string base = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
    const auto core = std::make_pair(read_line(base + "physical_package_id"),
                                     read_line(base + "core_id"));
    const auto [slot, inserted] = first_of_core.emplace(core, cpu);
    if (!inserted && cpu < slot->second) {
      slot->second = cpu;
    }
  }
  std::vector<unsigned> result;
  for (const auto& entry : first_of_core) {
    result.push_back(entry.second);
  }
  std::sort(result.begin(), result.end());
  return result;
}

TEST(Topology, OneCpuPerPhysicalCoreOfTheNode) {
  const std::vector<unsigned> expected = first_cpu_of_each_core_per_sysfs(0);
  if (expected.empty()) {
    GTEST_SKIP() << "no NUMA node 0 in sysfs";
  }
  const Topology topology = load_topology();
  auto cpus = topology.one_cpu_per_core(0);
  ASSERT_TRUE(cpus.has_value()) << to_string(cpus.error().code);
  EXPECT_EQ(*cpus, expected);
}

TEST(Topology, ANodeThatDoesNotExistIsAnError) {
  const Topology topology = load_topology();
  auto cpus = topology.one_cpu_per_core(4095);
  ASSERT_FALSE(cpus.has_value());
  EXPECT_EQ(cpus.error().code, RuntimeErrorCode::invalid_numa_node);
  EXPECT_EQ(cpus.error().subject, 4095u);
}

TEST(Topology, BindsTheCallingThreadToEachCpu) {
  const Topology topology = load_topology();
  for (const unsigned cpu : allowed_cpus()) {
    int ran_on = -1;
    std::thread thread([&] {
      ASSERT_TRUE(topology.bind_current_thread(cpu).has_value());
      ran_on = sched_getcpu();
    });
    thread.join();
    EXPECT_EQ(ran_on, static_cast<int>(cpu));
  }
  auto absent = topology.bind_current_thread(kMaxCpu);
  ASSERT_FALSE(absent.has_value());
  EXPECT_EQ(absent.error().code, RuntimeErrorCode::cpu_out_of_range);
}

}  // namespace
}  // namespace uvmbus::runtime
