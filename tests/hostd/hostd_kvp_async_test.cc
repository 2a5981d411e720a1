// hostd's kvp-* commands against a real uvmbus-hostd --kvp: a guest that
// opens the KVP channel and never answers does not stall hostd (other
// admin clients and guest connects are served meanwhile; the bound on
// waiting requests; a client that leaves early; SIGTERM with calls waiting),
// a 10,000-item pool listed page by page through uvmbus-host (text and one
// --json document), hostile paging arguments, and the request size cap at
// the key and value limits in 3- and 4-byte UTF-8, raw and \u-escaped.
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <fstream>
#include <thread>

#include "control_client.h"
#include "control_protocol.h"
#include "hostd_process.h"
#include "message_socket.h"
#include "uvmbus/channel/user_transport.h"
#include "uvmbus/channel/vmbus_connection.h"
#include "uvmbus/wire/ic.h"

namespace uvmbus::hostd::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A guest partition; with `open_kvp` it opens the KVP channel and then
// never reads it (the host's NEGOTIATE and requests go unanswered).
struct SilentGuest {
  channel::GuestMemory memory;
  std::unique_ptr<channel::UserTransport> transport;
  std::unique_ptr<channel::VmbusConnection> connection;

  static std::unique_ptr<SilentGuest> connect(const std::string& socket, const std::string& name, uint8_t id,
                                              bool open_kvp) {
    auto guest = std::make_unique<SilentGuest>();
    if (!guest->memory.add_region(1 << 20)) {
      return nullptr;
    }
    wire::Guid vm = wire::guid_literal("1f0e0d0c-0b0a-4908-8706-050403020100");
    vm.bytes[15] = id;
    auto transport = channel::UserTransport::connect(socket, {.vm_id = vm, .name = name});
    if (!transport) {
      return nullptr;
    }
    guest->transport = std::move(*transport);
    auto connection = channel::VmbusConnection::connect(*guest->transport, guest->memory, {});
    if (!connection) {
      return nullptr;
    }
    guest->connection = std::move(*connection);
    for (const channel::Offer& offer : guest->connection->offers()) {
      if (open_kvp && offer.class_id == wire::kHvKvpGuid) {
        channel::OpenOptions open;
        open.outbound_ring_bytes = 4 * 4096;
        open.inbound_ring_bytes = 4 * 4096;
        if (!guest->connection->open_channel(offer.relid, open)) {
          return nullptr;
        }
      }
    }
    return guest;
  }
};

// A raw control connection: requests sent without waiting for replies.
class RawClient {
 public:
  explicit RawClient(const std::string& path) : fd_(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path.data(), path.size());
    EXPECT_EQ(::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);
  }
  ~RawClient() { close_now(); }
  void close_now() {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  void send(const json& request, bool ascii_only = false) {
    EXPECT_EQ(hostctl::send_message(fd_, request.dump(-1, ' ', ascii_only)), 0);
  }
  std::optional<json> receive(std::chrono::milliseconds timeout) {
    if (!hostctl::wait_readable(fd_, timeout)) {
      return std::nullopt;
    }
    const hostctl::Received got = hostctl::receive_message(fd_, hostctl::kMaxReplyBytes);
    if (got.status != hostctl::ReceiveStatus::message) {
      return std::nullopt;
    }
    return json::parse(got.bytes);
  }

 private:
  int fd_;
};

json kvp_get(const std::string& vm, int id) {
  json request = hostctl::make_request("kvp-get", {{"vm", vm}, {"key", "k"}});
  request["id"] = id;
  return request;
}

class HostdKvp : public ::testing::Test {
 protected:
  void start(std::vector<std::string> extra = {}) {
    extra.insert(extra.begin(), "--kvp");
    hostd_ = std::make_unique<HostdProcess>(dir_.path(), std::move(extra));
    ASSERT_TRUE(hostd_->wait_ready()) << hostd_->log();
  }
  CliRun cli(std::vector<std::string> args) {
    args.insert(args.begin(), {"--control", hostd_->control_socket()});
    return run_cli(args);
  }

