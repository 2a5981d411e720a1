// VmbusServer with real guests: VmbusConnection and Channel over loopback
// transports, channels polled by a runtime worker. Negotiation (also with an
// older guest), offers, echo and sink, sub-channels, GPA-direct, hot-add and
// hot-remove, two partitions at once, a guest vanishing mid-stream, a guest
// that never reads, and shutdown.
#include "uvmbus/host/vmbus_server.h"

#include <gtest/gtest.h>

#include <cstring>
#include <numeric>
#include <thread>

#include "builtin_device_checks.h"
#include "loopback_fixture.h"
#include "raw_guest.h"
#include "uvmbus/channel/vmbus_connection.h"
#include "uvmbus/host/builtin_devices.h"
#include "uvmbus/runtime/affinity.h"
#include "uvmbus/runtime/topology.h"

namespace uvmbus::host::test {
namespace {

using channel::test::receive;
using channel::test::send_one;
using channel::test::small_rings;
using namespace std::chrono_literals;

constexpr wire::Guid kEchoInstance = wire::guid_literal("0ec40000-0000-4000-8000-0000000000a1");
constexpr wire::Guid kSinkInstance = wire::guid_literal("051a0000-0000-4000-8000-0000000000a2");
constexpr wire::Guid kHotInstance = wire::guid_literal("0407ad00-0000-4000-8000-0000000000a3");

struct Guest {
  channel::GuestMemory memory;
  channel::LoopbackPair pair;
  std::unique_ptr<channel::VmbusConnection> connection;
  uint32_t partition = 0;

  uint32_t relid_of(const wire::Guid& instance, uint16_t subchannel = 0) const {
    for (const channel::Offer& offer : connection->offers()) {
      if (offer.instance_id == instance && offer.subchannel_index == subchannel) {
        return offer.relid;
      }
    }
    return 0;
  }
  channel::Channel& open(uint32_t relid) {
    auto opened = connection->open_channel(relid, small_rings());
    if (!opened) {
      throw std::runtime_error(std::string("open: ") + to_string(opened.error()));
    }
    return **opened;
  }
  // Pumps the control path until an event of `type` for `relid` arrives.
  bool wait_event(channel::ClientEventType type, uint32_t relid) {
    return eventually([&] {
      connection->pump(1ms);
      while (const auto event = connection->next_event()) {
        if (event->type == type && (relid == 0 || event->relid == relid)) {
          return true;
        }
      }
      return false;
    });
  }
};

class ServerTest : public ::testing::Test {
 protected:
  ServerTest() {
    auto topology = runtime::Topology::load();
    if (!topology) {
      throw std::runtime_error("topology");
    }
    auto started = runtime::Worker::start(*topology, {.cpu = runtime::first_allowed_cpu()});
    if (!started) {
      throw std::runtime_error("worker");
    }
    worker = std::move(*started);
    auto server_started = VmbusServer::start({.workers = {worker.get()}, .limits = {}});
    if (!server_started) {
      throw std::runtime_error("server");
    }
    server = std::move(*server_started);
    EXPECT_TRUE(server->add_device(make_echo_device(kEchoInstance, 4)));
    EXPECT_TRUE(server->add_device(make_sink_device(kSinkInstance, 0)));
  }
  ~ServerTest() override {
    server.reset();
    worker.reset();
  }

  std::unique_ptr<Guest> connect(const channel::ConnectionOptions& options = channel::test::quick_options()) {
    auto guest = std::make_unique<Guest>();
    EXPECT_TRUE(guest->memory.add_region(16 << 20));
    auto pair = channel::make_loopback_pair();
    EXPECT_TRUE(pair);
    guest->pair = std::move(*pair);
    guest->partition = server->add_partition(std::move(guest->pair.host), "guest");
    auto connected = channel::VmbusConnection::connect(*guest->pair.guest, guest->memory, options);
    if (!connected) {
      throw std::runtime_error(std::string("connect: ") + to_string(connected.error()));
    }
    guest->connection = std::move(*connected);
    return guest;
  }

  std::optional<PartitionSnapshot> partition(uint32_t id) {
    for (PartitionSnapshot& snapshot : server->snapshot().partitions) {
      if (snapshot.id == id) {
        return std::move(snapshot);
      }
    }
    return std::nullopt;
  }

