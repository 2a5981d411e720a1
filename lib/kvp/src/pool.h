// One pool file with its index (private): the operations of PoolStore for a
// single .kvp_pool_N, and the write sequences that keep the file valid at
// every instant (pool.cc).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "pool_file.h"
#include "pool_index.h"
#include "pool_journal.h"
#include "uvmbus/kvp/pool_store.h"
#include "uvmbus/wire/kvp.h"

namespace uvmbus::kvp::detail {

class Pool {
 public:
  Pool(std::filesystem::path path, mode_t create_mode, const StoreOptions& options);

  // Opens the file, creating it (empty) if it is missing.
  int open() noexcept;

  StoreStatus set(std::string_view key, std::string_view value);
  ValueResult get(std::string_view key);
  StoreStatus remove(std::string_view key);
  ItemResult enumerate(uint32_t index);

  [[nodiscard]] const PoolCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] int last_errno() const noexcept { return last_errno_; }

 private:
  class Session;
  struct Located {
    StoreStatus status;
    std::optional<uint32_t> slot;
    wire::KvpPoolRecord record;
  };

  // Takes both locks and brings the index up to date with the file.
  StoreStatus begin();
  // Notes the file as this operation leaves it and releases the locks.
  void end() noexcept;
  StoreStatus take_locks(std::chrono::steady_clock::time_point deadline);
  StoreStatus reopen_if_replaced(std::chrono::steady_clock::time_point deadline, FileSnapshot& held);
  StoreStatus refresh();
  StoreStatus reload();
  StoreStatus recover_shadow(const ShadowIntent& intent);
  StoreStatus fail(int error);

  Located locate(std::string_view key);
  StoreStatus read_slot(uint32_t slot, wire::KvpPoolRecord& record);
  [[nodiscard]] bool matches_index(uint32_t slot, const wire::KvpPoolRecord& record) const;

  // Write sequences.
  StoreStatus append(const wire::KvpPoolRecord& record);
  StoreStatus replace(uint32_t slot, const wire::KvpPoolRecord& before, const wire::KvpPoolRecord& record);
  StoreStatus replace_through_shadow(uint32_t slot, const wire::KvpPoolRecord& record);
  StoreStatus remove_slots(const std::vector<uint32_t>& slots);
  StoreStatus slide_down(uint32_t first_free, const std::vector<uint32_t>& kept);

  // One write, then a flush when durability is asked: every call is an
  // ordering point of a sequence.
  StoreStatus write(off_t offset, std::span<const std::byte> bytes);
  StoreStatus resize(uint32_t slots);

  std::filesystem::path path_;
  mode_t create_mode_;
  const StoreOptions& options_;
  PoolFile file_;
  PoolJournal journal_;
  PoolIndex index_;
  FileSnapshot known_;        // the file as our last operation left it
  bool stale_ = true;         // the index must be rebuilt from the file
  bool locked_ = false;
  std::vector<uint32_t> leftovers_;  // slots the last reload found to tidy
  PoolCounters counters_;
  int last_errno_ = 0;
};

}  // namespace uvmbus::kvp::detail
