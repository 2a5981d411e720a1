// What a transport offers the stream and ping-pong drivers: numbered packets
// in, numbered packets out. Every payload starts with its packet's 8-byte
// sequence number and every consumer checks it, so a transport that loses,
// repeats or reorders packets cannot look fast.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>

namespace uvmbus::perf {

// How a consumer waits when its queue is empty.
enum class Consumer : uint8_t {
  poll,       // spins; the producer is asked never to signal
  interrupt,  // asks for a signal, then sleeps on a doorbell until rung
};

// The consumer's running check of sequence numbers: branch-free per packet.
struct SequenceCheck {
  uint64_t expected = 0;  // number of the next packet = packets seen so far
  uint64_t wrong = 0;     // packets that carried another number

  void see(uint64_t sequence) noexcept {
    wrong += sequence != expected;
    ++expected;
  }
};

template <class Q>
concept PacketQueue = requires(Q& q, uint64_t first, std::size_t count, SequenceCheck& check) {
  // Producer: publishes up to `count` packets numbered first, first + 1, ...
  // and returns how many fit. Rings the consumer's doorbell whenever the
  // transport says a signal is needed.
  { q.send(first, count) } noexcept -> std::same_as<std::size_t>;
  // Consumer: takes up to `count` packets, checking each number.
  { q.receive(count, check) } noexcept -> std::same_as<std::size_t>;
  // Doorbells rung so far, by either side (data signals and space signals).
  { q.signals() } noexcept -> std::same_as<uint64_t>;
  // Null while healthy, else why the transport failed; a failed queue sends
  // and receives nothing.
  { q.failure() } noexcept -> std::same_as<const char*>;
};

// A queue whose consumer can sleep: request_signal() asks the producer for a
// signal and returns false if data arrived meanwhile (keep polling instead);
// cancel_signal() goes back to polling.
template <class Q>
concept SleepingQueue = PacketQueue<Q> && requires(Q& q) {
  { q.request_signal() } noexcept -> std::same_as<bool>;
  { q.cancel_signal() } noexcept;
};

// A queue whose producer can sleep while it is full: request_space_signal()
// asks the consumer to signal once enough space is free and returns false if
// it already is (write instead); cancel_space_signal() withdraws the request.
template <class Q>
concept SpaceSignallingQueue = PacketQueue<Q> && requires(Q& q) {
  { q.request_space_signal() } noexcept -> std::same_as<bool>;
  { q.cancel_space_signal() } noexcept;
};

// A queue whose consumer is not one of the benchmark's threads (a device on
// a host worker that consumes without answering): drain() returns once the
// consumer has taken every packet sent so far, false if it did not within
// the queue's own bound or the queue failed.
template <class Q>
concept DrainableQueue = PacketQueue<Q> && requires(Q& q) {
  { q.drain() } noexcept -> std::same_as<bool>;
};

}  // namespace uvmbus::perf
