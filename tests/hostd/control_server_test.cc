// hostd's control socket in-process: the command table (registration of
// another command family, dispatch of malformed requests), and the socket
// itself against malformed, oversized, empty and random requests, a client
// of another uid (SO_PEERCRED), the socket file's mode, and deferred
// commands (answered when their work is done, others served meanwhile).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <future>
#include <random>
#include <thread>

#include "control_client.h"
#include "control_server.h"
#include "core_commands.h"
#include "hostd_process.h"
#include "message_socket.h"
#include "socket_path.h"

namespace uvmbus::hostd::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// A VmbusServer without workers (no channel can open; commands need none),
// the core commands, and a ControlServer served by a thread.
class ControlServerTest : public ::testing::Test {
 protected:
  ControlServerTest() {
    config_.devices.push_back({.type = DeviceType::echo, .instance = kDefaultEchoInstance,
                               .max_subchannels = 2, .class_id = std::nullopt});
    server_->add_device(make_device(config_.devices[0]));
    register_core_commands(table_, context_);
  }
  ~ControlServerTest() override {
    stop_ = true;
    if (thread_.joinable()) {
      thread_.join();
    }
  }
  void serve() {
    EXPECT_EQ(prepare_socket_path(path_), "");
    auto control = ControlServer::listen(path_, table_);
    ASSERT_TRUE(control) << control.error();
    control_ = std::move(*control);
    thread_ = std::thread([this] {
      while (!stop_) {
        if (hostctl::wait_readable(control_->fd(), 5ms)) {
          control_->serve();
        }
      }
    });
  }
  json dispatch(std::string_view request) { return table_.dispatch(request).reply; }

  ScratchDir dir_;
  std::string path_ = (dir_.path() / "hostd.sock").string();
  HostdConfig config_;
  static std::unique_ptr<host::VmbusServer> start_server() {
    auto started = host::VmbusServer::start({});
    if (!started) {
      throw std::runtime_error("server");
    }
    return std::move(*started);
  }

  std::unique_ptr<host::VmbusServer> server_ = start_server();
  PartitionDirectory partitions_;
  HostdContext context_{*server_, partitions_, config_};
  CommandTable table_;
  std::unique_ptr<ControlServer> control_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::string error_of(const json& reply) { return reply.value("ok", true) ? "(ok)" : reply["error"].get<std::string>(); }

TEST_F(ControlServerTest, AnotherCommandFamilyRegistersBesideTheCoreOnes) {
  EXPECT_FALSE(table_.add("ping", "again", [](CommandArgs&) { return json{}; }));
  ASSERT_TRUE(table_.add("kvp-test", "a family of its own", [this](CommandArgs& args) {
    const std::optional<std::string> key = args.string("key");
    args.finish();
    return json{{"key", key.value_or("")}, {"devices", context_.server.snapshot().devices.size()}};
  }));
  const json reply = dispatch(R"({"command": "kvp-test", "args": {"key": "k"}})");
  ASSERT_TRUE(reply["ok"].get<bool>()) << reply.dump();
  EXPECT_EQ(reply["result"]["key"], "k");
  EXPECT_EQ(reply["result"]["devices"], 1);
  bool listed = false;
  const json help = dispatch(R"({"command": "help"})");
  for (const json& command : help["result"]) {
    listed |= command["name"] == "kvp-test";
  }
  EXPECT_TRUE(listed);
  ASSERT_TRUE(table_.add("throws", "fails", [](CommandArgs&) -> json { throw std::length_error("boom"); }));
  EXPECT_EQ(error_of(dispatch(R"({"command": "throws"})")), "internal");
}

TEST_F(ControlServerTest, MalformedRequestsGetTheirErrorCodes) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "bad_request"},
      {"not json", "bad_request"},
      {"[]", "bad_request"},
      {"{}", "bad_request"},
      {R"({"command": 5})", "bad_request"},
      {R"({"command": "ping", "args": []})", "bad_request"},
      {R"({"command": "ping", "extra": 1})", "bad_request"},
      {R"({"command": "nope"})", "unknown_command"},
      {R"({"command": "ping", "args": {"x": 1}})", "invalid_argument"},
      {R"({"command": "stats", "args": {"partition": 5}})", "invalid_argument"},
      {R"({"command": "stats", "args": {"partition": "vm-x"}})", "no_such_partition"},
      {R"({"command": "add-device", "args": {"type": "disk"}})", "invalid_argument"},
      {R"({"command": "add-device", "args": {"type": "echo", "instance": "x"}})", "invalid_argument"},
      {R"({"command": "add-device", "args": {"type": "echo", "max_subchannels": 100000}})", "invalid_argument"},
      {R"({"command": "add-device", "args": {"type": "echo", "instance": "5e1ec7ed-ec40-4000-8000-00000000ec01"}})",
       "duplicate_device"},
      {R"({"command": "remove-device", "args": {}})", "invalid_argument"},
      {R"({"command": "remove-device", "args": {"instance": "11111111-2222-4333-8444-555555555555"}})",
       "no_such_device"},
  };
  for (const auto& [request, expected] : cases) {
    const json reply = dispatch(request);
    EXPECT_EQ(error_of(reply), expected) << request;
    EXPECT_TRUE(reply["message"].is_string()) << request;
  }
  EXPECT_EQ(server_->snapshot().devices.size(), 1u);  // nothing changed
}

