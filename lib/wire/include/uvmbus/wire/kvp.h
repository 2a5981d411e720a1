// KVP (data exchange) wire messages and the Linux pool-file record.
//
// Reference: shared/spec/ic-kvp.md §5, §9 (Linux include/uapi/linux/hyperv.h,
// OpenVMM hyperv_ic_protocol/src/kvp.rs); checked field by field against the
// installed <linux/hyperv.h> in tests/kvp/kvp_layout_test.cc.
//
// A KVP message is the body of an IC message of type kvp_exchange. It starts
// with KvpHeader; the operation body follows at the body's natural alignment:
// offset 4 for GET/SET/DELETE/ENUMERATE and the binary (5.0) IP info, offset 2
// for the string (3.0/4.0) IP info. Strings on the wire are NUL-terminated
// UTF-16LE, kept here as byte arrays so no field needs 2-byte alignment.
#pragma once

#include <cstdint>

#include "uvmbus/wire/ic.h"
#include "uvmbus/wire/layout.h"

namespace uvmbus::wire {

inline constexpr IcVersion kKvpVersion1{1, 0};  // WS2008
inline constexpr IcVersion kKvpVersion3{3, 0};  // Windows 7 / 2008 R2
inline constexpr IcVersion kKvpVersion4{4, 0};  // Windows 8+: Linux's newest
inline constexpr IcVersion kKvpVersion5{5, 0};  // binary IP info (OpenVMM)

enum class KvpOperation : uint8_t {
  get = 0,
  set = 1,
  del = 2,
  enumerate = 3,
  get_ip_info = 4,
  set_ip_info = 5,
};
inline constexpr uint8_t kKvpOperationCount = 6;

enum class KvpPool : uint8_t {
  external = 0,       // host -> guest (admin items)
  guest = 1,          // guest -> host (guest items)
  automatic = 2,      // guest intrinsics, synthesized on ENUMERATE
  auto_external = 3,  // host facts
  auto_internal = 4,  // never exchanged with the host
};
inline constexpr uint8_t kKvpPoolCount = 5;

// KvpValue::value_type. Linux names 4 REG_U32 and 8 REG_U64; Windows and
// OpenVMM send REG_QWORD as 11. Both 64-bit codes are accepted.
enum class KvpValueType : uint32_t {
  string = 1,         // REG_SZ
  expand_string = 2,  // REG_EXPAND_SZ
  u32 = 4,            // REG_DWORD / REG_U32
  u64_linux = 8,      // Linux REG_U64
  u64 = 11,           // REG_QWORD
};

inline constexpr uint32_t kKvpMaxKeyBytes = 512;     // HV_KVP_EXCHANGE_MAX_KEY_SIZE
inline constexpr uint32_t kKvpMaxValueBytes = 2048;  // HV_KVP_EXCHANGE_MAX_VALUE_SIZE

struct KvpHeader {
  uint8_t operation;  // KvpOperation
  uint8_t pool;       // KvpPool
};
UVMBUS_WIRE_STRUCT(KvpHeader, 2);
UVMBUS_WIRE_OFFSET(KvpHeader, operation, 0);
UVMBUS_WIRE_OFFSET(KvpHeader, pool, 1);

// One key/value item (Linux hv_kvp_exchg_msg_value).
struct KvpValue {
  uint32_t value_type;  // KvpValueType
  uint32_t key_size;    // bytes of key incl. the UTF-16 NUL
  uint32_t value_size;  // bytes of value incl. NUL for strings; 4 or 8 for numbers
  uint8_t key[kKvpMaxKeyBytes];      // UTF-16LE
  uint8_t value[kKvpMaxValueBytes];  // UTF-16LE, or a LE u32/u64 at offset 0
};
UVMBUS_WIRE_STRUCT(KvpValue, 2572);
UVMBUS_WIRE_OFFSET(KvpValue, value_type, 0);
UVMBUS_WIRE_OFFSET(KvpValue, key_size, 4);
UVMBUS_WIRE_OFFSET(KvpValue, value_size, 8);
UVMBUS_WIRE_OFFSET(KvpValue, key, 12);
UVMBUS_WIRE_OFFSET(KvpValue, value, 524);

// GET and SET: the item follows the header.
struct KvpGetSetMessage {
  KvpHeader header;
  uint8_t padding[2];
  KvpValue value;
};
UVMBUS_WIRE_STRUCT(KvpGetSetMessage, 2576);
UVMBUS_WIRE_OFFSET(KvpGetSetMessage, header, 0);
UVMBUS_WIRE_OFFSET(KvpGetSetMessage, padding, 2);
UVMBUS_WIRE_OFFSET(KvpGetSetMessage, value, 4);

struct KvpDeleteMessage {
  KvpHeader header;
  uint8_t padding[2];
  uint32_t key_size;
  uint8_t key[kKvpMaxKeyBytes];
};
UVMBUS_WIRE_STRUCT(KvpDeleteMessage, 520);
UVMBUS_WIRE_OFFSET(KvpDeleteMessage, header, 0);
UVMBUS_WIRE_OFFSET(KvpDeleteMessage, padding, 2);
UVMBUS_WIRE_OFFSET(KvpDeleteMessage, key_size, 4);
UVMBUS_WIRE_OFFSET(KvpDeleteMessage, key, 8);

// ENUMERATE: the host sends the index and a zeroed item; the guest fills the
// item in place, or answers no_more_items past the end.
struct KvpEnumerateMessage {
  KvpHeader header;
  uint8_t padding[2];
  uint32_t index;
  KvpValue value;
};
UVMBUS_WIRE_STRUCT(KvpEnumerateMessage, 2580);
UVMBUS_WIRE_OFFSET(KvpEnumerateMessage, header, 0);
UVMBUS_WIRE_OFFSET(KvpEnumerateMessage, padding, 2);
UVMBUS_WIRE_OFFSET(KvpEnumerateMessage, index, 4);
UVMBUS_WIRE_OFFSET(KvpEnumerateMessage, value, 8);

// Size OpenVMM sends for every GET/SET/DELETE/ENUMERATE message.
inline constexpr uint32_t kKvpMessageSize = sizeof(KvpEnumerateMessage);

// IP info, string form (KVP 3.0 and 4.0; Linux hv_kvp_ip_msg). Lists are
// ';'-separated NUL-terminated UTF-16LE strings.
inline constexpr uint32_t kKvpAdapterIdBytes = 256;  // MAX_ADAPTER_ID_SIZE u16s
inline constexpr uint32_t kKvpIpListBytes = 2048;    // MAX_IP_ADDR_SIZE u16s
inline constexpr uint32_t kKvpGatewayListBytes = 1024;  // MAX_GATEWAY_SIZE u16s

// KvpIpInfo*::address_family bits.
inline constexpr uint8_t kKvpAddressFamilyIpv4 = 1u << 0;
inline constexpr uint8_t kKvpAddressFamilyIpv6 = 1u << 1;

struct KvpIpInfoStringMessage {
  KvpHeader header;
  uint8_t adapter_id[kKvpAdapterIdBytes];
  uint8_t address_family;
  uint8_t dhcp_enabled;
  uint8_t ip_addresses[kKvpIpListBytes];
  uint8_t subnets[kKvpIpListBytes];
  uint8_t gateways[kKvpGatewayListBytes];
  uint8_t dns_servers[kKvpIpListBytes];
};
UVMBUS_WIRE_STRUCT(KvpIpInfoStringMessage, 7428);
UVMBUS_WIRE_OFFSET(KvpIpInfoStringMessage, header, 0);
UVMBUS_WIRE_OFFSET(KvpIpInfoStringMessage, adapter_id, 2);
UVMBUS_WIRE_OFFSET(KvpIpInfoStringMessage, address_family, 258);
UVMBUS_WIRE_OFFSET(KvpIpInfoStringMessage, dhcp_enabled, 259);
UVMBUS_WIRE_OFFSET(KvpIpInfoStringMessage, ip_addresses, 260);
UVMBUS_WIRE_OFFSET(KvpIpInfoStringMessage, subnets, 2308);
UVMBUS_WIRE_OFFSET(KvpIpInfoStringMessage, gateways, 4356);
UVMBUS_WIRE_OFFSET(KvpIpInfoStringMessage, dns_servers, 5380);

// Size OpenVMM sends for GET_IP_INFO / SET_IP_INFO in either form.
inline constexpr uint32_t kKvpIpMessageSize = sizeof(KvpIpInfoStringMessage);

// IP info, binary form (KVP 5.0; OpenVMM MessageIpAddressInfoBinary).
// Addresses are in network byte order.
inline constexpr uint32_t kKvpMaxAddresses = 64;  // per family
inline constexpr uint32_t kKvpMaxGateways = 5;    // per family
inline constexpr uint32_t kKvpMaxDnsServers = 64;  // per family

enum class KvpAddressOrigin : uint16_t {
  unknown = 0,
  other = 1,              // not static, typically DHCP
  static_assignment = 2,
};

struct KvpIpInfoBinary {
  uint32_t ipv4_address_count;
  uint32_t ipv6_address_count;
  uint32_t ipv4_gateway_count;
  uint32_t ipv6_gateway_count;
  uint32_t ipv4_dns_server_count;
  uint32_t ipv6_dns_server_count;
  uint8_t adapter_id[kKvpAdapterIdBytes];  // UTF-16LE
  uint8_t address_family;
  uint8_t dhcp_enabled;
  uint8_t padding[2];
  uint8_t ipv4_addresses[kKvpMaxAddresses][4];
  uint8_t ipv6_addresses[kKvpMaxAddresses][16];
  uint8_t ipv4_subnets[kKvpMaxAddresses][4];  // dotted masks
  uint32_t ipv6_subnets[kKvpMaxAddresses];    // prefix lengths
  uint8_t ipv4_gateways[kKvpMaxGateways][4];
  uint8_t ipv6_gateways[kKvpMaxGateways][16];
  uint8_t ipv4_dns_servers[kKvpMaxDnsServers][4];
  uint8_t ipv6_dns_servers[kKvpMaxDnsServers][16];
  // KvpAddressOrigin per address: the IPv4 entries, then the IPv6 entries.
  uint16_t address_origins[2 * kKvpMaxAddresses];
};
UVMBUS_WIRE_STRUCT(KvpIpInfoBinary, 3712);
UVMBUS_WIRE_OFFSET(KvpIpInfoBinary, ipv4_address_count, 0);
UVMBUS_WIRE_OFFSET(KvpIpInfoBinary, ipv6_address_count, 4);
UVMBUS_WIRE_OFFSET(KvpIpInfoBinary, ipv4_gateway_count, 8);
UVMBUS_WIRE_OFFSET(KvpIpInfoBinary, ipv6_gateway_count, 12);
UVMBUS_WIRE_OFFSET(KvpIpInfoBinary, ipv4_dns_server_count, 16);
UVMBUS_WIRE_OFFSET(KvpIpInfoBinary, ipv6_dns_server_count, 20);
UVMBUS_WIRE_OFFSET(KvpIpInfoBinary, adapter_id, 24);
UVMBUS_WIRE_OFFSET(KvpIpInfoBinary, address_family, 280);
UVMBUS_WIRE_OFFSET(KvpIpInfoBinary, dhcp_enabled, 281);
UVMBUS_WIRE_OFFSET(KvpIpInfoBinary, padding, 282);
UVMBUS_WIRE_OFFSET(KvpIpInfoBinary, ipv4_addresses, 284);
UVMBUS_WIRE_OFFSET(KvpIpInfoBinary, ipv6_addresses, 540);
UVMBUS_WIRE_OFFSET(KvpIpInfoBinary, ipv4_subnets, 1564);
UVMBUS_WIRE_OFFSET(KvpIpInfoBinary, ipv6_subnets, 1820);
UVMBUS_WIRE_OFFSET(KvpIpInfoBinary, ipv4_gateways, 2076);
UVMBUS_WIRE_OFFSET(KvpIpInfoBinary, ipv6_gateways, 2096);
UVMBUS_WIRE_OFFSET(KvpIpInfoBinary, ipv4_dns_servers, 2176);
UVMBUS_WIRE_OFFSET(KvpIpInfoBinary, ipv6_dns_servers, 2432);
UVMBUS_WIRE_OFFSET(KvpIpInfoBinary, address_origins, 3456);

struct KvpIpInfoBinaryMessage {
  KvpHeader header;
  uint8_t padding[2];
  KvpIpInfoBinary info;
};
UVMBUS_WIRE_STRUCT(KvpIpInfoBinaryMessage, 3716);
UVMBUS_WIRE_OFFSET(KvpIpInfoBinaryMessage, header, 0);
UVMBUS_WIRE_OFFSET(KvpIpInfoBinaryMessage, padding, 2);
UVMBUS_WIRE_OFFSET(KvpIpInfoBinaryMessage, info, 4);
static_assert(sizeof(KvpIpInfoBinaryMessage) <= kKvpIpMessageSize);

// ---------------------------------------------------------------------------
// Pool file record (Linux hv_kvp_daemon's /var/lib/hyperv/.kvp_pool_N):
// a flat array of these, no header, UTF-8, each field NUL-terminated.
struct KvpPoolRecord {
  char key[kKvpMaxKeyBytes];
  char value[kKvpMaxValueBytes];
};
UVMBUS_WIRE_STRUCT(KvpPoolRecord, 2560);
UVMBUS_WIRE_OFFSET(KvpPoolRecord, key, 0);
UVMBUS_WIRE_OFFSET(KvpPoolRecord, value, 512);

}  // namespace uvmbus::wire
