// Host end of an IC channel, driven against the guest end.
#include "uvmbus/ic/host_endpoint.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "ic_packets.h"
#include "uvmbus/ic/guest_endpoint.h"
#include "uvmbus/wire/bytes.h"

namespace uvmbus::ic {
namespace {

using testing::header_of;
using testing::make_packet;
using testing::negotiate_body;

constexpr std::array<wire::IcVersion, 3> kKvpOffer{{{3, 0}, {4, 0}, {5, 0}}};
constexpr std::array<wire::IcVersion, 3> kKvpPreferences{{{5, 0}, {4, 0}, {3, 0}}};

class HostEndpointTest : public ::testing::Test {
 protected:
  HostEndpoint host_{wire::IcMessageType::kvp_exchange, {kHostFrameworkVersions, kKvpOffer}};
  GuestEndpoint guest_{wire::IcMessageType::kvp_exchange,
                       {kGuestFrameworkVersions, kKvpPreferences}};
  std::vector<std::byte> buffer_ = std::vector<std::byte>(wire::kIcMaxMessageSize);

  // Host request -> guest -> host reply, for NEGOTIATE.
  HostEvent negotiate() {
    const SizeResult written = host_.start_negotiate(buffer_);
    EXPECT_EQ(written.error, IcError::none);
    std::vector<std::byte> packet(buffer_.begin(), buffer_.begin() + written.size);
    EXPECT_EQ(guest_.on_packet(packet).action, GuestAction::send_reply);
    return host_.on_packet(packet);
  }

