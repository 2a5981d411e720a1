// VMBus ring buffer wire format: the ring header page, packet descriptor,
// type-specific packet headers and the packet trailer.
//
// Reference: shared/spec/vmbus-ring.md; checked field by field against DPDK's
// rte_vmbus_reg.h in tests/wire. All integers are little-endian; one "page"
// is the 4 KiB Hyper-V page whatever the guest page size.
#pragma once

#include <cstdint>

#include "uvmbus/wire/layout.h"

namespace uvmbus::wire {

inline constexpr uint32_t kHvPageSize = 4096;
inline constexpr uint32_t kHvPageShift = 12;

// Every packet length and ring index is a multiple of 8 bytes.
inline constexpr uint32_t kPacketAlign = 8;

// Header page at the start of each ring. Only the fields named here are used;
// the rest of the page is reserved and stays zero.
struct RingHeader {
  uint32_t write_index;      // producer: end of published data (byte offset)
  uint32_t read_index;       // consumer: start of unread data (byte offset)
  uint32_t interrupt_mask;   // consumer: non-zero = "do not signal me"
  uint32_t pending_send_sz;  // producer: bytes it waits for; 0 = not waiting
  uint32_t reserved1[12];
  uint32_t feature_bits;     // bit 0: pending_send_sz protocol supported
  uint8_t reserved2[4028];
};
UVMBUS_WIRE_STRUCT(RingHeader, kHvPageSize);
UVMBUS_WIRE_OFFSET(RingHeader, write_index, 0);
UVMBUS_WIRE_OFFSET(RingHeader, read_index, 4);
UVMBUS_WIRE_OFFSET(RingHeader, interrupt_mask, 8);
UVMBUS_WIRE_OFFSET(RingHeader, pending_send_sz, 12);
UVMBUS_WIRE_OFFSET(RingHeader, reserved1, 16);
UVMBUS_WIRE_OFFSET(RingHeader, feature_bits, 64);
UVMBUS_WIRE_OFFSET(RingHeader, reserved2, 68);

inline constexpr uint32_t kRingFeaturePendingSendSz = 1u << 0;

// Packet types carried in PacketDescriptor::type. Only in-band, transfer-page,
// GPA-direct and completion packets are used by current hosts and guests.
enum class PacketType : uint16_t {
  invalid = 0x0,
  synch = 0x1,
  add_xfer_pageset = 0x2,
  rm_xfer_pageset = 0x3,
  establish_gpadl = 0x4,
  teardown_gpadl = 0x5,
  data_inband = 0x6,
  data_using_xfer_pages = 0x7,
  data_using_gpadl = 0x8,
  data_using_gpa_direct = 0x9,
  cancel_request = 0xa,
  completion = 0xb,
  data_using_additional_pkt = 0xc,
  additional_data = 0xd,
};

inline constexpr uint16_t kPacketFlagCompletionRequested = 1u << 0;

// First 16 bytes of every packet.
struct PacketDescriptor {
  uint16_t type;     // PacketType
  uint16_t offset8;  // payload offset from packet start, in 8-byte units (>= 2)
  uint16_t len8;     // packet length without trailer, in 8-byte units
  uint16_t flags;    // kPacketFlag*
  uint64_t trans_id; // transaction id, echoed by the completion
};
UVMBUS_WIRE_STRUCT(PacketDescriptor, 16);
UVMBUS_WIRE_OFFSET(PacketDescriptor, type, 0);
UVMBUS_WIRE_OFFSET(PacketDescriptor, offset8, 2);
UVMBUS_WIRE_OFFSET(PacketDescriptor, len8, 4);
UVMBUS_WIRE_OFFSET(PacketDescriptor, flags, 6);
UVMBUS_WIRE_OFFSET(PacketDescriptor, trans_id, 8);

inline constexpr uint16_t kMinPacketOffset8 = sizeof(PacketDescriptor) / kPacketAlign;

// 8 bytes after each packet: the ring offset at which the packet started, in
// the upper 32 bits of a little-endian u64. Written by every writer, read by none.
struct PacketTrailer {
  uint32_t reserved;
  uint32_t start_offset;
};
UVMBUS_WIRE_STRUCT(PacketTrailer, 8);
UVMBUS_WIRE_OFFSET(PacketTrailer, reserved, 0);
UVMBUS_WIRE_OFFSET(PacketTrailer, start_offset, 4);

// GPA-direct packets (type 0x9): descriptor, this header, then range_count
// ranges, each a GpaRange followed by its page frame numbers.
struct GpaDirectHeader {
  uint32_t reserved;
  uint32_t range_count;
};
UVMBUS_WIRE_STRUCT(GpaDirectHeader, 8);
UVMBUS_WIRE_OFFSET(GpaDirectHeader, reserved, 0);
UVMBUS_WIRE_OFFSET(GpaDirectHeader, range_count, 4);

// One range: byte_count bytes starting byte_offset (< 4096) into the first of
// ceil((byte_offset + byte_count) / 4096) pages whose u64 PFNs follow.
struct GpaRange {
  uint32_t byte_count;
  uint32_t byte_offset;
};
UVMBUS_WIRE_STRUCT(GpaRange, 8);
UVMBUS_WIRE_OFFSET(GpaRange, byte_count, 0);
UVMBUS_WIRE_OFFSET(GpaRange, byte_offset, 4);

// A range of exactly one page (DPDK's scatter-gather form).
struct GpaSinglePageRange {
  uint32_t byte_count;
  uint32_t byte_offset;
  uint64_t pfn;
};
UVMBUS_WIRE_STRUCT(GpaSinglePageRange, 16);
UVMBUS_WIRE_OFFSET(GpaSinglePageRange, byte_count, 0);
UVMBUS_WIRE_OFFSET(GpaSinglePageRange, byte_offset, 4);
UVMBUS_WIRE_OFFSET(GpaSinglePageRange, pfn, 8);

// Transfer-page packets (type 0x7): descriptor, this header, then range_count
// TransferPageRange entries addressing a buffer registered under pageset_id.
struct TransferPageHeader {
  uint16_t pageset_id;
  uint8_t sender_owns_set;
  uint8_t reserved;
  uint32_t range_count;
};
UVMBUS_WIRE_STRUCT(TransferPageHeader, 8);
UVMBUS_WIRE_OFFSET(TransferPageHeader, pageset_id, 0);
UVMBUS_WIRE_OFFSET(TransferPageHeader, sender_owns_set, 2);
UVMBUS_WIRE_OFFSET(TransferPageHeader, reserved, 3);
UVMBUS_WIRE_OFFSET(TransferPageHeader, range_count, 4);

struct TransferPageRange {
  uint32_t byte_count;
  uint32_t byte_offset;
};
UVMBUS_WIRE_STRUCT(TransferPageRange, 8);
UVMBUS_WIRE_OFFSET(TransferPageRange, byte_count, 0);
UVMBUS_WIRE_OFFSET(TransferPageRange, byte_offset, 4);

}  // namespace uvmbus::wire
