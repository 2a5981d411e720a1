// Checks the ring wire structs field by field against DPDK's independent
// definitions in rte_vmbus_reg.h: same sizes, same offsets, same constants.
#include <rte_vmbus_reg.h>

#include <cstddef>
#include <cstring>

#include <gtest/gtest.h>

#include "uvmbus/wire/ring.h"

namespace uvmbus::wire {
namespace {

TEST(RingLayoutMatchesDpdk, HeaderFieldsSitWhereDpdkPutsThem) {
  EXPECT_EQ(offsetof(RingHeader, write_index), offsetof(vmbus_bufring, windex));
  EXPECT_EQ(offsetof(RingHeader, read_index), offsetof(vmbus_bufring, rindex));
  EXPECT_EQ(offsetof(RingHeader, interrupt_mask), offsetof(vmbus_bufring, imask));
  EXPECT_EQ(offsetof(RingHeader, pending_send_sz), offsetof(vmbus_bufring, pending_send));
  EXPECT_EQ(offsetof(RingHeader, reserved1), offsetof(vmbus_bufring, reserved1));
  EXPECT_EQ(sizeof(RingHeader::reserved1), sizeof(vmbus_bufring::reserved1));
  EXPECT_EQ(offsetof(RingHeader, feature_bits), offsetof(vmbus_bufring, feature_bits));
  // DPDK declares only the used prefix of the page; ours is the whole page.
  EXPECT_EQ(offsetof(RingHeader, reserved2), sizeof(vmbus_bufring));
  EXPECT_EQ(sizeof(RingHeader), kHvPageSize);
}

TEST(RingLayoutMatchesDpdk, FeatureBitZeroIsPendingSendSize) {
  vmbus_bufring dpdk{};
  dpdk.feature_bits.feat_pending_send_sz = 1;
  EXPECT_EQ(dpdk.feature_bits.value, kRingFeaturePendingSendSz);
}

TEST(RingLayoutMatchesDpdk, PacketDescriptorMatchesChanpktHdr) {
  EXPECT_EQ(sizeof(PacketDescriptor), sizeof(vmbus_chanpkt_hdr));
  EXPECT_EQ(offsetof(PacketDescriptor, type), offsetof(vmbus_chanpkt_hdr, type));
  EXPECT_EQ(offsetof(PacketDescriptor, offset8), offsetof(vmbus_chanpkt_hdr, hlen));
  EXPECT_EQ(offsetof(PacketDescriptor, len8), offsetof(vmbus_chanpkt_hdr, tlen));
  EXPECT_EQ(offsetof(PacketDescriptor, flags), offsetof(vmbus_chanpkt_hdr, flags));
  EXPECT_EQ(offsetof(PacketDescriptor, trans_id), offsetof(vmbus_chanpkt_hdr, xactid));
  EXPECT_EQ(kMinPacketOffset8, VMBUS_CHANPKT_HLEN_MIN);
  EXPECT_EQ(kPacketAlign, VMBUS_CHANPKT_SIZE_ALIGN);
}

TEST(RingLayoutMatchesDpdk, PacketTypesAndFlagsMatch) {
  EXPECT_EQ(static_cast<uint16_t>(PacketType::data_inband), VMBUS_CHANPKT_TYPE_INBAND);
  EXPECT_EQ(static_cast<uint16_t>(PacketType::data_using_xfer_pages), VMBUS_CHANPKT_TYPE_RXBUF);
  EXPECT_EQ(static_cast<uint16_t>(PacketType::data_using_gpa_direct), VMBUS_CHANPKT_TYPE_GPA);
  EXPECT_EQ(static_cast<uint16_t>(PacketType::completion), VMBUS_CHANPKT_TYPE_COMP);
  EXPECT_EQ(kPacketFlagCompletionRequested, VMBUS_CHANPKT_FLAG_RC);
}

TEST(RingLayoutMatchesDpdk, GpaRangesMatchDpdkGpaStructs) {
  EXPECT_EQ(sizeof(GpaRange), sizeof(vmbus_gpa_range));
  EXPECT_EQ(offsetof(GpaRange, byte_count), offsetof(vmbus_gpa_range, len));
  EXPECT_EQ(offsetof(GpaRange, byte_offset), offsetof(vmbus_gpa_range, ofs));
  EXPECT_EQ(sizeof(GpaRange), offsetof(vmbus_gpa_range, page));

  EXPECT_EQ(sizeof(GpaSinglePageRange), sizeof(vmbus_gpa));
  EXPECT_EQ(offsetof(GpaSinglePageRange, byte_count), offsetof(vmbus_gpa, len));
  EXPECT_EQ(offsetof(GpaSinglePageRange, byte_offset), offsetof(vmbus_gpa, ofs));
  EXPECT_EQ(offsetof(GpaSinglePageRange, pfn), offsetof(vmbus_gpa, page));
}

TEST(RingLayoutMatchesDpdk, GpaDirectHeaderFollowsTheDescriptorAsInSglist) {
  EXPECT_EQ(sizeof(PacketDescriptor) + offsetof(GpaDirectHeader, reserved),
            offsetof(vmbus_chanpkt_sglist, rsvd));
  EXPECT_EQ(sizeof(PacketDescriptor) + offsetof(GpaDirectHeader, range_count),
            offsetof(vmbus_chanpkt_sglist, gpa_cnt));
  EXPECT_EQ(sizeof(PacketDescriptor) + sizeof(GpaDirectHeader),
            offsetof(vmbus_chanpkt_sglist, gpa));
}

TEST(RingLayoutMatchesDpdk, TransferPageHeaderFollowsTheDescriptorAsInRxbuf) {
  EXPECT_EQ(sizeof(PacketDescriptor) + offsetof(TransferPageHeader, pageset_id),
            offsetof(vmbus_chanpkt_rxbuf, rxbuf_id));
  EXPECT_EQ(sizeof(PacketDescriptor) + offsetof(TransferPageHeader, sender_owns_set),
            offsetof(vmbus_chanpkt_rxbuf, rsvd));
  EXPECT_EQ(sizeof(PacketDescriptor) + offsetof(TransferPageHeader, range_count),
            offsetof(vmbus_chanpkt_rxbuf, rxbuf_cnt));
  EXPECT_EQ(sizeof(PacketDescriptor) + sizeof(TransferPageHeader),
            offsetof(vmbus_chanpkt_rxbuf, rxbuf));

  EXPECT_EQ(sizeof(TransferPageRange), sizeof(vmbus_rxbuf_desc));
  EXPECT_EQ(offsetof(TransferPageRange, byte_count), offsetof(vmbus_rxbuf_desc, len));
  EXPECT_EQ(offsetof(TransferPageRange, byte_offset), offsetof(vmbus_rxbuf_desc, ofs));
}

TEST(RingLayoutMatchesDpdk, TrailerCarriesStartOffsetInUpperHalf) {
  const PacketTrailer trailer{.reserved = 0, .start_offset = 0x1234'5678};
  uint64_t word = 0;
  std::memcpy(&word, &trailer, sizeof(word));
  EXPECT_EQ(word, uint64_t{0x1234'5678} << 32);
}

}  // namespace
}  // namespace uvmbus::wire
