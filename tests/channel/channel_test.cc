// The channel data path over the loopback transport against the scripted
// host: echo and completions, batched signalling, GPA-direct with real PFNs,
// back-pressure, transfer pages, hostile packets and completions, the end of
// a channel mid-stream.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <numeric>

#include "loopback_fixture.h"
#include "uvmbus/wire/bytes.h"

namespace uvmbus::channel::test {
namespace {

using std::chrono::milliseconds;

uint64_t drops(const Channel& channel, DropCause cause) {
  return channel.stats().drops[static_cast<std::size_t>(cause)];
}

std::vector<std::byte> payload_for(uint64_t seq, std::size_t size) {
  std::vector<std::byte> bytes(size);
  for (std::size_t i = 0; i < size; ++i) {
    bytes[i] = static_cast<std::byte>(seq * 31 + i);
  }
  return bytes;
}

// Transaction id of the n-th use (generation, from 1) of table slot `slot`.
constexpr uint64_t transaction_id(uint64_t generation, uint64_t slot) {
  return generation << 16 | (slot + 1);
}

ring::OutPacket completion_packet(uint64_t trans_id) {
  return ring::OutPacket{.type = wire::PacketType::completion, .trans_id = trans_id};
}

class ChannelTest : public ::testing::TestWithParam<HostTrust> {
 protected:
  Channel& open(uint32_t relid = kEchoRelid) { return guest.open(relid, small_rings(GetParam())); }

  LoopbackGuest guest;
};

INSTANTIATE_TEST_SUITE_P(BothTrustModes, ChannelTest,
                         ::testing::Values(HostTrust::untrusted, HostTrust::trusted),
                         [](const auto& info) {
                           return info.param == HostTrust::trusted ? "InPlace" : "CopyOut";
                         });

TEST_P(ChannelTest, InBandPacketsComeBackFromAnEchoHost) {
  Channel& channel = open();
  std::vector<std::vector<std::byte>> payloads;
  std::vector<iovec> segments;
  std::vector<SendItem> items;
  for (uint64_t i = 0; i < 8; ++i) {
    payloads.push_back(payload_for(i, 8 + i * 50));
  }
  for (const auto& payload : payloads) {
    segments.push_back({const_cast<std::byte*>(payload.data()), payload.size()});
  }
  for (const iovec& segment : segments) {
    items.push_back(SendItem{.payload = std::span(&segment, 1)});
  }
  const SendResult sent = channel.send_burst(items);
  ASSERT_EQ(sent.sent, 8u);
  ASSERT_EQ(sent.status, SendStatus::ok);
  const std::vector<CollectedPacket> received = receive(channel, 8);
  ASSERT_EQ(received.size(), 8u);
  for (std::size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(received[i].kind, PacketKind::inband);
    ASSERT_GE(received[i].payload.size(), payloads[i].size());
    EXPECT_EQ(std::memcmp(received[i].payload.data(), payloads[i].data(), payloads[i].size()), 0);
  }
  EXPECT_EQ(channel.stats().packets_sent, 8u);
  EXPECT_EQ(channel.stats().packets_received, 8u);
}

TEST_P(ChannelTest, RequestsCompleteWithTheirCookies) {
  Channel& channel = open();
  for (uint64_t cookie = 100; cookie < 116; ++cookie) {
    ASSERT_EQ(send_one(channel, payload_for(cookie, 24), SendKind::request, cookie).sent, 1u);
  }
  EXPECT_EQ(channel.transactions_in_flight(), 16u);
  const std::vector<CollectedPacket> received = receive(channel, 16);
  ASSERT_EQ(received.size(), 16u);
  for (std::size_t i = 0; i < 16; ++i) {
    EXPECT_EQ(received[i].kind, PacketKind::completion);
    EXPECT_EQ(received[i].status, CompletionStatus::ok);
    EXPECT_EQ(received[i].cookie, 100 + i);
    EXPECT_EQ(std::memcmp(received[i].payload.data(), payload_for(100 + i, 24).data(), 24), 0);
  }
  EXPECT_EQ(channel.transactions_in_flight(), 0u);
}

TEST_P(ChannelTest, ABurstPublishesOnceAndRingsTheDoorbellOnlyOnEmptyToNonEmpty) {
  Channel& channel = open();
  guest.host->set_mode(kEchoRelid, ChannelMode::hold);
  const uint64_t doorbells_before = guest.host->counters().doorbells.load();
  const std::vector<std::byte> payload(32, std::byte{1});
  const iovec segment{const_cast<std::byte*>(payload.data()), payload.size()};
  const std::vector<SendItem> burst(32, SendItem{.payload = std::span(&segment, 1)});
  ASSERT_EQ(channel.send_burst(burst).sent, 32u);
  EXPECT_EQ(channel.stats().signals_sent, 1u);
  // The host has not read anything: the ring was not empty, no doorbell.
  ASSERT_EQ(channel.send_burst(std::span(burst).first(8)).sent, 8u);
  EXPECT_EQ(channel.stats().signals_sent, 1u);
  EXPECT_EQ(channel.stats().signals_avoided, 1u);
  EXPECT_EQ(channel.stats().packets_sent, 40u);
  guest.host->run([] {});
  EXPECT_EQ(guest.host->counters().doorbells.load(), doorbells_before + 1);
}

TEST_P(ChannelTest, CompletionsWithUnknownDuplicateOrStaleIdsAreDropped) {
  Channel& channel = open();
  guest.host->set_mode(kEchoRelid, ChannelMode::hold);
  // The first request takes slot 0, generation 1.
  ASSERT_EQ(send_one(channel, payload_for(1, 8), SendKind::request, 5).sent, 1u);
  const uint64_t first = transaction_id(1, 0);
  ASSERT_EQ(guest.host->inject(kEchoRelid, completion_packet(first)), ring::WriteStatus::ok);
  std::vector<CollectedPacket> received = receive(channel, 1);
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].cookie, 5u);

