// hostd's KVP device, saved host items and kvp-* commands (see kvp_feature.h).
#include "kvp_feature.h"

#include <arpa/inet.h>
#include <fmt/core.h>

#include <fstream>
#include <sstream>

#include "log.h"

namespace uvmbus::hostd {
namespace {

using hostctl::ErrorCode;
using nlohmann::json;
using wire::KvpPool;

constexpr std::array kHostPools{KvpPool::external, KvpPool::auto_external};

const char* pool_name(KvpPool pool) {
  switch (pool) {
    case KvpPool::external: return "external";
    case KvpPool::guest: return "guest";
    case KvpPool::automatic: return "intrinsic";
    case KvpPool::auto_external: return "auto-external";
    case KvpPool::auto_internal: return "auto-internal";
  }
  return "unknown";
}

// "0".."3" or a pool's name.
KvpPool pool_argument(const std::optional<std::string>& text, KvpPool fallback) {
  if (!text) {
    return fallback;
  }
  for (const KvpPool pool : {KvpPool::external, KvpPool::guest, KvpPool::automatic, KvpPool::auto_external}) {
    if (*text == pool_name(pool) || *text == std::to_string(static_cast<int>(pool))) {
      return pool;
    }
  }
  if (*text == "auto") {
    return KvpPool::automatic;
  }
  throw CommandError(ErrorCode::invalid_argument,
                     fmt::format("argument 'pool': expected 0-3, external, guest, intrinsic or auto-external, got '{}'",
                                 *text));
}

std::string required(CommandArgs& args, const char* key) {
  std::optional<std::string> value = args.string(key);
  if (!value) {
    throw CommandError(ErrorCode::invalid_argument, fmt::format("argument '{}' is required", key));
  }
  return std::move(*value);
}

// The VM must be connected (a partition of that name) for any kvp command.
std::string vm_argument(CommandArgs& args, HostdContext& context) {
  std::string vm = required(args, "vm");
  for (const host::PartitionSnapshot& partition : context.server.snapshot().partitions) {
    if (partition.name == vm) {
      return vm;
    }
  }
  throw CommandError(ErrorCode::no_such_partition, fmt::format("no VM '{}' is connected", vm));
}

[[noreturn]] void throw_failure(const host::KvpFailure& failure) {
  ErrorCode code = ErrorCode::internal;
  switch (failure.code) {
    case host::KvpErrc::no_such_vm: code = ErrorCode::no_such_partition; break;
    case host::KvpErrc::guest_not_connected: code = ErrorCode::guest_not_connected; break;
    case host::KvpErrc::timeout: code = ErrorCode::timeout; break;
    case host::KvpErrc::key_too_long:
    case host::KvpErrc::value_too_long:
    case host::KvpErrc::bad_text:
    case host::KvpErrc::bad_pool:
    case host::KvpErrc::bad_ip_info: code = ErrorCode::invalid_argument; break;
    case host::KvpErrc::not_found: code = ErrorCode::not_found; break;
    case host::KvpErrc::guest_failed:
    case host::KvpErrc::bad_reply: code = ErrorCode::guest_failed; break;
    case host::KvpErrc::stopped: code = ErrorCode::unavailable; break;
  }
  throw CommandError(code, host::describe(failure));
}

template <typename T>
T checked(host::KvpResult<T> result) {
  if (!result) {
    throw_failure(result.error());
  }
  if constexpr (!std::is_void_v<T>) {
    return std::move(*result);
  }
}

json items_json(const std::vector<host::KvpItem>& items) {
  json list = json::array();
  for (const host::KvpItem& item : items) {
    list.push_back({{"key", item.key}, {"value", item.value}});
  }
  return list;
}

// A page of a list: items [offset, offset + limit), fewer if the reply
// would not fit one control message.
struct Page {
  uint64_t offset;
  uint64_t limit;
};
constexpr uint64_t kMaxListOffset = uint32_t{0xffffffff};
// Room left in a reply for the fields beside "items" (names, counts).
constexpr std::size_t kPageBytes = hostctl::kMaxReplyBytes - 16 * 1024;

json with_page(json result, const std::vector<host::KvpItem>& items, const Page& page) {
  json list = json::array();
  std::size_t bytes = 0;
  std::size_t index = static_cast<std::size_t>(std::min<uint64_t>(page.offset, items.size()));
  for (; index < items.size() && list.size() < page.limit; ++index) {
    json item{{"key", items[index].key}, {"value", items[index].value}};
    bytes += item.dump(-1, ' ', false, json::error_handler_t::replace).size() + 1;
    if (bytes > kPageBytes && !list.empty()) {
      break;
    }
    list.push_back(std::move(item));
  }
  result["total"] = items.size();
  result["offset"] = page.offset;
  result["next"] = index < items.size() ? json(index) : json();
  result["items"] = std::move(list);
  return result;
}

std::string address_text(int family, const void* address) {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, address, text, sizeof(text));
  return text;
}

int prefix_of(const kvp::Ipv4Address& mask) {
  int bits = 0;
  for (const uint8_t byte : mask) {
    bits += __builtin_popcount(byte);
  }
  return bits;
}

json ip_info_json(const kvp::IpInfo& info) {
  json addresses = json::array();
  for (const kvp::Ipv4Entry& entry : info.ipv4) {
    addresses.push_back(fmt::format("{}/{}", address_text(AF_INET, entry.address.data()), prefix_of(entry.subnet_mask)));
  }
  for (const kvp::Ipv6Entry& entry : info.ipv6) {
    addresses.push_back(fmt::format("{}/{}", address_text(AF_INET6, entry.address.data()), entry.prefix_length));
  }
  json gateways = json::array();
  for (const kvp::Ipv4Address& gateway : info.ipv4_gateways) {
    gateways.push_back(address_text(AF_INET, gateway.data()));
  }
  for (const kvp::Ipv6Address& gateway : info.ipv6_gateways) {
    gateways.push_back(address_text(AF_INET6, gateway.data()));
  }
  json dns = json::array();
  for (const kvp::Ipv4Address& server : info.ipv4_dns_servers) {
    dns.push_back(address_text(AF_INET, server.data()));
  }
  for (const kvp::Ipv6Address& server : info.ipv6_dns_servers) {
    dns.push_back(address_text(AF_INET6, server.data()));
  }
  return {{"adapter_id", info.adapter_id}, {"dhcp", info.dhcp_enabled},
          {"addresses", addresses},        {"gateways", gateways},
          {"dns", dns}};
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  for (std::string part; std::getline(stream, part, ',');) {
    if (!part.empty()) {
      parts.push_back(part);
    }
  }
  return parts;
}

[[noreturn]] void bad_address(const char* key, const std::string& text) {
  throw CommandError(ErrorCode::invalid_argument, fmt::format("argument '{}': '{}' is not an address", key, text));
}

// "10.0.0.5/24,fd00::5/64" (IPv4 without a prefix: /32; IPv6: /128).
void parse_addresses(const std::string& list, kvp::IpInfo& info) {
  for (const std::string& item : split(list)) {
    const std::size_t slash = item.find('/');
    const std::string address = item.substr(0, slash);
    int prefix = -1;
    if (slash != std::string::npos) {
      try {
        prefix = std::stoi(item.substr(slash + 1));
      } catch (const std::exception&) {
        bad_address("addresses", item);
      }
    }
    kvp::Ipv4Entry v4{};
    kvp::Ipv6Entry v6{};
    if (inet_pton(AF_INET, address.c_str(), v4.address.data()) == 1 && prefix <= 32) {
      const uint32_t bits = prefix < 0 ? 32 : static_cast<uint32_t>(prefix);
      const uint32_t mask = bits == 0 ? 0 : ~uint32_t{0} << (32 - bits);
      v4.subnet_mask = {static_cast<uint8_t>(mask >> 24), static_cast<uint8_t>(mask >> 16),
                        static_cast<uint8_t>(mask >> 8), static_cast<uint8_t>(mask)};
      v4.origin = wire::KvpAddressOrigin::static_assignment;
      info.ipv4.push_back(v4);
      info.address_family |= wire::kKvpAddressFamilyIpv4;
    } else if (inet_pton(AF_INET6, address.c_str(), v6.address.data()) == 1 && prefix <= 128) {
      v6.prefix_length = prefix < 0 ? 128 : static_cast<uint32_t>(prefix);
      v6.origin = wire::KvpAddressOrigin::static_assignment;
      info.ipv6.push_back(v6);
      info.address_family |= wire::kKvpAddressFamilyIpv6;
    } else {
      bad_address("addresses", item);
    }
  }
}

void parse_servers(const char* key, const std::string& list, std::vector<kvp::Ipv4Address>& v4,
                   std::vector<kvp::Ipv6Address>& v6) {
  for (const std::string& item : split(list)) {
    kvp::Ipv4Address a4{};
    kvp::Ipv6Address a6{};
    if (inet_pton(AF_INET, item.c_str(), a4.data()) == 1) {
      v4.push_back(a4);
    } else if (inet_pton(AF_INET6, item.c_str(), a6.data()) == 1) {
      v6.push_back(a6);
    } else {
      bad_address(key, item);
    }
  }
}

// File names for VM names: anything but [A-Za-z0-9._-] as %XX.
std::string state_file_name(const std::string& vm) {
  std::string name;
  for (const char c : vm) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) != 0 || c == '-' || c == '_' || (c == '.' && !name.empty())) {
      name += c;
    } else {
      name += fmt::format("%{:02X}", byte);
    }
  }
  return name + ".kvp.json";
}

