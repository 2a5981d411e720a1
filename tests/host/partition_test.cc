// Partition, driven with raw control messages (sans-IO: the test pumps it):
// version negotiation, offers, GPADLs, open/close, rescind, unload,
// sub-channels, and every way a hostile guest can get them wrong.
#include "uvmbus/host/partition.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "raw_guest.h"
#include "uvmbus/host/builtin_devices.h"
#include "uvmbus/ring/ring_memory.h"

namespace uvmbus::host::test {
namespace {

using wire::ChannelMessageType;
using wire::VmbusVersion;

constexpr wire::Guid kEchoInstance = wire::guid_literal("0ec40000-0000-4000-8000-000000000001");
constexpr uint32_t kRingPages = 4;  // per direction: header + 3 data pages

PartitionLimits small_limits() {
  PartitionLimits limits;
  limits.gpadls.max_gpadls = 4;
  limits.gpadls.max_total_pages = 4096;
  return limits;
}

class PartitionTest : public ::testing::Test {
 protected:
  PartitionTest() : partition(1, "guest", *guest.pair.host, placer, nullptr, small_limits()) {
    partition.add_device(make_echo_device(kEchoInstance, 3));
  }

  // Delivers what the guest sent and returns the host's answers.
  std::vector<std::vector<std::byte>> pump() {
    EXPECT_TRUE(partition.pump());
    return drain(guest, std::chrono::milliseconds(0));
  }
  template <typename Message>
  std::vector<std::vector<std::byte>> exchange(const Message& message) {
    guest.send(message);
    return pump();
  }
  uint64_t faults(ControlFault cause) const { return partition.faults()[static_cast<std::size_t>(cause)]; }

  // Negotiates and requests offers; returns the echo device's offer.
  wire::OfferChannel connect(VmbusVersion version = VmbusVersion::win10_v5_3) {
    const auto replies = exchange(initiate_contact(version));
    EXPECT_EQ(replies.size(), 1u);
    auto offers = exchange(wire::make_channel_message<wire::RequestOffers>());
    EXPECT_EQ(offers.size(), 2u);
    return wire::load<wire::OfferChannel>(offers.front());
  }

  // Ring pages plus their GPADL; returns the GpadlCreated status.
  uint32_t create_ring_gpadl(uint32_t relid, uint32_t handle) {
    rings = guest.allocate_rings(kRingPages, kRingPages);
    std::vector<uint64_t> pfns(rings.page_count());
    std::iota(pfns.begin(), pfns.end(), rings.first_pfn());
    guest.send_gpadl(relid, handle, pfns);
    const auto replies = pump();
    EXPECT_EQ(replies.size(), 1u);
    return wire::load<wire::GpadlCreated>(replies.at(0)).creation_status;
  }

  uint32_t open(uint32_t relid, uint32_t handle, uint32_t offset) {
    const auto replies = exchange(guest.open_message(relid, handle, offset));
    EXPECT_EQ(replies.size(), 1u);
    return wire::load<wire::OpenChannelResult>(replies.at(0)).status;
  }

  // Opens the echo channel; the guest's ends of its rings are returned.
  HostChannel& open_echo() {
    const wire::OfferChannel offer = connect();
    link = guest.attach(offer, VmbusVersion::win10_v5_3);
    EXPECT_EQ(create_ring_gpadl(offer.child_relid, 1), 0u);
    EXPECT_EQ(open(offer.child_relid, 1, kRingPages), 0u);
    outbound = ring::ring_memory_from(rings.data(), kRingPages * wire::kHvPageSize);
    inbound = ring::ring_memory_from(rings.data() + kRingPages * wire::kHvPageSize,
                                     kRingPages * wire::kHvPageSize);
    EXPECT_EQ(placer.channels.size(), 1u);
    return *placer.channels.at(0);
  }

