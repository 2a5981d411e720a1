// In-memory index of one pool file.
#include "pool_index.h"

#include <algorithm>

namespace uvmbus::kvp::detail {

namespace {

bool is_addressable(RecordState state) noexcept {
  return state == RecordState::valid || state == RecordState::bad_value;
}

}  // namespace

void PoolIndex::clear() {
  slots_.clear();
  items_.clear();
  first_slot_.clear();
}

void PoolIndex::append(SlotInfo slot) {
  slots_.push_back(std::move(slot));
  index_from(static_cast<uint32_t>(slots_.size() - 1));
}

void PoolIndex::set_state(uint32_t slot, RecordState state) {
  if (slots_[slot].state != state) {
    forget_from(slot);
    slots_[slot].state = state;
    index_from(slot);
  }
}

void PoolIndex::erase(const std::vector<uint32_t>& slots) {
  if (slots.empty()) {
    return;
  }
  const uint32_t first = slots.front();
  forget_from(first);
  uint32_t kept = first;
  std::size_t next = 0;
  for (uint32_t number = first; number < slots_.size(); ++number) {
    if (next < slots.size() && slots[next] == number) {
      ++next;
    } else {
      slots_[kept++] = std::move(slots_[number]);
    }
  }
  slots_.resize(kept);
  index_from(first);
}

std::optional<uint32_t> PoolIndex::find(std::string_view key) const {
  const auto found = first_slot_.find(key);
  if (found == first_slot_.end()) {
    return std::nullopt;
  }
  return found->second;
}

void PoolIndex::forget_from(uint32_t first) {
  for (uint32_t number = first; number < slots_.size(); ++number) {
    if (is_addressable(slots_[number].state)) {
      const auto found = first_slot_.find(slots_[number].key);
      if (found != first_slot_.end() && found->second == number) {
        first_slot_.erase(found);
      }
    }
  }
  items_.erase(std::lower_bound(items_.begin(), items_.end(), first), items_.end());
}

void PoolIndex::index_from(uint32_t first) {
  for (uint32_t number = first; number < slots_.size(); ++number) {
    const SlotInfo& slot = slots_[number];
    if (is_addressable(slot.state)) {
      first_slot_.try_emplace(slot.key, number);
    }
    if (slot.state == RecordState::valid) {
      items_.push_back(number);
    }
  }
}

}  // namespace uvmbus::kvp::detail