  std::unique_ptr<runtime::Worker> worker;
  std::unique_ptr<VmbusServer> server;
};

// "prefix N", built by appending (g++ 12 warns falsely about literal + string).
std::string numbered(std::string_view prefix, uint64_t n) {
  std::string label(prefix);
  label.append(std::to_string(n));
  return label;
}

TEST_F(ServerTest, NegotiatesTheNewestVersionAndOffersEveryDevice) {
  const auto guest = connect();
  EXPECT_EQ(guest->connection->version(), wire::VmbusVersion::win10_v6_0);
  EXPECT_EQ(guest->connection->offers().size(), 2u);
  EXPECT_NE(guest->relid_of(kEchoInstance), 0u);
  EXPECT_NE(guest->relid_of(kSinkInstance), 0u);
}

TEST_F(ServerTest, AnOlderGuestGetsItsOwnVersionAndWorks) {
  static constexpr std::array older{wire::VmbusVersion::win8_1};
  channel::ConnectionOptions options = channel::test::quick_options();
  options.client.versions = older;
  const auto guest = connect(options);
  EXPECT_EQ(guest->connection->version(), wire::VmbusVersion::win8_1);
  EXPECT_TRUE(echoes(guest->open(guest->relid_of(kEchoInstance)), "old but fine"));
}

TEST_F(ServerTest, EchoReturnsPacketsAndCompletesRequests) {
  const auto guest = connect();
  channel::Channel& channel = guest->open(guest->relid_of(kEchoInstance));
  const std::vector<std::byte> payload = text("in-band hello");
  ASSERT_EQ(send_one(channel, payload).sent, 1u);
  const auto echoed = receive(channel, 1);
  ASSERT_EQ(echoed.size(), 1u);
  EXPECT_EQ(echoed[0].kind, channel::PacketKind::inband);
  EXPECT_TRUE(std::equal(payload.begin(), payload.end(), echoed[0].payload.begin()));
  for (int i = 0; i < 100; ++i) {
    EXPECT_TRUE(echoes(channel, numbered("request ", i)));
  }
  const auto snapshot = partition(guest->partition);
  ASSERT_TRUE(snapshot);
  const ChannelSnapshot& stats = snapshot->channels.at(0);
  EXPECT_EQ(stats.device, "echo");
  EXPECT_EQ(stats.state, ChannelState::open);
  EXPECT_EQ(stats.stats.packets_in, 101u);
  EXPECT_EQ(stats.stats.packets_out, 101u);
}

TEST_F(ServerTest, ModifyChannelIsAcknowledgedAndTheChannelKeepsWorking) {
  const auto guest = connect();
  const uint32_t echo = guest->relid_of(kEchoInstance);
  channel::Channel& channel = guest->open(echo);
  EXPECT_EQ(guest->connection->modify_channel(echo, 1), channel::ControlError::none);
  EXPECT_EQ(guest->connection->client().modify_status(echo).state, channel::ModifyState::applied);
  EXPECT_TRUE(echoes(channel, "after modify"));
  // Not open: the guest does not ask.
  EXPECT_EQ(guest->connection->modify_channel(guest->relid_of(kSinkInstance), 1),
            channel::ControlError::invalid_state);
  const auto snapshot = partition(guest->partition);
  ASSERT_TRUE(snapshot);
  EXPECT_EQ(snapshot->faults, ControlFaultCounts{});
}

TEST_F(ServerTest, ModifyChannelWithAHostThatDoesNotAcknowledge) {
  static constexpr std::array no_ack{wire::VmbusVersion::win10_v5_2};
  channel::ConnectionOptions options = channel::test::quick_options();
  options.client.versions = no_ack;
  const auto guest = connect(options);
  const uint32_t echo = guest->relid_of(kEchoInstance);
  channel::Channel& channel = guest->open(echo);
  EXPECT_EQ(guest->connection->modify_channel(echo, 1), channel::ControlError::none);
  EXPECT_TRUE(echoes(channel, "after an unacknowledged modify"));
}

TEST_F(ServerTest, SinkConsumesAndCompletes) {
  const auto guest = connect();
  channel::Channel& channel = guest->open(guest->relid_of(kSinkInstance));
  const std::vector<std::byte> payload = text("into the sink");
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(send_one(channel, payload).sent, 1u);
  }
  ASSERT_EQ(send_one(channel, payload, channel::SendKind::request, 5).sent, 1u);
  const auto got = receive(channel, 2, 500ms);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].kind, channel::PacketKind::completion);
  EXPECT_EQ(got[0].cookie, 5u);
  EXPECT_TRUE(got[0].payload.empty());
}

