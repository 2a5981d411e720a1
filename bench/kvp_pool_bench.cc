// KVP pool store: SET, GET, ENUMERATE and DELETE at 10 and 10,000 records,
// on the file system that holds /var/lib/hyperv (a scratch directory is
// made there and removed). Baseline in the same binary: a SET done the way
// Linux's hv_kvp_daemon does it (fcntl lock, re-read the whole pool, rewrite
// the whole file).
//
// Run (docs/kvp.md has the figures and the machine):
//   nice -n -20 taskset -c 1 build-perf/bench/kvp_pool_bench
//       --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "uvmbus/kvp/pool_store.h"
#include "uvmbus/wire/kvp.h"

namespace {

using uvmbus::kvp::PoolStore;
using uvmbus::kvp::StoreOptions;
using uvmbus::kvp::StoreStatus;
using uvmbus::wire::KvpPool;

constexpr KvpPool kPool = KvpPool::auto_external;
const std::filesystem::path kHypervDir = "/var/lib/hyperv";

std::string key_of(int64_t i) {
  char key[32];
  std::snprintf(key, sizeof(key), "HostFact%05lld", static_cast<long long>(i));
  return key;
}

// A typical host fact: about 100 bytes.
std::string value_of(int64_t i, int64_t round) {
  return "value-" + std::to_string(i) + "-" + std::to_string(round) + std::string(90, 'v');
}

void check(StoreStatus status) {
  if (status != StoreStatus::ok) {
    throw std::runtime_error(std::string("pool store: ") + uvmbus::kvp::to_string(status));
  }
}

// A scratch directory under /var/lib/hyperv (created if missing, and then
// removed again if it was created for the run).
class ScratchUnderHyperv {
 public:
  ScratchUnderHyperv() {
    made_parent_ = ::mkdir(kHypervDir.c_str(), 0755) == 0;
    if (!made_parent_ && errno != EEXIST) {
      throw std::runtime_error("cannot create " + kHypervDir.string());
    }
    std::string pattern = (kHypervDir / "uvmbus-bench-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp under " + kHypervDir.string() + " failed");
    }
    path_ = pattern;
  }
  ~ScratchUnderHyperv() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
    if (made_parent_) {
      std::filesystem::remove(kHypervDir, ignored);
    }
  }
  ScratchUnderHyperv(const ScratchUnderHyperv&) = delete;
  ScratchUnderHyperv& operator=(const ScratchUnderHyperv&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  bool made_parent_ = false;
  std::filesystem::path path_;
};

// A store in a fresh scratch directory holding `records` items.
class Pool {
 public:
  explicit Pool(int64_t records) {
    StoreOptions options;
    options.directory = scratch_.path();
    PoolStore::OpenResult opened = PoolStore::open(options);
    check(opened.status);
    store_ = std::move(opened.store);
    for (int64_t i = 0; i < records; ++i) {
      check(store_->set(kPool, key_of(i), value_of(i, 0)));
    }
    // Let the bulk load reach the disk first: timed operations should not
    // queue behind the write-back of 25 MB they did not write.
    const int fd = ::open(file().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::fdatasync(fd) != 0) {
      throw std::runtime_error("cannot flush the bench pool");
    }
    ::close(fd);
  }
  PoolStore& store() { return *store_; }
  [[nodiscard]] std::filesystem::path file() const { return scratch_.path() / ".kvp_pool_3"; }

 private:
  ScratchUnderHyperv scratch_;
  std::unique_ptr<PoolStore> store_;
};

