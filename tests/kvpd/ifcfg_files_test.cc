// The ifcfg and keyfile texts SET_IP_INFO hands to the hook.
#include <gtest/gtest.h>

#include "ifcfg_files.h"

namespace uvmbus::kvpd {
namespace {

kvp::IpInfo sample() {
  kvp::IpInfo info;
  info.ipv4 = {{{10, 0, 0, 5}, {255, 255, 255, 0}, wire::KvpAddressOrigin::static_assignment},
               {{10, 1, 0, 5}, {255, 255, 0, 0}, wire::KvpAddressOrigin::static_assignment}};
  info.ipv6 = {{{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x07}, 64,
                wire::KvpAddressOrigin::static_assignment}};
  info.ipv4_gateways = {{10, 0, 0, 1}, {10, 0, 0, 2}};
  info.ipv4_dns_servers = {{10, 0, 0, 53}};
  info.ipv6_dns_servers = {{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53}};
  return info;
}

TEST(IfcfgFilesTest, WritesTheIfcfgKeysInLinuxOrder) {
  EXPECT_EQ(ifcfg_text("eth0", "00:15:5D:01:02:03", sample()),
            "HWADDR=00:15:5D:01:02:03\n"
            "DEVICE=eth0\n"
            "BOOTPROTO=none\n"
            "IPADDR0=10.0.0.5\n"
            "IPADDR1=10.1.0.5\n"
            "IPV6ADDR=2001:0db8:0000:0000:0000:0000:0000:0007\n"
            "NETMASK0=255.255.255.0\n"
            "NETMASK1=255.255.0.0\n"
            "IPV6NETMASK=64\n"
            "GATEWAY=10.0.0.1\n"
            "GATEWAY1=10.0.0.2\n"
            "DNS1=10.0.0.53\n"
            "DNS2=2001:0db8:0000:0000:0000:0000:0000:0053\n");
}

TEST(IfcfgFilesTest, WritesANetworkManagerKeyfile) {
  kvp::IpInfo info = sample();
  EXPECT_EQ(keyfile_text("eth0", "00:15:5D:01:02:03", info),
            "[connection]\ninterface-name=eth0\n\n"
            "[ethernet]\nmac-address=00:15:5D:01:02:03\n\n"
            "[ipv4]\naddress1=10.0.0.5/24\naddress2=10.1.0.5/16\nmethod=manual\n"
            "gateway=10.0.0.1,10.0.0.2\ndns=10.0.0.53\n\n"
            "[ipv6]\naddress1=2001:db8::7/64\nmethod=manual\ndns=2001:db8::53\n");
  info = {};
  info.dhcp_enabled = true;
  const std::string dhcp = keyfile_text("eth1", "00:15:5D:01:02:04", info);
  EXPECT_NE(dhcp.find("[ipv4]\nmethod=auto\n"), std::string::npos) << dhcp;
  EXPECT_NE(dhcp.find("[ipv6]\nmethod=auto\n"), std::string::npos) << dhcp;
  EXPECT_NE(ifcfg_text("eth1", "00:15:5D:01:02:04", info).find("BOOTPROTO=dhcp\n"), std::string::npos);
}

}  // namespace
}  // namespace uvmbus::kvpd
