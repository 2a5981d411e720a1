// End to end: a real uvmbus-hostd process ($HOSTD_BINARY) started by the
// test, guests on its `user` socket (VmbusConnection + UserTransport in
// this process, or in a forked child), and the real uvmbus-host
// ($HOST_CLI_BINARY) to administer it: offers, echo and sink with
// completions, sub-channels, GPA-direct, hot-add/remove while a guest is
// connected, two guests, restart, SIGKILL of hostd mid-stream, SIGKILL of a
// guest process mid-stream, the allow-list, the control socket's
// permissions, and start-up errors.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <thread>

#include "builtin_device_checks.h"
#include "host_cli.h"
#include "hostd_options.h"
#include "hostd_process.h"
#include "loopback_fixture.h"
#include "shapes.h"
#include "uvmbus/channel/user_transport.h"
#include "uvmbus/channel/vmbus_connection.h"
#include "uvmbus/host/builtin_devices.h"
#include "uvmbus/wire/bytes.h"

namespace uvmbus::hostd::test {
namespace {

using channel::test::receive;
using channel::test::send_one;
using channel::test::small_rings;
using host::test::echoes;
using host::test::eventually;
using host::test::expect_gpa_direct_checksum;
using host::test::request_subchannels;
using host::test::text;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr wire::Guid kHotInstance = wire::guid_literal("0407ad00-0000-4000-8000-0000000000a3");

wire::Guid vm_id(uint8_t number) {
  wire::Guid id = wire::guid_literal("0f0e0d0c-0b0a-4908-8706-050403020100");
  id.bytes[15] = number;
  return id;
}


// A guest partition on hostd's socket, driven from the test's thread.
struct Guest {
  channel::GuestMemory memory;
  std::unique_ptr<channel::UserTransport> transport;
  std::unique_ptr<channel::VmbusConnection> connection;

  // Connects and runs the control protocol; nullptr (and why) on failure.
  static std::unique_ptr<Guest> connect(const std::string& socket, const std::string& name, uint8_t id,
                                        std::string* why = nullptr) {
    auto guest = std::make_unique<Guest>();
    if (!guest->memory.add_region(8 << 20)) {
      throw std::runtime_error("guest memory");
    }
    auto transport = channel::UserTransport::connect(socket, {.vm_id = vm_id(id), .name = name});
    if (!transport) {
      if (why != nullptr) {
        *why = channel::describe(transport.error());
      }
      return nullptr;
    }
    guest->transport = std::move(*transport);
    auto connection = channel::VmbusConnection::connect(*guest->transport, guest->memory,
                                                        channel::test::quick_options(3s));
    if (!connection) {
      if (why != nullptr) {
        *why = channel::to_string(connection.error());
      }
      return nullptr;
    }
    guest->connection = std::move(*connection);
    return guest;
  }
  uint32_t relid_of(const wire::Guid& instance, uint16_t subchannel = 0) const {
    for (const channel::Offer& offer : connection->offers()) {
      if (offer.instance_id == instance && offer.subchannel_index == subchannel) {
        return offer.relid;
      }
    }
    return 0;
  }
  channel::Channel& open(uint32_t relid) {
    auto opened = connection->open_channel(relid, small_rings());
    if (!opened) {
      throw std::runtime_error(std::string("open: ") + channel::to_string(opened.error()));
    }
    return **opened;
  }
  bool wait_event(channel::ClientEventType type, uint32_t relid) {
    return eventually([&] {
      connection->pump(1ms);
      while (const auto event = connection->next_event()) {
        if (event->type == type && (relid == 0 || event->relid == relid)) {
          return true;
        }
      }
      return false;
    });
  }
  // Pumps until the host is gone.
  bool wait_host_gone(std::chrono::milliseconds timeout) {
    return eventually([&] { return !connection->pump(1ms); }, timeout);
  }
};

class HostdEndToEnd : public ::testing::Test {
 protected:
  void start(std::vector<std::string> extra = {}) {
    hostd_ = std::make_unique<HostdProcess>(dir_.path(), std::move(extra));
    ASSERT_GT(hostd_->pid(), 0);
    ASSERT_TRUE(hostd_->wait_ready()) << hostd_->log();
  }
  CliRun cli(std::vector<std::string> args) {
    args.insert(args.begin(), {"--control", hostd_->control_socket()});
    return run_cli(args);
  }
  // `uvmbus-host partitions --json`, parsed.
  std::vector<hostctl::PartitionInfo> partitions() {
    const CliRun run = cli({"partitions", "--json"});
    EXPECT_EQ(run.exit_code, 0) << run.err;
    return json::parse(run.out).get<std::vector<hostctl::PartitionInfo>>();
  }
  std::optional<hostctl::PartitionInfo> partition(const std::string& name) {
    for (hostctl::PartitionInfo& info : partitions()) {
      if (info.name == name) {
        return info;
      }
    }
    return std::nullopt;
  }
  std::unique_ptr<Guest> guest(const std::string& name, uint8_t id) {
    std::string why;
    auto connected = Guest::connect(hostd_->guest_socket(), name, id, &why);
    if (!connected) {
      ADD_FAILURE() << "guest " << name << ": " << why << "\n" << hostd_->log();
    }
    return connected;
  }

