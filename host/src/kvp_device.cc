// The KVP device: per-VM host pools, the channel handlers' queues, the timer
// thread, and the control-plane calls (see kvp_device.h).
#include "uvmbus/host/kvp_device.h"

#include <condition_variable>
#include <map>
#include <thread>
#include <unordered_map>

#include "kvp_channel.h"
#include "kvp_op.h"
#include "kvp_text.h"

namespace uvmbus::host {

using detail::Clock;
using detail::KvpLink;
using detail::KvpOp;

namespace {

// Index of a host pool (0 external, 3 auto-external) or a guest pool (1, 2)
// in the per-VM arrays; -1 for pools that side does not use.
int host_slot(wire::KvpPool pool) {
  return pool == wire::KvpPool::external ? 0 : pool == wire::KvpPool::auto_external ? 1 : -1;
}
int guest_slot(wire::KvpPool pool) {
  return pool == wire::KvpPool::guest ? 0 : pool == wire::KvpPool::automatic ? 1 : -1;
}

KvpFailure failure(KvpErrc code, std::string detail) {
  return {code, wire::HvStatus::ok, std::move(detail)};
}

// The host's items of one pool, in insertion order (the order of the burst).
struct HostPool {
  std::vector<KvpItem> items;
  std::unordered_map<std::string, std::size_t> index;

  void set(std::string_view key, std::string_view value) {
    const auto found = index.find(std::string(key));
    if (found != index.end()) {
      items[found->second].value = value;
      return;
    }
    index.emplace(key, items.size());
    items.push_back({std::string(key), std::string(value)});
  }
  bool remove(std::string_view key) {
    const auto found = index.find(std::string(key));
    if (found == index.end()) {
      return false;
    }
    const std::size_t at = found->second;
    items.erase(items.begin() + static_cast<std::ptrdiff_t>(at));
    index.erase(found);
    for (auto& [k, i] : index) {
      i -= i > at ? 1 : 0;
    }
    return true;
  }
};

struct VmState {
  std::array<HostPool, 2> host;                   // pools 0, 3
  std::array<std::optional<GuestItems>, 2> cache;  // pools 1, 2
  std::array<std::shared_ptr<KvpOp>, 2> background;  // periodic enumerations in flight
  std::shared_ptr<KvpLink> link;                   // the open channel, or the last one
};

KvpCall make_call(wire::KvpOperation operation, wire::KvpPool pool, std::string_view key = {},
                  std::string_view value = {}) {
  KvpCall call;
  call.operation = operation;
  call.pool = pool;
  call.key = key;
  call.value = value;
  return call;
}

std::shared_ptr<KvpOp> make_op(KvpCall call, Clock::time_point deadline) {
  auto op = std::make_shared<KvpOp>();
  op->call = std::move(call);
  op->deadline = deadline;
  return op;
}

}  // namespace

struct KvpDevice::Core {
  explicit Core(KvpDeviceConfig c) : config(c) {}

  const KvpDeviceConfig config;
  mutable std::mutex mutex;
  std::map<std::string, VmState, std::less<>> vms;
  bool stopping = false;
  std::condition_variable timer_wake;
  std::thread timer;

  // Under `mutex`: the VM's open link, or a failure.
  KvpResult<std::shared_ptr<KvpLink>> open_link(std::string_view vm) const {
    const auto found = vms.find(vm);
    if (found == vms.end()) {
      return channel::Unexpected(failure(KvpErrc::no_such_vm, fmt_vm(vm)));
    }
    if (found->second.link == nullptr || !found->second.link->open()) {
      return channel::Unexpected(failure(
          KvpErrc::guest_not_connected, "VM '" + std::string(vm) + "' has no open KVP channel"));
    }
    return found->second.link;
  }
  static std::string fmt_vm(std::string_view vm) { return "no VM named '" + std::string(vm) + "'"; }

  Clock::time_point call_deadline() const { return Clock::now() + config.call_timeout; }

