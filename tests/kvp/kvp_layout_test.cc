// KVP wire layouts and numbers, checked field by field against the Linux
// UAPI header installed on this machine (<linux/hyperv.h>), which is what
// hv_kvp_daemon and the kernel's hv_kvp driver are built from.
#include <gtest/gtest.h>
#include <linux/hyperv.h>

#include <cstddef>

#include "uvmbus/wire/kvp.h"

namespace uvmbus::wire {
namespace {

// Offsets inside hv_kvp_msg, whose body follows the 4-byte hv_kvp_hdr.
constexpr std::size_t kBody = offsetof(hv_kvp_msg, body);

TEST(KvpLayout, ItemMatchesHvKvpExchgMsgValue) {
  EXPECT_EQ(sizeof(KvpValue), sizeof(hv_kvp_exchg_msg_value));
  EXPECT_EQ(offsetof(KvpValue, value_type), offsetof(hv_kvp_exchg_msg_value, value_type));
  EXPECT_EQ(offsetof(KvpValue, key_size), offsetof(hv_kvp_exchg_msg_value, key_size));
  EXPECT_EQ(offsetof(KvpValue, value_size), offsetof(hv_kvp_exchg_msg_value, value_size));
  EXPECT_EQ(offsetof(KvpValue, key), offsetof(hv_kvp_exchg_msg_value, key));
  EXPECT_EQ(sizeof(KvpValue::key), sizeof(hv_kvp_exchg_msg_value::key));
  EXPECT_EQ(offsetof(KvpValue, value), offsetof(hv_kvp_exchg_msg_value, value));
  EXPECT_EQ(offsetof(KvpValue, value), offsetof(hv_kvp_exchg_msg_value, value_u32));
  EXPECT_EQ(offsetof(KvpValue, value), offsetof(hv_kvp_exchg_msg_value, value_u64));
  EXPECT_EQ(sizeof(KvpValue::value), sizeof(hv_kvp_exchg_msg_value::value));
}

TEST(KvpLayout, HeaderAndPaddingMatchHvKvpHdr) {
  EXPECT_EQ(sizeof(hv_kvp_hdr), 4u);
  EXPECT_EQ(offsetof(KvpGetSetMessage, header) + offsetof(KvpHeader, operation),
            offsetof(hv_kvp_hdr, operation));
  EXPECT_EQ(offsetof(KvpGetSetMessage, header) + offsetof(KvpHeader, pool),
            offsetof(hv_kvp_hdr, pool));
  EXPECT_EQ(offsetof(KvpGetSetMessage, padding), offsetof(hv_kvp_hdr, pad));
  EXPECT_EQ(kBody, sizeof(hv_kvp_hdr));
}

TEST(KvpLayout, OperationBodiesMatchHvKvpMsg) {
  EXPECT_EQ(offsetof(KvpGetSetMessage, value), kBody + offsetof(hv_kvp_msg_get, data));
  EXPECT_EQ(offsetof(KvpGetSetMessage, value), kBody + offsetof(hv_kvp_msg_set, data));
  EXPECT_EQ(sizeof(KvpGetSetMessage), kBody + sizeof(hv_kvp_msg_set));

  EXPECT_EQ(offsetof(KvpDeleteMessage, key_size), kBody + offsetof(hv_kvp_msg_delete, key_size));
  EXPECT_EQ(offsetof(KvpDeleteMessage, key), kBody + offsetof(hv_kvp_msg_delete, key));
  EXPECT_EQ(sizeof(KvpDeleteMessage), kBody + sizeof(hv_kvp_msg_delete));

  EXPECT_EQ(offsetof(KvpEnumerateMessage, index),
            kBody + offsetof(hv_kvp_msg_enumerate, index));
  EXPECT_EQ(offsetof(KvpEnumerateMessage, value), kBody + offsetof(hv_kvp_msg_enumerate, data));
  EXPECT_EQ(sizeof(KvpEnumerateMessage), kBody + sizeof(hv_kvp_msg_enumerate));
}

TEST(KvpLayout, StringIpInfoMatchesHvKvpIpMsg) {
  EXPECT_EQ(sizeof(KvpIpInfoStringMessage), sizeof(hv_kvp_ip_msg));
  EXPECT_EQ(offsetof(KvpIpInfoStringMessage, header) + offsetof(KvpHeader, operation),
            offsetof(hv_kvp_ip_msg, operation));
  EXPECT_EQ(offsetof(KvpIpInfoStringMessage, header) + offsetof(KvpHeader, pool),
            offsetof(hv_kvp_ip_msg, pool));
  constexpr std::size_t kIp = offsetof(hv_kvp_ip_msg, kvp_ip_val);
  EXPECT_EQ(offsetof(KvpIpInfoStringMessage, adapter_id),
            kIp + offsetof(hv_kvp_ipaddr_value, adapter_id));
  EXPECT_EQ(offsetof(KvpIpInfoStringMessage, address_family),
            kIp + offsetof(hv_kvp_ipaddr_value, addr_family));
  EXPECT_EQ(offsetof(KvpIpInfoStringMessage, dhcp_enabled),
            kIp + offsetof(hv_kvp_ipaddr_value, dhcp_enabled));
  EXPECT_EQ(offsetof(KvpIpInfoStringMessage, ip_addresses),
            kIp + offsetof(hv_kvp_ipaddr_value, ip_addr));
  EXPECT_EQ(offsetof(KvpIpInfoStringMessage, subnets),
            kIp + offsetof(hv_kvp_ipaddr_value, sub_net));
  EXPECT_EQ(offsetof(KvpIpInfoStringMessage, gateways),
            kIp + offsetof(hv_kvp_ipaddr_value, gate_way));
  EXPECT_EQ(offsetof(KvpIpInfoStringMessage, dns_servers),
            kIp + offsetof(hv_kvp_ipaddr_value, dns_addr));
  EXPECT_EQ(sizeof(KvpIpInfoStringMessage::adapter_id), 2 * MAX_ADAPTER_ID_SIZE);
  EXPECT_EQ(sizeof(KvpIpInfoStringMessage::ip_addresses), 2 * MAX_IP_ADDR_SIZE);
  EXPECT_EQ(sizeof(KvpIpInfoStringMessage::subnets), 2 * MAX_IP_ADDR_SIZE);
  EXPECT_EQ(sizeof(KvpIpInfoStringMessage::gateways), 2 * MAX_GATEWAY_SIZE);
  EXPECT_EQ(sizeof(KvpIpInfoStringMessage::dns_servers), 2 * MAX_IP_ADDR_SIZE);
  // Linux's kernel/daemon message carries the same body after its 4-byte header.
  EXPECT_EQ(kBody + sizeof(hv_kvp_ipaddr_value), sizeof(hv_kvp_ip_msg) + 2);
}

TEST(KvpLayout, SizesAndLimitsMatch) {
  EXPECT_EQ(kKvpMaxKeyBytes, static_cast<uint32_t>(HV_KVP_EXCHANGE_MAX_KEY_SIZE));
  EXPECT_EQ(kKvpMaxValueBytes, static_cast<uint32_t>(HV_KVP_EXCHANGE_MAX_VALUE_SIZE));
  EXPECT_EQ(sizeof(KvpPoolRecord), HV_KVP_EXCHANGE_MAX_KEY_SIZE + HV_KVP_EXCHANGE_MAX_VALUE_SIZE);
  EXPECT_EQ(kKvpAdapterIdBytes, 2u * MAX_ADAPTER_ID_SIZE);
  EXPECT_EQ(kKvpIpListBytes, 2u * MAX_IP_ADDR_SIZE);
  EXPECT_EQ(kKvpGatewayListBytes, 2u * MAX_GATEWAY_SIZE);
}

TEST(KvpLayout, OperationAndPoolNumbersMatch) {
  EXPECT_EQ(static_cast<int>(KvpOperation::get), KVP_OP_GET);
  EXPECT_EQ(static_cast<int>(KvpOperation::set), KVP_OP_SET);
  EXPECT_EQ(static_cast<int>(KvpOperation::del), KVP_OP_DELETE);
  EXPECT_EQ(static_cast<int>(KvpOperation::enumerate), KVP_OP_ENUMERATE);
  EXPECT_EQ(static_cast<int>(KvpOperation::get_ip_info), KVP_OP_GET_IP_INFO);
  EXPECT_EQ(static_cast<int>(KvpOperation::set_ip_info), KVP_OP_SET_IP_INFO);
  EXPECT_EQ(kKvpOperationCount, KVP_OP_COUNT);

  EXPECT_EQ(static_cast<int>(KvpPool::external), KVP_POOL_EXTERNAL);
  EXPECT_EQ(static_cast<int>(KvpPool::guest), KVP_POOL_GUEST);
  EXPECT_EQ(static_cast<int>(KvpPool::automatic), KVP_POOL_AUTO);
  EXPECT_EQ(static_cast<int>(KvpPool::auto_external), KVP_POOL_AUTO_EXTERNAL);
  EXPECT_EQ(static_cast<int>(KvpPool::auto_internal), KVP_POOL_AUTO_INTERNAL);
  EXPECT_EQ(kKvpPoolCount, KVP_POOL_COUNT);
}

TEST(KvpLayout, ValueTypesAddressFamiliesAndStatusesMatch) {
  EXPECT_EQ(static_cast<uint32_t>(KvpValueType::string), static_cast<uint32_t>(REG_SZ));
  EXPECT_EQ(static_cast<uint32_t>(KvpValueType::u32), static_cast<uint32_t>(REG_U32));
  EXPECT_EQ(static_cast<uint32_t>(KvpValueType::u64_linux), static_cast<uint32_t>(REG_U64));
  EXPECT_EQ(kKvpAddressFamilyIpv4, ADDR_FAMILY_IPV4);
  EXPECT_EQ(kKvpAddressFamilyIpv6, ADDR_FAMILY_IPV6);

  EXPECT_EQ(static_cast<uint32_t>(HvStatus::ok), HV_S_OK);
  EXPECT_EQ(static_cast<uint32_t>(HvStatus::fail), HV_E_FAIL);
  EXPECT_EQ(static_cast<uint32_t>(HvStatus::no_more_items), HV_S_CONT);
  EXPECT_EQ(static_cast<uint32_t>(HvStatus::not_supported), HV_ERROR_NOT_SUPPORTED);
  EXPECT_EQ(static_cast<uint32_t>(HvStatus::machine_locked), HV_ERROR_MACHINE_LOCKED);
  EXPECT_EQ(static_cast<uint32_t>(HvStatus::device_not_connected),
            HV_ERROR_DEVICE_NOT_CONNECTED);
  EXPECT_EQ(static_cast<uint32_t>(HvStatus::invalid_arg), HV_INVALIDARG);
  EXPECT_EQ(static_cast<uint32_t>(HvStatus::not_found), HV_GUID_NOTFOUND);
  EXPECT_EQ(static_cast<uint32_t>(HvStatus::already_exists), HV_ERROR_ALREADY_EXISTS);
  EXPECT_EQ(static_cast<uint32_t>(HvStatus::disk_full), HV_ERROR_DISK_FULL);
}

}  // namespace
}  // namespace uvmbus::wire
