// Test support for the `user` transport: a listener on a private socket
// path, served by its own thread that collects accepted partitions and
// refusals; a guest (memory, UserTransport, VmbusConnection) on that socket;
// and counting this process's open descriptors.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "scratch_dir.h"
#include "scripted_host.h"
#include "uvmbus/channel/guest_memory.h"
#include "uvmbus/channel/user_host_transport.h"
#include "uvmbus/channel/user_transport.h"
#include "uvmbus/channel/vmbus_connection.h"

namespace uvmbus::channel::test {

// A fresh directory for a socket, removed with its contents on destruction.
class SocketDirectory : public test_support::ScratchDir {
 public:
  SocketDirectory() : ScratchDir("uvmbus-user") {}
  std::string socket_path() const { return path() / "vmbus.sock"; }
};

// Descriptors open in this process (entries of /proc/self/fd).
std::size_t open_fd_count();

// Runs a UserListener's accept loop on a thread.
class ListenerThread {
 public:
  explicit ListenerThread(const std::string& socket_path, const UserListenerOptions& options = {});
  ~ListenerThread();
  ListenerThread(const ListenerThread&) = delete;
  ListenerThread& operator=(const ListenerThread&) = delete;

  // The next accepted partition, or nullptr after `timeout`.
  std::unique_ptr<UserHostTransport> next_partition(
      std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // The next refusal, or nullopt after `timeout`.
  std::optional<AcceptResult> next_refusal(std::chrono::milliseconds timeout = std::chrono::seconds(5));

 private:
  void loop();

  std::unique_ptr<UserListener> listener_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::unique_ptr<UserHostTransport>> partitions_;
  std::deque<AcceptResult> refusals_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A guest connected over the socket, and the scripted host serving it.
class SocketGuest {
 public:
  static constexpr std::size_t kMemoryBytes = 16 << 20;

  // Connects as `name` (VM id derived from it) through `listener`, and
  // starts a ScriptedHost on the accepted partition. Fails the test on error.
  SocketGuest(const std::string& socket_path, ListenerThread& listener, const std::string& name,
              ScriptedHostConfig config);
  ~SocketGuest();

  // Runs the control protocol (VmbusConnection::connect).
  ControlError connect();
  // Connects if needed and opens `relid` with small rings; fails the test on error.
  Channel& open(uint32_t relid);

  GuestMemory memory;
  std::unique_ptr<UserTransport> transport;
  std::unique_ptr<UserHostTransport> partition;
  std::unique_ptr<ScriptedHost> host;
  std::unique_ptr<VmbusConnection> connection;
};

// A VM id made from a small number, for tests.
wire::Guid test_vm_id(uint8_t number);

}  // namespace uvmbus::channel::test
