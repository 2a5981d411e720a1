// kvpd over the loopback transport, facing a KVP host the test plays:
// negotiation, the host's SET burst, every operation on every pool, limits
// and non-ASCII text, restart, the auto pool, and hostile messages.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <climits>
#include <cstring>

#include "kvpd_fixture.h"
#include "uvmbus/kvp/versions.h"

namespace uvmbus::kvpd::test {
namespace {

using kvp::testing::read_items;
using kvp::testing::RawItem;
using kvp::testing::ScratchDir;
using wire::HvStatus;
using wire::KvpPool;

class KvpdLoopbackTest : public ::testing::Test {
 protected:
  void start(std::span<const wire::IcVersion> versions = kvp::kGuestVersions) {
    kvpd_ = std::make_unique<KvpdUnderTest>(dir_.path(), versions, ip_config_);
  }
  void start_negotiated() {
    start();
    const ic::HostEvent event = host().negotiate();
    ASSERT_EQ(event.action, ic::HostAction::negotiate_reply);
    ASSERT_EQ(event.error, ic::IcError::none);
  }
  KvpHost& host() { return kvpd_->host(); }

  ic::HostEvent set(KvpPool pool, std::string_view key, std::string_view value) {
    return host().request(kvp::write_set_request(host().body(), pool, key, value));
  }
  ic::HostEvent get(KvpPool pool, std::string_view key) {
    return host().request(kvp::write_get_request(host().body(), pool, key));
  }
  ic::HostEvent remove(KvpPool pool, std::string_view key) {
    return host().request(kvp::write_delete_request(host().body(), pool, key));
  }
  // ENUMERATE from index 0 until a status other than ok; that status must
  // be no_more_items.
  std::vector<std::pair<std::string, std::string>> enumerate(KvpPool pool) {
    std::vector<std::pair<std::string, std::string>> items;
    for (uint32_t index = 0; index < 1000; ++index) {
      const ic::HostEvent event =
          host().request(kvp::write_enumerate_request(host().body(), pool, index));
      if (event.status != HvStatus::ok) {
        EXPECT_EQ(event.status, HvStatus::no_more_items);
        break;
      }
      const kvp::ItemReply item = kvp::read_enumerate_reply(event.body);
      EXPECT_EQ(item.error, kvp::KvpError::none);
      items.emplace_back(item.key, item.value);
    }
    return items;
  }

