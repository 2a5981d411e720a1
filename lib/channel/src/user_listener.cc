// UserListener: the `user` transport's listening socket, and the host side
// of each guest's handshake (hello in, welcome or error out), driven by an
// epoll set so that no client can stall the others.
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "uvmbus/channel/user_host_transport.h"
#include "user_socket.h"

namespace uvmbus::channel {

using user::FrameType;
using user::ProtocolError;

namespace {

Unexpected<UserError> failure(int sys_errno) {
  return Unexpected(UserError{ProtocolError::system, sys_errno});
}

PeerCredentials peer_of(int socket) noexcept {
  ucred credentials{};
  socklen_t length = sizeof(credentials);
  if (getsockopt(socket, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) {
    return {.pid = 0, .uid = static_cast<uid_t>(-1), .gid = static_cast<gid_t>(-1)};
  }
  return {.pid = credentials.pid, .uid = credentials.uid, .gid = credentials.gid};
}

// Removes a socket file left by an earlier listener; refuses other files.
int remove_stale_socket(const std::string& path) noexcept {
  struct stat status {};
  if (lstat(path.c_str(), &status) != 0) {
    return errno == ENOENT ? 0 : errno;
  }
  if (!S_ISSOCK(status.st_mode)) {
    return EEXIST;
  }
  return unlink(path.c_str()) == 0 ? 0 : errno;
}

bool watch(int epoll, int fd) noexcept {
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = fd;
  return epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) == 0;
}

}  // namespace

Expected<std::unique_ptr<UserListener>, UserError> UserListener::listen(
    const std::string& socket_path, const UserListenerOptions& options) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_path.empty() || socket_path.size() >= sizeof(address.sun_path)) {
    return failure(ENAMETOOLONG);
  }
  std::memcpy(address.sun_path, socket_path.data(), socket_path.size());
  if (const int error = remove_stale_socket(socket_path); error != 0) {
    return failure(error);
  }
  user::OwnedFd listening(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  user::OwnedFd epoll(epoll_create1(EPOLL_CLOEXEC));
  if (!listening || !epoll) {
    return failure(errno);
  }
  // The mode is applied before anyone can connect: bind under a umask that
  // grants nothing, then chmod to the requested mode.
  const mode_t previous = umask(0777);
  const int bound = bind(listening.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  const int bind_errno = errno;
  umask(previous);
  if (bound != 0) {
    return failure(bind_errno);
  }
  if (chmod(socket_path.c_str(), options.socket_mode) != 0 ||
      ::listen(listening.get(), SOMAXCONN) != 0 || !watch(epoll.get(), listening.get())) {
    const int error = errno;
    unlink(socket_path.c_str());
    return failure(error);
  }
  return std::unique_ptr<UserListener>(
      new UserListener(listening.release(), epoll.release(), socket_path, options));
}

UserListener::UserListener(int listening, int epoll, std::string path,
                           const UserListenerOptions& options) noexcept
    : listening_(listening), epoll_(epoll), path_(std::move(path)), options_(options) {}

UserListener::~UserListener() {
  for (const Pending& pending : pending_) {
    ::close(pending.socket);
  }
  ::close(listening_);
  ::close(epoll_);
  unlink(path_.c_str());
}

AcceptResult UserListener::accept() {
  const auto now = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < pending_.size(); ++i) {
    if (now >= pending_[i].deadline) {
      return refuse(i, ProtocolError::handshake_timeout);
    }
  }
  if (std::optional<AcceptResult> refused = accept_connection()) {
    return std::move(*refused);
  }
  for (std::size_t i = 0; i < pending_.size(); ++i) {
    if (std::optional<AcceptResult> outcome = advance_handshake(i)) {
      return std::move(*outcome);
    }
  }
  // fd() is level-triggered: it stays readable only while a socket above
  // has a next step (a connection to accept, a hello to read).
  return AcceptResult{};
}

std::optional<AcceptResult> UserListener::accept_connection() {
  for (;;) {
    const int socket = accept4(listening_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (socket < 0) {
      if (errno == EINTR || errno == ECONNABORTED) {
        continue;
      }
      return std::nullopt;  // EAGAIN; other errors resurface on the next call
    }
    pending_.push_back(Pending{.socket = socket,
                               .peer = peer_of(socket),
                               .deadline = std::chrono::steady_clock::now() + options_.handshake_timeout});
    if (pending_.size() > options_.max_pending) {
      return refuse(pending_.size() - 1, ProtocolError::too_many_pending);
    }
    if (!watch(epoll_, socket)) {
      return refuse(pending_.size() - 1, ProtocolError::system, errno);
    }
  }
}

std::optional<AcceptResult> UserListener::advance_handshake(std::size_t index) {
  Pending& pending = pending_[index];
  std::array<std::byte, user::kMaxFrameBytes + 1> datagram;
  const user::ReceivedDatagram received = user::receive_datagram(pending.socket, datagram);
  switch (received.status) {
    case user::ReceiveStatus::empty: return std::nullopt;
    case user::ReceiveStatus::closed: return refuse(index, ProtocolError::peer_closed);
    case user::ReceiveStatus::failed: return refuse(index, ProtocolError::system, received.sys_errno);
    case user::ReceiveStatus::datagram: break;
  }
  const Expected<user::Frame, ProtocolError> frame = user::parse_received(received, datagram);
  if (!frame) {
    // An oversized control message is still a control message: not a hello.
    return refuse(index, frame.error() == ProtocolError::oversized_control
                             ? ProtocolError::unexpected_type
                             : frame.error());
  }
  if (frame->type != FrameType::hello) {
    return refuse(index, ProtocolError::unexpected_type);
  }
  const Expected<user::Hello, ProtocolError> hello = user::decode_hello(frame->payload);
  if (!hello) {
    return refuse(index, hello.error());
  }
  const uint16_t minor = std::min(hello->version_minor, user::kVersionMinor);
  const user::WelcomePayload welcome{
      .magic = user::kMagic, .version_major = user::kVersionMajor, .version_minor = minor};
  const TransportStatus sent =
      user::send_payload(pending.socket, FrameType::welcome, welcome, options_.send_wait);
  if (sent != TransportStatus::ok) {
    return refuse(index, sent == TransportStatus::closed ? ProtocolError::peer_closed
                                                         : ProtocolError::system,
                  sent == TransportStatus::closed ? 0 : EAGAIN);
  }
  PartitionIdentity identity{.vm_id = hello->vm_id,
                             .name = std::string(hello->name),
                             .peer = pending.peer,
                             .protocol_minor = minor};
  const int socket = pending.socket;
  forget(index);
  AcceptResult result;
  result.status = AcceptStatus::partition;
  result.peer = identity.peer;
  result.partition.reset(new UserHostTransport(socket, std::move(identity), options_));
  return result;
}

AcceptResult UserListener::refuse(std::size_t index, ProtocolError error, int sys_errno) {
  const Pending pending = pending_[index];
  if (error != ProtocolError::peer_closed && error != ProtocolError::system) {
    user::send_error(pending.socket, error);
  }
  forget(index);
  ::close(pending.socket);
  AcceptResult result;
  result.status = AcceptStatus::refused;
  result.error = UserError{error, sys_errno};
  result.peer = pending.peer;
  return result;
}

void UserListener::forget(std::size_t index) noexcept {
  epoll_ctl(epoll_, EPOLL_CTL_DEL, pending_[index].socket, nullptr);
  pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(index));
}

}  // namespace uvmbus::channel
