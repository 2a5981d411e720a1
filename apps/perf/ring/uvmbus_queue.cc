// UvmbusQueue: numbered packets through RingWriter and RingReader.
#include "ring/uvmbus_queue.h"

#include <cstring>
#include <span>

namespace uvmbus::perf::ring_bench {

UvmbusQueue::ProducerSide::ProducerSide(const UvmbusQueueConfig& config, const ring::RingMemory& memory)
    : writer(memory),
      payload(std::make_unique<std::byte[]>(config.payload_bytes)),
      gather{.iov_base = payload.get(), .iov_len = config.payload_bytes},
      consumer_bell(config.consumer_bell) {
  packet.type = wire::PacketType::data_inband;
  packet.payload = std::span<const iovec>(&gather, 1);
}

UvmbusQueue::ConsumerSide::ConsumerSide(const ring::RingMemory& memory)
    : reader(memory), copy(std::make_unique<std::byte[]>(reader.max_packet_bytes())) {}

UvmbusQueue::UvmbusQueue(const UvmbusQueueConfig& config)
    : area_(config.data_bytes),
      commit_per_packet_(config.commit == CommitPolicy::per_packet),
      read_in_place_(config.reader == ReaderMode::in_place),
      producer_(config, area_.memory()),
      consumer_(area_.memory()) {
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
  // The producers here poll when full and never arm pending_send_sz, so a
  // space signal would only be counted: nobody sleeps waiting for it.
  if (consumer_.reader.commit() == ring::Signal::needed) {
    ++consumer_.signals;
  }
}

std::size_t UvmbusQueue::send(uint64_t first, std::size_t count) noexcept {
  std::size_t sent = 0;
  for (; sent < count; ++sent) {
    const uint64_t sequence = first + sent;
    std::memcpy(producer_.payload.get(), &sequence, sizeof sequence);
    const ring::WriteStatus status = producer_.writer.write(producer_.packet);
    if (status != ring::WriteStatus::ok) {
      if (status != ring::WriteStatus::full) {
        fail(status == ring::WriteStatus::too_large ? "packet larger than the ring accepts"
                                                     : ring::to_string(producer_.writer.error()));
      }
      break;
    }
    if (commit_per_packet_) {
      publish_writes();
    }
  }
  if (!commit_per_packet_ && sent > 0) {
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
