// hostd's config file (see hostd_config.h).
#include "hostd_config.h"

#include <fmt/core.h>

#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "uvmbus/runtime/cpu_list.h"

namespace uvmbus::hostd {
namespace {

using nlohmann::json;

struct ConfigError {
  std::string message;
};

[[noreturn]] void fail(const std::string& key, const std::string& why) {
  throw ConfigError{key.empty() ? why : key + ": " + why};
}

// One JSON object of the config: typed reads by key, and at the end a check
// that no key was left unread (an unknown key is a mistake, not a comment).
class ObjectReader {
 public:
  ObjectReader(const json& object, std::string path) : object_(object), path_(std::move(path)) {
    if (!object_.is_object()) {
      fail(path_, "expected an object");
    }
  }

  const json* find(const char* key) {
    read_.insert(key);
    const auto it = object_.find(key);
    return it == object_.end() ? nullptr : &*it;
  }
  std::string key_path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

  void string(const char* key, std::string& out) {
    if (const json* value = find(key)) {
      if (!value->is_string()) {
        fail(key_path(key), "expected a string");
      }
      out = value->get<std::string>();
    }
  }
  template <typename T>
  void number(const char* key, T& out, uint64_t min, uint64_t max) {
    if (const json* value = find(key)) {
      out = static_cast<T>(read_number(*value, key_path(key), min, max));
    }
  }
  void finish() const {
    for (const auto& [key, value] : object_.items()) {
      if (!read_.contains(key)) {
        fail(key_path(key), "unknown key");
      }
    }
  }

  static uint64_t read_number(const json& value, const std::string& path, uint64_t min, uint64_t max) {
    if (!value.is_number_unsigned()) {
      fail(path, "expected a non-negative integer");
    }
    const uint64_t number = value.get<uint64_t>();
    if (number < min || number > max) {
      fail(path, fmt::format("{} is out of range [{}, {}]", number, min, max));
    }
    return number;
  }

 private:
  const json& object_;
  std::string path_;
  std::set<std::string, std::less<>> read_;
};

const json& list_at(const json* value, const std::string& path) {
  if (!value->is_array()) {
    fail(path, "expected a list");
  }
  if (value->size() > kMaxListEntries) {
    fail(path, fmt::format("more than {} entries", kMaxListEntries));
  }
  return *value;
}

wire::Guid guid_at(const json& value, const std::string& path) {
  if (!value.is_string()) {
    fail(path, "expected a GUID string");
  }
  const std::optional<wire::Guid> guid = wire::parse_guid(value.get<std::string>());
  if (!guid) {
    fail(path, fmt::format("bad GUID '{}'", value.get<std::string>()));
  }
  return *guid;
}

DeviceSpec parse_device(const json& value, const std::string& path) {
  ObjectReader reader(value, path);
  DeviceSpec spec;
  std::string type;
  reader.string("type", type);
  if (type.empty()) {
    fail(reader.key_path("type"), "missing (echo or sink)");
  }
  const std::optional<DeviceType> parsed = parse_device_type(type);
  if (!parsed) {
    fail(reader.key_path("type"), fmt::format("unknown device type '{}' (expected echo or sink)", type));
  }
  spec.type = *parsed;
  const json* instance = reader.find("instance");
  if (instance == nullptr) {
    fail(reader.key_path("instance"), "missing");
  }
  spec.instance = guid_at(*instance, reader.key_path("instance"));
  if (const json* class_id = reader.find("class")) {
    spec.class_id = guid_at(*class_id, reader.key_path("class"));
  }
  reader.number("max_subchannels", spec.max_subchannels, 0, kMaxSubchannelsLimit);
  reader.finish();
  return spec;
}

void parse_allow(const json& value, AllowList& allow) {
  ObjectReader reader(value, "allow");
  if (const json* ids = reader.find("vm_ids")) {
    const json& list = list_at(ids, "allow.vm_ids");
    for (std::size_t i = 0; i < list.size(); ++i) {
      allow.vm_ids.push_back(guid_at(list[i], fmt::format("allow.vm_ids[{}]", i)));
    }
  }
  if (const json* names = reader.find("names")) {
    const json& list = list_at(names, "allow.names");
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (!list[i].is_string() || list[i].get<std::string>().empty()) {
        fail(fmt::format("allow.names[{}]", i), "expected a non-empty string");
      }
      allow.names.push_back(list[i].get<std::string>());
    }
  }
  if (const json* uids = reader.find("uids")) {
    const json& list = list_at(uids, "allow.uids");
    for (std::size_t i = 0; i < list.size(); ++i) {
      allow.uids.push_back(static_cast<uid_t>(
          ObjectReader::read_number(list[i], fmt::format("allow.uids[{}]", i), 0, UINT32_MAX - 1)));
    }
  }
  reader.finish();
}

void parse_limits(const json& value, HostdLimits& limits) {
  ObjectReader reader(value, "limits");
  reader.number("max_partitions", limits.max_partitions, 1, 4096);
  reader.number("max_gpadls", limits.max_gpadls, 1, 1 << 20);
  reader.number("max_gpadl_pages", limits.max_gpadl_pages, 1, uint64_t{1} << 32);
  reader.number("max_memory_mib", limits.max_memory_mib, 1, uint64_t{1} << 30);
  reader.number("max_channels", limits.max_channels, 1, 2047);
  reader.number("handshake_timeout_ms", limits.handshake_timeout_ms, 1, 60000);
  reader.finish();
}

void parse_kvp(const json& value, KvpSettings& kvp) {
  ObjectReader reader(value, "kvp");
  kvp.enabled = true;
  reader.string("state_dir", kvp.state_dir);
  reader.number("request_timeout_ms", kvp.request_timeout_ms, 1, 600000);
  reader.number("enumerate_interval_ms", kvp.enumerate_interval_ms, 0, 86400000);
  reader.finish();
}

void parse_workers(const json& value, HostdConfig& config) {
  ObjectReader reader(value, "workers");
  reader.string("cpus", config.cpus);
  reader.number("idle_threshold_us", config.idle_threshold_us, 0, 1000000);
  reader.finish();
}

HostdConfig parse_document(const json& document) {
  HostdConfig config;
  ObjectReader reader(document, "");
  reader.string("guest_socket", config.guest_socket);
  reader.string("control_socket", config.control_socket);
  std::string mode;
  reader.string("guest_socket_mode", mode);
  if (!mode.empty()) {
    std::size_t used = 0;
    unsigned long parsed = 0;
    try {
      parsed = std::stoul(mode, &used, 8);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != mode.size() || parsed > 0777) {
      fail("guest_socket_mode", fmt::format("expected an octal mode such as \"0660\", got '{}'", mode));
    }
    config.guest_socket_mode = static_cast<uint32_t>(parsed);
  }
  std::string level;
  reader.string("log_level", level);
  if (!level.empty()) {
    const std::optional<LogLevel> parsed = parse_log_level(level);
    if (!parsed) {
      fail("log_level", fmt::format("expected debug, info, warn or error, got '{}'", level));
    }
    config.log_level = *parsed;
  }
  if (const json* workers = reader.find("workers")) {
    parse_workers(*workers, config);
  }
  if (const json* devices = reader.find("devices")) {
    const json& list = list_at(devices, "devices");
    for (std::size_t i = 0; i < list.size(); ++i) {
      config.devices.push_back(parse_device(list[i], fmt::format("devices[{}]", i)));
    }
  }
  if (const json* allow = reader.find("allow")) {
    parse_allow(*allow, config.allow);
  }
  if (const json* limits = reader.find("limits")) {
    parse_limits(*limits, config.limits);
  }
  if (const json* kvp = reader.find("kvp")) {
    parse_kvp(*kvp, config.kvp);
  }
  reader.finish();
  if (config.guest_socket.empty() || config.control_socket.empty()) {
    fail(config.guest_socket.empty() ? "guest_socket" : "control_socket", "must not be empty");
  }
  return config;
}

}  // namespace

