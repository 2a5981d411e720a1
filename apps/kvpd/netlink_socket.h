// A NETLINK_ROUTE socket: sends the requests netlink_message.h builds and
// feeds the replies to its parser. Blocking, with a receive timeout, for
// kvpd's rare IP-info requests (never on a poll loop's fast path).
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "netlink_message.h"

namespace uvmbus::kvpd {

// Links, addresses and routes of the network namespace, as one read.
struct NetworkSnapshot {
  std::vector<NetLink> links;
  std::vector<NetAddress> addresses;
  std::vector<NetRoute> routes;
};

struct SnapshotResult {
  int error;  // 0 or a positive errno
  NetworkSnapshot network;
};

class NetlinkSocket {
 public:
  struct OpenResult;
  // Opens and binds a socket.
  [[nodiscard]] static OpenResult open();
  ~NetlinkSocket();
  NetlinkSocket(const NetlinkSocket&) = delete;
  NetlinkSocket& operator=(const NetlinkSocket&) = delete;

  // Runs a dump request and adds its replies to `dump`; 0 or a positive errno
  // (EBADMSG for replies the parser refused).
  int dump(uint16_t type, uint8_t family, NetlinkDump& dump);
  // Sends a request that asks for an ACK and waits for it: 0 or a positive errno.
  int request(std::span<const std::byte> message);
  // RTM_GETLINK + RTM_GETADDR + RTM_GETROUTE for all families.
  [[nodiscard]] SnapshotResult snapshot();

  uint32_t next_sequence() noexcept { return ++sequence_; }

 private:
  explicit NetlinkSocket(int fd) noexcept : fd_(fd) {}
  int receive_until_done(NetlinkDump& dump);

  int fd_;
  uint32_t sequence_ = 0;
};

struct NetlinkSocket::OpenResult {
  int error;  // 0 or a positive errno
  std::unique_ptr<NetlinkSocket> socket;
};

// Opens a socket and takes one snapshot (the common case).
[[nodiscard]] SnapshotResult read_network();

}  // namespace uvmbus::kvpd
