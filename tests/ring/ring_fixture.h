// Test support for lib/ring: ring memory (heap or mirrored memfd mapping),
// packet builders and payload patterns.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "uvmbus/ring/ring.h"

namespace uvmbus::ring::test {

// Owns [header page][data] memory for one ring. A mirrored ring maps its data
// pages twice back to back (memfd), as RingMemory::mirrored describes.
class TestRing {
 public:
  explicit TestRing(uint32_t data_size, bool mirrored = false, bool pending_send_feature = true);
  ~TestRing();
  TestRing(const TestRing&) = delete;
  TestRing& operator=(const TestRing&) = delete;

  RingMemory memory() const { return memory_; }
  wire::RingHeader& header() { return *memory_.header; }
  std::byte* data() { return memory_.data; }
  uint32_t data_size() const { return memory_.data_size; }

  // Places both indices at `offset` (before anyone attaches), so a test can
  // start writing at any position of the ring.
  void start_at(uint32_t offset);

 private:
  RingMemory memory_{};
  void* mapping_ = nullptr;
  std::size_t mapping_bytes_ = 0;
};

// Deterministic bytes for packet `seq`, so a reader can check every byte.
std::vector<std::byte> pattern(std::size_t size, uint64_t seq);

// One-iovec in-band packet over `payload` (which must outlive the packet).
struct SinglePacket {
  explicit SinglePacket(std::span<const std::byte> payload, uint64_t trans_id = 0,
                        uint16_t flags = 0);
  SinglePacket(const SinglePacket&) = delete;
  SinglePacket& operator=(const SinglePacket&) = delete;
  iovec segment;
  OutPacket packet;
};

}  // namespace uvmbus::ring::test
