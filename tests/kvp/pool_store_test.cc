// Pool store: operations, the on-disk format Linux's hv_kvp_daemon uses,
// order, first-match, limits and non-ASCII text.
#include "uvmbus/kvp/pool_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "pool_files.h"

namespace uvmbus::kvp {
namespace {

using testing::read_file;
using testing::read_items;
using testing::record_bytes;
using testing::RawItem;
using testing::ScratchDir;
using wire::KvpPool;

class PoolStoreTest : public ::testing::Test {
 protected:
  ScratchDir dir_;
  std::unique_ptr<PoolStore> store_ = testing::open_store(dir_.path());

  std::vector<RawItem> items(int pool = 0) const { return read_items(dir_.pool(pool)); }

  void set_all(KvpPool pool, int count, const std::string& value_prefix = "value") {
    for (int i = 0; i < count; ++i) {
      ASSERT_EQ(store_->set(pool, "key" + std::to_string(i), value_prefix + std::to_string(i)),
                StoreStatus::ok);
    }
  }
};

TEST_F(PoolStoreTest, CreatesFiveEmptyPoolFiles) {
  for (int pool = 0; pool < 5; ++pool) {
    ASSERT_TRUE(std::filesystem::exists(dir_.pool(pool))) << pool;
    EXPECT_EQ(std::filesystem::file_size(dir_.pool(pool)), 0u);
  }
}

TEST(PoolStoreModes, CreatesPoolZeroPrivateAndTheOthersWorldReadable) {
  const mode_t old_mask = ::umask(022);
  ScratchDir dir;
  auto store = testing::open_store(dir.path());
  ::umask(old_mask);
  struct stat status {};
  ASSERT_EQ(::stat(dir.pool(0).c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 0777, 0600u);
  for (int pool = 1; pool < 5; ++pool) {
    ASSERT_EQ(::stat(dir.pool(pool).c_str(), &status), 0);
    EXPECT_EQ(status.st_mode & 0777, 0644u) << pool;
  }
}

TEST(PoolStoreModes, CreatesAMissingDirectoryButNotItsParents) {
  ScratchDir dir;
  StoreOptions options;
  options.directory = dir.path() / "hyperv";
  EXPECT_EQ(PoolStore::open(options).status, StoreStatus::ok);
  EXPECT_TRUE(std::filesystem::is_directory(options.directory));
  options.directory = dir.path() / "missing" / "hyperv";
  const PoolStore::OpenResult failed = PoolStore::open(options);
  EXPECT_EQ(failed.status, StoreStatus::io_error);
  EXPECT_EQ(failed.error_number, ENOENT);
  EXPECT_EQ(failed.store, nullptr);
}

TEST_F(PoolStoreTest, SetAppendsRecordsExactlyAsLinuxWritesThem) {
  ASSERT_EQ(store_->set(KvpPool::external, "alpha", "1"), StoreStatus::ok);
  ASSERT_EQ(store_->set(KvpPool::external, "beta", "two"), StoreStatus::ok);
  ASSERT_EQ(store_->set(KvpPool::external, "gamma", ""), StoreStatus::ok);
  EXPECT_EQ(read_file(dir_.pool(0)),
            record_bytes("alpha", "1") + record_bytes("beta", "two") + record_bytes("gamma", ""));
}

TEST_F(PoolStoreTest, SetOfAnExistingKeyKeepsItsPlaceAndLeavesNoStaleBytes) {
  // Every slot position modulo the 8-record page pattern, both ways of
  // rewriting a value (inside one page, and through the shadow copy).
  constexpr int kCount = 16;
  set_all(KvpPool::auto_external, kCount, std::string(1500, 'x'));
  for (int i = 0; i < kCount; ++i) {
    ASSERT_EQ(store_->set(KvpPool::auto_external, "key" + std::to_string(i), "short"),
              StoreStatus::ok);
  }
  std::string expected;
  for (int i = 0; i < kCount; ++i) {
    expected += record_bytes("key" + std::to_string(i), "short");
  }
  EXPECT_EQ(read_file(dir_.pool(3)), expected);
  EXPECT_EQ(std::filesystem::file_size(std::filesystem::path(dir_.pool(3)) += ".journal"), 0u);
}

TEST_F(PoolStoreTest, ASetChangingBytesInsideOnePageWritesOnlyThemWithoutTheShadowCopy) {
  // 16 slots: every position of the value field against the page pattern,
  // 3 in 8 of them across a page boundary.
  constexpr int kCount = 16;
  const std::string long_value(1500, 'a');
  set_all(KvpPool::guest, kCount, long_value);
  std::string expected;
  for (int i = 0; i < kCount; ++i) {
    std::string changed = long_value + std::to_string(i);
    changed[10] = 'b';  // inside the field's first page whatever the slot
    ASSERT_EQ(store_->set(KvpPool::guest, "key" + std::to_string(i), changed), StoreStatus::ok);
    expected += record_bytes("key" + std::to_string(i), changed);
  }
  EXPECT_EQ(read_file(dir_.pool(1)), expected);
  // No shadow copy was needed, so the journal was never used.
  const std::filesystem::path journal = std::filesystem::path(dir_.pool(1)) += ".journal";
  EXPECT_FALSE(std::filesystem::exists(journal)) << "the shadow copy ran for a one-page change";
  // A change that spans the whole field still goes through it where the field crosses a page.
  expected.clear();
  for (int i = 0; i < kCount; ++i) {
    ASSERT_EQ(store_->set(KvpPool::guest, "key" + std::to_string(i), "short"), StoreStatus::ok);
    expected += record_bytes("key" + std::to_string(i), "short");
  }
  EXPECT_EQ(read_file(dir_.pool(1)), expected);
  EXPECT_TRUE(std::filesystem::exists(journal));
}

TEST_F(PoolStoreTest, SetOfTheSameValueWritesNothing) {
  ASSERT_EQ(store_->set(KvpPool::external, "k", "v"), StoreStatus::ok);
  const auto before = std::filesystem::last_write_time(dir_.pool(0));
  ASSERT_EQ(store_->set(KvpPool::external, "k", "v"), StoreStatus::ok);
  EXPECT_EQ(std::filesystem::last_write_time(dir_.pool(0)), before);
}

TEST_F(PoolStoreTest, GetReturnsTheValueOrNotFound) {
  set_all(KvpPool::external, 3);
  EXPECT_EQ(store_->get(KvpPool::external, "key1").value, "value1");
  EXPECT_EQ(store_->get(KvpPool::external, "key1").status, StoreStatus::ok);
  EXPECT_EQ(store_->get(KvpPool::external, "key9").status, StoreStatus::not_found);
  EXPECT_EQ(store_->get(KvpPool::guest, "key1").status, StoreStatus::not_found);
}

TEST_F(PoolStoreTest, EnumerateListsItemsInFileOrderThenEndOfItems) {
  set_all(KvpPool::guest, 5);
  for (uint32_t i = 0; i < 5; ++i) {
    const ItemResult item = store_->enumerate(KvpPool::guest, i);
    ASSERT_EQ(item.status, StoreStatus::ok);
    EXPECT_EQ(item.key, "key" + std::to_string(i));
    EXPECT_EQ(item.value, "value" + std::to_string(i));
  }
  EXPECT_EQ(store_->enumerate(KvpPool::guest, 5).status, StoreStatus::end_of_items);
  EXPECT_EQ(store_->enumerate(KvpPool::guest, 0xffffffff).status, StoreStatus::end_of_items);
  EXPECT_EQ(store_->enumerate(KvpPool::automatic, 0).status, StoreStatus::end_of_items);
}

TEST_F(PoolStoreTest, DeleteRemovesTheRecordAndKeepsTheOthersInOrder) {
  for (int victim = 0; victim < 12; ++victim) {
    ScratchDir dir;
    auto store = testing::open_store(dir.path());
    std::string expected;
    for (int i = 0; i < 12; ++i) {
      const std::string key = "key" + std::to_string(i);
      ASSERT_EQ(store->set(KvpPool::external, key, std::string(100 + i, 'a' + i)),
                StoreStatus::ok);
      if (i != victim) {
        expected += record_bytes(key, std::string(100 + i, 'a' + i));
      }
    }
    ASSERT_EQ(store->remove(KvpPool::external, "key" + std::to_string(victim)), StoreStatus::ok);
    EXPECT_EQ(read_file(dir.pool(0)), expected) << "victim " << victim;
    EXPECT_EQ(store->get(KvpPool::external, "key" + std::to_string(victim)).status,
              StoreStatus::not_found);
    EXPECT_EQ(store->enumerate(KvpPool::external, 10).status, StoreStatus::ok);
    EXPECT_EQ(store->enumerate(KvpPool::external, 11).status, StoreStatus::end_of_items);
  }
}

TEST_F(PoolStoreTest, DeleteOfAMissingKeyIsNotFound) {
  set_all(KvpPool::external, 2);
  EXPECT_EQ(store_->remove(KvpPool::external, "nope"), StoreStatus::not_found);
  EXPECT_EQ(items().size(), 2u);
}

TEST_F(PoolStoreTest, DeletingEverythingLeavesAnEmptyFile) {
  set_all(KvpPool::external, 4);
  for (int i : {2, 0, 3, 1}) {
    ASSERT_EQ(store_->remove(KvpPool::external, "key" + std::to_string(i)), StoreStatus::ok);
  }
  EXPECT_EQ(std::filesystem::file_size(dir_.pool(0)), 0u);
}

TEST_F(PoolStoreTest, KeysAndValuesAtTheExactLimitsAreStoredAndOneMoreIsRefused) {
  const std::string key(511, 'k');
  const std::string value(2047, 'v');
  ASSERT_EQ(store_->set(KvpPool::external, key, value), StoreStatus::ok);
  EXPECT_EQ(store_->get(KvpPool::external, key).value, value);
  EXPECT_EQ(read_file(dir_.pool(0)), record_bytes(key, value));
  EXPECT_EQ(store_->set(KvpPool::external, std::string(512, 'k'), "v"),
            StoreStatus::invalid_key);
  EXPECT_EQ(store_->set(KvpPool::external, "k", std::string(2048, 'v')),
            StoreStatus::invalid_value);
  EXPECT_EQ(items().size(), 1u);
}

TEST_F(PoolStoreTest, RefusesKeysAndValuesNoReaderCouldReadBack) {
  EXPECT_EQ(store_->set(KvpPool::external, "", "v"), StoreStatus::invalid_key);
  EXPECT_EQ(store_->set(KvpPool::external, std::string("a\0b", 3), "v"),
            StoreStatus::invalid_key);
  EXPECT_EQ(store_->set(KvpPool::external, "\xff", "v"), StoreStatus::invalid_key);
  EXPECT_EQ(store_->set(KvpPool::external, "k", std::string("a\0b", 3)),
            StoreStatus::invalid_value);
  EXPECT_EQ(store_->set(KvpPool::external, "k", "\xc0\x80"), StoreStatus::invalid_value);
  EXPECT_EQ(store_->get(KvpPool::external, "").status, StoreStatus::invalid_key);
  EXPECT_EQ(store_->remove(KvpPool::external, std::string(600, 'k')), StoreStatus::invalid_key);
  EXPECT_EQ(std::filesystem::file_size(dir_.pool(0)), 0u);
}

TEST_F(PoolStoreTest, NonAsciiTextIsStoredAsUtf8) {
  const std::string key = "Schl\xc3\xbcssel-\xe9\x8d\xb5";               // Schlüssel-鍵
  const std::string value = "\xf0\x9f\x94\x91 caf\xc3\xa9 \xd0\xba\xd0\xbb";  // 🔑 café кл
  ASSERT_EQ(store_->set(KvpPool::guest, key, value), StoreStatus::ok);
  EXPECT_EQ(read_file(dir_.pool(1)), record_bytes(key, value));
  EXPECT_EQ(store_->get(KvpPool::guest, key).value, value);
}

TEST_F(PoolStoreTest, EveryPoolIsItsOwnFile) {
  for (int pool = 0; pool < 5; ++pool) {
    ASSERT_EQ(store_->set(static_cast<KvpPool>(pool), "shared", "pool" + std::to_string(pool)),
              StoreStatus::ok);
  }
  for (int pool = 0; pool < 5; ++pool) {
    EXPECT_EQ(items(pool), (std::vector<RawItem>{{"shared", "pool" + std::to_string(pool)}}));
    EXPECT_EQ(store_->get(static_cast<KvpPool>(pool), "shared").value,
              "pool" + std::to_string(pool));
  }
}

TEST_F(PoolStoreTest, AnotherStoreOnTheSameDirectorySeesEveryChange) {
  auto other = testing::open_store(dir_.path());
  set_all(KvpPool::external, 3);
  EXPECT_EQ(other->get(KvpPool::external, "key2").value, "value2");
  ASSERT_EQ(other->set(KvpPool::external, "key1", "changed"), StoreStatus::ok);
  ASSERT_EQ(other->remove(KvpPool::external, "key0"), StoreStatus::ok);
  EXPECT_EQ(store_->get(KvpPool::external, "key1").value, "changed");
  EXPECT_EQ(store_->enumerate(KvpPool::external, 0).key, "key1");
  EXPECT_EQ(store_->enumerate(KvpPool::external, 2).status, StoreStatus::end_of_items);
}

TEST_F(PoolStoreTest, RefusesAPoolFileOfMoreThanTheRecordCap) {
  std::filesystem::resize_file(dir_.pool(1),
                               (uint64_t{kMaxPoolRecords} + 1) * sizeof(wire::KvpPoolRecord));
  EXPECT_EQ(store_->get(KvpPool::guest, "k").status, StoreStatus::io_error);
  EXPECT_EQ(store_->last_errno(), EFBIG);
  EXPECT_EQ(store_->set(KvpPool::external, "other", "pool"), StoreStatus::ok);
  EXPECT_EQ(store_->last_errno(), 0);
}

TEST_F(PoolStoreTest, AnswersTheHostLikeAGuestShould) {
  EXPECT_EQ(status_for(StoreStatus::ok), wire::HvStatus::ok);
  EXPECT_EQ(status_for(StoreStatus::not_found), wire::HvStatus::not_found);
  EXPECT_EQ(status_for(StoreStatus::end_of_items), wire::HvStatus::no_more_items);
  EXPECT_EQ(status_for(StoreStatus::invalid_key), wire::HvStatus::invalid_arg);
  EXPECT_EQ(status_for(StoreStatus::invalid_value), wire::HvStatus::invalid_arg);
  for (const StoreStatus status :
       {StoreStatus::unreadable, StoreStatus::lock_timeout, StoreStatus::io_error}) {
    EXPECT_EQ(status_for(status), wire::HvStatus::fail);
  }
}

TEST_F(PoolStoreTest, StatusesHaveNames) {
  EXPECT_STREQ(to_string(StoreStatus::ok), "ok");
  EXPECT_STREQ(to_string(StoreStatus::io_error), "io_error");
  EXPECT_STREQ(to_string(static_cast<StoreStatus>(99)), "unknown");
  EXPECT_EQ(store_->last_errno(), 0);
}

}  // namespace
}  // namespace uvmbus::kvp