TEST_F(ControlServerTest, TheSocketIsOwnerOnlyAndSurvivesHostileRequests) {
  serve();
  struct stat status {};
  ASSERT_EQ(stat(path_.c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 0777, 0600u);

  auto client = hostctl::ControlClient::connect(path_);
  ASSERT_TRUE(client);
  auto oversized =
      client->call(json{{"command", "ping"}, {"args", {{"pad", std::string(hostctl::kMaxRequestBytes, 'x')}}}});
  ASSERT_TRUE(oversized);
  EXPECT_EQ(error_of(*oversized), "too_large");
  // Requests of the wrong shape on another connection: each gets an error reply.
  auto other = hostctl::ControlClient::connect(path_);
  ASSERT_TRUE(other);
  std::mt19937 random(7);
  for (int i = 0; i < 100; ++i) {
    std::string text(1 + random() % 200, ' ');
    for (char& c : text) {
      c = static_cast<char>(' ' + random() % 90);
    }
    const json request = i % 2 == 0 ? json::array({i, text}) : json{{"command", text}};
    auto reply = other->call(request);
    ASSERT_TRUE(reply);
    EXPECT_EQ(error_of(*reply), i % 2 == 0 ? "bad_request" : "unknown_command");
  }
  auto ping = client->command("ping");
  ASSERT_TRUE(ping);
  EXPECT_EQ((*ping)["result"]["pid"], getpid());
}

// Raw datagrams, not through ControlClient (which only sends JSON).
TEST_F(ControlServerTest, RawGarbageDatagramsGetErrorRepliesAndAnEmptyOneCloses) {
  serve();
  const int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path_.data(), path_.size());
  ASSERT_EQ(connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);
  std::mt19937 random(11);
  for (int i = 0; i < 200; ++i) {
    std::string junk(1 + random() % 4096, '\0');
    for (char& c : junk) {
      c = static_cast<char>(random());
    }
    ASSERT_EQ(hostctl::send_message(fd, junk), 0);
    ASSERT_TRUE(hostctl::wait_readable(fd, 2s));
    const hostctl::Received reply = hostctl::receive_message(fd, hostctl::kMaxReplyBytes);
    ASSERT_EQ(reply.status, hostctl::ReceiveStatus::message);
    EXPECT_EQ(error_of(json::parse(reply.bytes)), "bad_request");
  }
  ASSERT_EQ(hostctl::send_message(fd, ""), 0);  // an empty datagram reads as EOF: hostd hangs up
  ASSERT_TRUE(hostctl::wait_readable(fd, 2s));
  EXPECT_EQ(hostctl::receive_message(fd, 100).status, hostctl::ReceiveStatus::eof);
  close(fd);
  auto client = hostctl::ControlClient::connect(path_);
  ASSERT_TRUE(client);
  EXPECT_TRUE(client->command("ping"));
}