  ScratchDir dir_;
  std::unique_ptr<HostdProcess> hostd_;
};

TEST_F(HostdKvp, ASilentGuestStallsNeitherOtherClientsNorGuestConnects) {
  start();
  auto silent = SilentGuest::connect(hostd_->guest_socket(), "silent", 1, true);
  ASSERT_NE(silent, nullptr);
  RawClient waiting(hostd_->control_socket());
  waiting.send(kvp_get("silent", 1));
  std::this_thread::sleep_for(100ms);  // hostd is now waiting on the guest for it

  auto started = Clock::now();
  const CliRun partitions = cli({"partitions"});
  EXPECT_EQ(partitions.exit_code, 0) << partitions.err;
  EXPECT_NE(partitions.out.find("silent"), std::string::npos) << partitions.out;
  EXPECT_LT(Clock::now() - started, 2s);

  started = Clock::now();
  auto second = SilentGuest::connect(hostd_->guest_socket(), "second", 2, false);
  ASSERT_NE(second, nullptr);
  EXPECT_LT(Clock::now() - started, 2s);
  const CliRun again = cli({"partitions"});
  EXPECT_NE(again.out.find("second"), std::string::npos) << again.out;

  // The per-client bound: 4 waiting, the 5th refused at once, with its id.
  for (int id = 2; id <= 4; ++id) {
    waiting.send(kvp_get("silent", id));
  }
  waiting.send(kvp_get("silent", 5));
  const std::optional<json> refused = waiting.receive(2s);
  ASSERT_TRUE(refused);
  EXPECT_EQ((*refused)["ok"], false);
  EXPECT_EQ((*refused)["error"], "unavailable");
  EXPECT_EQ((*refused)["id"], 5);
  // Commands that do not wait on a guest still answer on the same connection.
  waiting.send(hostctl::make_request("ping"));
  const std::optional<json> pong = waiting.receive(2s);
  ASSERT_TRUE(pong);
  EXPECT_EQ((*pong)["ok"], true) << pong->dump();

  // Another client is not bound by the first one's requests.
  RawClient other(hostd_->control_socket());
  other.send(kvp_get("silent", 9));
  EXPECT_FALSE(other.receive(300ms)) << "a kvp-get of a silent guest answered early";

  // The first client leaves with four replies owed; hostd stays up and,
  // with calls still waiting, stops cleanly and promptly on SIGTERM.
  waiting.close_now();
  EXPECT_EQ(cli({"ping"}).exit_code, 0);
  started = Clock::now();
  hostd_->signal(SIGTERM);
  EXPECT_EQ(hostd_->wait_exit(10s), 0) << hostd_->log();
  EXPECT_LT(Clock::now() - started, 5s);
}

TEST_F(HostdKvp, TheReplyToAWaitingCallComesWhenTheGuestTimesOut) {
  start();
  auto silent = SilentGuest::connect(hostd_->guest_socket(), "silent", 1, true);
  ASSERT_NE(silent, nullptr);
  RawClient waiting(hostd_->control_socket());
  waiting.send(kvp_get("silent", 7));
  const std::optional<json> reply = waiting.receive(30s);
  ASSERT_TRUE(reply);
  EXPECT_EQ((*reply)["ok"], false);
  EXPECT_EQ((*reply)["error"], "timeout") << reply->dump();
  EXPECT_EQ((*reply)["id"], 7);
  // uvmbus-host waits long enough to report hostd's timeout.
  const CliRun get = cli({"kvp", "get", "silent", "k"});
  EXPECT_NE(get.exit_code, 0);
  EXPECT_NE(get.err.find("timeout"), std::string::npos) << get.err;
  EXPECT_EQ(get.err.find("no reply"), std::string::npos) << get.err;
}

