// uvmbus-host kvp ... (see kvp_cli.h).
#include "kvp_cli.h"

#include <fmt/core.h>

#include "table.h"

namespace uvmbus::hostcli {
namespace {

using nlohmann::json;

const std::vector<std::string> kPools{"0", "1", "2", "3", "external", "guest", "intrinsic", "auto-external"};

std::string joined(const std::vector<std::string>& parts) {
  std::string text;
  for (const std::string& part : parts) {
    text += (text.empty() ? "" : ",") + part;
  }
  return text;
}

std::string joined(const json& list) {
  std::string text;
  for (const json& item : list) {
    text += (text.empty() ? "" : ",") + item.get<std::string>();
  }
  return text.empty() ? "-" : text;
}

}  // namespace

KvpCli::KvpCli(CLI::App& app) {
  kvp_ = app.add_subcommand("kvp", "KVP (data exchange) items and IP configuration of a VM");
  kvp_->require_subcommand(1);
  set_ = kvp_->add_subcommand("set", "add or modify a host item (pool external or auto-external)");
  set_->alias("add");
  set_->alias("modify");
  set_->add_option("vm", vm_, "VM (partition) name")->required();
  set_->add_option("key", key_, "Key")->required();
  set_->add_option("value", value_, "Value")->required();
  set_->add_option("--pool", pool_, "external (0, default) or auto-external (3)")
      ->check(CLI::IsMember({"0", "3", "external", "auto-external"}));
  remove_ = kvp_->add_subcommand("remove", "remove a host item");
  remove_->add_option("vm", vm_, "VM (partition) name")->required();
  remove_->add_option("key", key_, "Key")->required();
  remove_->add_option("--pool", pool_, "external (0, default) or auto-external (3)")
      ->check(CLI::IsMember({"0", "3", "external", "auto-external"}));
  list_ = kvp_->add_subcommand("list", "a pool's items: the host's, or the guest's guest/intrinsic items");
  list_->add_option("vm", vm_, "VM (partition) name")->required();
  list_->add_option("--pool", pool_, "external (default), auto-external, guest or intrinsic (0-3)")
      ->check(CLI::IsMember(kPools));
  list_->add_flag("--refresh", refresh_, "Enumerate the guest's pool now instead of the last enumeration");
  get_ = kvp_->add_subcommand("get", "ask the guest for one key's value");
  get_->add_option("vm", vm_, "VM (partition) name")->required();
  get_->add_option("key", key_, "Key")->required();
  get_->add_option("--pool", pool_, "pool 0-3 (default external)")->check(CLI::IsMember(kPools));
  CLI::App* ip = kvp_->add_subcommand("ip", "a VM NIC's IP configuration");
  ip->require_subcommand(1);
  ip_get_ = ip->add_subcommand("get", "the addresses, gateways and DNS servers of the NIC with this MAC");
  ip_get_->add_option("vm", vm_, "VM (partition) name")->required();
  ip_get_->add_option("mac", mac_, "MAC, 00:15:5D:00:00:01")->required();
  ip_set_ = ip->add_subcommand("set", "configure the NIC with this VMBus instance GUID");
  ip_set_->add_option("vm", vm_, "VM (partition) name")->required();
  ip_set_->add_option("adapter", adapter_, "NIC instance GUID, {...}")->required();
  ip_set_->add_option("--address", addresses_, "ADDRESS/PREFIX (repeatable)");
  ip_set_->add_option("--gateway", gateways_, "Default gateway (repeatable)");
  ip_set_->add_option("--dns", dns_, "DNS server (repeatable)");
  ip_set_->add_flag("--dhcp", dhcp_, "DHCP enabled");
  status_ = kvp_->add_subcommand("status", "each VM's KVP channel: connected, version, counters");
  status_->add_option("vm", vm_, "Only this VM");
}

std::string KvpCli::command() const {
  if (set_->parsed()) return "kvp-set";
  if (remove_->parsed()) return "kvp-remove";
  if (list_->parsed()) return "kvp-list";
  if (get_->parsed()) return "kvp-get";
  if (ip_get_->parsed()) return "kvp-ip-get";
  if (ip_set_->parsed()) return "kvp-ip-set";
  return "kvp-status";
}

json KvpCli::args() const {
  json args = json::object();
  if (!vm_.empty()) {
    args["vm"] = vm_;
  }
  if (set_->parsed() || remove_->parsed() || get_->parsed()) {
    args["key"] = key_;
  }
  if (set_->parsed()) {
    args["value"] = value_;
  }
  if (!pool_.empty()) {
    args["pool"] = pool_;
  }
  if (list_->parsed() && refresh_) {
    args["refresh"] = 1;
  }
  if (ip_get_->parsed()) {
    args["mac"] = mac_;
  }
  if (ip_set_->parsed()) {
    args["adapter"] = adapter_;
    args["addresses"] = joined(addresses_);
    args["gateways"] = joined(gateways_);
    args["dns"] = joined(dns_);
    args["dhcp"] = dhcp_ ? 1 : 0;
  }
  return args;
}

runtime::Expected<json, hostctl::ClientError> list_all_pages(hostctl::ControlClient& client, json args) {
  const auto broken = [](const char* what) {
    return runtime::Unexpected<hostctl::ClientError>(
        hostctl::ClientError{hostctl::ClientFailure::bad_reply, fmt::format("kvp-list: {}", what)});
  };
  const auto paged = [](const json& result) {
    return result.is_object() && result.contains("items") && result["items"].is_array();
  };
  auto reply = client.command("kvp-list", args, kKvpReplyTimeout);
  if (!reply || !(*reply)["ok"].get<bool>() || !paged((*reply)["result"])) {
    return reply;  // an error, or a result that rendering reports as bad
  }
  json& result = (*reply)["result"];
  json next = result.value("next", json());
  uint64_t offset = 0;
  while (!next.is_null()) {
    // Each page must move forward, or a broken hostd would keep us here.
    if (!next.is_number_unsigned() || next.get<uint64_t>() <= offset) {
      return broken("the next page does not move forward");
    }
    offset = next.get<uint64_t>();
    args["offset"] = offset;
    auto page = client.command("kvp-list", args, kKvpReplyTimeout);
    if (!page || !(*page)["ok"].get<bool>()) {
      return page;
    }
    json& more = (*page)["result"];
    if (!paged(more)) {
      return broken("a page without items");
    }
    for (json& item : more["items"]) {
      result["items"].push_back(std::move(item));
    }
    next = more.value("next", json());
  }
  result.erase("next");
  result.erase("offset");
  return reply;
}

std::string render_kvp(const std::string& command, const json& result) {
  if (command == "kvp-set" || command == "kvp-remove") {
    const bool acked = result.at("delivery") == "acknowledged";
    return fmt::format("{} {} in pool {} of {}: {}\n", command == "kvp-set" ? "set" : "removed",
                       result.at("key").get<std::string>(), result.at("pool").get<std::string>(),
                       result.at("vm").get<std::string>(),
                       acked ? "acknowledged by the guest" : "stored (the guest is not connected; sent when it is)");
  }
  if (command == "kvp-list") {
    Table table({"KEY", "VALUE"});
    for (const json& item : result.at("items")) {
      table.add({item.at("key").get<std::string>(), item.at("value").get<std::string>()});
    }
    std::string source = result.at("source").get<std::string>();
    if (result.contains("age_ms")) {
      source += fmt::format(", {} ms old", result.at("age_ms").get<int64_t>());
    }
    return fmt::format("{} pool {} ({}): {} items\n{}", result.at("vm").get<std::string>(),
                       result.at("pool").get<std::string>(), source, result.at("items").size(), table.render());
  }
  if (command == "kvp-get") {
    return result.at("value").get<std::string>() + "\n";
  }
  if (command == "kvp-ip-get" || command == "kvp-ip-set") {
    return fmt::format("adapter {}\n  addresses {}\n  gateways  {}\n  dns       {}\n  dhcp      {}\n",
                       result.at("adapter_id").get<std::string>(), joined(result.at("addresses")),
                       joined(result.at("gateways")), joined(result.at("dns")),
                       result.at("dhcp").get<bool>() ? "enabled" : "disabled");
  }
  Table table({"VM", "CONNECTED", "VERSION", "EXTERNAL", "AUTO-EXTERNAL", "REQUESTS", "REPLIES", "TIMEOUTS",
               "DROPPED"});
  for (const json& s : result) {
    table.add({s.at("vm").get<std::string>(), s.at("connected").get<bool>() ? "yes" : "no",
               s.at("version").get<std::string>().empty() ? "-" : s.at("version").get<std::string>(),
               std::to_string(s.at("external_items").get<uint64_t>()),
               std::to_string(s.at("auto_external_items").get<uint64_t>()),
               std::to_string(s.at("requests").get<uint64_t>()), std::to_string(s.at("replies").get<uint64_t>()),
               std::to_string(s.at("timeouts").get<uint64_t>()), std::to_string(s.at("dropped").get<uint64_t>())});
  }
  return table.render();
}

}  // namespace uvmbus::hostcli