  RawGuest guest;
  ManualPlacer placer;
  Partition partition;
  channel::GuestPages rings;
  std::unique_ptr<channel::ChannelLink> link;
  std::optional<ring::RingMemory> outbound;
  std::optional<ring::RingMemory> inbound;
};

// ---- Version negotiation ---------------------------------------------------

TEST_F(PartitionTest, AcceptsEveryListedVersionWithTheRightConnectionId) {
  for (const VmbusVersion version : kSupportedVersions) {
    const auto replies = exchange(initiate_contact(version));
    ASSERT_EQ(replies.size(), 1u);
    const auto response = wire::load<wire::VersionResponse>(replies[0]);
    EXPECT_EQ(response.version_supported, 1);
    const bool v5 = static_cast<uint32_t>(version) >= static_cast<uint32_t>(VmbusVersion::win10_v5);
    EXPECT_EQ(response.msg_conn_id, v5 ? wire::kVmbusMessageConnectionId4 : static_cast<uint32_t>(version));
    EXPECT_EQ(replies[0].size(), version == VmbusVersion::win10_v6_0 ? 20u : 16u);
    EXPECT_EQ(partition.version(), version);
    ASSERT_EQ(exchange(wire::make_channel_message<wire::Unload>()).size(), 1u);
    EXPECT_EQ(partition.state(), PartitionState::awaiting_contact);
  }
}

TEST_F(PartitionTest, RefusesAnUnknownVersionThenAcceptsAnOlderOne) {
  auto replies = exchange(initiate_contact(wire::make_vmbus_version(7, 0)));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(wire::load<wire::VersionResponse>(replies[0]).version_supported, 0);
  EXPECT_EQ(faults(ControlFault::unsupported_version), 1u);
  replies = exchange(initiate_contact(VmbusVersion::win8_1));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(wire::load<wire::VersionResponse>(replies[0]).version_supported, 1);
  EXPECT_EQ(partition.version(), VmbusVersion::win8_1);
}

TEST_F(PartitionTest, OffersEveryDeviceThenAllOffersDelivered) {
  EXPECT_EQ(exchange(initiate_contact(VmbusVersion::win10_v6_0)).size(), 1u);
  const auto replies = exchange(wire::make_channel_message<wire::RequestOffers>());
  ASSERT_EQ(replies.size(), 2u);
  const auto offer = wire::load<wire::OfferChannel>(replies[0]);
  EXPECT_EQ(offer.if_type, kEchoClassGuid);
  EXPECT_EQ(offer.if_instance, kEchoInstance);
  EXPECT_EQ(offer.sub_channel_index, 0);
  EXPECT_NE(offer.child_relid, 0u);
  EXPECT_EQ(offer.is_dedicated_interrupt, wire::kOfferDedicatedInterrupt);
  EXPECT_EQ(wire::load<ChannelMessageType>(replies[1]), ChannelMessageType::alloffers_delivered);
  EXPECT_EQ(partition.state(), PartitionState::offers_sent);
}

// ---- Malformed and out-of-order messages ----------------------------------

TEST_F(PartitionTest, MessagesBeforeContactAreOutOfOrder) {
  EXPECT_TRUE(exchange(wire::make_channel_message<wire::RequestOffers>()).empty());
  EXPECT_TRUE(exchange(guest.open_message(1, 1, 2)).empty());
  EXPECT_EQ(faults(ControlFault::out_of_order), 2u);
  connect();
  EXPECT_TRUE(exchange(initiate_contact(VmbusVersion::win8)).empty());  // already connected
  EXPECT_EQ(faults(ControlFault::out_of_order), 3u);
}

TEST_F(PartitionTest, MalformedMessagesAreCountedByCauseAndNeverAnswered) {
  const std::array<std::byte, 4> short_header{};
  partition.handle_message(short_header);
  auto open_header_only = wire::make_channel_message<wire::RequestOffers>();
  open_header_only.header.msgtype = ChannelMessageType::openchannel;
  partition.handle_message(std::as_bytes(std::span(&open_header_only, 1)));
  std::vector<std::byte> oversized(wire::kMaxChannelMessageSize + 1);
  wire::store(oversized, 0, ChannelMessageType::requestoffers);
  partition.handle_message(oversized);
  auto unknown = wire::make_channel_message<wire::RequestOffers>();
  unknown.header.msgtype = static_cast<ChannelMessageType>(99);
  partition.handle_message(std::as_bytes(std::span(&unknown, 1)));
  partition.handle_message(std::as_bytes(std::span(&open_header_only, 1)).first(8));
  const auto offer = wire::make_channel_message<wire::OfferChannel>();
  partition.handle_message(std::as_bytes(std::span(&offer, 1)));

  EXPECT_EQ(faults(ControlFault::message_truncated), 3u);
  EXPECT_EQ(faults(ControlFault::message_oversized), 1u);
  EXPECT_EQ(faults(ControlFault::unknown_type), 1u);
  EXPECT_EQ(faults(ControlFault::wrong_direction), 1u);
  EXPECT_TRUE(drain(guest, std::chrono::milliseconds(0)).empty());
  connect();  // still serves the guest
}

// ---- GPADLs -----------------------------------------------------------------

TEST_F(PartitionTest, AssemblesAGpadlFromHeaderAndBodies) {
  const wire::OfferChannel offer = connect();
  auto pages = guest.memory.allocate_pages(100);
  ASSERT_TRUE(pages);
  std::vector<uint64_t> pfns(100);
  std::iota(pfns.begin(), pfns.end(), pages->first_pfn());
  std::reverse(pfns.begin(), pfns.end());  // any order inside registered memory
  guest.send_gpadl(offer.child_relid, 42, pfns);
  const auto replies = pump();
  ASSERT_EQ(replies.size(), 1u);
  const auto created = wire::load<wire::GpadlCreated>(replies[0]);
  EXPECT_EQ(created.gpadl, 42u);
  EXPECT_EQ(created.child_relid, offer.child_relid);
  EXPECT_EQ(created.creation_status, 0u);
  EXPECT_EQ(partition.snapshot().gpadl_pages, 100u);

  auto teardown = wire::make_channel_message<wire::GpadlTeardown>();
  teardown.gpadl = 42;
  const auto torn = exchange(teardown);
  ASSERT_EQ(torn.size(), 1u);
  EXPECT_EQ(wire::load<wire::GpadlTorndown>(torn[0]).gpadl, 42u);
  EXPECT_EQ(partition.snapshot().gpadls, 0u);
}

TEST_F(PartitionTest, RefusesGpadlPagesOutsideRegisteredMemory) {
  const wire::OfferChannel offer = connect();
  const std::array<uint64_t, 3> pfns{1, 2, 3};
  guest.send_gpadl(offer.child_relid, 7, pfns);
  const auto replies = pump();
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(wire::load<wire::GpadlCreated>(replies[0]).creation_status, kHostFailureStatus);
  EXPECT_EQ(faults(ControlFault::gpadl_outside_memory), 1u);
  // One page past the end of the region.
  const uint64_t past_end = guest.memory.region(0).base_pfn() + RawGuest::kMemoryBytes / wire::kHvPageSize;
  const std::array<uint64_t, 1> beyond{past_end};
  guest.send_gpadl(offer.child_relid, 8, beyond);
  EXPECT_EQ(wire::load<wire::GpadlCreated>(pump().at(0)).creation_status, kHostFailureStatus);
  EXPECT_EQ(faults(ControlFault::gpadl_outside_memory), 2u);
  EXPECT_EQ(partition.snapshot().gpadls, 0u);
}

TEST_F(PartitionTest, RefusesDuplicateAndMalformedGpadls) {
  const wire::OfferChannel offer = connect();
  EXPECT_EQ(create_ring_gpadl(offer.child_relid, 5), 0u);
  const std::array<uint64_t, 1> pfn{rings.first_pfn()};
  guest.send_gpadl(offer.child_relid, 5, pfn);  // same handle, overlapping pages
  EXPECT_EQ(wire::load<wire::GpadlCreated>(pump().at(0)).creation_status, kHostFailureStatus);
  EXPECT_EQ(faults(ControlFault::gpadl_duplicate), 1u);

  // A range whose byte_offset is past the page, and one with no bytes.
  for (const wire::GpaRange range : {wire::GpaRange{.byte_count = 16, .byte_offset = 4096},
                                     wire::GpaRange{.byte_count = 0, .byte_offset = 0}}) {
    std::vector<std::byte> message(sizeof(wire::GpadlHeader) + sizeof(wire::GpaRange) + 8);
    auto header = wire::make_channel_message<wire::GpadlHeader>();
    header.child_relid = offer.child_relid;
    header.gpadl = 6;
    header.rangecount = 1;
    header.range_buflen = 16;
    wire::store(message, 0, header);
    wire::store(message, sizeof(header), range);
    wire::store(message, sizeof(header) + sizeof(range), rings.first_pfn());
    guest.send_bytes(message);
    EXPECT_EQ(wire::load<wire::GpadlCreated>(pump().at(0)).creation_status, kHostFailureStatus);
  }
  // A range that needs two PFNs in a buffer that holds one.
  std::vector<std::byte> message(sizeof(wire::GpadlHeader) + sizeof(wire::GpaRange) + 8);
  auto header = wire::make_channel_message<wire::GpadlHeader>();
  header.child_relid = offer.child_relid;
  header.gpadl = 6;
  header.rangecount = 1;
  header.range_buflen = 16;
  wire::store(message, 0, header);
  wire::store(message, sizeof(header), wire::GpaRange{.byte_count = 8192, .byte_offset = 0});
  wire::store(message, sizeof(header) + sizeof(wire::GpaRange), rings.first_pfn());
  guest.send_bytes(message);
  EXPECT_EQ(wire::load<wire::GpadlCreated>(pump().at(0)).creation_status, kHostFailureStatus);
  EXPECT_EQ(faults(ControlFault::gpadl_malformed), 3u);

  // A body for a handle nobody announced is counted, not answered.
  auto body = wire::make_channel_message<wire::GpadlBody>();
  body.gpadl = 1234;
  EXPECT_TRUE(exchange(body).empty());
  EXPECT_EQ(faults(ControlFault::gpadl_unknown), 1u);
  EXPECT_EQ(partition.snapshot().gpadls, 1u);
}

TEST_F(PartitionTest, HugeAndManyGpadlsHitTheLimitsNotHostMemory) {
  const wire::OfferChannel offer = connect();
  // Headers announcing the largest range buffer and never finishing.
  for (uint32_t handle = 1; handle <= 6; ++handle) {
    auto header = wire::make_channel_message<wire::GpadlHeader>();
    header.child_relid = offer.child_relid;
    header.gpadl = handle;
    header.rangecount = 1;
    header.range_buflen = 0xFFFF;
    guest.send(header);
  }
  const auto replies = pump();
  // 4096 pages allowed: the first fits (8191 max pages does not: refused).
  EXPECT_EQ(replies.size(), 6u);
  EXPECT_EQ(faults(ControlFault::gpadl_limit), 6u);
  EXPECT_EQ(partition.snapshot().gpadls, 0u);

  // Within the page limit, the count limit (4) applies.
  for (uint32_t handle = 10; handle < 15; ++handle) {
    auto header = wire::make_channel_message<wire::GpadlHeader>();
    header.child_relid = offer.child_relid;
    header.gpadl = handle;
    header.rangecount = 1;
    header.range_buflen = 8 + 8 * 100;
    guest.send(header);
  }
  EXPECT_EQ(pump().size(), 1u);  // only the fifth is answered (refused)
  EXPECT_EQ(faults(ControlFault::gpadl_limit), 7u);
  EXPECT_EQ(partition.snapshot().gpadls, 4u);
}

TEST_F(PartitionTest, GpadlForAnUnofferedChannelIsRefused) {
  connect();
  const std::array<uint64_t, 1> pfns{guest.memory.region(0).base_pfn()};
  guest.send_gpadl(999, 3, pfns);
  EXPECT_EQ(wire::load<wire::GpadlCreated>(pump().at(0)).creation_status, kHostFailureStatus);
  EXPECT_EQ(faults(ControlFault::unknown_relid), 1u);
}

TEST_F(PartitionTest, IgnoresBytesPastTheAnnouncedRangeBuffer) {
  const wire::OfferChannel offer = connect();
  auto pages = guest.memory.allocate_pages(1);
  ASSERT_TRUE(pages);
  // A full-size header (as UEFI sends) whose range buffer holds one PFN.
  std::vector<std::byte> message(wire::kMaxChannelMessageSize, std::byte{0xEE});
  auto header = wire::make_channel_message<wire::GpadlHeader>();
  header.child_relid = offer.child_relid;
  header.gpadl = 9;
  header.rangecount = 1;
  header.range_buflen = sizeof(wire::GpaRange) + sizeof(uint64_t);
  wire::store(message, 0, header);
  wire::store(message, sizeof(header), wire::GpaRange{.byte_count = 4096, .byte_offset = 0});
  wire::store(message, sizeof(header) + sizeof(wire::GpaRange), pages->first_pfn());
  guest.send_bytes(message);
  EXPECT_EQ(wire::load<wire::GpadlCreated>(pump().at(0)).creation_status, 0u);
  EXPECT_EQ(partition.snapshot().gpadl_pages, 1u);
}

// ---- Open and close -----------------------------------------------------------

TEST_F(PartitionTest, AcknowledgesModifyChannelFromVersion53Only) {
  const uint32_t relid = open_echo().context().relid;
  auto modify = wire::make_channel_message<wire::ModifyChannel>();
  modify.child_relid = relid;
  modify.target_vp = 1;
  const auto replies = exchange(modify);
  ASSERT_EQ(replies.size(), 1u);
  const auto response = wire::load<wire::ModifyChannelResponse>(replies[0]);
  EXPECT_EQ(response.child_relid, relid);
  EXPECT_EQ(response.status, 0u);
  EXPECT_EQ(exchange(wire::make_channel_message<wire::Unload>()).size(), 1u);
  EXPECT_EQ(exchange(initiate_contact(VmbusVersion::win10_v5_2)).size(), 1u);
  EXPECT_TRUE(exchange(modify).empty());  // 5.2: no answer; the channel is closed
  EXPECT_EQ(faults(ControlFault::channel_not_open), 1u);
}


TEST_F(PartitionTest, RefusesBadRingOffsets) {
  const wire::OfferChannel offer = connect();
  link = guest.attach(offer, VmbusVersion::win10_v5_3);
  ASSERT_EQ(create_ring_gpadl(offer.child_relid, 1), 0u);
  for (const uint32_t offset : {0u, 2 * kRingPages, 2 * kRingPages + 5, 1u, 2 * kRingPages - 1}) {
    EXPECT_EQ(open(offer.child_relid, 1, offset), kHostFailureStatus) << offset;
  }
  EXPECT_EQ(faults(ControlFault::ring_offset_invalid), 5u);
  EXPECT_EQ(open(offer.child_relid, 77, kRingPages), kHostFailureStatus);
  EXPECT_EQ(faults(ControlFault::gpadl_unknown), 1u);
  EXPECT_EQ(open(12345, 1, kRingPages), kHostFailureStatus);
  EXPECT_EQ(faults(ControlFault::unknown_relid), 1u);
  EXPECT_TRUE(placer.channels.empty());
  EXPECT_EQ(open(offer.child_relid, 1, kRingPages), 0u);
  EXPECT_EQ(placer.channels.size(), 1u);
  EXPECT_EQ(open(offer.child_relid, 1, kRingPages), kHostFailureStatus);
  EXPECT_EQ(faults(ControlFault::channel_already_open), 1u);
}

TEST_F(PartitionTest, RefusesARingGpadlOfScatteredPages) {
  const wire::OfferChannel offer = connect();
  link = guest.attach(offer, VmbusVersion::win10_v5_3);
  auto pages = guest.memory.allocate_pages(2 * kRingPages);
  ASSERT_TRUE(pages);
  std::vector<uint64_t> pfns(2 * kRingPages);
  std::iota(pfns.begin(), pfns.end(), pages->first_pfn());
  std::swap(pfns[1], pfns[2]);
  guest.send_gpadl(offer.child_relid, 1, pfns);
  EXPECT_EQ(wire::load<wire::GpadlCreated>(pump().at(0)).creation_status, 0u);
  EXPECT_EQ(open(offer.child_relid, 1, kRingPages), kHostFailureStatus);
  EXPECT_EQ(faults(ControlFault::ring_gpadl_invalid), 1u);
}

TEST_F(PartitionTest, RefusesAnOpenWithoutDoorbellsOrWorker) {
  const wire::OfferChannel offer = connect();
  ASSERT_EQ(create_ring_gpadl(offer.child_relid, 1), 0u);
  EXPECT_EQ(open(offer.child_relid, 1, kRingPages), kHostFailureStatus);
  EXPECT_EQ(faults(ControlFault::no_doorbell), 1u);
  link = guest.attach(offer, VmbusVersion::win10_v5_3);
  placer.refuse = true;
  EXPECT_EQ(open(offer.child_relid, 1, kRingPages), kHostFailureStatus);
  EXPECT_EQ(faults(ControlFault::no_worker), 1u);
}

TEST_F(PartitionTest, KeepsAMappedGpadlUntilTheChannelCloses) {
  const HostChannel& channel = open_echo();
  const uint32_t relid = channel.context().relid;
  auto teardown = wire::make_channel_message<wire::GpadlTeardown>();
  teardown.child_relid = relid;
  teardown.gpadl = 1;
  EXPECT_TRUE(exchange(teardown).empty());
  EXPECT_EQ(faults(ControlFault::gpadl_in_use), 1u);

  auto close = wire::make_channel_message<wire::CloseChannel>();
  close.child_relid = relid;
  EXPECT_TRUE(exchange(close).empty());
  EXPECT_TRUE(placer.channels.empty());
  EXPECT_EQ(exchange(teardown).size(), 1u);
  EXPECT_TRUE(exchange(close).empty());
  EXPECT_EQ(faults(ControlFault::channel_not_open), 1u);
}

// ---- The data path, polled by the test ---------------------------------------

TEST_F(PartitionTest, EchoesPacketsAndCompletesRequests) {
  HostChannel& channel = open_echo();
  ring::RingWriter to_host(*outbound);
  ring::RingReader from_host(*inbound);
  const std::array<std::byte, 8> payload{std::byte{1}, std::byte{2}, std::byte{3}};
  const iovec segment{.iov_base = const_cast<std::byte*>(payload.data()), .iov_len = payload.size()};
  ASSERT_EQ(to_host.write({.type = wire::PacketType::data_inband,
                           .flags = 0,
                           .trans_id = 0,
                           .header_ext = {},
                           .payload = std::span(&segment, 1)}),
            ring::WriteStatus::ok);
  ASSERT_EQ(to_host.write({.type = wire::PacketType::data_inband,
                           .flags = wire::kPacketFlagCompletionRequested,
                           .trans_id = 99,
                           .header_ext = {},
                           .payload = std::span(&segment, 1)}),
            ring::WriteStatus::ok);
  [[maybe_unused]] const ring::Signal signal = to_host.commit();
  EXPECT_EQ(channel.poll(32), 2u);

  ring::InPacket packet;
  ASSERT_EQ(from_host.next(packet), ring::ReadStatus::ok);
  EXPECT_EQ(packet.type(), wire::PacketType::data_inband);
  EXPECT_TRUE(std::equal(payload.begin(), payload.end(), packet.payload().begin()));
  ASSERT_EQ(from_host.next(packet), ring::ReadStatus::ok);
  EXPECT_EQ(packet.type(), wire::PacketType::completion);
  EXPECT_EQ(packet.desc.trans_id, 99u);
  const HostChannelStats stats = channel.stats();
  EXPECT_EQ(stats.packets_in, 2u);
  EXPECT_EQ(stats.packets_out, 2u);
  EXPECT_EQ(stats.signals_sent + stats.signals_avoided, 1u);  // one publish for the batch
}

TEST_F(PartitionTest, AGuestThatNeverReadsStallsOnlyItsChannel) {
  HostChannel& channel = open_echo();
  ring::RingWriter to_host(*outbound);
  const std::array<std::byte, 512> payload{};
  const iovec segment{.iov_base = const_cast<std::byte*>(payload.data()), .iov_len = payload.size()};
  const ring::OutPacket packet{.type = wire::PacketType::data_inband,
                               .flags = 0,
                               .trans_id = 0,
                               .header_ext = {},
                               .payload = std::span(&segment, 1)};
  std::size_t sent = 0;
  for (int round = 0; round < 20; ++round) {
    while (to_host.write(packet) == ring::WriteStatus::ok) {
      ++sent;
    }
    [[maybe_unused]] const ring::Signal signal = to_host.commit();
    [[maybe_unused]] const std::size_t handled = channel.poll(32);
  }
  const HostChannelStats stats = channel.stats();
  EXPECT_GE(stats.ring_full, 1u);
  EXPECT_LT(stats.packets_in, sent + 1);
  EXPECT_EQ(stats.drops[static_cast<std::size_t>(HostDropCause::reply_ring_full)], 0u);
  // The host asked for room and may sleep; it does not spin.
  EXPECT_TRUE(channel.try_enter_interrupt_mode());
  channel.exit_interrupt_mode();
}

TEST_F(PartitionTest, ACorruptRingStopsTheChannelAndIsCounted) {
  HostChannel& channel = open_echo();
  outbound->header->write_index = 3;  // misaligned
  EXPECT_EQ(channel.poll(32), 0u);
  EXPECT_TRUE(channel.corrupt());
  EXPECT_EQ(channel.stats().drops[static_cast<std::size_t>(HostDropCause::ring_corrupt)], 1u);
  EXPECT_EQ(channel.poll(32), 0u);
  EXPECT_TRUE(partition.snapshot().channels.at(0).ring_corrupt);
}

TEST_F(PartitionTest, ReportsBadGpaRangesInTheCompletion) {
  HostChannel& channel = open_echo();
  ring::RingWriter to_host(*outbound);
  ring::RingReader from_host(*inbound);
  struct {
    wire::GpaDirectHeader header{.reserved = 0, .range_count = 1};
    wire::GpaRange range{.byte_count = 100, .byte_offset = 0};
    uint64_t pfn = 5;  // not registered
  } ext;
  ASSERT_EQ(to_host.write({.type = wire::PacketType::data_using_gpa_direct,
                           .flags = wire::kPacketFlagCompletionRequested,
                           .trans_id = 7,
                           .header_ext = std::as_bytes(std::span(&ext, 1)),
                           .payload = {}}),
            ring::WriteStatus::ok);
  [[maybe_unused]] const ring::Signal signal = to_host.commit();
  EXPECT_EQ(channel.poll(32), 1u);
  ring::InPacket packet;
  ASSERT_EQ(from_host.next(packet), ring::ReadStatus::ok);
  const auto reply = wire::load<GpaDirectReply>(packet.payload());
  EXPECT_EQ(reply.ranges_read, 0u);
  EXPECT_EQ(channel.stats().drops[static_cast<std::size_t>(HostDropCause::bad_gpa_range)], 1u);
}

// ---- Sub-channels, rescind, unload ---------------------------------------------

TEST_F(PartitionTest, OffersRequestedSubchannelsUpToTheDeviceLimit) {
  const wire::OfferChannel primary = connect();
  partition.offer_subchannels(primary.child_relid, 5);
  const auto offers = drain(guest, std::chrono::milliseconds(0));
  ASSERT_EQ(offers.size(), 3u);
  for (std::size_t i = 0; i < offers.size(); ++i) {
    const auto offer = wire::load<wire::OfferChannel>(offers[i]);
    EXPECT_EQ(offer.if_instance, kEchoInstance);
    EXPECT_EQ(offer.sub_channel_index, i + 1);
    EXPECT_NE(offer.child_relid, primary.child_relid);
  }
  partition.offer_subchannels(primary.child_relid, 3);  // already offered
  EXPECT_TRUE(drain(guest, std::chrono::milliseconds(0)).empty());
}

TEST_F(PartitionTest, RemovingADeviceRescindsItAndClosesItsChannel) {
  const uint32_t relid = open_echo().context().relid;
  partition.remove_device(kEchoInstance);
  EXPECT_TRUE(placer.channels.empty());
  const auto rescind = guest.receive_as<wire::RescindChannelOffer>(std::chrono::milliseconds(0));
  ASSERT_TRUE(rescind);
  EXPECT_EQ(rescind->child_relid, relid);
  EXPECT_EQ(open(relid, 1, kRingPages), kHostFailureStatus);
  auto released = wire::make_channel_message<wire::RelidReleased>();
  released.child_relid = relid;
  EXPECT_TRUE(exchange(released).empty());
  EXPECT_TRUE(partition.snapshot().channels.empty());
  EXPECT_EQ(partition.snapshot().gpadls, 0u);  // the ring GPADL went with the relid
}

TEST_F(PartitionTest, UnloadClosesChannelsAndDropsGpadls) {
  open_echo();
  const auto replies = exchange(wire::make_channel_message<wire::Unload>());
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(wire::load<ChannelMessageType>(replies[0]), ChannelMessageType::unload_response);
  EXPECT_TRUE(placer.channels.empty());
  EXPECT_EQ(partition.snapshot().gpadls, 0u);
  EXPECT_EQ(partition.state(), PartitionState::awaiting_contact);
  connect();  // and the guest can come back
}

// A device whose handlers record why they were closed.
class RecordingDevice final : public Device {
 public:
  explicit RecordingDevice(std::vector<CloseReason>& closes) : closes_(closes) {
    offer_.class_id = kEchoClassGuid;
    offer_.instance_id = wire::guid_literal("0ec40000-0000-4000-8000-0000000000ff");
  }
  std::string_view name() const noexcept override { return "recording"; }
  const DeviceOffer& offer() const noexcept override { return offer_; }
  std::unique_ptr<ChannelHandler> open_channel(const ChannelContext&) override {
    return std::make_unique<Handler>(closes_);
  }

