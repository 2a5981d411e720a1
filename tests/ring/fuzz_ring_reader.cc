// libFuzzer target: arbitrary ring contents (header words and data area) and
// an arbitrary script of reader/writer calls, including header words changed
// between calls as a hostile peer would. The ring must report errors, never
// read or write outside its memory (ASan) or loop.
#include <cstring>
#include <vector>

#include "ring_fixture.h"

namespace {

using uvmbus::ring::InPacket;
using uvmbus::ring::OutPacket;
using uvmbus::ring::ReadStatus;
using uvmbus::ring::RingReader;
using uvmbus::ring::RingWriter;
using uvmbus::ring::test::TestRing;

// Rings are created once per shape: memfd mappings are too slow per input.
TestRing& ring_for(uint8_t shape) {
  static TestRing* rings[8] = {};
  const uint32_t pages = 2 + (shape & 3);
  const bool mirrored = (shape & 4) != 0;
  TestRing*& ring = rings[shape & 7];
  if (ring == nullptr) ring = new TestRing(pages * 4096, mirrored);
  return *ring;
}

struct Input {
  const uint8_t* data;
  size_t size;
  uint8_t byte() {
    if (size == 0) return 0;
    --size;
    return *data++;
  }
  uint32_t word() {
    uint32_t w = 0;
    for (int i = 0; i < 4; ++i) w |= uint32_t{byte()} << (8 * i);
    return w;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in{data, size};
  TestRing& ring = ring_for(in.byte());
  auto& header = ring.header();
  header.write_index = in.word();
  header.read_index = in.word();
  header.pending_send_sz = in.word();
  header.feature_bits = in.byte() & 1;
  header.interrupt_mask = 0;

  uint8_t script[32];
  for (auto& op : script) op = in.byte();
  std::memset(ring.data(), 0, ring.data_size());
  std::memcpy(ring.data(), in.data, std::min<size_t>(in.size, ring.data_size()));

  RingReader reader(ring.memory());
  RingWriter writer(ring.memory());
  static std::vector<std::byte> buffer(1 << 20);
  std::byte payload[300] = {};
  iovec segment{payload, 0};
  InPacket packet;
  for (const uint8_t op : script) {
    switch (op % 8) {
      case 0: (void)reader.next(packet); break;
      case 1: (void)reader.next_copy({buffer.data(), op * 16u}, packet); break;
      case 2: (void)reader.next_copy(buffer, packet); break;
      case 3: (void)reader.commit(); break;
      case 4: (void)reader.unmask_interrupts(); break;
      case 5: {
        segment.iov_len = op;
        const OutPacket out{.payload = {&segment, 1}};
        (void)writer.write(out);
        break;
      }
      case 6: (void)writer.commit(); (void)writer.arm_pending_send(op * 8u); break;
      case 7:  // the peer rewrites an index between calls
        if (op & 8) {
          header.write_index = static_cast<uint32_t>(op) * 8u;
        } else {
          header.read_index = static_cast<uint32_t>(op) * 8u;
        }
        break;
    }
    if (packet.bytes.data() != nullptr) {
      // Touch what the reader handed out: it must be inside valid memory.
      volatile std::byte sink = packet.bytes.empty() ? std::byte{0} : packet.bytes.back();
      (void)sink;
    }
  }
  return 0;
}
