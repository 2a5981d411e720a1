// VmbusClient driven by hand (sans-IO): version fallback, offers and their
// validation, GPADL message splitting and reply matching, open/close,
// rescind, EOF and unload, and every kind of unexpected host message.
#include <gtest/gtest.h>

#include <algorithm>

#include "control_test_support.h"
#include "uvmbus/channel/vmbus_client.h"

namespace uvmbus::channel::test {
namespace {

using wire::ChannelMessageType;
using wire::VmbusVersion;

constexpr wire::Guid kInstanceA = wire::guid_literal("0a0a0a0a-0000-4000-8000-00000000000a");
constexpr wire::Guid kInstanceB = wire::guid_literal("0b0b0b0b-0000-4000-8000-00000000000b");

uint64_t rejected(const VmbusClient& client, ControlError cause) {
  return client.stats().rejected_by_cause[static_cast<std::size_t>(cause)];
}

uint64_t offers_rejected(const VmbusClient& client, OfferError cause) {
  return client.stats().offers_rejected_by_cause[static_cast<std::size_t>(cause)];
}

class ConnectedClient : public ::testing::Test {
 protected:
  void SetUp() override {
    connect_client(client);
    sender.sent.clear();
  }

  // Offers relid with kInstanceA (or `instance`) and asserts it was accepted.
  void offer(uint32_t relid, const wire::Guid& instance = kInstanceA, uint16_t index = 0) {
    ASSERT_EQ(client.on_message(bytes_of(offer_message(relid, instance, index))), ControlError::none);
  }

  uint32_t created_gpadl(uint32_t relid, uint32_t pages = 4) {
    const Expected<uint32_t, ControlError> handle = client.start_create_gpadl(relid, 0x100000, pages);
    EXPECT_TRUE(handle);
    auto reply = wire::make_channel_message<wire::GpadlCreated>();
    reply.child_relid = relid;
    reply.gpadl = *handle;
    EXPECT_EQ(client.on_message(bytes_of(reply)), ControlError::none);
    EXPECT_EQ(client.gpadl_status(*handle).state, GpadlState::created);
    return *handle;
  }

  void open(uint32_t relid, uint32_t gpadl) {
    ASSERT_EQ(client.start_open({.relid = relid, .ring_gpadl = gpadl, .downstream_page_offset = 2}),
              ControlError::none);
    auto reply = wire::make_channel_message<wire::OpenChannelResult>();
    reply.child_relid = relid;
    reply.openid = relid;
    ASSERT_EQ(client.on_message(bytes_of(reply)), ControlError::none);
    ASSERT_EQ(client.open_status(relid).state, OpenState::open);
  }

