// One ring case, one run.
#include "ring/ring_runner.h"

#include "harness/doorbell.h"
#include "harness/pingpong.h"
#include "harness/stream.h"
#include "ring/cacheline_queue.h"
#include "ring/rte_ring_queue.h"
#include "ring/uvmbus_queue.h"

namespace uvmbus::perf::ring_bench {
namespace {

// `producer_bell` set: a full producer sleeps until the reader signals.
UvmbusQueueConfig uvmbus_config(const RingCase& c, const RingRunContext& context, Doorbell& consumer_bell,
                                Doorbell* producer_bell) {
  return UvmbusQueueConfig{
      .payload_bytes = c.payload_bytes,
      .max_burst = c.batch,
      .data_bytes = context.ring_bytes,
      .reader = *c.reader,
      .commit = c.impl == Impl::uvmbus_unbatched ? CommitPolicy::per_packet : CommitPolicy::per_batch,
      .consumer_bell = &consumer_bell,
      .producer_bell = producer_bell,
  };
}

Metrics measure_stream(const RingCase& c, const RingRunContext& context) {
  Doorbell consumer_bell;
  Doorbell producer_bell;
  const bool interrupt = c.consumer == Consumer::interrupt;
  StreamSettings settings{.payload_bytes = c.payload_bytes,
                          .batch = c.batch,
                          .duration_s = context.duration_s,
                          .consumer = c.consumer,
                          .consumer_bell = &consumer_bell,
                          .producer_bell = &producer_bell};
  if (c.impl == Impl::rte_ring) {
    RteRingQueue queue(c.payload_bytes, context.ring_bytes, c.batch);
    return run_stream(context.topology, context.cpus, queue, settings);
  }
  UvmbusQueue queue(uvmbus_config(c, context, consumer_bell, interrupt ? &producer_bell : nullptr));
  return run_stream(context.topology, context.cpus, queue, settings);
}

Metrics measure_pingpong(const RingCase& c, const RingRunContext& context) {
  Doorbell ping_bell;
  Doorbell pong_bell;
  PingPongSettings settings{.payload_bytes = c.payload_bytes,
                            .duration_s = context.duration_s,
                            .consumer = c.consumer,
                            .ping_bell = &ping_bell,
                            .pong_bell = &pong_bell};
  switch (c.impl) {
    case Impl::rte_ring: {
      RteRingQueue ping(c.payload_bytes, context.ring_bytes, 1);
      RteRingQueue pong(c.payload_bytes, context.ring_bytes, 1);
      return run_pingpong(context.topology, context.cpus, ping, pong, settings);
    }
    case Impl::cacheline: {
      CachelineQueue ping;
      CachelineQueue pong;
      return run_pingpong(context.topology, context.cpus, ping, pong, settings);
    }
    case Impl::uvmbus:
    case Impl::uvmbus_unbatched:
      break;
  }
  // One packet in flight: never full, so the producers never wait for space.
  UvmbusQueue ping(uvmbus_config(c, context, ping_bell, nullptr));
  UvmbusQueue pong(uvmbus_config(c, context, pong_bell, nullptr));
  return run_pingpong(context.topology, context.cpus, ping, pong, settings);
}

}  // namespace

static_assert(SleepingQueue<UvmbusQueue> && SpaceSignallingQueue<UvmbusQueue>);

Metrics measure_case(const RingCase& c, const RingRunContext& context) {
  return c.mode == Mode::stream ? measure_stream(c, context) : measure_pingpong(c, context);
}

}  // namespace uvmbus::perf::ring_bench
