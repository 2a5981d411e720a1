// Runs the real uvmbus-perf binary (path in $UVMBUS_PERF): option errors exit
// non-zero naming the option, and a short run's JSON has every field with
// sane values. No assertion depends on how fast anything ran.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>
#include <string>

#include "perf_process.h"

namespace {

using uvmbus::perf::test::positive_finite;
using uvmbus::perf::test::PerfRun;
using uvmbus::perf::test::run_perf;
using uvmbus::perf::test::RejectsBadOption;
using uvmbus::perf::test::BadOption;

TEST_P(RejectsBadOption, ExitsNonZeroNamingTheProblem) {
  const PerfRun run = run_perf(GetParam().args);
  EXPECT_NE(run.exit_code, 0) << run.out;
  EXPECT_NE(run.err.find(GetParam().message), std::string::npos) << "stderr: " << run.err;
  EXPECT_TRUE(run.out.empty() || run.out.find('[') == std::string::npos) << run.out;
}

INSTANTIATE_TEST_SUITE_P(
    RingOptions, RejectsBadOption,
    testing::Values(BadOption{"ring --impl uvmbus,nonesuch", "--impl"},
                    BadOption{"ring --payload 0", "--payload"},
                    BadOption{"ring --payload 5000", "--payload"},
                    BadOption{"ring --batch 0", "--batch"},
                    BadOption{"ring --batch 300", "--batch"},
                    BadOption{"ring --cores 1", "--cores"},
                    BadOption{"ring --cores a,b", "--cores"},
                    BadOption{"ring --cores 0,0", "--cores"},
                    BadOption{"ring --cores 0,1,2", "--cores"},
                    BadOption{"ring --cores 0,99999", "CPU 99999"},
                    BadOption{"ring --ring-size 4096", "--ring-size"},
                    BadOption{"ring --ring-size 10000", "--ring-size"},
                    BadOption{"ring --reader sideways", "--reader"},
                    BadOption{"ring --consumer maybe", "--consumer"},
                    BadOption{"ring --mode burst", "--mode"},
                    BadOption{"ring --duration 0", "--duration"},
                    BadOption{"ring --repeat 0", "--repeat"},
                    BadOption{"ring --sweep --payload 64", "--sweep"},
                    BadOption{"ring --frobnicate", "frobnicate"},
                    BadOption{"", "subcommand"}));

TEST(ShortRun, PrintsOneRecordPerCaseWithEveryField) {
  const PerfRun run = run_perf("ring --duration 0.2 --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto records = nlohmann::json::parse(run.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(records.is_array()) << run.out;
  ASSERT_FALSE(records.empty());

  std::set<std::string> impls;
  for (const auto& record : records) {
    SCOPED_TRACE(record.dump());
    EXPECT_EQ(record["scenario"], "ring");
    impls.insert(record["impl"].get<std::string>());
    EXPECT_FALSE(record["machine"]["cpu_model"].get<std::string>().empty());
    EXPECT_GE(record["machine"]["cores"].get<int>(), 2);
    EXPECT_FALSE(record["machine"]["kernel"].get<std::string>().empty());

    const bool vmbus = record["impl"] == "uvmbus" || record["impl"] == "uvmbus-unbatched";
    if (vmbus) {
      EXPECT_TRUE(record["reader"] == "copy" || record["reader"] == "inplace");
    } else {
      EXPECT_TRUE(record["reader"].is_null());
      EXPECT_EQ(record["consumer"], "poll");
    }
    EXPECT_TRUE(record["consumer"] == "poll" || record["consumer"] == "interrupt");
    EXPECT_GE(record["payload_bytes"].get<int>(), 8);
    EXPECT_GE(record["batch"].get<int>(), 1);

    for (const char* rate : {"mpps", "gbit_per_s", "ns_per_pkt", "cycles_per_pkt"}) {
      EXPECT_TRUE(positive_finite(record[rate])) << rate;
    }
    ASSERT_TRUE(record["signals_per_pkt"].is_number());
    if (record["consumer"] == "poll") {
      EXPECT_EQ(record["signals_per_pkt"].get<double>(), 0) << "a polling consumer is never signalled";
    }
    if (record["impl"] == "uvmbus" && record["mode"] == "stream") {
      EXPECT_LE(record["signals_per_pkt"].get<double>(), 1.0 / record["batch"].get<double>())
          << "at most one signal per batch";
    }

    if (record["mode"] == "pingpong") {
      EXPECT_TRUE(positive_finite(record["p50_ns"]));
      EXPECT_LE(record["p50_ns"].get<double>(), record["p99_ns"].get<double>());
      EXPECT_LE(record["p99_ns"].get<double>(), record["p999_ns"].get<double>());
    } else {
      EXPECT_EQ(record["mode"], "stream");
      EXPECT_TRUE(record["p50_ns"].is_null());
      EXPECT_TRUE(record["p99_ns"].is_null());
      EXPECT_TRUE(record["p999_ns"].is_null());
    }
  }
  EXPECT_TRUE(impls.contains("uvmbus"));
  EXPECT_TRUE(impls.contains("uvmbus-unbatched"));
  EXPECT_TRUE(impls.contains("cacheline"));
  EXPECT_TRUE(impls.contains("rte_ring") || run.err.find("rte_ring skipped") != std::string::npos);
}

// One 4 KiB packet fills an 8 KiB ring: in interrupt mode the producer
// sleeps on every packet until the reader's space signal, and the reader
// sleeps until the producer's data signal.
TEST(ShortRun, FullRingInInterruptModeSignalsBothWays) {
  const PerfRun run = run_perf("ring --mode stream --consumer interrupt --impl uvmbus --payload 4096 "
                               "--ring-size 8K --batch 1 --duration 0.2 --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto records = nlohmann::json::parse(run.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(records.is_array()) << run.out;
  ASSERT_EQ(records.size(), 2U) << run.out;  // copy and in-place readers
  for (const auto& record : records) {
    SCOPED_TRACE(record.dump());
    EXPECT_TRUE(positive_finite(record["mpps"]));
    EXPECT_GT(record["signals_per_pkt"].get<double>(), 0);
    EXPECT_LE(record["signals_per_pkt"].get<double>(), 2) << "at most one signal each way per packet";
  }
}

TEST(ShortRun, TableEndsWithTheTargetChecks) {
  const PerfRun run = run_perf("ring --duration 0.05 --impl uvmbus,uvmbus-unbatched,cacheline --reader copy "
                           "--consumer poll");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("uvmbus / uvmbus-unbatched Mpps"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("ping-pong p50 uvmbus / cacheline"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("uvmbus / rte_ring Mpps (64 B, batch 32, copy reader, poll): not measured"),
            std::string::npos)
      << run.out;
}

}  // namespace