  RecordingSender sender;
  VmbusClient client{sender};
};

// ---------------------------------------------------------------------------
// Version negotiation

TEST(VmbusClientVersion, FirstContactAsksForTheNewestVersionWithTheMessageSint) {
  RecordingSender sender;
  VmbusClient client(sender);
  ASSERT_EQ(client.start_connect(), ControlError::none);
  ASSERT_EQ(sender.sent.size(), 1u);
  ASSERT_EQ(sender.type(0), ChannelMessageType::initiate_contact);
  const auto contact = sender.message<wire::InitiateContact>(0);
  EXPECT_EQ(contact.vmbus_version_requested, VmbusVersion::win10_v6_0);
  EXPECT_EQ(contact.target.msg_sint, wire::kVmbusMessageSint);
  EXPECT_EQ(contact.target.feature_flags, 0u);
  EXPECT_EQ(client.state(), ConnectionState::contacting);
  EXPECT_FALSE(client.version());
}

TEST(VmbusClientVersion, FallsBackNewestFirstThroughEveryListedVersion) {
  RecordingSender sender;
  VmbusClient client(sender);
  ASSERT_EQ(client.start_connect(), ControlError::none);
  for (std::size_t i = 1; i < kDefaultVmbusVersions.size(); ++i) {
    ASSERT_EQ(client.on_message(version_response(false)), ControlError::none);
    ASSERT_EQ(sender.sent.size(), i + 1);
    EXPECT_EQ(sender.message<wire::InitiateContact>(i).vmbus_version_requested,
              kDefaultVmbusVersions[i]);
  }
  // Protocols before 5.0 carry the interrupt page GPA (none) instead.
  EXPECT_EQ(sender.message<wire::InitiateContact>(kDefaultVmbusVersions.size() - 1).interrupt_page, 0u);
  ASSERT_EQ(client.on_message(version_response(false)), ControlError::none);
  EXPECT_EQ(client.state(), ConnectionState::failed);
  EXPECT_EQ(client.failure(), ControlError::no_common_version);
  EXPECT_EQ(client.stats().versions_tried, kDefaultVmbusVersions.size());
  // A failed negotiation may be retried from the top.
  EXPECT_EQ(client.start_connect(), ControlError::none);
  EXPECT_EQ(sender.message<wire::InitiateContact>(sender.sent.size() - 1).vmbus_version_requested,
            VmbusVersion::win10_v6_0);
}

TEST(VmbusClientVersion, AcceptingAnOlderVersionUsesConnectionOneBeforeFivePointZero) {
  RecordingSender sender;
  VmbusClient client(sender);
  ASSERT_EQ(client.start_connect(), ControlError::none);
  while (sender.message<wire::InitiateContact>(sender.sent.size() - 1).vmbus_version_requested !=
         VmbusVersion::win8_1) {
    ASSERT_EQ(client.on_message(version_response(false)), ControlError::none);
  }
  ASSERT_EQ(client.on_message(version_response(true)), ControlError::none);
  EXPECT_EQ(client.state(), ConnectionState::connected);
  EXPECT_EQ(client.version(), VmbusVersion::win8_1);
  EXPECT_EQ(client.message_connection_id(), wire::kVmbusMessageConnectionId);
}

TEST(VmbusClientVersion, FromFivePointZeroTheResponseNamesTheMessageConnection) {
  RecordingSender sender;
  VmbusClient client(sender);
  ASSERT_EQ(client.start_connect(), ControlError::none);
  ASSERT_EQ(client.on_message(version_response(true)), ControlError::none);
  EXPECT_EQ(client.version(), VmbusVersion::win10_v6_0);
  EXPECT_EQ(client.message_connection_id(), wire::kVmbusMessageConnectionId4);
}

TEST(VmbusClientVersion, ARefusedConnectionStateFailsTheConnect) {
  RecordingSender sender;
  VmbusClient client(sender);
  ASSERT_EQ(client.start_connect(), ControlError::none);
  auto response = wire::make_channel_message<wire::VersionResponse>();
  response.version_supported = 1;
  response.connection_state = wire::ConnectionState::failed_low_resources;
  ASSERT_EQ(client.on_message(bytes_of(response)), ControlError::none);
  EXPECT_EQ(client.state(), ConnectionState::failed);
  EXPECT_EQ(client.failure(), ControlError::host_refused);
}

TEST(VmbusClientVersion, AVersionResponseNobodyAskedForIsRejected) {
  RecordingSender sender;
  VmbusClient client(sender);
  EXPECT_EQ(client.on_message(version_response(true)), ControlError::unexpected_message);
  connect_client(client);
  EXPECT_EQ(client.on_message(version_response(true)), ControlError::unexpected_message);
  EXPECT_EQ(rejected(client, ControlError::unexpected_message), 2u);
  EXPECT_EQ(client.state(), ConnectionState::connected);
}

TEST(VmbusClientVersion, ACustomListIsTriedInItsOrder) {
  RecordingSender sender;
  const std::array versions = {VmbusVersion::win8, VmbusVersion::win7};
  VmbusClient client(sender, ClientOptions{.versions = versions});
  ASSERT_EQ(client.start_connect(), ControlError::none);
  EXPECT_EQ(sender.message<wire::InitiateContact>(0).vmbus_version_requested, VmbusVersion::win8);
}

TEST(VmbusClientVersion, ChannelMessagesBeforeTheConnectionAreRejected) {
  RecordingSender sender;
  VmbusClient client(sender);
  ASSERT_EQ(client.start_connect(), ControlError::none);
  EXPECT_EQ(client.on_message(bytes_of(offer_message(1, kInstanceA))), ControlError::unexpected_message);
  EXPECT_EQ(client.on_message(bytes_of(wire::make_channel_message<wire::AllOffersDelivered>())),
            ControlError::unexpected_message);
  EXPECT_EQ(client.on_message(bytes_of(wire::make_channel_message<wire::GpadlCreated>())),
            ControlError::unexpected_message);
  EXPECT_EQ(client.state(), ConnectionState::contacting);
}

// ---------------------------------------------------------------------------
// Offers

TEST(VmbusClientOffers, OffersBeforeRequestOffersAreRejected) {
  RecordingSender sender;
  VmbusClient client(sender);
  ASSERT_EQ(client.start_connect(), ControlError::none);
  ASSERT_EQ(client.on_message(version_response(true)), ControlError::none);
  EXPECT_EQ(client.on_message(bytes_of(offer_message(1, kInstanceA))), ControlError::unexpected_message);
  ASSERT_EQ(client.request_offers(), ControlError::none);
  EXPECT_EQ(sender.type(sender.sent.size() - 1), ChannelMessageType::requestoffers);
  EXPECT_EQ(client.request_offers(), ControlError::invalid_state);
}

TEST_F(ConnectedClient, AnOfferIsDecodedAndAnnounced) {
  auto message = offer_message(5, kInstanceA);
  message.monitor_allocated = wire::kOfferMonitorAllocated;
  message.monitorid = 127;
  message.is_dedicated_interrupt = 1;
  message.chn_flags = wire::kVmbusChannelEnumerateDeviceInterface;
  message.user_def[0] = 0x77;
  ASSERT_EQ(client.on_message(bytes_of(message)), ControlError::none);
  const Offer* offer = client.offer(5);
  ASSERT_NE(offer, nullptr);
  EXPECT_EQ(offer->class_id, wire::kHvNicGuid);
  EXPECT_EQ(offer->instance_id, kInstanceA);
  EXPECT_EQ(offer->monitor_id, 127);
  EXPECT_TRUE(offer->dedicated_interrupt);
  EXPECT_EQ(offer->connection_id, 5u);
  EXPECT_EQ(offer->flags, wire::kVmbusChannelEnumerateDeviceInterface);
  EXPECT_EQ(offer->user_defined[0], 0x77);
  const std::optional<ClientEvent> event = client.next_event();
  ASSERT_TRUE(event);
  EXPECT_EQ(event->type, ClientEventType::offer);
  EXPECT_EQ(event->relid, 5u);
  EXPECT_FALSE(client.next_event());
  EXPECT_EQ(client.stats().offers_accepted, 1u);
}

TEST_F(ConnectedClient, OffersWithBadFieldsAreRejectedWithTheirReason) {
  struct Case {
    wire::OfferChannel message;
    OfferError cause;
  };
  std::vector<Case> cases;
  cases.push_back({offer_message(0, kInstanceA), OfferError::relid_out_of_range});
  cases.push_back({offer_message(kMaxRelid + 1, kInstanceA), OfferError::relid_out_of_range});
  cases.push_back({offer_message(0xFFFFFFFF, kInstanceA), OfferError::relid_out_of_range});
  auto null_class = offer_message(3, kInstanceA);
  null_class.if_type = wire::Guid{};
  cases.push_back({null_class, OfferError::null_class});
  cases.push_back({offer_message(3, wire::Guid{}), OfferError::null_instance});
  auto bad_monitor = offer_message(3, kInstanceA);
  bad_monitor.monitor_allocated = 1;
  bad_monitor.monitorid = 128;
  cases.push_back({bad_monitor, OfferError::monitor_id_out_of_range});
  for (const uint16_t flag : {wire::kVmbusChannelConfidentialRingBuffer,
                              wire::kVmbusChannelConfidentialExternalMemory}) {
    auto confidential = offer_message(3, kInstanceA);
    confidential.chn_flags = flag;
    cases.push_back({confidential, OfferError::confidential});
  }
  cases.push_back({offer_message(4, kInstanceB, 1), OfferError::orphan_subchannel});
  for (const Case& test_case : cases) {
    EXPECT_EQ(client.on_message(bytes_of(test_case.message)), ControlError::offer_rejected);
    EXPECT_GE(offers_rejected(client, test_case.cause), 1u) << to_string(test_case.cause);
  }
  EXPECT_EQ(rejected(client, ControlError::offer_rejected), cases.size());
  EXPECT_TRUE(client.offers().empty());
  EXPECT_FALSE(client.next_event());
}

TEST_F(ConnectedClient, OffersThatClashWithOthersAreRejected) {
  offer(10, kInstanceA);
  offer(11, kInstanceA, 1);
  EXPECT_EQ(client.on_message(bytes_of(offer_message(10, kInstanceB))), ControlError::offer_rejected);
  EXPECT_EQ(offers_rejected(client, OfferError::duplicate_relid), 1u);
  EXPECT_EQ(client.on_message(bytes_of(offer_message(12, kInstanceA))), ControlError::offer_rejected);
  EXPECT_EQ(offers_rejected(client, OfferError::duplicate_instance), 1u);
  EXPECT_EQ(client.on_message(bytes_of(offer_message(13, kInstanceA, 1))), ControlError::offer_rejected);
  EXPECT_EQ(offers_rejected(client, OfferError::duplicate_subchannel), 1u);
  // A sub-channel must share the primary's class too.
  auto other_class = offer_message(14, kInstanceA, 2);
  other_class.if_type = wire::kHvScsiGuid;
  EXPECT_EQ(client.on_message(bytes_of(other_class)), ControlError::offer_rejected);
  EXPECT_EQ(offers_rejected(client, OfferError::orphan_subchannel), 1u);
  EXPECT_EQ(client.offers().size(), 2u);
}

TEST(VmbusClientOffersOldVersions, BeforeWin7SignalsGoToConnectionTwoAndBeforeWin8ThereAreNoSubChannels) {
  RecordingSender sender;
  const std::array versions = {VmbusVersion::ws2008};
  VmbusClient client(sender, ClientOptions{.versions = versions});
  connect_client(client);
  ASSERT_EQ(client.version(), VmbusVersion::ws2008);
  ASSERT_EQ(client.on_message(bytes_of(offer_message(3, kInstanceA, 5))), ControlError::none);
  EXPECT_EQ(client.offer(3)->connection_id, wire::kVmbusEventConnectionId);
  EXPECT_EQ(client.offer(3)->subchannel_index, 0);
}

TEST_F(ConnectedClient, AllOffersDeliveredComesOnce) {
  ASSERT_EQ(client.on_message(bytes_of(wire::make_channel_message<wire::AllOffersDelivered>())),
            ControlError::none);
  EXPECT_TRUE(client.offers_delivered());
  EXPECT_EQ(client.on_message(bytes_of(wire::make_channel_message<wire::AllOffersDelivered>())),
            ControlError::unexpected_message);
}

TEST_F(ConnectedClient, EventsBeyondTheQueueBoundAreCountedNotStored) {
  for (std::size_t i = 0; i < VmbusClient::kMaxQueuedEvents / 2 + 10; ++i) {
    offer(20, kInstanceA);
    auto rescind = wire::make_channel_message<wire::RescindChannelOffer>();
    rescind.child_relid = 20;
    ASSERT_EQ(client.on_message(bytes_of(rescind)), ControlError::none);
    ASSERT_EQ(client.release_relid(20), ControlError::none);
  }
  EXPECT_EQ(client.stats().events_dropped, 20u);
  std::size_t events = 0;
  while (client.next_event()) {
    ++events;
  }
  EXPECT_EQ(events, VmbusClient::kMaxQueuedEvents);
}

// ---------------------------------------------------------------------------
// GPADLs

// Messages a GPADL of `pages` pages takes: a header with up to 26 PFNs, then
// bodies of up to 28.
std::size_t expected_messages(uint32_t pages) {
  return pages <= 26 ? 1 : 1 + (pages - 26 + 27) / 28;
}

TEST_F(ConnectedClient, GpadlsSplitIntoAHeaderAndBodiesWithEveryPfnInOrder) {
  offer(7);
  for (const uint32_t pages : {1u, 25u, 26u, 27u, 54u, 55u, 200u, kMaxGpadlPages}) {
    sender.sent.clear();
    constexpr uint64_t kFirstPfn = 0x123450;
    const Expected<uint32_t, ControlError> handle = client.start_create_gpadl(7, kFirstPfn, pages);
    ASSERT_TRUE(handle) << pages;
    ASSERT_EQ(sender.sent.size(), expected_messages(pages)) << pages;
    const auto header = sender.message<wire::GpadlHeader>(0);
    EXPECT_EQ(header.child_relid, 7u);
    EXPECT_EQ(header.gpadl, *handle);
    EXPECT_EQ(header.rangecount, 1);
    EXPECT_EQ(header.range_buflen, 8 + 8 * pages);
    const auto range = wire::load<wire::GpaRange>(sender.sent[0], sizeof(wire::GpadlHeader));
    EXPECT_EQ(range.byte_offset, 0u);
    EXPECT_EQ(range.byte_count, pages * wire::kHvPageSize);
    std::vector<uint64_t> pfns;
    for (std::size_t i = 0; i < sender.sent.size(); ++i) {
      const std::vector<std::byte>& message = sender.sent[i];
      ASSERT_LE(message.size(), wire::kMaxChannelMessageSize);
      std::size_t at = sizeof(wire::GpadlHeader) + sizeof(wire::GpaRange);
      if (i > 0) {
        ASSERT_EQ(sender.type(i), ChannelMessageType::gpadl_body);
        EXPECT_EQ(sender.message<wire::GpadlBody>(i).gpadl, *handle);
        at = sizeof(wire::GpadlBody);
      }
      ASSERT_EQ((message.size() - at) % 8, 0u);
      for (; at < message.size(); at += 8) {
        pfns.push_back(wire::load<uint64_t>(message, at));
      }
    }
    ASSERT_EQ(pfns.size(), pages);
    for (uint32_t i = 0; i < pages; ++i) {
      ASSERT_EQ(pfns[i], kFirstPfn + i);
    }
    EXPECT_EQ(client.gpadl_status(*handle).state, GpadlState::creating);
  }
}

TEST_F(ConnectedClient, GpadlRequestsOutsideTheLimitsAreRefused) {
  offer(7);
  EXPECT_EQ(client.start_create_gpadl(7, 1, 0).error(), ControlError::invalid_argument);
  EXPECT_EQ(client.start_create_gpadl(7, 1, kMaxGpadlPages + 1).error(), ControlError::invalid_argument);
  EXPECT_EQ(client.start_create_gpadl(7, uint64_t{1} << 40, 1).error(), ControlError::invalid_argument);
  EXPECT_EQ(client.start_create_gpadl(8, 1, 1).error(), ControlError::invalid_argument);
  EXPECT_TRUE(sender.sent.empty());
}

TEST_F(ConnectedClient, HandlesAreUniqueAndStartAtTheLinuxBase) {
  offer(7);
  const uint32_t first = *client.start_create_gpadl(7, 1, 1);
  const uint32_t second = *client.start_create_gpadl(7, 2, 1);
  EXPECT_EQ(first, kFirstGpadlHandle);
  EXPECT_NE(first, second);
}

TEST_F(ConnectedClient, GpadlCreatedMustMatchHandleAndRelid) {
  offer(7);
  offer(8, kInstanceB);
  const uint32_t handle = *client.start_create_gpadl(7, 1, 1);
  auto reply = wire::make_channel_message<wire::GpadlCreated>();
  reply.child_relid = 7;
  reply.gpadl = handle + 100;
  EXPECT_EQ(client.on_message(bytes_of(reply)), ControlError::unknown_gpadl);
  reply.gpadl = handle;
  reply.child_relid = 8;
  EXPECT_EQ(client.on_message(bytes_of(reply)), ControlError::mismatched_reply);
  EXPECT_EQ(client.gpadl_status(handle).state, GpadlState::creating);
  reply.child_relid = 7;
  EXPECT_EQ(client.on_message(bytes_of(reply)), ControlError::none);
  EXPECT_EQ(client.gpadl_status(handle).state, GpadlState::created);
  // A second answer to the same request is a duplicate.
  EXPECT_EQ(client.on_message(bytes_of(reply)), ControlError::unknown_gpadl);
  EXPECT_EQ(rejected(client, ControlError::unknown_gpadl), 2u);
  EXPECT_EQ(rejected(client, ControlError::mismatched_reply), 1u);
}

TEST_F(ConnectedClient, ARefusedGpadlCarriesTheHostStatus) {
  offer(7);
  const uint32_t handle = *client.start_create_gpadl(7, 1, 1);
  auto reply = wire::make_channel_message<wire::GpadlCreated>();
  reply.child_relid = 7;
  reply.gpadl = handle;
  reply.creation_status = 0x8000FFFF;
  ASSERT_EQ(client.on_message(bytes_of(reply)), ControlError::none);
  const GpadlStatus status = client.gpadl_status(handle);
  EXPECT_EQ(status.state, GpadlState::failed);
  EXPECT_EQ(status.error, ControlError::host_refused);
  EXPECT_EQ(status.host_status, 0x8000FFFFu);
  client.forget_gpadl(handle);
  EXPECT_EQ(client.gpadl_status(handle).state, GpadlState::none);
}

TEST_F(ConnectedClient, TeardownWaitsForTorndown) {
  offer(7);
  const uint32_t handle = created_gpadl(7);
  sender.sent.clear();
  auto torndown = wire::make_channel_message<wire::GpadlTorndown>();
  torndown.gpadl = handle;
  EXPECT_EQ(client.on_message(bytes_of(torndown)), ControlError::unknown_gpadl);
  ASSERT_EQ(client.start_teardown_gpadl(handle), ControlError::none);
  ASSERT_EQ(sender.type(0), ChannelMessageType::gpadl_teardown);
  EXPECT_EQ(sender.message<wire::GpadlTeardown>(0).gpadl, handle);
  EXPECT_EQ(sender.message<wire::GpadlTeardown>(0).child_relid, 7u);
  EXPECT_EQ(client.gpadl_status(handle).state, GpadlState::tearing_down);
  EXPECT_EQ(client.on_message(bytes_of(torndown)), ControlError::none);
  EXPECT_EQ(client.gpadl_status(handle).state, GpadlState::none);
  EXPECT_EQ(client.on_message(bytes_of(torndown)), ControlError::unknown_gpadl);
}

// ---------------------------------------------------------------------------
// Open and close

TEST_F(ConnectedClient, OpenSendsTheRingGpadlAndPageOffset) {
  offer(7);
  const uint32_t gpadl = created_gpadl(7);
  sender.sent.clear();
  OpenRequest request{.relid = 7, .ring_gpadl = gpadl, .downstream_page_offset = 3, .target_vp = 1};
  request.user_data[0] = 0x42;
  ASSERT_EQ(client.start_open(request), ControlError::none);
  const auto open = sender.message<wire::OpenChannel>(0);
  EXPECT_EQ(open.child_relid, 7u);
  EXPECT_EQ(open.openid, 7u);
  EXPECT_EQ(open.ringbuffer_gpadlhandle, gpadl);
  EXPECT_EQ(open.downstream_ringbuffer_pageoffset, 3u);
  EXPECT_EQ(open.target_vp, 1u);
  EXPECT_EQ(open.userdata[0], 0x42);
  EXPECT_EQ(client.open_status(7).state, OpenState::opening);
  EXPECT_EQ(client.start_open(request), ControlError::invalid_state);
}

TEST_F(ConnectedClient, OpenNeedsACreatedGpadlOfTheSameChannel) {
  offer(7);
  offer(8, kInstanceB);
  const uint32_t other = created_gpadl(8);
  EXPECT_EQ(client.start_open({.relid = 7, .ring_gpadl = other, .downstream_page_offset = 2}),
            ControlError::invalid_argument);
  const uint32_t pending = *client.start_create_gpadl(7, 1, 4);
  EXPECT_EQ(client.start_open({.relid = 7, .ring_gpadl = pending, .downstream_page_offset = 2}),
            ControlError::invalid_argument);
  const uint32_t own = created_gpadl(7);
  EXPECT_EQ(client.start_open({.relid = 7, .ring_gpadl = own, .downstream_page_offset = 0}),
            ControlError::invalid_argument);
}

TEST_F(ConnectedClient, OpenResultsMustMatchARequest) {
  offer(7);
  auto reply = wire::make_channel_message<wire::OpenChannelResult>();
  reply.child_relid = 7;
  reply.openid = 7;
  EXPECT_EQ(client.on_message(bytes_of(reply)), ControlError::unexpected_message);
  reply.child_relid = 99;
  EXPECT_EQ(client.on_message(bytes_of(reply)), ControlError::unknown_relid);
  const uint32_t gpadl = created_gpadl(7);
  ASSERT_EQ(client.start_open({.relid = 7, .ring_gpadl = gpadl, .downstream_page_offset = 2}),
            ControlError::none);
  reply.child_relid = 7;
  reply.openid = 8;
  EXPECT_EQ(client.on_message(bytes_of(reply)), ControlError::mismatched_reply);
  EXPECT_EQ(client.open_status(7).state, OpenState::opening);
  reply.openid = 7;
  reply.status = 0xC0000001;
  ASSERT_EQ(client.on_message(bytes_of(reply)), ControlError::none);
  EXPECT_EQ(client.open_status(7).state, OpenState::failed);
  EXPECT_EQ(client.open_status(7).error, ControlError::host_refused);
  EXPECT_EQ(client.open_status(7).host_status, 0xC0000001u);
}

TEST_F(ConnectedClient, CloseSendsCloseChannelOnlyForAnOpenChannel) {
  offer(7);
  ASSERT_EQ(client.close_channel(7), ControlError::none);
  EXPECT_TRUE(sender.sent.empty());
  open(7, created_gpadl(7));
  sender.sent.clear();
  ASSERT_EQ(client.close_channel(7), ControlError::none);
  ASSERT_EQ(sender.sent.size(), 1u);
  EXPECT_EQ(sender.type(0), ChannelMessageType::closechannel);
  EXPECT_EQ(sender.message<wire::CloseChannel>(0).child_relid, 7u);
  EXPECT_EQ(client.open_status(7).state, OpenState::closed);
  EXPECT_EQ(client.close_channel(99), ControlError::invalid_argument);
}

// ---------------------------------------------------------------------------
// ModifyChannel

wire::ModifyChannelResponse modify_response(uint32_t relid, uint32_t status) {
  auto message = wire::make_channel_message<wire::ModifyChannelResponse>();
  message.child_relid = relid;
  message.status = status;
  return message;
}

TEST_F(ConnectedClient, ModifyChannelWaitsForTheAcknowledgementFromFivePointThreeOn) {
  offer(7);
  EXPECT_EQ(client.start_modify(7, 1), ControlError::invalid_state);  // not open
  open(7, created_gpadl(7));
  sender.sent.clear();
  ASSERT_EQ(client.start_modify(7, 3), ControlError::none);
  ASSERT_EQ(sender.sent.size(), 1u);
  EXPECT_EQ(sender.type(0), ChannelMessageType::modifychannel);
  EXPECT_EQ(sender.message<wire::ModifyChannel>(0).child_relid, 7u);
  EXPECT_EQ(sender.message<wire::ModifyChannel>(0).target_vp, 3u);
  EXPECT_EQ(client.modify_status(7).state, ModifyState::pending);
  EXPECT_EQ(client.start_modify(7, 4), ControlError::invalid_state);  // one at a time
  // A response for another channel does not complete it.
  EXPECT_EQ(client.on_message(bytes_of(modify_response(99, 0))), ControlError::unknown_relid);
  ASSERT_EQ(client.on_message(bytes_of(modify_response(7, 0))), ControlError::none);
  EXPECT_EQ(client.modify_status(7).state, ModifyState::applied);
  EXPECT_EQ(client.modify_status(7).target_vp, 3u);
  // A second response answers nothing.
  EXPECT_EQ(client.on_message(bytes_of(modify_response(7, 0))), ControlError::unexpected_message);
  EXPECT_EQ(rejected(client, ControlError::unexpected_message), 1u);
}

TEST_F(ConnectedClient, ARefusedModifyCarriesTheHostStatus) {
  offer(7);
  open(7, created_gpadl(7));
  ASSERT_EQ(client.start_modify(7, 9), ControlError::none);
  ASSERT_EQ(client.on_message(bytes_of(modify_response(7, 0xC0000001))), ControlError::none);
  const ModifyStatus status = client.modify_status(7);
  EXPECT_EQ(status.state, ModifyState::failed);
  EXPECT_EQ(status.error, ControlError::host_refused);
  EXPECT_EQ(status.host_status, 0xC0000001u);
  // Closing forgets it; a response after the close is unexpected.
  ASSERT_EQ(client.start_modify(7, 1), ControlError::none);
  ASSERT_EQ(client.close_channel(7), ControlError::none);
  EXPECT_EQ(client.modify_status(7).state, ModifyState::none);
  EXPECT_EQ(client.on_message(bytes_of(modify_response(7, 0))), ControlError::unexpected_message);
}

TEST_F(ConnectedClient, RescindAndHostGoneFailAPendingModify) {
  offer(7);
  open(7, created_gpadl(7));
  offer(8, kInstanceB);
  open(8, created_gpadl(8));
  ASSERT_EQ(client.start_modify(7, 1), ControlError::none);
  ASSERT_EQ(client.start_modify(8, 1), ControlError::none);
  auto rescind = wire::make_channel_message<wire::RescindChannelOffer>();
  rescind.child_relid = 7;
  ASSERT_EQ(client.on_message(bytes_of(rescind)), ControlError::none);
  EXPECT_EQ(client.modify_status(7).state, ModifyState::failed);
  EXPECT_EQ(client.modify_status(7).error, ControlError::rescinded);
  EXPECT_EQ(client.start_modify(7, 2), ControlError::rescinded);
  client.on_host_gone();
  EXPECT_EQ(client.modify_status(8).state, ModifyState::failed);
  EXPECT_EQ(client.modify_status(8).error, ControlError::host_gone);
}

// Connects `client` at exactly `version`, then offers and opens relid 7.
void open_at_version(VmbusClient& client, RecordingSender& sender) {
  connect_client(client);
  ASSERT_EQ(client.on_message(bytes_of(offer_message(7, kInstanceA))), ControlError::none);
  const Expected<uint32_t, ControlError> gpadl = client.start_create_gpadl(7, 0x100000, 4);
  ASSERT_TRUE(gpadl);
  auto created = wire::make_channel_message<wire::GpadlCreated>();
  created.child_relid = 7;
  created.gpadl = *gpadl;
  ASSERT_EQ(client.on_message(bytes_of(created)), ControlError::none);
  ASSERT_EQ(client.start_open({.relid = 7, .ring_gpadl = *gpadl, .downstream_page_offset = 2}),
            ControlError::none);
  auto result = wire::make_channel_message<wire::OpenChannelResult>();
  result.child_relid = 7;
  result.openid = 7;
  ASSERT_EQ(client.on_message(bytes_of(result)), ControlError::none);
  sender.sent.clear();
}

TEST(VmbusClientModifyOldVersions, BeforeFivePointThreeAModifyIsAppliedOnceSent) {
  static constexpr std::array versions = {VmbusVersion::win10_v5_2};
  RecordingSender sender;
  VmbusClient client(sender, {.versions = versions});
  open_at_version(client, sender);
  ASSERT_EQ(client.start_modify(7, 5), ControlError::none);
  EXPECT_EQ(sender.type(0), ChannelMessageType::modifychannel);
  EXPECT_EQ(client.modify_status(7).state, ModifyState::applied);
  EXPECT_EQ(client.on_message(bytes_of(modify_response(7, 0))), ControlError::unexpected_message);
}

TEST(VmbusClientModifyOldVersions, BeforeFourPointOneThereIsNoModifyChannel) {
  static constexpr std::array versions = {VmbusVersion::win10};
  RecordingSender sender;
  VmbusClient client(sender, {.versions = versions});
  open_at_version(client, sender);
  EXPECT_EQ(client.start_modify(7, 5), ControlError::invalid_state);
  EXPECT_TRUE(sender.sent.empty());
}

// ---------------------------------------------------------------------------
// Rescind, EOF, unload

TEST_F(ConnectedClient, RescindFailsPendingRequestsAndSilencesTheChannel) {
  offer(7);
  const uint32_t ring_gpadl = created_gpadl(7);
  const uint32_t pending_gpadl = *client.start_create_gpadl(7, 50, 2);
  ASSERT_EQ(client.start_open({.relid = 7, .ring_gpadl = ring_gpadl, .downstream_page_offset = 2}),
            ControlError::none);
  sender.sent.clear();
  auto rescind = wire::make_channel_message<wire::RescindChannelOffer>();
  rescind.child_relid = 7;
  ASSERT_EQ(client.on_message(bytes_of(rescind)), ControlError::none);
  EXPECT_TRUE(client.rescinded(7));
  EXPECT_EQ(client.open_status(7).error, ControlError::rescinded);
  EXPECT_EQ(client.gpadl_status(pending_gpadl).error, ControlError::rescinded);
  EXPECT_TRUE(client.offers().empty());
  // The host answers nothing more about the channel: nothing is sent.
  EXPECT_EQ(client.start_teardown_gpadl(ring_gpadl), ControlError::none);
  EXPECT_EQ(client.gpadl_status(ring_gpadl).state, GpadlState::none);
  EXPECT_EQ(client.close_channel(7), ControlError::none);
  EXPECT_EQ(client.start_create_gpadl(7, 1, 1).error(), ControlError::rescinded);
  EXPECT_TRUE(sender.sent.empty());
  // Rescinding again, or an unknown relid, is rejected.
  EXPECT_EQ(client.on_message(bytes_of(rescind)), ControlError::unexpected_message);
  rescind.child_relid = 99;
  EXPECT_EQ(client.on_message(bytes_of(rescind)), ControlError::unknown_relid);
  // Releasing frees the relid for a new offer.
  ASSERT_EQ(client.release_relid(7), ControlError::none);
  ASSERT_EQ(sender.sent.size(), 1u);
  EXPECT_EQ(sender.type(0), ChannelMessageType::relid_released);
  EXPECT_EQ(client.offer(7), nullptr);
  offer(7, kInstanceB);
}

TEST_F(ConnectedClient, ReleasingAChannelThatWasNotRescindedIsRefused) {
  offer(7);
  EXPECT_EQ(client.release_relid(7), ControlError::invalid_state);
  EXPECT_EQ(client.release_relid(8), ControlError::invalid_argument);
}

TEST_F(ConnectedClient, HostGoneFailsEverythingPending) {
  offer(7);
  const uint32_t ring_gpadl = created_gpadl(7);
  const uint32_t pending_gpadl = *client.start_create_gpadl(7, 50, 2);
  ASSERT_EQ(client.start_open({.relid = 7, .ring_gpadl = ring_gpadl, .downstream_page_offset = 2}),
            ControlError::none);
  client.on_host_gone();
  EXPECT_EQ(client.state(), ConnectionState::host_gone);
  EXPECT_EQ(client.open_status(7).error, ControlError::host_gone);
  EXPECT_EQ(client.gpadl_status(pending_gpadl).error, ControlError::host_gone);
  sender.sent.clear();
  EXPECT_EQ(client.start_teardown_gpadl(ring_gpadl), ControlError::none);
  EXPECT_TRUE(sender.sent.empty());
  EXPECT_EQ(client.start_create_gpadl(7, 1, 1).error(), ControlError::invalid_state);
  EXPECT_EQ(client.on_message(bytes_of(offer_message(8, kInstanceB))), ControlError::unexpected_message);
}

TEST_F(ConnectedClient, ATransportAtEofMeansTheHostIsGone) {
  offer(7);
  sender.status = TransportStatus::closed;
  EXPECT_EQ(client.start_create_gpadl(7, 1, 1).error(), ControlError::host_gone);
  EXPECT_EQ(client.state(), ConnectionState::host_gone);
}

TEST_F(ConnectedClient, ATransportThatCannotSendFailsTheRequestOnly) {
  offer(7);
  sender.status = TransportStatus::busy;
  const Expected<uint32_t, ControlError> handle = client.start_create_gpadl(7, 1, 100);
  ASSERT_FALSE(handle);
  EXPECT_EQ(handle.error(), ControlError::transport_failed);
  EXPECT_EQ(client.state(), ConnectionState::connected);
  sender.status = TransportStatus::ok;
  EXPECT_TRUE(client.start_create_gpadl(7, 1, 100));
}

TEST_F(ConnectedClient, UnloadWaitsForUnloadResponse) {
  const auto response = bytes_of(wire::make_channel_message<wire::UnloadResponse>());
  EXPECT_EQ(client.on_message(response), ControlError::unexpected_message);
  ASSERT_EQ(client.start_unload(), ControlError::none);
  EXPECT_EQ(sender.type(0), ChannelMessageType::unload);
  EXPECT_EQ(client.state(), ConnectionState::unloading);
  ASSERT_EQ(client.on_message(response), ControlError::none);
  EXPECT_EQ(client.state(), ConnectionState::unloaded);
  EXPECT_EQ(client.on_message(response), ControlError::unexpected_message);
}

TEST_F(ConnectedClient, MalformedMessagesAreCountedByCause) {
  std::vector<std::byte> truncated = bytes_of(offer_message(7, kInstanceA));
  truncated.resize(100);
  EXPECT_EQ(client.on_message(truncated), ControlError::message_truncated);
  EXPECT_EQ(client.on_message({}), ControlError::message_truncated);
  std::vector<std::byte> oversized(241);
  EXPECT_EQ(client.on_message(oversized), ControlError::message_oversized);
  client.on_oversized_message();
  auto unknown = wire::make_channel_message<wire::AllOffersDelivered>();
  unknown.header.msgtype = static_cast<ChannelMessageType>(77);
  EXPECT_EQ(client.on_message(bytes_of(unknown)), ControlError::unknown_message_type);
  EXPECT_EQ(rejected(client, ControlError::message_truncated), 2u);
  EXPECT_EQ(rejected(client, ControlError::message_oversized), 2u);
  EXPECT_EQ(rejected(client, ControlError::unknown_message_type), 1u);
  EXPECT_EQ(client.stats().messages_rejected, 5u);
  EXPECT_EQ(client.state(), ConnectionState::connected);
}

}  // namespace
}  // namespace uvmbus::channel::test
