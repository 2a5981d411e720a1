// Pool store crash safety, exhaustively: every operation is stopped at each
// of its writes and resizes in turn, and a stopped write is cut at every
// page boundary it crosses (the only places a kill can cut it, see
// pool_file.h). At each stop the files must be valid for any reader, and a
// fresh store must then show exactly the state before or after the
// operation, in order.
//
// The stop is simulated by interposing pwrite64/ftruncate64 in this test
// binary: from the stop on, every write fails, as if the process were gone;
// the store is then thrown away like a killed process's memory.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "pool_files.h"
#include "uvmbus/kvp/pool_store.h"

namespace {

struct CrashPlan {
  bool armed = false;
  int writes_before_stop = 0;   // writes and resizes that complete
  std::size_t pages_written = 0;  // of the stopped pwrite: page pieces that land
  bool stopped = false;
  int calls = 0;                     // writes and resizes seen while armed
  std::vector<std::size_t> cuts;     // interior page boundaries of each call
};

CrashPlan plan;

constexpr std::size_t kPage = 4096;

std::size_t interior_boundaries(off64_t offset, std::size_t count) {
  const auto first = static_cast<std::size_t>(offset);
  const std::size_t last = first + count;
  std::size_t boundaries = 0;
  for (std::size_t page = (first / kPage + 1) * kPage; page < last; page += kPage) {
    ++boundaries;
  }
  return boundaries;
}

}  // namespace

extern "C" ssize_t pwrite64(int fd, const void* buffer, size_t count, off64_t offset) {
  using Pwrite = ssize_t (*)(int, const void*, size_t, off64_t);
  static const auto real = reinterpret_cast<Pwrite>(dlsym(RTLD_NEXT, "pwrite64"));
  if (!plan.armed) {
    return real(fd, buffer, count, offset);
  }
  if (plan.stopped) {
    errno = EIO;
    return -1;
  }
  ++plan.calls;
  plan.cuts.push_back(interior_boundaries(offset, count));
  if (plan.writes_before_stop-- > 0) {
    return real(fd, buffer, count, offset);
  }
  plan.stopped = true;
  if (plan.pages_written > 0) {
    const std::size_t end =
        (static_cast<std::size_t>(offset) / kPage + plan.pages_written) * kPage;
    real(fd, buffer, end - static_cast<std::size_t>(offset), offset);
  }
  errno = EIO;
  return -1;
}

extern "C" int ftruncate64(int fd, off64_t length) {
  using Ftruncate = int (*)(int, off64_t);
  static const auto real = reinterpret_cast<Ftruncate>(dlsym(RTLD_NEXT, "ftruncate64"));
  if (!plan.armed) {
    return real(fd, length);
  }
  if (plan.stopped) {
    errno = EIO;
    return -1;
  }
  ++plan.calls;
  plan.cuts.push_back(0);
  if (plan.writes_before_stop-- > 0) {
    return real(fd, length);
  }
  plan.stopped = true;
  errno = EIO;
  return -1;
}

namespace uvmbus::kvp {
namespace {

using testing::Items;
using testing::read_file;
using testing::read_items;
using testing::ScratchDir;
using testing::value_of;
using testing::write_file;

constexpr wire::KvpPool kPool = wire::KvpPool::external;

struct Operation {
  enum Kind { set, remove } kind;
  std::string key;
  std::string value;
};

Items apply(Items items, const Operation& operation) {
  auto found = std::find_if(items.begin(), items.end(),
                            [&](const auto& item) { return item.first == operation.key; });
  if (operation.kind == Operation::remove) {
    if (found != items.end()) {
      items.erase(found);
    }
  } else if (found != items.end()) {
    found->second = operation.value;
  } else {
    items.emplace_back(operation.key, operation.value);
  }
  return items;
}

// What a fresh store lists, in order.
Items listed(const std::filesystem::path& directory) {
  return testing::list_items(*testing::open_store(directory), kPool);
}

class CrashTest : public ::testing::Test {
 protected:
  ScratchDir dir_;
  std::filesystem::path journal_ = std::filesystem::path(dir_.pool(0)) += ".journal";
  Items model_;

  struct Snapshot {
    std::string pool;
    std::string journal;
  };

  Snapshot take() const {
    return {read_file(dir_.pool(0)),
            std::filesystem::exists(journal_) ? read_file(journal_) : std::string()};
  }

  void restore(const Snapshot& snapshot) const {
    write_file(dir_.pool(0), snapshot.pool);
    if (std::filesystem::exists(journal_)) {
      write_file(journal_, snapshot.journal);
    }
  }