  ScratchDir dir_;
  FakeIpConfig ip_config_;
  std::unique_ptr<KvpdUnderTest> kvpd_;
};

TEST_F(KvpdLoopbackTest, NegotiatesFramework3AndKvp5LikeAWindowsHostExpects) {
  start_negotiated();
  EXPECT_EQ(host().endpoint().versions(),
            (ic::NegotiatedVersions{ic::kFrameworkVersion3, wire::kKvpVersion5}));
  EXPECT_EQ(kvpd_->service().counters().negotiations, 1u);
}

TEST_F(KvpdLoopbackTest, KvpVersion4CapNegotiates4AndAnswersIpInfoInTheStringForm) {
  start(kvp::kLinuxGuestVersions);
  ASSERT_EQ(host().negotiate().error, ic::IcError::none);
  EXPECT_EQ(host().endpoint().versions()->service, wire::kKvpVersion4);

  kvp::IpInfo served;
  served.address_family = wire::kKvpAddressFamilyIpv4;
  served.ipv4 = {{{192, 168, 7, 2}, {255, 255, 255, 0}, wire::KvpAddressOrigin::static_assignment}};
  served.ipv4_gateways = {{192, 168, 7, 1}};
  ip_config_.serve("00:15:5D:01:02:03", served);
  kvp::IpInfo asked;
  asked.adapter_id = "00:15:5D:01:02:03";
  const ic::HostEvent event = host().request(kvp::write_ip_info_request(
      host().body(), wire::KvpOperation::get_ip_info, wire::kKvpVersion4, asked));
  ASSERT_EQ(event.status, HvStatus::ok);
  const kvp::IpInfoReply reply = kvp::read_ip_info_reply(event.body, wire::kKvpVersion4);
  ASSERT_EQ(reply.error, kvp::KvpError::none);
  EXPECT_EQ(reply.info.adapter_id, "00:15:5D:01:02:03");
  ASSERT_EQ(reply.info.ipv4.size(), 1u);
  EXPECT_EQ(reply.info.ipv4[0].address, (kvp::Ipv4Address{192, 168, 7, 2}));
  EXPECT_EQ(reply.info.ipv4_gateways, served.ipv4_gateways);
}

TEST_F(KvpdLoopbackTest, PersistsTheHostsSetBurstBeforeAcknowledgingIt) {
  start_negotiated();
  const std::vector<RawItem> facts{{"HostName", "host-01"},
                                   {"VirtualMachineName", "vm-\xc3\xa9t\xc3\xa9"},
                                   {"VirtualMachineId", "4a3b"}};
  for (const RawItem& fact : facts) {
    EXPECT_EQ(set(KvpPool::auto_external, fact.key, fact.value).status, HvStatus::ok);
  }
  EXPECT_EQ(set(KvpPool::external, "AdminItem", "1").status, HvStatus::ok);
  // Acknowledged means on disk, in the host's order, in the Linux format.
  EXPECT_EQ(read_items(dir_.pool(3)), facts);
  EXPECT_EQ(read_items(dir_.pool(0)), (std::vector<RawItem>{{"AdminItem", "1"}}));
}

TEST_F(KvpdLoopbackTest, AnswersEveryOperationOnTheStoredPools) {
  start_negotiated();
  for (const KvpPool pool : {KvpPool::external, KvpPool::guest, KvpPool::auto_external}) {
    SCOPED_TRACE(static_cast<int>(pool));
    EXPECT_EQ(set(pool, "a", "1").status, HvStatus::ok);
    EXPECT_EQ(set(pool, "b", "2").status, HvStatus::ok);
    EXPECT_EQ(set(pool, "a", "3").status, HvStatus::ok);  // modify keeps its place
    ic::HostEvent event = get(pool, "a");
    ASSERT_EQ(event.status, HvStatus::ok);
    EXPECT_EQ(kvp::read_get_reply(event.body).value, "3");
    EXPECT_EQ(get(pool, "missing").status, HvStatus::not_found);
    EXPECT_EQ(enumerate(pool), (std::vector<std::pair<std::string, std::string>>{{"a", "3"}, {"b", "2"}}));
    EXPECT_EQ(remove(pool, "a").status, HvStatus::ok);
    EXPECT_EQ(remove(pool, "a").status, HvStatus::not_found);
    EXPECT_EQ(enumerate(pool), (std::vector<std::pair<std::string, std::string>>{{"b", "2"}}));
  }
  EXPECT_EQ(host().request(kvp::write_set_number_request(host().body(), KvpPool::external, "n",
                                                         wire::KvpValueType::u64, 1ull << 40))
                .status,
            HvStatus::ok);
  EXPECT_EQ(kvpd_->store().get(KvpPool::external, "n").value, "1099511627776");
  // Pool 4 never travels; pool 2 belongs to the guest.
  EXPECT_EQ(set(KvpPool::auto_internal, "k", "v").status, HvStatus::not_supported);
  EXPECT_EQ(host().request(kvp::write_enumerate_request(host().body(), KvpPool::auto_internal, 0)).status,
            HvStatus::not_supported);
  EXPECT_EQ(set(KvpPool::automatic, "OSName", "x").status, HvStatus::not_supported);
  EXPECT_EQ(remove(KvpPool::automatic, "OSName").status, HvStatus::not_supported);
}

TEST_F(KvpdLoopbackTest, ListsTheTenIntrinsicKeysInLinuxOrderComputedWhenAsked) {
  start_negotiated();
  const auto items = enumerate(KvpPool::automatic);
  const std::vector<std::string> keys{"FullyQualifiedDomainName", "IntegrationServicesVersion",
                                      "NetworkAddressIPv4",       "NetworkAddressIPv6",
                                      "OSBuildNumber",            "OSName",
                                      "OSMajorVersion",           "OSMinorVersion",
                                      "OSVersion",                "ProcessorArchitecture"};
  ASSERT_EQ(items.size(), keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(items[i].first, keys[i]);
  }
  std::array<char, HOST_NAME_MAX + 1> name{};
  ASSERT_EQ(gethostname(name.data(), name.size() - 1), 0);
  EXPECT_EQ(items[0].second, name.data());
  EXPECT_EQ(items[1].second, "3.1");
  EXPECT_EQ(items[2].second.find("127.0.0.1"), std::string::npos);  // loopback excluded
  EXPECT_EQ(items[3].second.find("::1;"), std::string::npos);
  EXPECT_NE(items[3].second, "::1");
  EXPECT_FALSE(items[4].second.empty());
  EXPECT_FALSE(items[9].second.empty());
  const ic::HostEvent event = get(KvpPool::automatic, "IntegrationServicesVersion");
  ASSERT_EQ(event.status, HvStatus::ok);
  EXPECT_EQ(kvp::read_get_reply(event.body).value, "3.1");
  EXPECT_EQ(get(KvpPool::automatic, "NoSuchKey").status, HvStatus::not_found);
}

TEST_F(KvpdLoopbackTest, CarriesKeysAndValuesAtTheSizeLimitsAndInNonAsciiText) {
  start_negotiated();
  // 255 UTF-16 units + NUL fill the 512-byte key field; 1,023 + NUL the value.
  const std::string long_key(255, 'k');
  const std::string long_value(1023, 'v');
  EXPECT_EQ(set(KvpPool::external, long_key, long_value).status, HvStatus::ok);
  ic::HostEvent event = get(KvpPool::external, long_key);
  ASSERT_EQ(event.status, HvStatus::ok);
  EXPECT_EQ(kvp::read_get_reply(event.body).value, long_value);
  // Two-byte, three-byte and four-byte (surrogate pair) characters.
  const std::string key = "cl\xc3\xa9-\xe9\x8d\xb5-\xf0\x9f\x94\x91";
  const std::string value = "\xd0\xb7\xd0\xbd\xd0\xb0\xd1\x87\xd0\xb5\xd0\xbd\xd0\xb8\xd0\xb5 \xf0\x9f\x98\x80";
  EXPECT_EQ(set(KvpPool::guest, key, value).status, HvStatus::ok);
  EXPECT_EQ(kvpd_->store().get(KvpPool::guest, key).value, value);  // UTF-8 on disk
  const auto items = enumerate(KvpPool::guest);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0], std::pair(key, value));
  // One unit over the key field cannot even be written by a host.
  EXPECT_NE(kvp::write_set_request(host().body(), KvpPool::external, std::string(256, 'k'), "v").error,
            kvp::KvpError::none);
}

