// One message per datagram on a unix SOCK_SEQPACKET socket, for both ends of
// hostd's control socket: sending without SIGPIPE, receiving with a size
// bound that detects (and reports) longer messages instead of cutting them
// silently.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace uvmbus::hostctl {

// 0, or the errno of the failed send.
int send_message(int fd, std::string_view bytes) noexcept;

enum class ReceiveStatus : uint8_t {
  message,      // `bytes` holds one whole message
  too_large,    // a message over the bound arrived (and was discarded)
  eof,          // the peer closed (or sent an empty message)
  would_block,  // nothing yet (non-blocking socket)
  error,        // `sys_errno` says why
};

struct Received {
  ReceiveStatus status = ReceiveStatus::eof;
  std::string bytes;
  int sys_errno = 0;
};

// Receives one message of at most `max_bytes`.
Received receive_message(int fd, std::size_t max_bytes);

// True if `fd` is readable (or closed) within `timeout`.
bool wait_readable(int fd, std::chrono::milliseconds timeout) noexcept;

}  // namespace uvmbus::hostctl
