// In-memory index of one pool file (private): the state and key of every
// record slot, the slots of listed items in file order, and the first slot
// of each key. Lookups and appends are O(1); a change at slot k re-indexes
// slots k.. only (O(n - k)), so removing the last record is O(1).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "uvmbus/kvp/pool_record.h"

namespace uvmbus::kvp::detail {

struct SlotInfo {
  RecordState state;
  std::string key;  // set for bad_value and valid
};

class PoolIndex {
 public:
  void clear();
  void append(SlotInfo slot);
  // The record at `slot` now reads as `state` (same key).
  void set_state(uint32_t slot, RecordState state);
  // Drops the slots listed (ascending); later slots move down.
  void erase(const std::vector<uint32_t>& slots);

  [[nodiscard]] uint32_t slot_count() const noexcept {
    return static_cast<uint32_t>(slots_.size());
  }
  [[nodiscard]] const SlotInfo& slot(uint32_t slot) const noexcept { return slots_[slot]; }
  // First slot holding `key` (valid or bad_value).
  [[nodiscard]] std::optional<uint32_t> find(std::string_view key) const;
  [[nodiscard]] uint32_t item_count() const noexcept {
    return static_cast<uint32_t>(items_.size());
  }
  [[nodiscard]] uint32_t item_slot(uint32_t index) const noexcept { return items_[index]; }

 private:
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const noexcept {
      return std::hash<std::string_view>{}(key);
    }
  };
  // Forgets, then re-indexes, what the slots from `first` on contribute.
  void forget_from(uint32_t first);
  void index_from(uint32_t first);

  std::vector<SlotInfo> slots_;
  std::vector<uint32_t> items_;
  std::unordered_map<std::string, uint32_t, KeyHash, std::equal_to<>> first_slot_;
};

}  // namespace uvmbus::kvp::detail