// The state file hostd loads at start: `count` items in pool external.
void write_state(const std::filesystem::path& dir, const std::string& vm, std::size_t count) {
  json items = json::array();
  for (std::size_t i = 0; i < count; ++i) {
    items.push_back({{"key", fmt::format("key-{:05}", i)}, {"value", fmt::format("value-{:05}-{:0>100}", i, i)}});
  }
  std::ofstream(dir / (vm + ".kvp.json")) << json{{"external", items}, {"auto-external", json::array()}}.dump();
}

TEST_F(HostdKvp, AListOfTenThousandItemsComesPageByPageAndTheCliShowsThemAll) {
  constexpr std::size_t kCount = 10000;
  const std::filesystem::path state = dir_.path() / "state";
  std::filesystem::create_directories(state);
  write_state(state, "big", kCount);
  start({"--kvp-state", state.string()});
  auto guest = SilentGuest::connect(hostd_->guest_socket(), "big", 3, false);
  ASSERT_NE(guest, nullptr);

  // Pages: each under the cap, `next` leads through all of them in order.
  RawClient raw(hostd_->control_socket());
  std::size_t seen = 0;
  std::size_t pages = 0;
  for (json next = 0; !next.is_null(); ++pages) {
    raw.send(hostctl::make_request("kvp-list", {{"vm", "big"}, {"offset", next}}));
    const std::optional<json> page = raw.receive(5s);
    ASSERT_TRUE(page);
    ASSERT_EQ((*page)["ok"], true) << page->dump().substr(0, 300);
    const json& result = (*page)["result"];
    EXPECT_EQ(result["total"], kCount);
    EXPECT_EQ(result["offset"], seen);
    for (const json& item : result["items"]) {
      ASSERT_EQ(item["key"], fmt::format("key-{:05}", seen));
      ++seen;
    }
    next = result["next"];
  }
  EXPECT_EQ(seen, kCount);
  EXPECT_GT(pages, 5u);

  const CliRun listed = cli({"--json", "kvp", "list", "big"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  const json document = json::parse(listed.out);  // one document
  ASSERT_EQ(document["items"].size(), kCount);
  for (std::size_t i = 0; i < kCount; ++i) {
    ASSERT_EQ(document["items"][i]["key"], fmt::format("key-{:05}", i));
    ASSERT_EQ(document["items"][i]["value"], fmt::format("value-{:05}-{:0>100}", i, i));
  }
  EXPECT_FALSE(document.contains("next"));
  const CliRun text = cli({"kvp", "list", "big"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("10000 items"), std::string::npos) << text.out.substr(0, 200);
  EXPECT_NE(text.out.find("key-09999"), std::string::npos);

  // A limit, an offset at and past the end, and hostile paging arguments.
  raw.send(hostctl::make_request("kvp-list", {{"vm", "big"}, {"offset", kCount - 1}, {"limit", 5}}));
  json last = *raw.receive(5s);
  EXPECT_EQ(last["result"]["items"].size(), 1u);
  EXPECT_TRUE(last["result"]["next"].is_null());
  raw.send(hostctl::make_request("kvp-list", {{"vm", "big"}, {"offset", 10}, {"limit", 3}}));
  json three = *raw.receive(5s);
  EXPECT_EQ(three["result"]["items"].size(), 3u);
  EXPECT_EQ(three["result"]["next"], 13);
  raw.send(hostctl::make_request("kvp-list", {{"vm", "big"}, {"offset", 4000000000u}}));
  json past = *raw.receive(5s);
  EXPECT_TRUE(past["result"]["items"].empty());
  EXPECT_TRUE(past["result"]["next"].is_null());
  for (const json& bad : {json{{"offset", "1"}}, json{{"offset", -1}}, json{{"limit", 0}},
                          json{{"limit", 1.5}}, json{{"offset", 1ull << 40}}}) {
    json args = bad;
    args["vm"] = "big";
    raw.send(hostctl::make_request("kvp-list", args));
    const std::optional<json> reply = raw.receive(5s);
    ASSERT_TRUE(reply);
    EXPECT_EQ((*reply)["error"], "invalid_argument") << bad.dump();
  }
}

std::string repeated(std::string_view unit, std::size_t count) {
  std::string text;
  for (std::size_t i = 0; i < count; ++i) {
    text += unit;
  }
  return text;
}

TEST_F(HostdKvp, KeysAndValuesAtTheLimitsFitARequestAndOneMoreIsTooLong) {
  start();
  auto guest = SilentGuest::connect(hostd_->guest_socket(), "vm", 4, false);
  ASSERT_NE(guest, nullptr);
  const std::string euro = "\u20ac";       // 3 bytes, 1 UTF-16 unit
  const std::string smile = "\U0001F600";  // 4 bytes, 2 UTF-16 units
  // Keys: 511 bytes or 255 units; values: 2,047 bytes or 1,023 units.
  const std::string key3 = repeated(euro, 170);
  const std::string key4 = repeated(smile, 127);
  const std::string value3 = repeated(euro, 682);
  const std::string value4 = repeated(smile, 511);
  for (const auto& [key, value] : {std::pair{key3, value3}, std::pair{key4, value4}, std::pair{key3, value4}}) {
    const CliRun set = cli({"kvp", "set", "vm", key, value});
    EXPECT_EQ(set.exit_code, 0) << set.err;
    EXPECT_NE(set.out.find("stored"), std::string::npos) << set.out.substr(0, 100);
  }
  const auto too_long = [&](const std::string& key, const std::string& value, const char* code) {
    const CliRun set = cli({"--json", "kvp", "set", "vm", key, value});
    EXPECT_NE(set.exit_code, 0);
    EXPECT_NE(set.err.find("invalid_argument"), std::string::npos) << set.err.substr(0, 200);
    EXPECT_NE(set.err.find(code), std::string::npos) << set.err.substr(0, 200);
    EXPECT_EQ(set.err.find("too_large"), std::string::npos) << set.err.substr(0, 200);
  };
  too_long(key3 + euro, "v", "key_too_long");
  too_long(key4 + smile, "v", "key_too_long");
  too_long("k", value3 + euro, "value_too_long");
  too_long("k", value4 + smile, "value_too_long");

  // The largest set from a client that escapes every non-ASCII unit as \uXXXX.
  RawClient raw(hostd_->control_socket());
  const json largest = hostctl::make_request("kvp-set", {{"vm", "vm"}, {"key", key4}, {"value", value4}});
  EXPECT_GT(largest.dump(-1, ' ', true).size(), 7000u);
  raw.send(largest, /*ascii_only=*/true);
  const std::optional<json> stored = raw.receive(5s);
  ASSERT_TRUE(stored);
  EXPECT_EQ((*stored)["ok"], true) << stored->dump().substr(0, 200);
  raw.send(hostctl::make_request("kvp-set", {{"vm", "vm"}, {"key", key4 + smile}, {"value", value4}}), true);
  const std::optional<json> refused = raw.receive(5s);
  ASSERT_TRUE(refused);
  EXPECT_EQ((*refused)["error"], "invalid_argument");
  // Past the cap itself: too_large, and the connection still serves.
  raw.send(hostctl::make_request("kvp-set", {{"vm", "vm"}, {"key", "k"},
                                             {"value", std::string(hostctl::kMaxRequestBytes, 'x')}}));
  const std::optional<json> oversized = raw.receive(5s);
  ASSERT_TRUE(oversized);
  EXPECT_EQ((*oversized)["error"], "too_large");
  raw.send(hostctl::make_request("ping"));
  EXPECT_EQ((*raw.receive(5s))["ok"], true);
}

}  // namespace
}  // namespace uvmbus::hostd::test