  ScratchDir dir_;
  std::unique_ptr<HostdProcess> hostd_;
};

TEST_F(HostdEndToEnd, OffersTheDefaultDevicesEchoesCompletesAndCountsPerChannel) {
  start();
  auto g = guest("alpha", 1);
  ASSERT_TRUE(g);
  ASSERT_EQ(g->connection->offers().size(), 2u);
  const channel::Offer* echo = g->connection->offer(g->relid_of(kDefaultEchoInstance));
  const channel::Offer* sink = g->connection->offer(g->relid_of(kDefaultSinkInstance));
  ASSERT_NE(echo, nullptr);
  ASSERT_NE(sink, nullptr);
  EXPECT_EQ(echo->class_id, host::kEchoClassGuid);
  EXPECT_EQ(sink->class_id, host::kSinkClassGuid);

  channel::Channel& echo_channel = g->open(echo->relid);
  ASSERT_EQ(send_one(echo_channel, text("in-band")).sent, 1u);
  const auto echoed = receive(echo_channel, 1);
  ASSERT_EQ(echoed.size(), 1u);
  EXPECT_EQ(echoed[0].kind, channel::PacketKind::inband);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(echoes(echo_channel, "request " + std::to_string(i)));
  }
  channel::Channel& sink_channel = g->open(sink->relid);
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(send_one(sink_channel, text("into the sink")).sent, 1u);
  }
  ASSERT_EQ(send_one(sink_channel, text("done?"), channel::SendKind::request, 5).sent, 1u);
  const auto completed = receive(sink_channel, 1);
  ASSERT_EQ(completed.size(), 1u);
  EXPECT_EQ(completed[0].kind, channel::PacketKind::completion);
  EXPECT_EQ(completed[0].cookie, 5u);

  const CliRun stats = cli({"stats", "--partition", "alpha", "--json"});
  ASSERT_EQ(stats.exit_code, 0) << stats.err;
  const auto selected = json::parse(stats.out).get<std::vector<hostctl::PartitionInfo>>();
  ASSERT_EQ(selected.size(), 1u);
  EXPECT_EQ(selected[0].channels_open, 2u);
  for (const hostctl::ChannelInfo& channel : selected[0].channels) {
    EXPECT_EQ(channel.state, "open");
    if (channel.device == "echo") {
      EXPECT_EQ(channel.packets_in, 21u);
      EXPECT_EQ(channel.packets_out, 21u);
      EXPECT_GT(channel.bytes_in, 0u);
    } else {
      EXPECT_EQ(channel.packets_in, 11u);
      EXPECT_EQ(channel.packets_out, 1u);
    }
  }
  const CliRun table = cli({"stats"});
  EXPECT_EQ(table.exit_code, 0);
  EXPECT_NE(table.out.find("SIG-AVOIDED"), std::string::npos);
  EXPECT_NE(table.out.find("1:alpha"), std::string::npos) << table.out;

  EXPECT_EQ(g->connection->close_channel(echo->relid), channel::ControlError::none);
  EXPECT_EQ(g->connection->close_channel(sink->relid), channel::ControlError::none);
  EXPECT_TRUE(eventually([&] {
    const auto info = partition("alpha");
    return info && info->channels_open == 0 && info->gpadls == 0;
  })) << hostd_->log();
}

TEST_F(HostdEndToEnd, SubchannelsOnRequestAndGpaDirectIntoRegisteredMemory) {
  start({"--device", "echo:" + wire::to_string(kHotInstance)});
  auto g = guest("multi", 2);
  ASSERT_TRUE(g);
  const uint32_t primary = g->relid_of(kHotInstance);
  ASSERT_NE(primary, 0u);
  channel::Channel& channel = g->open(primary);
  const auto subchannels = request_subchannels(*g->connection, channel, primary, 3);
  ASSERT_EQ(subchannels.size(), 3u);
  for (const channel::Offer& offer : subchannels) {
    EXPECT_TRUE(echoes(g->open(offer.relid), "sub-channel " + std::to_string(offer.subchannel_index)));
  }
  EXPECT_EQ(partition("multi")->channels_open, 4u);

  expect_gpa_direct_checksum(channel, g->memory);
  for (const channel::Offer& offer : subchannels) {
    EXPECT_EQ(g->connection->close_channel(offer.relid), channel::ControlError::none);
  }
}

