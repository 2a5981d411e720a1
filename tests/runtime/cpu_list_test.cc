// parse_cpu_list: the core-list syntax, its errors and their subjects.
#include "uvmbus/runtime/cpu_list.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace uvmbus::runtime {
namespace {

using Cpus = std::vector<unsigned>;

Cpus parsed(std::string_view list) {
  auto cpus = parse_cpu_list(list);
  EXPECT_TRUE(cpus.has_value()) << list << ": " << to_string(cpus.error().code);
  return cpus ? *cpus : Cpus{};
}

RuntimeError rejection(std::string_view list) {
  auto cpus = parse_cpu_list(list);
  EXPECT_FALSE(cpus.has_value()) << list;
  return cpus ? RuntimeError{RuntimeErrorCode::invalid_config} : cpus.error();
}

TEST(CpuList, SingleCpusAndRangesExpandInTheOrderWritten) {
  EXPECT_EQ(parsed("0"), (Cpus{0}));
  EXPECT_EQ(parsed("0,1"), (Cpus{0, 1}));
  EXPECT_EQ(parsed("2-5"), (Cpus{2, 3, 4, 5}));
  EXPECT_EQ(parsed("0,2-3"), (Cpus{0, 2, 3}));
  EXPECT_EQ(parsed("7,1-2,4"), (Cpus{7, 1, 2, 4}));
  EXPECT_EQ(parsed("3-3"), (Cpus{3}));
  EXPECT_EQ(parsed("8191"), (Cpus{kMaxCpu}));
}

TEST(CpuList, MalformedListsNameTheOffsetOfTheProblem) {
  struct Case {
    std::string list;
    uint32_t offset;
  };
  const Case cases[] = {
      {"", 0},      {",", 0},     {"1,", 2},   {",1", 0},   {"1,,2", 2}, {"a", 0},
      {"1a", 1},    {" 1", 0},    {"1 ", 1},   {"1-", 2},   {"-1", 0},   {"1--2", 2},
      {"3-1", 0},   {"0,5-2", 2}, {"1-2-3", 3}, {"+1", 0},  {"1;2", 1},
  };
  for (const Case& c : cases) {
    const RuntimeError error = rejection(c.list);
    EXPECT_EQ(error.code, RuntimeErrorCode::malformed_cpu_list) << '"' << c.list << '"';
    EXPECT_EQ(error.subject, c.offset) << '"' << c.list << '"';
  }
}

TEST(CpuList, NumbersAboveTheLargestCpuAreOutOfRange) {
  RuntimeError error = rejection("8192");
  EXPECT_EQ(error.code, RuntimeErrorCode::cpu_out_of_range);
  EXPECT_EQ(error.subject, 8192u);

  error = rejection("0-100000");
  EXPECT_EQ(error.code, RuntimeErrorCode::cpu_out_of_range);
  EXPECT_EQ(error.subject, 100000u);

  // Too many digits for 32 bits: the subject saturates instead of wrapping.
  error = rejection("1,99999999999999999999999");
  EXPECT_EQ(error.code, RuntimeErrorCode::cpu_out_of_range);
  EXPECT_EQ(error.subject, UINT32_MAX);
}

TEST(CpuList, ACpuNamedTwiceIsRejected) {
  RuntimeError error = rejection("0,0");
  EXPECT_EQ(error.code, RuntimeErrorCode::duplicate_cpu);
  EXPECT_EQ(error.subject, 0u);

  error = rejection("1-4,3");
  EXPECT_EQ(error.code, RuntimeErrorCode::duplicate_cpu);
  EXPECT_EQ(error.subject, 3u);

  error = rejection("5,2-6");
  EXPECT_EQ(error.code, RuntimeErrorCode::duplicate_cpu);
  EXPECT_EQ(error.subject, 5u);
}

}  // namespace
}  // namespace uvmbus::runtime
