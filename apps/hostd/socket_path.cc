// Socket paths: directory, stale and live sockets (see socket_path.h).
#include "socket_path.h"

#include <fmt/core.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace uvmbus::hostd {
namespace {

// True if something accepts connections at `path` (SEQPACKET, as hostd's
// sockets are).
bool served(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.data(), path.size());
  const int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  const bool connected = connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0;
  close(fd);
  return connected;
}

}  // namespace

std::string prepare_socket_path(const std::string& path) {
  if (path.empty() || path.size() >= sizeof(sockaddr_un::sun_path)) {
    return fmt::format("socket path '{}' is empty or longer than {} bytes", path,
                       sizeof(sockaddr_un::sun_path) - 1);
  }
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::error_code error;
  if (!parent.empty() && !std::filesystem::exists(parent, error)) {
    if (!std::filesystem::create_directories(parent, error) && error) {
      return fmt::format("{}: cannot create directory {}: {}", path, parent.string(), error.message());
    }
    if (chmod(parent.c_str(), 0700) != 0) {
      return fmt::format("{}: chmod {}: {}", path, parent.string(), std::strerror(errno));
    }
  }
  struct stat status {};
  if (lstat(path.c_str(), &status) != 0) {
    return errno == ENOENT ? std::string{} : fmt::format("{}: {}", path, std::strerror(errno));
  }
  if (!S_ISSOCK(status.st_mode)) {
    return fmt::format("{} exists and is not a socket", path);
  }
  if (served(path)) {
    return fmt::format("{} is served by another process (is hostd already running?)", path);
  }
  if (unlink(path.c_str()) != 0) {
    return fmt::format("{}: cannot remove the stale socket: {}", path, std::strerror(errno));
  }
  return {};
}

}  // namespace uvmbus::hostd
