// The host end of the `user` transport, one partition: validating and
// applying the guest's frames (control messages, memory regions,
// doorbells), sending control messages, and ending the partition on a
// violation.
#include "uvmbus/channel/user_host_transport.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "user_socket.h"

namespace uvmbus::channel {

using user::FrameType;
using user::ProtocolError;

namespace {

// Frames applied per receive_control() call before it yields (reporting
// empty while control_fd() stays readable), so a guest flooding doorbell
// frames cannot hold the control thread.
constexpr int kMaxFramesPerReceive = 64;

// True if `fd` is an eventfd whose reads and writes never block.
bool nonblocking_eventfd(int fd) noexcept {
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || (flags & O_NONBLOCK) == 0) {
    return false;
  }
  constexpr std::string_view kEventFdTarget = "anon_inode:[eventfd]";
  std::array<char, 64> target{};
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  const ssize_t length = readlink(link.c_str(), target.data(), target.size());
  return length > 0 && std::string_view(target.data(), static_cast<std::size_t>(length)) == kEventFdTarget;
}

bool overlaps(uint64_t gpa, uint64_t bytes, uint64_t other, uint64_t other_bytes) noexcept {
  return gpa < other + other_bytes && other < gpa + bytes;
}

}  // namespace

// The doorbells share their open file descriptions with the guest, which
// can clear O_NONBLOCK on them at any time. So the host never relies on that
// flag: reads use RWF_NOWAIT, and a write (which could block only on a
// counter the guest pushed to its maximum) is made only when poll says the
// eventfd has room.
class UserHostTransport::Link final : public HostChannelLink {
 public:
  Link(EventFd from_guest, EventFd to_guest) noexcept
      : from_guest_(std::move(from_guest)), to_guest_(std::move(to_guest)) {}

  void signal_guest() noexcept override {
    pollfd room{.fd = to_guest_.fd(), .events = POLLOUT, .revents = 0};
    if (poll(&room, 1, 0) == 1 && (room.revents & POLLOUT) != 0) {
      to_guest_.signal();
    }
  }

  int doorbell_fd() const noexcept override { return from_guest_.fd(); }

  void acknowledge_doorbell() noexcept override {
    uint64_t count = 0;
    iovec value{.iov_base = &count, .iov_len = sizeof(count)};
    // EAGAIN: nothing pending. Kernels without RWF_NOWAIT for eventfds
    // (EOPNOTSUPP) get a read only when poll says one is pending.
    if (preadv2(from_guest_.fd(), &value, 1, -1, RWF_NOWAIT) < 0 && errno == EOPNOTSUPP) {
      pollfd pending{.fd = from_guest_.fd(), .events = POLLIN, .revents = 0};
      if (poll(&pending, 1, 0) == 1) {
        from_guest_.drain();
      }
    }
  }

 private:
  EventFd from_guest_;  // the guest's HvSignalEvent
  EventFd to_guest_;    // our interrupt to the guest
};

UserHostTransport::UserHostTransport(int socket, PartitionIdentity identity,
                                     const UserListenerOptions& options)
    : socket_(socket), identity_(std::move(identity)), options_(options) {}

UserHostTransport::~UserHostTransport() { ::close(socket_); }

TransportStatus UserHostTransport::send_control(std::span<const std::byte> message) noexcept {
  if (message.empty() || message.size() > wire::kMaxChannelMessageSize) {
    return TransportStatus::invalid;
  }
  if (closed_) {
    return TransportStatus::closed;
  }
  return user::send_frame(socket_, FrameType::control, message, {}, options_.send_wait);
}

