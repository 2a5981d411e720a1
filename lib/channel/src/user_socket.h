// Frame I/O on a `user` transport socket, shared by the guest and host ends:
// an owned fd, sending one frame with its descriptors (non-blocking, never
// SIGPIPE, bounded wait for room), and receiving one datagram with every
// descriptor that came along owned (so none can leak).
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <span>

#include "uvmbus/channel/transport.h"
#include "uvmbus/channel/user_protocol.h"

namespace uvmbus::channel::user {

class OwnedFd {
 public:
  OwnedFd() noexcept = default;
  explicit OwnedFd(int fd) noexcept : fd_(fd) {}
  OwnedFd(OwnedFd&& other) noexcept;
  OwnedFd& operator=(OwnedFd&& other) noexcept;
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  ~OwnedFd();

  int get() const noexcept { return fd_; }
  int release() noexcept;
  explicit operator bool() const noexcept { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// A connected socket and its send bound, shared by a transport end and its
// channel links.
struct SharedSocket {
  OwnedFd fd;
  std::chrono::milliseconds send_wait{0};
};

// Sends one frame of `type` with `payload` and `fds`. Waits up to
// `room_wait` for socket buffer space; busy after that, closed if the peer
// is gone.
TransportStatus send_frame(int socket, FrameType type, std::span<const std::byte> payload,
                           std::span<const int> fds, std::chrono::milliseconds room_wait) noexcept;

template <typename Payload>
TransportStatus send_payload(int socket, FrameType type, const Payload& payload,
                             std::chrono::milliseconds room_wait) noexcept {
  return send_frame(socket, type, std::as_bytes(std::span(&payload, 1)), {}, room_wait);
}

// Sends an error frame naming `error`; best effort (no wait for room).
void send_error(int socket, ProtocolError error) noexcept;

// Descriptors received with one datagram beyond this are closed unread and
// flagged (more than any frame type carries).
inline constexpr std::size_t kMaxReceivedFds = 8;

enum class ReceiveStatus : uint8_t { datagram, empty, closed, failed };

struct ReceivedDatagram {
  ReceiveStatus status = ReceiveStatus::empty;
  std::size_t size = 0;       // bytes stored in the buffer
  bool truncated = false;     // the datagram was longer than the buffer
  bool fds_dropped = false;   // descriptors beyond kMaxReceivedFds were discarded
  std::array<OwnedFd, kMaxReceivedFds> fds;
  std::size_t fd_count = 0;
  int sys_errno = 0;          // when status is failed
};

// Receives one datagram without blocking. EOF and ECONNRESET are closed.
ReceivedDatagram receive_datagram(int socket, std::span<std::byte> buffer) noexcept;

// Validates a received datagram (status datagram) whose bytes are in
// `buffer`: parse_frame(), plus oversized_frame for a datagram cut short by
// the buffer, wrong_fd_count when descriptors were discarded, and
// oversized_control for a control frame that is only too long (the caller
// drops it and carries on, as a SynIC would never deliver it).
Expected<Frame, ProtocolError> parse_received(const ReceivedDatagram& received,
                                              std::span<const std::byte> buffer) noexcept;

// Waits up to `timeout` for `socket` to become readable; false on timeout.
bool wait_readable(int socket, std::chrono::milliseconds timeout) noexcept;

}  // namespace uvmbus::channel::user