TEST_F(HostdEndToEnd, HotAddAndHotRemoveThroughTheCliWhileAGuestIsConnected) {
  start();
  auto g = guest("hot", 3);
  ASSERT_TRUE(g);
  const std::string instance = wire::to_string(kHotInstance);
  CliRun added = cli({"add-device", "echo", "--instance", instance, "--subchannels", "0"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  EXPECT_EQ(added.out, "added echo " + instance + " (class " + wire::to_string(host::kEchoClassGuid) +
                           ", up to 0 sub-channels)\n");
  EXPECT_EQ(cli({"add-device", "sink", "--instance", instance}).exit_code, hostcli::kExitRefused);
  ASSERT_TRUE(g->wait_event(channel::ClientEventType::offer, 0));
  const uint32_t relid = g->relid_of(kHotInstance);
  ASSERT_NE(relid, 0u);
  channel::Channel& channel = g->open(relid);
  EXPECT_TRUE(echoes(channel, "hot"));
  const auto devices = json::parse(cli({"devices", "--json"}).out).get<std::vector<hostctl::DeviceInfo>>();
  EXPECT_EQ(devices.size(), 3u);

  const CliRun removed = cli({"remove-device", instance});
  ASSERT_EQ(removed.exit_code, 0) << removed.err;
  ASSERT_TRUE(g->wait_event(channel::ClientEventType::rescind, relid));
  EXPECT_TRUE(channel.ended());
  EXPECT_EQ(channel.end_reason(), channel::ChannelEnd::rescinded);
  g->connection->close_channel(relid);  // RelIdReleased
  EXPECT_EQ(cli({"remove-device", instance}).exit_code, hostcli::kExitNotFound);
  EXPECT_EQ(json::parse(cli({"devices", "--json"}).out).size(), 2u);
  EXPECT_TRUE(eventually([&] {
    const auto info = partition("hot");
    return info && info->channels.size() == 2 && info->gpadls == 0;
  }));
}

TEST_F(HostdEndToEnd, TwoGuestsAtOnceAreListedWithTheirIdentities) {
  start();
  auto a = guest("alpha", 1);
  auto b = guest("beta", 2);
  ASSERT_TRUE(a && b);
  channel::Channel& ca = a->open(a->relid_of(kDefaultEchoInstance));
  channel::Channel& cb = b->open(b->relid_of(kDefaultEchoInstance));
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(echoes(ca, "a" + std::to_string(i)));
    ASSERT_TRUE(echoes(cb, "b" + std::to_string(i)));
  }
  const auto listed = partitions();
  ASSERT_EQ(listed.size(), 2u);
  for (const hostctl::PartitionInfo& info : listed) {
    EXPECT_EQ(info.pid, getpid());
    EXPECT_EQ(info.uid, static_cast<int64_t>(getuid()));
    EXPECT_EQ(info.state, "offers_sent");
    EXPECT_EQ(info.version, "6.0");
    EXPECT_EQ(info.vm_id, wire::to_string(vm_id(info.name == "alpha" ? 1 : 2)));
    EXPECT_EQ(info.channels_open, 1u);
  }
  const CliRun table = cli({"partitions"});
  EXPECT_EQ(table.exit_code, 0);
  EXPECT_NE(table.out.find("alpha"), std::string::npos);
  EXPECT_NE(table.out.find("beta"), std::string::npos);
  const CliRun by_vm_id = cli({"stats", "--partition", wire::to_string(vm_id(2)), "--json"});
  ASSERT_EQ(by_vm_id.exit_code, 0);
  EXPECT_EQ(json::parse(by_vm_id.out).at(0)["name"], "beta");
  const CliRun missing = cli({"stats", "--partition", "gamma"});
  EXPECT_EQ(missing.exit_code, hostcli::kExitNotFound);
  EXPECT_NE(missing.err.find("no partition 'gamma'"), std::string::npos);
}

TEST_F(HostdEndToEnd, SigtermRescindsAndCleansUpAndGuestsReconnectToTheNextHostd) {
  start();
  auto g = guest("phoenix", 4);
  ASSERT_TRUE(g);
  channel::Channel& channel = g->open(g->relid_of(kDefaultEchoInstance));
  ASSERT_TRUE(echoes(channel, "before"));
  hostd_->signal(SIGTERM);
  EXPECT_TRUE(g->wait_host_gone(5s));
  EXPECT_TRUE(channel.ended());
  EXPECT_EQ(hostd_->wait_exit(5s), 0) << hostd_->log();
  EXPECT_NE(access(hostd_->guest_socket().c_str(), F_OK), 0);
  EXPECT_NE(access(hostd_->control_socket().c_str(), F_OK), 0);
  const std::string log = hostd_->log();
  EXPECT_NE(log.find("event=stopping signal=TERM"), std::string::npos) << log;
  EXPECT_NE(log.find("event=stopped"), std::string::npos) << log;
  EXPECT_EQ(cli({"ping"}).exit_code, hostcli::kExitNotRunning);
  g.reset();

  start();
  auto again = guest("phoenix", 4);
  ASSERT_TRUE(again);
  EXPECT_TRUE(echoes(again->open(again->relid_of(kDefaultEchoInstance)), "after"));
  ASSERT_EQ(partitions().size(), 1u);
  EXPECT_EQ(partitions()[0].id, 1u);  // a new hostd
}

TEST_F(HostdEndToEnd, SigkillMidStreamEndsTheGuestInBoundedTimeAndStaleSocketsAreReplaced) {
  start();
  auto g = guest("stream", 5);
  ASSERT_TRUE(g);
  channel::Channel& channel = g->open(g->relid_of(kDefaultEchoInstance));
  const std::vector<std::byte> payload(256);
  // Stream in-band packets (echoed back) and drain, then kill hostd mid-stream.
  std::chrono::steady_clock::time_point killed{};
  std::array<channel::ReceivedPacket, 32> packets;
  uint64_t echoed = 0;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!channel.ended() && std::chrono::steady_clock::now() < deadline) {
    [[maybe_unused]] const auto sent = send_one(channel, payload);
    echoed += channel.receive_burst(packets);
    channel.release_received();
    if (echoed > 2000 && killed == std::chrono::steady_clock::time_point{}) {
      hostd_->signal(SIGKILL);
      killed = std::chrono::steady_clock::now();
    }
    if (killed != std::chrono::steady_clock::time_point{}) {
      g->connection->pump(0ms);
    }
  }
  ASSERT_NE(killed, std::chrono::steady_clock::time_point{}) << "only " << echoed << " echoed";
  const auto noticed = std::chrono::steady_clock::now() - killed;
  EXPECT_TRUE(channel.ended());
  EXPECT_EQ(channel.end_reason(), channel::ChannelEnd::host_gone);
  EXPECT_LT(noticed, 2s);
  RecordProperty("host_death_noticed_us",
                 std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(noticed).count()));
  EXPECT_EQ(send_one(channel, payload).sent, 0u);
  EXPECT_EQ(hostd_->wait_exit(2s), -2);
  EXPECT_EQ(access(hostd_->control_socket().c_str(), F_OK), 0);  // left behind by SIGKILL
  g.reset();

  start();  // replaces both stale sockets
  auto again = guest("stream", 5);
  ASSERT_TRUE(again);
  EXPECT_TRUE(echoes(again->open(again->relid_of(kDefaultEchoInstance)), "after the crash"));
}

