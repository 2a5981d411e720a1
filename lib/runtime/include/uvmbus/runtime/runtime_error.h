// Why a runtime call failed: a cause, the CPU / node / text offset it is
// about, and the errno of the system call that failed when there is one.
#pragma once

#include <cstdint>

namespace uvmbus::runtime {

enum class RuntimeErrorCode : uint8_t {
  malformed_cpu_list,  // not "N" or "N-M" items (N <= M) separated by commas; subject: byte offset
  duplicate_cpu,       // a core list names a CPU twice; subject: the CPU
  cpu_out_of_range,    // a CPU absent from this machine or not available to this process;
                       // subject: the CPU (saturated to 2^32-1)
  invalid_numa_node,   // no such NUMA node, or it has no CPUs we may use; subject: the node
  topology_failed,     // hwloc could not discover the topology
  pin_failed,          // binding the worker thread failed; subject: the CPU
  invalid_config,      // a burst of 0 or a negative idle threshold
  eventfd_failed,
  epoll_failed,        // epoll_create1 or epoll_ctl
  thread_failed,       // the worker thread could not be created
  already_attached,    // the pollable is attached to this worker already
  not_attached,        // detach of a pollable this worker does not hold
  worker_stopped,      // attach after stop()
  on_worker_thread,    // attach/detach/stop called from inside the worker's own poll loop
};

struct RuntimeError {
  RuntimeErrorCode code;
  uint32_t subject = 0;  // what the error is about (see the code); 0 if nothing
  int sys_errno = 0;     // errno of the failed system call, 0 if none
};

const char* to_string(RuntimeErrorCode code) noexcept;

}  // namespace uvmbus::runtime
