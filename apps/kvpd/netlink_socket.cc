// NETLINK_ROUTE socket I/O (see netlink_socket.h).
#include "netlink_socket.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace uvmbus::kvpd {
namespace {
constexpr std::size_t kReceiveBytes = 64 * 1024;
constexpr timeval kReceiveTimeout{.tv_sec = 2, .tv_usec = 0};
}  // namespace

NetlinkSocket::OpenResult NetlinkSocket::open() {
  const int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) {
    return {errno, nullptr};
  }
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (bind(fd, reinterpret_cast<const sockaddr*>(&local), sizeof(local)) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &kReceiveTimeout, sizeof(kReceiveTimeout)) != 0) {
    const int error = errno;
    ::close(fd);
    return {error, nullptr};
  }
  return {0, std::unique_ptr<NetlinkSocket>(new NetlinkSocket(fd))};
}

NetlinkSocket::~NetlinkSocket() { ::close(fd_); }

int NetlinkSocket::receive_until_done(NetlinkDump& dump) {
  std::vector<std::byte> buffer(kReceiveBytes);
  for (;;) {
    const ssize_t received = recv(fd_, buffer.data(), buffer.size(), 0);
    if (received < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno;
    }
    switch (parse_netlink(std::span(buffer).first(static_cast<std::size_t>(received)), dump)) {
      case ParseStatus::more:
        break;
      case ParseStatus::done:
        return dump.error_code < 0 ? -dump.error_code : 0;
      case ParseStatus::malformed:
        return EBADMSG;
    }
  }
}

int NetlinkSocket::dump(uint16_t type, uint8_t family, NetlinkDump& dump) {
  const std::vector<std::byte> message = dump_request(type, family, next_sequence());
  if (send(fd_, message.data(), message.size(), 0) < 0) {
    return errno;
  }
  return receive_until_done(dump);
}

int NetlinkSocket::request(std::span<const std::byte> message) {
  if (send(fd_, message.data(), message.size(), 0) < 0) {
    return errno;
  }
  NetlinkDump acknowledgement;
  return receive_until_done(acknowledgement);
}

SnapshotResult NetlinkSocket::snapshot() {
  NetlinkDump dump;
  for (const uint16_t type : {RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE}) {
    if (const int error = this->dump(type, AF_UNSPEC, dump); error != 0) {
      return {error, {}};
    }
  }
  return {0, {std::move(dump.links), std::move(dump.addresses), std::move(dump.routes)}};
}

SnapshotResult read_network() {
  NetlinkSocket::OpenResult opened = NetlinkSocket::open();
  if (opened.error != 0) {
    return {opened.error, {}};
  }
  return opened.socket->snapshot();
}

}  // namespace uvmbus::kvpd
