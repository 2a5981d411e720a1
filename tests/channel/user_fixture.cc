// Test support for the `user` transport: fd counting, the listener thread
// and the socket guest.
#include "user_fixture.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <stdexcept>

#include "loopback_fixture.h"

namespace uvmbus::channel::test {

std::size_t open_fd_count() {
  std::size_t count = 0;
  DIR* directory = opendir("/proc/self/fd");
  while (const dirent* entry = readdir(directory)) {
    if (entry->d_name[0] != '.') {
      ++count;
    }
  }
  closedir(directory);
  return count - 1;  // the directory's own descriptor
}

wire::Guid test_vm_id(uint8_t number) {
  wire::Guid id = wire::guid_literal("0f0e0d0c-0b0a-4908-8706-050403020100");
  id.bytes[15] = number;
  return id;
}

ListenerThread::ListenerThread(const std::string& socket_path, const UserListenerOptions& options) {
  Expected<std::unique_ptr<UserListener>, UserError> listening = UserListener::listen(socket_path, options);
  if (!listening) {
    throw std::runtime_error("listen: " + describe(listening.error()));
  }
  listener_ = std::move(*listening);
  thread_ = std::thread([this] { loop(); });
}

ListenerThread::~ListenerThread() {
  stop_ = true;
  thread_.join();
}

void ListenerThread::loop() {
  while (!stop_.load()) {
    pollfd ready{.fd = listener_->fd(), .events = POLLIN, .revents = 0};
    poll(&ready, 1, 10);  // also the tick for handshake timeouts
    for (;;) {
      AcceptResult result = listener_->accept();
      if (result.status == AcceptStatus::none) {
        break;
      }
      const std::lock_guard lock(mutex_);
      if (result.status == AcceptStatus::partition) {
        partitions_.push_back(std::move(result.partition));
      } else {
        refusals_.push_back(std::move(result));
      }
      changed_.notify_all();
    }
  }
}

std::unique_ptr<UserHostTransport> ListenerThread::next_partition(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  if (!changed_.wait_for(lock, timeout, [&] { return !partitions_.empty(); })) {
    return nullptr;
  }
  std::unique_ptr<UserHostTransport> partition = std::move(partitions_.front());
  partitions_.pop_front();
  return partition;
}

std::optional<AcceptResult> ListenerThread::next_refusal(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  if (!changed_.wait_for(lock, timeout, [&] { return !refusals_.empty(); })) {
    return std::nullopt;
  }
  AcceptResult refusal = std::move(refusals_.front());
  refusals_.pop_front();
  return refusal;
}

SocketGuest::SocketGuest(const std::string& socket_path, ListenerThread& listener,
                         const std::string& name, ScriptedHostConfig config) {
  if (!memory.add_region(kMemoryBytes)) {
    throw std::runtime_error("guest memory");
  }
  const UserPartition identity{.vm_id = test_vm_id(static_cast<uint8_t>(name.size())), .name = name};
  Expected<std::unique_ptr<UserTransport>, UserError> connected =
      UserTransport::connect(socket_path, identity);
  if (!connected) {
    throw std::runtime_error("connect: " + describe(connected.error()));
  }
  transport = std::move(*connected);
  partition = listener.next_partition();
  if (!partition) {
    throw std::runtime_error("no partition accepted");
  }
  host = std::make_unique<ScriptedHost>(*partition, std::move(config));
}

SocketGuest::~SocketGuest() {
  connection.reset();
  host.reset();
}

ControlError SocketGuest::connect() {
  Expected<std::unique_ptr<VmbusConnection>, ControlError> connected =
      VmbusConnection::connect(*transport, memory, quick_options());
  if (!connected) {
    return connected.error();
  }
  connection = std::move(*connected);
  return ControlError::none;
}

Channel& SocketGuest::open(uint32_t relid) {
  if (!connection) {
    const ControlError error = connect();
    if (error != ControlError::none) {
      throw std::runtime_error(std::string("connect: ") + to_string(error));
    }
  }
  Expected<Channel*, ControlError> channel = connection->open_channel(relid, small_rings());
  if (!channel) {
    throw std::runtime_error(std::string("open: ") + to_string(channel.error()));
  }
  return **channel;
}

}  // namespace uvmbus::channel::test
