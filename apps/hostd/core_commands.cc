// The core control commands (see core_commands.h).
#include "core_commands.h"

#include <fmt/core.h>
#include <unistd.h>

#include <charconv>

#include "log.h"
#include "snapshot_info.h"

namespace uvmbus::hostd {
namespace {

using hostctl::ErrorCode;
using nlohmann::json;

// The partitions of `snapshot` that `selector` names: a partition id, a
// name or a VM id; every partition when there is no selector.
std::vector<hostctl::PartitionInfo> select_partitions(HostdContext& context,
                                                      const std::optional<std::string>& selector) {
  const host::ServerSnapshot snapshot = context.server.snapshot();
  std::vector<hostctl::PartitionInfo> selected;
  for (const host::PartitionSnapshot& partition : snapshot.partitions) {
    hostctl::PartitionInfo info = partition_info(partition, context.partitions.find(partition.id));
    uint32_t id = 0;
    const bool numeric = selector && std::from_chars(selector->data(), selector->data() + selector->size(), id).ec ==
                                         std::errc{} &&
                         std::to_string(id) == *selector;
    const std::optional<wire::Guid> vm_id = selector ? wire::parse_guid(*selector) : std::nullopt;
    if (!selector || (numeric && id == info.id) || *selector == info.name ||
        (vm_id && wire::to_string(*vm_id) == info.vm_id)) {
      selected.push_back(std::move(info));
    }
  }
  if (selector && selected.empty()) {
    throw CommandError(ErrorCode::no_such_partition, fmt::format("no partition '{}'", *selector));
  }
  return selected;
}

wire::Guid guid_argument(const std::string& text, const char* key) {
  const std::optional<wire::Guid> guid = wire::parse_guid(text);
  if (!guid) {
    throw CommandError(ErrorCode::invalid_argument, fmt::format("argument '{}': bad GUID '{}'", key, text));
  }
  return *guid;
}

json add_device(HostdContext& context, CommandArgs& args) {
  const std::optional<std::string> type = args.string("type");
  const std::optional<std::string> instance = args.string("instance");
  const std::optional<std::string> class_id = args.string("class");
  const std::optional<uint64_t> subchannels = args.number("max_subchannels", kMaxSubchannelsLimit);
  args.finish();
  const std::optional<DeviceType> parsed = type ? parse_device_type(*type) : std::nullopt;
  if (!parsed) {
    throw CommandError(ErrorCode::invalid_argument,
                       fmt::format("argument 'type': expected echo or sink, got '{}'", type.value_or("")));
  }
  DeviceSpec spec{.type = *parsed,
                  .instance = instance ? guid_argument(*instance, "instance") : random_guid(),
                  .max_subchannels = static_cast<uint16_t>(subchannels.value_or(kDefaultMaxSubchannels)),
                  .class_id = std::nullopt};
  if (class_id) {
    spec.class_id = guid_argument(*class_id, "class");
  }
  if (!context.server.add_device(make_device(spec))) {
    throw CommandError(ErrorCode::duplicate_device,
                       fmt::format("a device with instance {} exists", wire::to_string(spec.instance)));
  }
  log(LogLevel::info, "event=device_added type={} instance={} max_subchannels={}", to_string(spec.type),
      wire::to_string(spec.instance), spec.max_subchannels);
  for (const host::DeviceSnapshot& device : context.server.snapshot().devices) {
    if (device.instance_id == spec.instance) {
      return device_info(device);
    }
  }
  throw CommandError(ErrorCode::internal, "the device vanished after it was added");
}

json remove_device(HostdContext& context, CommandArgs& args) {
  const std::optional<std::string> instance = args.string("instance");
  args.finish();
  if (!instance) {
    throw CommandError(ErrorCode::invalid_argument, "argument 'instance' is required");
  }
  const wire::Guid guid = guid_argument(*instance, "instance");
  if (!context.server.remove_device(guid)) {
    throw CommandError(ErrorCode::no_such_device, fmt::format("no device with instance {}", wire::to_string(guid)));
  }
  log(LogLevel::info, "event=device_removed instance={}", wire::to_string(guid));
  return json{{"instance", wire::to_string(guid)}};
}

}  // namespace

void register_core_commands(CommandTable& table, HostdContext& context) {
  table.add("ping", "hostd's version, protocol and pid", [&context](CommandArgs& args) {
    args.finish();
    return json(hostctl::PingInfo{.version = UVMBUS_VERSION,
                                  .protocol = hostctl::kProtocolVersion,
                                  .pid = getpid(),
                                  .guest_socket = context.config.guest_socket});
  });
  table.add("help", "the commands and what they do", [&table](CommandArgs& args) {
    args.finish();
    json list = json::array();
    for (const CommandInfo& command : table.commands()) {
      list.push_back({{"name", command.name}, {"summary", command.summary}});
    }
    return list;
  });
  table.add("devices", "the devices offered to every partition", [&context](CommandArgs& args) {
    args.finish();
    json list = json::array();
    for (const host::DeviceSnapshot& device : context.server.snapshot().devices) {
      list.push_back(device_info(device));
    }
    return list;
  });
  table.add("partitions", "connected partitions, with their channels", [&context](CommandArgs& args) {
    args.finish();
    return json(select_partitions(context, std::nullopt));
  });
  table.add("stats", "per-channel statistics; args: partition (id, name or VM id)",
            [&context](CommandArgs& args) {
              const std::optional<std::string> selector = args.string("partition");
              args.finish();
              return json(select_partitions(context, selector));
            });
  table.add("add-device", "offer a device; args: type, instance, max_subchannels, class",
            [&context](CommandArgs& args) { return add_device(context, args); });
  table.add("remove-device", "rescind a device; args: instance",
            [&context](CommandArgs& args) { return remove_device(context, args); });
}

}  // namespace uvmbus::hostd