std::string vm_from_file_name(std::string name) {
  name.resize(name.size() - std::string_view(".kvp.json").size());
  std::string vm;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '%' && i + 2 < name.size()) {
      vm += static_cast<char>(std::stoi(name.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      vm += name[i];
    }
  }
  return vm;
}

}  // namespace

KvpFeature::KvpFeature(std::shared_ptr<host::KvpDevice> device, std::filesystem::path state_dir)
    : device_(std::move(device)), state_dir_(std::move(state_dir)) {}

runtime::Expected<std::unique_ptr<KvpFeature>, std::string> KvpFeature::start(host::VmbusServer& server,
                                                                              const KvpSettings& settings) {
  host::KvpDeviceConfig config;
  config.request_timeout = std::chrono::milliseconds(settings.request_timeout_ms);
  config.enumerate_interval = std::chrono::milliseconds(settings.enumerate_interval_ms);
  std::unique_ptr<KvpFeature> feature(new KvpFeature(host::KvpDevice::create(config), settings.state_dir));
  if (!feature->state_dir_.empty()) {
    std::error_code error;
    std::filesystem::create_directories(feature->state_dir_, error);
    if (error) {
      return runtime::Unexpected<std::string>(
          fmt::format("kvp state dir {}: {}", feature->state_dir_.string(), error.message()));
    }
    if (std::string problem = feature->load(); !problem.empty()) {
      return runtime::Unexpected<std::string>(std::move(problem));
    }
  }
  if (!server.add_device(feature->device_)) {
    return runtime::Unexpected<std::string>("a device with the KVP instance GUID exists");
  }
  log(LogLevel::info, "event=kvp_enabled instance={} state_dir=\"{}\"", wire::to_string(host::kKvpInstanceGuid),
      feature->state_dir_.string());
  return feature;
}

