// IP info: string (KVP 3.0/4.0) and binary (KVP 5.0) wire forms.
#include "uvmbus/kvp/ip_info.h"

#include <arpa/inet.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>
#include <variant>

#include "kvp_fields.h"

namespace uvmbus::kvp {

namespace {

using detail::bytes_of;
using detail::writable_bytes_of;

// Longest UTF-8 text a list field can hold: 3 bytes per UTF-16 unit at most.
constexpr std::size_t kMaxListUtf8 = 3 * wire::kKvpIpListBytes / 2;

using Address = std::variant<Ipv4Address, Ipv6Address>;

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

// The non-empty ';'-separated items of `list`, trimmed.
std::vector<std::string_view> split_list(std::string_view list) {
  std::vector<std::string_view> items;
  while (!list.empty()) {
    const auto end = list.find(';');
    const std::string_view item = trim(list.substr(0, end));
    if (!item.empty()) {
      items.push_back(item);
    }
    list = end == std::string_view::npos ? std::string_view{} : list.substr(end + 1);
  }
  return items;
}

std::optional<Address> parse_address(std::string_view text) {
  const std::string terminated(text);
  Ipv4Address v4{};
  if (inet_pton(AF_INET, terminated.c_str(), v4.data()) == 1) {
    return v4;
  }
  Ipv6Address v6{};
  if (inet_pton(AF_INET6, terminated.c_str(), v6.data()) == 1) {
    return v6;
  }
  return std::nullopt;
}

// Leading one bits of a contiguous mask; nullopt if the mask has holes.
std::optional<uint32_t> prefix_of_mask(std::span<const uint8_t> mask) {
  uint32_t prefix = 0;
  bool ended = false;
  for (const uint8_t byte : mask) {
    const int ones = std::countl_one(byte);
    if (ended && byte != 0) {
      return std::nullopt;
    }
    if (ones != 8) {
      if (static_cast<uint8_t>(byte << ones) != 0) {
        return std::nullopt;
      }
      ended = true;
    }
    prefix += static_cast<uint32_t>(ones);
  }
  return prefix;
}

// An IPv6 subnet as Linux writes it ("/64"), as a bare prefix ("64") or as
// a mask ("ffff:ffff:ffff:ffff::").
std::optional<uint32_t> parse_ipv6_prefix(std::string_view text) {
  const std::string_view digits = text.starts_with('/') ? text.substr(1) : text;
  uint32_t prefix = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
  if (error == std::errc{} && end == digits.data() + digits.size()) {
    return prefix <= 128 ? std::optional(prefix) : std::nullopt;
  }
  const auto mask = parse_address(text);
  if (mask && std::holds_alternative<Ipv6Address>(*mask)) {
    return prefix_of_mask(std::get<Ipv6Address>(*mask));
  }
  return std::nullopt;
}

std::string format_address(std::span<const uint8_t> address) {
  char text[INET6_ADDRSTRLEN] = {};
  const int family = address.size() == 4 ? AF_INET : AF_INET6;
  inet_ntop(family, address.data(), text, sizeof(text));
  return text;
}

void append_item(std::string& list, std::string_view item) {
  if (!list.empty()) {
    list.push_back(';');
  }
  list.append(item);
}

template <class V4, class V6, class Format>
std::string join(const std::vector<V4>& ipv4, const std::vector<V6>& ipv6, Format format) {
  std::string list;
  for (const auto& entry : ipv4) {
    append_item(list, format(entry));
  }
  for (const auto& entry : ipv6) {
    append_item(list, format(entry));
  }
  return list;
}

struct ListText {
  IpInfoError error;
  TextError text_error;
  std::string text;
};

template <std::size_t N>
ListText read_list(const uint8_t (&field)[N]) {
  TextResult text = utf16le_field_to_utf8(bytes_of(field), kMaxListUtf8);
  if (text.error != TextError::none) {
    return {IpInfoError::bad_list_text, text.error, {}};
  }
  return {IpInfoError::none, TextError::none, std::move(text.text)};
}

template <std::size_t N>
IpInfoError write_list(std::string_view text, uint8_t (&field)[N]) {
  const Utf16Result written = utf8_to_utf16le(text, writable_bytes_of(field), Overflow::reject);
  return written.error == TextError::none ? IpInfoError::none : IpInfoError::list_too_long;
}

// Splits a list of addresses of either family into the two vectors.
IpInfoError parse_address_list(std::string_view list, std::vector<Ipv4Address>& ipv4,
                               std::vector<Ipv6Address>& ipv6) {
  for (const std::string_view item : split_list(list)) {
    const auto address = parse_address(item);
    if (!address) {
      return IpInfoError::unparsable_address;
    }
    if (const auto* v4 = std::get_if<Ipv4Address>(&*address)) {
      ipv4.push_back(*v4);
    } else {
      ipv6.push_back(std::get<Ipv6Address>(*address));
    }
  }
  return IpInfoError::none;
}

// Pairs each address with the subnet at the same position.
IpInfoError parse_addresses_and_subnets(std::string_view addresses, std::string_view subnets,
                                        IpInfo& info) {
  const auto address_items = split_list(addresses);
  const auto subnet_items = split_list(subnets);
  if (address_items.size() != subnet_items.size()) {
    return IpInfoError::subnet_count;
  }
  for (std::size_t i = 0; i < address_items.size(); ++i) {
    const auto address = parse_address(address_items[i]);
    if (!address) {
      return IpInfoError::unparsable_address;
    }
    if (const auto* v4 = std::get_if<Ipv4Address>(&*address)) {
      const auto mask = parse_address(subnet_items[i]);
      if (!mask || !std::holds_alternative<Ipv4Address>(*mask)) {
        return IpInfoError::unparsable_address;
      }
      info.ipv4.push_back({*v4, std::get<Ipv4Address>(*mask), wire::KvpAddressOrigin::unknown});
    } else {
      const auto prefix = parse_ipv6_prefix(subnet_items[i]);
      if (!prefix) {
        return IpInfoError::unparsable_address;
      }
      info.ipv6.push_back(
          {std::get<Ipv6Address>(*address), *prefix, wire::KvpAddressOrigin::unknown});
    }
  }
  return IpInfoError::none;
}

template <class Address, std::size_t N, std::size_t Capacity>
void copy_out(const uint8_t (&from)[Capacity][N], uint32_t count, std::vector<Address>& to) {
  for (uint32_t i = 0; i < count; ++i) {
    Address address{};
    std::memcpy(address.data(), from[i], N);
    to.push_back(address);
  }
}

template <class Address, std::size_t N, std::size_t Capacity>
void copy_in(const std::vector<Address>& from, uint8_t (&to)[Capacity][N]) {
  for (std::size_t i = 0; i < from.size(); ++i) {
    std::memcpy(to[i], from[i].data(), N);
  }
}

// The fields both forms share: adapter id, address family, DHCP.
template <class Message>
IpInfoResult read_common(const Message& message) {
  TextResult adapter = utf16le_field_to_utf8(bytes_of(message.adapter_id), kMaxListUtf8);
  if (adapter.error != TextError::none) {
    return {IpInfoError::bad_adapter_id, adapter.error, {}};
  }
  IpInfoResult result{IpInfoError::none, TextError::none, {}};
  result.info.adapter_id = std::move(adapter.text);
  result.info.address_family = message.address_family;
  result.info.dhcp_enabled = message.dhcp_enabled != 0;
  return result;
}

template <class Message>
IpInfoError write_common(const IpInfo& info, Message& message) {
  const Utf16Result adapter =
      utf8_to_utf16le(info.adapter_id, writable_bytes_of(message.adapter_id), Overflow::reject);
  if (adapter.error != TextError::none) {
    return IpInfoError::bad_adapter_id;
  }
  message.address_family = info.address_family;
  message.dhcp_enabled = info.dhcp_enabled ? 1 : 0;
  return IpInfoError::none;
}

}  // namespace

const char* to_string(IpInfoError error) noexcept {
  switch (error) {
    case IpInfoError::none: return "none";
    case IpInfoError::bad_adapter_id: return "bad_adapter_id";
    case IpInfoError::bad_list_text: return "bad_list_text";
    case IpInfoError::unparsable_address: return "unparsable_address";
    case IpInfoError::subnet_count: return "subnet_count";
    case IpInfoError::too_many_entries: return "too_many_entries";
    case IpInfoError::list_too_long: return "list_too_long";
  }
  return "unknown";
}

IpInfoResult read_ip_info(const wire::KvpIpInfoStringMessage& message) {
  IpInfoResult result = read_common(message);
  if (result.error != IpInfoError::none) {
    return result;
  }

  const ListText addresses = read_list(message.ip_addresses);
  const ListText subnets = read_list(message.subnets);
  const ListText gateways = read_list(message.gateways);
  const ListText dns = read_list(message.dns_servers);
  for (const ListText* list : {&addresses, &subnets, &gateways, &dns}) {
    if (list->error != IpInfoError::none) {
      return {list->error, list->text_error, {}};
    }
  }
  IpInfoError error = parse_addresses_and_subnets(addresses.text, subnets.text, result.info);
  if (error == IpInfoError::none) {
    error = parse_address_list(gateways.text, result.info.ipv4_gateways,
                               result.info.ipv6_gateways);
  }
  if (error == IpInfoError::none) {
    error = parse_address_list(dns.text, result.info.ipv4_dns_servers,
                               result.info.ipv6_dns_servers);
  }
  if (error != IpInfoError::none) {
    return {error, TextError::none, {}};
  }
  return result;
}

IpInfoError write_ip_info(const IpInfo& info, wire::KvpIpInfoStringMessage& message) {
  if (const IpInfoError error = write_common(info, message); error != IpInfoError::none) {
    return error;
  }
  const std::string addresses = join(info.ipv4, info.ipv6, [](const auto& entry) {
    return format_address(entry.address);
  });
  const std::string subnets = join(
      info.ipv4, info.ipv6,
      [](const auto& entry) {
        if constexpr (std::is_same_v<std::decay_t<decltype(entry)>, Ipv4Entry>) {
          return format_address(entry.subnet_mask);
        } else {
          std::string prefix(1, '/');
          prefix += std::to_string(entry.prefix_length);
          return prefix;
        }
      });
  const auto format = [](const auto& address) { return format_address(address); };
  const std::string gateways = join(info.ipv4_gateways, info.ipv6_gateways, format);
  const std::string dns = join(info.ipv4_dns_servers, info.ipv6_dns_servers, format);
  for (const IpInfoError error :
       {write_list(addresses, message.ip_addresses), write_list(subnets, message.subnets),
        write_list(gateways, message.gateways), write_list(dns, message.dns_servers)}) {
    if (error != IpInfoError::none) {
      return error;
    }
  }
  return IpInfoError::none;
}

IpInfoResult read_ip_info(const wire::KvpIpInfoBinary& message) {
  if (message.ipv4_address_count > wire::kKvpMaxAddresses ||
      message.ipv6_address_count > wire::kKvpMaxAddresses ||
      message.ipv4_gateway_count > wire::kKvpMaxGateways ||
      message.ipv6_gateway_count > wire::kKvpMaxGateways ||
      message.ipv4_dns_server_count > wire::kKvpMaxDnsServers ||
      message.ipv6_dns_server_count > wire::kKvpMaxDnsServers) {
    return {IpInfoError::too_many_entries, TextError::none, {}};
  }
  IpInfoResult result = read_common(message);
  if (result.error != IpInfoError::none) {
    return result;
  }
  IpInfo& info = result.info;
  const uint32_t ipv4_count = message.ipv4_address_count;
  for (uint32_t i = 0; i < ipv4_count; ++i) {
    Ipv4Entry entry;
    std::memcpy(entry.address.data(), message.ipv4_addresses[i], 4);
    std::memcpy(entry.subnet_mask.data(), message.ipv4_subnets[i], 4);
    entry.origin = static_cast<wire::KvpAddressOrigin>(message.address_origins[i]);
    info.ipv4.push_back(entry);
  }
  for (uint32_t i = 0; i < message.ipv6_address_count; ++i) {
    Ipv6Entry entry;
    std::memcpy(entry.address.data(), message.ipv6_addresses[i], 16);
    entry.prefix_length = message.ipv6_subnets[i];
    if (entry.prefix_length > 128) {
      return {IpInfoError::unparsable_address, TextError::none, {}};
    }
    entry.origin = static_cast<wire::KvpAddressOrigin>(message.address_origins[ipv4_count + i]);
    info.ipv6.push_back(entry);
  }
  copy_out(message.ipv4_gateways, message.ipv4_gateway_count, info.ipv4_gateways);
  copy_out(message.ipv6_gateways, message.ipv6_gateway_count, info.ipv6_gateways);
  copy_out(message.ipv4_dns_servers, message.ipv4_dns_server_count, info.ipv4_dns_servers);
  copy_out(message.ipv6_dns_servers, message.ipv6_dns_server_count, info.ipv6_dns_servers);
  return result;
}

IpInfoError write_ip_info(const IpInfo& info, wire::KvpIpInfoBinary& message) {
  if (info.ipv4.size() > wire::kKvpMaxAddresses || info.ipv6.size() > wire::kKvpMaxAddresses ||
      info.ipv4_gateways.size() > wire::kKvpMaxGateways ||
      info.ipv6_gateways.size() > wire::kKvpMaxGateways ||
      info.ipv4_dns_servers.size() > wire::kKvpMaxDnsServers ||
      info.ipv6_dns_servers.size() > wire::kKvpMaxDnsServers) {
    return IpInfoError::too_many_entries;
  }
  message = {};
  if (const IpInfoError error = write_common(info, message); error != IpInfoError::none) {
    return error;
  }
  message.ipv4_address_count = static_cast<uint32_t>(info.ipv4.size());
  message.ipv6_address_count = static_cast<uint32_t>(info.ipv6.size());
  message.ipv4_gateway_count = static_cast<uint32_t>(info.ipv4_gateways.size());
  message.ipv6_gateway_count = static_cast<uint32_t>(info.ipv6_gateways.size());
  message.ipv4_dns_server_count = static_cast<uint32_t>(info.ipv4_dns_servers.size());
  message.ipv6_dns_server_count = static_cast<uint32_t>(info.ipv6_dns_servers.size());
  for (std::size_t i = 0; i < info.ipv4.size(); ++i) {
    std::memcpy(message.ipv4_addresses[i], info.ipv4[i].address.data(), 4);
    std::memcpy(message.ipv4_subnets[i], info.ipv4[i].subnet_mask.data(), 4);
    message.address_origins[i] = static_cast<uint16_t>(info.ipv4[i].origin);
  }
  for (std::size_t i = 0; i < info.ipv6.size(); ++i) {
    std::memcpy(message.ipv6_addresses[i], info.ipv6[i].address.data(), 16);
    message.ipv6_subnets[i] = info.ipv6[i].prefix_length;
    message.address_origins[info.ipv4.size() + i] = static_cast<uint16_t>(info.ipv6[i].origin);
  }
  copy_in(info.ipv4_gateways, message.ipv4_gateways);
  copy_in(info.ipv6_gateways, message.ipv6_gateways);
  copy_in(info.ipv4_dns_servers, message.ipv4_dns_servers);
  copy_in(info.ipv6_dns_servers, message.ipv6_dns_servers);
  return IpInfoError::none;
}

}  // namespace uvmbus::kvp
