// kvpd's command line (see kvpd_options.h).
#include "kvpd_options.h"

#include <CLI/CLI.hpp>


namespace uvmbus::kvpd {

ParsedOptions parse_options(int argc, const char* const* argv) {
  KvpdOptions options;
  CLI::App app{"uvmbus-kvpd: the Hyper-V KVP (data exchange) guest daemon, poll mode",
               "uvmbus-kvpd"};
  app.add_flag("-n,--no-daemon", options.no_daemon, "Stay in the foreground (as under systemd)");
  app.add_flag("-d,--debug", options.debug, "Log every host request");
  app.add_option("--pool-dir", options.pool_dir, "Directory of the .kvp_pool_N files")
      ->capture_default_str();
  app.add_flag("--sync", options.sync, "fdatasync every acknowledged change (power-loss safe)");
  app.add_option("--kvp-version", options.kvp_version,
                 "Newest KVP version to offer: 5 (binary IP info) or 4 (string form, as Linux)")
      ->check(CLI::IsMember({4u, 5u}))
      ->capture_default_str();
  std::string transport = "user";
  app.add_option("--transport", transport, "How to reach the host: user (hostd's socket) or loopback")
      ->check(CLI::IsMember({"loopback", "user"}))
      ->capture_default_str();
  app.add_option("--socket", options.socket, "hostd's socket (user transport)")->capture_default_str();
  app.add_option("--vm-name", options.vm_name, "Partition name given to hostd (user transport)")
      ->capture_default_str();
  app.add_option("--vm-id", options.vm_id, "Partition VM id given to hostd (a GUID; user transport)")
      ->check([](const std::string& text) {
        return normalize_guid(text) ? std::string{} : "expected a GUID, got '" + text + "'";
      });
  app.add_option("--cpu", options.cpu, "CPU of the poll-mode worker");
  int64_t idle_us = options.idle_threshold.count();
  app.add_option("--idle-threshold-us", idle_us, "Idle polling time before sleeping on the doorbell")
      ->check(CLI::Range(int64_t{0}, int64_t{1000000}))
      ->capture_default_str();
  std::vector<std::string> nic_entries;
  app.add_option("--nic-map", nic_entries, "GUID=ifname: the interface a VMBus NIC GUID names (repeatable)")
      ->check([](const std::string& entry) {
        return NicMap{}.add(entry) ? std::string{} : "expected GUID=ifname, got '" + entry + "'";
      });
  std::filesystem::path nic_file;
  app.add_option("--nic-map-file", nic_file, "File of GUID=ifname lines")->check(CLI::ExistingFile);
  app.add_option("--resolv-conf", options.resolv_conf, "Resolver configuration for DNS servers")
      ->capture_default_str();
  app.add_option("--ifconfig-hook", options.ifconfig_hook,
                 "hv_set_ifconfig-compatible program run after SET_IP_INFO with the ifcfg and "
                 "keyfile paths (written to the pool directory)")
      ->check(CLI::ExistingFile);
  app.add_option("--os-release", options.os_release, "os-release file for the OS keys")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
    for (const std::string& entry : nic_entries) {
      [[maybe_unused]] const bool added = options.nic_map.add(entry);  // checked above
    }
    if (!nic_file.empty()) {
      if (const int bad_line = options.nic_map.add_file(nic_file); bad_line != 0) {
        throw CLI::ValidationError("--nic-map-file", bad_line < 0
                                                         ? "cannot read " + nic_file.string()
                                                         : nic_file.string() + ": line " +
                                                               std::to_string(bad_line) +
                                                               " is not GUID=ifname");
      }
    }
  } catch (const CLI::ParseError& error) {
    return {std::nullopt, app.exit(error)};
  }
  options.idle_threshold = std::chrono::microseconds(idle_us);
  options.transport = transport == "loopback" ? TransportKind::loopback : TransportKind::user;
  return {std::move(options), 0};
}

}  // namespace uvmbus::kvpd