TEST_F(HostdEndToEnd, AKilledGuestProcessIsReclaimedAndTheOtherGuestIsUnaffected) {
  start();
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t child = fork();
  if (child == 0) {
    // The doomed guest: open echo, keep a GPADL'd ring, stream until killed.
    close(ready[0]);
    auto doomed = Guest::connect(hostd_->guest_socket(), "doomed", 9);
    if (!doomed) {
      _exit(3);
    }
    channel::Channel& channel = doomed->open(doomed->relid_of(kDefaultEchoInstance));
    const char byte = 'r';
    if (!echoes(channel, "child") || write(ready[1], &byte, 1) != 1) {
      _exit(4);
    }
    const std::vector<std::byte> payload(128);
    std::array<channel::ReceivedPacket, 32> packets;
    // Until killed; a bound in case the test dies first.
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      [[maybe_unused]] const auto sent = send_one(channel, payload);
      [[maybe_unused]] const auto got = channel.receive_burst(packets);
      channel.release_received();
    }
    _exit(5);
  }
  close(ready[1]);
  ASSERT_GT(child, 0);
  // Killed on every way out of the test.
  std::unique_ptr<const pid_t, void (*)(const pid_t*)> reaper(&child, [](const pid_t* pid) {
    if (kill(*pid, SIGKILL) == 0) {
      waitpid(*pid, nullptr, 0);
    }
  });
  pollfd wait{.fd = ready[0], .events = POLLIN, .revents = 0};
  char byte = 0;
  ASSERT_EQ(poll(&wait, 1, 10000), 1);
  ASSERT_EQ(read(ready[0], &byte, 1), 1) << hostd_->log();
  close(ready[0]);

  auto survivor = guest("survivor", 1);
  ASSERT_TRUE(survivor);
  channel::Channel& kept = survivor->open(survivor->relid_of(kDefaultEchoInstance));
  const auto doomed = partition("doomed");
  ASSERT_TRUE(doomed);
  EXPECT_EQ(doomed->pid, child);
  EXPECT_EQ(doomed->channels_open, 1u);
  EXPECT_GE(doomed->gpadls, 1u);
  EXPECT_GT(doomed->gpadl_pages, 0u);

  reaper.reset();  // SIGKILL, mid-stream
  EXPECT_TRUE(eventually([&] { return !partition("doomed"); }, 5s)) << hostd_->log();
  const auto left = partitions();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].name, "survivor");
  EXPECT_TRUE(left[0].faults.empty());
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(echoes(kept, "still here " + std::to_string(i)));
  }
  EXPECT_TRUE(eventually([&] { return hostd_->log().find("event=partition_gone") != std::string::npos; }));
  EXPECT_NE(hostd_->log().find("name=doomed"), std::string::npos);
}

