// hostd's control socket (see control_server.h).
#include "control_server.h"

#include <fmt/core.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "control_protocol.h"
#include "log.h"
#include "message_socket.h"

namespace uvmbus::hostd {
namespace {

using hostctl::ErrorCode;

runtime::Unexpected<std::string> failure(const std::string& path, const char* step) {
  return runtime::Unexpected<std::string>(fmt::format("{}: {}: {}", path, step, std::strerror(errno)));
}

bool watch(int epoll, int fd) {
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = fd;
  return epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) == 0;
}

void reply(int fd, const nlohmann::json& message) {
  std::string bytes = message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (bytes.size() > hostctl::kMaxReplyBytes) {
    bytes = hostctl::error_reply(ErrorCode::too_large, "the reply is over the protocol's size limit").dump();
  }
  if (const int error = hostctl::send_message(fd, bytes); error != 0) {
    log(LogLevel::warn, "event=control_reply_failed errno={} reason=\"{}\"", error, std::strerror(error));
  }
}

}  // namespace

runtime::Expected<std::unique_ptr<ControlServer>, std::string> ControlServer::listen(const std::string& path,
                                                                                     const CommandTable& table) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) {
    return runtime::Unexpected<std::string>(fmt::format("{}: path too long", path));
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  const int listening = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listening < 0) {
    return failure(path, "socket");
  }
  // Owner-only from the start: bind under a umask that grants nothing else.
  const mode_t previous = umask(0177);
  const int bound = bind(listening, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  umask(previous);
  if (bound != 0 || chmod(path.c_str(), 0600) != 0 || ::listen(listening, 16) != 0) {
    auto error = failure(path, bound != 0 ? "bind" : "listen");
    if (bound == 0) {
      unlink(path.c_str());
    }
    close(listening);
    return error;
  }
  const int epoll = epoll_create1(EPOLL_CLOEXEC);
  if (epoll < 0 || !watch(epoll, listening)) {
    auto error = failure(path, "epoll");
    unlink(path.c_str());
    close(listening);
    if (epoll >= 0) {
      close(epoll);
    }
    return error;
  }
  std::unique_ptr<ControlServer> server(new ControlServer(listening, epoll, path, table));
  if (!watch(epoll, server->deferred_.fd())) {
    return failure(path, "epoll");  // the destructor closes and unlinks
  }
  return server;
}

ControlServer::ControlServer(int listening, int epoll, std::string path, const CommandTable& table)
    : listening_(listening), epoll_(epoll), path_(std::move(path)), table_(table) {}

ControlServer::~ControlServer() {
  for (const Client& client : clients_) {
    close(client.fd);
  }
  close(listening_);
  close(epoll_);
  unlink(path_.c_str());
}

void ControlServer::serve() {
  std::array<epoll_event, kMaxClients + 2> events{};
  const int ready = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 0);
  for (int i = 0; i < ready; ++i) {
    const int fd = events[static_cast<std::size_t>(i)].data.fd;
    if (fd == listening_) {
      accept_clients();
      continue;
    }
    if (fd == deferred_.fd()) {
      deliver();
      continue;
    }
    const auto client = std::find_if(clients_.begin(), clients_.end(), [fd](const Client& c) { return c.fd == fd; });
    if (client != clients_.end() && !answer(*client)) {
      drop(fd);
    }
  }
}

void ControlServer::accept_clients() {
  for (;;) {
    const int fd = accept4(listening_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      return;  // EAGAIN, or an error the next readiness reports again
    }
    ucred peer{};
    socklen_t length = sizeof(peer);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &length) != 0) {
      log(LogLevel::warn, "event=control_refused reason=\"SO_PEERCRED: {}\"", std::strerror(errno));
      close(fd);
      continue;
    }
    if (peer.uid != 0 && peer.uid != geteuid()) {
      log(LogLevel::warn, "event=control_refused reason=permission_denied pid={} uid={}", peer.pid, peer.uid);
      reply(fd, hostctl::error_reply(ErrorCode::permission_denied,
                                     fmt::format("uid {} may not use hostd's control socket", peer.uid)));
      close(fd);
      continue;
    }
    if (clients_.size() >= kMaxClients) {
      log(LogLevel::warn, "event=control_refused reason=too_many_clients pid={} uid={}", peer.pid, peer.uid);
      reply(fd, hostctl::error_reply(ErrorCode::unavailable, "too many control connections"));
      close(fd);
      continue;
    }
    // Room for the largest reply in one datagram.
    const int buffer = static_cast<int>(2 * hostctl::kMaxReplyBytes);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof(buffer));
    if (!watch(epoll_, fd)) {
      close(fd);
      continue;
    }
    clients_.push_back({fd, next_client_++, peer.pid, peer.uid});
    log(LogLevel::debug, "event=control_connected pid={} uid={}", peer.pid, peer.uid);
  }
}

bool ControlServer::answer(const Client& client) {
  const hostctl::Received received = hostctl::receive_message(client.fd, hostctl::kMaxRequestBytes);
  switch (received.status) {
    case hostctl::ReceiveStatus::message: {
      Dispatched dispatched = table_.dispatch(received.bytes);
      if (dispatched.deferred) {
        const nlohmann::json id = dispatched.id;
        if (deferred_.start(client.id, id, std::move(dispatched.deferred))) {
          log(LogLevel::debug, "event=control_request_deferred pid={} bytes={}", client.pid, received.bytes.size());
          return true;
        }
        dispatched.reply = hostctl::error_reply(
            ErrorCode::unavailable, fmt::format("too many requests waiting on guests (at most {} per client, {} in all)",
                                                DeferredCalls::kMaxPerClient, DeferredCalls::kMaxCalls));
        if (!id.is_null()) {
          dispatched.reply["id"] = id;
        }
      }
      log(LogLevel::debug, "event=control_request pid={} ok={} bytes={}", client.pid,
          dispatched.reply["ok"].get<bool>(), received.bytes.size());
      reply(client.fd, dispatched.reply);
      return true;
    }
    case hostctl::ReceiveStatus::too_large:
      reply(client.fd, hostctl::error_reply(ErrorCode::too_large,
                                            fmt::format("requests are at most {} bytes", hostctl::kMaxRequestBytes)));
      return true;
    case hostctl::ReceiveStatus::would_block:
      return true;
    default:
      return false;
  }
}

void ControlServer::deliver() {
  for (const DeferredCalls::Finished& done : deferred_.finished()) {
    const auto client = std::find_if(clients_.begin(), clients_.end(),
                                     [&done](const Client& c) { return c.id == done.client; });
    if (client == clients_.end()) {
      continue;  // it left before its reply
    }
    log(LogLevel::debug, "event=control_reply_deferred pid={} ok={}", client->pid, done.reply["ok"].get<bool>());
    reply(client->fd, done.reply);
  }
}

void ControlServer::drop(int fd) {
  epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
  close(fd);
  std::erase_if(clients_, [fd](const Client& c) { return c.fd == fd; });
}

}  // namespace uvmbus::hostd
