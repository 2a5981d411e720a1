// Which configurations `uvmbus-perf ring` measures: the options expanded into
// a list of cases, leaving out combinations an implementation cannot run, with
// a note for each omission.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/queue.h"
#include "harness/run_options.h"
#include "ring/uvmbus_queue.h"

namespace uvmbus::perf::ring_bench {

enum class Impl : uint8_t { uvmbus, uvmbus_unbatched, rte_ring, cacheline };
enum class Mode : uint8_t { stream, pingpong };

inline constexpr std::string_view kImplNames[] = {"uvmbus", "uvmbus-unbatched", "rte_ring", "cacheline"};

struct RingOptions {
  std::size_t payload_bytes = 64;
  std::size_t batch = 32;
  std::size_t ring_bytes = 256 * 1024;  // VMBus data area; rte_ring gets the same bytes
  std::vector<std::string> impls{std::begin(kImplNames), std::end(kImplNames)};
  std::string reader = "both";    // copy | inplace | both
  std::string consumer = "both";  // poll | interrupt | both
  std::string mode = "both";      // stream | pingpong | both
  bool sweep = false;             // payloads 64..4096 x batches 1..256
  RunOptions run;
};

struct RingCase {
  Impl impl = Impl::uvmbus;
  Mode mode = Mode::stream;
  std::optional<ReaderMode> reader;  // VMBus rings only
  Consumer consumer = Consumer::poll;
  std::size_t payload_bytes = 64;
  std::size_t batch = 32;  // 1 in ping-pong: one packet in flight
};

struct RingPlan {
  std::vector<RingCase> cases;
  std::vector<std::string> notes;  // what was left out and why
};

RingPlan plan_ring_cases(const RingOptions& options);

std::string_view impl_name(Impl impl);
// The record's scenario fields: mode, reader, consumer, payload_bytes, batch.
nlohmann::ordered_json case_params(const RingCase& c);
// One line naming the case, for progress and error messages.
std::string describe_case(const RingCase& c);

}  // namespace uvmbus::perf::ring_bench
