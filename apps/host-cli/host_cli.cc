// uvmbus-host's commands (see host_cli.h).
#include "host_cli.h"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <optional>

#include "control_client.h"
#include "control_protocol.h"
#include "kvp_cli.h"
#include "shapes.h"
#include "table.h"
#include "uvmbus/wire/guid.h"

namespace uvmbus::hostcli {
namespace {

using nlohmann::json;

struct Output {
  bool json = false;
};

std::string guid_check(const std::string& text) {
  return wire::parse_guid(text) ? std::string{} : "expected a GUID, got '" + text + "'";
}

int fail(const Output& output, int code, const std::string& error, const std::string& message) {
  if (output.json) {
    fmt::print("{}\n", json{{"ok", false}, {"error", error}, {"message", message}}.dump(2));
  }
  fmt::print(stderr, "uvmbus-host: {}: {}\n", error, message);
  return code;
}

int exit_code_for(const std::string& error) {
  const std::optional<hostctl::ErrorCode> code = hostctl::parse_error_code(error);
  if (!code) {
    return kExitRefused;
  }
  switch (*code) {
    case hostctl::ErrorCode::no_such_partition:
    case hostctl::ErrorCode::no_such_device:
    case hostctl::ErrorCode::not_found:
      return kExitNotFound;
    case hostctl::ErrorCode::permission_denied:
      return kExitPermission;
    case hostctl::ErrorCode::invalid_argument:
      return kExitUsage;
    case hostctl::ErrorCode::bad_request:
    case hostctl::ErrorCode::unknown_command:
    case hostctl::ErrorCode::too_large:
      return kExitProtocol;
    default:
      return kExitRefused;
  }
}

std::string partitions_table(const std::vector<hostctl::PartitionInfo>& partitions) {
  Table table({"ID", "NAME", "VM-ID", "PID", "UID", "STATE", "VERSION", "CHANNELS", "OPEN", "GPADLS", "PAGES",
               "FAULTS"});
  for (const hostctl::PartitionInfo& p : partitions) {
    uint64_t faults = 0;
    for (const auto& [cause, count] : p.faults) {
      faults += count;
    }
    table.add({std::to_string(p.id), p.name, p.vm_id, std::to_string(p.pid), std::to_string(p.uid), p.state,
               p.version.empty() ? "-" : p.version, std::to_string(p.channels.size()),
               std::to_string(p.channels_open), std::to_string(p.gpadls), std::to_string(p.gpadl_pages),
               std::to_string(faults)});
  }
  return table.render();
}

std::string devices_table(const std::vector<hostctl::DeviceInfo>& devices) {
  Table table({"TYPE", "INSTANCE", "CLASS", "MAX-SUBCHANNELS"});
  for (const hostctl::DeviceInfo& d : devices) {
    table.add({d.type, d.instance, d.class_id, std::to_string(d.max_subchannels)});
  }
  return table.render();
}

std::string stats_table(const std::vector<hostctl::PartitionInfo>& partitions) {
  Table table({"PARTITION", "RELID", "DEVICE", "SUB", "STATE", "PKTS-IN", "BYTES-IN", "PKTS-OUT", "BYTES-OUT",
               "SIG-SENT", "SIG-AVOIDED", "RING-FULL", "DROPS"});
  for (const hostctl::PartitionInfo& p : partitions) {
    for (const hostctl::ChannelInfo& c : p.channels) {
      std::string drops;
      for (const auto& [cause, count] : c.drops) {
        drops += fmt::format("{}{}={}", drops.empty() ? "" : ",", cause, count);
      }
      table.add({fmt::format("{}:{}", p.id, p.name), std::to_string(c.relid), c.device, std::to_string(c.subchannel),
                 c.ring_corrupt ? c.state + "(corrupt)" : c.state, std::to_string(c.packets_in),
                 std::to_string(c.bytes_in), std::to_string(c.packets_out), std::to_string(c.bytes_out),
                 std::to_string(c.signals_sent), std::to_string(c.signals_avoided), std::to_string(c.ring_full),
                 drops.empty() ? "-" : drops});
    }
  }
  return table.render();
}

// The text form of a command's result.
std::string render(const std::string& command, const json& result) {
  if (command.starts_with("kvp-")) {
    return render_kvp(command, result);
  }
  if (command == "partitions") {
    return partitions_table(result.get<std::vector<hostctl::PartitionInfo>>());
  }
  if (command == "stats") {
    return stats_table(result.get<std::vector<hostctl::PartitionInfo>>());
  }
  if (command == "devices") {
    return devices_table(result.get<std::vector<hostctl::DeviceInfo>>());
  }
  if (command == "add-device") {
    const auto device = result.get<hostctl::DeviceInfo>();
    return fmt::format("added {} {} (class {}, up to {} sub-channels)\n", device.type, device.instance,
                       device.class_id, device.max_subchannels);
  }
  if (command == "remove-device") {
    return fmt::format("removed {}\n", result.at("instance").get<std::string>());
  }
  const auto ping = result.get<hostctl::PingInfo>();
  return fmt::format("uvmbus-hostd {} pid {} protocol {} guest socket {}\n", ping.version, ping.pid, ping.protocol,
                     ping.guest_socket);
}

}  // namespace

int run(int argc, const char* const* argv) {
  CLI::App app{"uvmbus-host: administer a running uvmbus-hostd (docs/hostd.md)", "uvmbus-host"};
  std::string control = "/run/uvmbus/hostd.sock";
  Output output;
  app.add_option("--control", control, "hostd's control socket")->capture_default_str();
  app.add_flag("--json", output.json, "Print the result as JSON");
  app.require_subcommand(1);
  app.fallthrough();

  json args = json::object();
  app.add_subcommand("ping", "hostd's version and pid");
  app.add_subcommand("partitions", "connected partitions");
  app.add_subcommand("devices", "offered devices");
  CLI::App* stats = app.add_subcommand("stats", "per-channel statistics");
  std::string partition;
  stats->add_option("--partition", partition, "Only this partition: id, name or VM id");
  CLI::App* add = app.add_subcommand("add-device", "offer a device to every partition (hot-add)");
  std::string type;
  std::string instance;
  std::string class_id;
  std::optional<unsigned> subchannels;
  add->add_option("type", type, "echo or sink")->required()->check(CLI::IsMember({"echo", "sink"}));
  add->add_option("--instance", instance, "Instance GUID (default: a random one)")->check(guid_check);
  add->add_option("--subchannels", subchannels, "Most sub-channels a guest may request")
      ->check(CLI::Range(0u, 256u));
  add->add_option("--class", class_id, "Class GUID (default: the type's)")->check(guid_check);
  CLI::App* remove = app.add_subcommand("remove-device", "rescind a device (hot-remove)");
  std::string remove_instance;
  remove->add_option("instance", remove_instance, "Instance GUID")->required()->check(guid_check);
  const KvpCli kvp(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);
    return code == 0 ? kExitOk : kExitUsage;
  }
  const std::string command = kvp.chosen() ? kvp.command() : app.get_subcommands().front()->get_name();
  if (kvp.chosen()) {
    args = kvp.args();
  } else if (command == "stats" && !partition.empty()) {
    args["partition"] = partition;
  } else if (command == "add-device") {
    args["type"] = type;
    if (!instance.empty()) {
      args["instance"] = instance;
    }
    if (!class_id.empty()) {
      args["class"] = class_id;
    }
    if (subchannels) {
      args["max_subchannels"] = *subchannels;
    }
  } else if (command == "remove-device") {
    args["instance"] = remove_instance;
  }

