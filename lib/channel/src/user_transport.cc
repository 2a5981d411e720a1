// UserTransport: connecting and the handshake, control frames, memory
// registration and per-channel doorbells on the guest side.
#include "uvmbus/channel/user_transport.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include "uvmbus/channel/event_fd.h"
#include "user_socket.h"

namespace uvmbus::channel {

using user::FrameType;
using user::ProtocolError;

std::string describe(const UserError& error) {
  std::string text = user::to_string(error.code);
  if (error.sys_errno != 0) {
    text += ": ";
    text += std::strerror(error.sys_errno);
  }
  return text;
}

namespace {

Unexpected<UserError> failure(ProtocolError code, int sys_errno = 0) {
  return Unexpected(UserError{code, sys_errno});
}

class UserGuestLink final : public ChannelLink {
 public:
  UserGuestLink(std::shared_ptr<user::SharedSocket> socket, uint32_t relid, EventFd to_host,
                EventFd to_guest) noexcept
      : socket_(std::move(socket)), relid_(relid), to_host_(std::move(to_host)),
        to_guest_(std::move(to_guest)) {}

  ~UserGuestLink() override {
    const user::ChannelPayload detach{.relid = relid_, .reserved = 0};
    [[maybe_unused]] const TransportStatus sent =
        user::send_payload(socket_->fd.get(), FrameType::detach_channel, detach, socket_->send_wait);
  }

  void signal_host() noexcept override { to_host_.signal(); }
  int interrupt_fd() const noexcept override { return to_guest_.fd(); }
  void acknowledge_interrupts() noexcept override { to_guest_.drain(); }
  void wake_poller() noexcept override { to_guest_.signal(); }

 private:
  std::shared_ptr<user::SharedSocket> socket_;
  uint32_t relid_;
  EventFd to_host_;   // guest -> host: HvSignalEvent
  EventFd to_guest_;  // host -> guest: the channel interrupt
};

user::HelloPayload make_hello(const UserPartition& partition) noexcept {
  user::HelloPayload hello{};
  hello.magic = user::kMagic;
  hello.version_major = user::kVersionMajor;
  hello.version_minor = user::kVersionMinor;
  hello.vm_id = partition.vm_id;
  hello.name_length = static_cast<uint32_t>(partition.name.size());
  std::memcpy(hello.name, partition.name.data(), partition.name.size());
  return hello;
}

// Waits for the host's answer to hello: welcome (the agreed minor version)
// or an error frame.
Expected<uint16_t, UserError> await_welcome(int socket, std::chrono::milliseconds timeout) {
  if (!user::wait_readable(socket, timeout)) {
    return failure(ProtocolError::handshake_timeout);
  }
  std::array<std::byte, user::kMaxFrameBytes> buffer;
  const user::ReceivedDatagram received = user::receive_datagram(socket, buffer);
  if (received.status == user::ReceiveStatus::closed) {
    return failure(ProtocolError::peer_closed);
  }
  if (received.status != user::ReceiveStatus::datagram) {
    return failure(ProtocolError::system, received.sys_errno);
  }
  const Expected<user::Frame, ProtocolError> frame = user::parse_received(received, buffer);
  if (!frame) {
    return failure(frame.error());
  }
  if (frame->type == FrameType::error) {
    const auto refusal = user::payload_as<user::ErrorPayload>(frame->payload);
    return failure(static_cast<ProtocolError>(refusal.code));
  }
  if (frame->type != FrameType::welcome) {
    return failure(ProtocolError::unexpected_type);
  }
  const Expected<user::WelcomePayload, ProtocolError> welcome = user::decode_welcome(frame->payload);
  if (!welcome) {
    return failure(welcome.error());
  }
  return welcome->version_minor;
}

}  // namespace

Expected<std::unique_ptr<UserTransport>, UserError> UserTransport::connect(
    const std::string& socket_path, const UserPartition& partition,
    const UserConnectOptions& options) {
  if (!user::valid_partition_name(partition.name)) {
    return failure(ProtocolError::bad_name);
  }
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_path.empty() || socket_path.size() >= sizeof(address.sun_path)) {
    return failure(ProtocolError::system, ENAMETOOLONG);
  }
  std::memcpy(address.sun_path, socket_path.data(), socket_path.size());
  auto socket = std::make_shared<user::SharedSocket>();
  socket->send_wait = options.send_wait;
  socket->fd = user::OwnedFd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!socket->fd) {
    return failure(ProtocolError::system, errno);
  }
  // A unix-domain connect completes at once or fails (EAGAIN: backlog full).
  if (::connect(socket->fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    return failure(ProtocolError::system, errno);
  }
  const TransportStatus sent = user::send_payload(socket->fd.get(), FrameType::hello,
                                                  make_hello(partition), options.send_wait);
  if (sent == TransportStatus::closed) {
    return failure(ProtocolError::peer_closed);
  }
  if (sent != TransportStatus::ok) {
    return failure(ProtocolError::system, sent == TransportStatus::busy ? EAGAIN : EIO);
  }
  const Expected<uint16_t, UserError> minor = await_welcome(socket->fd.get(), options.handshake_timeout);
  if (!minor) {
    return Unexpected(minor.error());
  }
  return std::unique_ptr<UserTransport>(new UserTransport(std::move(socket), *minor));
}