runtime::Expected<HostdConfig, std::string> parse_config(std::string_view text) {
  if (text.size() > kMaxConfigBytes) {
    return runtime::Unexpected<std::string>(fmt::format("larger than {} bytes", kMaxConfigBytes));
  }
  try {
    // The depth bound keeps a hostile file from costing deep recursion
    // anywhere later (destruction, reads).
    const json document = json::parse(text, [](int depth, json::parse_event_t, json&) {
      if (depth > kMaxConfigDepth) {
        throw ConfigError{fmt::format("nested deeper than {} levels", kMaxConfigDepth)};
      }
      return true;
    });
    HostdConfig config = parse_document(document);
    if (std::string problem = check_config(config); !problem.empty()) {
      return runtime::Unexpected<std::string>(std::move(problem));
    }
    return config;
  } catch (const ConfigError& error) {
    return runtime::Unexpected<std::string>(error.message);
  } catch (const json::exception& error) {
    // nlohmann's messages are one line: "[json.exception.parse_error.101] ...".
    return runtime::Unexpected<std::string>(fmt::format("not valid JSON: {}", error.what()));
  }
}

runtime::Expected<HostdConfig, std::string> load_config(const std::filesystem::path& path) {
  auto failure = [&](const std::string& why) {
    return runtime::Unexpected<std::string>(fmt::format("{}: {}", path.string(), why));
  };
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) {
    return failure(error ? error.message() : "not a regular file");
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return failure("cannot be read");
  }
  std::string text(kMaxConfigBytes + 1, '\0');
  file.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (file.bad()) {
    return failure("read error");
  }
  text.resize(static_cast<std::size_t>(file.gcount()));
  auto parsed = parse_config(text);
  if (!parsed) {
    return failure(parsed.error());
  }
  return parsed;
}

std::string check_config(const HostdConfig& config) {
  if (!config.cpus.empty()) {
    if (auto cpus = runtime::parse_cpu_list(config.cpus); !cpus) {
      return fmt::format("workers.cpus: bad CPU list '{}' ({})", config.cpus,
                         runtime::to_string(cpus.error().code));
    }
  }
  std::set<std::string> instances;
  for (const DeviceSpec& device : config.devices) {
    if (!instances.insert(wire::to_string(device.instance)).second) {
      return fmt::format("devices: instance {} appears twice", wire::to_string(device.instance));
    }
  }
  return {};
}

}  // namespace uvmbus::hostd
