// EmbeddedHost: worker, server, devices, loopback partitions.
#include "channel/embedded_host.h"

#include <fmt/format.h>

#include <cstring>
#include <stdexcept>

#include "uvmbus/channel/loopback_transport.h"
#include "uvmbus/host/builtin_devices.h"

namespace uvmbus::perf::channel_bench {
namespace {

constexpr wire::Guid kEchoInstance = wire::guid_literal("5e1ec7ed-ec40-4000-8000-0000000000e1");
constexpr wire::Guid kSinkInstance = wire::guid_literal("5e1ec7ed-51a4-4000-8000-0000000000e2");

}  // namespace

EmbeddedHost::EmbeddedHost(const runtime::Topology& topology, const EmbeddedHostConfig& config) {
  auto worker = runtime::Worker::start(topology, runtime::WorkerConfig{
                                                     .cpu = config.cpu,
                                                     .burst = config.burst,
                                                     .idle_threshold = config.idle_threshold,
                                                 });
  if (!worker) {
    throw std::runtime_error(
        fmt::format("embedded host: cannot start a device worker on CPU {}: {}", config.cpu,
                    runtime::to_string(worker.error().code)));
  }
  worker_ = std::move(*worker);
  auto server = host::VmbusServer::start(host::ServerConfig{.workers = {worker_.get()}, .limits = {}});
  if (!server) {
    throw std::runtime_error(fmt::format("embedded host: cannot start the server: {}", std::strerror(server.error())));
  }
  server_ = std::move(*server);
  if (!server_->add_device(host::make_echo_device(kEchoInstance)) ||
      !server_->add_device(host::make_sink_device(kSinkInstance))) {
    throw std::runtime_error("embedded host: cannot add the echo and sink devices");
  }
}

EmbeddedHost::~EmbeddedHost() {
  server_.reset();
  worker_.reset();
}

std::unique_ptr<channel::Transport> EmbeddedHost::connect_guest() {
  auto pair = channel::make_loopback_pair();
  if (!pair) {
    throw std::runtime_error(fmt::format("loopback transport: {}", std::strerror(pair.error())));
  }
  if (server_->add_partition(std::move(pair->host), "uvmbus-perf") == 0) {
    throw std::runtime_error("embedded host: the server refused a partition");
  }
  return std::move(pair->guest);
}

uint64_t EmbeddedHost::signals_to_guest(uint32_t relid) {
  uint64_t signals = 0;
  for (const host::PartitionSnapshot& partition : server_->snapshot().partitions) {
    for (const host::ChannelSnapshot& channel : partition.channels) {
      if (channel.relid == relid) {
        signals += channel.stats.signals_sent;
      }
    }
  }
  return signals;
}

}  // namespace uvmbus::perf::channel_bench