  ASSERT_EQ(guest.host->inject(kEchoRelid, completion_packet(first)), ring::WriteStatus::ok);
  ASSERT_EQ(guest.host->inject(kEchoRelid, completion_packet(0x7777777)), ring::WriteStatus::ok);
  ASSERT_EQ(guest.host->inject(kEchoRelid, completion_packet(0)), ring::WriteStatus::ok);
  // Slot 0 again, generation 2.
  ASSERT_EQ(send_one(channel, payload_for(2, 8), SendKind::request, 6).sent, 1u);
  ASSERT_EQ(guest.host->inject(kEchoRelid, completion_packet(transaction_id(2, 0))), ring::WriteStatus::ok);
  received = receive(channel, 1);
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].cookie, 6u);
  // Generation 3 in flight: the first id is now two generations old.
  ASSERT_EQ(send_one(channel, payload_for(3, 8), SendKind::request, 7).sent, 1u);
  ASSERT_EQ(guest.host->inject(kEchoRelid, completion_packet(first)), ring::WriteStatus::ok);
  ASSERT_EQ(guest.host->inject(kEchoRelid, completion_packet(transaction_id(3, 0))), ring::WriteStatus::ok);
  received = receive(channel, 1);
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].cookie, 7u);
  EXPECT_EQ(drops(channel, DropCause::completion_duplicate), 1u);
  EXPECT_EQ(drops(channel, DropCause::completion_unknown), 2u);
  EXPECT_EQ(drops(channel, DropCause::completion_stale), 1u);
  EXPECT_EQ(channel.transactions_in_flight(), 0u);
}

TEST_P(ChannelTest, TheTransactionTableBoundsRequestsInFlight) {
  Channel& channel = open();
  guest.host->set_mode(kEchoRelid, ChannelMode::hold);
  for (uint64_t i = 0; i < 64; ++i) {
    ASSERT_EQ(send_one(channel, {}, SendKind::request, i).sent, 1u) << i;
  }
  const SendResult result = send_one(channel, {}, SendKind::request, 64);
  EXPECT_EQ(result.sent, 0u);
  EXPECT_EQ(result.status, SendStatus::no_transaction);
}

