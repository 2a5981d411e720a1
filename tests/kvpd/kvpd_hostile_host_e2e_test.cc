// Bad input end to end: the real uvmbus-kvpd process ($KVPD_BINARY) over
// the `user` transport, facing a hostile KVP host in the test (a
// UserListener and a scripted host that writes raw IC/KVP packets with
// lib/kvp's host codec, then corrupts them): oversized and odd sizes, odd
// UTF-16 and unpaired surrogates, unknown operations, pools and message
// types, short bodies, short IC headers and a header claiming more bytes
// than the packet. Each framed message gets the error docs/kvp.md names
// (unframeable ones are dropped, as the IC endpoint documents), a valid SET
// and GET after each still succeed, and at the end the process is alive and
// its pool files hold exactly the valid SETs.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <thread>

#include "child_process.h"
#include "kvpd_fixture.h"
#include "uvmbus/ic/frame.h"
#include "user_fixture.h"

namespace uvmbus::kvpd::test {
namespace {

using kvp::testing::RawItem;
using kvp::testing::ScratchDir;
using wire::HvStatus;
using wire::KvpPool;
using namespace std::chrono_literals;

// Offsets in a SET/GET/DELETE body: operation, pool, 2 reserved, value
// type, key size, value size, key[512], value[2048].
constexpr std::size_t kOperation = 0;
constexpr std::size_t kPool = 1;
constexpr std::size_t kValueType = 4;
constexpr std::size_t kKeySize = 8;
constexpr std::size_t kValueSize = 12;
constexpr std::size_t kKey = 16;
constexpr std::size_t kValue = kKey + wire::kKvpMaxKeyBytes;
// message_size in the IC header, after the 8-byte pipe header.
constexpr std::size_t kMessageSize = sizeof(wire::PipeHeader) + offsetof(wire::IcMessageHeader, message_size);

// uvmbus-kvpd with stderr to `log`; killed at destruction.
// Writes raw KVP requests: a body from the host codec, changed by the test,
// framed with the negotiated versions, sent as one in-band packet.
class RawHost {
 public:
  explicit RawHost(KvpHost& host) : host_(host), packet_(wire::kIcMaxMessageSize) {}

  std::span<std::byte> body() { return std::span(packet_).subspan(wire::kIcBodyOffset); }
  void put_u32(std::size_t offset, uint32_t value) { std::memcpy(body().data() + offset, &value, sizeof(value)); }
  void put_u16(std::size_t offset, uint16_t value) { std::memcpy(body().data() + offset, &value, sizeof(value)); }

  // Frames `body_size` bytes of body() as a request of `type`.
  std::span<std::byte> frame(std::size_t body_size,
                             wire::IcMessageType type = wire::IcMessageType::kvp_exchange) {
    const ic::NegotiatedVersions versions = *host_.endpoint().versions();
    const ic::SizeResult framed = ic::write_request_headers(
        packet_, {type, versions.framework, versions.service, ++transaction_}, body_size);
    EXPECT_EQ(framed.error, ic::IcError::none);
    return std::span(packet_).first(framed.size);
  }

  // Sends `packet`; the reply's IC status and body, or nullopt without one.
  struct Reply {
    HvStatus status;
    std::vector<std::byte> packet;
    std::span<const std::byte> body() const { return std::span(packet).subspan(wire::kIcBodyOffset); }
  };
  std::optional<Reply> send(std::span<const std::byte> packet, std::chrono::milliseconds timeout = 5000ms) {
    const uint64_t trans_id = ++trans_id_;
    std::optional<std::vector<std::byte>> reply = host_.exchange(packet, trans_id, timeout);
    if (!reply) {
      return std::nullopt;
    }
    EXPECT_EQ(host_.last_reply_trans_id(), trans_id);
    const ic::FrameResult parsed = ic::parse_frame(*reply);
    EXPECT_EQ(parsed.error, ic::IcError::none);
    EXPECT_EQ(parsed.frame.header.flags, wire::kIcFlagsResponse);
    return Reply{static_cast<HvStatus>(parsed.frame.header.status), std::move(*reply)};
  }
  std::optional<HvStatus> status_of(std::size_t body_size,
                                    wire::IcMessageType type = wire::IcMessageType::kvp_exchange) {
    const std::optional<Reply> reply = send(frame(body_size, type));
    return reply ? std::optional(reply->status) : std::nullopt;
  }

  // A well-formed SET on pool 0 written at body(), to be corrupted.
  void write_set(std::string_view key = "k", std::string_view value = "v") {
    ASSERT_EQ(kvp::write_set_request(body(), KvpPool::external, key, value).error, kvp::KvpError::none);
  }