TEST_F(HostdEndToEnd, TheAllowListRefusesOtherPartitions) {
  const auto config = dir_.path() / "hostd.json";
  std::ofstream(config) << R"({"allow": {"names": ["welcome"], "uids": [)" << getuid() << "]}}";
  start({"--config", config.string()});
  std::string why;
  EXPECT_EQ(Guest::connect(hostd_->guest_socket(), "intruder", 7, &why), nullptr);
  EXPECT_FALSE(why.empty());
  auto welcome = guest("welcome", 8);
  ASSERT_TRUE(welcome);
  EXPECT_TRUE(echoes(welcome->open(welcome->relid_of(kDefaultEchoInstance)), "in"));
  EXPECT_EQ(partitions().size(), 1u);
  EXPECT_NE(hostd_->log().find("event=partition_refused reason=not_allowed condition=name name=intruder"),
            std::string::npos)
      << hostd_->log();
}

// Runs uvmbus-host as uid/gid 65534 (nobody); returns its exit code.
int cli_as_nobody(const std::vector<std::string>& args) {
  const std::string binary = binary_from_env("HOST_CLI_BINARY");
  const pid_t child = fork();
  if (child == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) {
      _exit(120);
    }
    std::vector<std::string> copy = args;
    std::vector<char*> argv{const_cast<char*>(binary.c_str())};
    for (std::string& arg : copy) {
      argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(121);
  }
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_F(HostdEndToEnd, OtherUsersArePermissionDenied) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "needs root to act as another uid";
  }
  start();
  struct stat status {};
  ASSERT_EQ(stat(hostd_->control_socket().c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 0777, 0600u);
  ASSERT_EQ(chmod(dir_.path().c_str(), 0755), 0);
  // The socket's mode refuses the connection.
  EXPECT_EQ(cli_as_nobody({"--control", hostd_->control_socket(), "ping"}), hostcli::kExitPermission);
  // With the mode opened, hostd's own credentials check refuses it.
  ASSERT_EQ(chmod(hostd_->control_socket().c_str(), 0666), 0);
  EXPECT_EQ(cli_as_nobody({"--control", hostd_->control_socket(), "ping"}), hostcli::kExitPermission);
  EXPECT_NE(hostd_->log().find("event=control_refused reason=permission_denied"), std::string::npos);
  EXPECT_EQ(cli({"ping"}).exit_code, 0);
}

TEST_F(HostdEndToEnd, StartErrorsAreOneLineWithTheirExitCodes) {
  start();
  HostdProcess second(dir_.path());
  EXPECT_EQ(second.wait_exit(10s), kExitUnavailable);
  EXPECT_NE(second.log().find("is served by another process"), std::string::npos) << second.log();
  EXPECT_EQ(cli({"ping"}).exit_code, 0);  // the first is untouched

  ScratchDir other;
  const auto config = other.path() / "bad.json";
  std::ofstream(config) << R"({"devices": [{"type": "echo", "instance": "nope"}]})";
  HostdProcess bad(other.path(), {"--config", config.string()});
  EXPECT_EQ(bad.wait_exit(10s), kExitConfig);
  EXPECT_EQ(bad.log(), "uvmbus-hostd: error: " + config.string() + ": devices[0].instance: bad GUID 'nope'\n");
}

}  // namespace
}  // namespace uvmbus::hostd::test
