// hostd's control socket, client end (see control_client.h).
#include "control_client.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/core.h>

#include "control_protocol.h"
#include "message_socket.h"

namespace uvmbus::hostctl {
namespace {

runtime::Unexpected<ClientError> fail(ClientFailure failure, std::string detail) {
  return runtime::Unexpected<ClientError>(ClientError{failure, std::move(detail)});
}

// The reply is an object with a boolean "ok", and an error code when not ok.
bool reply_shaped(const nlohmann::json& reply) {
  if (!reply.is_object() || !reply.contains("ok") || !reply["ok"].is_boolean()) {
    return false;
  }
  return reply["ok"].get<bool>() ? reply.contains("result")
                                 : reply.contains("error") && reply["error"].is_string();
}

}  // namespace

runtime::Expected<ControlClient, ClientError> ControlClient::connect(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(address.sun_path)) {
    return fail(ClientFailure::io, fmt::format("control socket path '{}' is empty or too long", path));
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  const int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return fail(ClientFailure::io, fmt::format("socket: {}", std::strerror(errno)));
  }
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    const int error = errno;
    ::close(fd);
    const std::string detail = fmt::format("{}: {}", path, std::strerror(error));
    switch (error) {
      case ENOENT:
      case ECONNREFUSED:
      case ENOTDIR:
        return fail(ClientFailure::not_running, detail);
      case EACCES:
      case EPERM:
        return fail(ClientFailure::permission_denied, detail);
      default:
        return fail(ClientFailure::io, detail);
    }
  }
  return ControlClient(fd);
}

ControlClient::ControlClient(ControlClient&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

ControlClient::~ControlClient() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

runtime::Expected<nlohmann::json, ClientError> ControlClient::call(const nlohmann::json& request,
                                                                   std::chrono::milliseconds timeout) {
  const int sent = send_message(fd_, request.dump());
  // hostd may have answered (a refusal) and closed before reading: the reply
  // is still there to read after EPIPE.
  if (sent != 0 && sent != EPIPE && sent != ECONNRESET) {
    return fail(ClientFailure::io, fmt::format("send: {}", std::strerror(sent)));
  }
  if (!wait_readable(fd_, timeout)) {
    return fail(ClientFailure::io, fmt::format("no reply within {} ms", timeout.count()));
  }
  Received received = receive_message(fd_, kMaxReplyBytes);
  if (received.status == ReceiveStatus::error && received.sys_errno == ECONNRESET) {
    // hostd refused us and closed with our request unread: the kernel
    // reports the reset first, the reply queued before it comes next.
    received = receive_message(fd_, kMaxReplyBytes);
  }
  switch (received.status) {
    case ReceiveStatus::message:
      break;
    case ReceiveStatus::too_large:
      return fail(ClientFailure::bad_reply, "reply over the protocol's size limit");
    case ReceiveStatus::eof:
      return fail(ClientFailure::io, "hostd closed the connection without a reply");
    default:
      return fail(ClientFailure::io, fmt::format("receive: {}", std::strerror(received.sys_errno)));
  }
  nlohmann::json reply = nlohmann::json::parse(received.bytes, nullptr, /*allow_exceptions=*/false);
  if (!reply_shaped(reply)) {
    return fail(ClientFailure::bad_reply, "reply is not a protocol reply object");
  }
  return reply;
}

runtime::Expected<nlohmann::json, ClientError> ControlClient::command(std::string_view name, nlohmann::json args,
                                                                      std::chrono::milliseconds timeout) {
  return call(make_request(name, std::move(args)), timeout);
}

}  // namespace uvmbus::hostctl
