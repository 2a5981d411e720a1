// UserTransport: the guest end of the `user` transport. A unix-domain
// SOCK_SEQPACKET connection to a host process (uvmbus-hostd) carrying the
// exact VMBus channel messages, one per datagram; guest memory regions
// passed as memfds; per-channel eventfd doorbells. docs/vmbus-user.md
// describes the socket protocol.
//
// connect() performs the handshake (magic, version, the partition's VM id
// and name) and reports a refusal with the host's reason. Afterwards every
// call is non-blocking, except that sends wait up to
// UserConnectOptions::send_wait for socket buffer space. The host's death
// (EOF, reset) makes receive_control() report closed; if the host named a
// reason first, host_error() returns it.
//
// Threads: as Transport (transport.h). Channel links may outlive the
// transport; detaching after that sends nothing.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "uvmbus/channel/expected.h"
#include "uvmbus/channel/transport.h"
#include "uvmbus/channel/user_protocol.h"
#include "uvmbus/wire/guid.h"

namespace uvmbus::channel {

namespace user {
struct SharedSocket;
}  // namespace user

// Why a `user` connection was refused or ended: a protocol cause, plus the
// errno when the cause is ProtocolError::system.
struct UserError {
  user::ProtocolError code = user::ProtocolError::none;
  int sys_errno = 0;
};

// "cause" or "cause: strerror" for logs and error messages.
std::string describe(const UserError& error);

struct UserPartition {
  wire::Guid vm_id{};
  std::string name;  // 1..64 of [A-Za-z0-9._-]
};

struct UserConnectOptions {
  std::chrono::milliseconds handshake_timeout{5000};
  // Bound on waiting for socket buffer space in each send.
  std::chrono::milliseconds send_wait{1000};
};

class UserTransport final : public Transport {
 public:
  // Connects to the host listening at `socket_path` and names `partition`.
  static Expected<std::unique_ptr<UserTransport>, UserError> connect(
      const std::string& socket_path, const UserPartition& partition,
      const UserConnectOptions& options = {});

  ~UserTransport() override;
  UserTransport(const UserTransport&) = delete;
  UserTransport& operator=(const UserTransport&) = delete;

  TransportStatus send_control(std::span<const std::byte> message) noexcept override;
  ControlReceive receive_control(std::span<std::byte> buffer) noexcept override;
  int control_fd() const noexcept override;
  TransportStatus register_memory(const GuestMemoryRegion& region) noexcept override;
  Expected<std::unique_ptr<ChannelLink>, TransportStatus> attach_channel(
      const Offer& offer) override;

  // The protocol minor version both ends speak.
  uint16_t protocol_minor() const noexcept { return protocol_minor_; }
  // Why the connection ended: the host's error frame, or a malformed frame
  // from the host; none while open or after a plain EOF.
  UserError host_error() const noexcept { return host_error_; }

 private:
  UserTransport(std::shared_ptr<user::SharedSocket> socket, uint16_t protocol_minor) noexcept;
  void end(UserError error) noexcept;

  std::shared_ptr<user::SharedSocket> socket_;  // shared with the channel links
  uint16_t protocol_minor_ = 0;
  bool closed_ = false;
  UserError host_error_{};
};

}  // namespace uvmbus::channel
