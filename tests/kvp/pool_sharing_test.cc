// Pool store next to other writers: cloud-init/azure-init appending under
// flock (some records invalid), Linux's daemon holding fcntl locks and
// leaving stale bytes, files truncated, replaced or removed behind our back.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "pool_files.h"
#include "uvmbus/kvp/pool_store.h"

namespace uvmbus::kvp {
namespace {

using testing::append_like_cloud_init;
using testing::read_file;
using testing::read_items;
using testing::record_bytes;
using testing::ScratchDir;
using testing::write_file;
using wire::KvpPool;

std::vector<std::string> enumerate_keys(PoolStore& store, KvpPool pool) {
  std::vector<std::string> keys;
  for (const auto& item : testing::list_items(store, pool)) {
    keys.push_back(item.first);
  }
  return keys;
}

// Records another program could leave that no reader can use.
std::string unterminated_key() { return std::string(2560, 'k'); }
std::string unterminated_value() {
  std::string record = record_bytes("no-nul-value", "");
  std::fill(record.begin() + 512, record.end(), 'v');
  return record;
}
std::string bad_utf8_key() { return record_bytes("bad\xff key", "v"); }
std::string bad_utf8_value() { return record_bytes("bad-value", "\xc0\xaf"); }

class PoolSharingTest : public ::testing::Test {
 protected:
  ScratchDir dir_;
  std::unique_ptr<PoolStore> store_ = testing::open_store(dir_.path());
};

TEST_F(PoolSharingTest, CloudInitAppendsInterleavedWithOurChangesAreAllKept) {
  const auto guest = dir_.pool(1);
  std::vector<std::string> expected_file;
  std::vector<std::string> expected_keys;
  for (int round = 0; round < 20; ++round) {
    const std::string ours = "ours" + std::to_string(round);
    ASSERT_EQ(store_->set(KvpPool::guest, ours, std::string(round * 90, 'o')), StoreStatus::ok);
    expected_file.push_back(record_bytes(ours, std::string(round * 90, 'o')));
    expected_keys.push_back(ours);

    const std::string theirs = "CLOUD_INIT|" + std::to_string(round) + "|start|init-local";
    std::string batch = record_bytes(theirs, R"({"name":"init-local","type":"start"})");
    expected_file.push_back(batch);
    expected_keys.push_back(theirs);
    if (round % 5 == 0) {
      batch += bad_utf8_value();
      expected_file.push_back(bad_utf8_value());
    }
    append_like_cloud_init(guest, batch);

    // Rewrite an earlier item of ours (in place) and remove another.
    if (round >= 2) {
      const std::string earlier = "ours" + std::to_string(round - 2);
      ASSERT_EQ(store_->set(KvpPool::guest, earlier, "updated"), StoreStatus::ok);
      for (auto& record : expected_file) {
        if (record.compare(0, earlier.size() + 1, earlier + '\0') == 0) {
          record = record_bytes(earlier, "updated");
        }
      }
    }
    if (round >= 3 && round % 3 == 0) {
      const std::string victim = "ours" + std::to_string(round - 3);
      ASSERT_EQ(store_->remove(KvpPool::guest, victim), StoreStatus::ok);
      std::erase(expected_file, record_bytes(victim, "updated"));
      std::erase(expected_keys, victim);
    }
  }
  std::string expected;
  for (const auto& record : expected_file) {
    expected += record;
  }
  EXPECT_EQ(read_file(guest), expected);
  EXPECT_EQ(enumerate_keys(*store_, KvpPool::guest), expected_keys);
}

TEST_F(PoolSharingTest, UnreadableRecordsAreSkippedButNeverDropped) {
  const std::string invalid =
      unterminated_key() + unterminated_value() + bad_utf8_key() + bad_utf8_value();
  write_file(dir_.pool(1), record_bytes("a", "1") + invalid + record_bytes("b", "2"));
  EXPECT_EQ(enumerate_keys(*store_, KvpPool::guest), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(store_->counters(KvpPool::guest).skipped_records, 4u);
  ASSERT_EQ(store_->set(KvpPool::guest, "c", "3"), StoreStatus::ok);
  ASSERT_EQ(store_->remove(KvpPool::guest, "a"), StoreStatus::ok);
  ASSERT_EQ(store_->set(KvpPool::guest, "b", std::string(2000, 'x')), StoreStatus::ok);
  EXPECT_EQ(read_file(dir_.pool(1)),
            invalid + record_bytes("b", std::string(2000, 'x')) + record_bytes("c", "3"));
}

TEST_F(PoolSharingTest, AKeyWithAnUnreadableValueCanBeOverwrittenOrDeleted) {
  write_file(dir_.pool(0), bad_utf8_value() + record_bytes("x", "1"));
  EXPECT_EQ(store_->get(KvpPool::external, "bad-value").status, StoreStatus::unreadable);
  EXPECT_EQ(enumerate_keys(*store_, KvpPool::external), (std::vector<std::string>{"x"}));
  ASSERT_EQ(store_->set(KvpPool::external, "bad-value", "fixed"), StoreStatus::ok);
  EXPECT_EQ(enumerate_keys(*store_, KvpPool::external),
            (std::vector<std::string>{"bad-value", "x"}));
  ASSERT_EQ(store_->remove(KvpPool::external, "bad-value"), StoreStatus::ok);
  EXPECT_EQ(read_file(dir_.pool(0)), record_bytes("x", "1"));
}

TEST_F(PoolSharingTest, LinuxStaleBytesAreReadCorrectlyAndClearedByOurRewrite) {
  std::string linux_record = record_bytes("key", "new");
  std::fill(linux_record.begin() + 512 + 4, linux_record.begin() + 512 + 40, 'X');  // old tail
  write_file(dir_.pool(0), linux_record);
  EXPECT_EQ(store_->get(KvpPool::external, "key").value, "new");
  ASSERT_EQ(store_->set(KvpPool::external, "key", "newer"), StoreStatus::ok);
  EXPECT_EQ(read_file(dir_.pool(0)), record_bytes("key", "newer"));
}

TEST_F(PoolSharingTest, TheFirstRecordWithAKeyWinsAndDeleteUncoversTheNext) {
  write_file(dir_.pool(0), record_bytes("k", "first") + record_bytes("x", "-") +
                               record_bytes("k", "second"));
  EXPECT_EQ(store_->get(KvpPool::external, "k").value, "first");
  ASSERT_EQ(store_->set(KvpPool::external, "k", "changed"), StoreStatus::ok);
  EXPECT_EQ(read_items(dir_.pool(0))[0].value, "changed");
  EXPECT_EQ(read_items(dir_.pool(0))[2].value, "second");
  ASSERT_EQ(store_->remove(KvpPool::external, "k"), StoreStatus::ok);
  EXPECT_EQ(store_->get(KvpPool::external, "k").value, "second");
}

TEST_F(PoolSharingTest, APartialRecordLeftByAKilledAppenderIsTrimmed) {
  write_file(dir_.pool(1), record_bytes("a", "1") + record_bytes("b", "2").substr(0, 1000));
  ASSERT_EQ(store_->set(KvpPool::guest, "c", "3"), StoreStatus::ok);
  EXPECT_EQ(read_file(dir_.pool(1)), record_bytes("a", "1") + record_bytes("c", "3"));
  // Appends that follow line up with the records again.
  append_like_cloud_init(dir_.pool(1), record_bytes("d", "4"));
  EXPECT_EQ(enumerate_keys(*store_, KvpPool::guest), (std::vector<std::string>{"a", "c", "d"}));
}

TEST_F(PoolSharingTest, NoticesTruncationReplacementAndRemoval) {
  ASSERT_EQ(store_->set(KvpPool::guest, "a", "1"), StoreStatus::ok);
  write_file(dir_.pool(1), "");  // cloud-init's once-per-boot truncation
  EXPECT_EQ(store_->get(KvpPool::guest, "a").status, StoreStatus::not_found);

  const auto replacement = dir_.path() / "replacement";
  write_file(replacement, record_bytes("r", "renamed in"));
  std::filesystem::rename(replacement, dir_.pool(1));
  EXPECT_EQ(store_->get(KvpPool::guest, "r").value, "renamed in");
  ASSERT_EQ(store_->set(KvpPool::guest, "s", "2"), StoreStatus::ok);
  EXPECT_EQ(read_file(dir_.pool(1)), record_bytes("r", "renamed in") + record_bytes("s", "2"));

  std::filesystem::remove(dir_.pool(1));
  EXPECT_EQ(store_->enumerate(KvpPool::guest, 0).status, StoreStatus::end_of_items);
  EXPECT_TRUE(std::filesystem::exists(dir_.pool(1)));
  ASSERT_EQ(store_->set(KvpPool::guest, "t", "3"), StoreStatus::ok);
  EXPECT_EQ(read_file(dir_.pool(1)), record_bytes("t", "3"));
}

TEST_F(PoolSharingTest, NoticesAnOutsideRewriteOfTheSameSize) {
  ASSERT_EQ(store_->set(KvpPool::external, "a", "1"), StoreStatus::ok);
  ASSERT_EQ(store_->set(KvpPool::external, "b", "2"), StoreStatus::ok);
  write_file(dir_.pool(0), record_bytes("b", "2") + record_bytes("z", "9"));
  EXPECT_EQ(store_->get(KvpPool::external, "z").value, "9");
  EXPECT_EQ(store_->get(KvpPool::external, "a").status, StoreStatus::not_found);
  EXPECT_EQ(store_->enumerate(KvpPool::external, 0).key, "b");
}

// A child that holds a lock on `path` for `hold` and then exits.
pid_t hold_lock(const std::filesystem::path& path, bool use_flock,
                std::chrono::milliseconds hold) {
  int ready[2];
  EXPECT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  if (child == 0) {
    const int fd = ::open(path.c_str(), O_RDWR);
    if (use_flock) {
      ::flock(fd, LOCK_EX);
    } else {
      struct flock range {};
      range.l_type = F_WRLCK;
      range.l_whence = SEEK_SET;
      ::fcntl(fd, F_SETLKW, &range);  // classic POSIX lock, as hv_kvp_daemon takes
    }
    (void)!::write(ready[1], "x", 1);
    ::usleep(static_cast<useconds_t>(hold.count() * 1000));
    ::_exit(0);
  }
  char byte;
  EXPECT_EQ(::read(ready[0], &byte, 1), 1);
  ::close(ready[0]);
  ::close(ready[1]);
  return child;
}

TEST(PoolLocks, WaitsForAnotherProgramsFlockOrFcntlLock) {
  for (const bool use_flock : {true, false}) {
    ScratchDir dir;
    auto store = testing::open_store(dir.path());
    const pid_t child = hold_lock(dir.pool(0), use_flock, std::chrono::milliseconds(150));
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(store->set(KvpPool::external, "k", "v"), StoreStatus::ok);
    EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(100))
        << (use_flock ? "flock" : "fcntl");
    ::waitpid(child, nullptr, 0);
  }
}

TEST(PoolLocks, GivesUpAfterTheLockTimeout) {
  for (const bool use_flock : {true, false}) {
    ScratchDir dir;
    StoreOptions options;
    options.directory = dir.path();
    options.lock_timeout = std::chrono::milliseconds(50);
    auto store = std::move(PoolStore::open(options).store);
    const pid_t child = hold_lock(dir.pool(3), use_flock, std::chrono::milliseconds(400));
    EXPECT_EQ(store->set(KvpPool::auto_external, "k", "v"), StoreStatus::lock_timeout);
    EXPECT_EQ(store->last_errno(), ETIMEDOUT);
    EXPECT_EQ(store->set(KvpPool::external, "other", "pool"), StoreStatus::ok);
    ::waitpid(child, nullptr, 0);
    EXPECT_EQ(store->set(KvpPool::auto_external, "k", "v"), StoreStatus::ok);
  }
}

TEST(PoolLocks, HoldsBothLocksOnlyDuringAnOperation) {
  ScratchDir dir;
  auto store = testing::open_store(dir.path());
  ASSERT_EQ(store->set(KvpPool::external, "k", "v"), StoreStatus::ok);
  const int fd = ::open(dir.pool(0).c_str(), O_RDWR);
  EXPECT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  ::flock(fd, LOCK_UN);
  struct flock range {};
  range.l_type = F_WRLCK;
  range.l_whence = SEEK_SET;
  EXPECT_EQ(::fcntl(fd, F_OFD_SETLK, &range), 0);
  ::close(fd);
}

}  // namespace
}  // namespace uvmbus::kvp
