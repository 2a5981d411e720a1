// hostd's log: one line per event on stderr (the journal under systemd),
// "uvmbus-hostd level=<level> event=<name> key=value ...". Lines below the
// level set with set_log_level() are not written. Thread-safe: each line is
// one fmt::print.
#pragma once

#include <fmt/core.h>

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string_view>

namespace uvmbus::hostd {

enum class LogLevel : uint8_t { debug, info, warn, error };

const char* to_string(LogLevel level) noexcept;
std::optional<LogLevel> parse_log_level(std::string_view text) noexcept;

void set_log_level(LogLevel level) noexcept;
[[nodiscard]] bool log_enabled(LogLevel level) noexcept;

template <typename... Args>
void log(LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
  if (!log_enabled(level)) {
    return;
  }
  fmt::print(stderr, "uvmbus-hostd level={} {}\n", to_string(level),
             fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace uvmbus::hostd