std::string KvpFeature::load() {
  for (const auto& entry : std::filesystem::directory_iterator(state_dir_)) {
    const std::string file = entry.path().filename().string();
    if (!file.ends_with(".kvp.json") || file.size() <= std::string_view(".kvp.json").size()) {
      continue;
    }
    const std::string vm = vm_from_file_name(file);
    try {
      std::ifstream in(entry.path());
      const json saved = json::parse(in);
      for (const KvpPool pool : kHostPools) {
        std::vector<host::KvpItem> items;
        for (const json& item : saved.at(pool_name(pool))) {
          items.push_back({item.at("key").get<std::string>(), item.at("value").get<std::string>()});
        }
        if (host::KvpResult<host::Delivery> set = device_->set_items(vm, pool, items); !set) {
          return fmt::format("{}: {}", entry.path().string(), host::describe(set.error()));
        }
      }
    } catch (const json::exception& error) {
      return fmt::format("{}: {}", entry.path().string(), error.what());
    }
    log(LogLevel::info, "event=kvp_state_loaded vm={} file=\"{}\"", vm, entry.path().string());
  }
  return {};
}

void KvpFeature::save(const std::string& vm) const {
  if (state_dir_.empty()) {
    return;
  }
  json saved = json::object();
  for (const KvpPool pool : kHostPools) {
    host::KvpResult<std::vector<host::KvpItem>> items = device_->host_items(vm, pool);
    saved[pool_name(pool)] = items ? items_json(*items) : json::array();
  }
  // Write a new file and rename it over the old one: a crash leaves one or the other.
  const std::filesystem::path path = state_dir_ / state_file_name(vm);
  const std::filesystem::path temporary = path.string() + ".new";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << saved.dump(1) << '\n';
    if (!out) {
      log(LogLevel::error, "event=kvp_state_not_saved vm={} file=\"{}\"", vm, temporary.string());
      return;
    }
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) {
    log(LogLevel::error, "event=kvp_state_not_saved vm={} reason=\"{}\"", vm, error.message());
  }
}

