// hwloc-backed CpuTopology.
#include "harness/topology.h"

#include <fmt/format.h>

#include <memory>
#include <stdexcept>

namespace uvmbus::perf {
namespace {

struct BitmapFree {
  void operator()(hwloc_bitmap_s* bitmap) const noexcept { hwloc_bitmap_free(bitmap); }
};
using Bitmap = std::unique_ptr<hwloc_bitmap_s, BitmapFree>;

}  // namespace

CpuTopology::CpuTopology() {
  if (hwloc_topology_init(&topology_) != 0) {
    throw std::runtime_error("hwloc: cannot initialise a topology");
  }
  if (hwloc_topology_load(topology_) != 0) {
    hwloc_topology_destroy(topology_);
    throw std::runtime_error("hwloc: cannot load the CPU topology");
  }
}

CpuTopology::~CpuTopology() { hwloc_topology_destroy(topology_); }

CpuPair CpuTopology::pick_pair() const {
  const int cores = physical_cores();
  if (cores < 2) {
    throw std::runtime_error(fmt::format(
        "need two physical cores for a producer and a consumer, this process may use {}", cores));
  }
  auto first_cpu_of_core = [this](int index) {
    hwloc_obj_t core = hwloc_get_obj_by_type(topology_, HWLOC_OBJ_CORE, static_cast<unsigned>(index));
    hwloc_obj_t cpu = hwloc_get_obj_inside_cpuset_by_type(topology_, core->cpuset, HWLOC_OBJ_PU, 0);
    return cpu->os_index;
  };
  // The last cores are the ones least likely to carry interrupts and
  // housekeeping, which land on CPU 0 first.
  return CpuPair{.producer = first_cpu_of_core(cores - 2), .consumer = first_cpu_of_core(cores - 1)};
}

void CpuTopology::check_pair(CpuPair cpus) const {
  for (unsigned cpu : {cpus.producer, cpus.consumer}) {
    if (hwloc_get_pu_obj_by_os_index(topology_, cpu) == nullptr) {
      throw std::runtime_error(fmt::format("CPU {} is not available to this process", cpu));
    }
  }
  if (cpus.producer == cpus.consumer) {
    throw std::runtime_error(fmt::format("producer and consumer both on CPU {}", cpus.producer));
  }
}

bool CpuTopology::pin_current_thread(unsigned cpu) const noexcept {
  Bitmap set(hwloc_bitmap_alloc());
  if (!set) {
    return false;
  }
  hwloc_bitmap_only(set.get(), cpu);
  return hwloc_set_cpubind(topology_, set.get(), HWLOC_CPUBIND_THREAD) == 0;
}

int CpuTopology::physical_cores() const {
  return hwloc_get_nbobjs_by_type(topology_, HWLOC_OBJ_CORE);
}

std::string CpuTopology::cpu_model() const {
  hwloc_obj_t package = hwloc_get_obj_by_type(topology_, HWLOC_OBJ_PACKAGE, 0);
  const char* model = package ? hwloc_obj_get_info_by_name(package, "CPUModel") : nullptr;
  return model ? model : "unknown";
}

}  // namespace uvmbus::perf