TEST_F(KvpdLoopbackTest, KeepsItsStateAcrossARestart) {
  start_negotiated();
  ASSERT_EQ(set(KvpPool::external, "survives", "yes").status, HvStatus::ok);
  ASSERT_EQ(set(KvpPool::auto_external, "HostName", "h").status, HvStatus::ok);
  kvpd_.reset();
  start_negotiated();  // a new process would see the same files
  EXPECT_EQ(enumerate(KvpPool::external),
            (std::vector<std::pair<std::string, std::string>>{{"survives", "yes"}}));
  ic::HostEvent event = get(KvpPool::auto_external, "HostName");
  ASSERT_EQ(event.status, HvStatus::ok);
  EXPECT_EQ(kvp::read_get_reply(event.body).value, "h");
}

TEST_F(KvpdLoopbackTest, AnswersHostileMessagesWithErrorsAndKeepsServing) {
  start_negotiated();
  auto body = host().body();
  auto put_u32 = [&](std::size_t offset, uint32_t value) {
    std::memcpy(body.data() + offset, &value, sizeof(value));
  };
  // Oversized key size.
  ASSERT_EQ(kvp::write_set_request(body, KvpPool::external, "k", "v").error, kvp::KvpError::none);
  put_u32(4 + 4, 0xFFFF);
  EXPECT_EQ(host().request_raw(wire::kKvpMessageSize).status, HvStatus::invalid_arg);
  // Oversized value size.
  ASSERT_EQ(kvp::write_set_request(body, KvpPool::external, "k", "v").error, kvp::KvpError::none);
  put_u32(4 + 8, 0x10000000);
  EXPECT_EQ(host().request_raw(wire::kKvpMessageSize).status, HvStatus::invalid_arg);
  // Odd UTF-16: an unpaired high surrogate, then an odd byte count.
  ASSERT_EQ(kvp::write_set_request(body, KvpPool::external, "kk", "v").error, kvp::KvpError::none);
  body[4 + 12] = std::byte{0x00};
  body[4 + 13] = std::byte{0xD8};
  EXPECT_EQ(host().request_raw(wire::kKvpMessageSize).status, HvStatus::invalid_arg);
  ASSERT_EQ(kvp::write_set_request(body, KvpPool::external, "k", "v").error, kvp::KvpError::none);
  put_u32(4 + 4, 3);
  EXPECT_EQ(host().request_raw(wire::kKvpMessageSize).status, HvStatus::invalid_arg);
  // Unknown operation and pool.
  ASSERT_EQ(kvp::write_set_request(body, KvpPool::external, "k", "v").error, kvp::KvpError::none);
  body[0] = std::byte{77};
  EXPECT_EQ(host().request_raw(wire::kKvpMessageSize).status, HvStatus::not_supported);
  ASSERT_EQ(kvp::write_set_request(body, KvpPool::external, "k", "v").error, kvp::KvpError::none);
  body[1] = std::byte{9};
  EXPECT_EQ(host().request_raw(wire::kKvpMessageSize).status, HvStatus::invalid_arg);
  // Short messages: a SET cut short, and a body of two bytes.
  ASSERT_EQ(kvp::write_set_request(body, KvpPool::external, "k", "v").error, kvp::KvpError::none);
  EXPECT_NE(host().request_raw(100).status, HvStatus::ok);
  EXPECT_NE(host().request_raw(2).status, HvStatus::ok);
  // A packet too short to frame gets no answer; the next one does.
  const std::array<std::byte, 8> stub{};
  EXPECT_FALSE(host().exchange(stub, 1, std::chrono::milliseconds(200)).has_value());
  EXPECT_EQ(kvpd_->service().counters().dropped, 1u);

  EXPECT_EQ(std::filesystem::file_size(dir_.pool(0)), 0u);  // nothing stored
  EXPECT_EQ(set(KvpPool::external, "still", "serving").status, HvStatus::ok);
  EXPECT_EQ(read_items(dir_.pool(0)), (std::vector<RawItem>{{"still", "serving"}}));
  EXPECT_EQ(kvpd_->daemon().counters().send_failures.load(), 0u);
}