 private:
  KvpHost& host_;
  std::vector<std::byte> packet_;
  uint8_t transaction_ = 0;
  uint64_t trans_id_ = 1000;
};

class KvpdHostileHostE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kvpd_ = std::make_unique<test_support::ChildProcess>(
        std::vector<std::string>{test_support::binary_from_env("KVPD_BINARY"), "-n", "--transport",
                                 "user", "--socket", socket_dir_.socket_path(), "--pool-dir",
                                 pool_dir_.path().string(), "--vm-name", "hostile-host"},
        test_support::ChildOutput{.err = log_});
    ASSERT_GT(kvpd_->pid(), 0);
    partition_ = listener_.next_partition();
    ASSERT_NE(partition_, nullptr) << kvp::testing::read_file(log_);
    scripted_ = std::make_unique<channel::test::ScriptedHost>(*partition_, kvp_host_config());
    for (int i = 0; i < 500; ++i) {
      const auto open = scripted_->open_channels();
      if (std::find(open.begin(), open.end(), kKvpRelid) != open.end()) {
        break;
      }
      std::this_thread::sleep_for(10ms);
    }
    host_ = std::make_unique<KvpHost>(*scripted_, kKvpRelid);
    ASSERT_EQ(host_->negotiate().error, ic::IcError::none) << kvp::testing::read_file(log_);
    raw_ = std::make_unique<RawHost>(*host_);
  }
  void TearDown() override {
    if (scripted_) {
      scripted_->set_inband_handler(kKvpRelid, {});
    }
  }

  // A valid SET of a fresh item and a GET of it succeed; remembers the item.
  void expect_still_serving() {
    const std::string key = "still-" + std::to_string(stored_.size());
    const std::string value = "serving \xc3\xa9 " + std::to_string(stored_.size());
    raw_->write_set(key, value);
    EXPECT_EQ(raw_->status_of(wire::kKvpMessageSize), HvStatus::ok);
    stored_.push_back({key, value});
    ASSERT_EQ(kvp::write_get_request(raw_->body(), KvpPool::external, key).error, kvp::KvpError::none);
    const auto reply = raw_->send(raw_->frame(wire::kKvpMessageSize));
    ASSERT_TRUE(reply.has_value()) << "kvpd stopped answering";
    ASSERT_EQ(reply->status, HvStatus::ok);
    EXPECT_EQ(kvp::read_get_reply(reply->body()).value, value);
  }

  channel::test::SocketDirectory socket_dir_;
  channel::test::ListenerThread listener_{socket_dir_.socket_path()};
  ScratchDir pool_dir_;
  ScratchDir log_dir_;
  std::filesystem::path log_ = log_dir_.path() / "kvpd.log";
  std::unique_ptr<test_support::ChildProcess> kvpd_;
  std::unique_ptr<channel::UserHostTransport> partition_;
  std::unique_ptr<channel::test::ScriptedHost> scripted_;
  std::unique_ptr<KvpHost> host_;
  std::unique_ptr<RawHost> raw_;
  std::vector<RawItem> stored_;
};

struct HostileBody {
  const char* what;
  std::function<void(RawHost&)> corrupt;  // writes the body at raw.body()
  std::size_t body_size;
  HvStatus expected;  // docs/kvp.md §2 "Statuses"
};

