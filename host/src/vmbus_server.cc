// VmbusServer: the control thread, the partition set, the device catalogue
// and channel placement on runtime workers.
#include "uvmbus/host/vmbus_server.h"

#include <poll.h>

#include <algorithm>
#include <future>
#include <unordered_map>

#include "uvmbus/host/channel_placer.h"

namespace uvmbus::host {

// Spreads channels over the workers, round-robin. Control thread only.
class VmbusServer::WorkerPlacer final : public ChannelPlacer {
 public:
  explicit WorkerPlacer(std::vector<runtime::Worker*> workers) : workers_(std::move(workers)) {}

  bool attach(HostChannel& channel) override {
    for (std::size_t tried = 0; tried < workers_.size(); ++tried) {
      runtime::Worker* worker = workers_[next_++ % workers_.size()];
      if (worker->attach(channel)) {
        owners_[&channel] = worker;
        return true;
      }
    }
    return false;
  }

  void detach(HostChannel& channel) override {
    const auto found = owners_.find(&channel);
    if (found != owners_.end()) {
      [[maybe_unused]] const auto detached = found->second->detach(channel);
      owners_.erase(found);
    }
  }

 private:
  std::vector<runtime::Worker*> workers_;
  std::size_t next_ = 0;
  std::unordered_map<const HostChannel*, runtime::Worker*> owners_;
};

channel::Expected<std::unique_ptr<VmbusServer>, int> VmbusServer::start(ServerConfig config) {
  channel::Expected<channel::EventFd, int> wake = channel::EventFd::create();
  if (!wake) {
    return channel::Unexpected(wake.error());
  }
  std::unique_ptr<VmbusServer> server(new VmbusServer(std::move(config), std::move(*wake)));
  server->thread_ = std::thread([raw = server.get()] { raw->loop(); });
  return server;
}

VmbusServer::VmbusServer(ServerConfig config, channel::EventFd wake)
    : config_(std::move(config)),
      wake_(std::move(wake)),
      placer_(std::make_unique<WorkerPlacer>(config_.workers)) {}

VmbusServer::~VmbusServer() { stop(); }

void VmbusServer::stop() {
  const std::lock_guard lock(stop_mutex_);
  if (!thread_.joinable()) {
    return;
  }
  run([this] {
    for (auto& [id, entry] : partitions_) {
      entry.partition->shutdown(true);
      entry.transport->close();
    }
    partitions_.clear();
    stopping_ = true;
  });
  thread_.join();
}

bool VmbusServer::post(std::function<void()> action) {
  {
    const std::lock_guard lock(posted_mutex_);
    if (closed_) {
      return false;
    }
    posted_.push_back(std::move(action));
  }
  wake_.signal();
  return true;
}

bool VmbusServer::run(const std::function<void()>& action) {
  std::promise<void> done;
  std::future<void> finished = done.get_future();
  if (!post([&] {
        action();
        done.set_value();
      })) {
    return false;
  }
  finished.wait();
  return true;
}

void VmbusServer::run_posted() {
  std::vector<std::function<void()>> actions;
  {
    const std::lock_guard lock(posted_mutex_);
    actions.swap(posted_);
  }
  for (const auto& action : actions) {
    action();
  }
}

void VmbusServer::loop() {
  std::vector<pollfd> fds;
  std::vector<uint32_t> ids;
  while (!stopping_) {
    serve_round(fds, ids);
  }
  // Actions posted before the close still run (their callers wait for them);
  // none can be posted after it.
  {
    const std::lock_guard lock(posted_mutex_);
    closed_ = true;
  }
  run_posted();
}

void VmbusServer::serve_round(std::vector<pollfd>& fds, std::vector<uint32_t>& ids) {
  fds.assign({pollfd{.fd = wake_.fd(), .events = POLLIN, .revents = 0}});
  ids.assign({0});
  for (const auto& [id, entry] : partitions_) {
    fds.push_back(pollfd{.fd = entry.partition->control_fd(), .events = POLLIN, .revents = 0});
    ids.push_back(id);
  }
  if (::poll(fds.data(), fds.size(), -1) < 0) {
    return;  // EINTR
  }
  wake_.drain();
  run_posted();
  for (std::size_t i = 1; i < fds.size(); ++i) {
    if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
      continue;
    }
    const auto found = partitions_.find(ids[i]);
    if (found != partitions_.end() && !found->second.partition->pump()) {
      partitions_.erase(found);  // the guest is gone; pump() reclaimed its channels
    }
  }
}

uint32_t VmbusServer::add_partition(std::unique_ptr<channel::HostTransport> transport, std::string name) {
  uint32_t id = 0;
  run([&] {
    id = next_partition_id_++;
    SubchannelPoster post_subchannels = [this, id](uint32_t relid, uint16_t count) {
      [[maybe_unused]] const bool queued = post([this, id, relid, count] {
        const auto found = partitions_.find(id);
        if (found != partitions_.end()) {
          found->second.partition->offer_subchannels(relid, count);
        }
      });
    };
    PartitionEntry entry{.transport = std::move(transport), .partition = nullptr};
    entry.partition = std::make_unique<Partition>(id, std::move(name), *entry.transport, *placer_,
                                                  std::move(post_subchannels), config_.limits);
    for (const auto& device : devices_) {
      entry.partition->add_device(device);
    }
    partitions_.emplace(id, std::move(entry));
  });
  return id;
}

bool VmbusServer::remove_partition(uint32_t id) {
  bool removed = false;
  run([&] {
    const auto found = partitions_.find(id);
    if (found == partitions_.end()) {
      return;
    }
    found->second.partition->shutdown(true);
    found->second.transport->close();
    partitions_.erase(found);
    removed = true;
  });
  return removed;
}

bool VmbusServer::add_device(std::shared_ptr<Device> device) {
  bool added = false;
  run([&] {
    const wire::Guid& instance = device->offer().instance_id;
    if (std::any_of(devices_.begin(), devices_.end(),
                    [&](const auto& known) { return known->offer().instance_id == instance; })) {
      return;
    }
    devices_.push_back(device);
    for (auto& [id, entry] : partitions_) {
      entry.partition->add_device(device);
    }
    added = true;
  });
  return added;
}

bool VmbusServer::remove_device(const wire::Guid& instance_id) {
  bool removed = false;
  run([&] {
    removed = std::erase_if(devices_, [&](const auto& device) {
                return device->offer().instance_id == instance_id;
              }) != 0;
    if (removed) {
      for (auto& [id, entry] : partitions_) {
        entry.partition->remove_device(instance_id);
      }
    }
  });
  return removed;
}

ServerSnapshot VmbusServer::snapshot() {
  ServerSnapshot snapshot;
  run([&] {
    for (const auto& [id, entry] : partitions_) {
      snapshot.partitions.push_back(entry.partition->snapshot());
    }
    for (const auto& device : devices_) {
      snapshot.devices.push_back(DeviceSnapshot{.name = std::string(device->name()),
                                                .class_id = device->offer().class_id,
                                                .instance_id = device->offer().instance_id,
                                                .max_subchannels = device->offer().max_subchannels});
    }
  });
  return snapshot;
}

}  // namespace uvmbus::host
