// IC version negotiation: guest choice and reply, host request and checks.
#include "uvmbus/ic/negotiate.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "ic_packets.h"
#include "uvmbus/wire/bytes.h"

namespace uvmbus::ic {
namespace {

using testing::header_of;
using testing::make_packet;
using testing::negotiate_body;

constexpr std::array<wire::IcVersion, 3> kKvpPreferences{{{5, 0}, {4, 0}, {3, 0}}};
constexpr std::array<wire::IcVersion, 3> kLinuxKvpPreferences{{{4, 0}, {3, 0}, {1, 0}}};
constexpr std::array<wire::IcVersion, 3> kKvpOffer{{{3, 0}, {4, 0}, {5, 0}}};

const VersionLists kGuest{kGuestFrameworkVersions, kKvpPreferences};
const VersionLists kLinuxGuest{kGuestFrameworkVersions, kLinuxKvpPreferences};
const VersionLists kHost{kHostFrameworkVersions, kKvpOffer};

std::vector<std::byte> openvmm_kvp_negotiate() {
  return make_packet(wire::IcMessageType::negotiate,
                     negotiate_body({{1, 0}, {3, 0}}, {{3, 0}, {4, 0}, {5, 0}}));
}

wire::IcVersion entry(const std::vector<std::byte>& packet, std::size_t index) {
  return wire::load<wire::IcVersion>(
      std::span(packet), wire::kIcBodyOffset + sizeof(wire::IcNegotiateHeader) + 4 * index);
}

wire::IcNegotiateHeader counts(const std::vector<std::byte>& packet) {
  return wire::load<wire::IcNegotiateHeader>(std::span(packet), wire::kIcBodyOffset);
}

TEST(SelectVersion, TakesTheFirstPreferredVersionTheHostOffers) {
  EXPECT_EQ(select_version(kKvpPreferences, kKvpOffer), (wire::IcVersion{5, 0}));
  EXPECT_EQ(select_version(kLinuxKvpPreferences, kKvpOffer), (wire::IcVersion{4, 0}));
  const std::array<wire::IcVersion, 1> only_minor{{{4, 1}}};
  EXPECT_EQ(select_version(kKvpPreferences, only_minor), std::nullopt);
}

TEST(AnswerNegotiate, PicksFramework3AndKvp5FromAnOpenVmmOffer) {
  auto packet = openvmm_kvp_negotiate();
  const auto length = packet.size();
  const NegotiateAnswer answer = answer_negotiate(packet, kGuest);
  ASSERT_EQ(answer.error, IcError::none);
  EXPECT_EQ(answer.versions, (NegotiatedVersions{{3, 0}, {5, 0}}));
  EXPECT_EQ(packet.size(), length);
  EXPECT_EQ(counts(packet).framework_version_count, 1);
  EXPECT_EQ(counts(packet).message_version_count, 1);
  EXPECT_EQ(entry(packet, 0), (wire::IcVersion{3, 0}));
  EXPECT_EQ(entry(packet, 1), (wire::IcVersion{5, 0}));
  const auto header = header_of(packet);
  EXPECT_EQ(header.message_size, 16);
  EXPECT_EQ(header.flags, 0x05);
  EXPECT_EQ(header.status, 0u);
  EXPECT_EQ(testing::pipe_of(packet).size, testing::pipe_of(openvmm_kvp_negotiate()).size);
}

TEST(AnswerNegotiate, PicksKvp4LikeLinuxWithLinuxPreferences) {
  auto packet = openvmm_kvp_negotiate();
  const NegotiateAnswer answer = answer_negotiate(packet, kLinuxGuest);
  ASSERT_EQ(answer.error, IcError::none);
  EXPECT_EQ(answer.versions, (NegotiatedVersions{{3, 0}, {4, 0}}));
}

TEST(AnswerNegotiate, FallsBackToFramework1WhenTheHostOffersNothingNewer) {
  auto packet =
      make_packet(wire::IcMessageType::negotiate, negotiate_body({{1, 0}}, {{1, 0}, {3, 0}}));
  const NegotiateAnswer answer = answer_negotiate(packet, kGuest);
  ASSERT_EQ(answer.error, IcError::none);
  EXPECT_EQ(answer.versions, (NegotiatedVersions{{1, 0}, {3, 0}}));
}

TEST(AnswerNegotiate, AnswersCountsZeroAndFailWithoutACommonVersion) {
  for (const auto& body : {negotiate_body({{2, 0}}, {{4, 0}}), negotiate_body({{3, 0}}, {{9, 9}}),
                           negotiate_body({}, {}), negotiate_body({{3, 0}}, {})}) {
    auto packet = make_packet(wire::IcMessageType::negotiate, body);
    const NegotiateAnswer answer = answer_negotiate(packet, kGuest);
    EXPECT_EQ(answer.error, IcError::no_common_version);
    EXPECT_EQ(answer.versions, std::nullopt);
    EXPECT_EQ(counts(packet).framework_version_count, 0);
    EXPECT_EQ(counts(packet).message_version_count, 0);
    EXPECT_EQ(header_of(packet).status, 0x80004005u);
    EXPECT_EQ(header_of(packet).flags, 0x05);
  }
}

TEST(AnswerNegotiate, RefusesMoreThanOneHundredVersionsInEitherList) {
  for (const auto& [framework_count, service_count] :
       {std::pair{101, 1}, std::pair{1, 101}, std::pair{0xffff, 0xffff}}) {
    std::vector<std::byte> body(8 + 4 * 202);
    wire::store(std::span(body), 0,
                wire::IcNegotiateHeader{static_cast<uint16_t>(framework_count),
                                        static_cast<uint16_t>(service_count), 0});
    auto packet = make_packet(wire::IcMessageType::negotiate, body);
    const NegotiateAnswer answer = answer_negotiate(packet, kGuest);
    EXPECT_EQ(answer.error, IcError::too_many_versions);
    EXPECT_EQ(header_of(packet).status, 0x80004005u);
  }
  std::vector<std::byte> body = negotiate_body({{3, 0}}, {});
  for (int i = 0; i < 99; ++i) {
    body.resize(body.size() + 4);
  }
  wire::store(std::span(body), body.size() - 4, wire::IcVersion{5, 0});
  wire::store(std::span(body), 0, wire::IcNegotiateHeader{1, 99, 0});
  auto packet = make_packet(wire::IcMessageType::negotiate, body);
  EXPECT_EQ(answer_negotiate(packet, kGuest).error, IcError::none);
}

TEST(AnswerNegotiate, RefusesListsLongerThanTheDeclaredBody) {
  auto body = negotiate_body({{3, 0}}, {{5, 0}});
  wire::store(std::span(body), 0, wire::IcNegotiateHeader{1, 2, 0});
  // The packet is padded, so the missing entry would be readable: only the
  // declared size counts.
  auto packet = make_packet(wire::IcMessageType::negotiate, body);
  ASSERT_GE(packet.size() - wire::kIcBodyOffset, body.size() + 4);
  EXPECT_EQ(answer_negotiate(packet, kGuest).error, IcError::negotiate_truncated);
  EXPECT_EQ(header_of(packet).status, 0x80004005u);
}

TEST(AnswerNegotiate, RefusesABodyShorterThanTheNegotiateHeader) {
  for (std::size_t size = 0; size < sizeof(wire::IcNegotiateHeader); ++size) {
    auto packet = make_packet(wire::IcMessageType::negotiate, std::vector<std::byte>(size));
    EXPECT_EQ(answer_negotiate(packet, kGuest).error, IcError::negotiate_truncated) << size;
    EXPECT_EQ(header_of(packet).flags, 0x05);
  }
}

TEST(HostNegotiate, WritesTheOpenVmmRequest) {
  std::vector<std::byte> out(128);
  const SizeResult written = write_negotiate_request(out, kHost, 0);
  ASSERT_EQ(written.error, IcError::none);
  out.resize(written.size);
  EXPECT_EQ(out, openvmm_kvp_negotiate());
  const auto header = header_of(out);
  EXPECT_EQ(header.message_size, 8 + 4 * 5);
  EXPECT_EQ(header.flags, 0x03);
  EXPECT_EQ(header.framework_version, (wire::IcVersion{0, 0}));
}

TEST(HostNegotiate, RefusesASmallBufferOrTooManyVersions) {
  std::vector<std::byte> out(wire::kIcBodyOffset + 27);
  EXPECT_EQ(write_negotiate_request(out, kHost, 0).error, IcError::buffer_too_small);
  std::vector<wire::IcVersion> many(101, wire::IcVersion{1, 0});
  std::vector<std::byte> big(1024);
  EXPECT_EQ(write_negotiate_request(big, {many, kKvpOffer}, 0).error,
            IcError::too_many_versions);
}

TEST(HostNegotiate, AcceptsTheGuestReplyOnlyWithOneOfferedVersionEach) {
  auto packet = openvmm_kvp_negotiate();
  ASSERT_EQ(answer_negotiate(packet, kGuest).error, IcError::none);
  const IcFrame reply = parse_frame(packet).frame;
  EXPECT_EQ(read_negotiate_reply(reply, kHost).versions, (NegotiatedVersions{{3, 0}, {5, 0}}));

  const std::array<wire::IcVersion, 1> only_v4{{{4, 0}}};
  EXPECT_EQ(read_negotiate_reply(reply, {kHostFrameworkVersions, only_v4}).error,
            IcError::no_common_version);

  auto refused = make_packet(wire::IcMessageType::negotiate, negotiate_body({{9, 0}}, {}));
  ASSERT_EQ(answer_negotiate(refused, kGuest).error, IcError::no_common_version);
  EXPECT_EQ(read_negotiate_reply(parse_frame(refused).frame, kHost).error,
            IcError::negotiate_truncated);

  auto two = make_packet(wire::IcMessageType::negotiate,
                         negotiate_body({{3, 0}}, {{4, 0}, {5, 0}}), 0x05);
  EXPECT_EQ(read_negotiate_reply(parse_frame(two).frame, kHost).error,
            IcError::no_common_version);
}

}  // namespace
}  // namespace uvmbus::ic
