// VmbusConnection over the loopback transport against the scripted host:
// negotiation with fallback, offers, open/close, device GPADLs, sub-channels,
// rescind, host death, unanswered requests, and hostile control messages.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "control_test_support.h"
#include "loopback_fixture.h"

namespace uvmbus::channel::test {
namespace {

using std::chrono::milliseconds;
using wire::VmbusVersion;

uint64_t rejected(const VmbusConnection& connection, ControlError cause) {
  return connection.stats().rejected_by_cause[static_cast<std::size_t>(cause)];
}

// Pumps until `done` or a second passes.
template <typename Done>
bool pump_until(VmbusConnection& connection, Done done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    connection.pump(milliseconds(10));
  }
  return true;
}

TEST(Connection, ConnectsAtTheNewestVersionAndCollectsTheOffers) {
  LoopbackGuest guest;
  ASSERT_EQ(guest.connect(), ControlError::none);
  EXPECT_EQ(guest.connection->state(), ConnectionState::connected);
  EXPECT_EQ(guest.connection->version(), VmbusVersion::win10_v6_0);
  const std::vector<Offer> offers = guest.connection->offers();
  ASSERT_EQ(offers.size(), 2u);
  EXPECT_EQ(offers[0].relid, kEchoRelid);
  EXPECT_EQ(offers[0].instance_id, kEchoInstance);
  EXPECT_EQ(offers[1].relid, kOtherRelid);
  std::vector<ClientEventType> events;
  while (const std::optional<ClientEvent> event = guest.connection->next_event()) {
    events.push_back(event->type);
  }
  EXPECT_EQ(events, (std::vector{ClientEventType::offer, ClientEventType::offer,
                                 ClientEventType::all_offers_delivered}));
  EXPECT_EQ(guest.pair.host->guest_memory().region_count(), 1u);
}

TEST(Connection, FallsBackToTheNewestVersionTheHostAccepts) {
  ScriptedHostConfig config = two_device_config();
  config.versions = {VmbusVersion::win8_1, VmbusVersion::win8};
  LoopbackGuest guest(config);
  ASSERT_EQ(guest.connect(), ControlError::none);
  EXPECT_EQ(guest.connection->version(), VmbusVersion::win8_1);
  // 6.0, 5.3, 5.2, 5.1, 5.0, 4.1, 4.0, then 3.0 (Win8.1).
  EXPECT_EQ(guest.host->counters().initiate_contacts.load(), 8u);
  EXPECT_EQ(guest.connection->offers().size(), 2u);
}

TEST(Connection, FailsWhenTheHostAcceptsNoVersion) {
  ScriptedHostConfig config = two_device_config();
  config.versions = {wire::make_vmbus_version(9, 9)};
  LoopbackGuest guest(config);
  EXPECT_EQ(guest.connect(), ControlError::no_common_version);
  EXPECT_EQ(guest.host->counters().initiate_contacts.load(), kDefaultVmbusVersions.size());
}

TEST(Connection, ASilentHostTimesOutWithinTheBound) {
  ScriptedHostConfig config = two_device_config();
  config.answer_initiate_contact = false;
  LoopbackGuest guest(config);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(guest.connect(quick_options(milliseconds(200))), ControlError::timed_out);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(Connection, OpenAndCloseGiveEveryPageBack) {
  LoopbackGuest guest;
  const uint64_t free_before = guest.memory.free_pages();
  Channel& channel = guest.open(kEchoRelid);
  EXPECT_EQ(channel.offer().relid, kEchoRelid);
  EXPECT_EQ(guest.connection->channel(kEchoRelid), &channel);
  EXPECT_EQ(guest.host->open_channels(), std::vector<uint32_t>{kEchoRelid});
  EXPECT_EQ(guest.host->gpadl_count(), 1u);
  EXPECT_LT(guest.memory.free_pages(), free_before);
  EXPECT_EQ(guest.connection->open_channel(kEchoRelid).error(), ControlError::invalid_state);

  ASSERT_EQ(guest.connection->close_channel(kEchoRelid), ControlError::none);
  EXPECT_EQ(guest.connection->channel(kEchoRelid), nullptr);
  EXPECT_TRUE(guest.host->open_channels().empty());
  EXPECT_EQ(guest.host->gpadl_count(), 0u);
  EXPECT_EQ(guest.host->counters().gpadls_torn_down.load(), 1u);
  EXPECT_EQ(guest.memory.free_pages(), free_before);
  // And again on the same offer.
  guest.open(kEchoRelid);
  EXPECT_EQ(guest.connection->close_channel(kEchoRelid), ControlError::none);
}

TEST(Connection, ARingLargerThanTheHeaderMessageTakesGpadlBodies) {
  LoopbackGuest guest;
  OpenOptions options = small_rings();
  options.outbound_ring_bytes = 64 * wire::kHvPageSize;
  options.inbound_ring_bytes = 64 * wire::kHvPageSize;
  guest.open(kEchoRelid, options);
  // 130 pages: a header with 26 PFNs and 4 bodies of up to 28.
  EXPECT_EQ(guest.host->counters().gpadl_messages.load(), 5u);
  EXPECT_EQ(guest.host->counters().gpadls_created.load(), 1u);
}

TEST(Connection, ARefusedOpenTearsDownTheRingGpadlAndFreesTheRings) {
  ScriptedHostConfig config = two_device_config();
  config.open_status = 0xC0000001;
  LoopbackGuest guest(config);
  ASSERT_EQ(guest.connect(), ControlError::none);
  const uint64_t free_before = guest.memory.free_pages();
  EXPECT_EQ(guest.connection->open_channel(kEchoRelid, small_rings()).error(), ControlError::host_refused);
  EXPECT_EQ(guest.host->gpadl_count(), 0u);
  EXPECT_EQ(guest.memory.free_pages(), free_before);
}

TEST(Connection, AnUnansweredOpenTimesOutAndKeepsTheRingsTheHostMayUse) {
  ScriptedHostConfig config = two_device_config();
  config.answer_open = false;
  LoopbackGuest guest(config);
  ASSERT_EQ(guest.connect(quick_options(milliseconds(200))), ControlError::none);
  const uint64_t free_before = guest.memory.free_pages();
  EXPECT_EQ(guest.connection->open_channel(kEchoRelid, small_rings()).error(), ControlError::timed_out);
  EXPECT_LT(guest.memory.free_pages(), free_before);
}

TEST(Connection, AnUnansweredGpadlTimesOut) {
  ScriptedHostConfig config = two_device_config();
  config.answer_gpadl = false;
  LoopbackGuest guest(config);
  ASSERT_EQ(guest.connect(quick_options(milliseconds(200))), ControlError::none);
  EXPECT_EQ(guest.connection->open_channel(kEchoRelid, small_rings()).error(), ControlError::timed_out);
}

TEST(Connection, DeviceBuffersGetTheirOwnGpadl) {
  LoopbackGuest guest;
  guest.open(kEchoRelid);
  Expected<GuestPages, MemoryError> buffer = guest.memory.allocate_pages(100);
  ASSERT_TRUE(buffer);
  const Expected<uint32_t, ControlError> handle = guest.connection->create_gpadl(kEchoRelid, *buffer);
  ASSERT_TRUE(handle);
  EXPECT_EQ(guest.host->gpadl_count(), 2u);
  EXPECT_EQ(guest.connection->teardown_gpadl(*handle), ControlError::none);
  EXPECT_EQ(guest.host->gpadl_count(), 1u);
  EXPECT_EQ(guest.connection->create_gpadl(kEchoRelid, GuestPages{}).error(),
            ControlError::invalid_argument);
}

TEST(Connection, TheHostRefusesGpadlPagesOutsideRegisteredMemory) {
  LoopbackGuest guest;
  VmbusClient client(*guest.pair.guest);
  connect_client(client);  // the host's answers are pumped below
  auto pump = [&] {
    std::array<std::byte, wire::kMaxChannelMessageSize> buffer;
    while (wait_readable(guest.pair.guest->control_fd(), milliseconds(100))) {
      while (true) {
        const ControlReceive received = guest.pair.guest->receive_control(buffer);
        if (received.status != TransportStatus::ok) {
          break;
        }
        [[maybe_unused]] const ControlError error = client.on_message(std::span(buffer).first(received.size));
      }
    }
  };
  // connect_client() assumed an immediate accept; let the real answers in.
  pump();
  ASSERT_NE(client.offer(kEchoRelid), nullptr);
  // No memory was registered: every PFN is outside.
  const Expected<uint32_t, ControlError> handle = client.start_create_gpadl(kEchoRelid, 0x100000, 30);
  ASSERT_TRUE(handle);
  pump();
  EXPECT_EQ(client.gpadl_status(*handle).state, GpadlState::failed);
  EXPECT_EQ(client.gpadl_status(*handle).error, ControlError::host_refused);
  EXPECT_EQ(guest.host->counters().gpadls_refused.load(), 1u);
}

TEST(Connection, SubChannelsAreRequestedThroughTheDeviceAndOpenedLikePrimaries) {
  LoopbackGuest guest;
  Channel& primary = guest.open(kEchoRelid);
  const SubchannelRequest request{.count = 3};
  ASSERT_EQ(send_one(primary, std::as_bytes(std::span(&request, 1)), SendKind::request, 77).sent, 1u);
  const std::vector<CollectedPacket> reply = receive(primary, 1);
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_EQ(reply[0].cookie, 77u);
  EXPECT_EQ(wire::load<SubchannelRequest>(reply[0].payload).count, 3u);

  const std::vector<Offer> subchannels =
      guest.connection->wait_for_subchannels(kEchoRelid, 3, milliseconds(2000));
  ASSERT_EQ(subchannels.size(), 3u);
  for (uint16_t i = 0; i < 3; ++i) {
    EXPECT_EQ(subchannels[i].subchannel_index, i + 1);
    EXPECT_EQ(subchannels[i].instance_id, kEchoInstance);
    EXPECT_NE(subchannels[i].relid, kEchoRelid);
  }
  std::vector<Channel*> opened;
  for (const Offer& offer : subchannels) {
    Expected<Channel*, ControlError> channel = guest.connection->open_channel(offer.relid, small_rings());
    ASSERT_TRUE(channel);
    opened.push_back(*channel);
  }
  // Each sub-channel has its own rings: echo on each.
  for (std::size_t i = 0; i < opened.size(); ++i) {
    const uint64_t value = 1000 + i;
    ASSERT_EQ(send_one(*opened[i], std::as_bytes(std::span(&value, 1))).sent, 1u);
    const std::vector<CollectedPacket> echoed = receive(*opened[i], 1);
    ASSERT_EQ(echoed.size(), 1u);
    EXPECT_EQ(wire::load<uint64_t>(echoed[0].payload), value);
  }
  EXPECT_EQ(guest.host->open_channels().size(), 4u);
  EXPECT_EQ(guest.connection->close_channel(kEchoRelid), ControlError::subchannels_open);
  for (const Offer& offer : subchannels) {
    EXPECT_EQ(guest.connection->close_channel(offer.relid), ControlError::none);
  }
  EXPECT_EQ(guest.connection->close_channel(kEchoRelid), ControlError::none);
  EXPECT_TRUE(guest.host->open_channels().empty());
}

TEST(Connection, FewerSubChannelsThanAskedForAreReportedAsOffered) {
  ScriptedHostConfig config = two_device_config();
  config.max_subchannels = 2;
  LoopbackGuest guest(config);
  Channel& primary = guest.open(kEchoRelid);
  const SubchannelRequest request{.count = 4};
  ASSERT_EQ(send_one(primary, std::as_bytes(std::span(&request, 1)), SendKind::request).sent, 1u);
  ASSERT_EQ(receive(primary, 1).size(), 1u);
  EXPECT_EQ(guest.connection->wait_for_subchannels(kEchoRelid, 4, milliseconds(300)).size(), 2u);
}

TEST(Connection, RescindEndsTheOpenChannelAndCloseOnlyReleasesTheRelid) {
  LoopbackGuest guest;
  Channel& channel = guest.open(kEchoRelid);
  guest.host->rescind(kEchoRelid);
  ASSERT_TRUE(pump_until(*guest.connection, [&] { return channel.ended(); }));
  EXPECT_EQ(channel.end_reason(), ChannelEnd::rescinded);
  EXPECT_TRUE(wait_readable(channel.wake_fd(), milliseconds(0)));
  const uint64_t closes = guest.host->counters().closes.load();
  const uint64_t teardowns = guest.host->counters().gpadls_torn_down.load();
  EXPECT_EQ(guest.connection->close_channel(kEchoRelid), ControlError::none);
  ASSERT_TRUE(pump_until(*guest.connection,
                         [&] { return guest.host->counters().relids_released.load() == 1; }));
  EXPECT_EQ(guest.host->counters().closes.load(), closes);
  EXPECT_EQ(guest.host->counters().gpadls_torn_down.load(), teardowns);
  EXPECT_EQ(guest.connection->offer(kEchoRelid), nullptr);
  // The host may offer the relid again.
  guest.host->offer(HostOffer{.class_id = wire::kHvNicGuid, .instance_id = kEchoInstance, .relid = kEchoRelid});
  ASSERT_TRUE(pump_until(*guest.connection, [&] { return guest.connection->offer(kEchoRelid) != nullptr; }));
  guest.open(kEchoRelid);
}

TEST(Connection, ARescindedOfferNobodyOpenedIsReleasedAtOnce) {
  LoopbackGuest guest;
  ASSERT_EQ(guest.connect(), ControlError::none);
  guest.host->rescind(kOtherRelid);
  ASSERT_TRUE(pump_until(*guest.connection,
                         [&] { return guest.host->counters().relids_released.load() == 1; }));
  EXPECT_EQ(guest.connection->open_channel(kOtherRelid).error(), ControlError::invalid_argument);
}

TEST(Connection, HostDeathEndsEveryChannelAndNothingWaits) {
  LoopbackGuest guest;
  Channel& echo = guest.open(kEchoRelid);
  Channel& other = guest.open(kOtherRelid);
  guest.host->die();
  EXPECT_TRUE(pump_until(*guest.connection, [&] { return !guest.connection->pump(milliseconds(0)); }));
  EXPECT_EQ(guest.connection->state(), ConnectionState::host_gone);
  EXPECT_EQ(echo.end_reason(), ChannelEnd::host_gone);
  EXPECT_EQ(other.end_reason(), ChannelEnd::host_gone);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(guest.connection->close_channel(kEchoRelid), ControlError::none);
  EXPECT_EQ(guest.connection->open_channel(kEchoRelid).error(), ControlError::invalid_state);
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(100));
}

TEST(Connection, HostDeathDuringAnOpenFailsItAtOnce) {
  ScriptedHostConfig config = two_device_config();
  config.answer_open = false;
  LoopbackGuest guest(config);
  ASSERT_EQ(guest.connect(quick_options(milliseconds(10000))), ControlError::none);
  std::thread killer([&] {
    std::this_thread::sleep_for(milliseconds(100));
    guest.host->die();
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(guest.connection->open_channel(kEchoRelid, small_rings()).error(), ControlError::host_gone);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  killer.join();
}

TEST(Connection, HostileControlMessagesAreCountedAndTheConnectionGoesOn) {
  LoopbackGuest guest;
  ASSERT_EQ(guest.connect(), ControlError::none);
  std::vector<std::byte> truncated = bytes_of(offer_message(30, kOtherInstance));
  truncated.resize(50);
  guest.host->send_raw(truncated);
  guest.host->send_raw(std::vector<std::byte>(300, std::byte{1}));  // oversized
  auto unknown = wire::make_channel_message<wire::AllOffersDelivered>();
  unknown.header.msgtype = static_cast<wire::ChannelMessageType>(99);
  guest.host->send_raw(bytes_of(unknown));
  auto gpadl_created = wire::make_channel_message<wire::GpadlCreated>();
  gpadl_created.gpadl = 12345;
  guest.host->send_raw(bytes_of(gpadl_created));
  auto open_result = wire::make_channel_message<wire::OpenChannelResult>();
  open_result.child_relid = 555;
  guest.host->send_raw(bytes_of(open_result));
  guest.host->send_raw(version_response(true));
  guest.host->send_raw(bytes_of(wire::make_channel_message<wire::InitiateContact>()));
  auto bad_offer = offer_message(kEchoRelid, kOtherInstance);  // relid in use
  guest.host->send_raw(bytes_of(bad_offer));
  ASSERT_TRUE(pump_until(*guest.connection, [&] { return guest.connection->stats().messages_rejected == 8; }));
  EXPECT_EQ(rejected(*guest.connection, ControlError::message_truncated), 1u);
  EXPECT_EQ(rejected(*guest.connection, ControlError::message_oversized), 1u);
  EXPECT_EQ(rejected(*guest.connection, ControlError::unknown_message_type), 1u);
  EXPECT_EQ(rejected(*guest.connection, ControlError::unknown_gpadl), 1u);
  EXPECT_EQ(rejected(*guest.connection, ControlError::unknown_relid), 1u);
  EXPECT_EQ(rejected(*guest.connection, ControlError::unexpected_message), 1u);
  EXPECT_EQ(rejected(*guest.connection, ControlError::wrong_direction), 1u);
  EXPECT_EQ(rejected(*guest.connection, ControlError::offer_rejected), 1u);
  EXPECT_EQ(guest.connection->state(), ConnectionState::connected);
  guest.open(kEchoRelid);
}

TEST(Connection, AFloodOfMessagesCannotHoldAWaitPastItsDeadline) {
  ScriptedHostConfig config = two_device_config();
  config.answer_open = false;
  LoopbackGuest guest(config);
  ASSERT_EQ(guest.connect(quick_options(milliseconds(300))), ControlError::none);
  std::atomic<bool> flooding{true};
  std::thread flooder([&] {
    const std::vector<std::byte> junk = bytes_of(wire::make_channel_message<wire::AllOffersDelivered>());
    while (flooding.load()) {
      [[maybe_unused]] const TransportStatus status = guest.pair.host->send_control(junk);
    }
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(guest.connection->open_channel(kEchoRelid, small_rings()).error(), ControlError::timed_out);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  flooding.store(false);
  flooder.join();
}

TEST(Connection, HotAddedOffersArriveAsEvents) {
  LoopbackGuest guest;
  ASSERT_EQ(guest.connect(), ControlError::none);
  while (guest.connection->next_event()) {
  }
  constexpr wire::Guid kKvpInstance = wire::guid_literal("5e1ec7ed-0000-4000-8000-0000000000e3");
  guest.host->offer(HostOffer{.class_id = wire::kHvKvpGuid, .instance_id = kKvpInstance, .relid = 40});
  std::optional<ClientEvent> event;
  ASSERT_TRUE(pump_until(*guest.connection, [&] { return (event = guest.connection->next_event()).has_value(); }));
  EXPECT_EQ(event->type, ClientEventType::offer);
  EXPECT_EQ(event->relid, 40u);
  EXPECT_EQ(guest.connection->offer(40)->class_id, wire::kHvKvpGuid);
}

TEST(Connection, UnloadEndsTheOpenChannels) {
  LoopbackGuest guest;
  Channel& channel = guest.open(kEchoRelid);
  ASSERT_EQ(guest.connection->unload(), ControlError::none);
  EXPECT_EQ(guest.connection->state(), ConnectionState::unloaded);
  EXPECT_EQ(channel.end_reason(), ChannelEnd::unloaded);
  EXPECT_EQ(guest.host->counters().unloads.load(), 1u);
  EXPECT_EQ(guest.connection->close_channel(kEchoRelid), ControlError::none);
}

TEST(Connection, DestroyingTheConnectionClosesWhatIsOpen) {
  LoopbackGuest guest;
  guest.open(kEchoRelid);
  guest.open(kOtherRelid);
  guest.connection.reset();
  EXPECT_EQ(guest.host->counters().closes.load(), 2u);
  EXPECT_EQ(guest.host->gpadl_count(), 0u);
}

}  // namespace
}  // namespace uvmbus::channel::test