TEST_F(ServerTest, OpensTheSubchannelsAGuestAsksFor) {
  const auto guest = connect();
  const uint32_t primary = guest->relid_of(kEchoInstance);
  channel::Channel& channel = guest->open(primary);
  const auto subchannels = request_subchannels(*guest->connection, channel, primary, 3);
  ASSERT_EQ(subchannels.size(), 3u);
  for (const channel::Offer& offer : subchannels) {
    EXPECT_TRUE(echoes(guest->open(offer.relid), numbered("sub-channel ", offer.subchannel_index)));
  }
  for (const channel::Offer& offer : subchannels) {
    EXPECT_EQ(guest->connection->close_channel(offer.relid), channel::ControlError::none);
  }
}

TEST_F(ServerTest, GpaDirectReadsTheGuestsRegisteredMemory) {
  const auto guest = connect();
  channel::Channel& channel = guest->open(guest->relid_of(kEchoInstance));
  expect_gpa_direct_checksum(channel, guest->memory);
}

TEST_F(ServerTest, HotAddOffersAndHotRemoveRescinds) {
  const auto guest = connect();
  ASSERT_TRUE(server->add_device(make_echo_device(kHotInstance, 0)));
  EXPECT_FALSE(server->add_device(make_echo_device(kHotInstance, 0)));  // same instance
  ASSERT_TRUE(guest->wait_event(channel::ClientEventType::offer, 0));
  const uint32_t relid = guest->relid_of(kHotInstance);
  ASSERT_NE(relid, 0u);
  channel::Channel& channel = guest->open(relid);
  EXPECT_TRUE(echoes(channel, "hot"));

  ASSERT_TRUE(server->remove_device(kHotInstance));
  EXPECT_FALSE(server->remove_device(kHotInstance));
  ASSERT_TRUE(guest->wait_event(channel::ClientEventType::rescind, relid));
  EXPECT_TRUE(channel.ended());
  guest->connection->close_channel(relid);  // RelIdReleased
  EXPECT_TRUE(eventually([&] {
    const auto snapshot = partition(guest->partition);
    return snapshot && snapshot->channels.size() == 2 && snapshot->gpadls == 0;
  }));
  EXPECT_EQ(server->snapshot().devices.size(), 2u);
}

TEST_F(ServerTest, TwoPartitionsAtOnce) {
  const auto a = connect();
  const auto b = connect();
  EXPECT_NE(a->partition, b->partition);
  channel::Channel& ca = a->open(a->relid_of(kEchoInstance));
  channel::Channel& cb = b->open(b->relid_of(kEchoInstance));
  for (int i = 0; i < 20; ++i) {
    EXPECT_TRUE(echoes(ca, numbered("a", i)));
    EXPECT_TRUE(echoes(cb, numbered("b", i)));
  }
  EXPECT_EQ(server->snapshot().partitions.size(), 2u);
}

TEST_F(ServerTest, AVanishingGuestIsReclaimedAndTheOtherKeepsWorking) {
  const auto survivor = connect();
  channel::Channel& kept = survivor->open(survivor->relid_of(kEchoInstance));

  // A raw guest opens the echo channel, streams into it, and disappears.
  RawGuest raw;
  const uint32_t raw_id = server->add_partition(std::move(raw.pair.host), "raw");
  raw.send(initiate_contact(wire::VmbusVersion::win10_v5_3));
  ASSERT_TRUE(raw.receive_as<wire::VersionResponse>());
  raw.send(wire::make_channel_message<wire::RequestOffers>());
  const auto offer = raw.receive_as<wire::OfferChannel>();
  ASSERT_TRUE(offer);
  ASSERT_TRUE(raw.receive());  // the sink's offer
  ASSERT_TRUE(raw.receive_as<wire::AllOffersDelivered>());
  auto link = raw.attach(*offer, wire::VmbusVersion::win10_v5_3);
  auto rings = raw.allocate_rings(4, 4);
  std::vector<uint64_t> pfns(8);
  std::iota(pfns.begin(), pfns.end(), rings.first_pfn());
  raw.send_gpadl(offer->child_relid, 1, pfns);
  ASSERT_EQ(raw.receive_as<wire::GpadlCreated>()->creation_status, 0u);
  raw.send(raw.open_message(offer->child_relid, 1, 4));
  ASSERT_EQ(raw.receive_as<wire::OpenChannelResult>()->status, 0u);
  ring::RingWriter writer(*ring::ring_memory_from(rings.data(), 4 * wire::kHvPageSize));
  const std::array<std::byte, 64> payload{};
  const iovec segment{.iov_base = const_cast<std::byte*>(payload.data()), .iov_len = payload.size()};
  for (int i = 0; i < 10; ++i) {
    [[maybe_unused]] const auto status = writer.write({.type = wire::PacketType::data_inband,
                                                       .flags = 0,
                                                       .trans_id = 0,
                                                       .header_ext = {},
                                                       .payload = std::span(&segment, 1)});
  }
  if (writer.commit() == ring::Signal::needed) {
    link->signal_host();
  }
  ASSERT_TRUE(partition(raw_id));
  raw.pair.guest.reset();  // gone, mid-stream
  EXPECT_TRUE(eventually([&] { return !partition(raw_id); }));
  link.reset();

  for (int i = 0; i < 20; ++i) {
    EXPECT_TRUE(echoes(kept, numbered("still here ", i)));
  }
}

