// Integration-service (IC) framing: the pipe header, the IC message header,
// the version-negotiation body and the HRESULT status codes every IC service
// (heartbeat, shutdown, timesync, KVP, VSS, fcopy) shares.
//
// Reference: shared/spec/ic-kvp.md §1-§3 (Linux include/linux/hyperv.h
// `vmbuspipe_hdr`, `icmsg_hdr`, `icmsg_negotiate`; OpenVMM hyperv_ic_protocol).
// All integers are little-endian. An IC packet is the in-band payload after
// the 16-byte VMBus packet descriptor: PipeHeader, IcMessageHeader, body.
#pragma once

#include <cstdint>

#include "uvmbus/wire/layout.h"

namespace uvmbus::wire {

// ---------------------------------------------------------------------------
// Pipe header (message-mode pipe channel)

enum class PipePacketType : uint32_t {
  data = 1,
  partial = 2,
  setup_gpa_direct = 3,     // never used by IC services
  teardown_gpa_direct = 4,  // never used by IC services
};

struct PipeHeader {
  uint32_t packet_type;  // PipePacketType
  uint32_t size;         // bytes following this header
};
UVMBUS_WIRE_STRUCT(PipeHeader, 8);
UVMBUS_WIRE_OFFSET(PipeHeader, packet_type, 0);
UVMBUS_WIRE_OFFSET(PipeHeader, size, 4);

// ---------------------------------------------------------------------------
// IC message header

// A framework or service version, {major, minor}. FreeBSD reads the same four
// bytes as one u32 `major | minor << 16`.
struct IcVersion {
  uint16_t major;
  uint16_t minor;

  friend constexpr bool operator==(IcVersion, IcVersion) = default;
};
UVMBUS_WIRE_STRUCT(IcVersion, 4);
UVMBUS_WIRE_OFFSET(IcVersion, major, 0);
UVMBUS_WIRE_OFFSET(IcVersion, minor, 2);

enum class IcMessageType : uint16_t {
  negotiate = 0,
  heartbeat = 1,
  kvp_exchange = 2,
  shutdown = 3,
  timesync = 4,
  vss = 5,
  rdv = 6,
  fcopy = 7,  // OpenVMM: "guest interface"
  vm_session = 8,
};

// IcMessageHeader::flags bits. A request carries transaction|request (0x03),
// its reply transaction|response (0x05).
inline constexpr uint8_t kIcFlagTransaction = 1u << 0;
inline constexpr uint8_t kIcFlagRequest = 1u << 1;
inline constexpr uint8_t kIcFlagResponse = 1u << 2;
inline constexpr uint8_t kIcFlagsRequest = kIcFlagTransaction | kIcFlagRequest;
inline constexpr uint8_t kIcFlagsResponse = kIcFlagTransaction | kIcFlagResponse;

struct IcMessageHeader {
  IcVersion framework_version;  // 0.0 in the host's NEGOTIATE request
  uint16_t message_type;        // IcMessageType
  IcVersion message_version;    // negotiated service version
  uint16_t message_size;        // body bytes after this header
  uint32_t status;              // HvStatus; the host sends 0
  uint8_t transaction_id;       // chosen by the host, echoed in the reply
  uint8_t flags;                // kIcFlag*
  uint8_t reserved[2];
};
UVMBUS_WIRE_STRUCT(IcMessageHeader, 20);
UVMBUS_WIRE_OFFSET(IcMessageHeader, framework_version, 0);
UVMBUS_WIRE_OFFSET(IcMessageHeader, message_type, 4);
UVMBUS_WIRE_OFFSET(IcMessageHeader, message_version, 6);
UVMBUS_WIRE_OFFSET(IcMessageHeader, message_size, 10);
UVMBUS_WIRE_OFFSET(IcMessageHeader, status, 12);
UVMBUS_WIRE_OFFSET(IcMessageHeader, transaction_id, 16);
UVMBUS_WIRE_OFFSET(IcMessageHeader, flags, 17);
UVMBUS_WIRE_OFFSET(IcMessageHeader, reserved, 18);

// Pipe header + IC header: where every IC body starts (Linux ICMSG_HDR).
inline constexpr uint32_t kIcBodyOffset = sizeof(PipeHeader) + sizeof(IcMessageHeader);
static_assert(kIcBodyOffset == 28);

// Largest IC message a host accepts (OpenVMM's receive buffer).
inline constexpr uint32_t kIcMaxMessageSize = 13312;

// ---------------------------------------------------------------------------
// Version negotiation (message type 0)

// Body of a NEGOTIATE message: this header, then framework_version_count
// IcVersion entries, then message_version_count IcVersion entries.
struct IcNegotiateHeader {
  uint16_t framework_version_count;
  uint16_t message_version_count;
  uint32_t reserved;
};
UVMBUS_WIRE_STRUCT(IcNegotiateHeader, 8);
UVMBUS_WIRE_OFFSET(IcNegotiateHeader, framework_version_count, 0);
UVMBUS_WIRE_OFFSET(IcNegotiateHeader, message_version_count, 2);
UVMBUS_WIRE_OFFSET(IcNegotiateHeader, reserved, 4);

// Linux IC_VERSION_NEGOTIATION_MAX_VER_COUNT: more entries in either list is
// a malformed NEGOTIATE.
inline constexpr uint16_t kIcMaxVersionCount = 100;

// Body size of the guest's NEGOTIATE reply: header + one framework version +
// one service version (Linux writes icmsgsize = 0x10).
inline constexpr uint16_t kIcNegotiateReplyBodySize =
    sizeof(IcNegotiateHeader) + 2 * sizeof(IcVersion);
static_assert(kIcNegotiateReplyBodySize == 0x10);

// ---------------------------------------------------------------------------
// Status codes (HRESULTs carried in IcMessageHeader::status)

enum class HvStatus : uint32_t {
  ok = 0x00000000,                    // HV_S_OK
  fail = 0x80004005,                  // HV_E_FAIL
  no_more_items = 0x80070103,         // HV_S_CONT: ends an ENUMERATE
  not_supported = 0x80070032,         // HV_ERROR_NOT_SUPPORTED
  machine_locked = 0x800704F7,        // HV_ERROR_MACHINE_LOCKED
  device_not_connected = 0x8007048F,  // HV_ERROR_DEVICE_NOT_CONNECTED
  invalid_arg = 0x80070057,           // HV_INVALIDARG
  not_found = 0x80041002,             // HV_GUID_NOTFOUND (OpenVMM: NOT_FOUND)
  already_exists = 0x80070050,        // HV_ERROR_ALREADY_EXISTS
  disk_full = 0x80070070,             // HV_ERROR_DISK_FULL
};

}  // namespace uvmbus::wire
