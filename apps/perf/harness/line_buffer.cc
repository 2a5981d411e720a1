// Cache-line-owning allocations.
#include "harness/line_buffer.h"

#include <cstring>
#include <new>

namespace uvmbus::perf {

LineBuffer make_line_buffer(std::size_t bytes) {
  constexpr std::size_t kLine = 128;
  const std::size_t rounded = (bytes + kLine - 1) / kLine * kLine;
  LineBuffer buffer(static_cast<std::byte*>(std::aligned_alloc(kLine, rounded)));
  if (!buffer) {
    throw std::bad_alloc();
  }
  std::memset(buffer.get(), 0, rounded);
  return buffer;
}

}  // namespace uvmbus::perf
