// parse_host_message: every host-to-guest type at its exact size, and each
// way a message from an untrusted host can be malformed.
#include <gtest/gtest.h>

#include <vector>

#include "control_test_support.h"
#include "uvmbus/channel/control_message.h"

namespace uvmbus::channel::test {
namespace {

using wire::ChannelMessageType;

std::vector<std::byte> header_only(ChannelMessageType type, std::size_t size) {
  std::vector<std::byte> bytes(size);
  wire::store(std::span(bytes), 0, wire::ChannelMessageHeader{.msgtype = type, .padding = 0});
  return bytes;
}

template <typename Message>
void expect_parses_at_exact_size_and_not_one_byte_less() {
  const std::vector<std::byte> exact = header_only(Message::kType, sizeof(Message));
  const Expected<HostMessage, ControlError> parsed = parse_host_message(exact);
  ASSERT_TRUE(parsed) << sizeof(Message);
  EXPECT_TRUE(std::holds_alternative<Message>(*parsed));
  const std::vector<std::byte> short_by_one = header_only(Message::kType, sizeof(Message) - 1);
  const Expected<HostMessage, ControlError> truncated = parse_host_message(short_by_one);
  ASSERT_FALSE(truncated);
  EXPECT_EQ(truncated.error(), ControlError::message_truncated);
}

TEST(ParseHostMessage, EveryHostTypeParsesAtItsSizeAndIsTruncatedBelowIt) {
  expect_parses_at_exact_size_and_not_one_byte_less<wire::VersionResponse>();
  expect_parses_at_exact_size_and_not_one_byte_less<wire::OfferChannel>();
  expect_parses_at_exact_size_and_not_one_byte_less<wire::RescindChannelOffer>();
  expect_parses_at_exact_size_and_not_one_byte_less<wire::GpadlCreated>();
  expect_parses_at_exact_size_and_not_one_byte_less<wire::GpadlTorndown>();
  expect_parses_at_exact_size_and_not_one_byte_less<wire::OpenChannelResult>();
}

TEST(ParseHostMessage, HeaderOnlyMessagesNeedTheWholeHeader) {
  EXPECT_TRUE(parse_host_message(header_only(ChannelMessageType::alloffers_delivered, 8)));
  EXPECT_TRUE(parse_host_message(header_only(ChannelMessageType::unload_response, 8)));
  for (std::size_t size = 0; size < 8; ++size) {
    std::vector<std::byte> bytes(size, std::byte{4});
    const Expected<HostMessage, ControlError> parsed = parse_host_message(bytes);
    ASSERT_FALSE(parsed);
    EXPECT_EQ(parsed.error(), ControlError::message_truncated) << size;
  }
}

TEST(ParseHostMessage, LongerMessagesAreReadUpToTheirKnownPrefix) {
  // A 6.0 host appends supported_features to VersionResponse.
  std::vector<std::byte> bytes = version_response(true);
  bytes.resize(20, std::byte{0x5a});
  const Expected<HostMessage, ControlError> parsed = parse_host_message(bytes);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(std::get<wire::VersionResponse>(*parsed).version_supported, 1);
}

TEST(ParseHostMessage, MoreThan240BytesIsOversized) {
  const Expected<HostMessage, ControlError> parsed =
      parse_host_message(header_only(ChannelMessageType::alloffers_delivered, 241));
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error(), ControlError::message_oversized);
  EXPECT_TRUE(parse_host_message(header_only(ChannelMessageType::alloffers_delivered, 240)));
}

TEST(ParseHostMessage, UnknownTypesAreRejected) {
  for (const uint32_t type : {0u, 30u, 31u, 1000u, 0xFFFFFFFFu}) {
    const Expected<HostMessage, ControlError> parsed =
        parse_host_message(header_only(static_cast<ChannelMessageType>(type), 64));
    ASSERT_FALSE(parsed) << type;
    EXPECT_EQ(parsed.error(), ControlError::unknown_message_type) << type;
  }
}

TEST(ParseHostMessage, GuestToHostTypesFromTheHostAreTheWrongDirection) {
  for (const ChannelMessageType type :
       {ChannelMessageType::requestoffers, ChannelMessageType::openchannel,
        ChannelMessageType::closechannel, ChannelMessageType::gpadl_header,
        ChannelMessageType::gpadl_body, ChannelMessageType::gpadl_teardown,
        ChannelMessageType::relid_released, ChannelMessageType::initiate_contact,
        ChannelMessageType::unload, ChannelMessageType::modifychannel,
        ChannelMessageType::tl_connect_request}) {
    const Expected<HostMessage, ControlError> parsed = parse_host_message(header_only(type, 200));
    ASSERT_FALSE(parsed) << static_cast<uint32_t>(type);
    EXPECT_EQ(parsed.error(), ControlError::wrong_direction) << static_cast<uint32_t>(type);
  }
}

TEST(ParseHostMessage, HostTypesThisClientNeverAsksForAreUnsupported) {
  for (const ChannelMessageType type :
       {ChannelMessageType::tl_connect_result,
        ChannelMessageType::close_reserved_channel_response,
        ChannelMessageType::modify_connection_response, ChannelMessageType::pause_response}) {
    const Expected<HostMessage, ControlError> parsed = parse_host_message(header_only(type, 200));
    ASSERT_FALSE(parsed) << static_cast<uint32_t>(type);
    EXPECT_EQ(parsed.error(), ControlError::unsupported_message);
  }
}

TEST(ParseHostMessage, FieldsAreCopiedFromTheBytes) {
  auto offer = offer_message(42, wire::kHvKvpGuid, 3);
  const Expected<HostMessage, ControlError> parsed = parse_host_message(bytes_of(offer));
  ASSERT_TRUE(parsed);
  const auto& copy = std::get<wire::OfferChannel>(*parsed);
  EXPECT_EQ(copy.child_relid, 42u);
  EXPECT_EQ(copy.sub_channel_index, 3);
  EXPECT_EQ(copy.if_instance, wire::kHvKvpGuid);
}

}  // namespace
}  // namespace uvmbus::channel::test
