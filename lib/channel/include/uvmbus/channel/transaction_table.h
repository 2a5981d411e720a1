// TransactionTable: the in-flight requests of one channel. Each request that
// asks the host for a completion gets a transaction id from here, and the
// completion's id finds the request's cookie again.
//
// Ids are (generation << 16) | (slot + 1): never zero (Hyper-V does not
// answer requests with id 0), and the generation, bumped every time a slot is
// freed, tells a stale id from a live one. A completion is classified as
//   matched    the slot is in use with this generation (the slot is freed);
//   duplicate  the slot's latest completed transaction, completed again;
//   stale      an older generation of the slot: a late or replayed id;
//   unknown    anything else: slot out of range or never issued.
// (Generations count modulo 2^48; a slot would need that many reuses before
// an old id could match again.) Only `matched` changes the table, so a hostile host can neither free a
// request it was not given nor complete one twice.
//
// allocate() and complete() are O(1) (a stack of free slots) and never
// allocate memory. Not thread-safe: owned by the channel's worker.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace uvmbus::channel {

class TransactionTable {
 public:
  static constexpr uint32_t kMaxCapacity = 0xFFFF;

  enum class Match : uint8_t { matched, duplicate, stale, unknown };

  struct Completion {
    Match match;
    uint64_t cookie;  // the request's cookie when matched, else 0
  };

  // `capacity` in [1, kMaxCapacity] (clamped).
  explicit TransactionTable(uint32_t capacity);

  // A fresh id for a request carrying `cookie`, or nullopt when full.
  [[nodiscard]] std::optional<uint64_t> allocate(uint64_t cookie) noexcept;
  // Classifies a completion's id; frees the slot if it matched.
  [[nodiscard]] Completion complete(uint64_t id) noexcept;
  // Removes one in-flight request (any) and returns its cookie; nullopt when
  // none is left. For failing every request when the channel ends.
  [[nodiscard]] std::optional<uint64_t> take_any() noexcept;

  uint32_t in_flight() const noexcept { return capacity() - static_cast<uint32_t>(free_count_); }
  uint32_t capacity() const noexcept { return static_cast<uint32_t>(slots_.size()); }

 private:
  static constexpr uint64_t kGenerationMask = (uint64_t{1} << 48) - 1;

  struct Slot {
    uint64_t cookie = 0;
    uint64_t generation = 1;  // of the current (in use) or next transaction
    bool in_use = false;
  };

  void release(uint32_t slot) noexcept;

  std::vector<Slot> slots_;
  std::vector<uint16_t> free_;  // stack of free slot indices
  std::size_t free_count_ = 0;
  std::size_t scan_ = 0;  // take_any()'s cursor
};

}  // namespace uvmbus::channel
