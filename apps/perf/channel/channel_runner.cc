// One channel case, one run.
#include "channel/channel_runner.h"

#include <exception>
#include <memory>

#include "channel/channel_queue.h"
#include "channel/embedded_host.h"
#include "channel/guest_session.h"
#include "harness/pingpong.h"
#include "harness/stream.h"
#include "ring/ring_runner.h"
#include "uvmbus/host/builtin_devices.h"

namespace uvmbus::perf::channel_bench {
namespace {

// The embedded server's per-channel counter of doorbells to the guest.
class ServerSignals final : public HostSignals {
 public:
  ServerSignals(EmbeddedHost& host, uint32_t relid) noexcept : host_(host), relid_(relid) {}
  uint64_t count() noexcept override {
    try {
      return host_.signals_to_guest(relid_);
    } catch (const std::exception&) {
      return 0;  // a snapshot that cannot allocate: no count
    }
  }

 private:
  EmbeddedHost& host_;
  uint32_t relid_;
};

CaseRun measure_ring(const ChannelCase& c, const ChannelRunContext& context) {
  const ring_bench::RingCase ring_case{
      .impl = ring_bench::Impl::uvmbus,
      .mode = c.mode == Mode::stream ? ring_bench::Mode::stream : ring_bench::Mode::pingpong,
      .reader = ring_bench::ReaderMode::copy,
      .consumer = Consumer::poll,
      .payload_bytes = c.payload_bytes,
      .batch = c.batch,
  };
  const ring_bench::RingRunContext ring_context{.topology = context.topology,
                                                .cpus = context.cpus,
                                                .duration_s = context.duration_s,
                                                .ring_bytes = context.ring_bytes};
  return CaseRun{.metrics = ring_bench::measure_case(ring_case, ring_context), .signals = std::nullopt};
}

CaseRun drive(const ChannelCase& c, const ChannelRunContext& context, channel::Channel& channel,
              HostSignals& host_signals) {
  ChannelQueue queue(channel, host_signals, c.payload_bytes, c.batch);
  CaseRun run;
  if (c.mode == Mode::stream) {
    run.metrics = run_stream_to_sink(
        context.topology, context.cpus.producer, queue,
        StreamSettings{.payload_bytes = c.payload_bytes, .batch = c.batch, .duration_s = context.duration_s});
  } else {
    run.metrics = run_echo(context.topology, context.cpus.producer, queue,
                           PingPongSettings{.payload_bytes = c.payload_bytes, .duration_s = context.duration_s});
  }
  const double packets = static_cast<double>(queue.packets());
  run.signals = SignalSplit{.guest_per_pkt = static_cast<double>(queue.guest_signals()) / packets,
                            .host_per_pkt = static_cast<double>(queue.host_signals()) / packets};
  return run;
}

const wire::Guid& device_class(Mode mode) {
  return mode == Mode::stream ? host::kSinkClassGuid : host::kEchoClassGuid;
}
const char* device_name(Mode mode) { return mode == Mode::stream ? "sink" : "echo"; }

CaseRun measure_channel(const ChannelCase& c, const ChannelRunContext& context) {
  if (context.transport == Transport::user) {
    const auto guest = GuestSession::connect_user(context.socket, context.ring_bytes);
    channel::Channel& channel = guest->open(device_class(c.mode), device_name(c.mode));
    InterruptFdSignals host_signals(channel.wake_fd());
    return drive(c, context, channel, host_signals);
  }
  EmbeddedHost host(context.runtime_topology,
                    EmbeddedHostConfig{.cpu = context.cpus.consumer,
                                       .burst = c.batch,
                                       .idle_threshold = c.consumer == HostConsumer::poll ? runtime::kNeverSleep
                                                                                          : context.idle_threshold});
  GuestSession guest(host.connect_guest(), context.ring_bytes);  // destroyed before the host
  channel::Channel& channel = guest.open(device_class(c.mode), device_name(c.mode));
  ServerSignals host_signals(host, channel.offer().relid);
  return drive(c, context, channel, host_signals);
}

}  // namespace

CaseRun measure_case(const ChannelCase& c, const ChannelRunContext& context) {
  return c.impl == Impl::ring ? measure_ring(c, context) : measure_channel(c, context);
}

}  // namespace uvmbus::perf::channel_bench
