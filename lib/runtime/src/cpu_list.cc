// Parser for core lists: comma-separated CPU numbers and inclusive ranges.
#include "uvmbus/runtime/cpu_list.h"

#include <algorithm>
#include <bitset>
#include <cstdint>
#include <limits>
#include <optional>

namespace uvmbus::runtime {

namespace {

// Reads the decimal number at list[pos...], advancing pos. nullopt (pos
// unchanged) if there is no digit there. Values beyond 32 bits saturate.
std::optional<uint64_t> read_number(std::string_view list, std::size_t& pos) noexcept {
  const std::size_t start = pos;
  uint64_t value = 0;
  while (pos < list.size() && list[pos] >= '0' && list[pos] <= '9') {
    value = std::min<uint64_t>(value * 10 + static_cast<uint64_t>(list[pos] - '0'),
                               std::numeric_limits<uint32_t>::max());
    ++pos;
  }
  if (pos == start) {
    return std::nullopt;
  }
  return value;
}

Unexpected<RuntimeError> error(RuntimeErrorCode code, uint64_t subject) noexcept {
  return Unexpected(RuntimeError{code, static_cast<uint32_t>(subject)});
}

}  // namespace

Expected<std::vector<unsigned>, RuntimeError> parse_cpu_list(std::string_view list) {
  std::vector<unsigned> cpus;
  std::bitset<kMaxCpu + 1> seen;
  std::size_t pos = 0;
  while (true) {
    const std::size_t item_start = pos;
    const std::optional<uint64_t> first = read_number(list, pos);
    if (!first) {
      return error(RuntimeErrorCode::malformed_cpu_list, pos);
    }
    uint64_t last = *first;
    if (pos < list.size() && list[pos] == '-') {
      ++pos;
      const std::optional<uint64_t> range_end = read_number(list, pos);
      if (!range_end || *range_end < *first) {
        return error(RuntimeErrorCode::malformed_cpu_list, range_end ? item_start : pos);
      }
      last = *range_end;
    }
    if (last > kMaxCpu) {
      return error(RuntimeErrorCode::cpu_out_of_range, last);
    }
    for (uint64_t cpu = *first; cpu <= last; ++cpu) {
      if (seen.test(cpu)) {
        return error(RuntimeErrorCode::duplicate_cpu, cpu);
      }
      seen.set(cpu);
      cpus.push_back(static_cast<unsigned>(cpu));
    }
    if (pos == list.size()) {
      return cpus;
    }
    if (list[pos] != ',') {
      return error(RuntimeErrorCode::malformed_cpu_list, pos);
    }
    ++pos;
  }
}

}  // namespace uvmbus::runtime
