// TransactionTable: ids, capacity, and the classification of completions
// (matched, duplicate, stale, unknown), including a random walk against a
// simple model.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <vector>

#include "uvmbus/channel/transaction_table.h"

namespace uvmbus::channel {
namespace {

using Match = TransactionTable::Match;

TEST(TransactionTable, IdsAreNonZeroAndUniqueWhileInFlight) {
  TransactionTable table(8);
  std::set<uint64_t> ids;
  for (uint64_t cookie = 0; cookie < 8; ++cookie) {
    const std::optional<uint64_t> id = table.allocate(cookie);
    ASSERT_TRUE(id);
    EXPECT_NE(*id, 0u);
    EXPECT_TRUE(ids.insert(*id).second);
  }
  EXPECT_EQ(table.in_flight(), 8u);
  EXPECT_FALSE(table.allocate(99));
}

TEST(TransactionTable, ACompletionReturnsTheCookieOnceAndFreesTheSlot) {
  TransactionTable table(1);
  const uint64_t id = *table.allocate(1234);
  const TransactionTable::Completion completion = table.complete(id);
  EXPECT_EQ(completion.match, Match::matched);
  EXPECT_EQ(completion.cookie, 1234u);
  EXPECT_EQ(table.in_flight(), 0u);
  EXPECT_EQ(table.complete(id).match, Match::duplicate);
  EXPECT_EQ(table.in_flight(), 0u);
}

TEST(TransactionTable, AReusedSlotTellsLateIdsFromTheLiveOne) {
  TransactionTable table(1);
  const uint64_t first = *table.allocate(1);
  ASSERT_EQ(table.complete(first).match, Match::matched);
  const uint64_t second = *table.allocate(2);
  ASSERT_EQ(table.complete(second).match, Match::matched);
  const uint64_t third = *table.allocate(3);
  EXPECT_NE(first, third);
  // `second` completed just before this transaction: a duplicate.
  EXPECT_EQ(table.complete(second).match, Match::duplicate);
  // `first` is two generations old: stale, and the live one is untouched.
  EXPECT_EQ(table.complete(first).match, Match::stale);
  EXPECT_EQ(table.in_flight(), 1u);
  EXPECT_EQ(table.complete(third).cookie, 3u);
}

TEST(TransactionTable, IdsNeverIssuedAreUnknown) {
  TransactionTable table(4);
  const uint64_t id = *table.allocate(1);
  EXPECT_EQ(table.complete(0).match, Match::unknown);
  EXPECT_EQ(table.complete(5).match, Match::unknown);                 // slot beyond capacity
  EXPECT_EQ(table.complete(id + (uint64_t{1} << 16)).match, Match::unknown);  // a future generation
  EXPECT_EQ(table.complete(~uint64_t{0}).match, Match::unknown);
  EXPECT_EQ(table.complete(uint64_t{1} << 16 | 2).match, Match::unknown);  // free slot, never used
  EXPECT_EQ(table.in_flight(), 1u);
  EXPECT_EQ(table.complete(id).match, Match::matched);
}

TEST(TransactionTable, TakeAnyEmptiesTheTable) {
  TransactionTable table(16);
  std::multiset<uint64_t> cookies;
  for (uint64_t cookie = 100; cookie < 110; ++cookie) {
    ASSERT_TRUE(table.allocate(cookie));
    cookies.insert(cookie);
  }
  std::multiset<uint64_t> taken;
  while (const std::optional<uint64_t> cookie = table.take_any()) {
    taken.insert(*cookie);
  }
  EXPECT_EQ(taken, cookies);
  EXPECT_EQ(table.in_flight(), 0u);
}

TEST(TransactionTable, CapacityIsClampedToTheIdSpace) {
  EXPECT_EQ(TransactionTable(0).capacity(), 1u);
  EXPECT_EQ(TransactionTable(1u << 20).capacity(), TransactionTable::kMaxCapacity);
}

TEST(TransactionTable, RandomWalkAgreesWithAModel) {
  TransactionTable table(32);
  std::mt19937_64 random(7);
  std::map<uint64_t, uint64_t> live;  // id -> cookie
  std::vector<uint64_t> done;         // recently completed ids
  for (int step = 0; step < 200000; ++step) {
    const unsigned action = random() % 3;
    if (action == 0) {
      const uint64_t cookie = random();
      const std::optional<uint64_t> id = table.allocate(cookie);
      ASSERT_EQ(id.has_value(), live.size() < 32);
      if (id) {
        ASSERT_FALSE(live.contains(*id));
        live[*id] = cookie;
      }
    } else if (action == 1 && !live.empty()) {
      auto it = live.begin();
      std::advance(it, random() % live.size());
      const TransactionTable::Completion completion = table.complete(it->first);
      ASSERT_EQ(completion.match, Match::matched);
      ASSERT_EQ(completion.cookie, it->second);
      if (done.size() == 256) {
        done.erase(done.begin());
      }
      done.push_back(it->first);
      live.erase(it);
    } else if (!done.empty()) {
      ASSERT_NE(table.complete(done[random() % done.size()]).match, Match::matched);
    }
    ASSERT_EQ(table.in_flight(), live.size());
  }
}

}  // namespace
}  // namespace uvmbus::channel
