// VMBus control protocol wire format: the SynIC message that carries every
// control message, the message types and structs (offers, GPADLs, open/close,
// version negotiation, rescind, unload, modify), the protocol versions, and
// the monitor and interrupt pages used for signalling.
//
// Reference: shared/spec/vmbus-channel.md; checked field by field against
// DPDK's rte_vmbus_reg.h in tests/wire. Field names follow Linux's
// include/linux/hyperv.h so they can be grepped across implementations.
// Offsets below include the 8-byte ChannelMessageHeader. Messages are meant
// to be memcpy'd to and from SynIC payloads (where GPADL PFN arrays are not
// 8-byte aligned anyway); OfferChannel is the one packed struct.
#pragma once

#include <concepts>
#include <cstdint>

#include "uvmbus/wire/guid.h"
#include "uvmbus/wire/layout.h"
#include "uvmbus/wire/ring.h"

namespace uvmbus::wire {

// ---------------------------------------------------------------------------
// Transport: SynIC messages, connection ids.

inline constexpr uint32_t kSynicMessageSize = 256;
// Largest control message, header included (Linux MAX_SIZE_CHANNEL_MESSAGE).
inline constexpr uint32_t kMaxChannelMessageSize = 240;

// HvPostMessage's message_type for VMBus control messages.
inline constexpr uint32_t kHvPostMessageTypeVmbus = 1;

// Where control messages go: connection 1, or 4 for InitiateContact from
// protocol 5.0 on (later messages then use the id in VersionResponse).
inline constexpr uint32_t kVmbusMessageConnectionId = 1;
inline constexpr uint32_t kVmbusMessageConnectionId4 = 4;
inline constexpr uint32_t kVmbusEventConnectionId = 2;    // pre-Win7 signalling
inline constexpr uint32_t kVmbusMonitorConnectionId = 3;
inline constexpr uint8_t kVmbusMessageSint = 2;

// One slot of the SynIC message page (host to guest).
struct SynicMessage {
  uint32_t message_type;   // 0 = slot empty
  uint8_t payload_size;    // bytes of payload in use, <= kMaxChannelMessageSize
  uint8_t message_flags;   // kSynicMessageFlagPending
  uint8_t reserved[2];
  uint64_t port;           // sender / port id
  uint8_t payload[kMaxChannelMessageSize];
};
UVMBUS_WIRE_STRUCT(SynicMessage, kSynicMessageSize);
UVMBUS_WIRE_OFFSET(SynicMessage, message_type, 0);
UVMBUS_WIRE_OFFSET(SynicMessage, payload_size, 4);
UVMBUS_WIRE_OFFSET(SynicMessage, message_flags, 5);
UVMBUS_WIRE_OFFSET(SynicMessage, reserved, 6);
UVMBUS_WIRE_OFFSET(SynicMessage, port, 8);
UVMBUS_WIRE_OFFSET(SynicMessage, payload, 16);

// More messages are queued: the receiver signals end-of-message after
// freeing the slot.
inline constexpr uint8_t kSynicMessageFlagPending = 1u << 0;

// ---------------------------------------------------------------------------
// Protocol versions: major << 16 | minor. Unknown versions are representable.

enum class VmbusVersion : uint32_t {
  ws2008 = 0x0000000D,      // 0.13
  win7 = 0x00010001,        // 1.1
  win8 = 0x00020004,        // 2.4
  win8_1 = 0x00030000,      // 3.0
  win10 = 0x00040000,       // 4.0
  win10_v4_1 = 0x00040001,  // 4.1: ModifyChannel
  win10_v5 = 0x00050000,    // 5.0: message connection id 4, msg_sint
  win10_v5_1 = 0x00050001,
  win10_v5_2 = 0x00050002,
  win10_v5_3 = 0x00050003,  // 5.3: ModifyChannelResponse
  win10_v6_0 = 0x00060000,  // 6.0: feature flags
};

constexpr VmbusVersion make_vmbus_version(uint16_t major, uint16_t minor) noexcept {
  return static_cast<VmbusVersion>(uint32_t{major} << 16 | minor);
}

static_assert(VmbusVersion::ws2008 == make_vmbus_version(0, 13));
static_assert(VmbusVersion::win8 == make_vmbus_version(2, 4));
static_assert(VmbusVersion::win10_v5_3 == make_vmbus_version(5, 3));

// InitiateContact feature_flags / VersionResponse features (protocol 6.0).
inline constexpr uint32_t kFeatureGuestSpecifiedSignalParameters = 0x01;
inline constexpr uint32_t kFeatureChannelInterruptRedirection = 0x02;
inline constexpr uint32_t kFeatureModifyConnection = 0x04;
inline constexpr uint32_t kFeatureClientId = 0x08;
inline constexpr uint32_t kFeatureConfidentialChannels = 0x10;
inline constexpr uint32_t kFeaturePauseResume = 0x20;
inline constexpr uint32_t kFeatureServerSpecifiedMonitorPages = 0x40;
inline constexpr uint32_t kFeatureGpaPinning = 0x80;

// ---------------------------------------------------------------------------
// Message types and the common header.

enum class ChannelMessageType : uint32_t {
  invalid = 0,
  offerchannel = 1,
  rescind_channeloffer = 2,
  requestoffers = 3,
  alloffers_delivered = 4,
  openchannel = 5,
  openchannel_result = 6,
  closechannel = 7,
  gpadl_header = 8,
  gpadl_body = 9,
  gpadl_created = 10,
  gpadl_teardown = 11,
  gpadl_torndown = 12,
  relid_released = 13,
  initiate_contact = 14,
  version_response = 15,
  unload = 16,
  unload_response = 17,
  open_reserved_channel = 18,
  close_reserved_channel = 19,
  close_reserved_channel_response = 20,
  tl_connect_request = 21,
  modifychannel = 22,
  tl_connect_result = 23,
  modifychannel_response = 24,
  modify_connection = 25,
  modify_connection_response = 26,
  pause = 27,
  pause_response = 28,
  resume = 29,
};

struct ChannelMessageHeader {
  ChannelMessageType msgtype;
  uint32_t padding;
};
UVMBUS_WIRE_STRUCT(ChannelMessageHeader, 8);
UVMBUS_WIRE_OFFSET(ChannelMessageHeader, msgtype, 0);
UVMBUS_WIRE_OFFSET(ChannelMessageHeader, padding, 4);

// A control message struct: starts with the header, names its type number,
// and fits one SynIC payload.
template <typename Message>
concept ChannelMessage =
    std::same_as<decltype(Message::kType), const ChannelMessageType> &&
    std::same_as<decltype(Message::header), ChannelMessageHeader> &&
    sizeof(Message) <= kMaxChannelMessageSize;

// A zeroed message of type M with its header filled in.
template <ChannelMessage Message>
constexpr Message make_channel_message() noexcept {
  Message message{};
  message.header.msgtype = Message::kType;
  return message;
}

// Wire-struct checks plus the message contract, for each message below.
#define UVMBUS_CHANNEL_MESSAGE(type, size)                                      \
  UVMBUS_WIRE_STRUCT(type, size);                                               \
  UVMBUS_WIRE_OFFSET(type, header, 0);                                          \
  static_assert(ChannelMessage<type>, #type ": not a channel message")

// Messages that are only a header.
template <ChannelMessageType Type>
struct HeaderOnlyMessage {
  static constexpr ChannelMessageType kType = Type;
  ChannelMessageHeader header;
};
using RequestOffers = HeaderOnlyMessage<ChannelMessageType::requestoffers>;
using AllOffersDelivered = HeaderOnlyMessage<ChannelMessageType::alloffers_delivered>;
using Unload = HeaderOnlyMessage<ChannelMessageType::unload>;
using UnloadResponse = HeaderOnlyMessage<ChannelMessageType::unload_response>;
UVMBUS_CHANNEL_MESSAGE(RequestOffers, 8);
UVMBUS_CHANNEL_MESSAGE(AllOffersDelivered, 8);
UVMBUS_CHANNEL_MESSAGE(Unload, 8);
UVMBUS_CHANNEL_MESSAGE(UnloadResponse, 8);

// Messages whose only field is the channel id.
template <ChannelMessageType Type>
struct RelidMessage {
  static constexpr ChannelMessageType kType = Type;
  ChannelMessageHeader header;
  uint32_t child_relid;
};
using RescindChannelOffer = RelidMessage<ChannelMessageType::rescind_channeloffer>;
using CloseChannel = RelidMessage<ChannelMessageType::closechannel>;
using RelidReleased = RelidMessage<ChannelMessageType::relid_released>;
UVMBUS_CHANNEL_MESSAGE(RescindChannelOffer, 12);
UVMBUS_WIRE_OFFSET(RescindChannelOffer, child_relid, 8);
UVMBUS_CHANNEL_MESSAGE(CloseChannel, 12);
UVMBUS_WIRE_OFFSET(CloseChannel, child_relid, 8);
UVMBUS_CHANNEL_MESSAGE(RelidReleased, 12);
UVMBUS_WIRE_OFFSET(RelidReleased, child_relid, 8);

// ---------------------------------------------------------------------------
// Version negotiation.

// Bytes 16..23 of InitiateContact from protocol 5.0 on.
struct InitiateContactTarget {
  uint8_t msg_sint;         // SINT for host-to-guest messages (kVmbusMessageSint)
  uint8_t msg_vtl;
  uint8_t reserved[2];
  uint32_t feature_flags;   // kFeature* (protocol 6.0)
};
UVMBUS_WIRE_STRUCT(InitiateContactTarget, 8);
UVMBUS_WIRE_OFFSET(InitiateContactTarget, msg_sint, 0);
UVMBUS_WIRE_OFFSET(InitiateContactTarget, msg_vtl, 1);
UVMBUS_WIRE_OFFSET(InitiateContactTarget, reserved, 2);
UVMBUS_WIRE_OFFSET(InitiateContactTarget, feature_flags, 4);

struct InitiateContact {
  static constexpr ChannelMessageType kType = ChannelMessageType::initiate_contact;
  ChannelMessageHeader header;
  VmbusVersion vmbus_version_requested;
  uint32_t target_vcpu;                // VP that receives control messages
  union {
    uint64_t interrupt_page;           // GPA, protocol < 5.0
    InitiateContactTarget target;      // protocol >= 5.0
  };
  uint64_t monitor_page1;              // GPA, parent-to-child monitor page
  uint64_t monitor_page2;              // GPA, child-to-parent monitor page
};
UVMBUS_CHANNEL_MESSAGE(InitiateContact, 40);
UVMBUS_WIRE_OFFSET(InitiateContact, vmbus_version_requested, 8);
UVMBUS_WIRE_OFFSET(InitiateContact, target_vcpu, 12);
UVMBUS_WIRE_OFFSET(InitiateContact, interrupt_page, 16);
UVMBUS_WIRE_OFFSET(InitiateContact, target, 16);
UVMBUS_WIRE_OFFSET(InitiateContact, monitor_page1, 24);
UVMBUS_WIRE_OFFSET(InitiateContact, monitor_page2, 32);

enum class ConnectionState : uint8_t {
  successful = 0,
  failed_low_resources = 1,
  failed_unknown_failure = 2,
};

// Base form (16 bytes). Protocol 6.0 hosts append supported_features and may
// append server-provided monitor pages; those extensions are not used here.
struct VersionResponse {
  static constexpr ChannelMessageType kType = ChannelMessageType::version_response;
  ChannelMessageHeader header;
  uint8_t version_supported;           // 1 = accepted
  ConnectionState connection_state;
  uint16_t padding;
  uint32_t msg_conn_id;                // >= 5.0: connection id for later messages
};
UVMBUS_CHANNEL_MESSAGE(VersionResponse, 16);
UVMBUS_WIRE_OFFSET(VersionResponse, version_supported, 8);
UVMBUS_WIRE_OFFSET(VersionResponse, connection_state, 9);
UVMBUS_WIRE_OFFSET(VersionResponse, padding, 10);
UVMBUS_WIRE_OFFSET(VersionResponse, msg_conn_id, 12);

// ---------------------------------------------------------------------------
// Offers.

inline constexpr uint32_t kOfferUserDefinedSize = 120;

// OfferChannel::chn_flags.
inline constexpr uint16_t kVmbusChannelEnumerateDeviceInterface = 0x0001;
inline constexpr uint16_t kVmbusChannelConfidentialRingBuffer = 0x0002;
inline constexpr uint16_t kVmbusChannelConfidentialExternalMemory = 0x0004;
inline constexpr uint16_t kVmbusChannelNamedPipeMode = 0x0010;
inline constexpr uint16_t kVmbusChannelLoopbackOffer = 0x0100;
inline constexpr uint16_t kVmbusChannelParentOffer = 0x0200;
inline constexpr uint16_t kVmbusChannelRequestMonitoredNotification = 0x0400;
inline constexpr uint16_t kVmbusChannelTlnpiProviderOffer = 0x2000;

// OfferChannel::monitor_allocated and ::is_dedicated_interrupt: bit 0 only.
inline constexpr uint8_t kOfferMonitorAllocated = 1u << 0;
inline constexpr uint16_t kOfferDedicatedInterrupt = 1u << 0;

// Monitor ids run 0..127: trigger group id / 32, bit id % 32.
inline constexpr uint32_t kMonitorGroupCount = 4;
inline constexpr uint32_t kMonitorBitsPerGroup = 32;
inline constexpr uint32_t kMaxMonitorId = kMonitorGroupCount * kMonitorBitsPerGroup - 1;

// Packed: the u64 fields make the natural alignment 8, which would pad the
// 196-byte message to 200.
struct [[gnu::packed]] OfferChannel {
  static constexpr ChannelMessageType kType = ChannelMessageType::offerchannel;
  ChannelMessageHeader header;
  Guid if_type;                        // device class (kHv*Guid)
  Guid if_instance;                    // device instance
  uint64_t reserved1;                  // FreeBSD: latency, 100 ns units
  uint64_t reserved2;                  // FreeBSD: revision u32 + server ctx size u32
  uint16_t chn_flags;                  // kVmbusChannel*
  uint16_t mmio_megabytes;
  uint8_t user_def[kOfferUserDefinedSize];  // device specific
  uint16_t sub_channel_index;          // 0 = primary (Win8+)
  uint16_t reserved3;
  uint32_t child_relid;                // channel id, 1-based; event-flag bit
  uint8_t monitorid;                   // <= kMaxMonitorId
  uint8_t monitor_allocated;           // kOfferMonitorAllocated
  uint16_t is_dedicated_interrupt;     // kOfferDedicatedInterrupt (Win7+)
  uint32_t connection_id;              // for HvSignalEvent (Win7+); opaque
};
UVMBUS_CHANNEL_MESSAGE(OfferChannel, 196);
UVMBUS_WIRE_OFFSET(OfferChannel, if_type, 8);
UVMBUS_WIRE_OFFSET(OfferChannel, if_instance, 24);
UVMBUS_WIRE_OFFSET(OfferChannel, reserved1, 40);
UVMBUS_WIRE_OFFSET(OfferChannel, reserved2, 48);
UVMBUS_WIRE_OFFSET(OfferChannel, chn_flags, 56);
UVMBUS_WIRE_OFFSET(OfferChannel, mmio_megabytes, 58);
UVMBUS_WIRE_OFFSET(OfferChannel, user_def, 60);
UVMBUS_WIRE_OFFSET(OfferChannel, sub_channel_index, 180);
UVMBUS_WIRE_OFFSET(OfferChannel, reserved3, 182);
UVMBUS_WIRE_OFFSET(OfferChannel, child_relid, 184);
UVMBUS_WIRE_OFFSET(OfferChannel, monitorid, 188);
UVMBUS_WIRE_OFFSET(OfferChannel, monitor_allocated, 189);
UVMBUS_WIRE_OFFSET(OfferChannel, is_dedicated_interrupt, 190);
UVMBUS_WIRE_OFFSET(OfferChannel, connection_id, 192);

// ---------------------------------------------------------------------------
// GPADLs: a handle plus 4 KiB page frame numbers.

// GPADL_HEADER: followed by `rangecount` ranges, each a GpaRange and its u64
// PFNs (Linux sends one range: byte_offset 0, byte_count = size). The first
// PFN sits at offset 28, so PFN arrays in messages are not 8-byte aligned.
struct GpadlHeader {
  static constexpr ChannelMessageType kType = ChannelMessageType::gpadl_header;
  ChannelMessageHeader header;
  uint32_t child_relid;
  uint32_t gpadl;                      // handle chosen by the guest
  uint16_t range_buflen;               // bytes of all ranges incl. their PFNs
  uint16_t rangecount;
};
UVMBUS_CHANNEL_MESSAGE(GpadlHeader, 20);
UVMBUS_WIRE_OFFSET(GpadlHeader, child_relid, 8);
UVMBUS_WIRE_OFFSET(GpadlHeader, gpadl, 12);
UVMBUS_WIRE_OFFSET(GpadlHeader, range_buflen, 16);
UVMBUS_WIRE_OFFSET(GpadlHeader, rangecount, 18);

// GPADL_BODY: followed by u64 PFNs continuing the header's ranges.
struct GpadlBody {
  static constexpr ChannelMessageType kType = ChannelMessageType::gpadl_body;
  ChannelMessageHeader header;
  uint32_t msgnumber;                  // Linux sends 0; ignored by hosts
  uint32_t gpadl;
};
UVMBUS_CHANNEL_MESSAGE(GpadlBody, 16);
UVMBUS_WIRE_OFFSET(GpadlBody, msgnumber, 8);
UVMBUS_WIRE_OFFSET(GpadlBody, gpadl, 12);

// PFNs that fit one message: a header with a single range, or a body.
inline constexpr uint32_t kGpadlHeaderMaxPfns =
    (kMaxChannelMessageSize - sizeof(GpadlHeader) - sizeof(GpaRange)) / sizeof(uint64_t);
inline constexpr uint32_t kGpadlBodyMaxPfns =
    (kMaxChannelMessageSize - sizeof(GpadlBody)) / sizeof(uint64_t);
static_assert(kGpadlHeaderMaxPfns == 26 && kGpadlBodyMaxPfns == 28);

struct GpadlCreated {
  static constexpr ChannelMessageType kType = ChannelMessageType::gpadl_created;
  ChannelMessageHeader header;
  uint32_t child_relid;
  uint32_t gpadl;
  uint32_t creation_status;            // 0 = success
};
UVMBUS_CHANNEL_MESSAGE(GpadlCreated, 20);
UVMBUS_WIRE_OFFSET(GpadlCreated, child_relid, 8);
UVMBUS_WIRE_OFFSET(GpadlCreated, gpadl, 12);
UVMBUS_WIRE_OFFSET(GpadlCreated, creation_status, 16);

struct GpadlTeardown {
  static constexpr ChannelMessageType kType = ChannelMessageType::gpadl_teardown;
  ChannelMessageHeader header;
  uint32_t child_relid;
  uint32_t gpadl;
};
UVMBUS_CHANNEL_MESSAGE(GpadlTeardown, 16);
UVMBUS_WIRE_OFFSET(GpadlTeardown, child_relid, 8);
UVMBUS_WIRE_OFFSET(GpadlTeardown, gpadl, 12);

struct GpadlTorndown {
  static constexpr ChannelMessageType kType = ChannelMessageType::gpadl_torndown;
  ChannelMessageHeader header;
  uint32_t gpadl;
};
UVMBUS_CHANNEL_MESSAGE(GpadlTorndown, 12);
UVMBUS_WIRE_OFFSET(GpadlTorndown, gpadl, 8);

// ---------------------------------------------------------------------------
// Opening and re-targeting channels.

inline constexpr uint32_t kOpenChannelUserDataSize = 120;

// OpenChannel::target_vp meaning "no host-to-guest interrupts" (OpenVMM).
inline constexpr uint32_t kVpIndexDisableInterrupt = 0xFFFFFFFF;

// Base form (148 bytes); protocol 6.0's OpenChannel2 extension is not used.
struct OpenChannel {
  static constexpr ChannelMessageType kType = ChannelMessageType::openchannel;
  ChannelMessageHeader header;
  uint32_t child_relid;
  uint32_t openid;                     // echoed in OpenChannelResult
  uint32_t ringbuffer_gpadlhandle;     // GPADL holding both rings
  uint32_t target_vp;                  // VP for host-to-guest interrupts (Win8+)
  uint32_t downstream_ringbuffer_pageoffset;  // 4 KiB pages of the guest-to-host ring
  uint8_t userdata[kOpenChannelUserDataSize];
};
UVMBUS_CHANNEL_MESSAGE(OpenChannel, 148);
UVMBUS_WIRE_OFFSET(OpenChannel, child_relid, 8);
UVMBUS_WIRE_OFFSET(OpenChannel, openid, 12);
UVMBUS_WIRE_OFFSET(OpenChannel, ringbuffer_gpadlhandle, 16);
UVMBUS_WIRE_OFFSET(OpenChannel, target_vp, 20);
UVMBUS_WIRE_OFFSET(OpenChannel, downstream_ringbuffer_pageoffset, 24);
UVMBUS_WIRE_OFFSET(OpenChannel, userdata, 28);

struct OpenChannelResult {
  static constexpr ChannelMessageType kType = ChannelMessageType::openchannel_result;
  ChannelMessageHeader header;
  uint32_t child_relid;
  uint32_t openid;
  uint32_t status;                     // 0 = success
};
UVMBUS_CHANNEL_MESSAGE(OpenChannelResult, 20);
UVMBUS_WIRE_OFFSET(OpenChannelResult, child_relid, 8);
UVMBUS_WIRE_OFFSET(OpenChannelResult, openid, 12);
UVMBUS_WIRE_OFFSET(OpenChannelResult, status, 16);

// Protocol 4.1+; the host acknowledges with ModifyChannelResponse from 5.3 on.
struct ModifyChannel {
  static constexpr ChannelMessageType kType = ChannelMessageType::modifychannel;
  ChannelMessageHeader header;
  uint32_t child_relid;
  uint32_t target_vp;
};
UVMBUS_CHANNEL_MESSAGE(ModifyChannel, 16);
UVMBUS_WIRE_OFFSET(ModifyChannel, child_relid, 8);
UVMBUS_WIRE_OFFSET(ModifyChannel, target_vp, 12);

struct ModifyChannelResponse {
  static constexpr ChannelMessageType kType = ChannelMessageType::modifychannel_response;
  ChannelMessageHeader header;
  uint32_t child_relid;
  uint32_t status;                     // 0 = success
};
UVMBUS_CHANNEL_MESSAGE(ModifyChannelResponse, 16);
UVMBUS_WIRE_OFFSET(ModifyChannelResponse, child_relid, 8);
UVMBUS_WIRE_OFFSET(ModifyChannelResponse, status, 12);

// ---------------------------------------------------------------------------
// Signalling pages.

struct MonitorTriggerGroup {
  uint32_t pending;                    // guest sets bit (monitorid % 32) to signal
  uint32_t armed;
};
UVMBUS_WIRE_STRUCT(MonitorTriggerGroup, 8);
UVMBUS_WIRE_OFFSET(MonitorTriggerGroup, pending, 0);
UVMBUS_WIRE_OFFSET(MonitorTriggerGroup, armed, 4);

// Per monitor bit: what the hypervisor signals when it sees the bit set
// (same layout as HvSignalEvent's input).
struct MonitorParameter {
  uint32_t connection_id;
  uint16_t flag_number;
  uint16_t rsvd;
};
UVMBUS_WIRE_STRUCT(MonitorParameter, 8);
UVMBUS_WIRE_OFFSET(MonitorParameter, connection_id, 0);
UVMBUS_WIRE_OFFSET(MonitorParameter, flag_number, 4);
UVMBUS_WIRE_OFFSET(MonitorParameter, rsvd, 6);

// One of the two zeroed pages whose GPAs InitiateContact carries.
struct MonitorPage {
  uint32_t trigger_state;              // bits 0-3: group enable
  uint32_t rsvdz1;
  MonitorTriggerGroup trigger_group[kMonitorGroupCount];
  uint8_t rsvdz2[24];
  int32_t next_checktime[kMonitorGroupCount][kMonitorBitsPerGroup];
  uint16_t latency[kMonitorGroupCount][kMonitorBitsPerGroup];  // 100 ns units
  uint8_t rsvdz3[256];
  MonitorParameter parameter[kMonitorGroupCount][kMonitorBitsPerGroup];
  uint8_t rsvdz4[1984];
};
UVMBUS_WIRE_STRUCT(MonitorPage, kHvPageSize);
UVMBUS_WIRE_OFFSET(MonitorPage, trigger_state, 0x000);
UVMBUS_WIRE_OFFSET(MonitorPage, rsvdz1, 0x004);
UVMBUS_WIRE_OFFSET(MonitorPage, trigger_group, 0x008);
UVMBUS_WIRE_OFFSET(MonitorPage, rsvdz2, 0x028);
UVMBUS_WIRE_OFFSET(MonitorPage, next_checktime, 0x040);
UVMBUS_WIRE_OFFSET(MonitorPage, latency, 0x240);
UVMBUS_WIRE_OFFSET(MonitorPage, rsvdz3, 0x340);
UVMBUS_WIRE_OFFSET(MonitorPage, parameter, 0x440);
UVMBUS_WIRE_OFFSET(MonitorPage, rsvdz4, 0x840);

// Shared interrupt page (protocol < 5.0, GPA in InitiateContact): two
// bitmaps indexed by relid, bit n in word n / 64, bit n % 64.
inline constexpr uint32_t kInterruptPageChannelBits = kHvPageSize / 2 * 8;

struct InterruptPage {
  uint64_t recv_int_page[kInterruptPageChannelBits / 64];  // host to guest
  uint64_t send_int_page[kInterruptPageChannelBits / 64];  // guest to host
};
UVMBUS_WIRE_STRUCT(InterruptPage, kHvPageSize);
UVMBUS_WIRE_OFFSET(InterruptPage, recv_int_page, 0);
UVMBUS_WIRE_OFFSET(InterruptPage, send_int_page, 2048);

}  // namespace uvmbus::wire
