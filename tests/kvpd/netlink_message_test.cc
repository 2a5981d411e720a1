// The sans-IO rtnetlink parser and request builders, and what kvpd computes
// from a snapshot: round trips through the builders, hand-made link
// messages, hostile lengths, and GET_IP_INFO / auto-pool views.
#include <gtest/gtest.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <cstring>

#include "netlink_message.h"
#include "network_view.h"
#include "nic_map.h"
#include "resolv_conf.h"

namespace uvmbus::kvpd {
namespace {

std::vector<std::byte> link_message(int index, unsigned flags, std::string_view name,
                                    const MacAddress& mac) {
  std::vector<std::byte> out(NLMSG_SPACE(sizeof(ifinfomsg)) + RTA_SPACE(IFNAMSIZ) + RTA_SPACE(6));
  auto* header = reinterpret_cast<nlmsghdr*>(out.data());
  header->nlmsg_len = static_cast<uint32_t>(out.size());
  header->nlmsg_type = RTM_NEWLINK;
  auto* info = static_cast<ifinfomsg*>(NLMSG_DATA(header));
  info->ifi_index = index;
  info->ifi_flags = flags;
  auto* attribute = reinterpret_cast<rtattr*>(out.data() + NLMSG_SPACE(sizeof(ifinfomsg)));
  attribute->rta_len = RTA_LENGTH(IFNAMSIZ);
  attribute->rta_type = IFLA_IFNAME;
  std::memcpy(RTA_DATA(attribute), name.data(), name.size());
  attribute = reinterpret_cast<rtattr*>(reinterpret_cast<std::byte*>(attribute) + RTA_SPACE(IFNAMSIZ));
  attribute->rta_len = RTA_LENGTH(6);
  attribute->rta_type = IFLA_ADDRESS;
  std::memcpy(RTA_DATA(attribute), mac.data(), mac.size());
  return out;
}

NetAddress ipv4(int link, std::array<uint8_t, 4> bytes, uint8_t prefix) {
  NetAddress address{.link_index = link, .family = AF_INET, .prefix_length = prefix};
  std::copy(bytes.begin(), bytes.end(), address.address.begin());
  return address;
}

std::vector<std::byte> concat(std::initializer_list<std::vector<std::byte>> parts) {
  std::vector<std::byte> out;
  for (const auto& part : parts) {
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

std::vector<std::byte> done_message() {
  std::vector<std::byte> out(NLMSG_SPACE(sizeof(int)));
  auto* header = reinterpret_cast<nlmsghdr*>(out.data());
  header->nlmsg_len = static_cast<uint32_t>(out.size());
  header->nlmsg_type = NLMSG_DONE;
  return out;
}

TEST(NetlinkMessageTest, ParsesLinksAddressesAndRoutesOfADump) {
  const MacAddress mac{0x00, 0x15, 0x5d, 0xaa, 0x0b, 0x0c};
  IpBytes gateway{};
  gateway[0] = 10;
  gateway[3] = 1;
  const auto datagram = concat({link_message(3, IFF_UP, "eth0", mac),
                                address_request(true, ipv4(3, {10, 0, 0, 5}, 24), 1),
                                default_route_request(AF_INET, gateway, 3, 100, 2)});
  NetlinkDump dump;
  ASSERT_EQ(parse_netlink(datagram, dump), ParseStatus::more);
  ASSERT_EQ(dump.links.size(), 1u);
  EXPECT_EQ(dump.links[0].name, "eth0");
  EXPECT_EQ(format_mac(dump.links[0].mac), "00:15:5D:AA:0B:0C");
  ASSERT_EQ(dump.addresses.size(), 1u);
  EXPECT_EQ(dump.addresses[0].prefix_length, 24);
  EXPECT_EQ(dump.addresses[0].link_index, 3);
  ASSERT_EQ(dump.routes.size(), 1u);
  EXPECT_EQ(dump.routes[0].output_link, 3);
  EXPECT_TRUE(dump.routes[0].has_gateway);
  EXPECT_EQ(dump.routes[0].gateway, gateway);
  EXPECT_EQ(dump.routes[0].table, RT_TABLE_MAIN);
  EXPECT_EQ(parse_netlink(done_message(), dump), ParseStatus::done);
}

TEST(NetlinkMessageTest, RefusesLengthsThatLeaveTheDatagram) {
  const auto good = address_request(true, ipv4(1, {10, 0, 0, 1}, 8), 1);
  NetlinkDump dump;
  auto bad = good;
  auto* header = reinterpret_cast<nlmsghdr*>(bad.data());
  header->nlmsg_len = static_cast<uint32_t>(bad.size() + 4);  // past the end
  EXPECT_EQ(parse_netlink(bad, dump), ParseStatus::malformed);
  header->nlmsg_len = 4;  // shorter than its own header
  EXPECT_EQ(parse_netlink(bad, dump), ParseStatus::malformed);
  bad = good;
  auto* attribute = reinterpret_cast<rtattr*>(bad.data() + NLMSG_SPACE(sizeof(ifaddrmsg)));
  attribute->rta_len = 0xFFFF;  // an attribute longer than its message
  EXPECT_EQ(parse_netlink(bad, dump), ParseStatus::malformed);
  EXPECT_TRUE(dump.addresses.empty());
  // Bytes after the last message that are no header: the datagram is refused
  // (the socket layer then drops the whole dump).
  bad = good;
  bad.resize(bad.size() + 3);
  EXPECT_EQ(parse_netlink(bad, dump), ParseStatus::malformed);
}

TEST(NetlinkMessageTest, SkipsAddressesWithWrongSizesOrPrefixes) {
  auto message = address_request(true, ipv4(1, {10, 0, 0, 1}, 8), 1);
  reinterpret_cast<ifaddrmsg*>(message.data() + NLMSG_HDRLEN)->ifa_prefixlen = 33;
  NetlinkDump dump;
  EXPECT_EQ(parse_netlink(message, dump), ParseStatus::more);
  EXPECT_TRUE(dump.addresses.empty());
  reinterpret_cast<ifaddrmsg*>(message.data() + NLMSG_HDRLEN)->ifa_family = AF_INET6;  // 4-byte address
  EXPECT_EQ(parse_netlink(message, dump), ParseStatus::more);
  EXPECT_TRUE(dump.addresses.empty());
}

TEST(NetlinkMessageTest, CutsAnUnterminatedInterfaceNameToWhatTheKernelAllows) {
  NetlinkDump dump;
  ASSERT_EQ(parse_netlink(link_message(4, 0, "sixteen-chars-xx", {}), dump), ParseStatus::more);
  ASSERT_EQ(dump.links.size(), 1u);
  EXPECT_EQ(dump.links[0].name, "sixteen-chars-x");  // IFNAMSIZ - 1
}

TEST(NetlinkMessageTest, ReadsAcknowledgementsAndErrors) {
  std::vector<std::byte> out(NLMSG_SPACE(sizeof(nlmsgerr)));
  auto* header = reinterpret_cast<nlmsghdr*>(out.data());
  header->nlmsg_len = static_cast<uint32_t>(out.size());
  header->nlmsg_type = NLMSG_ERROR;
  static_cast<nlmsgerr*>(NLMSG_DATA(header))->error = -EEXIST;
  NetlinkDump dump;
  EXPECT_EQ(parse_netlink(out, dump), ParseStatus::done);
  EXPECT_EQ(dump.error_code, -EEXIST);
  header->nlmsg_len = NLMSG_HDRLEN;  // an error without its body
  EXPECT_EQ(parse_netlink(std::span(out).first(NLMSG_HDRLEN), dump), ParseStatus::malformed);
}

TEST(NetworkViewTest, ReportsTheAdapterOfAMacWithItsGatewaysAndDns) {
  NetworkSnapshot network;
  network.links = {{.index = 1, .flags = IFF_LOOPBACK, .name = "lo", .has_mac = false, .mac = {}},
                   {.index = 2, .flags = 0, .name = "vf0", .has_mac = true, .mac = {0, 0x15, 0x5d, 1, 2, 3}},
                   {.index = 3, .flags = 0, .name = "eth0", .has_mac = true, .mac = {0, 0x15, 0x5d, 1, 2, 3}}};
  NetAddress static_v4 = ipv4(3, {10, 1, 0, 5}, 16);
  static_v4.flags = IFA_F_PERMANENT;
  network.addresses = {ipv4(1, {127, 0, 0, 1}, 8), static_v4, ipv4(3, {10, 2, 0, 5}, 24)};
  NetRoute route{.family = AF_INET, .destination_length = 0, .table = RT_TABLE_MAIN,
                 .output_link = 3, .has_gateway = true, .gateway = {10, 1, 0, 1}};
  NetRoute elsewhere = route;
  elsewhere.output_link = 1;
  network.routes = {route, elsewhere};
  // The VF shares the MAC but has no address: skipped, as Linux does.
  ASSERT_EQ(link_by_mac(network, "00:15:5d:01:02:03"), 3);
  EXPECT_EQ(link_by_mac(network, "00:15:5D:01:02:04"), std::nullopt);
  const kvp::IpInfo info =
      ip_info_of_link(network, 3, parse_resolv_conf("# c\nnameserver 10.1.0.53\nnameserver ::1\nsearch x\n"));
  ASSERT_EQ(info.ipv4.size(), 2u);
  EXPECT_EQ(info.ipv4[0].subnet_mask, (kvp::Ipv4Address{255, 255, 0, 0}));
  EXPECT_EQ(info.ipv4[0].origin, wire::KvpAddressOrigin::static_assignment);
  EXPECT_EQ(info.ipv4[1].origin, wire::KvpAddressOrigin::other);
  EXPECT_TRUE(info.dhcp_enabled);
  EXPECT_EQ(info.ipv4_gateways, (std::vector<kvp::Ipv4Address>{{10, 1, 0, 1}}));
  EXPECT_EQ(info.ipv4_dns_servers, (std::vector<kvp::Ipv4Address>{{10, 1, 0, 53}}));
  EXPECT_EQ(info.ipv6_dns_servers.size(), 1u);
  EXPECT_EQ(info.address_family, wire::kKvpAddressFamilyIpv4);
  EXPECT_EQ(joined_addresses(network, AF_INET), "10.1.0.5;10.2.0.5");
}

TEST(NetworkViewTest, ConvertsContiguousMasksOnly) {
  EXPECT_EQ(prefix_of_mask({255, 255, 255, 0}), 24);
  EXPECT_EQ(prefix_of_mask({0, 0, 0, 0}), 0);
  EXPECT_EQ(prefix_of_mask({255, 255, 255, 255}), 32);
  EXPECT_EQ(prefix_of_mask({255, 0, 255, 0}), std::nullopt);
}

TEST(ResolvConfTest, ReplacesOnlyTheNameserverLines) {
  const std::string text = "search example\nnameserver 1.1.1.1\noptions ndots:2\nnameserver fe80::1\n";
  DnsServers servers;
  servers.ipv4 = {{9, 9, 9, 9}};
  EXPECT_EQ(replace_nameservers(text, servers), "search example\noptions ndots:2\nnameserver 9.9.9.9\n");
  EXPECT_TRUE(parse_resolv_conf("nameserverx 1.2.3.4\nnameserver bogus\n").ipv4.empty());
}

TEST(NicMapTest, MapsGuidsInAnyFormToInterfaces) {
  NicMap map;
  EXPECT_TRUE(map.add("{5E1EC7ED-0000-4000-8000-0000000000E1}=veth-a"));
  EXPECT_FALSE(map.add("not-a-guid=eth0"));
  EXPECT_FALSE(map.add("5e1ec7ed-0000-4000-8000-0000000000e1=bad/name"));
  EXPECT_FALSE(map.add("5e1ec7ed-0000-4000-8000-0000000000e1"));
  EXPECT_EQ(map.interface_for("5e1ec7ed-0000-4000-8000-0000000000e1", "/nonexistent"), "veth-a");
  EXPECT_EQ(map.interface_for("{5e1ec7ed-0000-4000-8000-0000000000e2}", "/nonexistent"), std::nullopt);
}

}  // namespace
}  // namespace uvmbus::kvpd