  // A service request with an 8-byte body; returns the packet the host sent.
  std::vector<std::byte> request() {
    const SizeResult written = host_.start_request(buffer_, 8);
    EXPECT_EQ(written.error, IcError::none);
    return {buffer_.begin(), buffer_.begin() + written.size};
  }
};

TEST_F(HostEndpointTest, NegotiatesWithTheGuestEndpoint) {
  const HostEvent event = negotiate();
  EXPECT_EQ(event.action, HostAction::negotiate_reply);
  EXPECT_EQ(event.error, IcError::none);
  EXPECT_EQ(host_.versions(), (NegotiatedVersions{{3, 0}, {5, 0}}));
  EXPECT_EQ(guest_.versions(), host_.versions());
  EXPECT_FALSE(host_.awaiting_reply());
}

TEST_F(HostEndpointTest, CarriesARequestAndItsReplyStatusAndBody) {
  negotiate();
  auto packet = request();
  EXPECT_EQ(header_of(packet).message_version, (wire::IcVersion{5, 0}));
  EXPECT_EQ(header_of(packet).framework_version, (wire::IcVersion{3, 0}));
  const GuestEvent asked = guest_.on_packet(packet);
  ASSERT_EQ(asked.action, GuestAction::handle_request);
  asked.body[0] = std::byte{0xab};
  ASSERT_EQ(guest_.complete(packet, wire::HvStatus::no_more_items), IcError::none);
  const HostEvent event = host_.on_packet(packet);
  EXPECT_EQ(event.action, HostAction::response);
  EXPECT_EQ(event.status, wire::HvStatus::no_more_items);
  ASSERT_GE(event.body.size(), 8u);
  EXPECT_EQ(event.body[0], std::byte{0xab});
}

TEST_F(HostEndpointTest, RefusesRequestsBeforeNegotiationAndWhileOneIsOutstanding) {
  EXPECT_EQ(host_.start_request(buffer_, 8).error, IcError::not_negotiated);
  negotiate();
  request();
  EXPECT_TRUE(host_.awaiting_reply());
  EXPECT_EQ(host_.start_request(buffer_, 8).error, IcError::transaction_pending);
}

TEST_F(HostEndpointTest, AWiderWindowTakesRepliesInOrderOnly) {
  host_.set_window(3);
  negotiate();
  std::vector<std::vector<std::byte>> sent{request(), request(), request()};
  EXPECT_FALSE(host_.can_send());
  EXPECT_EQ(host_.start_request(buffer_, 8).error, IcError::transaction_pending);
  for (auto& packet : sent) {
    ASSERT_EQ(guest_.on_packet(packet).action, GuestAction::handle_request);
    ASSERT_EQ(guest_.complete(packet, wire::HvStatus::ok), IcError::none);
  }
  // The second reply before the first is not the oldest: dropped.
  EXPECT_EQ(host_.on_packet(sent[1]).error, IcError::transaction_mismatch);
  EXPECT_EQ(host_.on_packet(sent[0]).action, HostAction::response);
  EXPECT_TRUE(host_.can_send());
  EXPECT_EQ(host_.on_packet(sent[1]).action, HostAction::response);
  EXPECT_EQ(host_.on_packet(sent[2]).action, HostAction::response);
  EXPECT_FALSE(host_.awaiting_reply());
  // NEGOTIATE abandons whatever was in flight.
  request();
  request();
  negotiate();
  EXPECT_EQ(host_.outstanding(), 0u);
}

TEST_F(HostEndpointTest, UsesANewTransactionIdForEachRequest) {
  negotiate();
  auto first = request();
  ASSERT_EQ(guest_.on_packet(first).action, GuestAction::handle_request);
  ASSERT_EQ(guest_.complete(first, wire::HvStatus::ok), IcError::none);
  ASSERT_EQ(host_.on_packet(first).action, HostAction::response);
  auto second = request();
  EXPECT_NE(header_of(first).transaction_id, header_of(second).transaction_id);
}

TEST_F(HostEndpointTest, DropsRepliesForAnotherTransactionOrThatAreNotResponses) {
  negotiate();
  auto packet = request();
  ASSERT_EQ(guest_.on_packet(packet).action, GuestAction::handle_request);
  ASSERT_EQ(guest_.complete(packet, wire::HvStatus::ok), IcError::none);

  auto other_id = packet;
  auto header = header_of(other_id);
  header.transaction_id ^= 1;
  wire::store(std::span(other_id), sizeof(wire::PipeHeader), header);
  EXPECT_EQ(host_.on_packet(other_id).error, IcError::transaction_mismatch);

  auto not_response = packet;
  header = header_of(not_response);
  header.flags = 0x03;
  wire::store(std::span(not_response), sizeof(wire::PipeHeader), header);
  EXPECT_EQ(host_.on_packet(not_response).error, IcError::not_response);

  EXPECT_EQ(host_.on_packet(std::span(packet).first(20)).error, IcError::truncated);
  EXPECT_TRUE(host_.awaiting_reply());
  EXPECT_EQ(host_.on_packet(packet).action, HostAction::response);
  EXPECT_EQ(host_.on_packet(packet).error, IcError::no_transaction);
}

TEST_F(HostEndpointTest, DropsStaleServiceRepliesWhileNegotiating) {
  const SizeResult written = host_.start_negotiate(buffer_);
  ASSERT_EQ(written.error, IcError::none);
  auto stale = make_packet(wire::IcMessageType::kvp_exchange, {}, 0x05, 0);
  EXPECT_EQ(host_.on_packet(stale).error, IcError::transaction_mismatch);
  EXPECT_TRUE(host_.awaiting_reply());
  std::vector<std::byte> packet(buffer_.begin(), buffer_.begin() + written.size);
  ASSERT_EQ(guest_.on_packet(packet).action, GuestAction::send_reply);
  EXPECT_EQ(host_.on_packet(packet).action, HostAction::negotiate_reply);
}

TEST_F(HostEndpointTest, ReportsAGuestThatSharesNoVersion) {
  const std::array<wire::IcVersion, 1> v6_only{{{6, 0}}};
  GuestEndpoint picky{wire::IcMessageType::kvp_exchange, {kGuestFrameworkVersions, v6_only}};
  const SizeResult written = host_.start_negotiate(buffer_);
  std::vector<std::byte> packet(buffer_.begin(), buffer_.begin() + written.size);
  ASSERT_EQ(picky.on_packet(packet).action, GuestAction::send_reply);
  const HostEvent event = host_.on_packet(packet);
  EXPECT_EQ(event.action, HostAction::negotiate_reply);
  EXPECT_EQ(event.status, wire::HvStatus::fail);
  EXPECT_NE(event.error, IcError::none);
  EXPECT_EQ(host_.versions(), std::nullopt);
}

}  // namespace
}  // namespace uvmbus::ic
