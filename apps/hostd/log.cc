// The level of hostd's log (see log.h).
#include "log.h"

#include <array>
#include <atomic>

namespace uvmbus::hostd {
namespace {

constexpr std::array kLevelNames = {"debug", "info", "warn", "error"};
std::atomic<LogLevel> threshold{LogLevel::info};

}  // namespace

const char* to_string(LogLevel level) noexcept { return kLevelNames.at(static_cast<std::size_t>(level)); }

std::optional<LogLevel> parse_log_level(std::string_view text) noexcept {
  for (std::size_t i = 0; i < kLevelNames.size(); ++i) {
    if (text == kLevelNames[i]) {
      return static_cast<LogLevel>(i);
    }
  }
  return std::nullopt;
}

void set_log_level(LogLevel level) noexcept { threshold.store(level, std::memory_order_relaxed); }

bool log_enabled(LogLevel level) noexcept { return level >= threshold.load(std::memory_order_relaxed); }

}  // namespace uvmbus::hostd
