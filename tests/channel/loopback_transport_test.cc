// The loopback transport: control queues and their readiness fds, EOF in
// both directions, doorbells, and the host end's view of registered memory.
#include <gtest/gtest.h>
#include <poll.h>

#include <array>
#include <cstring>
#include <vector>

#include "uvmbus/channel/guest_memory.h"
#include "uvmbus/channel/loopback_transport.h"
#include "uvmbus/channel/mapped_guest_memory.h"

namespace uvmbus::channel {
namespace {

bool readable(int fd) {
  pollfd ready{.fd = fd, .events = POLLIN, .revents = 0};
  return poll(&ready, 1, 0) == 1;
}

std::vector<std::byte> message(std::size_t size, uint8_t fill) {
  return std::vector<std::byte>(size, std::byte{fill});
}

class Loopback : public ::testing::Test {
 protected:
  void SetUp() override {
    Expected<LoopbackPair, int> made = make_loopback_pair();
    ASSERT_TRUE(made);
    pair = std::move(*made);
  }

  LoopbackPair pair;
  std::array<std::byte, kLoopbackMaxHostMessage> buffer{};
};

TEST_F(Loopback, MessagesArriveInOrderAndTheFdIsReadableExactlyWhileQueued) {
  EXPECT_FALSE(readable(pair.host->control_fd()));
  ASSERT_EQ(pair.guest->send_control(message(8, 1)), TransportStatus::ok);
  ASSERT_EQ(pair.guest->send_control(message(240, 2)), TransportStatus::ok);
  EXPECT_TRUE(readable(pair.host->control_fd()));
  ControlReceive received = pair.host->receive_control(buffer);
  ASSERT_EQ(received.status, TransportStatus::ok);
  EXPECT_EQ(received.size, 8u);
  EXPECT_EQ(buffer[0], std::byte{1});
  EXPECT_TRUE(readable(pair.host->control_fd()));
  received = pair.host->receive_control(buffer);
  ASSERT_EQ(received.status, TransportStatus::ok);
  EXPECT_EQ(received.size, 240u);
  EXPECT_FALSE(readable(pair.host->control_fd()));
  EXPECT_EQ(pair.host->receive_control(buffer).status, TransportStatus::empty);
}

TEST_F(Loopback, TheGuestSendsOnlyWholeChannelMessages) {
  EXPECT_EQ(pair.guest->send_control(message(241, 0)), TransportStatus::invalid);
  EXPECT_EQ(pair.guest->send_control({}), TransportStatus::invalid);
  EXPECT_EQ(pair.host->receive_control(buffer).status, TransportStatus::empty);
}

TEST_F(Loopback, OversizedHostMessagesAreDroppedWithAStatus) {
  ASSERT_EQ(pair.host->send_control(message(241, 3)), TransportStatus::ok);
  ASSERT_EQ(pair.host->send_control(message(16, 4)), TransportStatus::ok);
  EXPECT_EQ(pair.guest->receive_control(buffer).status, TransportStatus::oversized);
  const ControlReceive received = pair.guest->receive_control(buffer);
  ASSERT_EQ(received.status, TransportStatus::ok);
  EXPECT_EQ(received.size, 16u);
}

TEST_F(Loopback, AFullQueueIsBusy) {
  for (std::size_t i = 0; i < kLoopbackQueueDepth; ++i) {
    ASSERT_EQ(pair.guest->send_control(message(8, 0)), TransportStatus::ok);
  }
  EXPECT_EQ(pair.guest->send_control(message(8, 0)), TransportStatus::busy);
}

TEST_F(Loopback, HostCloseIsEofAfterTheQueuedMessages) {
  ASSERT_EQ(pair.host->send_control(message(8, 5)), TransportStatus::ok);
  pair.host->close();
  EXPECT_TRUE(readable(pair.guest->control_fd()));
  EXPECT_EQ(pair.guest->receive_control(buffer).status, TransportStatus::ok);
  EXPECT_TRUE(readable(pair.guest->control_fd()));
  EXPECT_EQ(pair.guest->receive_control(buffer).status, TransportStatus::closed);
  EXPECT_EQ(pair.guest->receive_control(buffer).status, TransportStatus::closed);
  EXPECT_EQ(pair.guest->send_control(message(8, 0)), TransportStatus::closed);
}

TEST_F(Loopback, DestroyingTheGuestIsEofForTheHost) {
  pair.guest.reset();
  EXPECT_TRUE(readable(pair.host->control_fd()));
  EXPECT_EQ(pair.host->receive_control(buffer).status, TransportStatus::closed);
  EXPECT_EQ(pair.host->send_control(message(8, 0)), TransportStatus::closed);
}

TEST_F(Loopback, DoorbellsConnectTheTwoEndsOfAChannel) {
  Offer offer;
  offer.relid = 12;
  EXPECT_EQ(pair.host->channel_link(12), nullptr);
  Expected<std::unique_ptr<ChannelLink>, TransportStatus> link = pair.guest->attach_channel(offer);
  ASSERT_TRUE(link);
  EXPECT_EQ(pair.guest->attach_channel(offer).error(), TransportStatus::invalid);
  std::shared_ptr<HostChannelLink> host_link = pair.host->channel_link(12);
  ASSERT_NE(host_link, nullptr);

  (*link)->signal_host();
  EXPECT_TRUE(readable(host_link->doorbell_fd()));
  host_link->acknowledge_doorbell();
  EXPECT_FALSE(readable(host_link->doorbell_fd()));

  host_link->signal_guest();
  EXPECT_TRUE(readable((*link)->interrupt_fd()));
  (*link)->acknowledge_interrupts();
  EXPECT_FALSE(readable((*link)->interrupt_fd()));
  (*link)->wake_poller();
  EXPECT_TRUE(readable((*link)->interrupt_fd()));

  // Detaching removes the relid; a host still holding the link keeps working.
  link->reset();
  EXPECT_EQ(pair.host->channel_link(12), nullptr);
  host_link->signal_guest();
  EXPECT_TRUE(pair.guest->attach_channel(offer));
}

TEST_F(Loopback, RegisteredMemoryIsMappedForTheHostWithTheSameContents) {
  GuestMemory memory;
  const Expected<const GuestMemoryRegion*, MemoryError> region = memory.add_region(1 << 20);
  ASSERT_TRUE(region);
  ASSERT_EQ(pair.guest->register_memory(**region), TransportStatus::ok);
  const MappedGuestMemory& host_view = pair.host->guest_memory();
  ASSERT_EQ(host_view.region_count(), 1u);
  const uint64_t pfn = (*region)->base_pfn() + 3;
  std::byte* host_page = host_view.page_address(pfn);
  ASSERT_NE(host_page, nullptr);
  EXPECT_NE(host_page, memory.page_address(pfn));  // a second mapping
  std::memcpy(memory.page_address(pfn), "guest", 5);
  EXPECT_EQ(std::memcmp(host_page, "guest", 5), 0);
  EXPECT_EQ(host_view.page_address((*region)->base_pfn() + (*region)->page_count()), nullptr);
  EXPECT_EQ(host_view.page_address((*region)->base_pfn() - 1), nullptr);
  // Registering the same range twice overlaps.
  EXPECT_EQ(pair.guest->register_memory(**region), TransportStatus::invalid);
}

}  // namespace
}  // namespace uvmbus::channel
