// The embedded host and its kvpd guest for `uvmbus-perf kvp` (see kvp_bench_host.h).
#include "kvp/kvp_bench_host.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <fmt/format.h>

#include <stdexcept>
#include <thread>

#include "auto_pool.h"
#include "kvp_daemon.h"
#include "kvp_service.h"
#include "spawn_child.h"
#include "uvmbus/channel/loopback_transport.h"
#include "uvmbus/channel/user_host_transport.h"
#include "uvmbus/kvp/versions.h"

namespace uvmbus::perf::kvp_bench {
namespace {

using namespace std::chrono_literals;

// The in-process guest never asks for IP info.
class NoIpConfig final : public kvpd::IpConfig {
 public:
  kvpd::IpLookup get(std::string_view) override { return {wire::HvStatus::fail, {}}; }
  wire::HvStatus set(const kvp::IpInfo&) override { return wire::HvStatus::fail; }
};

std::filesystem::path make_scratch(const std::filesystem::path& root, const char* what) {
  std::filesystem::create_directories(root);
  std::string pattern = (root / "uvmbus-perf-kvp-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error(fmt::format("{}: cannot create a scratch directory in {}", what, root.string()));
  }
  return pattern;
}

}  // namespace

struct BenchHost::Guest {
  virtual ~Guest() = default;
};

namespace {

struct ProcessGuest final : BenchHost::Guest {
  pid_t pid = -1;
  ~ProcessGuest() override {
    if (pid > 0) {
      kill(pid, SIGTERM);
      waitpid(pid, nullptr, 0);
    }
  }
};

struct InprocGuest final : BenchHost::Guest {
  channel::GuestMemory memory;
  std::unique_ptr<channel::Transport> transport;
  std::unique_ptr<kvp::PoolStore> store;
  kvpd::AutoPool auto_pool;
  NoIpConfig ip_config;
  std::unique_ptr<kvpd::KvpService> service;
  std::unique_ptr<kvpd::KvpDaemon> daemon;
  ~InprocGuest() override { daemon.reset(); }
};

}  // namespace

BenchHost::BenchHost(const runtime::Topology& topology, const BenchHostConfig& config) {
  pool_dir_ = make_scratch(config.pool_root, "pool directory");
  auto worker = runtime::Worker::start(topology, {.cpu = config.host_cpu, .burst = 32,
                                                  .idle_threshold = runtime::kNeverSleep});
  if (!worker) {
    throw std::runtime_error(fmt::format("host worker: {}", runtime::to_string(worker.error().code)));
  }
  worker_ = std::move(*worker);
  auto server = host::VmbusServer::start({.workers = {worker_.get()}, .limits = {}});
  if (!server) {
    throw std::runtime_error("VMBus server");
  }
  server_ = std::move(*server);
  host::KvpDeviceConfig device_config;
  device_config.enumerate_interval = 0ms;  // only what the benchmark asks
  device_config.window = config.window;
  device_ = host::KvpDevice::create(device_config);
  server_->add_device(device_);

  if (config.impl == "process") {
    scratch_ = make_scratch(std::filesystem::temp_directory_path(), "socket directory");
    const std::string socket = (scratch_ / "vmbus.sock").string();
    auto listener = channel::UserListener::listen(socket, {});
    if (!listener) {
      throw std::runtime_error(fmt::format("{}: {}", socket, channel::describe(listener.error())));
    }
    auto guest = std::make_unique<ProcessGuest>();
    guest->pid = process::spawn_child({config.kvpd_binary, "-n", "--transport", "user", "--socket", socket,
                                       "--pool-dir", pool_dir_.string(), "--vm-name", kVmName, "--cpu",
                                       std::to_string(config.guest_cpu)},
                                      {.err = scratch_ / "kvpd.log"});
    if (guest->pid < 0) {
      throw std::runtime_error(fmt::format("cannot run {} (--kvpd PATH)", config.kvpd_binary));
    }
    guest_ = std::move(guest);
    const auto end = std::chrono::steady_clock::now() + 10s;
    bool admitted = false;
    while (!admitted && std::chrono::steady_clock::now() < end) {
      channel::AcceptResult accepted = (*listener)->accept();
      if (accepted.status == channel::AcceptStatus::partition) {
        server_->add_partition(std::move(accepted.partition), kVmName);
        admitted = true;
      } else {
        std::this_thread::sleep_for(1ms);
      }
    }
    if (!admitted) {
      throw std::runtime_error("uvmbus-kvpd did not connect (see its log in " + scratch_.string() + ")");
    }
  } else {
    auto guest = std::make_unique<InprocGuest>();
    if (!guest->memory.add_region(1 << 20)) {
      throw std::runtime_error("guest memory");
    }
    auto pair = channel::make_loopback_pair();
    if (!pair) {
      throw std::runtime_error("loopback pair");
    }
    server_->add_partition(std::move(pair->host), kVmName);
    guest->transport = std::move(pair->guest);
    kvp::StoreOptions store_options;
    store_options.directory = pool_dir_;
    kvp::PoolStore::OpenResult opened = kvp::PoolStore::open(store_options);
    if (opened.status != kvp::StoreStatus::ok) {
      throw std::runtime_error("pool store");
    }
    guest->store = std::move(opened.store);
    guest->service = std::make_unique<kvpd::KvpService>(kvp::kGuestVersions, *guest->store, guest->auto_pool,
                                                        guest->ip_config);
    kvpd::DaemonConfig daemon_config;
    daemon_config.worker.cpu = config.guest_cpu;
    kvpd::KvpDaemon::StartResult started =
        kvpd::KvpDaemon::start(*guest->transport, guest->memory, *guest->service, topology, daemon_config);
    if (started.error != kvpd::DaemonError::none) {
      throw std::runtime_error(fmt::format("kvpd: {} {}", kvpd::to_string(started.error), started.detail));
    }
    guest->daemon = std::move(started.daemon);
    guest_ = std::move(guest);
  }
  const auto end = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < end) {
    host::KvpResult<host::KvpVmStatus> status = device_->status(kVmName);
    if (status && status->versions) {
      return;
    }
    std::this_thread::sleep_for(1ms);
  }
  throw std::runtime_error("the guest did not negotiate KVP");
}

BenchHost::~BenchHost() {
  guest_.reset();
  if (server_) {
    server_->stop();
  }
  server_.reset();
  worker_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(pool_dir_, ignored);
  if (!scratch_.empty()) {
    std::filesystem::remove_all(scratch_, ignored);
  }
}

}  // namespace uvmbus::perf::kvp_bench
