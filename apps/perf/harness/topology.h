// The CPUs a benchmark runs on, seen through hwloc: choosing two different
// physical cores, checking a user's choice, pinning a thread, and describing
// the processor for the report.
#pragma once

#include <hwloc.h>

#include <string>

namespace uvmbus::perf {

// Two logical CPUs (OS indices, as `taskset` numbers them).
struct CpuPair {
  unsigned producer = 0;
  unsigned consumer = 0;
};

class CpuTopology {
 public:
  CpuTopology();  // throws std::runtime_error if hwloc cannot load
  ~CpuTopology();
  CpuTopology(const CpuTopology&) = delete;
  CpuTopology& operator=(const CpuTopology&) = delete;

  // One CPU on each of the last two physical cores this process may use.
  // Throws std::runtime_error when fewer than two cores are available.
  CpuPair pick_pair() const;

  // Throws std::runtime_error naming the CPU if either is not available to
  // this process, or if both are the same CPU.
  void check_pair(CpuPair cpus) const;

  // Binds the calling thread to one CPU; false if the kernel refused.
  [[nodiscard]] bool pin_current_thread(unsigned cpu) const noexcept;

  int physical_cores() const;
  std::string cpu_model() const;

 private:
  hwloc_topology_t topology_ = nullptr;
};

}  // namespace uvmbus::perf
