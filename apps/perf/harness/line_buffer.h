// Private byte buffers that own whole cache lines: 128-byte aligned and
// rounded up to 128 bytes, so a buffer one thread writes never shares a line
// with heap memory another thread uses.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <memory>

namespace uvmbus::perf {

struct FreeLineBuffer {
  void operator()(std::byte* bytes) const noexcept { std::free(bytes); }
};
using LineBuffer = std::unique_ptr<std::byte[], FreeLineBuffer>;

// Zero-filled; throws std::bad_alloc.
LineBuffer make_line_buffer(std::size_t bytes);

}  // namespace uvmbus::perf
