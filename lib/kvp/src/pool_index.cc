// In-memory index of one pool file.
#include "pool_index.h"

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
  const auto number = static_cast<uint32_t>(slots_.size());
  if (is_addressable(slot.state)) {
    first_slot_.try_emplace(slot.key, number);
  }
  if (slot.state == RecordState::valid) {
    items_.push_back(number);
  }
  slots_.push_back(std::move(slot));
}

void PoolIndex::set_state(uint32_t slot, RecordState state) {
  if (slots_[slot].state != state) {
    slots_[slot].state = state;
    rebuild();
  }
}

void PoolIndex::erase(const std::vector<uint32_t>& slots) {
  std::vector<SlotInfo> kept;
  kept.reserve(slots_.size());
  std::size_t next = 0;
  for (uint32_t number = 0; number < slots_.size(); ++number) {
    if (next < slots.size() && slots[next] == number) {
      ++next;
    } else {
      kept.push_back(std::move(slots_[number]));
    }
  }
  slots_ = std::move(kept);
  rebuild();
}

std::optional<uint32_t> PoolIndex::find(std::string_view key) const {
  const auto found = first_slot_.find(key);
  if (found == first_slot_.end()) {
    return std::nullopt;
  }
  return found->second;
}

void PoolIndex::rebuild() {
  std::vector<SlotInfo> slots = std::move(slots_);
  clear();
  slots_.reserve(slots.size());
  for (SlotInfo& slot : slots) {
    append(std::move(slot));
  }
}

}  // namespace uvmbus::kvp::detail
