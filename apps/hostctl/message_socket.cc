// Datagram send and bounded receive on SOCK_SEQPACKET (see message_socket.h).
#include "message_socket.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

namespace uvmbus::hostctl {

int send_message(int fd, std::string_view bytes) noexcept {
  for (;;) {
    if (send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) >= 0) {
      return 0;
    }
    if (errno != EINTR) {
      return errno;
    }
  }
}

Received receive_message(int fd, std::size_t max_bytes) {
  Received received;
  received.bytes.resize(max_bytes);
  iovec vector{.iov_base = received.bytes.data(), .iov_len = received.bytes.size()};
  msghdr header{};
  header.msg_iov = &vector;
  header.msg_iovlen = 1;
  ssize_t length = 0;
  do {
    length = recvmsg(fd, &header, MSG_CMSG_CLOEXEC);
  } while (length < 0 && errno == EINTR);
  if (length < 0) {
    received.sys_errno = errno;
    received.status = errno == EAGAIN || errno == EWOULDBLOCK ? ReceiveStatus::would_block
                                                              : ReceiveStatus::error;
    received.bytes.clear();
    return received;
  }
  if ((header.msg_flags & MSG_TRUNC) != 0) {
    received.status = ReceiveStatus::too_large;
    received.bytes.clear();
    return received;
  }
  received.bytes.resize(static_cast<std::size_t>(length));
  received.status = length == 0 ? ReceiveStatus::eof : ReceiveStatus::message;
  return received;
}

bool wait_readable(int fd, std::chrono::milliseconds timeout) noexcept {
  pollfd ready{.fd = fd, .events = POLLIN, .revents = 0};
  int result = 0;
  do {
    result = poll(&ready, 1, static_cast<int>(timeout.count()));
  } while (result < 0 && errno == EINTR);
  return result > 0;
}

}  // namespace uvmbus::hostctl