TEST_F(KvpdHostileHostE2eTest, AnswersEachBadMessageWithItsErrorAndKeepsServing) {
  const std::vector<HostileBody> cases{
      {"key size 0xFFFF", [](RawHost& r) { r.write_set(); r.put_u32(kKeySize, 0xFFFF); },
       wire::kKvpMessageSize, HvStatus::invalid_arg},
      {"value size 0x10000000", [](RawHost& r) { r.write_set(); r.put_u32(kValueSize, 0x10000000); },
       wire::kKvpMessageSize, HvStatus::invalid_arg},
      {"key size 0", [](RawHost& r) { r.write_set(); r.put_u32(kKeySize, 0); },
       wire::kKvpMessageSize, HvStatus::invalid_arg},
      {"odd key size", [](RawHost& r) { r.write_set(); r.put_u32(kKeySize, 3); },
       wire::kKvpMessageSize, HvStatus::invalid_arg},
      {"odd value size", [](RawHost& r) { r.write_set("k", "vv"); r.put_u32(kValueSize, 5); },
       wire::kKvpMessageSize, HvStatus::invalid_arg},
      {"key without its NUL", [](RawHost& r) { r.write_set("kk"); r.put_u32(kKeySize, 4); },
       wire::kKvpMessageSize, HvStatus::invalid_arg},
      {"unpaired high surrogate in the key", [](RawHost& r) { r.write_set("kk"); r.put_u16(kKey, 0xD800); },
       wire::kKvpMessageSize, HvStatus::invalid_arg},
      {"unpaired low surrogate in the value", [](RawHost& r) { r.write_set("k", "vv"); r.put_u16(kValue + 2, 0xDC00); },
       wire::kKvpMessageSize, HvStatus::invalid_arg},
      {"high surrogate then NUL in the value", [](RawHost& r) { r.write_set("k", "v"); r.put_u16(kValue, 0xDBFF); },
       wire::kKvpMessageSize, HvStatus::invalid_arg},
      {"REG_DWORD of 5 bytes",
       [](RawHost& r) { r.write_set("k", "vv"); r.put_u32(kValueType, 4); r.put_u32(kValueSize, 5); },
       wire::kKvpMessageSize, HvStatus::invalid_arg},
      {"unknown operation 77", [](RawHost& r) { r.write_set(); r.body()[kOperation] = std::byte{77}; },
       wire::kKvpMessageSize, HvStatus::not_supported},
      {"unknown operation 0xFF", [](RawHost& r) { r.write_set(); r.body()[kOperation] = std::byte{0xFF}; },
       wire::kKvpMessageSize, HvStatus::not_supported},
      {"pool 5", [](RawHost& r) { r.write_set(); r.body()[kPool] = std::byte{5}; },
       wire::kKvpMessageSize, HvStatus::invalid_arg},
      {"pool 0xFF on ENUMERATE",
       [](RawHost& r) {
         ASSERT_EQ(kvp::write_enumerate_request(r.body(), KvpPool::external, 0).error, kvp::KvpError::none);
         r.body()[kPool] = std::byte{0xFF};
       },
       wire::kKvpMessageSize, HvStatus::invalid_arg},
      {"GET with key size 0xFFFFFFFF",
       [](RawHost& r) {
         ASSERT_EQ(kvp::write_get_request(r.body(), KvpPool::external, "k").error, kvp::KvpError::none);
         r.put_u32(kKeySize, 0xFFFFFFFF);
       },
       wire::kKvpMessageSize, HvStatus::invalid_arg},
      {"DELETE with an odd key size",
       [](RawHost& r) {
         ASSERT_EQ(kvp::write_delete_request(r.body(), KvpPool::external, "still-0").error, kvp::KvpError::none);
         r.put_u32(kKeySize, 7);
       },
       wire::kKvpMessageSize, HvStatus::invalid_arg},
      {"SET cut to 100 bytes", [](RawHost& r) { r.write_set(); }, 100, HvStatus::invalid_arg},
      {"body of 2 bytes", [](RawHost& r) { r.write_set(); }, 2, HvStatus::invalid_arg},
      {"empty body", [](RawHost& r) { r.write_set(); }, 0, HvStatus::invalid_arg},
  };
  expect_still_serving();
  for (const HostileBody& bad : cases) {
    SCOPED_TRACE(bad.what);
    bad.corrupt(*raw_);
    EXPECT_EQ(raw_->status_of(bad.body_size), bad.expected);
    expect_still_serving();
  }
  // Another IC message type on the KVP channel.
  raw_->write_set();
  EXPECT_EQ(raw_->status_of(wire::kKvpMessageSize, wire::IcMessageType::heartbeat), HvStatus::not_supported);
  expect_still_serving();

  EXPECT_EQ(kvpd_->wait_exit(0ms), test_support::kStillRunning) << kvp::testing::read_file(log_);
  EXPECT_EQ(kvp::testing::read_items(pool_dir_.pool(0)), stored_);  // only the valid SETs, in order
  for (int pool = 0; pool < static_cast<int>(wire::kKvpPoolCount); ++pool) {
    EXPECT_EQ(std::filesystem::file_size(pool_dir_.pool(pool)) % sizeof(wire::KvpPoolRecord), 0u) << pool;
  }
}

TEST_F(KvpdHostileHostE2eTest, DropsUnframeablePacketsAndAnswersTheNextRequest) {
  expect_still_serving();
  // Shorter than the pipe header, shorter than the IC header.
  const std::vector<std::byte> stub(8);
  EXPECT_FALSE(raw_->send(stub, 300ms).has_value());
  expect_still_serving();
  raw_->write_set();
  const std::span<std::byte> framed = raw_->frame(wire::kKvpMessageSize);
  const std::vector<std::byte> short_header(framed.begin(), framed.begin() + wire::kIcBodyOffset - 4);
  EXPECT_FALSE(raw_->send(short_header, 300ms).has_value());
  expect_still_serving();
  // An IC header claiming more body than the packet carries: a whole SET
  // claimed in 64 bytes, and the largest message_size in a full packet.
  raw_->write_set();
  std::span<std::byte> claiming = raw_->frame(64);
  const uint16_t whole_set = wire::kKvpMessageSize;
  std::memcpy(claiming.data() + kMessageSize, &whole_set, sizeof(whole_set));
  EXPECT_FALSE(raw_->send(claiming, 300ms).has_value());
  expect_still_serving();
  raw_->write_set();
  claiming = raw_->frame(wire::kKvpMessageSize);
  const uint16_t most = 0xFFFF;
  std::memcpy(claiming.data() + kMessageSize, &most, sizeof(most));
  EXPECT_FALSE(raw_->send(claiming, 300ms).has_value());
  expect_still_serving();

  EXPECT_EQ(kvpd_->wait_exit(0ms), test_support::kStillRunning) << kvp::testing::read_file(log_);
  EXPECT_EQ(kvp::testing::read_items(pool_dir_.pool(0)), stored_);
}

}  // namespace
}  // namespace uvmbus::kvpd::test
