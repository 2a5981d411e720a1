// Test support for lib/ring: ring memory, packet builders, payload patterns.
#include "ring_fixture.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace uvmbus::ring::test {

TestRing::TestRing(uint32_t data_size, bool mirrored, bool pending_send_feature) {
  const std::size_t ring_bytes = wire::kHvPageSize + std::size_t{data_size};
  if (!mirrored) {
    mapping_bytes_ = ring_bytes;
    mapping_ = mmap(nullptr, mapping_bytes_, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapping_ == MAP_FAILED) {
      throw std::runtime_error("mmap failed");
    }
  } else {
    const int fd = memfd_create("test-ring", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, static_cast<off_t>(ring_bytes)) != 0) {
      throw std::runtime_error("memfd failed");
    }
    mapping_bytes_ = ring_bytes + data_size;
    mapping_ = mmap(nullptr, mapping_bytes_, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    auto* base = static_cast<std::byte*>(mapping_);
    const bool ok =
        mapping_ != MAP_FAILED &&
        mmap(base, ring_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) == base &&
        mmap(base + ring_bytes, data_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
             wire::kHvPageSize) == base + ring_bytes;
    close(fd);
    if (!ok) {
      throw std::runtime_error("mirrored mmap failed");
    }
  }
  memory_ = *ring_memory_from(mapping_, ring_bytes);
  memory_.mirrored = mirrored;
  init_ring_header(*memory_.header, pending_send_feature);
}

TestRing::~TestRing() { munmap(mapping_, mapping_bytes_); }

void TestRing::start_at(uint32_t offset) {
  header().write_index = offset;
  header().read_index = offset;
}

std::vector<std::byte> pattern(std::size_t size, uint64_t seq) {
  std::vector<std::byte> bytes(size);
  uint64_t x = seq * 0x9E3779B97F4A7C15ull + 1;
  for (auto& b : bytes) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    b = static_cast<std::byte>(x);
  }
  return bytes;
}

SinglePacket::SinglePacket(std::span<const std::byte> payload, uint64_t trans_id, uint16_t flags)
    : segment{const_cast<std::byte*>(payload.data()), payload.size()},
      packet{.type = wire::PacketType::data_inband,
             .flags = flags,
             .trans_id = trans_id,
             .header_ext = {},
             .payload = {&segment, 1}} {}

}  // namespace uvmbus::ring::test