TEST_P(ChannelTest, GpaDirectPacketsCarryPfnsTheHostResolvesInRegisteredMemory) {
  Channel& channel = open();
  Expected<GuestPages, MemoryError> pages = guest.memory.allocate_pages(4);
  ASSERT_TRUE(pages);
  for (std::size_t i = 0; i < pages->size(); ++i) {
    pages->data()[i] = static_cast<std::byte>(i * 7 + 3);
  }
  // One range across three pages at an odd offset, one inside a page.
  const std::array buffers = {GuestBuffer{pages->data() + 100, 2 * 4096 + 50},
                              GuestBuffer{pages->data() + 3 * 4096 + 8, 64}};
  const uint32_t header = 0xabcd;
  const iovec segment{const_cast<uint32_t*>(&header), sizeof(header)};
  const SendItem item{.kind = SendKind::gpa_direct,
                      .payload = std::span(&segment, 1),
                      .cookie = 42,
                      .buffers = buffers};
  ASSERT_EQ(channel.send_burst(std::span(&item, 1)).sent, 1u);
  const std::vector<CollectedPacket> received = receive(channel, 1);
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].cookie, 42u);
  const auto reply = wire::load<GpaDirectReply>(received[0].payload);
  EXPECT_EQ(reply.ranges_read, 2u);
  EXPECT_EQ(reply.bytes_read, buffers[0].bytes + buffers[1].bytes);
  uint64_t expected = checksum_bytes({pages->data() + 100, buffers[0].bytes});
  expected = checksum_bytes({pages->data() + 3 * 4096 + 8, 64}, expected);
  EXPECT_EQ(reply.checksum, expected);
}

TEST_P(ChannelTest, GpaDirectBuffersMustBeGuestMemory) {
  Channel& channel = open();
  std::array<std::byte, 64> stack_buffer{};
  Expected<GuestPages, MemoryError> pages = guest.memory.allocate_pages(1);
  ASSERT_TRUE(pages);
  std::vector<GuestBuffer> too_many(kMaxGpaDirectRanges + 1, GuestBuffer{pages->data(), 8});
  const std::vector<std::vector<GuestBuffer>> bad = {
      {GuestBuffer{stack_buffer.data(), 64}},
      {GuestBuffer{pages->data(), 0}},
      {},
      too_many,
  };
  for (const auto& buffers : bad) {
    const SendItem item{.kind = SendKind::gpa_direct, .buffers = buffers};
    const SendResult result = channel.send_burst(std::span(&item, 1));
    EXPECT_EQ(result.sent, 0u);
    EXPECT_EQ(result.status, SendStatus::bad_buffer);
  }
  EXPECT_EQ(channel.transactions_in_flight(), 0u);
}

TEST_P(ChannelTest, AFullRingPushesBackUntilTheHostFreesSpace) {
  Channel& channel = open();
  guest.host->set_mode(kEchoRelid, ChannelMode::hold);
  const std::vector<std::byte> payload(512, std::byte{9});
  std::size_t sent = 0;
  SendResult result;
  while ((result = send_one(channel, payload)).sent == 1) {
    ++sent;
  }
  EXPECT_EQ(result.status, SendStatus::ring_full);
  EXPECT_GT(sent, 20u);  // a 16 KiB ring of 552-byte packets
  EXPECT_EQ(channel.stats().ring_full, 1u);
  channel.acknowledge_interrupts();
  EXPECT_EQ(channel.request_space_signal(payload.size()), ring::PendingSend::armed);
  guest.host->set_mode(kEchoRelid, ChannelMode::sink);
  ASSERT_TRUE(wait_readable(channel.wake_fd(), milliseconds(2000)));
  EXPECT_EQ(send_one(channel, payload).sent, 1u);
}

TEST_P(ChannelTest, PacketsThatCanNeverFitAreTooLarge) {
  Channel& channel = open();
  const std::vector<std::byte> payload(16 * 4096, std::byte{0});
  EXPECT_EQ(send_one(channel, payload).status, SendStatus::too_large);
  EXPECT_EQ(send_one(channel, payload, SendKind::request).status, SendStatus::too_large);
  EXPECT_EQ(channel.transactions_in_flight(), 0u);
}

// A transfer-page packet: header, ranges, then `payload`.
std::vector<std::byte> transfer_page_ext(uint16_t set, uint32_t count,
                                         const std::vector<wire::TransferPageRange>& ranges) {
  std::vector<std::byte> ext(sizeof(wire::TransferPageHeader) + ranges.size() * 8);
  wire::store(std::span(ext), 0,
              wire::TransferPageHeader{.pageset_id = set, .sender_owns_set = 0, .reserved = 0,
                                       .range_count = count});
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    wire::store(std::span(ext), 8 + 8 * i, ranges[i]);
  }
  return ext;
}