UserTransport::UserTransport(std::shared_ptr<user::SharedSocket> socket,
                             uint16_t protocol_minor) noexcept
    : socket_(std::move(socket)), protocol_minor_(protocol_minor) {}

UserTransport::~UserTransport() {
  // Links may outlive us: EOF for the host now, their detach frames go nowhere.
  shutdown(socket_->fd.get(), SHUT_RDWR);
}

void UserTransport::end(UserError error) noexcept {
  closed_ = true;
  host_error_ = error;
  shutdown(socket_->fd.get(), SHUT_RDWR);
}

TransportStatus UserTransport::send_control(std::span<const std::byte> message) noexcept {
  if (message.empty() || message.size() > wire::kMaxChannelMessageSize) {
    return TransportStatus::invalid;
  }
  if (closed_) {
    return TransportStatus::closed;
  }
  return user::send_frame(socket_->fd.get(), FrameType::control, message, {}, socket_->send_wait);
}

ControlReceive UserTransport::receive_control(std::span<std::byte> buffer) noexcept {
  if (closed_) {
    return {TransportStatus::closed, 0};
  }
  // One byte more than the largest frame, so an oversized one is seen as such.
  std::array<std::byte, user::kMaxFrameBytes + 1> datagram;
  const user::ReceivedDatagram received = user::receive_datagram(socket_->fd.get(), datagram);
  switch (received.status) {
    case user::ReceiveStatus::empty: return {TransportStatus::empty, 0};
    case user::ReceiveStatus::closed: end({}); return {TransportStatus::closed, 0};
    case user::ReceiveStatus::failed: return {TransportStatus::failed, 0};
    case user::ReceiveStatus::datagram: break;
  }
  const Expected<user::Frame, ProtocolError> frame = user::parse_received(received, datagram);
  if (!frame && frame.error() == ProtocolError::oversized_control) {
    return {TransportStatus::oversized, 0};
  }
  if (!frame) {
    end({frame.error(), 0});
    return {TransportStatus::closed, 0};
  }
  if (frame->type == FrameType::error) {
    end({static_cast<ProtocolError>(user::payload_as<user::ErrorPayload>(frame->payload).code), 0});
    return {TransportStatus::closed, 0};
  }
  if (frame->type != FrameType::control) {
    end({ProtocolError::unexpected_type, 0});
    return {TransportStatus::closed, 0};
  }
  if (frame->payload.size() > buffer.size()) {
    return {TransportStatus::oversized, 0};
  }
  std::memcpy(buffer.data(), frame->payload.data(), frame->payload.size());
  return {TransportStatus::ok, frame->payload.size()};
}

int UserTransport::control_fd() const noexcept { return socket_->fd.get(); }

TransportStatus UserTransport::register_memory(const GuestMemoryRegion& region) noexcept {
  if (closed_) {
    return TransportStatus::closed;
  }
  const user::AddRegionPayload payload{.base_gpa = region.base_gpa(), .size = region.size()};
  const int fd = region.fd();
  return user::send_frame(socket_->fd.get(), FrameType::add_region,
                          std::as_bytes(std::span(&payload, 1)), std::span(&fd, 1),
                          socket_->send_wait);
}

Expected<std::unique_ptr<ChannelLink>, TransportStatus> UserTransport::attach_channel(
    const Offer& offer) {
  if (closed_) {
    return Unexpected(TransportStatus::closed);
  }
  Expected<EventFd, int> to_host = EventFd::create();
  Expected<EventFd, int> to_guest = EventFd::create();
  if (!to_host || !to_guest) {
    return Unexpected(TransportStatus::failed);
  }
  const user::ChannelPayload attach{.relid = offer.relid, .reserved = 0};
  const std::array<int, 2> fds = {to_host->fd(), to_guest->fd()};
  const TransportStatus sent =
      user::send_frame(socket_->fd.get(), FrameType::attach_channel,
                       std::as_bytes(std::span(&attach, 1)), fds, socket_->send_wait);
  if (sent != TransportStatus::ok) {
    return Unexpected(sent);
  }
  return std::unique_ptr<ChannelLink>(std::make_unique<UserGuestLink>(
      socket_, offer.relid, std::move(*to_host), std::move(*to_guest)));
}

}  // namespace uvmbus::channel
