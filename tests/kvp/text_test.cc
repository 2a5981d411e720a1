// Strict UTF-16LE <-> UTF-8 conversion: every malformed input is an error.
#include "uvmbus/kvp/text.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace uvmbus::kvp {
namespace {

// UTF-16LE bytes of `units`, in a field of `field_bytes` (zero padded).
std::vector<std::byte> utf16(std::initializer_list<uint16_t> units, std::size_t field_bytes = 64) {
  std::vector<std::byte> field(field_bytes);
  std::size_t i = 0;
  for (const uint16_t unit : units) {
    field[i++] = static_cast<std::byte>(unit & 0xff);
    field[i++] = static_cast<std::byte>(unit >> 8);
  }
  return field;
}

std::vector<std::byte> repeated(uint16_t unit, std::size_t count, std::size_t field_bytes) {
  std::vector<std::byte> field(field_bytes);
  for (std::size_t i = 0; i < count; ++i) {
    field[2 * i] = static_cast<std::byte>(unit & 0xff);
    field[2 * i + 1] = static_cast<std::byte>(unit >> 8);
  }
  return field;
}

TEST(Utf16ToUtf8, ConvertsAsciiBmpAndSurrogatePairs) {
  const auto field = utf16({'K', 0x00e9, 0x20ac, 0xd83d, 0xdd11, 0});
  const TextResult result = utf16le_to_utf8(field, 12, 511);
  ASSERT_EQ(result.error, TextError::none);
  EXPECT_EQ(result.text, "K\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\x91");
}

TEST(Utf16ToUtf8, AcceptsTheEmptyString) {
  const TextResult result = utf16le_to_utf8(utf16({0}), 2, 511);
  EXPECT_EQ(result.error, TextError::none);
  EXPECT_EQ(result.text, "");
}

TEST(Utf16ToUtf8, RefusesAnOddByteCount) {
  EXPECT_EQ(utf16le_to_utf8(utf16({'a', 0}), 3, 511).error, TextError::odd_size);
  EXPECT_EQ(utf16le_to_utf8(utf16({'a', 0}), 1, 511).error, TextError::odd_size);
}

TEST(Utf16ToUtf8, RefusesASizeBeyondTheField) {
  const auto field = utf16({'a', 0}, 8);
  EXPECT_EQ(utf16le_to_utf8(field, 10, 511).error, TextError::size_beyond_field);
  EXPECT_EQ(utf16le_to_utf8(field, 0xfffffffe, 511).error, TextError::size_beyond_field);
}

TEST(Utf16ToUtf8, RefusesAStringWithoutItsTerminator) {
  EXPECT_EQ(utf16le_to_utf8(utf16({'a', 'b', 0}), 4, 511).error, TextError::missing_terminator);
  EXPECT_EQ(utf16le_to_utf8(utf16({'a', 0}), 0, 511).error, TextError::missing_terminator);
  const auto full = repeated('x', 256, 512);
  EXPECT_EQ(utf16le_to_utf8(full, 512, 511).error, TextError::missing_terminator);
}

TEST(Utf16ToUtf8, RefusesANulInsideTheDeclaredString) {
  EXPECT_EQ(utf16le_to_utf8(utf16({'a', 0, 'b', 0}), 8, 511).error, TextError::embedded_nul);
}

TEST(Utf16ToUtf8, RefusesUnpairedSurrogates) {
  EXPECT_EQ(utf16le_to_utf8(utf16({0xd800, 0}), 4, 511).error, TextError::unpaired_surrogate);
  EXPECT_EQ(utf16le_to_utf8(utf16({0xd800, 'a', 0}), 6, 511).error,
            TextError::unpaired_surrogate);
  EXPECT_EQ(utf16le_to_utf8(utf16({0xdc00, 'a', 0}), 6, 511).error,
            TextError::unpaired_surrogate);
  EXPECT_EQ(utf16le_to_utf8(utf16({'a', 0xdbff, 0xdbff, 0xdc00, 0}), 10, 511).error,
            TextError::unpaired_surrogate);
}

TEST(Utf16ToUtf8, RefusesTextLongerThanItsDestinationInsteadOfCuttingIt) {
  // 255 ASCII units fit a 511-byte pool key; 255 three-byte units do not.
  const auto ascii = repeated('k', 255, 512);
  EXPECT_EQ(utf16le_to_utf8(ascii, 512, 511).text.size(), 255u);
  const auto wide = repeated(0x20ac, 255, 512);
  EXPECT_EQ(utf16le_to_utf8(wide, 512, 511).error, TextError::too_long);
  // 1,023 two-byte units fill 2,046 of a value's 2,047 bytes.
  const auto accents = repeated(0x00e9, 1023, 2048);
  EXPECT_EQ(utf16le_to_utf8(accents, 2048, 2047).text.size(), 2046u);
  const auto euros = repeated(0x20ac, 1023, 2048);
  EXPECT_EQ(utf16le_to_utf8(euros, 2048, 2047).error, TextError::too_long);
}

TEST(Utf16FieldToUtf8, RunsToTheFirstNulAndRefusesAFieldWithoutOne) {
  EXPECT_EQ(utf16le_field_to_utf8(utf16({'o', 'k', 0, 'x'}), 100).text, "ok");
  EXPECT_EQ(utf16le_field_to_utf8(repeated('x', 32, 64), 100).error,
            TextError::missing_terminator);
  EXPECT_EQ(utf16le_field_to_utf8({}, 100).error, TextError::missing_terminator);
  EXPECT_EQ(utf16le_field_to_utf8(utf16({0xdc00, 0}), 100).error, TextError::unpaired_surrogate);
}

TEST(Utf8ToUtf16, WritesTheTerminatorAndZeroesTheRestOfTheField) {
  std::vector<std::byte> field(16, std::byte{0xee});
  const Utf16Result result = utf8_to_utf16le("h\xc3\xa9\xf0\x9f\x94\x91", field, Overflow::reject);
  ASSERT_EQ(result.error, TextError::none);
  EXPECT_EQ(result.size_bytes, 10u);
  EXPECT_FALSE(result.truncated);
  EXPECT_EQ(field, utf16({'h', 0x00e9, 0xd83d, 0xdd11, 0}, 16));
}

TEST(Utf8ToUtf16, FillsAFieldExactlyAndRefusesOneUnitMore) {
  std::vector<std::byte> field(512);
  EXPECT_EQ(utf8_to_utf16le(std::string(255, 'k'), field, Overflow::reject).size_bytes, 512u);
  const Utf16Result over = utf8_to_utf16le(std::string(256, 'k'), field, Overflow::reject);
  EXPECT_EQ(over.error, TextError::too_long);
  EXPECT_EQ(field, std::vector<std::byte>(512));
}

TEST(Utf8ToUtf16, TruncatesAtACodePointBoundaryWhenAsked) {
  std::vector<std::byte> field(8);  // three units and the NUL
  const Utf16Result result = utf8_to_utf16le("ab\xf0\x9f\x94\x91", field, Overflow::truncate);
  EXPECT_EQ(result.error, TextError::none);
  EXPECT_TRUE(result.truncated);
  EXPECT_EQ(result.size_bytes, 6u);  // the surrogate pair is not split
  EXPECT_EQ(field, utf16({'a', 'b', 0}, 8));
}

TEST(Utf8ToUtf16, RefusesMalformedUtf8) {
  for (const std::string bad : {"\x80", "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xed\xa0\x80",
                                "\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80", "\xe2\x82",
                                "ok\xff", "\xc3"}) {
    std::vector<std::byte> field(64, std::byte{1});
    const Utf16Result result = utf8_to_utf16le(bad, field, Overflow::truncate);
    EXPECT_EQ(result.error, TextError::invalid_utf8) << ::testing::PrintToString(bad);
    EXPECT_EQ(field, std::vector<std::byte>(64));
    EXPECT_FALSE(is_valid_utf8(bad));
  }
}

TEST(Utf8ToUtf16, RefusesANulItCannotRepresent) {
  std::vector<std::byte> field(64);
  EXPECT_EQ(utf8_to_utf16le(std::string("a\0b", 3), field, Overflow::reject).error,
            TextError::embedded_nul);
}

TEST(Utf8ToUtf16, RefusesAFieldWithoutRoomForTheTerminator) {
  std::vector<std::byte> field(1);
  EXPECT_EQ(utf8_to_utf16le("", field, Overflow::truncate).error, TextError::too_long);
}

TEST(IsValidUtf8, AcceptsEveryWellFormedLength) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80"
                            "\xf4\x8f\xbf\xbf"));
}