ring::OutPacket transfer_page_packet(std::span<const std::byte> ext, uint64_t trans_id) {
  return ring::OutPacket{.type = wire::PacketType::data_using_xfer_pages,
                         .flags = wire::kPacketFlagCompletionRequested,
                         .trans_id = trans_id,
                         .header_ext = ext};
}

TEST_P(ChannelTest, TransferPageRangesAreCheckedAgainstTheRegisteredSet) {
  Channel& channel = open();
  ASSERT_TRUE(channel.add_transfer_page_set({.id = 0xCAFE, .bytes = 65536}));
  EXPECT_FALSE(channel.add_transfer_page_set({.id = 0xCAFE, .bytes = 1}));
  const auto good = transfer_page_ext(0xCAFE, 2, {{100, 0}, {1500, 65536 - 1500}});
  const auto unknown_set = transfer_page_ext(0xBEEF, 1, {{100, 0}});
  const auto past_the_end = transfer_page_ext(0xCAFE, 1, {{100, 65500}});
  const auto empty_range = transfer_page_ext(0xCAFE, 1, {{0, 0}});
  const auto count_too_big = transfer_page_ext(0xCAFE, 5, {{100, 0}, {100, 100}});
  const auto no_ranges = transfer_page_ext(0xCAFE, 0, {});
  for (const auto* ext : {&unknown_set, &past_the_end, &empty_range, &count_too_big, &no_ranges, &good}) {
    ASSERT_EQ(guest.host->inject(kEchoRelid, transfer_page_packet(*ext, 900)), ring::WriteStatus::ok);
  }
  const std::vector<CollectedPacket> received = receive(channel, 1);
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].kind, PacketKind::transfer_pages);
  EXPECT_TRUE(received[0].completion_requested);
  EXPECT_EQ(received[0].trans_id, 900u);
  EXPECT_EQ(received[0].transfer_page_set, 0xCAFE);
  ASSERT_EQ(received[0].transfer_ranges.size(), 2u);
  EXPECT_EQ(received[0].transfer_ranges[1].byte_count, 1500u);
  EXPECT_EQ(drops(channel, DropCause::transfer_page_unknown_set), 1u);
  EXPECT_EQ(drops(channel, DropCause::transfer_page_out_of_range), 2u);
  EXPECT_EQ(drops(channel, DropCause::transfer_page_malformed), 2u);
  // The guest returns the buffer with a completion echoing the host's id.
  const SendItem completion{.kind = SendKind::completion, .trans_id = received[0].trans_id};
  ASSERT_EQ(channel.send_burst(std::span(&completion, 1)).sent, 1u);
  guest.host->run([] {});
  for (int i = 0; i < 100 && guest.host->counters().completions.load() == 0; ++i) {
    guest.host->run([] {});
  }
  EXPECT_EQ(guest.host->counters().completions.load(), 1u);
}

// A GPA-direct header with one range of `bytes` at `offset` over `pfns`.
std::vector<std::byte> gpa_ext(uint32_t count, uint32_t bytes, uint32_t offset,
                               const std::vector<uint64_t>& pfns) {
  std::vector<std::byte> ext(8 + 8 + 8 * pfns.size());
  wire::store(std::span(ext), 0, wire::GpaDirectHeader{.reserved = 0, .range_count = count});
  wire::store(std::span(ext), 8, wire::GpaRange{.byte_count = bytes, .byte_offset = offset});
  for (std::size_t i = 0; i < pfns.size(); ++i) {
    wire::store(std::span(ext), 16 + 8 * i, pfns[i]);
  }
  return ext;
}

TEST_P(ChannelTest, GpaDirectRangesFromTheHostAreCheckedAgainstGuestMemory) {
  Channel& channel = open();
  const uint64_t pfn = guest.memory.region(0).base_pfn();
  const auto good = gpa_ext(1, 5000, 10, {pfn, pfn + 1});
  const auto outside = gpa_ext(1, 100, 0, {pfn - 1});
  const auto no_ranges = gpa_ext(0, 100, 0, {pfn});
  const auto bad_offset = gpa_ext(1, 100, 4096, {pfn});
  const auto empty = gpa_ext(1, 0, 0, {pfn});
  const auto missing_pfn = gpa_ext(1, 5000, 0, {pfn});
  const auto too_many_ranges = gpa_ext(3, 100, 0, {pfn});
  for (const auto* ext : {&outside, &no_ranges, &bad_offset, &empty, &missing_pfn, &too_many_ranges, &good}) {
    ASSERT_EQ(guest.host->inject(kEchoRelid, ring::OutPacket{.type = wire::PacketType::data_using_gpa_direct,
                                                             .header_ext = *ext}),
              ring::WriteStatus::ok);
  }
  const std::vector<CollectedPacket> received = receive(channel, 1);
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].kind, PacketKind::gpa_direct);
  EXPECT_EQ(received[0].gpa_range_count, 1u);
  EXPECT_EQ(drops(channel, DropCause::gpa_direct_outside_memory), 1u);
  EXPECT_EQ(drops(channel, DropCause::gpa_direct_malformed), 5u);
}

