// mmap-backed RingArea.
#include "ring/ring_area.h"

#include <sys/mman.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace uvmbus::perf::ring_bench {

RingArea::RingArea(uint32_t data_bytes, bool pending_send_feature) : bytes_(std::size_t{wire::kHvPageSize} + data_bytes) {
  base_ = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (base_ == MAP_FAILED) {
    throw std::runtime_error(fmt::format("cannot map {} bytes for a ring: {}", bytes_, std::strerror(errno)));
  }
  const auto memory = ring::ring_memory_from(base_, bytes_);
  if (!memory) {
    munmap(base_, bytes_);
    throw std::runtime_error(fmt::format("the ring library rejects a {}-byte data area", data_bytes));
  }
  memory_ = *memory;
  ring::init_ring_header(*memory_.header, pending_send_feature);
}

RingArea::~RingArea() { munmap(base_, bytes_); }

}  // namespace uvmbus::perf::ring_bench
