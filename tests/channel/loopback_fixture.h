// Test support: a guest (guest memory, a loopback transport, a
// VmbusConnection) facing a ScriptedHost, plus the offers and options the
// channel tests share.
#pragma once

#include <chrono>
#include <memory>
#include <span>
#include <vector>

#include "scripted_host.h"
#include "uvmbus/channel/guest_memory.h"
#include "uvmbus/channel/loopback_transport.h"
#include "uvmbus/channel/vmbus_connection.h"
#include "uvmbus/wire/guid.h"

namespace uvmbus::channel::test {

inline constexpr wire::Guid kEchoInstance = wire::guid_literal("5e1ec7ed-0000-4000-8000-0000000000e1");
inline constexpr wire::Guid kOtherInstance = wire::guid_literal("5e1ec7ed-0000-4000-8000-0000000000e2");
inline constexpr uint32_t kEchoRelid = 7;
inline constexpr uint32_t kOtherRelid = 9;

// Two network-class devices: relid 7 and relid 9.
ScriptedHostConfig two_device_config();

// Short bounds, so tests of unanswered requests finish quickly.
ConnectionOptions quick_options(std::chrono::milliseconds reply_timeout = std::chrono::milliseconds(2000));

// Small rings, so ring-full and wrap cases come quickly.
OpenOptions small_rings(HostTrust trust = HostTrust::untrusted);

// A received packet copied out of the channel, for checking after release.
struct CollectedPacket {
  PacketKind kind = PacketKind::inband;
  CompletionStatus status = CompletionStatus::ok;
  bool completion_requested = false;
  uint64_t trans_id = 0;
  uint64_t cookie = 0;
  std::vector<std::byte> payload;
  uint16_t transfer_page_set = 0;
  std::vector<wire::TransferPageRange> transfer_ranges;
  uint32_t gpa_range_count = 0;
};

// Receives until `count` packets arrived or `timeout` passed, sleeping on the
// channel's interrupt fd in between.
std::vector<CollectedPacket> receive(Channel& channel, std::size_t count,
                                     std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

// Sends one in-band packet (or request) carrying `payload`.
SendResult send_one(Channel& channel, std::span<const std::byte> payload,
                    SendKind kind = SendKind::inband, uint64_t cookie = 0);

// True if `fd` becomes readable within `timeout`.
bool wait_readable(int fd, std::chrono::milliseconds timeout);

class LoopbackGuest {
 public:
  static constexpr std::size_t kMemoryBytes = 16 << 20;

  explicit LoopbackGuest(ScriptedHostConfig config = two_device_config());
  ~LoopbackGuest();

  // Connects with `options`; returns why it failed (none on success).
  ControlError connect(const ConnectionOptions& options = quick_options());
  // Connects and opens `relid`; fails the test on error.
  Channel& open(uint32_t relid, const OpenOptions& options = small_rings());

  GuestMemory memory;
  LoopbackPair pair;
  std::unique_ptr<ScriptedHost> host;
  std::unique_ptr<VmbusConnection> connection;
};

}  // namespace uvmbus::channel::test
