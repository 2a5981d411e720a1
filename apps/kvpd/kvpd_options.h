// kvpd's command line: hv_kvp_daemon's flags (-n, -d, -h) plus ours, parsed
// with CLI11, and the exit codes the daemon uses (sysexits.h values).
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "nic_map.h"

namespace uvmbus::kvpd {

// Bad flags exit with CLI11's own code (non-zero); the others:
inline constexpr int kExitUnavailable = 69;  // EX_UNAVAILABLE: no transport, no KVP device
inline constexpr int kExitSoftware = 70;     // EX_SOFTWARE: the host went away, a worker failed
inline constexpr int kExitCantCreate = 73;   // EX_CANTCREAT: the pool directory is unusable

enum class TransportKind : uint8_t { loopback, user };

struct KvpdOptions {
  bool no_daemon = false;  // -n: stay in the foreground
  bool debug = false;      // -d: log every request
  std::filesystem::path pool_dir = "/var/lib/hyperv";
  bool sync = false;
  unsigned kvp_version = 5;  // 4: cap at 4.0 (string IP info, like Linux)
  TransportKind transport = TransportKind::user;
  std::filesystem::path socket = "/run/uvmbus/vmbus.sock";
  std::string vm_name = "kvpd";  // the partition's name on the user transport
  std::string vm_id;             // its VM id (a GUID); empty: all zeros
  std::optional<unsigned> cpu;  // worker CPU; default the first this process may use
  std::chrono::microseconds idle_threshold{50};
  NicMap nic_map;
  std::filesystem::path resolv_conf = "/etc/resolv.conf";
  std::filesystem::path ifconfig_hook;  // empty: none
  std::filesystem::path os_release = "/etc/os-release";
};

struct ParsedOptions {
  std::optional<KvpdOptions> options;  // nullopt: exit with exit_code
  int exit_code = 0;                   // 0 after --help
};

[[nodiscard]] ParsedOptions parse_options(int argc, const char* const* argv);

}  // namespace uvmbus::kvpd