 private:
  class Handler final : public ChannelHandler {
   public:
    explicit Handler(std::vector<CloseReason>& closes) : closes_(closes) {}
    void on_packet(HostChannel&, const ring::InPacket&) noexcept override {}
    void on_close(CloseReason reason) noexcept override { closes_.push_back(reason); }

   private:
    std::vector<CloseReason>& closes_;
  };
  std::vector<CloseReason>& closes_;
  DeviceOffer offer_;
};

TEST_F(PartitionTest, HandlersLearnWhyTheirChannelClosed) {
  std::vector<CloseReason> closes;
  partition.remove_device(kEchoInstance);
  partition.add_device(std::make_shared<RecordingDevice>(closes));
  const uint32_t relid = open_echo().context().relid;
  auto close = wire::make_channel_message<wire::CloseChannel>();
  close.child_relid = relid;
  EXPECT_TRUE(exchange(close).empty());
  EXPECT_EQ(open(relid, 1, kRingPages), 0u);
  EXPECT_EQ(exchange(wire::make_channel_message<wire::Unload>()).size(), 1u);
  ASSERT_EQ(closes.size(), 2u);
  EXPECT_EQ(closes[0], CloseReason::guest_closed);
  EXPECT_EQ(closes[1], CloseReason::unloaded);
}

TEST_F(PartitionTest, AVanishedGuestIsReclaimed) {
  open_echo();
  guest.pair.guest.reset();
  EXPECT_FALSE(partition.pump());
  EXPECT_EQ(partition.state(), PartitionState::gone);
  EXPECT_TRUE(placer.channels.empty());
  EXPECT_EQ(partition.snapshot().gpadls, 0u);
}

}  // namespace
}  // namespace uvmbus::host::test
