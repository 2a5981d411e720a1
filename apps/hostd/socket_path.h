// Making a path ready for a listening unix socket: its directory is created
// (mode 0700) if missing; a socket file nobody serves (left by a hostd that
// was killed) is removed; a live server or a file that is not a socket there
// is an error, so one hostd never takes another's socket.
#pragma once

#include <string>

namespace uvmbus::hostd {

// Empty if `path` is ready for bind(), else why not (one line).
std::string prepare_socket_path(const std::string& path);

}  // namespace uvmbus::hostd
