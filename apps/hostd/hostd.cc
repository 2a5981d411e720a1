// uvmbus-hostd's service (see hostd.h).
#include "hostd.h"

#include <fmt/core.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <csignal>
#include <cstring>

#include "core_commands.h"
#include "hostd_options.h"
#include "log.h"
#include "socket_path.h"
#include "uvmbus/runtime/affinity.h"
#include "uvmbus/runtime/topology.h"

namespace uvmbus::hostd {
namespace {

using namespace std::chrono_literals;

constexpr auto kPruneInterval = 200ms;

runtime::Unexpected<StartError> start_error(int code, std::string message) {
  return runtime::Unexpected<StartError>(StartError{code, std::move(message)});
}

}  // namespace

Hostd::Hostd(HostdConfig config) : config_(std::move(config)) {}

runtime::Expected<std::unique_ptr<Hostd>, StartError> Hostd::start(HostdConfig config) {
  std::unique_ptr<Hostd> hostd(new Hostd(std::move(config)));
  const HostdConfig& cfg = hostd->config_;
  for (const std::string* path : {&cfg.control_socket, &cfg.guest_socket}) {
    if (std::string problem = prepare_socket_path(*path); !problem.empty()) {
      return start_error(kExitUnavailable, std::move(problem));
    }
  }
  auto topology = runtime::Topology::load();
  if (!topology) {
    return start_error(kExitSoftware, fmt::format("topology: {}", runtime::to_string(topology.error().code)));
  }
  std::vector<unsigned> cpus{runtime::first_allowed_cpu()};
  if (!cfg.cpus.empty()) {
    auto listed = topology->cpus_from_list(cfg.cpus);
    if (!listed) {
      return start_error(kExitConfig, fmt::format("workers.cpus '{}': {} (cpu {})", cfg.cpus,
                                                  runtime::to_string(listed.error().code), listed.error().subject));
    }
    cpus = *listed;
  }
  for (const unsigned cpu : cpus) {
    auto worker = runtime::Worker::start(
        *topology, {.cpu = cpu, .burst = 32, .idle_threshold = std::chrono::microseconds(cfg.idle_threshold_us)});
    if (!worker) {
      return start_error(kExitSoftware,
                         fmt::format("worker on cpu {}: {}", cpu, runtime::to_string(worker.error().code)));
    }
    hostd->workers_.push_back(std::move(*worker));
  }
  host::ServerConfig server_config;
  for (const auto& worker : hostd->workers_) {
    server_config.workers.push_back(worker.get());
  }
  server_config.limits.gpadls = {.max_gpadls = cfg.limits.max_gpadls, .max_total_pages = cfg.limits.max_gpadl_pages};
  auto server = host::VmbusServer::start(std::move(server_config));
  if (!server) {
    return start_error(kExitSoftware, fmt::format("server: {}", std::strerror(server.error())));
  }
  hostd->server_ = std::move(*server);
  for (const DeviceSpec& device : cfg.devices) {
    hostd->server_->add_device(make_device(device));  // instances are unique (check_config)
  }
  hostd->context_ = std::make_unique<HostdContext>(HostdContext{*hostd->server_, hostd->directory_, cfg});
  register_core_commands(hostd->commands_, *hostd->context_);
  if (cfg.kvp.enabled) {
    auto kvp = KvpFeature::start(*hostd->server_, cfg.kvp);
    if (!kvp) {
      return start_error(kExitConfig, kvp.error());
    }
    hostd->kvp_ = std::move(*kvp);
    hostd->kvp_->register_commands(hostd->commands_, *hostd->context_);
  }

  channel::UserListenerOptions listener_options;
  listener_options.socket_mode = cfg.guest_socket_mode;
  listener_options.max_memory_bytes = cfg.limits.max_memory_mib << 20;
  listener_options.max_channels = cfg.limits.max_channels;
  listener_options.handshake_timeout = std::chrono::milliseconds(cfg.limits.handshake_timeout_ms);
  auto listener = channel::UserListener::listen(cfg.guest_socket, listener_options);
  if (!listener) {
    return start_error(kExitUnavailable, fmt::format("{}: {}", cfg.guest_socket, channel::describe(listener.error())));
  }
  hostd->listener_ = std::move(*listener);
  auto control = ControlServer::listen(cfg.control_socket, hostd->commands_);
  if (!control) {
    return start_error(kExitUnavailable, control.error());
  }
  hostd->control_ = std::move(*control);
  std::string cpu_text;
  for (const unsigned cpu : cpus) {
    cpu_text += (cpu_text.empty() ? "" : ",") + std::to_string(cpu);
  }
  log(LogLevel::info, "event=serving guest_socket=\"{}\" control_socket=\"{}\" devices={} cpus={} pid={}",
      cfg.guest_socket, cfg.control_socket, cfg.devices.size(), cpu_text, getpid());
  for (const DeviceSpec& device : cfg.devices) {
    log(LogLevel::info, "event=device_added type={} instance={} max_subchannels={}", to_string(device.type),
        wire::to_string(device.instance), device.max_subchannels);
  }
  return hostd;
}

Hostd::~Hostd() {
  listener_.reset();
  // Stopping the server closes the guests' channels, so the control
  // server's deferred calls waiting on them end before it is destroyed.
  if (server_) {
    server_->stop();
  }
  control_.reset();
  server_.reset();
  workers_.clear();
}

int Hostd::run(int signal_fd) {
  auto last_prune = std::chrono::steady_clock::now();
  for (;;) {
    std::array<pollfd, 3> fds{{{.fd = signal_fd, .events = POLLIN, .revents = 0},
                               {.fd = listener_->fd(), .events = POLLIN, .revents = 0},
                               {.fd = control_->fd(), .events = POLLIN, .revents = 0}}};
    // The timeout also ticks handshake timeouts and partition pruning.
    poll(fds.data(), fds.size(), 100);
    if ((fds[0].revents & POLLIN) != 0) {
      signalfd_siginfo info{};
      if (read(signal_fd, &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) {
        log(LogLevel::info, "event=stopping signal={}", sigabbrev_np(static_cast<int>(info.ssi_signo)));
        return 0;
      }
    }
    accept_guests();
    control_->serve();
    if (const auto now = std::chrono::steady_clock::now(); now - last_prune >= kPruneInterval) {
      last_prune = now;
      prune_partitions();
    }
  }
}

void Hostd::accept_guests() {
  for (;;) {
    channel::AcceptResult result = listener_->accept();
    switch (result.status) {
      case channel::AcceptStatus::none:
        return;
      case channel::AcceptStatus::refused:
        log(LogLevel::warn, "event=guest_refused reason=\"{}\" pid={} uid={}", channel::describe(result.error),
            result.peer.pid, result.peer.uid);
        break;
      case channel::AcceptStatus::partition:
        admit(std::move(result));
        break;
    }
  }
}

void Hostd::admit(channel::AcceptResult accepted) {
  const channel::PartitionIdentity identity = accepted.partition->partition();
  std::optional<std::string> refusal = config_.allow.refusal(identity);
  if (refusal) {
    refusal = "not_allowed condition=" + *refusal;
  } else {
    prune_partitions();
    if (directory_.size() >= config_.limits.max_partitions) {
      refusal = fmt::format("too_many_partitions max={}", config_.limits.max_partitions);
    }
  }
  if (refusal) {
    log(LogLevel::warn, "event=partition_refused reason={} name={} vm_id={} pid={} uid={}", *refusal, identity.name,
        wire::to_string(identity.vm_id), identity.peer.pid, identity.peer.uid);
    accepted.partition->close();
    return;
  }
  const uint32_t id = server_->add_partition(std::move(accepted.partition), identity.name);
  if (id == 0) {
    return;  // stopping
  }
  log(LogLevel::info, "event=partition_connected id={} name={} vm_id={} pid={} uid={}", id, identity.name,
      wire::to_string(identity.vm_id), identity.peer.pid, identity.peer.uid);
  directory_.add(id, identity);
}

void Hostd::prune_partitions() {
  if (directory_.size() == 0) {
    return;
  }
  for (const auto& [id, identity] : directory_.prune(server_->snapshot())) {
    log(LogLevel::info, "event=partition_gone id={} name={} vm_id={} pid={}", id, identity.name,
        wire::to_string(identity.vm_id), identity.peer.pid);
  }
}

}  // namespace uvmbus::hostd
