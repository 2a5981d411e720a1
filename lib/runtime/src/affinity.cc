// allowed_cpus: the calling thread's affinity mask as CPU numbers.
#include "uvmbus/runtime/affinity.h"

#include <sched.h>

namespace uvmbus::runtime {

std::vector<unsigned> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<unsigned> cpus;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) {
    return cpus;
  }
  for (unsigned cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) {
      cpus.push_back(cpu);
    }
  }
  return cpus;
}

unsigned first_allowed_cpu() {
  const std::vector<unsigned> cpus = allowed_cpus();
  return cpus.empty() ? 0 : cpus.front();
}

}  // namespace uvmbus::runtime
