// The loopback transport: message queues with readiness eventfds, eventfd
// doorbells keyed by relid, and the host end's second mapping of guest memory.
#include "uvmbus/channel/loopback_transport.h"

#include <algorithm>
#include <deque>
#include <new>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include "uvmbus/channel/event_fd.h"
#include "uvmbus/wire/channel_messages.h"

namespace uvmbus::channel {

namespace {

// One direction of control messages. Its eventfd is readable exactly while
// pop() has something to report (a message, or EOF): every push, pop and
// close updates the eventfd under the same mutex as the queue.
class MessageQueue {
 public:
  explicit MessageQueue(EventFd ready) noexcept : ready_(std::move(ready)) {}

  TransportStatus push(std::span<const std::byte> message) noexcept {
    const std::lock_guard lock(mutex_);
    if (receiver_closed_ || sender_closed_) {
      return TransportStatus::closed;
    }
    if (messages_.size() == kLoopbackQueueDepth) {
      return TransportStatus::busy;
    }
    try {
      messages_.emplace_back(message.begin(), message.end());
    } catch (const std::bad_alloc&) {
      return TransportStatus::failed;
    }
    if (messages_.size() == 1) {
      ready_.signal();
    }
    return TransportStatus::ok;
  }

  ControlReceive pop(std::span<std::byte> buffer) noexcept {
    const std::lock_guard lock(mutex_);
    if (messages_.empty()) {
      return {sender_closed_ ? TransportStatus::closed : TransportStatus::empty, 0};
    }
    const std::vector<std::byte> message = std::move(messages_.front());
    messages_.pop_front();
    if (messages_.empty() && !sender_closed_) {
      ready_.drain();
    }
    if (message.size() > wire::kMaxChannelMessageSize || message.size() > buffer.size()) {
      return {TransportStatus::oversized, 0};
    }
    std::copy(message.begin(), message.end(), buffer.begin());
    return {TransportStatus::ok, message.size()};
  }

  // The sender is gone: EOF once the queue is empty.
  void close_sender() noexcept {
    const std::lock_guard lock(mutex_);
    if (!sender_closed_) {
      sender_closed_ = true;
      if (messages_.empty()) {
        ready_.signal();
      }
    }
  }

  // The receiver is gone: later pushes report closed.
  void close_receiver() noexcept {
    const std::lock_guard lock(mutex_);
    receiver_closed_ = true;
    messages_.clear();
  }

  int fd() const noexcept { return ready_.fd(); }

 private:
  std::mutex mutex_;
  std::deque<std::vector<std::byte>> messages_;
  bool sender_closed_ = false;
  bool receiver_closed_ = false;
  EventFd ready_;
};

struct Doorbells {
  EventFd to_host;   // guest -> host: HvSignalEvent
  EventFd to_guest;  // host -> guest: the channel interrupt
};

struct Shared {
  Shared(EventFd to_host_ready, EventFd to_guest_ready) noexcept
      : to_host(std::move(to_host_ready)), to_guest(std::move(to_guest_ready)) {}

  MessageQueue to_host;
  MessageQueue to_guest;
  std::mutex links_mutex;
  std::map<uint32_t, std::shared_ptr<Doorbells>> links;  // guarded by links_mutex
  MappedGuestMemory host_memory;
};

class GuestLink final : public ChannelLink {
 public:
  GuestLink(std::shared_ptr<Shared> shared, uint32_t relid, std::shared_ptr<Doorbells> doorbells)
      : shared_(std::move(shared)), relid_(relid), doorbells_(std::move(doorbells)) {}

  ~GuestLink() override {
    const std::lock_guard lock(shared_->links_mutex);
    shared_->links.erase(relid_);
  }

  void signal_host() noexcept override { doorbells_->to_host.signal(); }
  int interrupt_fd() const noexcept override { return doorbells_->to_guest.fd(); }
  void acknowledge_interrupts() noexcept override { doorbells_->to_guest.drain(); }
  void wake_poller() noexcept override { doorbells_->to_guest.signal(); }

 private:
  std::shared_ptr<Shared> shared_;
  uint32_t relid_;
  std::shared_ptr<Doorbells> doorbells_;
};

class HostLink final : public HostChannelLink {
 public:
  explicit HostLink(std::shared_ptr<Doorbells> doorbells) : doorbells_(std::move(doorbells)) {}

