// Guest end of an IC channel: negotiation, request hand-off, replies.
#include "uvmbus/ic/guest_endpoint.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "ic_packets.h"

namespace uvmbus::ic {
namespace {

using testing::header_of;
using testing::make_packet;
using testing::negotiate_body;

constexpr std::array<wire::IcVersion, 2> kHeartbeatVersions{{{3, 0}, {1, 0}}};

class GuestEndpointTest : public ::testing::Test {
 protected:
  GuestEndpoint endpoint_{wire::IcMessageType::heartbeat,
                          {kGuestFrameworkVersions, kHeartbeatVersions}};

  void negotiate() {
    auto packet = make_packet(wire::IcMessageType::negotiate,
                              negotiate_body({{1, 0}, {3, 0}}, {{1, 0}, {3, 0}}));
    const GuestEvent event = endpoint_.on_packet(packet);
    ASSERT_EQ(event.action, GuestAction::send_reply);
    ASSERT_EQ(event.error, IcError::none);
  }

  static std::vector<std::byte> heartbeat(uint8_t transaction_id = 0) {
    return make_packet(wire::IcMessageType::heartbeat, std::vector<std::byte>(40), 0x03,
                       transaction_id);
  }
};

TEST_F(GuestEndpointTest, NegotiatesThenHandsOutServiceRequests) {
  EXPECT_EQ(endpoint_.versions(), std::nullopt);
  negotiate();
  EXPECT_EQ(endpoint_.versions(), (NegotiatedVersions{{3, 0}, {3, 0}}));

  auto packet = heartbeat();
  const GuestEvent event = endpoint_.on_packet(packet);
  ASSERT_EQ(event.action, GuestAction::handle_request);
  EXPECT_EQ(event.error, IcError::none);
  EXPECT_EQ(event.header.message_size, 40);
  EXPECT_EQ(event.body.data(), packet.data() + wire::kIcBodyOffset);
  EXPECT_EQ(event.body.size(), packet.size() - wire::kIcBodyOffset);
  EXPECT_TRUE(endpoint_.request_pending());
}

TEST_F(GuestEndpointTest, CompleteWritesTheStatusEchoesTheTransactionAndKeepsTheLength) {
  negotiate();
  auto packet = heartbeat(0x42);
  const auto length = packet.size();
  ASSERT_EQ(endpoint_.on_packet(packet).action, GuestAction::handle_request);
  ASSERT_EQ(endpoint_.complete(packet, wire::HvStatus::ok), IcError::none);
  EXPECT_FALSE(endpoint_.request_pending());
  EXPECT_EQ(packet.size(), length);
  const auto header = header_of(packet);
  EXPECT_EQ(header.flags, 0x05);
  EXPECT_EQ(header.status, 0u);
  EXPECT_EQ(header.transaction_id, 0x42);
  EXPECT_EQ(header.message_size, 40);
}

TEST_F(GuestEndpointTest, RefusesANewPacketWhileARequestIsPending) {
  negotiate();
  auto first = heartbeat(1);
  auto second = heartbeat(2);
  ASSERT_EQ(endpoint_.on_packet(first).action, GuestAction::handle_request);
  const GuestEvent event = endpoint_.on_packet(second);
  EXPECT_EQ(event.action, GuestAction::drop);
  EXPECT_EQ(event.error, IcError::transaction_pending);
  EXPECT_EQ(header_of(second).flags, 0x03);  // untouched
  ASSERT_EQ(endpoint_.complete(first, wire::HvStatus::ok), IcError::none);
  EXPECT_EQ(endpoint_.on_packet(second).action, GuestAction::handle_request);
}

TEST_F(GuestEndpointTest, CompleteRefusesAnotherBufferOrNoPendingRequest) {
  negotiate();
  auto packet = heartbeat();
  EXPECT_EQ(endpoint_.complete(packet, wire::HvStatus::ok), IcError::no_transaction);
  ASSERT_EQ(endpoint_.on_packet(packet).action, GuestAction::handle_request);
  auto other = heartbeat();
  EXPECT_EQ(endpoint_.complete(other, wire::HvStatus::ok), IcError::wrong_buffer);
  EXPECT_EQ(endpoint_.complete(std::span(packet).first(packet.size() - 8), wire::HvStatus::ok),
            IcError::wrong_buffer);
  EXPECT_TRUE(endpoint_.request_pending());
}

TEST_F(GuestEndpointTest, AnswersAServiceRequestBeforeNegotiationWithFail) {
  auto packet = heartbeat(3);
  const GuestEvent event = endpoint_.on_packet(packet);
  EXPECT_EQ(event.action, GuestAction::send_reply);
  EXPECT_EQ(event.error, IcError::not_negotiated);
  EXPECT_EQ(header_of(packet).status, 0x80004005u);
  EXPECT_EQ(header_of(packet).flags, 0x05);
  EXPECT_EQ(header_of(packet).transaction_id, 3);
  EXPECT_FALSE(endpoint_.request_pending());
}

TEST_F(GuestEndpointTest, AnswersOtherServicesMessagesWithNotSupported) {
  negotiate();
  auto packet = make_packet(wire::IcMessageType::shutdown, std::vector<std::byte>(16));
  const GuestEvent event = endpoint_.on_packet(packet);
  EXPECT_EQ(event.action, GuestAction::send_reply);
  EXPECT_EQ(event.error, IcError::unexpected_type);
  EXPECT_EQ(header_of(packet).status, 0x80070032u);
  auto unknown = make_packet(static_cast<wire::IcMessageType>(0x7777), {});
  EXPECT_EQ(endpoint_.on_packet(unknown).error, IcError::unexpected_type);
}

TEST_F(GuestEndpointTest, DropsResponsesAndFlaglessPacketsWithoutTouchingThem) {
  negotiate();
  for (const uint8_t flags : {0x00, 0x01, 0x02, 0x05, 0x07, 0x04}) {
    auto packet =
        make_packet(wire::IcMessageType::heartbeat, std::vector<std::byte>(8), flags);
    const auto before = packet;
    const GuestEvent event = endpoint_.on_packet(packet);
    EXPECT_EQ(event.action, GuestAction::drop) << int{flags};
    EXPECT_EQ(event.error, IcError::not_request);
    EXPECT_EQ(packet, before);
  }
}

TEST_F(GuestEndpointTest, DropsPacketsItCannotFrame) {
  auto packet = heartbeat();
  EXPECT_EQ(endpoint_.on_packet(std::span(packet).first(27)).error, IcError::truncated);
  auto bad_pipe = heartbeat();
  bad_pipe[0] = std::byte{9};
  EXPECT_EQ(endpoint_.on_packet(bad_pipe).error, IcError::pipe_type);
  EXPECT_EQ(endpoint_.on_packet(bad_pipe).action, GuestAction::drop);
}

TEST_F(GuestEndpointTest, AFailedRenegotiationForgetsTheVersions) {
  negotiate();
  auto packet = make_packet(wire::IcMessageType::negotiate, negotiate_body({{3, 0}}, {{7, 0}}));
  const GuestEvent event = endpoint_.on_packet(packet);
  EXPECT_EQ(event.action, GuestAction::send_reply);
  EXPECT_EQ(event.error, IcError::no_common_version);
  EXPECT_EQ(endpoint_.versions(), std::nullopt);
  auto request = heartbeat();
  EXPECT_EQ(endpoint_.on_packet(request).error, IcError::not_negotiated);
}

}  // namespace
}  // namespace uvmbus::ic
