// Single-thread costs of the VMBus ring: writing and committing a batch,
// iterating a batch in place, copying a batch out, for 64 B and 1500 B
// payloads, against a plain memcpy of the same payloads as the baseline.
//
// The peer of each measured side is "instant": one store of the shared index
// per batch. The writer's reader publishes read_index = write_index; the
// reader's writer advances write_index over a data area pre-filled with valid
// packets, sized to a whole number of packets so every offset a packet starts
// at holds one.
#include <benchmark/benchmark.h>
#include <sys/uio.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <numeric>
#include <span>
#include <vector>

#include "uvmbus/ring/ring.h"
#include "uvmbus/ring/ring_memory.h"

namespace {

using namespace uvmbus;

// Arguments: {payload bytes, packets per batch}.
void batch_args(benchmark::internal::Benchmark* bench) {
  for (int64_t payload : {64, 1500}) {
    for (int64_t batch : {1, 32}) {
      bench->Args({payload, batch});
    }
  }
}

// Header page + a data area that is a whole number of pages and of packets
// of `packet_bytes`, and holds at least 64 of them.
class BenchRing {
 public:
  explicit BenchRing(uint32_t packet_bytes) {
    const uint32_t unit = std::lcm(packet_bytes, wire::kHvPageSize);
    uint32_t data_bytes = unit;
    while (data_bytes < ring::kMinDataSize || data_bytes / packet_bytes < 64) {
      data_bytes += unit;
    }
    bytes_ = wire::kHvPageSize + data_bytes;
    storage_.reset(new (std::align_val_t{wire::kHvPageSize}) std::byte[bytes_]);
    memory_ = *ring::ring_memory_from(storage_.get(), bytes_);
    ring::init_ring_header(*memory_.header, false);
  }

  const ring::RingMemory& memory() const { return memory_; }
  uint32_t& write_index() { return memory_.header->write_index; }
  uint32_t& read_index() { return memory_.header->read_index; }

 private:
  struct AlignedDelete {
    void operator()(std::byte* bytes) const { ::operator delete[](bytes, std::align_val_t{wire::kHvPageSize}); }
  };
  std::size_t bytes_ = 0;
  std::unique_ptr<std::byte[], AlignedDelete> storage_;
  ring::RingMemory memory_{};
};

// One payload gathered from one iovec, sequence number first.
struct Payload {
  explicit Payload(std::size_t bytes) : data(bytes), gather{data.data(), bytes} {
    packet.payload = std::span<const iovec>(&gather, 1);
  }
  std::vector<std::byte> data;
  iovec gather;
  ring::OutPacket packet;
};

uint32_t ring_bytes_of(std::size_t payload) {
  return static_cast<uint32_t>(ring::packet_ring_bytes(0, payload));
}

void set_rates(benchmark::State& state, std::size_t payload, std::size_t batch) {
  const auto packets = static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(batch);
  state.SetItemsProcessed(packets);
  state.SetBytesProcessed(packets * static_cast<int64_t>(payload));
}

// RingWriter::write x batch + commit; the instant reader frees it all.
void BM_write_commit(benchmark::State& state) {
  const auto payload_bytes = static_cast<std::size_t>(state.range(0));
  const auto batch = static_cast<std::size_t>(state.range(1));
  BenchRing ring(ring_bytes_of(payload_bytes));
  ring::RingReader(ring.memory()).mask_interrupts();  // a polling reader: no signals
  ring::RingWriter writer(ring.memory());
  Payload payload(payload_bytes);
  uint64_t sequence = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < batch; ++i, ++sequence) {
      std::memcpy(payload.data.data(), &sequence, sizeof sequence);
      benchmark::DoNotOptimize(writer.write(payload.packet));
    }
    benchmark::DoNotOptimize(writer.commit());
    std::atomic_ref<uint32_t>(ring.read_index())
        .store(std::atomic_ref<uint32_t>(ring.write_index()).load(std::memory_order_relaxed),
               std::memory_order_release);
  }
  if (writer.stats().full != 0 || writer.corrupt()) {
    state.SkipWithError("the writer hit a full or corrupt ring");
  }
  set_rates(state, payload_bytes, batch);
}

