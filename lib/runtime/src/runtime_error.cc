// Names of runtime failure causes, for logs and test messages.
#include "uvmbus/runtime/runtime_error.h"

namespace uvmbus::runtime {

const char* to_string(RuntimeErrorCode code) noexcept {
  switch (code) {
    case RuntimeErrorCode::malformed_cpu_list: return "malformed core list";
    case RuntimeErrorCode::duplicate_cpu: return "CPU named twice";
    case RuntimeErrorCode::cpu_out_of_range: return "CPU absent or not available";
    case RuntimeErrorCode::invalid_numa_node: return "NUMA node absent or without CPUs";
    case RuntimeErrorCode::topology_failed: return "hwloc topology discovery failed";
    case RuntimeErrorCode::pin_failed: return "pinning the worker thread failed";
    case RuntimeErrorCode::invalid_config: return "invalid worker configuration";
    case RuntimeErrorCode::eventfd_failed: return "eventfd failed";
    case RuntimeErrorCode::epoll_failed: return "epoll failed";
    case RuntimeErrorCode::thread_failed: return "worker thread creation failed";
    case RuntimeErrorCode::already_attached: return "pollable already attached";
    case RuntimeErrorCode::not_attached: return "pollable not attached";
    case RuntimeErrorCode::worker_stopped: return "worker stopped";
    case RuntimeErrorCode::on_worker_thread: return "called from the worker thread";
  }
  return "unknown";
}

}  // namespace uvmbus::runtime