TEST(TextError, EveryValueHasAName) {
  EXPECT_STREQ(to_string(TextError::none), "none");
  EXPECT_STREQ(to_string(TextError::too_long), "too_long");
  EXPECT_STREQ(to_string(static_cast<TextError>(77)), "unknown");
}

// is_valid_utf8 skips ASCII eight bytes at a time: a bad or good sequence
// at every offset of an ASCII run, and at its end, is still judged.
TEST(IsValidUtf8, JudgesEverySequenceWhereverItSitsInAnAsciiRun) {
  const std::vector<std::string> bad{"\xff", "\x80", "\xc3", "\xe2\x82", "\xed\xa0\x80", "\xc0\xaf"};
  const std::vector<std::string> good{"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x94\x91", std::string(1, '\0')};
  for (std::size_t at = 0; at <= 24; ++at) {
    for (const std::size_t after : {std::size_t{0}, std::size_t{1}, std::size_t{9}}) {
      const std::string before(at, 'a');
      const std::string tail(after, 'z');
      for (const std::string& sequence : bad) {
        EXPECT_FALSE(is_valid_utf8(before + sequence + tail)) << at << " " << after;
      }
      for (const std::string& sequence : good) {
        EXPECT_TRUE(is_valid_utf8(before + sequence + tail)) << at << " " << after;
      }
    }
  }
  EXPECT_TRUE(is_valid_utf8(std::string(1000, 'x')));
  EXPECT_FALSE(is_valid_utf8(std::string(1000, 'x') + "\xc3"));
}

}  // namespace
}  // namespace uvmbus::kvp