  static StoreStatus run(PoolStore& store, const Operation& operation) {
    return operation.kind == Operation::set ? store.set(kPool, operation.key, operation.value)
                                            : store.remove(kPool, operation.key);
  }

  // The file as an unlocked reader sees it after a stop: whole records
  // only, each one an item's value before or after the operation, and the
  // first record of each key showing one of those.
  void expect_valid_for_readers(const Items& before, const Items& after,
                                const std::string& where) const {
    const std::string bytes = read_file(dir_.pool(0));
    ASSERT_EQ(bytes.size() % sizeof(wire::KvpPoolRecord), 0u) << where;
    std::map<std::string, std::string> first;
    for (const auto& item : read_items(dir_.pool(0))) {
      if (item.key.empty()) {
        continue;  // a blank slot: no item
      }
      const auto old_value = value_of(before, item.key);
      const auto new_value = value_of(after, item.key);
      ASSERT_TRUE(item.value == old_value || item.value == new_value)
          << where << ": " << item.key << " = " << item.value.substr(0, 20);
      first.try_emplace(item.key, item.value);
    }
    for (const auto& [key, value] : before) {
      if (value_of(after, key) == value) {
        EXPECT_EQ(first.count(key), 1u) << where << ": lost " << key;
      }
    }
  }

  // Runs `operation` stopped at every point, then for real.
  void check(const Operation& operation) {
    const Items before = model_;
    const Items after = apply(model_, operation);
    const Snapshot snapshot = take();
    const StoreStatus expected = operation.kind == Operation::remove && before == after
                                     ? StoreStatus::not_found
                                     : StoreStatus::ok;

    plan = CrashPlan{};
    plan.armed = true;
    plan.writes_before_stop = 1 << 30;
    {
      auto store = testing::open_store(dir_.path());
      ASSERT_EQ(run(*store, operation), expected);
    }
    const std::vector<std::size_t> cuts = plan.cuts;
    plan = CrashPlan{};
    ASSERT_EQ(listed(dir_.path()), after);

    for (std::size_t stop = 0; stop < cuts.size(); ++stop) {
      for (std::size_t pages = 0; pages <= cuts[stop]; ++pages) {
        const std::string where = operation.key + " stop " + std::to_string(stop) + " pages " +
                                  std::to_string(pages);
        restore(snapshot);
        {
          auto store = testing::open_store(dir_.path());
          plan = CrashPlan{};
          plan.armed = true;
          plan.writes_before_stop = static_cast<int>(stop);
          plan.pages_written = pages;
          EXPECT_EQ(run(*store, operation), StoreStatus::io_error) << where;
          plan = CrashPlan{};
        }
        expect_valid_for_readers(before, after, where);
        const Items recovered = listed(dir_.path());
        EXPECT_TRUE(recovered == before || recovered == after) << where;
        EXPECT_EQ(read_file(dir_.pool(0)).size() % sizeof(wire::KvpPoolRecord), 0u);
        EXPECT_TRUE(!std::filesystem::exists(journal_) || std::filesystem::file_size(journal_) == 0)
            << where;
        for (const auto& item : read_items(dir_.pool(0))) {
          EXPECT_FALSE(item.key.empty()) << where << ": blank slot left after recovery";
        }
      }
    }
    restore(snapshot);
    {
      auto store = testing::open_store(dir_.path());
      ASSERT_EQ(run(*store, operation), expected);
    }
    model_ = after;
    ASSERT_EQ(listed(dir_.path()), model_);
  }
};

TEST_F(CrashTest, EveryStopInEveryKindOfChangeLeavesValidFilesAndOneOfTheTwoStates) {
  std::mt19937 random(20261130);
  // Twelve long records: every slot position in the page pattern, and
  // values long enough that rewrites of straddling slots use the shadow copy.
  for (int i = 0; i < 12; ++i) {
    check({Operation::set, "key" + std::to_string(i), std::string(1500 + i, 'a' + i)});
  }
  for (int i = 0; i < 12; ++i) {
    check({Operation::set, "key" + std::to_string(i), std::string(1900 - i, 'A' + i)});
  }
  for (int round = 0; round < 24; ++round) {
    const std::string key = "key" + std::to_string(random() % 14);
    if (random() % 3 == 0) {
      check({Operation::remove, key, {}});
    } else {
      check({Operation::set, key, std::string(random() % 2047, 'a' + round % 26)});
    }
  }
  for (int i = 0; i < 14; ++i) {
    check({Operation::remove, "key" + std::to_string(i), {}});
  }
  EXPECT_TRUE(model_.empty());
}

}  // namespace
}  // namespace uvmbus::kvp
