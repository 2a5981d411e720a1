// uvmbus-kvpd's start-up and service (see kvpd_run.h).
#include "kvpd_run.h"

#include <cstring>

#include "auto_pool.h"
#include "kvp_daemon.h"
#include "kvp_service.h"
#include "log.h"
#include "netlink_ip_config.h"
#include "uvmbus/channel/guest_memory.h"
#include "uvmbus/channel/user_transport.h"
#include "uvmbus/kvp/versions.h"
#include "uvmbus/runtime/affinity.h"

namespace uvmbus::kvpd {
namespace {

// Rings and the connection's pages: the KVP channel needs a few pages.
constexpr std::size_t kGuestMemoryBytes = 1 << 20;

}  // namespace

StoreOpen open_pool_store(const KvpdOptions& options) {
  kvp::StoreOptions store_options;
  store_options.directory = options.pool_dir;
  store_options.sync = options.sync;
  kvp::PoolStore::OpenResult opened = kvp::PoolStore::open(store_options);
  if (!opened.store) {
    log(LogLevel::error, "event=pool_dir_unusable dir=\"{}\" status={} errno={} reason=\"{}\"",
        options.pool_dir.string(), kvp::to_string(opened.status), opened.error_number,
        std::strerror(opened.error_number));
    return {nullptr, kExitCantCreate};
  }
  return {std::move(opened.store), 0};
}

TransportOpen open_transport(const KvpdOptions& options) {
  switch (options.transport) {
    case TransportKind::loopback:
      log(LogLevel::error,
          "event=transport_unavailable transport=loopback reason=\"the loopback transport needs "
          "a host in this process; this build embeds none (use --transport user)\"");
      break;
    case TransportKind::user: {
      channel::UserPartition partition;
      partition.name = options.vm_name;
      if (!options.vm_id.empty()) {
        partition.vm_id = wire::parse_guid(*normalize_guid(options.vm_id)).value_or(wire::Guid{});
      }
      auto connected = channel::UserTransport::connect(options.socket.string(), partition);
      if (connected) {
        log(LogLevel::info, "event=connected transport=user socket=\"{}\" vm_name={}",
            options.socket.string(), options.vm_name);
        return {std::move(*connected), 0};
      }
      log(LogLevel::error, "event=transport_unavailable transport=user socket=\"{}\" reason=\"{}\"",
          options.socket.string(), channel::describe(connected.error()));
      break;
    }
  }
  return {nullptr, kExitUnavailable};
}

int serve(const KvpdOptions& options, channel::Transport& transport, kvp::PoolStore& store,
          const std::atomic<bool>& stop) {
  channel::GuestMemory memory;
  if (!memory.add_region(kGuestMemoryBytes)) {
    log(LogLevel::error, "event=guest_memory_failed bytes={}", kGuestMemoryBytes);
    return kExitSoftware;
  }
  auto topology = runtime::Topology::load();
  if (!topology) {
    log(LogLevel::error, "event=topology_failed reason={}", runtime::to_string(topology.error().code));
    return kExitSoftware;
  }
  NetlinkIpConfig ip_config({.nic_map = options.nic_map,
                             .sysfs_net = "/sys/class/net",
                             .resolv_conf = options.resolv_conf,
                             .ifconfig_hook = options.ifconfig_hook,
                             .ifconfig_dir = options.pool_dir});
  const AutoPool auto_pool(options.os_release);
  const std::span<const wire::IcVersion> versions =
      options.kvp_version == 4 ? std::span<const wire::IcVersion>(kvp::kLinuxGuestVersions)
                               : std::span<const wire::IcVersion>(kvp::kGuestVersions);
  KvpService service(versions, store, auto_pool, ip_config);
  DaemonConfig config;
  config.worker.cpu = options.cpu.value_or(runtime::first_allowed_cpu());
  config.worker.idle_threshold = options.idle_threshold;
  KvpDaemon::StartResult started = KvpDaemon::start(transport, memory, service, *topology, config);
  switch (started.error) {
    case DaemonError::none:
      break;
    case DaemonError::no_device:
      log(LogLevel::error, "event=no_kvp_device reason=\"{}\"", started.detail);
      return kExitUnavailable;
    default:
      log(LogLevel::error, "event=start_failed step={} reason={}", to_string(started.error),
          started.detail);
      return started.error == DaemonError::connect_failed ? kExitUnavailable : kExitSoftware;
  }
  log(LogLevel::info, "event=serving pool_dir=\"{}\" kvp_version_max={} sync={}",
      options.pool_dir.string(), options.kvp_version, options.sync);
  const bool stopped = started.daemon->run(stop);
  const auto& counters = service.counters();
  log(LogLevel::info, "event=exit reason={} negotiations={} refused={} dropped={}",
      stopped ? "stopped" : "host_gone", counters.negotiations, counters.refused, counters.dropped);
  return stopped ? 0 : kExitSoftware;
}

}  // namespace uvmbus::kvpd
