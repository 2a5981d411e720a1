// The guest-side checks of the built-in devices (see builtin_device_checks.h).
#include "builtin_device_checks.h"

#include <gtest/gtest.h>
#include <sys/uio.h>

#include <algorithm>
#include <cstring>
#include <thread>

#include "loopback_fixture.h"
#include "uvmbus/host/builtin_devices.h"
#include "uvmbus/wire/bytes.h"

namespace uvmbus::host::test {

using channel::test::receive;
using channel::test::send_one;
using namespace std::chrono_literals;

std::vector<std::byte> text(std::string_view s) {
  std::vector<std::byte> bytes(s.size());
  std::memcpy(bytes.data(), s.data(), s.size());
  return bytes;
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

bool echoes(channel::Channel& channel, std::string_view message) {
  const std::vector<std::byte> payload = text(message);
  if (send_one(channel, payload, channel::SendKind::request, 77).sent != 1) {
    return false;
  }
  const auto got = receive(channel, 1, 3s);
  return got.size() == 1 && got[0].kind == channel::PacketKind::completion && got[0].cookie == 77 &&
         got[0].payload.size() >= payload.size() &&
         std::equal(payload.begin(), payload.end(), got[0].payload.begin());
}

std::vector<channel::Offer> request_subchannels(channel::VmbusConnection& connection,
                                                channel::Channel& channel,
                                                uint32_t primary_relid, uint32_t count) {
  const SubchannelRequest request{.magic = kSubchannelRequestMagic, .count = count};
  EXPECT_EQ(send_one(channel, std::as_bytes(std::span(&request, 1)), channel::SendKind::request).sent, 1u);
  const auto reply = receive(channel, 1);
  EXPECT_EQ(reply.size(), 1u);
  if (reply.size() == 1) {
    EXPECT_EQ(wire::load<SubchannelRequest>(reply[0].payload).count, count);
  }
  return connection.wait_for_subchannels(primary_relid, static_cast<uint16_t>(count), 5s);
}

void expect_gpa_direct_checksum(channel::Channel& channel, channel::GuestMemory& memory) {
  auto pages = memory.allocate_pages(4);
  ASSERT_TRUE(pages);
  for (std::size_t i = 0; i < pages->size(); ++i) {
    pages->data()[i] = static_cast<std::byte>(i * 7 + 3);
  }
  const channel::GuestBuffer buffer{.data = pages->data() + 100, .bytes = 9000};
  const std::vector<std::byte> header = text("gpa");
  const iovec segment{.iov_base = const_cast<std::byte*>(header.data()), .iov_len = header.size()};
  const channel::SendItem item{.kind = channel::SendKind::gpa_direct,
                               .payload = std::span(&segment, 1),
                               .cookie = 9,
                               .buffers = std::span(&buffer, 1)};
  ASSERT_EQ(channel.send_burst(std::span(&item, 1)).sent, 1u);
  const auto got = receive(channel, 1);
  ASSERT_EQ(got.size(), 1u);
  const auto reply = wire::load<GpaDirectReply>(got[0].payload);
  EXPECT_EQ(reply.ranges_read, 1u);
  EXPECT_EQ(reply.bytes_read, 9000u);
  EXPECT_EQ(reply.checksum,
            channel::test::checksum_bytes(std::span(pages->data() + 100, 9000), kFnvOffsetBasis));
}

}  // namespace uvmbus::host::test
