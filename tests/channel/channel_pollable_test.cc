// ChannelPollable: a channel driven through the runtime's Pollable contract
// (poll bursts, interrupt mode on the inbound mask, wake-up on its fd).
#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "loopback_fixture.h"
#include "uvmbus/channel/channel_pollable.h"
#include "uvmbus/wire/bytes.h"

namespace uvmbus::channel::test {
namespace {

using std::chrono::milliseconds;

TEST(ChannelPollable, DrainsTheChannelAndSleepsOnlyWhenIdle) {
  LoopbackGuest guest;
  Channel& channel = guest.open(kEchoRelid);
  std::vector<uint64_t> seen;
  auto handler = [&](Channel&, std::span<const ReceivedPacket> packets) {
    for (const ReceivedPacket& packet : packets) {
      seen.push_back(wire::load<uint64_t>(packet.payload));
    }
  };
  ChannelPollable pollable(channel, handler);
  EXPECT_EQ(pollable.wake_fd(), channel.wake_fd());
  EXPECT_EQ(pollable.poll(32), 0u);
  ASSERT_TRUE(pollable.try_enter_interrupt_mode());
  channel.acknowledge_interrupts();
  // Interrupts are unmasked: the host's next packet wakes us.
  const uint64_t value = 0x1122334455667788;
  const iovec segment{const_cast<uint64_t*>(&value), sizeof(value)};
  ASSERT_EQ(guest.host->inject(kEchoRelid, ring::OutPacket{.payload = std::span(&segment, 1)}),
            ring::WriteStatus::ok);
  ASSERT_TRUE(wait_readable(pollable.wake_fd(), milliseconds(2000)));
  pollable.exit_interrupt_mode();
  channel.acknowledge_interrupts();
  // Masked again: more packets do not interrupt, and refuse the next sleep.
  ASSERT_EQ(guest.host->inject(kEchoRelid, ring::OutPacket{.payload = std::span(&segment, 1)}),
            ring::WriteStatus::ok);
  EXPECT_FALSE(wait_readable(pollable.wake_fd(), milliseconds(50)));
  EXPECT_FALSE(pollable.try_enter_interrupt_mode());
  pollable.exit_interrupt_mode();
  EXPECT_EQ(pollable.poll(1), 1u);
  EXPECT_EQ(pollable.poll(32), 1u);
  EXPECT_EQ(seen, (std::vector<uint64_t>{value, value}));
}

}  // namespace
}  // namespace uvmbus::channel::test
