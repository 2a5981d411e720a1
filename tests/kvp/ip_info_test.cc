// IP info in the string (KVP 3.0/4.0) and binary (KVP 5.0) wire forms.
#include "uvmbus/kvp/ip_info.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <string>

namespace uvmbus::kvp {
namespace {

Ipv4Address v4(const char* text) {
  Ipv4Address address{};
  EXPECT_EQ(inet_pton(AF_INET, text, address.data()), 1) << text;
  return address;
}

Ipv6Address v6(const char* text) {
  Ipv6Address address{};
  EXPECT_EQ(inet_pton(AF_INET6, text, address.data()), 1) << text;
  return address;
}

IpInfo sample() {
  IpInfo info;
  info.adapter_id = "00:15:5D:01:02:03";
  info.address_family = wire::kKvpAddressFamilyIpv4 | wire::kKvpAddressFamilyIpv6;
  info.dhcp_enabled = true;
  info.ipv4 = {{v4("10.0.0.4"), v4("255.255.255.0"), wire::KvpAddressOrigin::other},
               {v4("192.168.1.7"), v4("255.255.0.0"), wire::KvpAddressOrigin::static_assignment}};
  info.ipv6 = {{v6("fe80::215:5dff:fe01:203"), 64, wire::KvpAddressOrigin::other}};
  info.ipv4_gateways = {v4("10.0.0.1")};
  info.ipv6_gateways = {v6("fe80::1")};
  info.ipv4_dns_servers = {v4("168.63.129.16"), v4("8.8.8.8")};
  info.ipv6_dns_servers = {v6("2001:4860:4860::8888")};
  return info;
}

// The string form carries no origins.
IpInfo without_origins(IpInfo info) {
  for (auto& entry : info.ipv4) {
    entry.origin = wire::KvpAddressOrigin::unknown;
  }
  for (auto& entry : info.ipv6) {
    entry.origin = wire::KvpAddressOrigin::unknown;
  }
  return info;
}

std::string text_of(const uint8_t* field, std::size_t size) {
  const TextResult text = utf16le_field_to_utf8(std::as_bytes(std::span(field, size)), 4096);
  EXPECT_EQ(text.error, TextError::none);
  return text.text;
}

void put_text(uint8_t* field, std::size_t size, const std::string& text) {
  ASSERT_EQ(utf8_to_utf16le(text, std::as_writable_bytes(std::span(field, size)), Overflow::reject)
                .error,
            TextError::none);
}

TEST(StringIpInfo, IsWrittenTheWayLinuxWritesIt) {
  wire::KvpIpInfoStringMessage message{};
  ASSERT_EQ(write_ip_info(sample(), message), IpInfoError::none);
  EXPECT_EQ(text_of(message.adapter_id, sizeof(message.adapter_id)), "00:15:5D:01:02:03");
  EXPECT_EQ(message.address_family, 3);
  EXPECT_EQ(message.dhcp_enabled, 1);
  EXPECT_EQ(text_of(message.ip_addresses, sizeof(message.ip_addresses)),
            "10.0.0.4;192.168.1.7;fe80::215:5dff:fe01:203");
  EXPECT_EQ(text_of(message.subnets, sizeof(message.subnets)),
            "255.255.255.0;255.255.0.0;/64");
  EXPECT_EQ(text_of(message.gateways, sizeof(message.gateways)), "10.0.0.1;fe80::1");
  EXPECT_EQ(text_of(message.dns_servers, sizeof(message.dns_servers)),
            "168.63.129.16;8.8.8.8;2001:4860:4860::8888");
}

TEST(StringIpInfo, ReadsBackWhatItWrote) {
  wire::KvpIpInfoStringMessage message{};
  ASSERT_EQ(write_ip_info(sample(), message), IpInfoError::none);
  const IpInfoResult read = read_ip_info(message);
  ASSERT_EQ(read.error, IpInfoError::none);
  EXPECT_EQ(read.info, without_origins(sample()));
}

TEST(StringIpInfo, ReadsIpv6SubnetsAsSlashPrefixBarePrefixOrMaskAndSkipsEmptyItems) {
  wire::KvpIpInfoStringMessage message{};
  put_text(message.ip_addresses, sizeof(message.ip_addresses), " 2001:db8::1 ;;2001:db8::2;2001:db8::3;");
  put_text(message.subnets, sizeof(message.subnets), "/48;64; ffff:ffff:ffff:ffff:ffff::");
  const IpInfoResult read = read_ip_info(message);
  ASSERT_EQ(read.error, IpInfoError::none);
  ASSERT_EQ(read.info.ipv6.size(), 3u);
  EXPECT_EQ(read.info.ipv6[0].prefix_length, 48u);
  EXPECT_EQ(read.info.ipv6[1].prefix_length, 64u);
  EXPECT_EQ(read.info.ipv6[2].prefix_length, 80u);
}

TEST(StringIpInfo, RefusesUnparsableItems) {
  for (const auto& [addresses, subnets] :
       {std::pair{"10.0.0.300", "255.0.0.0"}, std::pair{"10.0.0.1", "/24"},
        std::pair{"fe80::1", "/129"}, std::pair{"fe80::1", "ffff:0:ffff::"},
        std::pair{"fe80::1", "255.255.0.0"}, std::pair{"host.example", "255.0.0.0"}}) {
    wire::KvpIpInfoStringMessage message{};
    put_text(message.ip_addresses, sizeof(message.ip_addresses), addresses);
    put_text(message.subnets, sizeof(message.subnets), subnets);
    EXPECT_EQ(read_ip_info(message).error, IpInfoError::unparsable_address) << addresses;
  }
  wire::KvpIpInfoStringMessage message{};
  put_text(message.dns_servers, sizeof(message.dns_servers), "8.8.8.8;dns.example");
  EXPECT_EQ(read_ip_info(message).error, IpInfoError::unparsable_address);
}

TEST(StringIpInfo, RefusesAddressesWithoutOneSubnetEach) {
  wire::KvpIpInfoStringMessage message{};
  put_text(message.ip_addresses, sizeof(message.ip_addresses), "10.0.0.1;10.0.0.2");
  put_text(message.subnets, sizeof(message.subnets), "255.0.0.0");
  EXPECT_EQ(read_ip_info(message).error, IpInfoError::subnet_count);
}

TEST(StringIpInfo, RefusesFieldsWithoutTerminatorOrWithBadUtf16) {
  wire::KvpIpInfoStringMessage message{};
  std::fill(std::begin(message.gateways), std::end(message.gateways), uint8_t{'1'});
  IpInfoResult read = read_ip_info(message);
  EXPECT_EQ(read.error, IpInfoError::bad_list_text);
  EXPECT_EQ(read.text_error, TextError::missing_terminator);

  wire::KvpIpInfoStringMessage lone{};
  lone.adapter_id[0] = 0x00;
  lone.adapter_id[1] = 0xdc;  // a lone low surrogate
  read = read_ip_info(lone);
  EXPECT_EQ(read.error, IpInfoError::bad_adapter_id);
  EXPECT_EQ(read.text_error, TextError::unpaired_surrogate);
}

TEST(StringIpInfo, RefusesToWriteAListLongerThanItsField) {
  IpInfo info;
  for (int i = 0; i < 60; ++i) {
    info.ipv6.push_back({v6("2001:db8:1234:5678:9abc:def0:1234:5678"), 64, {}});
  }
  wire::KvpIpInfoStringMessage message{};
  EXPECT_EQ(write_ip_info(info, message), IpInfoError::list_too_long);
}

TEST(BinaryIpInfo, RoundTripsWithOriginsAfterTheIpv4Entries) {
  wire::KvpIpInfoBinary message{};
  ASSERT_EQ(write_ip_info(sample(), message), IpInfoError::none);
  EXPECT_EQ(message.ipv4_address_count, 2u);
  EXPECT_EQ(message.ipv6_address_count, 1u);
  EXPECT_EQ(message.ipv4_gateway_count, 1u);
  EXPECT_EQ(message.ipv6_dns_server_count, 1u);
  EXPECT_EQ(message.address_origins[0], 1);
  EXPECT_EQ(message.address_origins[1], 2);
  EXPECT_EQ(message.address_origins[2], 1);
  EXPECT_EQ(message.ipv6_subnets[0], 64u);
  EXPECT_EQ(message.ipv4_addresses[0][0], 10);  // network byte order
  EXPECT_EQ(message.ipv4_addresses[0][3], 4);
  const IpInfoResult read = read_ip_info(message);
  ASSERT_EQ(read.error, IpInfoError::none);
  EXPECT_EQ(read.info, sample());
}

TEST(BinaryIpInfo, RefusesCountsBeyondTheArrays) {
  const auto refused = [](auto set_count) {
    wire::KvpIpInfoBinary message{};
    set_count(message);
    return read_ip_info(message).error;
  };
  EXPECT_EQ(refused([](auto& m) { m.ipv4_address_count = 65; }), IpInfoError::too_many_entries);
  EXPECT_EQ(refused([](auto& m) { m.ipv6_address_count = 0xffffffff; }),
            IpInfoError::too_many_entries);
  EXPECT_EQ(refused([](auto& m) { m.ipv4_gateway_count = 6; }), IpInfoError::too_many_entries);
  EXPECT_EQ(refused([](auto& m) { m.ipv6_gateway_count = 6; }), IpInfoError::too_many_entries);
  EXPECT_EQ(refused([](auto& m) { m.ipv4_dns_server_count = 65; }),
            IpInfoError::too_many_entries);
  EXPECT_EQ(refused([](auto& m) { m.ipv6_dns_server_count = 65; }),
            IpInfoError::too_many_entries);
  EXPECT_EQ(refused([](auto& m) { m.ipv4_address_count = 64; }), IpInfoError::none);

  IpInfo info;
  info.ipv4_gateways.resize(6);
  wire::KvpIpInfoBinary message{};
  EXPECT_EQ(write_ip_info(info, message), IpInfoError::too_many_entries);
}

TEST(BinaryIpInfo, RefusesAnIpv6PrefixLongerThan128) {
  wire::KvpIpInfoBinary message{};
  message.ipv6_address_count = 1;
  message.ipv6_subnets[0] = 129;
  EXPECT_EQ(read_ip_info(message).error, IpInfoError::unparsable_address);
}

TEST(BinaryIpInfo, RefusesAnAdapterIdWithoutTerminator) {
  wire::KvpIpInfoBinary message{};
  std::fill(std::begin(message.adapter_id), std::end(message.adapter_id), uint8_t{'a'});
  EXPECT_EQ(read_ip_info(message).error, IpInfoError::bad_adapter_id);
  IpInfo info;
  info.adapter_id = std::string(200, 'a');
  EXPECT_EQ(write_ip_info(info, message), IpInfoError::bad_adapter_id);
}

TEST(IpInfoError, EveryValueHasAName) {
  EXPECT_STREQ(to_string(IpInfoError::none), "none");
  EXPECT_STREQ(to_string(IpInfoError::list_too_long), "list_too_long");
  EXPECT_STREQ(to_string(static_cast<IpInfoError>(50)), "unknown");
}

}  // namespace
}  // namespace uvmbus::kvp
