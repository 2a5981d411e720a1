// IC packet framing: header validation, in-place replies, request headers.
#include "uvmbus/ic/frame.h"

#include <gtest/gtest.h>

#include <vector>

#include "ic_packets.h"
#include "uvmbus/wire/bytes.h"

namespace uvmbus::ic {
namespace {

using testing::header_of;
using testing::make_packet;
using testing::pipe_of;

std::vector<std::byte> body_of_size(std::size_t size) {
  std::vector<std::byte> body(size);
  for (std::size_t i = 0; i < size; ++i) {
    body[i] = static_cast<std::byte>(i * 7 + 1);
  }
  return body;
}

TEST(Frame, ParsesAHostRequestAndExposesTheBodyWithItsPadding) {
  auto packet = make_packet(wire::IcMessageType::kvp_exchange, body_of_size(13), 0x03, 9);
  const FrameResult parsed = parse_frame(packet);
  ASSERT_EQ(parsed.error, IcError::none);
  EXPECT_EQ(parsed.frame.header.message_type,
            static_cast<uint16_t>(wire::IcMessageType::kvp_exchange));
  EXPECT_EQ(parsed.frame.header.message_size, 13);
  EXPECT_EQ(parsed.frame.header.transaction_id, 9);
  EXPECT_EQ(parsed.frame.body.size(), packet.size() - wire::kIcBodyOffset);
  EXPECT_EQ(parsed.frame.body.data(), packet.data() + wire::kIcBodyOffset);
}

TEST(Frame, RejectsEveryPacketShorterThanBothHeaders) {
  const auto packet = make_packet(wire::IcMessageType::heartbeat, {});
  for (std::size_t size = 0; size < wire::kIcBodyOffset; ++size) {
    EXPECT_EQ(parse_frame(std::span(packet).first(size)).error, IcError::truncated) << size;
  }
  EXPECT_EQ(parse_frame(std::span(packet).first(wire::kIcBodyOffset)).error, IcError::none);
}

TEST(Frame, AcceptsDataAndPartialPipePacketsOnly) {
  auto packet = make_packet(wire::IcMessageType::heartbeat, body_of_size(8));
  for (const uint32_t type : {0u, 3u, 4u, 5u, 0xffffffffu}) {
    wire::store(std::span(packet), 0, wire::PipeHeader{type, 28});
    EXPECT_EQ(parse_frame(packet).error, IcError::pipe_type) << type;
  }
  for (const uint32_t type : {1u, 2u}) {
    wire::store(std::span(packet), 0, wire::PipeHeader{type, 28});
    EXPECT_EQ(parse_frame(packet).error, IcError::none) << type;
  }
}

TEST(Frame, IgnoresThePipeSizeFieldAsLinuxDoes) {
  auto packet = make_packet(wire::IcMessageType::heartbeat, body_of_size(8));
  for (const uint32_t size : {0u, 1u, 0xffffffffu}) {
    wire::store(std::span(packet), 0, wire::PipeHeader{1, size});
    EXPECT_EQ(parse_frame(packet).error, IcError::none) << size;
  }
}

TEST(Frame, RejectsAMessageSizeBeyondThePacket) {
  auto packet = make_packet(wire::IcMessageType::heartbeat, body_of_size(8));
  auto header = header_of(packet);
  const auto room = static_cast<uint16_t>(packet.size() - wire::kIcBodyOffset);
  header.message_size = room;
  wire::store(std::span(packet), sizeof(wire::PipeHeader), header);
  EXPECT_EQ(parse_frame(packet).error, IcError::none);
  for (const uint16_t size : {static_cast<uint16_t>(room + 1), uint16_t{0xffff}}) {
    header.message_size = size;
    wire::store(std::span(packet), sizeof(wire::PipeHeader), header);
    EXPECT_EQ(parse_frame(packet).error, IcError::body_overrun) << size;
  }
}

TEST(Frame, MakeReplyChangesOnlyStatusAndFlags) {
  auto packet = make_packet(wire::IcMessageType::kvp_exchange, body_of_size(40), 0x03, 0x5a);
  const auto request = packet;
  make_reply(packet, wire::HvStatus::no_more_items);
  ASSERT_EQ(packet.size(), request.size());
  const auto header = header_of(packet);
  EXPECT_EQ(header.status, 0x80070103u);
  EXPECT_EQ(header.flags, 0x05);
  EXPECT_EQ(header.transaction_id, 0x5a);
  constexpr std::size_t kStatus = sizeof(wire::PipeHeader) + 12;
  constexpr std::size_t kFlags = sizeof(wire::PipeHeader) + 17;
  for (std::size_t i = 0; i < packet.size(); ++i) {
    if ((i >= kStatus && i < kStatus + 4) || i == kFlags) {
      continue;
    }
    EXPECT_EQ(packet[i], request[i]) << "byte " << i;
  }
}

TEST(Frame, RequestHeadersFrameTheBodyAlreadyInTheBuffer) {
  std::vector<std::byte> out(64);
  const RequestHeader request{wire::IcMessageType::timesync, {3, 0}, {4, 0}, 7};
  const SizeResult written = write_request_headers(out, request, 24);
  ASSERT_EQ(written.error, IcError::none);
  EXPECT_EQ(written.size, 52u);
  EXPECT_EQ(pipe_of(out).packet_type, 1u);
  EXPECT_EQ(pipe_of(out).size, 44u);
  const auto header = header_of(out);
  EXPECT_EQ(header.framework_version, (wire::IcVersion{3, 0}));
  EXPECT_EQ(header.message_version, (wire::IcVersion{4, 0}));
  EXPECT_EQ(header.message_type, 4);
  EXPECT_EQ(header.message_size, 24);
  EXPECT_EQ(header.status, 0u);
  EXPECT_EQ(header.transaction_id, 7);
  EXPECT_EQ(header.flags, 0x03);
  EXPECT_EQ(parse_frame(std::span(out).first(written.size)).error, IcError::none);
}

TEST(Frame, RequestHeadersRefuseASmallBufferOrAnOversizedBody) {
  std::vector<std::byte> out(wire::kIcMaxMessageSize);
  const RequestHeader request{wire::IcMessageType::kvp_exchange, {3, 0}, {5, 0}, 0};
  EXPECT_EQ(write_request_headers(std::span(out).first(51), request, 24).error,
            IcError::buffer_too_small);
  EXPECT_EQ(write_request_headers(out, request, wire::kIcMaxMessageSize - wire::kIcBodyOffset)
                .error,
            IcError::none);
  EXPECT_EQ(
      write_request_headers(out, request, wire::kIcMaxMessageSize - wire::kIcBodyOffset + 1)
          .error,
      IcError::message_too_large);
}

TEST(Frame, EveryErrorHasAName) {
  EXPECT_STREQ(to_string(IcError::none), "none");
  EXPECT_STREQ(to_string(IcError::message_too_large), "message_too_large");
  EXPECT_STREQ(to_string(static_cast<IcError>(200)), "unknown");
}

}  // namespace
}  // namespace uvmbus::ic
