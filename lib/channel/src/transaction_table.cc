// TransactionTable: id encoding, the free-slot stack and completion matching.
#include "uvmbus/channel/transaction_table.h"

#include <algorithm>

namespace uvmbus::channel {

TransactionTable::TransactionTable(uint32_t capacity)
    : slots_(std::clamp<uint32_t>(capacity, 1, kMaxCapacity)), free_(slots_.size()) {
  // Hand out low slots first.
  for (std::size_t i = 0; i < free_.size(); ++i) {
    free_[i] = static_cast<uint16_t>(free_.size() - 1 - i);
  }
  free_count_ = free_.size();
}

std::optional<uint64_t> TransactionTable::allocate(uint64_t cookie) noexcept {
  if (free_count_ == 0) {
    return std::nullopt;
  }
  const uint16_t index = free_[--free_count_];
  Slot& slot = slots_[index];
  slot.in_use = true;
  slot.cookie = cookie;
  return slot.generation << 16 | (uint64_t{index} + 1);
}

void TransactionTable::release(uint32_t index) noexcept {
  Slot& slot = slots_[index];
  slot.in_use = false;
  slot.cookie = 0;
  slot.generation = (slot.generation + 1) & kGenerationMask;
  free_[free_count_++] = static_cast<uint16_t>(index);
}

TransactionTable::Completion TransactionTable::complete(uint64_t id) noexcept {
  const uint64_t slot_number = id & 0xFFFF;
  const uint64_t generation = id >> 16;
  if (slot_number == 0 || slot_number > slots_.size() || generation > kGenerationMask) {
    return {Match::unknown, 0};
  }
  const uint32_t index = static_cast<uint32_t>(slot_number - 1);
  const Slot& slot = slots_[index];
  if (slot.in_use && generation == slot.generation) {
    const uint64_t cookie = slot.cookie;
    release(index);
    return {Match::matched, cookie};
  }
  // The slot has issued generations 1 .. slot.generation (the last one is in
  // flight or not issued yet). `age` counts back from the current one; ids
  // "from the future" come out as huge ages (the subtraction wraps).
  const uint64_t age = (slot.generation - generation) & kGenerationMask;
  if (age == 0 || age >= slot.generation) {
    return {Match::unknown, 0};
  }
  return {age == 1 ? Match::duplicate : Match::stale, 0};
}

std::optional<uint64_t> TransactionTable::take_any() noexcept {
  if (in_flight() == 0) {
    return std::nullopt;
  }
  for (std::size_t visited = 0; visited < slots_.size(); ++visited) {
    const std::size_t index = scan_;
    scan_ = (scan_ + 1) % slots_.size();
    if (slots_[index].in_use) {
      const uint64_t cookie = slots_[index].cookie;
      release(static_cast<uint32_t>(index));
      return cookie;
    }
  }
  return std::nullopt;
}

}  // namespace uvmbus::channel
