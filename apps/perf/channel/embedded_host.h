// The embedded host: the host/ library's VmbusServer running in this
// process with the builtin `sink` and `echo` devices and one device worker
// pinned to the consumer CPU, so the channel benchmark needs no daemon.
// Guests reach it over loopback transport pairs.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "uvmbus/channel/transport.h"
#include "uvmbus/host/vmbus_server.h"
#include "uvmbus/runtime/topology.h"
#include "uvmbus/runtime/worker.h"

namespace uvmbus::perf::channel_bench {

struct EmbeddedHostConfig {
  unsigned cpu = 0;          // the device worker's CPU
  std::size_t burst = 32;    // packets per poll of a channel (one commit each way)
  std::chrono::nanoseconds idle_threshold = runtime::kNeverSleep;  // kNeverSleep: poll mode
};

class EmbeddedHost {
 public:
  // Starts the worker and the server and adds both devices. Throws
  // std::runtime_error saying what failed.
  EmbeddedHost(const runtime::Topology& topology, const EmbeddedHostConfig& config);
  ~EmbeddedHost();
  EmbeddedHost(const EmbeddedHost&) = delete;
  EmbeddedHost& operator=(const EmbeddedHost&) = delete;

  // A new partition; returns the guest end of its loopback pair.
  std::unique_ptr<channel::Transport> connect_guest();

  // Doorbells the host has rung to guests on channel `relid` (the server's
  // per-channel counter), over all partitions.
  uint64_t signals_to_guest(uint32_t relid);

 private:
  std::unique_ptr<runtime::Worker> worker_;
  std::unique_ptr<host::VmbusServer> server_;  // stopped before the worker
};

}  // namespace uvmbus::perf::channel_bench
