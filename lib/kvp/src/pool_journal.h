// The side file `.kvp_pool_N.journal` (private): names the record a SET is
// rewriting through a shadow copy, so that the next operation after a kill
// can finish or undo it (see Pool::replace_through_shadow). Empty when no
// such SET is under way; its content is one entry, written by one pwrite
// inside the first page (all or nothing on a kill) and checksummed (against
// power loss and stray writers).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "pool_file.h"

namespace uvmbus::kvp::detail {

struct ShadowIntent {
  uint32_t target_slot;  // the record being rewritten
  uint32_t shadow_slot;  // the copy appended at the end
  std::string key;
};

struct IntentRead {
  int error;
  std::optional<ShadowIntent> intent;
};

class PoolJournal {
 public:
  explicit PoolJournal(std::filesystem::path path) : path_(std::move(path)) {}
  ~PoolJournal();
  PoolJournal(const PoolJournal&) = delete;
  PoolJournal& operator=(const PoolJournal&) = delete;

  // Stores the intent for the pool file identified by `pool`.
  int record(const FileSnapshot& pool, const ShadowIntent& intent, bool flush) noexcept;
  // Empties the journal.
  int clear() noexcept;
  // The intent stored for this pool file, if any. A missing, empty, torn or
  // foreign journal (another inode) holds none.
  [[nodiscard]] IntentRead read(const FileSnapshot& pool) noexcept;

 private:
  int open_existing() noexcept;

  std::filesystem::path path_;
  int fd_ = -1;
};

}  // namespace uvmbus::kvp::detail
