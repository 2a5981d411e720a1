// Writing the ifcfg/keyfile pair and running the hook (see ifconfig_hook.h).
#include "ifconfig_hook.h"

#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <fstream>
#include <string>

#include "ifcfg_files.h"

extern char** environ;

namespace uvmbus::kvpd {
namespace {

bool write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  return static_cast<bool>(out.flush());
}

}  // namespace

HookResult run_ifconfig_hook(const std::filesystem::path& hook,
                             const std::filesystem::path& directory, std::string_view interface,
                             std::string_view mac, const kvp::IpInfo& info) {
  const std::filesystem::path ifcfg = directory / ("ifcfg-" + std::string(interface));
  const std::filesystem::path keyfile = directory / (std::string(interface) + ".nmconnection");
  if (!write_text(ifcfg, ifcfg_text(interface, mac, info)) ||
      !write_text(keyfile, keyfile_text(interface, mac, info))) {
    return {false, errno != 0 ? errno : EIO, -1};
  }
  std::string hook_path = hook.string();
  std::string ifcfg_path = ifcfg.string();
  std::string keyfile_path = keyfile.string();
  char* argv[] = {hook_path.data(), ifcfg_path.data(), keyfile_path.data(), nullptr};
  pid_t child = 0;
  if (const int error = posix_spawn(&child, hook_path.c_str(), nullptr, nullptr, argv, environ);
      error != 0) {
    return {false, error, -1};
  }
  int status = 0;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) {
      return {false, errno, -1};
    }
  }
  const int exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return {exit_status == 0, 0, exit_status};
}

}  // namespace uvmbus::kvpd
