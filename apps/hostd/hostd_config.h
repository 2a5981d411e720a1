// hostd's configuration: what the config file (JSON, docs/hostd.md) and the
// flags set. parse_config() is strict: unknown keys, wrong types, values out
// of range, bad GUIDs, bad CPU lists and duplicate instances are errors,
// each one line naming the key ("devices[1].instance: bad GUID '...'").
// Hostile files are bounded: at most kMaxConfigBytes, nesting at most
// kMaxConfigDepth, lists at most kMaxListEntries.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "allow_list.h"
#include "device_spec.h"
#include "kvp_settings.h"
#include "log.h"
#include "uvmbus/runtime/expected.h"

namespace uvmbus::hostd {

inline constexpr std::size_t kMaxConfigBytes = 1 << 20;
inline constexpr int kMaxConfigDepth = 8;
inline constexpr std::size_t kMaxListEntries = 1024;

struct HostdLimits {
  std::size_t max_partitions = 64;           // connected at once
  std::size_t max_gpadls = 256;              // per partition
  uint64_t max_gpadl_pages = uint64_t{1} << 18;  // per partition (1 GiB)
  uint64_t max_memory_mib = 64 * 1024;       // registered guest memory per partition
  std::size_t max_channels = 2048;           // doorbell pairs per partition
  uint32_t handshake_timeout_ms = 2000;
};

struct HostdConfig {
  std::string guest_socket = "/run/uvmbus/vmbus.sock";
  uint32_t guest_socket_mode = 0600;
  std::string control_socket = "/run/uvmbus/hostd.sock";
  std::string cpus;                 // core list of the workers; "" = the first CPU allowed
  uint32_t idle_threshold_us = 50;  // before a worker sleeps
  std::vector<DeviceSpec> devices;  // empty: the default echo and sink
  AllowList allow;
  HostdLimits limits;
  KvpSettings kvp;                  // the "kvp" object enables the KVP device
  LogLevel log_level = LogLevel::info;
};

// Parses a config document; keys absent keep their defaults.
runtime::Expected<HostdConfig, std::string> parse_config(std::string_view text);
// Reads and parses a config file ("<path>: <why>" on error).
runtime::Expected<HostdConfig, std::string> load_config(const std::filesystem::path& path);
// The checks that also apply after flags changed the config: the CPU list's
// syntax, and unique device instances. Empty if fine.
std::string check_config(const HostdConfig& config);

}  // namespace uvmbus::hostd