// A ring whose whole data area holds valid packets, and a reader on it.
struct FilledRing {
  explicit FilledRing(std::size_t payload_bytes) : ring(ring_bytes_of(payload_bytes)) {
    ring::RingWriter writer(ring.memory());
    Payload payload(payload_bytes);
    const uint32_t packets = ring.memory().data_size / ring_bytes_of(payload_bytes);
    for (uint32_t i = 0; i < packets; ++i) {
      benchmark::DoNotOptimize(writer.write(payload.packet));
      benchmark::DoNotOptimize(writer.commit());
      std::atomic_ref<uint32_t>(ring.read_index()).store(ring.write_index(), std::memory_order_relaxed);
    }
    ring::init_ring_header(*ring.memory().header, false);  // back to empty at offset 0
    reader = std::make_unique<ring::RingReader>(ring.memory());
    reader->mask_interrupts();
  }

  // The instant writer: `packets` more packets published.
  void publish(std::size_t packets, uint32_t packet_bytes) {
    const uint32_t size = ring.memory().data_size;
    auto index = std::atomic_ref<uint32_t>(ring.write_index());
    index.store(static_cast<uint32_t>((index.load(std::memory_order_relaxed) + packets * packet_bytes) % size),
                std::memory_order_release);
  }

  BenchRing ring;
  std::unique_ptr<ring::RingReader> reader;
};

template <bool kCopyOut>
void read_batches(benchmark::State& state) {
  const auto payload_bytes = static_cast<std::size_t>(state.range(0));
  const auto batch = static_cast<std::size_t>(state.range(1));
  FilledRing filled(payload_bytes);
  std::vector<std::byte> copy(filled.reader->max_packet_bytes());
  std::size_t packets = 0;
  for (auto _ : state) {
    filled.publish(batch, ring_bytes_of(payload_bytes));
    ring::InPacket packet;
    for (std::size_t i = 0; i < batch; ++i) {
      const ring::ReadStatus status =
          kCopyOut ? filled.reader->next_copy(copy, packet) : filled.reader->next(packet);
      uint64_t sequence = 0;
      std::memcpy(&sequence, packet.payload().data(), sizeof sequence);
      benchmark::DoNotOptimize(sequence);
      packets += status == ring::ReadStatus::ok;
    }
    benchmark::DoNotOptimize(filled.reader->commit());
  }
  if (packets != static_cast<std::size_t>(state.iterations()) * batch) {
    state.SkipWithError("the reader missed packets");
  }
  set_rates(state, payload_bytes, batch);
}

// RingReader::next x batch + commit.
void BM_read_inplace(benchmark::State& state) { read_batches<false>(state); }
// RingReader::next_copy x batch + commit.
void BM_read_copy(benchmark::State& state) { read_batches<true>(state); }

// Baseline: a plain memcpy of each payload, the floor of any copy-out.
void BM_memcpy_baseline(benchmark::State& state) {
  const auto payload_bytes = static_cast<std::size_t>(state.range(0));
  const auto batch = static_cast<std::size_t>(state.range(1));
  std::vector<std::byte> source(payload_bytes * batch);
  std::vector<std::byte> destination(payload_bytes);
  for (auto _ : state) {
    for (std::size_t i = 0; i < batch; ++i) {
      std::memcpy(destination.data(), source.data() + i * payload_bytes, payload_bytes);
      benchmark::ClobberMemory();
    }
  }
  set_rates(state, payload_bytes, batch);
}

BENCHMARK(BM_write_commit)->Apply(batch_args);
BENCHMARK(BM_read_inplace)->Apply(batch_args);
BENCHMARK(BM_read_copy)->Apply(batch_args);
BENCHMARK(BM_memcpy_baseline)->Apply(batch_args);

}  // namespace

BENCHMARK_MAIN();
