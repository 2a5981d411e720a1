// uvmbus-perf kvp as a user runs it: bad options fail naming the problem,
// and a short run against kvpd (in-process and as a real uvmbus-kvpd
// process) prints JSON records with the kvp fields. Never asserts a speed.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "perf_process.h"

namespace uvmbus::perf::test {
namespace {

INSTANTIATE_TEST_SUITE_P(Kvp, RejectsBadOption,
                         testing::Values(BadOption{"kvp --op put", "--op"},
                                         BadOption{"kvp --window 5", "--window"},
                                         BadOption{"kvp --impl remote", "--impl"},
                                         BadOption{"kvp --records 0", "--records"},
                                         BadOption{"kvp --values all", "--values"}));

class KvpRun : public testing::TestWithParam<const char*> {};

TEST_P(KvpRun, PrintsARecordPerOperationWithTheKvpFields) {
  char pattern[] = "/tmp/uvmbus-perf-kvp-test-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  const std::string impl = GetParam();
  const PerfRun run = run_perf("kvp --json --duration 0.05 --records 10 --window 1,2 --impl " + impl +
                               " --pool-root " + pattern);
  std::filesystem::remove_all(pattern);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const nlohmann::json records = nlohmann::json::parse(run.out);
  ASSERT_EQ(records.size(), 6u);  // set, get, enumerate x windows 1, 2
  for (const nlohmann::json& record : records) {
    EXPECT_EQ(record["scenario"], "kvp");
    EXPECT_EQ(record["impl"], impl);
    EXPECT_EQ(record["records"], 10);
    EXPECT_EQ(record["values"], "whole");  // the default
    EXPECT_TRUE(record["op"] == "set" || record["op"] == "get" || record["op"] == "enumerate") << record;
    EXPECT_TRUE(positive_finite(record["ops_per_s"])) << record;
    EXPECT_TRUE(positive_finite(record["p50_us"])) << record;
    EXPECT_TRUE(positive_finite(record["p99_us"])) << record;
    EXPECT_GE(record["p99_us"].get<double>(), record["p50_us"].get<double>());
  }
  // The scratch pool directory is gone.
  EXPECT_FALSE(std::filesystem::exists(pattern) && !std::filesystem::is_empty(pattern));
}

INSTANTIATE_TEST_SUITE_P(Impls, KvpRun, testing::Values("inproc", "process"));

TEST(KvpValues, SmallChangeIsNamedInTheRecords) {
  char pattern[] = "/tmp/uvmbus-perf-kvp-test-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  const PerfRun run = run_perf(std::string("kvp --json --duration 0.05 --records 10 --window 1 --op set "
                                           "--impl inproc --values small-change --pool-root ") + pattern);
  std::filesystem::remove_all(pattern);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const nlohmann::json records = nlohmann::json::parse(run.out);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0]["values"], "small-change");
  EXPECT_TRUE(positive_finite(records[0]["ops_per_s"])) << records[0];
}

}  // namespace
}  // namespace uvmbus::perf::test