TEST_F(KvpdLoopbackTest, RefusesServiceRequestsBeforeNegotiation) {
  start();
  // A host that skips NEGOTIATE cannot frame a request with HostEndpoint;
  // write one by hand from a negotiated endpoint's bytes instead.
  KvpdUnderTest other(dir_.path() / "other", kvp::kGuestVersions, ip_config_);
  ASSERT_EQ(other.host().negotiate().error, ic::IcError::none);
  ASSERT_EQ(kvp::write_set_request(other.host().body(), KvpPool::external, "k", "v").error,
            kvp::KvpError::none);
  // Frame it with other's endpoint, then send it to the fresh kvpd.
  std::vector<std::byte> packet(wire::kIcMaxMessageSize);
  std::copy(other.host().body().begin(), other.host().body().end(),
            packet.begin() + wire::kIcBodyOffset);
  const ic::SizeResult framed = other.host().endpoint().start_request(packet, wire::kKvpMessageSize);
  ASSERT_EQ(framed.error, ic::IcError::none);
  const auto reply = host().exchange(std::span(packet).first(framed.size), 5);
  ASSERT_TRUE(reply.has_value());
  const ic::FrameResult frame = ic::parse_frame(*reply);
  ASSERT_EQ(frame.error, ic::IcError::none);
  EXPECT_NE(frame.frame.header.status, static_cast<uint32_t>(HvStatus::ok));
  EXPECT_EQ(std::filesystem::file_size(dir_.pool(0)), 0u);
}

}  // namespace
}  // namespace uvmbus::kvpd::test