// SET of an existing key: rewrites one record in place (every slot of the
// page pattern in turn, so both the one-write and the shadow-copy paths).
void BM_SetExisting(benchmark::State& state) {
  const int64_t records = state.range(0);
  Pool pool(records);
  int64_t i = 0;
  for (auto _ : state) {
    check(pool.store().set(kPool, key_of(i % records), value_of(i % records, i + 1)));
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}

// SET of a new key: appends a record. The record is deleted again outside
// the timed region, so the pool keeps its size.
void BM_SetNew(benchmark::State& state) {
  const int64_t records = state.range(0);
  Pool pool(records);
  const std::string key = key_of(records);
  int64_t round = 0;
  for (auto _ : state) {
    check(pool.store().set(kPool, key, value_of(records, ++round)));
    state.PauseTiming();
    check(pool.store().remove(kPool, key));
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Get(benchmark::State& state) {
  const int64_t records = state.range(0);
  Pool pool(records);
  int64_t i = 0;
  for (auto _ : state) {
    auto result = pool.store().get(kPool, key_of(i++ % records));
    check(result.status);
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Enumerate(benchmark::State& state) {
  const int64_t records = state.range(0);
  Pool pool(records);
  uint32_t index = 0;
  for (auto _ : state) {
    auto item = pool.store().enumerate(kPool, index);
    check(item.status);
    benchmark::DoNotOptimize(item);
    index = (index + 1) % static_cast<uint32_t>(records);
  }
  state.SetItemsProcessed(state.iterations());
}

// DELETE of the first record (every later record moves up: the worst case)
// or of the last one (a truncate: the best case). The item is added back,
// at the end, outside the timed region.
void delete_at(benchmark::State& state, bool first) {
  const int64_t records = state.range(0);
  Pool pool(records);
  for (auto _ : state) {
    const auto oldest = pool.store().enumerate(kPool, first ? 0 : static_cast<uint32_t>(records - 1));
    check(oldest.status);
    check(pool.store().remove(kPool, oldest.key));
    state.PauseTiming();
    check(pool.store().set(kPool, oldest.key, oldest.value));
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_DeleteFirst(benchmark::State& state) { delete_at(state, true); }
void BM_DeleteLast(benchmark::State& state) { delete_at(state, false); }

// Baseline: one SET as Linux's hv_kvp_daemon performs it. Whole-file fcntl
// lock on a long-lived descriptor, re-read of every record, change in
// memory, fopen("w") + fwrite of every record + fclose.
class LinuxStyleSet {
 public:
  explicit LinuxStyleSet(std::filesystem::path file)
      : file_(std::move(file)), lock_fd_(::open(file_.c_str(), O_RDWR | O_CLOEXEC)) {}
  ~LinuxStyleSet() { ::close(lock_fd_); }
  LinuxStyleSet(const LinuxStyleSet&) = delete;
  LinuxStyleSet& operator=(const LinuxStyleSet&) = delete;

  void set(const std::string& key, const std::string& value) {
    lock(F_WRLCK);
    std::vector<uvmbus::wire::KvpPoolRecord> records = read_all();
    bool found = false;
    for (auto& record : records) {
      if (std::strncmp(record.key, key.c_str(), sizeof(record.key)) == 0) {
        std::memcpy(record.value, value.c_str(), value.size() + 1);
        found = true;
        break;
      }
    }
    if (!found) {
      uvmbus::wire::KvpPoolRecord added{};
      std::memcpy(added.key, key.c_str(), key.size() + 1);
      std::memcpy(added.value, value.c_str(), value.size() + 1);
      records.push_back(added);
    }
    FILE* out = std::fopen(file_.c_str(), "w");
    if (out == nullptr ||
        std::fwrite(records.data(), sizeof(records[0]), records.size(), out) != records.size()) {
      throw std::runtime_error("baseline write failed");
    }
    std::fclose(out);
    lock(F_UNLCK);
  }

 private:
  void lock(short type) const {
    struct flock range {};
    range.l_type = type;
    range.l_whence = SEEK_SET;
    if (::fcntl(lock_fd_, F_SETLKW, &range) != 0) {
      throw std::runtime_error("baseline lock failed");
    }
  }

  std::vector<uvmbus::wire::KvpPoolRecord> read_all() const {
    FILE* in = std::fopen(file_.c_str(), "r");
    if (in == nullptr) {
      throw std::runtime_error("baseline read failed");
    }
    std::vector<uvmbus::wire::KvpPoolRecord> records;
    uvmbus::wire::KvpPoolRecord record;
    while (std::fread(&record, sizeof(record), 1, in) == 1) {
      records.push_back(record);
    }
    std::fclose(in);
    return records;
  }

  std::filesystem::path file_;
  int lock_fd_;
};

void BM_LinuxStyleSetExisting(benchmark::State& state) {
  const int64_t records = state.range(0);
  Pool pool(records);
  LinuxStyleSet daemon(pool.file());
  int64_t i = 0;
  for (auto _ : state) {
    daemon.set(key_of(i % records), value_of(i % records, i + 1));
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}

void sizes(benchmark::internal::Benchmark* benchmark) {
  benchmark->Arg(10)->Arg(10000)->Unit(benchmark::kMicrosecond);
}

BENCHMARK(BM_SetExisting)->Apply(sizes);
BENCHMARK(BM_SetNew)->Apply(sizes);
BENCHMARK(BM_Get)->Apply(sizes);
BENCHMARK(BM_Enumerate)->Apply(sizes);
BENCHMARK(BM_DeleteFirst)->Apply(sizes);
BENCHMARK(BM_DeleteLast)->Apply(sizes);
BENCHMARK(BM_LinuxStyleSetExisting)->Apply(sizes);

}  // namespace

BENCHMARK_MAIN();
