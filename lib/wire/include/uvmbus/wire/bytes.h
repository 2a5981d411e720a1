// Copying wire structs out of and into byte buffers.
//
// Parsers never cast a buffer to a struct pointer: they check the bounds,
// then copy the struct out once (so a peer that changes shared memory cannot
// change a field between its check and its use) and copy replies back in.
// Wire integers are little-endian, which is also the only host byte order
// uvmbus builds for.
#pragma once

#include <bit>
#include <cassert>
#include <cstddef>
#include <cstring>
#include <span>
#include <type_traits>

namespace uvmbus::wire {

static_assert(std::endian::native == std::endian::little,
              "wire structs are little-endian and copied without byte swapping");

// True if `bytes` holds a T at `offset`.
template <class T>
[[nodiscard]] constexpr bool fits(std::span<const std::byte> bytes, std::size_t offset) noexcept {
  return offset <= bytes.size() && bytes.size() - offset >= sizeof(T);
}

// Copies the T at `offset` out of `bytes`. Precondition: fits<T>(bytes, offset).
template <class T>
[[nodiscard]] T load(std::span<const std::byte> bytes, std::size_t offset = 0) noexcept {
  static_assert(std::is_trivially_copyable_v<T>);
  assert(fits<T>(bytes, offset));
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

// Copies `value` into `bytes` at `offset`. Precondition: fits<T>(bytes, offset).
template <class T>
void store(std::span<std::byte> bytes, std::size_t offset, const T& value) noexcept {
  static_assert(std::is_trivially_copyable_v<T>);
  assert(fits<T>(bytes, offset));
  std::memcpy(bytes.data() + offset, &value, sizeof(T));
}

}  // namespace uvmbus::wire
