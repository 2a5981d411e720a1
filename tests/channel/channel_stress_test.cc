// Channel stress: worker threads stream requests through small rings to the
// scripted echo host and check every completion, using back-pressure on full
// rings and sleeping on the interrupt fd (unmask, re-check, sleep) whenever
// idle. A wake-up that never comes shows up as a timed-out sleep. Meant to
// run under ThreadSanitizer too.
#include <gtest/gtest.h>
#include <poll.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <numeric>
#include <random>
#include <thread>
#include <vector>

#include "loopback_fixture.h"
#include "uvmbus/wire/bytes.h"

namespace uvmbus::channel::test {
namespace {

using std::chrono::milliseconds;

constexpr uint64_t kRequestsPerChannel = 200000;
constexpr uint32_t kWindow = 48;  // below the 64 transactions small_rings() allows
constexpr std::size_t kMaxPayload = 700;
constexpr int kIdleSpins = 64;
constexpr milliseconds kSleepBound(3000);

std::size_t payload_size(uint64_t cookie) {
  return 8 + (cookie * 2654435761u) % (kMaxPayload - 8);
}

void fill_payload(uint64_t cookie, std::span<std::byte> out) {
  wire::store(out, 0, cookie);
  for (std::size_t i = 8; i < out.size(); ++i) {
    out[i] = static_cast<std::byte>(cookie + i);
  }
}

bool payload_matches(uint64_t cookie, std::span<const std::byte> payload) {
  const std::size_t size = payload_size(cookie);
  if (payload.size() < size || wire::load<uint64_t>(payload) != cookie) {
    return false;
  }
  for (std::size_t i = 8; i < size; ++i) {
    if (payload[i] != static_cast<std::byte>(cookie + i)) {
      return false;
    }
  }
  return true;
}

struct WorkerResult {
  uint64_t completed = 0;
  uint64_t bad_completions = 0;
  uint64_t sleeps = 0;
  uint64_t sleeps_timed_out = 0;
  uint64_t ring_full = 0;
};

// Sleeps on the channel's interrupt fd; false if nothing woke it in time.
bool sleep_on(Channel& channel) {
  pollfd ready{.fd = channel.wake_fd(), .events = POLLIN, .revents = 0};
  const bool woken = poll(&ready, 1, static_cast<int>(kSleepBound.count())) == 1;
  channel.acknowledge_interrupts();
  return woken;
}

WorkerResult drive(Channel& channel, uint64_t seed) {
  WorkerResult result;
  std::mt19937_64 random(seed);
  std::vector<std::array<std::byte, kMaxPayload>> buffers(kWindow);
  std::array<iovec, 16> segments{};
  std::array<SendItem, 16> items{};
  std::array<ReceivedPacket, 32> received{};
  uint64_t next_cookie = 0;
  uint32_t in_flight = 0;
  int idle = 0;
  while (result.completed < kRequestsPerChannel) {
    const uint64_t want = std::min<uint64_t>({1 + random() % items.size(), kWindow - in_flight,
                                              kRequestsPerChannel - next_cookie});
    SendResult sent;
    if (want != 0) {
      for (uint64_t i = 0; i < want; ++i) {
        const uint64_t cookie = next_cookie + i;
        std::span<std::byte> buffer(buffers[cookie % kWindow].data(), payload_size(cookie));
        fill_payload(cookie, buffer);
        segments[i] = {buffer.data(), buffer.size()};
        items[i] = SendItem{.kind = SendKind::request, .payload = std::span(&segments[i], 1), .cookie = cookie};
      }
      sent = channel.send_burst(std::span(items).first(want));
      next_cookie += sent.sent;
      in_flight += static_cast<uint32_t>(sent.sent);
    }
    const std::size_t count = channel.receive_burst(received);
    for (const ReceivedPacket& packet : std::span(received).first(count)) {
      const bool good = packet.kind == PacketKind::completion && packet.status == CompletionStatus::ok &&
                        payload_matches(packet.cookie, packet.payload);
      result.bad_completions += good ? 0 : 1;
      ++result.completed;
      --in_flight;
    }
    channel.release_received();
    if (sent.status == SendStatus::ring_full && sent.sent == 0) {
      ++result.ring_full;
      if (count == 0 && channel.request_space_signal(kMaxPayload) == ring::PendingSend::armed) {
        ++result.sleeps;
        result.sleeps_timed_out += sleep_on(channel) ? 0 : 1;
      }
      continue;
    }
    if (count != 0 || sent.sent != 0) {
      idle = 0;
      continue;
    }
    if (++idle < kIdleSpins) {
      continue;
    }
    idle = 0;
    if (channel.try_enter_interrupt_mode()) {
      ++result.sleeps;
      result.sleeps_timed_out += sleep_on(channel) ? 0 : 1;
    }
    channel.exit_interrupt_mode();
  }
  return result;
}

class ChannelStress : public ::testing::TestWithParam<HostTrust> {};

INSTANTIATE_TEST_SUITE_P(BothTrustModes, ChannelStress,
                         ::testing::Values(HostTrust::untrusted, HostTrust::trusted),
                         [](const auto& info) {
                           return info.param == HostTrust::trusted ? "InPlace" : "CopyOut";
                         });

TEST_P(ChannelStress, TwoWorkersStreamRequestsWithoutLosingAWakeUp) {
  LoopbackGuest guest;
  Channel& echo = guest.open(kEchoRelid, small_rings(GetParam()));
  Channel& other = guest.open(kOtherRelid, small_rings(GetParam()));
  std::atomic<int> running{2};
  WorkerResult results[2];
  std::thread first([&] {
    results[0] = drive(echo, 1);
    --running;
  });
  std::thread second([&] {
    results[1] = drive(other, 2);
    --running;
  });
  // The control plane keeps serving messages meanwhile.
  while (running.load() != 0) {
    guest.connection->pump(milliseconds(10));
  }
  first.join();
  second.join();
  for (const WorkerResult& result : results) {
    EXPECT_EQ(result.completed, kRequestsPerChannel);
    EXPECT_EQ(result.bad_completions, 0u);
    EXPECT_EQ(result.sleeps_timed_out, 0u);
  }
  for (Channel* channel : {&echo, &other}) {
    const ChannelStats stats = channel->stats();
    EXPECT_EQ(stats.packets_sent, kRequestsPerChannel);
    EXPECT_EQ(stats.packets_received, kRequestsPerChannel);
    EXPECT_EQ(channel->transactions_in_flight(), 0u);
    const uint64_t dropped = std::accumulate(stats.drops.begin(), stats.drops.end(), uint64_t{0});
    EXPECT_EQ(dropped, 0u);
    // Batching: far fewer doorbells than packets.
    EXPECT_LT(stats.signals_sent, stats.packets_sent);
  }
  std::printf("sleeps %llu/%llu, ring full %llu/%llu, signals %llu/%llu\n",
              static_cast<unsigned long long>(results[0].sleeps),
              static_cast<unsigned long long>(results[1].sleeps),
              static_cast<unsigned long long>(results[0].ring_full),
              static_cast<unsigned long long>(results[1].ring_full),
              static_cast<unsigned long long>(echo.stats().signals_sent),
              static_cast<unsigned long long>(other.stats().signals_sent));
}

TEST(ChannelStressEnd, RescindWhileAWorkerStreamsEndsItWithEveryTransactionAccountedFor) {
  LoopbackGuest guest;
  Channel& channel = guest.open(kEchoRelid, small_rings());
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> sent_total{0};
  std::atomic<uint64_t> completed_total{0};
  std::thread worker([&] {
    std::array<std::byte, 64> payload{};
    const iovec segment{payload.data(), payload.size()};
    std::array<ReceivedPacket, 32> received{};
    uint64_t cookie = 0;
    while (!stop.load()) {
      const SendItem item{.kind = SendKind::request, .payload = std::span(&segment, 1), .cookie = cookie};
      const SendResult sent = channel.send_burst(std::span(&item, 1));
      cookie += sent.sent;
      sent_total.fetch_add(sent.sent);
      const std::size_t count = channel.receive_burst(received);
      completed_total.fetch_add(count);
      channel.release_received();
      if (channel.ended() && count == 0 && channel.transactions_in_flight() == 0) {
        break;
      }
      if (count == 0 && sent.sent == 0 && !channel.ended()) {
        pollfd ready{.fd = channel.wake_fd(), .events = POLLIN, .revents = 0};
        if (channel.try_enter_interrupt_mode()) {
          poll(&ready, 1, 100);
          channel.acknowledge_interrupts();
        }
        channel.exit_interrupt_mode();
      }
    }
  });
  std::this_thread::sleep_for(milliseconds(50));
  guest.host->rescind(kEchoRelid);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!channel.ended() && std::chrono::steady_clock::now() < deadline) {
    guest.connection->pump(milliseconds(10));
  }
  ASSERT_TRUE(channel.ended());
  // The worker finishes by itself: every transaction completes or aborts.
  worker.join();
  stop.store(true);
  EXPECT_EQ(completed_total.load(), sent_total.load());
  EXPECT_GT(sent_total.load(), 0u);
}

}  // namespace
}  // namespace uvmbus::channel::test