TEST_F(ControlServerTest, AnotherUidIsRefusedByCredentials) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "needs root to act as another uid";
  }
  serve();
  ASSERT_EQ(chmod(dir_.path().c_str(), 0755), 0);
  ASSERT_EQ(chmod(path_.c_str(), 0666), 0);  // the mode lets anyone connect; the credentials check does not
  const pid_t child = fork();
  if (child == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) {
      _exit(10);
    }
    auto client = hostctl::ControlClient::connect(path_);
    if (!client) {
      _exit(11);
    }
    auto reply = client->command("ping");
    if (!reply) {
      fprintf(stderr, "child: %s\n", reply.error().detail.c_str());
      _exit(13);
    }
    _exit((*reply)["error"] == "permission_denied" ? 0 : 12);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  auto client = hostctl::ControlClient::connect(path_);
  ASSERT_TRUE(client);
  EXPECT_TRUE((*client->command("ping"))["ok"].get<bool>());
}

TEST(SocketPath, ReplacesAStaleSocketButNotALiveOneOrAFile) {
  ScratchDir dir;
  const std::string path = (dir.path() / "sub" / "s.sock").string();
  EXPECT_EQ(prepare_socket_path(path), "");
  struct stat status {};
  ASSERT_EQ(stat((dir.path() / "sub").c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 0777, 0700u);
  const int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.data(), path.size());
  ASSERT_EQ(bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  EXPECT_NE(prepare_socket_path(path).find("served by another process"), std::string::npos);
  close(fd);  // stale now
  EXPECT_EQ(prepare_socket_path(path), "");
  EXPECT_NE(access(path.c_str(), F_OK), 0);
  const std::string file = (dir.path() / "file").string();
  std::ofstream(file) << "x";
  EXPECT_NE(prepare_socket_path(file).find("is not a socket"), std::string::npos);
  EXPECT_NE(prepare_socket_path(std::string(200, 'a')).find("longer than"), std::string::npos);
}

// A deferred command's work runs off the serving thread: other clients are
// answered while it waits, its reply (with the request's id) comes when it
// is done, and an error its work throws becomes the error reply.
TEST_F(ControlServerTest, DeferredCommandsWaitOffTheLoopAndReplyWhenDone) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  table_.add_deferred("slow", "waits for the test", [released](CommandArgs& args) -> Deferred {
    const bool fail = args.number("fail", 1).value_or(0) == 1;
    args.finish();
    return [released, fail]() -> Completion {
      released.wait();
      if (fail) {
        throw CommandError(hostctl::ErrorCode::guest_failed, "the work failed");
      }
      return [] { return json("done"); };
    };
  });
  serve();
  auto waiting = hostctl::ControlClient::connect(path_);
  ASSERT_TRUE(waiting);
  std::thread caller([&] {
    auto reply = waiting->call(json{{"command", "slow"}, {"id", "a"}}, 10s);
    ASSERT_TRUE(reply);
    EXPECT_EQ((*reply)["result"], "done");
    EXPECT_EQ((*reply)["id"], "a");
    auto failed = waiting->call(json{{"command", "slow"}, {"args", {{"fail", 1}}}}, 10s);
    ASSERT_TRUE(failed);
    EXPECT_EQ(error_of(*failed), "guest_failed");
  });
  std::this_thread::sleep_for(50ms);
  auto other = hostctl::ControlClient::connect(path_);
  ASSERT_TRUE(other);
  auto pong = other->command("ping");
  ASSERT_TRUE(pong);
  EXPECT_EQ((*pong)["ok"], true);
  EXPECT_EQ(error_of(*other->call(json{{"command", "slow"}, {"args", {{"bad", 1}}}})), "invalid_argument");
  EXPECT_EQ(error_of(*other->call(json{{"command", "ping"}, {"id", -1}})), "bad_request");
  release.set_value();
  caller.join();
}

}  // namespace
}  // namespace uvmbus::hostd::test
