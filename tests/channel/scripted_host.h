// Test support: a small scripted VMBus host on its own thread, at the host
// end of a loopback transport. It answers the control protocol (version
// negotiation, offers, GPADL create/teardown with every PFN checked against
// the guest's registered memory, open/close, unload), can rescind offers,
// hot-add offers, play dead, and drives each open channel's rings with
// lib/ring from the host side: echo (in-band packets come back, requests are
// completed with their payload), sink (consume, complete with no payload) or
// hold (read nothing, so the guest's ring fills).
//
// Tiny device protocol, for sub-channels: an in-band request whose payload is
// a SubchannelRequest makes the host complete it with the count granted and
// then offer that many sub-channels of the same device.
//
// GPA-direct requests are answered with a GpaDirectReply: how many ranges
// and bytes the host could read through the registered memory, and a
// checksum of those bytes.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "uvmbus/channel/event_fd.h"
#include "uvmbus/channel/host_transport.h"
#include "uvmbus/ring/ring.h"
#include "uvmbus/wire/channel_messages.h"

namespace uvmbus::channel::test {

inline constexpr uint32_t kSubchannelRequestMagic = 0x43425553;  // "SUBC"

struct SubchannelRequest {
  uint32_t magic = kSubchannelRequestMagic;
  uint32_t count = 0;
};

struct GpaDirectReply {
  uint32_t ranges_read = 0;  // ranges whose every page was in registered memory
  uint32_t bytes_read = 0;
  uint64_t checksum = 0;     // checksum_bytes() of the bytes read, in order
};

// FNV-1a, folded over successive buffers.
uint64_t checksum_bytes(std::span<const std::byte> bytes, uint64_t seed = 0xcbf29ce484222325ull);

enum class ChannelMode : uint8_t { echo, sink, hold };

// Receives the guest's in-band packets of one channel on the host thread,
// in place of the channel mode's handling (for device protocols played by
// a test, such as a KVP host).
using InbandHandler = std::function<void(uint64_t trans_id, std::span<const std::byte> payload)>;

struct HostOffer {
  wire::Guid class_id{};
  wire::Guid instance_id{};
  uint32_t relid = 0;
  uint16_t subchannel_index = 0;
};

struct ScriptedHostConfig {
  std::vector<wire::VmbusVersion> versions;  // accepted; empty = all the spec lists
  std::vector<HostOffer> offers;
  bool answer_initiate_contact = true;
  bool answer_gpadl = true;
  bool answer_open = true;
  bool answer_teardown = true;
  uint32_t open_status = 0;        // non-zero: refuse every OpenChannel with it
  uint32_t max_subchannels = 64;   // granted per request at most
  ChannelMode default_mode = ChannelMode::echo;
};

struct HostCounters {
  std::atomic<uint64_t> messages{0};
  std::atomic<uint64_t> initiate_contacts{0};
  std::atomic<uint64_t> gpadls_created{0};
  std::atomic<uint64_t> gpadls_refused{0};   // a PFN outside registered memory, or malformed
  std::atomic<uint64_t> gpadl_messages{0};   // headers and bodies
  std::atomic<uint64_t> gpadls_torn_down{0};
  std::atomic<uint64_t> opens{0};
  std::atomic<uint64_t> closes{0};
  std::atomic<uint64_t> relids_released{0};
  std::atomic<uint64_t> unloads{0};
  std::atomic<uint64_t> packets{0};          // guest packets consumed
  std::atomic<uint64_t> completions{0};      // guest completions of host packets
  std::atomic<uint64_t> doorbells{0};        // guest signals seen
  std::atomic<uint64_t> bad_guest_packets{0};
};

class ScriptedHost {
 public:
  ScriptedHost(HostTransport& transport, ScriptedHostConfig config);
  ~ScriptedHost();

  ScriptedHost(const ScriptedHost&) = delete;
  ScriptedHost& operator=(const ScriptedHost&) = delete;

  // Runs `action` on the host thread and waits for it.
  void run(const std::function<void()>& action);

  void set_mode(uint32_t relid, ChannelMode mode);
  void set_inband_handler(uint32_t relid, InbandHandler handler);
  void rescind(uint32_t relid);
  void offer(const HostOffer& offer);
  // Sends raw control bytes to the guest (from the host thread).
  void send_raw(std::vector<std::byte> bytes);
  // The host dies: closes its end of the transport and stops touching rings.
  void die();
  // Writes one packet to the guest on channel `relid`'s inbound ring,
  // publishes it and signals the guest if the ring says so.
  ring::WriteStatus inject(uint32_t relid, const ring::OutPacket& packet);
  // The header of channel `relid`'s host-to-guest ring, as the host maps it
  // (for tests that play a host breaking the ring protocol); null if not open.
  wire::RingHeader* inbound_ring_header(uint32_t relid);
  // Relids of channels the host has open.
  std::vector<uint32_t> open_channels();
  // Number of GPADLs the host holds.
  std::size_t gpadl_count();

  const HostCounters& counters() const { return counters_; }

 private:
  struct Gpadl {
    uint32_t relid = 0;
    uint32_t expected_pages = 0;
    std::vector<uint64_t> pfns;
    bool complete = false;
  };
  struct OwnedPacket {
    wire::PacketType type = wire::PacketType::data_inband;
    uint16_t flags = 0;
    uint64_t trans_id = 0;
    std::vector<std::byte> payload;
  };
  struct HostChannel {
    HostChannel(const ring::RingMemory& from_guest, const ring::RingMemory& to_guest)
        : reader(from_guest), writer(to_guest) {}
    ring::RingReader reader;  // guest -> host
    ring::RingWriter writer;  // host -> guest
    wire::RingHeader* to_guest_header = nullptr;
    std::shared_ptr<HostChannelLink> link;
    ChannelMode mode = ChannelMode::echo;
    InbandHandler inband_handler;
    std::vector<OwnedPacket> backlog;  // replies waiting for room
    std::vector<std::byte> copy;       // copy-out buffer for guest packets
  };

  void loop();
  void handle_control(std::span<const std::byte> message);
  void send(std::span<const std::byte> bytes);
  template <typename Message>
  void send_message(const Message& message) {
    send(std::as_bytes(std::span(&message, 1)));
  }
  void send_offer(const HostOffer& offer);
  void on_gpadl_header(std::span<const std::byte> message);
  void on_gpadl_body(std::span<const std::byte> message);
  void finish_gpadl(uint32_t handle, Gpadl& gpadl);
  void on_open(const wire::OpenChannel& message);
  void service_channel(uint32_t relid, HostChannel& channel);
  void handle_packet(uint32_t relid, HostChannel& channel, const ring::InPacket& packet);
  bool flush_backlog(HostChannel& channel);
  GpaDirectReply read_gpa_direct(std::span<const std::byte> header_ext);
  void offer_subchannels(uint32_t primary_relid, uint32_t count);

  HostTransport& transport_;
  ScriptedHostConfig config_;
  HostCounters counters_;
  bool dead_ = false;
  uint32_t next_relid_ = 1000;
  std::map<uint32_t, HostOffer> offers_;  // by relid
  std::map<uint32_t, Gpadl> gpadls_;      // by handle
  std::map<uint32_t, std::unique_ptr<HostChannel>> channels_;

  EventFd wake_;
  std::mutex commands_mutex_;
  std::vector<std::function<void()>> commands_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace uvmbus::channel::test
