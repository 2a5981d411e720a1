// Private: RingWordStream writes one packet into the ring's data area as
// aligned 8-byte words, gathering bytes from any number of source pieces and
// wrapping at the end of the data area.
//
// Why words. The ring's lines usually sit in the reader's cache, so every
// store the writer makes waits in the store queue for its line, and x86
// makes stores visible in program order. A load that overlaps a recent store
// but is wider than it (a 32-byte vector load of a payload whose first 8
// bytes the caller just stored) cannot be forwarded from the store queue: it
// waits until that store, and so every ring store queued before it, has
// reached the cache. With vector copies that is one cross-core round trip per
// packet; on the project's machine it cut 64-byte streaming to a quarter.
// Loading and storing 8 bytes at a time keeps such loads forwardable, and
// relaxed atomic stores are never merged into vector stores by the compiler.
// Every word lands on an 8-aligned ring offset, so none straddles the wrap
// point and padding needs no stores of its own: a payload's last partial word
// is zero-filled in a register.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace uvmbus::ring::detail {

// kMayWrap: false when the caller knows the packet ends before the end of
// the data area, which saves a compare per word.
template <bool kMayWrap>
class RingWordStream {
 public:
  // `data` is the 8-aligned data area of `data_size` bytes, `offset` an
  // 8-aligned offset inside it where the packet starts.
  RingWordStream(std::byte* data, uint32_t data_size, uint32_t offset) noexcept
      : begin_(reinterpret_cast<uint64_t*>(data)),
        end_(reinterpret_cast<uint64_t*>(data + data_size)),
        cursor_(reinterpret_cast<uint64_t*>(data + offset)) {}

  // One whole word, at the next 8-aligned position. Only with no bytes pending.
  [[gnu::always_inline]] void put_word(uint64_t word) noexcept {
    std::atomic_ref<uint64_t>(*cursor_).store(word, std::memory_order_relaxed);
    ++cursor_;
    if constexpr (kMayWrap) {
      if (cursor_ == end_) [[unlikely]] {
        cursor_ = begin_;
      }
    }
  }

  // Bytes from one source piece, appended right after the previous piece.
  [[gnu::always_inline]] void put_bytes(const std::byte* src, std::size_t len) noexcept {
    const std::size_t whole = len & ~std::size_t{7};
    if (pending_bytes_ == 0) [[likely]] {
      for (std::size_t done = 0; done < whole; done += 8) {
        put_word(load_word(src + done));
      }
    } else {
      for (std::size_t done = 0; done < whole; done += 8) {
        append(load_word(src + done), 8);
      }
    }
    const auto tail = static_cast<unsigned>(len - whole);
    if (tail != 0) {
      append(load_tail(src + whole, tail, /*may_look_back=*/whole != 0), tail);
    }
  }

  // Ends the piece sequence: a partial last word goes out zero-filled.
  [[gnu::always_inline]] void pad() noexcept {
    if (pending_bytes_ != 0) {
      put_word(pending_);
      pending_ = 0;
      pending_bytes_ = 0;
    }
  }

 private:
  static uint64_t load_word(const std::byte* src) noexcept {
    uint64_t word;
    std::memcpy(&word, src, sizeof word);
    return word;
  }

  // The `len` (1..7) bytes at src in the low bytes of a word, the rest zero.
  // When at least 8 bytes of the same piece precede the end, one load of the
  // 8 bytes ending there and a shift do it.
  static uint64_t load_tail(const std::byte* src, unsigned len, bool may_look_back) noexcept {
    if (may_look_back) {
      return load_word(src + len - 8) >> (8 * (8 - len));
    }
    uint64_t word = 0;
    for (unsigned i = 0; i < len; ++i) {
      word |= uint64_t{static_cast<uint8_t>(src[i])} << (8 * i);
    }
    return word;
  }

  // `len` (1..8) bytes in the low bytes of `bytes`, zero above them.
  [[gnu::always_inline]] void append(uint64_t bytes, unsigned len) noexcept {
    const unsigned had = pending_bytes_;
    pending_ |= had == 0 ? bytes : bytes << (8 * had);
    if (had + len < 8) {
      pending_bytes_ = had + len;
      return;
    }
    put_word(pending_);
    pending_ = had == 0 ? 0 : bytes >> (8 * (8 - had));
    pending_bytes_ = had + len - 8;
  }

  uint64_t* const begin_;
  uint64_t* const end_;
  uint64_t* cursor_;
  uint64_t pending_ = 0;  // bytes not yet stored, in the low pending_bytes_ bytes
  unsigned pending_bytes_ = 0;
};

}  // namespace uvmbus::ring::detail
