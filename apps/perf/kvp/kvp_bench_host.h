// The host side of `uvmbus-perf kvp`: the host/ library's VmbusServer and
// KVP device in this process, one device worker pinned to the consumer CPU
// in poll mode, and the guest it measures against:
//   process  a real uvmbus-kvpd process over the user transport (a socket in
//            a scratch directory), its worker pinned to the producer CPU;
//   inproc   kvpd's service and daemon in this process over loopback.
// Either way the pool files live in a scratch directory under `pool_root`
// (/var/lib/hyperv by default, so the file system is the real one), removed
// at the end.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "uvmbus/host/kvp_device.h"
#include "uvmbus/host/vmbus_server.h"
#include "uvmbus/runtime/topology.h"
#include "uvmbus/runtime/worker.h"

namespace uvmbus::perf::kvp_bench {

inline constexpr const char* kVmName = "perf-vm";

struct BenchHostConfig {
  std::string impl;              // "process" or "inproc"
  unsigned host_cpu = 0;         // the device worker
  unsigned guest_cpu = 1;        // kvpd's worker
  std::filesystem::path pool_root = "/var/lib/hyperv";
  std::string kvpd_binary;       // process: the uvmbus-kvpd to run
  std::size_t window = 1;        // the device's calls in flight
};

class BenchHost {
 public:
  // Starts everything and waits until the guest negotiated. Throws
  // std::runtime_error saying what failed.
  BenchHost(const runtime::Topology& topology, const BenchHostConfig& config);
  ~BenchHost();
  BenchHost(const BenchHost&) = delete;
  BenchHost& operator=(const BenchHost&) = delete;

  host::KvpDevice& device() { return *device_; }
  const std::filesystem::path& pool_dir() const { return pool_dir_; }

  struct Guest;  // the process or the in-process daemon

 private:
  std::filesystem::path scratch_;   // socket (process)
  std::filesystem::path pool_dir_;
  std::unique_ptr<runtime::Worker> worker_;
  std::unique_ptr<host::VmbusServer> server_;
  std::shared_ptr<host::KvpDevice> device_;
  std::unique_ptr<Guest> guest_;
};

}  // namespace uvmbus::perf::kvp_bench
