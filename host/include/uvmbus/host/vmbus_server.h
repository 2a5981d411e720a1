// VmbusServer: the host emulator's VMBus server. It owns one Partition per
// connected guest (each with its own transport, GPADLs, channels and fault
// counters, so one guest's faults never reach another), the catalogue of
// devices offered to every partition, and the control thread that runs
// them; open channels are spread over the caller's runtime workers
// (round-robin), which poll them.
//
// Any transport works: loopback pairs in-process, socket connections in
// uvmbus-hostd (both implement channel::HostTransport). A guest whose
// transport reports EOF is reclaimed at once: its channels are detached
// from their workers and freed, its GPADLs dropped and its transport (with
// the mappings of its memory) destroyed.
//
// Threads: the public calls may come from any thread except the control
// thread (they run their work there and wait for it). The control thread
// blocks only in poll() and in Worker::attach/detach (which wait for a
// worker's next round); workers never wait for the control thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "uvmbus/channel/event_fd.h"
#include "uvmbus/channel/expected.h"
#include "uvmbus/channel/host_transport.h"
#include "uvmbus/host/device.h"
#include "uvmbus/host/partition.h"
#include "uvmbus/host/snapshot.h"
#include "uvmbus/runtime/worker.h"

struct pollfd;

namespace uvmbus::host {

struct ServerConfig {
  // Workers that poll open channels; they must outlive the server. With
  // none, every OpenChannel fails (no_worker).
  std::vector<runtime::Worker*> workers;
  PartitionLimits limits;
};

class VmbusServer {
 public:
  // Starts the control thread. The error is errno (eventfd or thread).
  static channel::Expected<std::unique_ptr<VmbusServer>, int> start(ServerConfig config);

  VmbusServer(const VmbusServer&) = delete;
  VmbusServer& operator=(const VmbusServer&) = delete;
  // stop(), then frees everything.
  ~VmbusServer();

  // Rescinds every offer, closes every channel, disconnects every guest and
  // joins the control thread. Idempotent. Calls after stop() do nothing and
  // report failure (0, false, an empty snapshot).
  void stop();

  // Serves a newly connected guest; returns its partition id (ids start at 1
  // and are never reused), or 0 if the server has stopped.
  uint32_t add_partition(std::unique_ptr<channel::HostTransport> transport, std::string name);
  // Rescinds the guest's offers, closes its channels and disconnects it.
  // False if there is no such partition.
  bool remove_partition(uint32_t id);

  // Hot-add: offers `device` to every partition (at once to those that
  // already requested offers). False if a device with its instance GUID exists.
  bool add_device(std::shared_ptr<Device> device);
  // Hot-remove: closes the device's channels and rescinds its offers in
  // every partition. False if there is no such device.
  bool remove_device(const wire::Guid& instance_id);

  // Partitions, devices and per-channel statistics.
  ServerSnapshot snapshot();

 private:
  class WorkerPlacer;
  struct PartitionEntry {
    std::unique_ptr<channel::HostTransport> transport;
    std::unique_ptr<Partition> partition;
  };

  VmbusServer(ServerConfig config, channel::EventFd wake);

  // Runs `action` on the control thread and waits for it; false (without
  // running it) once the control thread has finished.
  bool run(const std::function<void()>& action);
  // Queues `action` for the control thread without waiting (any thread);
  // false once the control thread has finished.
  bool post(std::function<void()> action);
  void loop();
  // One poll over the wake fd and every partition's control fd, then the
  // posted actions and the partitions with messages.
  void serve_round(std::vector<pollfd>& fds, std::vector<uint32_t>& ids);
  void run_posted();

  ServerConfig config_;
  channel::EventFd wake_;
  std::unique_ptr<WorkerPlacer> placer_;

  // Control thread only.
  std::map<uint32_t, PartitionEntry> partitions_;
  std::vector<std::shared_ptr<Device>> devices_;
  uint32_t next_partition_id_ = 1;
  bool stopping_ = false;

  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;
  bool closed_ = false;  // under posted_mutex_: the control thread has finished
  std::mutex stop_mutex_;
  std::thread thread_;
};

}  // namespace uvmbus::host
