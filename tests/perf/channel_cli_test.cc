// `uvmbus-perf channel` as a user runs it: bad options fail naming the
// option, a short run with the embedded host prints channel and raw-ring
// records with every field, and the user transport works against a host
// served from this test process (UserListener + VmbusServer, as hostd
// runs them). No assertion depends on how fast anything ran.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <poll.h>

#include <atomic>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>

#include "perf_process.h"
#include "scratch_dir.h"
#include "uvmbus/channel/user_host_transport.h"
#include "uvmbus/host/builtin_devices.h"
#include "uvmbus/host/vmbus_server.h"
#include "uvmbus/runtime/affinity.h"
#include "uvmbus/runtime/topology.h"
#include "uvmbus/runtime/worker.h"

namespace uvmbus::perf::test {
namespace {

INSTANTIATE_TEST_SUITE_P(
    ChannelOptions, RejectsBadOption,
    testing::Values(BadOption{"channel --transport pigeon", "--transport"},
                    BadOption{"channel --transport user", "--socket"},
                    BadOption{"channel --socket /tmp/x.sock", "--socket"},
                    BadOption{"channel --mode pingpong", "--mode"},
                    BadOption{"channel --consumer interrupt", "--consumer"},
                    BadOption{"channel --impl channel,nonesuch", "--impl"},
                    BadOption{"channel --payload 4", "--payload"},
                    BadOption{"channel --payload 5000", "--payload"},
                    BadOption{"channel --batch 0", "--batch"},
                    BadOption{"channel --batch 300", "--batch"},
                    BadOption{"channel --ring-size 10000", "--ring-size"},
                    BadOption{"channel --idle-threshold -1", "--idle-threshold"},
                    BadOption{"channel --sweep --batch 8", "--sweep"},
                    BadOption{"channel --cores 0,0", "--cores"},
                    BadOption{"channel --duration 0", "--duration"},
                    BadOption{"channel --transport user --socket /nonexistent/vmbus.sock --duration 0.05",
                              "cannot connect"}));

// Checks the fields every channel record has; returns "impl mode consumer".
std::string check_record(const nlohmann::json& record, const char* transport) {
  SCOPED_TRACE(record.dump());
  EXPECT_EQ(record["scenario"], "channel");
  EXPECT_FALSE(record["machine"]["cpu_model"].get<std::string>().empty());
  const bool ring = record["impl"] == "ring";
  EXPECT_TRUE(ring || record["impl"] == "channel");
  if (ring) {
    EXPECT_TRUE(record["transport"].is_null());
    EXPECT_EQ(record["consumer"], "poll");
    EXPECT_TRUE(record["vs_ring"].is_null());
    EXPECT_TRUE(record["guest_sig_per_pkt"].is_null());
  } else {
    EXPECT_EQ(record["transport"], transport);
    EXPECT_TRUE(record["consumer"] == "poll" || record["consumer"] == "adaptive");
    EXPECT_TRUE(positive_finite(record["vs_ring"]));
    EXPECT_GE(record["guest_sig_per_pkt"].get<double>(), 0);
    EXPECT_GE(record["host_sig_per_pkt"].get<double>(), 0);
    EXPECT_NEAR(record["guest_sig_per_pkt"].get<double>() + record["host_sig_per_pkt"].get<double>(),
                record["signals_per_pkt"].get<double>(), 1e-9);
  }
  EXPECT_TRUE(record["mode"] == "stream" || record["mode"] == "echo");
  EXPECT_EQ(record["reader"], "copy");
  EXPECT_EQ(record["payload_bytes"], 64);
  EXPECT_EQ(record["batch"], record["mode"] == "echo" ? 1 : 32);
  for (const char* rate : {"mpps", "gbit_per_s", "ns_per_pkt", "cycles_per_pkt"}) {
    EXPECT_TRUE(positive_finite(record[rate])) << rate;
  }
  // A polling host masks the guest's doorbell and the guest masks the host's.
  if (record["consumer"] == "poll") {
    EXPECT_EQ(record["signals_per_pkt"].get<double>(), 0);
  }
  EXPECT_LE(record["signals_per_pkt"].get<double>(), 1);
  if (record["mode"] == "echo") {
    EXPECT_TRUE(positive_finite(record["p50_ns"]));
    EXPECT_LE(record["p50_ns"].get<double>(), record["p99_ns"].get<double>());
  } else {
    EXPECT_TRUE(record["p50_ns"].is_null());
  }
  return record["impl"].get<std::string>() + " " + record["mode"].get<std::string>() + " " +
         record["consumer"].get<std::string>();
}

TEST(ChannelRun, EmbeddedHostPrintsChannelAndRingRecords) {
  const PerfRun run = run_perf("channel --duration 0.05 --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto records = nlohmann::json::parse(run.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(records.is_array()) << run.out;
  std::set<std::string> seen;
  for (const auto& record : records) {
    seen.insert(check_record(record, "loopback"));
  }
  EXPECT_EQ(seen, (std::set<std::string>{"ring stream poll", "channel stream poll", "channel stream adaptive",
                                         "ring echo poll", "channel echo poll", "channel echo adaptive"}));
}

TEST(ChannelRun, TableEndsWithTheTargetChecks) {
  const PerfRun run = run_perf("channel --mode stream --duration 0.05");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  for (const char* check : {"channel / ring Mpps (loopback, stream, 64 B, batch 32, poll host)",
                            "signals per 32 packets, adaptive host (loopback"}) {
    EXPECT_NE(run.out.find(check), std::string::npos) << run.out;
  }
  EXPECT_NE(run.out.find("vs_ring"), std::string::npos) << run.out;
}

// A VMBus host on a `user` socket in this process: hostd's pieces without
// the daemon. One adaptive device worker, echo and sink.
class UserSocketHost {
 public:
  UserSocketHost() {
    auto topology = runtime::Topology::load();
    if (!topology) {
      throw std::runtime_error("topology");
    }
    auto worker = runtime::Worker::start(*topology, {.cpu = runtime::allowed_cpus().back()});
    if (!worker) {
      throw std::runtime_error("worker");
    }
    worker_ = std::move(*worker);
    auto server = host::VmbusServer::start({.workers = {worker_.get()}, .limits = {}});
    if (!server) {
      throw std::runtime_error("server");
    }
    server_ = std::move(*server);
    server_->add_device(host::make_echo_device(wire::guid_literal("5e1ec7ed-ec40-4000-8000-0000000000f1")));
    server_->add_device(host::make_sink_device(wire::guid_literal("5e1ec7ed-51a4-4000-8000-0000000000f2")));
    auto listener = channel::UserListener::listen(socket_path());
    if (!listener) {
      throw std::runtime_error("listen: " + channel::describe(listener.error()));
    }
    listener_ = std::move(*listener);
    thread_ = std::thread([this] { serve(); });
  }

  ~UserSocketHost() {
    stop_ = true;
    thread_.join();
    server_.reset();
    worker_.reset();
  }

  std::string socket_path() const { return directory_.path() / "vmbus.sock"; }

 private:
  void serve() {
    while (!stop_) {
      pollfd ready{.fd = listener_->fd(), .events = POLLIN, .revents = 0};
      poll(&ready, 1, 10);
      for (channel::AcceptResult result = listener_->accept(); result.status != channel::AcceptStatus::none;
           result = listener_->accept()) {
        if (result.status == channel::AcceptStatus::partition) {
          const std::string name = result.partition->partition().name;
          server_->add_partition(std::move(result.partition), name);
        }
      }
    }
  }

  test_support::ScratchDir directory_{"uvmbus-perf-user"};
  std::unique_ptr<runtime::Worker> worker_;
  std::unique_ptr<host::VmbusServer> server_;
  std::unique_ptr<channel::UserListener> listener_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(ChannelRun, UserTransportReachesAHostOnTheSocket) {
  UserSocketHost host;
  const PerfRun run = run_perf("channel --transport user --socket " + host.socket_path() +
                               " --impl channel --duration 0.05 --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto records = nlohmann::json::parse(run.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(records.is_array()) << run.out;
  std::set<std::string> seen;
  for (const auto& record : records) {
    SCOPED_TRACE(record.dump());
    EXPECT_EQ(record["impl"], "channel");
    EXPECT_EQ(record["transport"], "user");
    EXPECT_TRUE(record["vs_ring"].is_null()) << "no ring rows were asked for";
    EXPECT_TRUE(positive_finite(record["mpps"]));
    seen.insert(record["mode"].get<std::string>() + " " + record["consumer"].get<std::string>());
  }
  EXPECT_EQ(seen, (std::set<std::string>{"stream adaptive", "echo adaptive"}));
}

}  // namespace
}  // namespace uvmbus::perf::test