  auto client = hostctl::ControlClient::connect(control);
  if (!client) {
    switch (client.error().failure) {
      case hostctl::ClientFailure::not_running:
        return fail(output, kExitNotRunning, "not_running", "hostd is not running (" + client.error().detail + ")");
      case hostctl::ClientFailure::permission_denied:
        return fail(output, kExitPermission, "permission_denied", client.error().detail);
      default:
        return fail(output, kExitProtocol, "io", client.error().detail);
    }
  }
  auto reply = command == "kvp-list" ? list_all_pages(*client, args)
                                     : client->command(command, args, kvp.chosen() ? kKvpReplyTimeout : std::chrono::seconds(10));
  if (!reply) {
    return fail(output, kExitProtocol, reply.error().failure == hostctl::ClientFailure::bad_reply ? "bad_reply" : "io",
                reply.error().detail);
  }
  if (!(*reply)["ok"].get<bool>()) {
    const std::string error = (*reply)["error"].get<std::string>();
    return fail(output, exit_code_for(error), error, reply->value("message", std::string{}));
  }
  const json& result = (*reply)["result"];
  if (output.json) {
    fmt::print("{}\n", result.dump(2));
    return kExitOk;
  }
  try {
    fmt::print("{}", render(command, result));
  } catch (const json::exception& error) {
    return fail(output, kExitProtocol, "bad_reply", error.what());
  }
  return kExitOk;
}

}  // namespace uvmbus::hostcli