TEST_P(ChannelTest, RescindMidStreamAbortsPendingTransactionsAndEndsTheChannel) {
  Channel& channel = open();
  guest.host->set_mode(kEchoRelid, ChannelMode::hold);
  for (uint64_t cookie = 0; cookie < 10; ++cookie) {
    ASSERT_EQ(send_one(channel, payload_for(cookie, 16), SendKind::request, cookie).sent, 1u);
  }
  guest.host->rescind(kEchoRelid);
  for (int i = 0; i < 100 && !channel.ended(); ++i) {
    guest.connection->pump(milliseconds(10));
  }
  ASSERT_EQ(channel.end_reason(), ChannelEnd::rescinded);
  EXPECT_EQ(send_one(channel, payload_for(0, 16)).status, SendStatus::channel_ended);
  EXPECT_FALSE(channel.try_enter_interrupt_mode());  // aborted completions to hand out
  const std::vector<CollectedPacket> received = receive(channel, 10, milliseconds(500));
  ASSERT_EQ(received.size(), 10u);
  std::vector<uint64_t> cookies;
  for (const CollectedPacket& packet : received) {
    EXPECT_EQ(packet.kind, PacketKind::completion);
    EXPECT_EQ(packet.status, CompletionStatus::aborted);
    cookies.push_back(packet.cookie);
  }
  std::sort(cookies.begin(), cookies.end());
  std::vector<uint64_t> expected(10);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(cookies, expected);
  std::array<ReceivedPacket, 4> more;
  EXPECT_EQ(channel.receive_burst(more), 0u);
  EXPECT_TRUE(channel.try_enter_interrupt_mode());
  EXPECT_EQ(channel.stats().transactions_aborted, 10u);
}

TEST_P(ChannelTest, HostDeathMidStreamAbortsPendingTransactions) {
  Channel& channel = open();
  guest.host->set_mode(kEchoRelid, ChannelMode::hold);
  for (uint64_t cookie = 0; cookie < 5; ++cookie) {
    ASSERT_EQ(send_one(channel, payload_for(cookie, 16), SendKind::request, cookie).sent, 1u);
  }
  guest.host->die();
  for (int i = 0; i < 100 && !channel.ended(); ++i) {
    guest.connection->pump(milliseconds(10));
  }
  ASSERT_EQ(channel.end_reason(), ChannelEnd::host_gone);
  const std::vector<CollectedPacket> received = receive(channel, 5, milliseconds(500));
  ASSERT_EQ(received.size(), 5u);
  for (const CollectedPacket& packet : received) {
    EXPECT_EQ(packet.status, CompletionStatus::aborted);
  }
  EXPECT_EQ(send_one(channel, payload_for(0, 16), SendKind::request).status, SendStatus::channel_ended);
}

TEST_P(ChannelTest, AHostThatCorruptsTheRingEndsTheChannel) {
  Channel& channel = open();
  guest.host->set_mode(kEchoRelid, ChannelMode::hold);
  ASSERT_EQ(send_one(channel, {}, SendKind::request, 3).sent, 1u);
  // The host publishes a misaligned write index on the inbound ring.
  wire::RingHeader* header = guest.host->inbound_ring_header(kEchoRelid);
  ASSERT_NE(header, nullptr);
  std::atomic_ref<uint32_t>(header->write_index).store(13);
  const std::vector<CollectedPacket> received = receive(channel, 1, milliseconds(500));
  EXPECT_EQ(channel.end_reason(), ChannelEnd::ring_corrupt);
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].status, CompletionStatus::aborted);
  EXPECT_EQ(received[0].cookie, 3u);
}

}  // namespace
}  // namespace uvmbus::channel::test
