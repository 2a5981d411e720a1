// UvmbusQueue: numbered packets through RingWriter and RingReader.
#include "ring/uvmbus_queue.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <span>
#include <stdexcept>

namespace uvmbus::perf::ring_bench {

UvmbusQueue::ProducerSide::ProducerSide(const UvmbusQueueConfig& config, const ring::RingMemory& memory)
    : writer(memory),
      max_burst(config.max_burst),
      payload_stride((config.payload_bytes + 63) & ~std::size_t{63}),
      payloads(make_line_buffer(payload_stride * max_burst)),
      gathers(std::make_unique<iovec[]>(max_burst)),
      packets(std::make_unique<ring::OutPacket[]>(max_burst)),
      space_wanted(std::max(static_cast<uint32_t>(ring::packet_ring_bytes(0, config.payload_bytes)),
                            writer.data_size() / 4)),
      consumer_bell(config.consumer_bell) {
  for (std::size_t i = 0; i < max_burst; ++i) {
    gathers[i] = iovec{.iov_base = payloads.get() + i * payload_stride, .iov_len = config.payload_bytes};
    packets[i].type = wire::PacketType::data_inband;
    packets[i].payload = std::span<const iovec>(&gathers[i], 1);
  }
}

UvmbusQueue::ConsumerSide::ConsumerSide(const UvmbusQueueConfig& config, const ring::RingMemory& memory)
    : reader(memory), copy(make_line_buffer(reader.max_packet_bytes())), producer_bell(config.producer_bell) {}

UvmbusQueue::UvmbusQueue(const UvmbusQueueConfig& config)
    : area_(config.data_bytes, /*pending_send_feature=*/config.producer_bell != nullptr),
      commit_per_packet_(config.commit == CommitPolicy::per_packet),
      read_in_place_(config.reader == ReaderMode::in_place),
      producer_(config, area_.memory()),
      consumer_(config, area_.memory()) {
  // Every payload size the options allow fits every ring size they allow;
  // a packet that never fits would make send() return 0 forever.
  if (ring::packet_ring_bytes(0, config.payload_bytes) > producer_.writer.max_packet_bytes()) {
    throw std::runtime_error(fmt::format("a {}-byte payload does not fit a {}-byte ring", config.payload_bytes,
                                         config.data_bytes));
  }
  // The consumer starts out busy: masked, so the producer does not signal
  // until the consumer finds the ring empty and asks for it.
  consumer_.reader.mask_interrupts();
}

void UvmbusQueue::fail(const char* reason) noexcept {
  const char* healthy = nullptr;
  failure_.reason.compare_exchange_strong(healthy, reason, std::memory_order_relaxed);
}

void UvmbusQueue::publish_writes() noexcept {
  if (producer_.writer.commit() == ring::Signal::needed) {
    ++producer_.signals;
    if (producer_.consumer_bell != nullptr) {
      producer_.consumer_bell->ring();
    }
  }
}

void UvmbusQueue::publish_reads() noexcept {
  if (consumer_.reader.commit() == ring::Signal::needed) {
    ++consumer_.signals;
    if (consumer_.producer_bell != nullptr) {
      consumer_.producer_bell->ring();
    }
  }
}

std::size_t UvmbusQueue::send(uint64_t first, std::size_t count) noexcept {
  count = std::min(count, producer_.max_burst);
  // Number the burst before writing any of it, so no payload is read back
  // right after its number was stored.
  for (std::size_t i = 0; i < count; ++i) {
    const uint64_t sequence = first + i;
    std::memcpy(producer_.payloads.get() + i * producer_.payload_stride, &sequence, sizeof sequence);
  }
  ring::RingWriter& writer = producer_.writer;
  if (!commit_per_packet_) {
    const ring::WriteBurst burst = writer.write_burst(std::span(producer_.packets.get(), count));
    const std::size_t sent = burst.written;
    if (burst.status == ring::WriteStatus::corrupt) {
      fail(ring::to_string(writer.error()));
    } else if (burst.status == ring::WriteStatus::too_large) {
      fail("packet larger than the ring accepts");
    }
    if (sent > 0) {
      publish_writes();
    }
    return sent;
  }
  std::size_t sent = 0;
  for (; sent < count; ++sent) {
    const ring::WriteStatus status = writer.write(producer_.packets[sent]);
    if (status != ring::WriteStatus::ok) {
      if (status != ring::WriteStatus::full) {
        fail(ring::to_string(writer.error()));
      }
      break;
    }
    publish_writes();
  }
  return sent;
}

std::size_t UvmbusQueue::receive(std::size_t count, SequenceCheck& check) noexcept {
  const std::span<std::byte> copy(consumer_.copy.get(), consumer_.reader.max_packet_bytes());
  std::size_t received = 0;
  for (; received < count; ++received) {
    ring::InPacket packet;
    const ring::ReadStatus status =
        read_in_place_ ? consumer_.reader.next(packet) : consumer_.reader.next_copy(copy, packet);
    if (status != ring::ReadStatus::ok) {
      if (status != ring::ReadStatus::empty) {
        fail(status == ring::ReadStatus::buffer_small ? "copy-out buffer too small"
                                                       : ring::to_string(consumer_.reader.error()));
      }
      break;
    }
    uint64_t sequence = 0;
    std::memcpy(&sequence, packet.payload().data(), sizeof sequence);
    check.see(sequence);
    if (commit_per_packet_) {
      publish_reads();
    }
  }
  if (!commit_per_packet_ && received > 0) {
    publish_reads();
  }
  return received;
}

uint64_t UvmbusQueue::signals() const noexcept { return producer_.signals + consumer_.signals; }

}  // namespace uvmbus::perf::ring_bench
