// Frame I/O on a `user` transport socket: sendmsg with SCM_RIGHTS and
// MSG_NOSIGNAL, recvmsg taking ownership of every received descriptor.
#include "user_socket.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>

namespace uvmbus::channel::user {

OwnedFd::OwnedFd(OwnedFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

OwnedFd& OwnedFd::operator=(OwnedFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

OwnedFd::~OwnedFd() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

int OwnedFd::release() noexcept { return std::exchange(fd_, -1); }

namespace {

bool peer_gone(int error) noexcept {
  return error == EPIPE || error == ECONNRESET || error == ENOTCONN || error == ECONNREFUSED;
}

bool wait_for(int socket, short events, std::chrono::milliseconds timeout) noexcept {
  pollfd ready{.fd = socket, .events = events, .revents = 0};
  const auto wait_ms = std::clamp<std::chrono::milliseconds::rep>(timeout.count(), 0, INT_MAX);
  return poll(&ready, 1, static_cast<int>(wait_ms)) == 1;
}

}  // namespace

TransportStatus send_frame(int socket, FrameType type, std::span<const std::byte> payload,
                           std::span<const int> fds, std::chrono::milliseconds room_wait) noexcept {
  if (fds.size() > kMaxFdsPerFrame || payload.size() + sizeof(FrameHeader) > kMaxFrameBytes) {
    return TransportStatus::invalid;
  }
  FrameHeader header{.type = static_cast<uint16_t>(type),
                     .fd_count = static_cast<uint16_t>(fds.size()),
                     .length = static_cast<uint32_t>(payload.size())};
  iovec parts[2] = {
      {.iov_base = &header, .iov_len = sizeof(header)},
      {.iov_base = const_cast<std::byte*>(payload.data()), .iov_len = payload.size()},
  };
  alignas(cmsghdr) std::byte control[CMSG_SPACE(sizeof(int) * kMaxFdsPerFrame)] = {};
  msghdr message{};
  message.msg_iov = parts;
  message.msg_iovlen = payload.empty() ? 1 : 2;
  if (!fds.empty()) {
    message.msg_control = control;
    message.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* rights = CMSG_FIRSTHDR(&message);
    rights->cmsg_level = SOL_SOCKET;
    rights->cmsg_type = SCM_RIGHTS;
    rights->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(rights), fds.data(), sizeof(int) * fds.size());
  }
  const auto deadline = std::chrono::steady_clock::now() + room_wait;
  for (;;) {
    if (sendmsg(socket, &message, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0) {
      return TransportStatus::ok;
    }
    const int error = errno;
    if (peer_gone(error)) {
      return TransportStatus::closed;
    }
    if (error == EINTR) {
      continue;
    }
    if (error != EAGAIN && error != EWOULDBLOCK) {
      return TransportStatus::failed;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !wait_for(socket, POLLOUT, left)) {
      return TransportStatus::busy;
    }
  }
}

void send_error(int socket, ProtocolError error) noexcept {
  const ErrorPayload payload{.code = static_cast<uint32_t>(error), .reserved = 0};
  [[maybe_unused]] const TransportStatus sent =
      send_payload(socket, FrameType::error, payload, std::chrono::milliseconds(0));
}

ReceivedDatagram receive_datagram(int socket, std::span<std::byte> buffer) noexcept {
  ReceivedDatagram received;
  iovec part{.iov_base = buffer.data(), .iov_len = buffer.size()};
  alignas(cmsghdr) std::byte control[CMSG_SPACE(sizeof(int) * kMaxReceivedFds)];
  msghdr message{};
  message.msg_iov = &part;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof(control);
  ssize_t bytes = -1;
  do {
    bytes = recvmsg(socket, &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  } while (bytes < 0 && errno == EINTR);
  if (bytes < 0) {
    const int error = errno;
    if (error == EAGAIN || error == EWOULDBLOCK) {
      received.status = ReceiveStatus::empty;
    } else if (peer_gone(error)) {
      received.status = ReceiveStatus::closed;
    } else {
      received.status = ReceiveStatus::failed;
      received.sys_errno = error;
    }
    return received;
  }
  // Take every descriptor first, whatever else is wrong with the datagram.
  for (cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr;
       header = CMSG_NXTHDR(&message, header)) {
    if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) {
      continue;
    }
    const std::size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < count; ++i) {
      int fd = -1;
      std::memcpy(&fd, CMSG_DATA(header) + i * sizeof(int), sizeof(int));
      if (received.fd_count < kMaxReceivedFds) {
        received.fds[received.fd_count++] = OwnedFd(fd);
      } else {
        ::close(fd);
        received.fds_dropped = true;
      }
    }
  }
  if ((message.msg_flags & MSG_CTRUNC) != 0) {
    received.fds_dropped = true;  // the kernel discarded those that did not fit
  }
  // A zero-length datagram is how SOCK_SEQPACKET reports EOF; frames are
  // never empty.
  if (bytes == 0) {
    received.status = ReceiveStatus::closed;
    return received;
  }
  received.status = ReceiveStatus::datagram;
  received.size = static_cast<std::size_t>(bytes);
  received.truncated = (message.msg_flags & MSG_TRUNC) != 0;
  return received;
}

Expected<Frame, ProtocolError> parse_received(const ReceivedDatagram& received,
                                              std::span<const std::byte> buffer) noexcept {
  const std::span<const std::byte> bytes = buffer.first(std::min(received.size, buffer.size()));
  const auto header = payload_as<FrameHeader>(bytes);
  const bool too_long = received.truncated || bytes.size() > kMaxFrameBytes;
  if (too_long && bytes.size() >= sizeof(FrameHeader) &&
      header.type == static_cast<uint16_t>(FrameType::control) && header.fd_count == 0 &&
      received.fd_count == 0 && !received.fds_dropped) {
    return Unexpected(ProtocolError::oversized_control);
  }
  if (too_long) {
    return Unexpected(ProtocolError::oversized_frame);
  }
  if (received.fds_dropped) {
    return Unexpected(ProtocolError::wrong_fd_count);
  }
  return parse_frame(bytes, received.fd_count);
}

bool wait_readable(int socket, std::chrono::milliseconds timeout) noexcept {
  return wait_for(socket, POLLIN, timeout);
}

}  // namespace uvmbus::channel::user
