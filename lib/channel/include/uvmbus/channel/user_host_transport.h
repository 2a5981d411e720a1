// The host end of the `user` transport: a listener on a unix-domain
// SOCK_SEQPACKET socket that completes each guest's handshake and yields one
// UserHostTransport per partition (VM id, name, peer credentials), the
// HostTransport a VMBus server drives. docs/vmbus-user.md describes the
// socket protocol.
//
// Guests are untrusted. Every frame is validated (size, type, descriptor
// count); descriptors that arrive where none belong are closed. Memory
// regions are bounded in number and total size, must not overlap, and must
// be memfds sealed against shrinking; doorbells must be non-blocking
// eventfds. A violation ends that partition only: the host sends an error
// frame naming the cause, then EOF, and receive_control() reports closed
// with error() saying why. Slow or silent clients cannot stall the listener:
// handshakes proceed as their hello arrives, within a timeout.
//
// Threads: the listener belongs to one thread. A transport's control half
// and channel_link() to the control-plane thread; its links to workers.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "uvmbus/channel/event_fd.h"
#include "uvmbus/channel/expected.h"
#include "uvmbus/channel/host_transport.h"
#include "uvmbus/channel/user_transport.h"

namespace uvmbus::channel {

struct UserListenerOptions {
  // Socket file mode; the default lets only the owner's processes connect.
  uint32_t socket_mode = 0600;
  std::size_t max_regions = MappedGuestMemory::kMaxRegions;  // at most that
  uint64_t max_memory_bytes = uint64_t{64} << 30;            // per partition
  std::size_t max_channels = 2048;                           // attached at once
  std::size_t max_pending = 64;                              // unfinished handshakes
  std::chrono::milliseconds handshake_timeout{2000};
  // Bound on waiting for a guest's socket buffer space in each send.
  std::chrono::milliseconds send_wait{100};
};

// The connecting process, as the kernel saw it at connect() (SO_PEERCRED).
struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

struct PartitionIdentity {
  wire::Guid vm_id{};
  std::string name;
  PeerCredentials peer;
  uint16_t protocol_minor = 0;
};

class UserHostTransport final : public HostTransport {
 public:
  ~UserHostTransport() override;
  UserHostTransport(const UserHostTransport&) = delete;
  UserHostTransport& operator=(const UserHostTransport&) = delete;

  TransportStatus send_control(std::span<const std::byte> message) noexcept override;
  // Also applies the guest's memory and doorbell frames as they arrive, in
  // order, so a channel's doorbells are known before its OpenChannel.
  ControlReceive receive_control(std::span<std::byte> buffer) noexcept override;
  int control_fd() const noexcept override;
  const MappedGuestMemory& guest_memory() const noexcept override { return memory_; }
  std::shared_ptr<HostChannelLink> channel_link(uint32_t relid) override;
  void close() noexcept override;

  const PartitionIdentity& partition() const noexcept { return identity_; }
  // Why the partition ended: the guest's protocol violation, or peer_closed
  // after EOF; none while connected or after close().
  UserError error() const noexcept { return error_; }
  // Bytes of guest memory registered.
  uint64_t memory_bytes() const noexcept { return memory_bytes_; }
  std::size_t attached_channels() const;

 private:
  friend class UserListener;
  class Link;
  struct RegionSpan {
    uint64_t base_gpa;
    uint64_t size;
  };

  UserHostTransport(int socket, PartitionIdentity identity, const UserListenerOptions& options);
  // The guest's memory and doorbell frames; each returns the violation, if any.
  user::ProtocolError add_region(const user::AddRegionPayload& region, int memfd);
  user::ProtocolError attach(uint32_t relid, EventFd to_host, EventFd to_guest);
  user::ProtocolError detach(uint32_t relid);
  // Ends the partition for `error`: error frame, EOF, links dropped.
  void fail(user::ProtocolError error) noexcept;

  int socket_ = -1;
  PartitionIdentity identity_;
  UserListenerOptions options_;
  bool closed_ = false;
  UserError error_{};
  MappedGuestMemory memory_;
  std::vector<RegionSpan> regions_;
  uint64_t memory_bytes_ = 0;
  mutable std::mutex links_mutex_;
  std::map<uint32_t, std::shared_ptr<Link>> links_;  // by relid, guarded by links_mutex_
};

enum class AcceptStatus : uint8_t {
  partition,  // a guest completed its handshake: AcceptResult::partition
  refused,    // a client was refused and disconnected: AcceptResult::error
  none,       // nothing more to do now; wait on UserListener::fd()
};

struct AcceptResult {
  AcceptStatus status = AcceptStatus::none;
  std::unique_ptr<UserHostTransport> partition;
  UserError error{};
  PeerCredentials peer;  // of the partition, or of the refused client
};

class UserListener {
 public:
  // Binds and listens at `socket_path`, replacing a stale socket file there
  // (but no other kind of file).
  static Expected<std::unique_ptr<UserListener>, UserError> listen(
      const std::string& socket_path, const UserListenerOptions& options = {});
  ~UserListener();
  UserListener(const UserListener&) = delete;
  UserListener& operator=(const UserListener&) = delete;

  // Readable when accept() may have something to report (a connection, a
  // hello). Pending handshakes also time out in accept(): call it at least
  // every handshake_timeout while clients are pending.
  int fd() const noexcept { return epoll_; }
  // Non-blocking: advances handshakes and reports one outcome. Call until
  // none.
  AcceptResult accept();
  std::size_t pending_handshakes() const noexcept { return pending_.size(); }
  const std::string& path() const noexcept { return path_; }

 private:
  struct Pending {
    int socket = -1;
    PeerCredentials peer;
    std::chrono::steady_clock::time_point deadline;
  };

  UserListener(int listening, int epoll, std::string path, const UserListenerOptions& options) noexcept;
  // Takes one new connection into pending_; a result only if it was refused.
  std::optional<AcceptResult> accept_connection();
  // Completes pending_[index]'s handshake if its hello is there; nullopt
  // while it is still awaited. A result removes the entry.
  std::optional<AcceptResult> advance_handshake(std::size_t index);
  AcceptResult refuse(std::size_t index, user::ProtocolError error, int sys_errno = 0);
  void forget(std::size_t index) noexcept;  // drops pending_[index], keeping its socket open

  int listening_ = -1;
  int epoll_ = -1;
  std::string path_;
  UserListenerOptions options_;
  std::vector<Pending> pending_;
};

}  // namespace uvmbus::channel
