// kvpd's log: one line per event on stderr (the journal under systemd),
// "uvmbus-kvpd level=<level> <message>", where messages are key=value pairs.
#pragma once

#include <fmt/core.h>

#include <atomic>
#include <cstdio>

namespace uvmbus::kvpd {

enum class LogLevel : uint8_t { debug, info, error };

// Debug lines are written only after enable_debug_log().
void enable_debug_log() noexcept;
[[nodiscard]] bool debug_log_enabled() noexcept;

[[nodiscard]] constexpr const char* to_string(LogLevel level) noexcept {
  return level == LogLevel::debug ? "debug" : level == LogLevel::info ? "info" : "error";
}

template <typename... Args>
void log(LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
  if (level == LogLevel::debug && !debug_log_enabled()) {
    return;
  }
  fmt::print(stderr, "uvmbus-kvpd level={} {}\n", to_string(level),
             fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace uvmbus::kvpd
