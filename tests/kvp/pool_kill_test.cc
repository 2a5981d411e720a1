// Pool store against real kill -9: a child process changes two pools as
// fast as it can and reports each acknowledged change; the parent kills it
// with SIGKILL at a random instant, hundreds of times, appending
// cloud-init-style records between runs. After every kill the files must be
// whole records showing only values that were written, every acknowledged
// change must be there, and a fresh store must show exactly the acknowledged
// state or that plus the one change in flight, in order, with nothing of the
// outside writer lost.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "pool_files.h"
#include "uvmbus/kvp/pool_store.h"

namespace uvmbus::kvp {
namespace {

using testing::Items;
using testing::list_items;
using testing::read_file;
using testing::read_items;
using testing::record_bytes;
using testing::ScratchDir;
using testing::value_of;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int kKills = 200;  // sanitizers make every fork and check several times slower
#else
constexpr int kKills = 500;
#endif
constexpr int kKeys = 24;

struct Change {
  wire::KvpPool pool;
  bool remove;
  std::string key;
  std::string value;
};

// The run's changes, the same in the child and in the parent.
class ChangeStream {
 public:
  explicit ChangeStream(uint32_t seed) : random_(seed), seed_(seed) {}
  Change next() {
    const auto pool = random_() % 2 == 0 ? wire::KvpPool::external : wire::KvpPool::guest;
    const std::string key = "key" + std::to_string(random_() % kKeys);
    if (random_() % 4 == 0) {
      return {pool, true, key, {}};
    }
    std::string value = std::to_string(seed_) + ":" + std::to_string(count_++) + ":";
    value.resize(random_() % 2047, static_cast<char>('a' + random_() % 26));
    return {pool, false, key, value};
  }

 private:
  std::mt19937 random_;
  uint32_t seed_;
  uint32_t count_ = 0;
};

void apply(Items& items, const Change& change) {
  const auto found = std::find_if(items.begin(), items.end(),
                                  [&](const auto& item) { return item.first == change.key; });
  if (change.remove) {
    if (found != items.end()) {
      items.erase(found);
    }
  } else if (found != items.end()) {
    found->second = change.value;
  } else {
    items.emplace_back(change.key, change.value);
  }
}

[[noreturn]] void run_child(const std::filesystem::path& directory, uint32_t seed, int acks) {
  StoreOptions options;
  options.directory = directory;
  auto store = std::move(PoolStore::open(options).store);
  if (!store) {
    ::_exit(2);
  }
  ChangeStream changes(seed);
  for (uint32_t index = 0;; ++index) {
    const Change change = changes.next();
    const StoreStatus status = change.remove ? store->remove(change.pool, change.key)
                                             : store->set(change.pool, change.key, change.value);
    if (status != StoreStatus::ok && status != StoreStatus::not_found) {
      ::_exit(3);
    }
    if (::write(acks, &index, sizeof(index)) != sizeof(index)) {
      ::_exit(4);
    }
  }
}

// The raw file right after the kill, as an unlocked reader sees it.
void expect_valid(const std::filesystem::path& file, const Items& acknowledged,
                  const Items& with_in_flight, const std::string& where) {
  ASSERT_EQ(read_file(file).size() % sizeof(wire::KvpPoolRecord), 0u) << where;
  std::map<std::string, std::string> first;
  for (const auto& item : read_items(file)) {
    if (item.key.empty()) {
      continue;  // blank slot
    }
    ASSERT_TRUE(item.value == value_of(acknowledged, item.key) ||
                item.value == value_of(with_in_flight, item.key))
        << where << ": " << item.key << " holds a value never acknowledged nor in flight";
    first.try_emplace(item.key, item.value);
  }
  for (const auto& [key, value] : acknowledged) {
    if (value_of(with_in_flight, key) == value) {
      ASSERT_EQ(first[key], value) << where << ": lost " << key;
    }
  }
}

TEST(PoolKill, KillNineAtRandomInstantsNeverBreaksAFileOrLosesAnAcknowledgedChange) {
  ScratchDir dir;
  std::map<wire::KvpPool, Items> model{{wire::KvpPool::external, {}},
                                       {wire::KvpPool::guest, {}}};
  std::mt19937 random(0x6b766b);
  uint64_t acknowledged_total = 0;
  uint64_t waited_kills = 0;
  int in_flight_applied = 0;
  uint32_t outside_records = 0;
  for (int kill = 0; kill < kKills; ++kill) {
    const uint32_t seed = random();
    int acks[2];
    ASSERT_EQ(::pipe2(acks, O_CLOEXEC), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(acks[0]);
      run_child(dir.path(), seed, acks[1]);
    }
    ::close(acks[1]);
    // Most kills land once the child is changing pools (however slowly a
    // sanitizer makes it start); the others land anywhere, start-up and
    // the tidy-up of the previous kill included.
    uint32_t acknowledged = 0;
    if (random() % 4 != 0) {
      uint32_t first = 0;
      ASSERT_EQ(::read(acks[0], &first, sizeof(first)), static_cast<ssize_t>(sizeof(first)));
      ASSERT_EQ(first, 0u);
      acknowledged = 1;
      ++waited_kills;
    }
    ::usleep(static_cast<useconds_t>(random() % 3000));
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited by itself: " << WEXITSTATUS(status);

    for (uint32_t index; ::read(acks[0], &index, sizeof(index)) == sizeof(index);) {
      ASSERT_EQ(index, acknowledged);
      ++acknowledged;
    }
    ::close(acks[0]);
    acknowledged_total += acknowledged;

    ChangeStream changes(seed);
    for (uint32_t i = 0; i < acknowledged; ++i) {
      const Change change = changes.next();
      apply(model[change.pool], change);
    }
    const Change in_flight = changes.next();
    std::map<wire::KvpPool, Items> with_in_flight = model;
    apply(with_in_flight[in_flight.pool], in_flight);

    const std::string where = "kill " + std::to_string(kill);
    for (const wire::KvpPool pool : {wire::KvpPool::external, wire::KvpPool::guest}) {
      expect_valid(dir.pool(static_cast<int>(pool)), model[pool], with_in_flight[pool], where);
    }

    auto store = testing::open_store(dir.path());
    for (const wire::KvpPool pool : {wire::KvpPool::external, wire::KvpPool::guest}) {
      const Items recovered = list_items(*store, pool);
      if (recovered != model[pool]) {
        ASSERT_EQ(recovered, with_in_flight[pool]) << where;
        model[pool] = recovered;
        ++in_flight_applied;
      }
      for (const auto& item : read_items(dir.pool(static_cast<int>(pool)))) {
        ASSERT_FALSE(item.key.empty()) << where << ": blank slot after recovery";
      }
    }
    if (kill % 3 == 0) {
      const std::string key = "CLOUD_INIT|" + std::to_string(outside_records++) + "|event";
      testing::append_like_cloud_init(dir.pool(1), record_bytes(key, R"({"msg":"ok"})"));
      model[wire::KvpPool::guest].emplace_back(key, R"({"msg":"ok"})");
    }
  }
  // The children must have got real work done between kills.
  EXPECT_GT(acknowledged_total, waited_kills);
  ::testing::Test::RecordProperty("acknowledged_changes", std::to_string(acknowledged_total));
  ::testing::Test::RecordProperty("kills_after_an_unacknowledged_change",
                                  std::to_string(in_flight_applied));
  EXPECT_EQ(list_items(*testing::open_store(dir.path()), wire::KvpPool::guest),
            model[wire::KvpPool::guest]);
}

}  // namespace
}  // namespace uvmbus::kvp