ControlReceive UserHostTransport::receive_control(std::span<std::byte> buffer) noexcept {
  for (int applied = 0; applied < kMaxFramesPerReceive; ++applied) {
    if (closed_) {
      return {TransportStatus::closed, 0};
    }
    // One byte more than the largest frame, so an oversized one is seen as such.
    std::array<std::byte, user::kMaxFrameBytes + 1> datagram;
    user::ReceivedDatagram received = user::receive_datagram(socket_, datagram);
    if (received.status == user::ReceiveStatus::empty) {
      return {TransportStatus::empty, 0};
    }
    if (received.status == user::ReceiveStatus::failed) {
      return {TransportStatus::failed, 0};
    }
    if (received.status == user::ReceiveStatus::closed) {
      fail(ProtocolError::peer_closed);
      return {TransportStatus::closed, 0};
    }
    const Expected<user::Frame, ProtocolError> frame = user::parse_received(received, datagram);
    if (!frame && frame.error() == ProtocolError::oversized_control) {
      return {TransportStatus::oversized, 0};
    }
    if (!frame) {
      fail(frame.error());
      return {TransportStatus::closed, 0};
    }
    ProtocolError violation = ProtocolError::none;
    switch (frame->type) {
      case FrameType::control:
        if (frame->payload.size() > buffer.size()) {
          return {TransportStatus::oversized, 0};
        }
        std::memcpy(buffer.data(), frame->payload.data(), frame->payload.size());
        return {TransportStatus::ok, frame->payload.size()};
      case FrameType::add_region:
        violation = add_region(user::payload_as<user::AddRegionPayload>(frame->payload),
                               received.fds[0].get());
        break;
      case FrameType::attach_channel:
        if (!nonblocking_eventfd(received.fds[0].get()) || !nonblocking_eventfd(received.fds[1].get())) {
          violation = ProtocolError::bad_doorbell;
        } else {
          violation = attach(user::payload_as<user::ChannelPayload>(frame->payload).relid,
                             EventFd::adopt(received.fds[0].release()),
                             EventFd::adopt(received.fds[1].release()));
        }
        break;
      case FrameType::detach_channel:
        violation = detach(user::payload_as<user::ChannelPayload>(frame->payload).relid);
        break;
      case FrameType::hello:
      case FrameType::welcome:
      case FrameType::error:
        violation = ProtocolError::unexpected_type;
        break;
    }
    if (violation != ProtocolError::none) {
      fail(violation);
      return {TransportStatus::closed, 0};
    }
  }
  return {TransportStatus::empty, 0};
}

int UserHostTransport::control_fd() const noexcept { return socket_; }

ProtocolError UserHostTransport::add_region(const user::AddRegionPayload& region, int memfd) {
  if (regions_.size() >= options_.max_regions || regions_.size() >= MappedGuestMemory::kMaxRegions) {
    return ProtocolError::too_many_regions;
  }
  if (region.size > options_.max_memory_bytes - memory_bytes_) {
    return ProtocolError::memory_limit;
  }
  for (const RegionSpan& known : regions_) {
    if (overlaps(region.base_gpa, region.size, known.base_gpa, known.size)) {
      return ProtocolError::overlapping_region;
    }
  }
  // Checks alignment, the GPA limit, the memfd's size and seals, and maps.
  if (!memory_.add_region(memfd, region.base_gpa, region.size)) {
    return ProtocolError::bad_region;
  }
  regions_.push_back(RegionSpan{.base_gpa = region.base_gpa, .size = region.size});
  memory_bytes_ += region.size;
  return ProtocolError::none;
}

ProtocolError UserHostTransport::attach(uint32_t relid, EventFd to_host, EventFd to_guest) {
  const std::lock_guard lock(links_mutex_);
  if (relid == 0 || links_.contains(relid)) {
    return ProtocolError::bad_relid;
  }
  if (links_.size() >= options_.max_channels) {
    return ProtocolError::too_many_channels;
  }
  links_.emplace(relid, std::make_shared<Link>(std::move(to_host), std::move(to_guest)));
  return ProtocolError::none;
}

ProtocolError UserHostTransport::detach(uint32_t relid) {
  const std::lock_guard lock(links_mutex_);
  return links_.erase(relid) == 1 ? ProtocolError::none : ProtocolError::bad_relid;
}

std::shared_ptr<HostChannelLink> UserHostTransport::channel_link(uint32_t relid) {
  const std::lock_guard lock(links_mutex_);
  const auto found = links_.find(relid);
  return found == links_.end() ? nullptr : found->second;
}

std::size_t UserHostTransport::attached_channels() const {
  const std::lock_guard lock(links_mutex_);
  return links_.size();
}

void UserHostTransport::fail(ProtocolError error) noexcept {
  if (error != ProtocolError::peer_closed) {
    user::send_error(socket_, error);
  }
  error_ = UserError{error, 0};
  close();
}

void UserHostTransport::close() noexcept {
  closed_ = true;
  shutdown(socket_, SHUT_RDWR);
  const std::lock_guard lock(links_mutex_);
  links_.clear();  // links the server still holds stay valid until it drops them
}

}  // namespace uvmbus::channel
