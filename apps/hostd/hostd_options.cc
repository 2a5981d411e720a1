// hostd's command line (see hostd_options.h).
#include "hostd_options.h"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

namespace uvmbus::hostd {
namespace {

ParsedOptions config_error(const std::string& message) {
  fmt::print(stderr, "uvmbus-hostd: error: {}\n", message);
  return {std::nullopt, kExitConfig};
}

}  // namespace

ParsedOptions parse_options(int argc, const char* const* argv) {
  CLI::App app{"uvmbus-hostd: the VMBus host emulator daemon (docs/hostd.md)", "uvmbus-hostd"};
  std::string config_path;
  std::optional<std::string> guest_socket;
  std::optional<std::string> control_socket;
  std::vector<std::string> devices;
  std::optional<std::string> cpus;
  std::optional<std::string> log_level;
  bool foreground = false;
  bool kvp = false;
  std::optional<std::string> kvp_state;
  app.add_option("-c,--config", config_path, "Config file (JSON)");
  app.add_option("--socket", guest_socket, "Guest socket (default /run/uvmbus/vmbus.sock)");
  app.add_option("--control", control_socket, "Control socket (default /run/uvmbus/hostd.sock)");
  app.add_option("--device", devices,
                 "TYPE[:GUID]: a device to offer, echo or sink (repeatable; replaces the config's)");
  app.add_option("--cpus", cpus, "Core list of the device workers, e.g. 0,2-3");
  app.add_option("--log-level", log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  app.add_flag("--kvp", kvp, "Offer the KVP (data exchange) device");
  app.add_option("--kvp-state", kvp_state, "Keep each VM's host KVP items in this directory (implies --kvp)");
  app.add_flag("-n,--foreground", foreground, "Stay in the foreground (as under systemd)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);
    return {std::nullopt, code == 0 ? 0 : kExitUsage};
  }
  HostdOptions options;
  options.foreground = foreground;
  if (!config_path.empty()) {
    auto loaded = load_config(config_path);
    if (!loaded) {
      return config_error(loaded.error());
    }
    options.config = std::move(*loaded);
  }
  HostdConfig& config = options.config;
  if (guest_socket) {
    config.guest_socket = *guest_socket;
  }
  if (control_socket) {
    config.control_socket = *control_socket;
  }
  if (cpus) {
    config.cpus = *cpus;
  }
  if (kvp || kvp_state) {
    config.kvp.enabled = true;
  }
  if (kvp_state) {
    config.kvp.state_dir = *kvp_state;
  }
  if (log_level) {
    config.log_level = *parse_log_level(*log_level);
  }
  if (!devices.empty()) {
    config.devices.clear();
    for (const std::string& text : devices) {
      auto spec = parse_device_flag(text);
      if (!spec) {
        return config_error(fmt::format("--device {}: {}", text, spec.error()));
      }
      config.devices.push_back(*spec);
    }
  }
  if (config.devices.empty()) {
    config.devices = {DeviceSpec{.type = DeviceType::echo, .instance = kDefaultEchoInstance, .max_subchannels = kDefaultMaxSubchannels, .class_id = std::nullopt},
                      DeviceSpec{.type = DeviceType::sink, .instance = kDefaultSinkInstance, .max_subchannels = kDefaultMaxSubchannels, .class_id = std::nullopt}};
  }
  if (config.guest_socket.empty() || config.control_socket.empty() ||
      config.guest_socket == config.control_socket) {
    return config_error("the guest and control sockets must be two non-empty paths");
  }
  if (std::string problem = check_config(config); !problem.empty()) {
    return config_error(problem);
  }
  return {std::move(options), 0};
}

}  // namespace uvmbus::hostd
