// Machine description from hwloc and uname.
#include "harness/machine.h"

#include <sys/utsname.h>

namespace uvmbus::perf {

Machine describe_machine(const CpuTopology& topology) {
  utsname names{};
  Machine machine{.cpu_model = topology.cpu_model(), .cores = topology.physical_cores(), .kernel = "unknown"};
  if (uname(&names) == 0) {
    machine.kernel = names.release;
  }
  return machine;
}

}  // namespace uvmbus::perf
