// GUID text form: byte order against the spec's example, round trips of every
// well-known class GUID, and rejection of each malformed text form.
#include <string>
#include <string_view>
#include <unordered_set>

#include <gtest/gtest.h>

#include "uvmbus/wire/guid.h"

namespace uvmbus::wire {
namespace {

constexpr std::string_view kNetvscText = "f8615163-df3e-46c5-913f-f2d2f965ed0e";

constexpr Guid kAllClassGuids[] = {
    kHvNicGuid,   kHvScsiGuid,     kHvIdeGuid,  kHvShutdownGuid, kHvTsGuid,
    kHvHeartBeatGuid, kHvKvpGuid,  kHvVssGuid,  kHvFcopyGuid,    kHvDmGuid,
    kHvSynthvidGuid,  kHvKbdGuid,  kHvMouseGuid, kHvSynthfcGuid, kHvNdGuid,
    kHvPcieGuid,  kHvAvma1Guid,    kHvAvma2Guid, kHvRdvGuid,     kHvImcGuid,
};

TEST(Guid, ParsesIntoHyperVMixedByteOrder) {
  // vmbus-channel.md §5: netvsc's class GUID as it appears on the wire.
  const Guid expected = {{0x63, 0x51, 0x61, 0xf8, 0x3e, 0xdf, 0xc5, 0x46,
                          0x91, 0x3f, 0xf2, 0xd2, 0xf9, 0x65, 0xed, 0x0e}};
  const std::optional<Guid> parsed = parse_guid(kNetvscText);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, expected);
  EXPECT_EQ(kHvNicGuid, expected);
}

TEST(Guid, FormatsCanonicalLowerCaseText) {
  EXPECT_EQ(to_string(kHvNicGuid), kNetvscText);
  EXPECT_EQ(to_string(Guid{}), "00000000-0000-0000-0000-000000000000");
}

TEST(Guid, EveryClassGuidRoundTripsThroughText) {
  for (const Guid& guid : kAllClassGuids) {
    const std::string text = to_string(guid);
    EXPECT_EQ(parse_guid(text), guid) << text;
  }
}

TEST(Guid, AcceptsUpperCaseAndOnePairOfBraces) {
  EXPECT_EQ(parse_guid("F8615163-DF3E-46C5-913F-F2D2F965ED0E"), kHvNicGuid);
  EXPECT_EQ(parse_guid("{f8615163-df3e-46c5-913f-f2d2f965ed0e}"), kHvNicGuid);
}

TEST(Guid, RejectsWrongLengths) {
  EXPECT_FALSE(parse_guid(""));
  EXPECT_FALSE(parse_guid(kNetvscText.substr(0, 35)));
  EXPECT_FALSE(parse_guid(std::string(kNetvscText) + "0"));
  EXPECT_FALSE(parse_guid("f8615163df3e46c5913ff2d2f965ed0e"));  // no dashes
}

TEST(Guid, RejectsANonHexDigitAtEveryPosition) {
  for (std::size_t i = 0; i < kNetvscText.size(); ++i) {
    if (kNetvscText[i] == '-') {
      continue;
    }
    for (char bad : {'g', 'G', ' ', 'x', '-', '\0', '{'}) {
      std::string text(kNetvscText);
      text[i] = bad;
      EXPECT_FALSE(parse_guid(text)) << "'" << bad << "' at " << i;
    }
  }
}

TEST(Guid, RejectsAMissingOrMovedDash) {
  for (std::size_t dash : {8, 13, 18, 23}) {
    std::string replaced(kNetvscText);
    replaced[dash] = '0';
    EXPECT_FALSE(parse_guid(replaced)) << "dash " << dash << " replaced";

    std::string moved(kNetvscText);
    std::swap(moved[dash], moved[dash - 1]);
    EXPECT_FALSE(parse_guid(moved)) << "dash " << dash << " moved left";
  }
}

TEST(Guid, RejectsUnmatchedOrExtraBracesAndSpaces) {
  const std::string core(kNetvscText);
  EXPECT_FALSE(parse_guid("{" + core));
  EXPECT_FALSE(parse_guid(core + "}"));
  EXPECT_FALSE(parse_guid("{{" + core + "}}"));
  EXPECT_FALSE(parse_guid("(" + core + ")"));
  EXPECT_FALSE(parse_guid("}" + core + "{"));
  EXPECT_FALSE(parse_guid(" " + core));
  EXPECT_FALSE(parse_guid(core + "\n"));
}

TEST(Guid, ClassGuidsAreDistinctAndHashConsistently) {
  std::unordered_set<Guid> set(std::begin(kAllClassGuids), std::end(kAllClassGuids));
  EXPECT_EQ(set.size(), std::size(kAllClassGuids));
  const std::hash<Guid> hash;
  EXPECT_EQ(hash(*parse_guid(kNetvscText)), hash(kHvNicGuid));
  EXPECT_NE(kHvNicGuid, kHvScsiGuid);
  EXPECT_LT(Guid{}, kHvNicGuid);
}

TEST(Guid, ParsesAtCompileTime) {
  static_assert(guid_literal("ba6163d9-04a1-4d29-b605-72e2ffb1dc7f") == kHvScsiGuid);
  static_assert(!parse_guid("ba6163d9-04a1-4d29-b605-72e2ffb1dc7"));
  static_assert(kHvScsiGuid.bytes[0] == 0xd9 && kHvScsiGuid.bytes[3] == 0xba);
}

}  // namespace
}  // namespace uvmbus::wire
