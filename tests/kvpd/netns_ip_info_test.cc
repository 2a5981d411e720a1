// GET_IP_INFO and SET_IP_INFO against the kernel: each test runs in a network
// namespace of its own (unshare(CLONE_NEWNET) on a dedicated thread, which
// `ip` commands started from that thread inherit), on a veth pair whose MAC
// the test chooses.
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <sched.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <thread>

#include "netlink_ip_config.h"
#include "network_view.h"
#include "pool_files.h"

namespace uvmbus::kvpd {
namespace {

constexpr std::string_view kMac = "00:15:5D:AA:BB:01";
constexpr std::string_view kNicGuid = "{8a3c2f10-0d5e-4c1b-9f6a-3e2d1c0b9a01}";

// Runs `body` on a thread inside a fresh network namespace; the reason it
// could not, or empty.
std::string in_new_netns(const std::function<void()>& body) {
  std::string failure;
  std::thread thread([&] {
    if (unshare(CLONE_NEWNET) != 0) {
      failure = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
      return;
    }
    body();
  });
  thread.join();
  return failure;
}

void sh(const std::string& command) {
  ASSERT_EQ(std::system((command + " >/dev/null 2>&1").c_str()), 0) << command;
}

void make_veth() {
  sh("ip link add veth-kvp0 address " + std::string(kMac) + " type veth peer name veth-kvp1");
  sh("ip link set veth-kvp0 up");
  sh("ip link set veth-kvp1 up");
}

kvp::Ipv4Address v4(const char* text) {
  kvp::Ipv4Address address{};
  inet_pton(AF_INET, text, address.data());
  return address;
}

kvp::Ipv6Address v6(const char* text) {
  kvp::Ipv6Address address{};
  inet_pton(AF_INET6, text, address.data());
  return address;
}

class NetnsIpInfoTest : public ::testing::Test {
 protected:
  NetlinkIpConfig make_config(const std::filesystem::path& hook = {}) {
    NetlinkIpConfigOptions options;
    options.ifconfig_hook = hook;
    options.ifconfig_dir = dir_.path();
    EXPECT_TRUE(options.nic_map.add(std::string(kNicGuid) + "=veth-kvp0"));
    options.sysfs_net = dir_.path() / "no-sysfs";
    options.resolv_conf = dir_.path() / "resolv.conf";
    return NetlinkIpConfig(std::move(options));
  }
  void run(const std::function<void()>& body) {
    const std::string failure = in_new_netns(body);
    if (!failure.empty()) {
      GTEST_SKIP() << "network namespaces unavailable: " << failure;
    }
  }
  kvp::testing::ScratchDir dir_;
};

TEST_F(NetnsIpInfoTest, GetReportsWhatTheInterfaceHas) {
  kvp::testing::write_file(dir_.path() / "resolv.conf",
                           "search example\nnameserver 192.0.2.53\nnameserver 2001:db8::53\n");
  run([&] {
    make_veth();
    sh("ip addr add 192.0.2.10/24 dev veth-kvp0");
    sh("ip -6 addr add 2001:db8::10/64 dev veth-kvp0 nodad");
    sh("ip route add default via 192.0.2.1 dev veth-kvp0");
    NetlinkIpConfig config = make_config();
    const IpLookup lookup = config.get(kMac);
    ASSERT_EQ(lookup.status, wire::HvStatus::ok) << config.last_errno();
    const kvp::IpInfo& info = lookup.info;
    EXPECT_EQ(info.adapter_id, kMac);
    ASSERT_EQ(info.ipv4.size(), 1u);
    EXPECT_EQ(info.ipv4[0].address, v4("192.0.2.10"));
    EXPECT_EQ(info.ipv4[0].subnet_mask, v4("255.255.255.0"));
    EXPECT_EQ(info.ipv4[0].origin, wire::KvpAddressOrigin::static_assignment);
    EXPECT_FALSE(info.dhcp_enabled);
    // The global address and the kernel's link-local one.
    ASSERT_GE(info.ipv6.size(), 1u);
    EXPECT_TRUE(std::any_of(info.ipv6.begin(), info.ipv6.end(), [](const kvp::Ipv6Entry& entry) {
      return entry.address == v6("2001:db8::10") && entry.prefix_length == 64;
    }));
    EXPECT_EQ(info.ipv4_gateways, (std::vector<kvp::Ipv4Address>{v4("192.0.2.1")}));
    EXPECT_EQ(info.ipv4_dns_servers, (std::vector<kvp::Ipv4Address>{v4("192.0.2.53")}));
    EXPECT_EQ(info.ipv6_dns_servers, (std::vector<kvp::Ipv6Address>{v6("2001:db8::53")}));
    EXPECT_EQ(info.address_family, wire::kKvpAddressFamilyIpv4 | wire::kKvpAddressFamilyIpv6);
    // Lower-case MACs match too; an unknown MAC and the address-less peer fail.
    EXPECT_EQ(config.get("00:15:5d:aa:bb:01").status, wire::HvStatus::ok);
    EXPECT_EQ(config.get("00:15:5D:00:00:00").status, wire::HvStatus::fail);
  });
}

TEST_F(NetnsIpInfoTest, SetAppliesAddressesRoutesAndDnsAndGetReadsThemBack) {
  kvp::testing::write_file(dir_.path() / "resolv.conf", "search example\nnameserver 192.0.2.53\n");
  run([&] {
    make_veth();
    sh("ip addr add 192.0.2.10/24 dev veth-kvp0");
    NetlinkIpConfig config = make_config();
    kvp::IpInfo wanted;
    wanted.adapter_id = std::string(kNicGuid);
    wanted.address_family = wire::kKvpAddressFamilyIpv4 | wire::kKvpAddressFamilyIpv6;
    wanted.ipv4 = {{v4("198.51.100.7"), v4("255.255.255.0"), wire::KvpAddressOrigin::static_assignment},
                   {v4("203.0.113.9"), v4("255.255.0.0"), wire::KvpAddressOrigin::static_assignment}};
    wanted.ipv6 = {{v6("2001:db8:1::7"), 64, wire::KvpAddressOrigin::static_assignment}};
    wanted.ipv4_gateways = {v4("198.51.100.1")};
    wanted.ipv4_dns_servers = {v4("198.51.100.53"), v4("198.51.100.54")};
    ASSERT_EQ(config.set(wanted), wire::HvStatus::ok) << config.last_errno();

    const IpLookup lookup = config.get(kMac);
    ASSERT_EQ(lookup.status, wire::HvStatus::ok);
    std::vector<kvp::Ipv4Address> addresses;
    for (const kvp::Ipv4Entry& entry : lookup.info.ipv4) {
      addresses.push_back(entry.address);
    }
    EXPECT_EQ(addresses, (std::vector<kvp::Ipv4Address>{v4("198.51.100.7"), v4("203.0.113.9")}));
    EXPECT_EQ(lookup.info.ipv4[1].subnet_mask, v4("255.255.0.0"));
    EXPECT_TRUE(std::any_of(lookup.info.ipv6.begin(), lookup.info.ipv6.end(),
                            [](const kvp::Ipv6Entry& entry) { return entry.address == v6("2001:db8:1::7"); }));
    EXPECT_EQ(lookup.info.ipv4_gateways, wanted.ipv4_gateways);
    EXPECT_EQ(lookup.info.ipv4_dns_servers, wanted.ipv4_dns_servers);
    EXPECT_EQ(kvp::testing::read_file(dir_.path() / "resolv.conf"),
              "search example\nnameserver 198.51.100.53\nnameserver 198.51.100.54\n");
    // What `ip` sees, too.
    sh("ip -4 addr show dev veth-kvp0 | grep -q 'inet 198.51.100.7/24'");
    sh("ip -4 route show default | grep -q 'via 198.51.100.1 dev veth-kvp0'");

    kvp::IpInfo unknown = wanted;
    unknown.adapter_id = "{00000000-0000-0000-0000-000000000001}";
    EXPECT_EQ(config.set(unknown), wire::HvStatus::not_found);
    kvp::IpInfo bad_mask = wanted;
    bad_mask.ipv4[0].subnet_mask = v4("255.0.255.0");
    EXPECT_EQ(config.set(bad_mask), wire::HvStatus::invalid_arg);
  });
}

TEST_F(NetnsIpInfoTest, SetRunsTheIfconfigHookOnceWithTheIfcfgAndKeyfilePaths) {
  const std::filesystem::path hook = dir_.path() / "hv_set_ifconfig";
  kvp::testing::write_file(hook, "#!/bin/sh\necho \"$@\" >> \"$(dirname \"$1\")/hook.log\"\nexit $HOOK_STATUS\n");
  std::filesystem::permissions(hook, std::filesystem::perms::owner_all);
  run([&] {
    make_veth();
    NetlinkIpConfig config = make_config(hook);
    kvp::IpInfo wanted;
    wanted.adapter_id = std::string(kNicGuid);
    wanted.ipv4 = {{v4("198.51.100.7"), v4("255.255.255.0"), wire::KvpAddressOrigin::static_assignment}};
    setenv("HOOK_STATUS", "0", 1);
    ASSERT_EQ(config.set(wanted), wire::HvStatus::ok) << config.last_errno();
    const std::filesystem::path ifcfg = dir_.path() / "ifcfg-veth-kvp0";
    const std::filesystem::path keyfile = dir_.path() / "veth-kvp0.nmconnection";
    EXPECT_EQ(kvp::testing::read_file(dir_.path() / "hook.log"),
              ifcfg.string() + " " + keyfile.string() + "\n");
    EXPECT_EQ(kvp::testing::read_file(ifcfg).rfind("HWADDR=" + std::string(kMac) + "\nDEVICE=veth-kvp0\n", 0), 0u);
    EXPECT_NE(kvp::testing::read_file(keyfile).find("address1=198.51.100.7/24"), std::string::npos);
    setenv("HOOK_STATUS", "3", 1);
    EXPECT_EQ(config.set(wanted), wire::HvStatus::fail);  // the hook's failure is the host's
    unsetenv("HOOK_STATUS");
  });
}

}  // namespace
}  // namespace uvmbus::kvpd
