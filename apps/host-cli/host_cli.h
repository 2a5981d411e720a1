// uvmbus-host, the admin CLI of uvmbus-hostd (docs/hostd.md): parses the
// command line (CLI11), sends one request on hostd's control socket and
// prints the result as an aligned table, or as JSON with --json. Errors are
// one line on stderr (with --json, also a JSON error object on stdout), and
// each kind has its own exit code.
#pragma once

namespace uvmbus::hostcli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRefused = 1;         // hostd refused the request (e.g. duplicate device)
inline constexpr int kExitUsage = 2;           // bad arguments
inline constexpr int kExitNotFound = 3;        // no such partition or device
inline constexpr int kExitNotRunning = 69;     // no hostd at the control socket
inline constexpr int kExitProtocol = 76;       // the exchange with hostd failed
inline constexpr int kExitPermission = 77;     // not allowed to use the control socket

int run(int argc, const char* const* argv);

}  // namespace uvmbus::hostcli