  void run_timer();
};

void KvpDevice::Core::run_timer() {
  const auto tick = std::clamp(std::min(config.request_timeout, config.negotiate_retry) / 4,
                               std::chrono::milliseconds(5), std::chrono::milliseconds(100));
  Clock::time_point next_enumeration = Clock::now() + config.enumerate_interval;
  std::unique_lock lock(mutex);
  while (!stopping) {
    timer_wake.wait_for(lock, tick);
    if (stopping) {
      break;
    }
    const bool enumerate = config.enumerate_interval.count() > 0 && Clock::now() >= next_enumeration;
    if (enumerate) {
      next_enumeration = Clock::now() + config.enumerate_interval;
    }
    for (auto& [name, vm] : vms) {
      for (std::size_t slot = 0; slot < vm.background.size(); ++slot) {
        std::shared_ptr<KvpOp>& op = vm.background[slot];
        if (op != nullptr && op->is_done()) {
          if (!op->failure) {
            vm.cache[slot] = GuestItems{std::move(op->items), op->finished_at, true};
          }
          op.reset();
        }
      }
      if (vm.link == nullptr || !vm.link->open()) {
        continue;
      }
      if (enumerate) {
        for (std::size_t slot = 0; slot < vm.background.size(); ++slot) {
          if (vm.background[slot] == nullptr) {
            const wire::KvpPool pool = slot == 0 ? wire::KvpPool::guest : wire::KvpPool::automatic;
            std::shared_ptr<KvpOp> op =
                make_op(make_call(wire::KvpOperation::enumerate, pool), call_deadline());
            op->whole_pool = true;
            if (vm.link->submit(std::span(&op, 1))) {
              vm.background[slot] = std::move(op);
            }
          }
        }
      }
      if (vm.link->busy.load(std::memory_order_relaxed) || vm.link->queued() != 0) {
        vm.link->poke();  // request and NEGOTIATE timeouts are checked on the worker
      }
    }
  }
}

std::shared_ptr<KvpDevice> KvpDevice::create(KvpDeviceConfig config) {
  std::shared_ptr<KvpDevice> device(new KvpDevice(config));
  Core* core = device->core_.get();
  device->core_->timer = std::thread([core] { core->run_timer(); });
  return device;
}

KvpDevice::KvpDevice(KvpDeviceConfig config) : core_(std::make_shared<Core>(config)) {
  offer_.class_id = wire::kHvKvpGuid;
  offer_.instance_id = config.instance_id;
  // A pipe channel in message mode, as Hyper-V offers its ICs (spec §1).
  offer_.chn_flags = wire::kVmbusChannelEnumerateDeviceInterface | wire::kVmbusChannelNamedPipeMode;
  offer_.user_defined[0] = 4;  // pipe mode: message
  offer_.max_subchannels = 0;
}

KvpDevice::~KvpDevice() {
  {
    const std::lock_guard lock(core_->mutex);
    core_->stopping = true;
  }
  core_->timer_wake.notify_all();
  if (core_->timer.joinable()) {
    core_->timer.join();
  }
}

std::unique_ptr<ChannelHandler> KvpDevice::open_channel(const ChannelContext& context) {
  if (context.subchannel_index != 0) {
    return nullptr;
  }
  auto link = std::make_shared<KvpLink>();
  const std::string vm_name = context.partition_name;
  auto handler = std::make_unique<detail::KvpChannelHandler>(
      link, detail::KvpChannelConfig{.request_timeout = core_->config.request_timeout,
                                     .negotiate_retry = core_->config.negotiate_retry,
                                     .window = core_->config.window});
  const std::lock_guard lock(core_->mutex);
  VmState& vm = core_->vms[vm_name];
  vm.link = link;
  vm.background = {};
  // The burst: host facts (pool 3), then the admin's items (pool 0), sent
  // right after NEGOTIATE; nobody waits for them.
  std::vector<std::shared_ptr<KvpOp>> burst;
  for (const int slot : {1, 0}) {
    const wire::KvpPool pool = slot == 0 ? wire::KvpPool::external : wire::KvpPool::auto_external;
    for (const KvpItem& item : vm.host[static_cast<std::size_t>(slot)].items) {
      burst.push_back(make_op(
          make_call(wire::KvpOperation::set, pool, item.key, item.value),
          Clock::time_point::max()));
    }
  }
  [[maybe_unused]] const bool queued = link->submit(burst);
  return handler;
}

KvpResult<Delivery> KvpDevice::set_item(std::string_view vm, wire::KvpPool pool,
                                        std::string_view key, std::string_view value) {
  return set_items(vm, pool, {KvpItem{std::string(key), std::string(value)}});
}

KvpResult<Delivery> KvpDevice::set_items(std::string_view vm, wire::KvpPool pool,
                                         const std::vector<KvpItem>& items) {
  const int slot = host_slot(pool);
  if (slot < 0) {
    return channel::Unexpected(failure(KvpErrc::bad_pool, "the host writes pools 0 and 3"));
  }
  for (const KvpItem& item : items) {
    if (std::optional<KvpFailure> bad = detail::check_key(item.key)) {
      return channel::Unexpected(std::move(*bad));
    }
    if (std::optional<KvpFailure> bad = detail::check_value(item.value)) {
      return channel::Unexpected(std::move(*bad));
    }
  }
  std::vector<std::shared_ptr<KvpOp>> ops;
  {
    const std::lock_guard lock(core_->mutex);
    if (core_->stopping) {
      return channel::Unexpected(failure(KvpErrc::stopped, "the KVP device is shutting down"));
    }
    VmState& state = core_->vms[std::string(vm)];
    for (const KvpItem& item : items) {
      state.host[static_cast<std::size_t>(slot)].set(item.key, item.value);
    }
    if (state.link == nullptr || !state.link->open()) {
      return Delivery::stored;
    }
    const Clock::time_point deadline = core_->call_deadline();
    ops.reserve(items.size());
    for (const KvpItem& item : items) {
      ops.push_back(make_op(
          make_call(wire::KvpOperation::set, pool, item.key, item.value),
          deadline));
    }
    if (!state.link->submit(ops)) {
      return Delivery::stored;
    }
  }
  std::optional<KvpFailure> first;
  if (!ops.empty()) {
    ops.back()->wait();  // calls finish in order: one wake-up for the batch
  }
  for (const std::shared_ptr<KvpOp>& op : ops) {
    std::optional<KvpFailure> failed = op->wait();
    if (failed && !first) {
      first = std::move(failed);
    }
  }
  if (first) {
    return channel::Unexpected(std::move(*first));
  }
  return Delivery::acknowledged;
}

KvpResult<Delivery> KvpDevice::delete_item(std::string_view vm, wire::KvpPool pool,
                                           std::string_view key) {
  const int slot = host_slot(pool);
  if (slot < 0) {
    return channel::Unexpected(failure(KvpErrc::bad_pool, "the host deletes from pools 0 and 3"));
  }
  std::shared_ptr<KvpOp> op;
  {
    const std::lock_guard lock(core_->mutex);
    const auto found = core_->vms.find(vm);
    if (found == core_->vms.end()) {
      return channel::Unexpected(failure(KvpErrc::no_such_vm, Core::fmt_vm(vm)));
    }
    VmState& state = found->second;
    if (!state.host[static_cast<std::size_t>(slot)].remove(key)) {
      return channel::Unexpected(
          failure(KvpErrc::not_found, "pool " + std::to_string(static_cast<int>(pool)) +
                                          " has no key '" + std::string(key) + "'"));
    }
    if (state.link == nullptr || !state.link->open()) {
      return Delivery::stored;
    }
    op = make_op(make_call(wire::KvpOperation::del, pool, key),
                 core_->call_deadline());
    if (!state.link->submit(std::span(&op, 1))) {
      return Delivery::stored;
    }
  }
  if (std::optional<KvpFailure> failed = op->wait()) {
    return channel::Unexpected(std::move(*failed));
  }
  return Delivery::acknowledged;
}

KvpResult<std::vector<KvpItem>> KvpDevice::host_items(std::string_view vm, wire::KvpPool pool) const {
  const int slot = host_slot(pool);
  if (slot < 0) {
    return channel::Unexpected(failure(KvpErrc::bad_pool, "the host's pools are 0 and 3"));
  }
  const std::lock_guard lock(core_->mutex);
  const auto found = core_->vms.find(vm);
  if (found == core_->vms.end()) {
    return channel::Unexpected(failure(KvpErrc::no_such_vm, Core::fmt_vm(vm)));
  }
  return found->second.host[static_cast<std::size_t>(slot)].items;
}

namespace {

// Submits one call to the VM's channel and waits for it.
KvpResult<std::shared_ptr<KvpOp>> run_call(KvpDevice::Core& core, std::string_view vm,
                                           std::shared_ptr<KvpOp> op);

}  // namespace

KvpResult<GuestItems> KvpDevice::guest_items(std::string_view vm, wire::KvpPool pool, bool refresh) {
  const int slot = guest_slot(pool);
  if (slot < 0) {
    return channel::Unexpected(failure(KvpErrc::bad_pool, "the guest's pools are 1 and 2"));
  }
  if (!refresh) {
    const std::lock_guard lock(core_->mutex);
    const auto found = core_->vms.find(vm);
    if (found == core_->vms.end()) {
      return channel::Unexpected(failure(KvpErrc::no_such_vm, Core::fmt_vm(vm)));
    }
    if (const std::optional<GuestItems>& cached = found->second.cache[static_cast<std::size_t>(slot)]) {
      GuestItems copy = *cached;
      copy.from_cache = true;
      return copy;
    }
  }
  std::shared_ptr<KvpOp> op =
      make_op(make_call(wire::KvpOperation::enumerate, pool), core_->call_deadline());
  op->whole_pool = true;
  KvpResult<std::shared_ptr<KvpOp>> done = run_call(*core_, vm, std::move(op));
  if (!done) {
    return channel::Unexpected(done.error());
  }
  GuestItems items{std::move((*done)->items), (*done)->finished_at, false};
  const std::lock_guard lock(core_->mutex);
  if (const auto found = core_->vms.find(vm); found != core_->vms.end()) {
    found->second.cache[static_cast<std::size_t>(slot)] = items;
  }
  return items;
}

KvpResult<std::string> KvpDevice::get_value(std::string_view vm, wire::KvpPool pool,
                                            std::string_view key) {
  if (static_cast<uint8_t>(pool) > static_cast<uint8_t>(wire::KvpPool::auto_external)) {
    return channel::Unexpected(failure(KvpErrc::bad_pool, "GET reads pools 0 to 3"));
  }
  if (std::optional<KvpFailure> bad = detail::check_key(key)) {
    return channel::Unexpected(std::move(*bad));
  }
  KvpResult<std::shared_ptr<KvpOp>> done = run_call(
      *core_, vm,
      make_op(make_call(wire::KvpOperation::get, pool, key),
              core_->call_deadline()));
  if (!done) {
    return channel::Unexpected(done.error());
  }
  return std::move((*done)->value);
}

KvpResult<kvp::IpInfo> KvpDevice::get_ip_info(std::string_view vm, std::string_view mac) {
  KvpCall call = make_call(wire::KvpOperation::get_ip_info, wire::KvpPool::guest);
  call.ip_info.adapter_id = std::string(mac);
  call.ip_info.address_family = wire::kKvpAddressFamilyIpv4 | wire::kKvpAddressFamilyIpv6;
  KvpResult<std::shared_ptr<KvpOp>> done =
      run_call(*core_, vm, make_op(std::move(call), core_->call_deadline()));
  if (!done) {
    return channel::Unexpected(done.error());
  }
  return std::move((*done)->ip_info);
}

KvpResult<void> KvpDevice::set_ip_info(std::string_view vm, const kvp::IpInfo& info) {
  KvpCall call = make_call(wire::KvpOperation::set_ip_info, wire::KvpPool::guest);
  call.ip_info = info;
  KvpResult<std::shared_ptr<KvpOp>> done =
      run_call(*core_, vm, make_op(std::move(call), core_->call_deadline()));
  if (!done) {
    return channel::Unexpected(done.error());
  }
  return {};
}

namespace {

KvpVmStatus status_of(const std::string& name, const VmState& vm) {
  KvpVmStatus status;
  status.name = name;
  status.external_items = vm.host[0].items.size();
  status.auto_external_items = vm.host[1].items.size();
  if (vm.link != nullptr) {
    status.connected = vm.link->open();
    status.versions = detail::unpack_versions(vm.link->versions.load(std::memory_order_relaxed));
    status.counters = vm.link->counters.snapshot();
  }
  return status;
}

KvpResult<std::shared_ptr<KvpOp>> run_call(KvpDevice::Core& core, std::string_view vm,
                                           std::shared_ptr<KvpOp> op) {
  {
    const std::lock_guard lock(core.mutex);
    if (core.stopping) {
      return channel::Unexpected(failure(KvpErrc::stopped, "the KVP device is shutting down"));
    }
    KvpResult<std::shared_ptr<KvpLink>> link = core.open_link(vm);
    if (!link) {
      return channel::Unexpected(link.error());
    }
    if (!(*link)->submit(std::span(&op, 1))) {
      return channel::Unexpected(failure(KvpErrc::guest_not_connected, "the KVP channel closed"));
    }
  }
  if (std::optional<KvpFailure> failed = op->wait()) {
    return channel::Unexpected(std::move(*failed));
  }
  return op;
}

}  // namespace

KvpResult<std::vector<KvpDevice::CallOutcome>> KvpDevice::call_batch(std::string_view vm,
                                                                     std::vector<KvpCall> calls) {
  std::vector<std::shared_ptr<KvpOp>> ops;
  ops.reserve(calls.size());
  {
    const std::lock_guard lock(core_->mutex);
    if (core_->stopping) {
      return channel::Unexpected(failure(KvpErrc::stopped, "the KVP device is shutting down"));
    }
    KvpResult<std::shared_ptr<KvpLink>> link = core_->open_link(vm);
    if (!link) {
      return channel::Unexpected(link.error());
    }
    // The queue deadline scales with the batch: each call waits for those before it.
    const Clock::time_point deadline =
        core_->call_deadline() + core_->config.request_timeout * static_cast<int64_t>(calls.size());
    for (KvpCall& call : calls) {
      ops.push_back(make_op(std::move(call), deadline));
    }
    if (!(*link)->submit(ops)) {
      return channel::Unexpected(failure(KvpErrc::guest_not_connected, "the KVP channel closed"));
    }
  }
  // Calls finish in order: waiting for the last first costs one wake-up for
  // the whole batch instead of one per call.
  if (!ops.empty()) {
    ops.back()->wait();
  }
  std::vector<CallOutcome> outcomes;
  outcomes.reserve(ops.size());
  for (const std::shared_ptr<KvpOp>& op : ops) {
    std::optional<KvpFailure> failed = op->wait();
    outcomes.push_back({std::move(failed), op->finished_steady});
  }
  return outcomes;
}

std::vector<KvpVmStatus> KvpDevice::status() const {
  const std::lock_guard lock(core_->mutex);
  std::vector<KvpVmStatus> all;
  for (const auto& [name, vm] : core_->vms) {
    all.push_back(status_of(name, vm));
  }
  return all;
}

KvpResult<KvpVmStatus> KvpDevice::status(std::string_view vm) const {
  const std::lock_guard lock(core_->mutex);
  const auto found = core_->vms.find(vm);
  if (found == core_->vms.end()) {
    return channel::Unexpected(failure(KvpErrc::no_such_vm, Core::fmt_vm(vm)));
  }
  return status_of(found->first, found->second);
}

}  // namespace uvmbus::host