  void signal_guest() noexcept override { doorbells_->to_guest.signal(); }
  int doorbell_fd() const noexcept override { return doorbells_->to_host.fd(); }
  void acknowledge_doorbell() noexcept override { doorbells_->to_host.drain(); }

 private:
  std::shared_ptr<Doorbells> doorbells_;
};

class LoopbackGuest final : public Transport {
 public:
  explicit LoopbackGuest(std::shared_ptr<Shared> shared) noexcept : shared_(std::move(shared)) {}

  ~LoopbackGuest() override {
    shared_->to_host.close_sender();
    shared_->to_guest.close_receiver();
  }

  TransportStatus send_control(std::span<const std::byte> message) noexcept override {
    if (message.empty() || message.size() > wire::kMaxChannelMessageSize) {
      return TransportStatus::invalid;
    }
    return shared_->to_host.push(message);
  }

  ControlReceive receive_control(std::span<std::byte> buffer) noexcept override {
    return shared_->to_guest.pop(buffer);
  }

  int control_fd() const noexcept override { return shared_->to_guest.fd(); }

  TransportStatus register_memory(const GuestMemoryRegion& region) noexcept override {
    const Expected<std::byte*, MemoryError> mapped =
        shared_->host_memory.add_region(region.fd(), region.base_gpa(), region.size());
    if (mapped) {
      return TransportStatus::ok;
    }
    return mapped.error().code == MemoryErrorCode::map_failed ? TransportStatus::failed
                                                               : TransportStatus::invalid;
  }

  Expected<std::unique_ptr<ChannelLink>, TransportStatus> attach_channel(
      const Offer& offer) override {
    Expected<EventFd, int> to_host = EventFd::create();
    Expected<EventFd, int> to_guest = EventFd::create();
    if (!to_host || !to_guest) {
      return Unexpected(TransportStatus::failed);
    }
    auto doorbells = std::make_shared<Doorbells>(
        Doorbells{.to_host = std::move(*to_host), .to_guest = std::move(*to_guest)});
    {
      const std::lock_guard lock(shared_->links_mutex);
      if (!shared_->links.emplace(offer.relid, doorbells).second) {
        return Unexpected(TransportStatus::invalid);
      }
    }
    return std::unique_ptr<ChannelLink>(
        std::make_unique<GuestLink>(shared_, offer.relid, std::move(doorbells)));
  }

 private:
  std::shared_ptr<Shared> shared_;
};

class LoopbackHost final : public HostTransport {
 public:
  explicit LoopbackHost(std::shared_ptr<Shared> shared) noexcept : shared_(std::move(shared)) {}
  ~LoopbackHost() override { close(); }

  TransportStatus send_control(std::span<const std::byte> message) noexcept override {
    if (message.empty() || message.size() > kLoopbackMaxHostMessage) {
      return TransportStatus::invalid;
    }
    return shared_->to_guest.push(message);
  }

  ControlReceive receive_control(std::span<std::byte> buffer) noexcept override {
    return shared_->to_host.pop(buffer);
  }

  int control_fd() const noexcept override { return shared_->to_host.fd(); }

  const MappedGuestMemory& guest_memory() const noexcept override { return shared_->host_memory; }

  std::shared_ptr<HostChannelLink> channel_link(uint32_t relid) override {
    const std::lock_guard lock(shared_->links_mutex);
    const auto found = shared_->links.find(relid);
    if (found == shared_->links.end()) {
      return nullptr;
    }
    return std::make_shared<HostLink>(found->second);
  }

  void close() noexcept override {
    shared_->to_guest.close_sender();
    shared_->to_host.close_receiver();
  }

 private:
  std::shared_ptr<Shared> shared_;
};

}  // namespace

Expected<LoopbackPair, int> make_loopback_pair() {
  Expected<EventFd, int> to_host_ready = EventFd::create();
  if (!to_host_ready) {
    return Unexpected(to_host_ready.error());
  }
  Expected<EventFd, int> to_guest_ready = EventFd::create();
  if (!to_guest_ready) {
    return Unexpected(to_guest_ready.error());
  }
  auto shared = std::make_shared<Shared>(std::move(*to_host_ready), std::move(*to_guest_ready));
  return LoopbackPair{
      .guest = std::make_unique<LoopbackGuest>(shared),
      .host = std::make_unique<LoopbackHost>(shared),
  };
}

}  // namespace uvmbus::channel