json KvpFeature::host_change(const host::KvpResult<host::Delivery>& change, const std::string& vm, KvpPool pool,
                             const std::string& key) const {
  if (!change && change.error().code != host::KvpErrc::guest_failed &&
      change.error().code != host::KvpErrc::timeout) {
    throw_failure(change.error());
  }
  save(vm);  // the host's pool changed, whatever the guest said
  const host::Delivery delivery = checked(change);
  return json{{"vm", vm}, {"pool", pool_name(pool)}, {"key", key},
              {"delivery", delivery == host::Delivery::acknowledged ? "acknowledged" : "stored"}};
}

void KvpFeature::register_commands(CommandTable& table, HostdContext& context) {
  // The commands that talk to the guest return their work (run off the main
  // loop) and build the reply from its outcome on the main thread.
  std::shared_ptr<host::KvpDevice> kvp = device_;
  table.add_deferred("kvp-set", "add or modify a host KVP item; args: vm, key, value, pool (external|auto-external)",
                     [this, kvp, &context](CommandArgs& args) -> Deferred {
                       std::string vm = vm_argument(args, context);
                       std::string key = required(args, "key");
                       std::string value = required(args, "value");
                       const KvpPool pool = pool_argument(args.string("pool"), KvpPool::external);
                       args.finish();
                       return [this, kvp, vm, key, value, pool]() -> Completion {
                         auto set = std::make_shared<host::KvpResult<host::Delivery>>(
                             kvp->set_item(vm, pool, key, value));
                         return [this, set, vm, key, pool] { return host_change(*set, vm, pool, key); };
                       };
                     });
  table.add_deferred("kvp-remove", "remove a host KVP item; args: vm, key, pool (external|auto-external)",
                     [this, kvp, &context](CommandArgs& args) -> Deferred {
                       std::string vm = vm_argument(args, context);
                       std::string key = required(args, "key");
                       const KvpPool pool = pool_argument(args.string("pool"), KvpPool::external);
                       args.finish();
                       return [this, kvp, vm, key, pool]() -> Completion {
                         auto removed = std::make_shared<host::KvpResult<host::Delivery>>(
                             kvp->delete_item(vm, pool, key));
                         return [this, removed, vm, key, pool] { return host_change(*removed, vm, pool, key); };
                       };
                     });
  table.add_deferred(
      "kvp-list",
      "a page of a pool's items: the host's (external, auto-external) or the guest's (guest, intrinsic); "
      "args: vm, pool, refresh (0|1), offset, limit; the reply's next is the offset of the next page (null: last)",
      [kvp, &context](CommandArgs& args) -> Deferred {
        std::string vm = vm_argument(args, context);
        const KvpPool pool = pool_argument(args.string("pool"), KvpPool::external);
        const bool refresh = args.number("refresh", 1).value_or(0) == 1;
        const Page page{args.number("offset", kMaxListOffset).value_or(0),
                        args.number("limit", kMaxListOffset).value_or(kMaxListOffset)};
        args.finish();
        if (page.limit == 0) {
          throw CommandError(ErrorCode::invalid_argument, "argument 'limit' must be at least 1");
        }
        return [kvp, vm, pool, refresh, page]() -> Completion {
          json result{{"vm", vm}, {"pool", pool_name(pool)}};
          if (pool == KvpPool::external || pool == KvpPool::auto_external) {
            host::KvpResult<std::vector<host::KvpItem>> items = kvp->host_items(vm, pool);
            result["source"] = "host";
            return [result, items, page]() mutable {
              return with_page(std::move(result), items ? *items : std::vector<host::KvpItem>{}, page);
            };
          }
          // Later pages come from the enumeration the first page made.
          auto items =
              std::make_shared<host::KvpResult<host::GuestItems>>(kvp->guest_items(vm, pool, refresh && page.offset == 0));
          return [result, items, page]() mutable {
            const host::GuestItems& guest = checked(*items);
            result["source"] = guest.from_cache ? "cache" : "guest";
            result["age_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now() -
                                                                                     guest.fetched)
                                   .count();
            return with_page(std::move(result), guest.items, page);
          };
        };
      });
  table.add_deferred("kvp-get", "ask the guest for one key's value; args: vm, key, pool",
                     [kvp, &context](CommandArgs& args) -> Deferred {
                       std::string vm = vm_argument(args, context);
                       std::string key = required(args, "key");
                       const KvpPool pool = pool_argument(args.string("pool"), KvpPool::external);
                       args.finish();
                       return [kvp, vm, key, pool]() -> Completion {
                         auto value = std::make_shared<host::KvpResult<std::string>>(kvp->get_value(vm, pool, key));
                         return [value, vm, key, pool] {
                           return json{{"vm", vm}, {"pool", pool_name(pool)}, {"key", key}, {"value", checked(*value)}};
                         };
                       };
                     });
  table.add_deferred("kvp-ip-get", "a guest NIC's IP configuration; args: vm, mac (00:15:5D:..)",
                     [kvp, &context](CommandArgs& args) -> Deferred {
                       std::string vm = vm_argument(args, context);
                       std::string mac = required(args, "mac");
                       args.finish();
                       return [kvp, vm, mac]() -> Completion {
                         auto info = std::make_shared<host::KvpResult<kvp::IpInfo>>(kvp->get_ip_info(vm, mac));
                         return [info, vm] {
                           json result = ip_info_json(checked(*info));
                           result["vm"] = vm;
                           return result;
                         };
                       };
                     });
  table.add_deferred("kvp-ip-set",
                     "set a guest NIC's IP configuration; args: vm, adapter ({guid}), addresses (a/p,...), "
                     "gateways, dns, dhcp (0|1)",
                     [kvp, &context](CommandArgs& args) -> Deferred {
                       std::string vm = vm_argument(args, context);
                       kvp::IpInfo info;
                       info.adapter_id = required(args, "adapter");
                       parse_addresses(args.string("addresses").value_or(""), info);
                       parse_servers("gateways", args.string("gateways").value_or(""), info.ipv4_gateways,
                                     info.ipv6_gateways);
                       parse_servers("dns", args.string("dns").value_or(""), info.ipv4_dns_servers,
                                     info.ipv6_dns_servers);
                       info.dhcp_enabled = args.number("dhcp", 1).value_or(0) == 1;
                       args.finish();
                       return [kvp, vm, info]() -> Completion {
                         auto set = std::make_shared<host::KvpResult<void>>(kvp->set_ip_info(vm, info));
                         return [set, vm, info] {
                           checked(*set);
                           json result = ip_info_json(info);
                           result["vm"] = vm;
                           return result;
                         };
                       };
                     });
  host::KvpDevice& device = *device_;
  table.add("kvp-status", "the KVP channel of each VM: connected, version, counters; args: vm",
            [&device](CommandArgs& args) {
              const std::optional<std::string> vm = args.string("vm");
              args.finish();
              std::vector<host::KvpVmStatus> all;
              if (vm) {
                all.push_back(checked(device.status(*vm)));
              } else {
                all = device.status();
              }
              json list = json::array();
              for (const host::KvpVmStatus& s : all) {
                list.push_back(
                    {{"vm", s.name},
                     {"connected", s.connected},
                     {"version", s.versions ? fmt::format("{}.{}", s.versions->service.major, s.versions->service.minor)
                                            : ""},
                     {"external_items", s.external_items},
                     {"auto_external_items", s.auto_external_items},
                     {"requests", s.counters.requests},
                     {"replies", s.counters.replies},
                     {"timeouts", s.counters.timeouts},
                     {"dropped", s.counters.dropped},
                     {"bad_bodies", s.counters.bad_bodies}});
              }
              return list;
            });
}

}  // namespace uvmbus::hostd