TEST_F(ServerTest, AHostileGuestDoesNotDisturbAnother) {
  const auto good = connect();
  channel::Channel& channel = good->open(good->relid_of(kEchoInstance));
  RawGuest hostile;
  const uint32_t hostile_id = server->add_partition(std::move(hostile.pair.host), "hostile");
  uint64_t state = 0x9e3779b97f4a7c15ull;
  std::vector<std::byte> junk(wire::kMaxChannelMessageSize);
  for (int i = 0; i < 2000; ++i) {
    for (std::byte& b : junk) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      b = static_cast<std::byte>(state >> 56);
    }
    wire::store(junk, 0, static_cast<uint32_t>(i % 32));  // every message type
    hostile.send_bytes(std::span(junk).first(static_cast<std::size_t>(state % junk.size())));
    if (i % 100 == 0) {
      EXPECT_TRUE(echoes(channel, numbered("meanwhile ", static_cast<uint64_t>(i))));
    }
  }
  ASSERT_TRUE(eventually([&] {
    const auto snapshot = partition(hostile_id);
    return snapshot && snapshot->messages == 2000;
  }));
  const auto hostile_snapshot = partition(hostile_id);
  uint64_t hostile_faults = 0;
  for (const uint64_t count : hostile_snapshot->faults) {
    hostile_faults += count;
  }
  EXPECT_GT(hostile_faults, 0u);
  const auto good_snapshot = partition(good->partition);
  ASSERT_TRUE(good_snapshot);
  for (const uint64_t count : good_snapshot->faults) {
    EXPECT_EQ(count, 0u);
  }
  EXPECT_TRUE(echoes(channel, "after the storm"));
}

TEST_F(ServerTest, AGuestThatNeverReadsBlocksNoOtherChannel) {
  const auto stuck = connect();
  const auto other = connect();
  channel::Channel& flooded = stuck->open(stuck->relid_of(kEchoInstance));
  const std::vector<std::byte> payload(1000);
  // Fill the guest-to-host ring with packets whose echoes find the
  // host-to-guest ring full, and never read.
  for (int round = 0; round < 50; ++round) {
    while (send_one(flooded, payload).sent == 1) {
    }
    std::this_thread::sleep_for(1ms);
  }
  channel::Channel& sink = stuck->open(stuck->relid_of(kSinkInstance));
  ASSERT_EQ(send_one(sink, payload, channel::SendKind::request, 1).sent, 1u);
  EXPECT_EQ(receive(sink, 1).size(), 1u);
  EXPECT_TRUE(echoes(other->open(other->relid_of(kEchoInstance)), "unaffected"));

  const auto snapshot = partition(stuck->partition);
  ASSERT_TRUE(snapshot);
  const auto flooded_stats = std::find_if(snapshot->channels.begin(), snapshot->channels.end(),
                                          [](const ChannelSnapshot& c) { return c.device == "echo"; });
  ASSERT_NE(flooded_stats, snapshot->channels.end());
  EXPECT_GE(flooded_stats->stats.ring_full, 1u);
}

TEST_F(ServerTest, StopRescindsEveryOfferAndEndsTheChannels) {
  const auto guest = connect();
  channel::Channel& channel = guest->open(guest->relid_of(kEchoInstance));
  server->stop();
  EXPECT_TRUE(eventually([&] {
    guest->connection->pump(1ms);
    return channel.ended();
  }));
  // A stopped server refuses everything without waiting.
  EXPECT_FALSE(server->add_device(make_echo_device(kHotInstance)));
  auto pair = channel::make_loopback_pair();
  ASSERT_TRUE(pair);
  EXPECT_EQ(server->add_partition(std::move(pair->host), "late"), 0u);
  EXPECT_TRUE(server->snapshot().partitions.empty());
}

}  // namespace
}  // namespace uvmbus::host::test
