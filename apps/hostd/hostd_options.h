// hostd's command line (CLI11): the config file, and flags that override
// it, and the exit codes the daemon uses (sysexits.h values).
#pragma once

#include <optional>

#include "hostd_config.h"

namespace uvmbus::hostd {

inline constexpr int kExitUsage = 64;        // EX_USAGE: bad flags
inline constexpr int kExitUnavailable = 69;  // EX_UNAVAILABLE: a socket cannot be served
inline constexpr int kExitSoftware = 70;     // EX_SOFTWARE: workers or server did not start
inline constexpr int kExitConfig = 78;       // EX_CONFIG: the config is invalid

struct HostdOptions {
  HostdConfig config;
  bool foreground = false;  // -n: do not detach
};

struct ParsedOptions {
  std::optional<HostdOptions> options;  // nullopt: exit with exit_code
  int exit_code = 0;                    // 0 after --help
};

// Parses the flags, loads --config and applies the flags over it; every
// error is one line on stderr.
ParsedOptions parse_options(int argc, const char* const* argv);

}  // namespace uvmbus::hostd
