// Host side of the KVP codec: requests out, replies in.
#include "uvmbus/kvp/host_codec.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "kvp_fields.h"
#include "uvmbus/kvp/guest_codec.h"

namespace uvmbus::kvp {

namespace {

using detail::bytes_of;
using detail::ip_fields;
using detail::load_message;
using detail::writable_bytes_of;

// Longest UTF-8 a UTF-16 field of `bytes` bytes can decode to.
constexpr std::size_t utf8_capacity(std::size_t bytes) { return 3 * bytes / 2; }

// Zero-fills the first `size` bytes of `out` and stores `message` at its start.
template <class Message>
RequestSize finish(std::span<std::byte> out, std::size_t size, const Message& message) {
  std::fill(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(size), std::byte{0});
  wire::store(out, 0, message);
  return {KvpError::none, size};
}

wire::KvpHeader header_for(wire::KvpOperation operation, wire::KvpPool pool) {
  return {static_cast<uint8_t>(operation), static_cast<uint8_t>(pool)};
}

// SET and GET share one message; `fill_value` fills its value part.
template <class FillValue>
RequestSize write_item_request(std::span<std::byte> out, wire::KvpOperation operation,
                               wire::KvpPool pool, std::string_view key, FillValue fill_value) {
  if (out.size() < wire::kKvpMessageSize) {
    return {KvpError::buffer_too_small, 0};
  }
  wire::KvpGetSetMessage message{};
  message.header = header_for(operation, pool);
  const Utf16Result key_written =
      utf8_to_utf16le(key, writable_bytes_of(message.value.key), Overflow::reject);
  if (key_written.error != TextError::none) {
    return {KvpError::bad_key, 0};
  }
  message.value.key_size = key_written.size_bytes;
  if (!fill_value(message.value)) {
    return {KvpError::bad_value, 0};
  }
  return finish(out, wire::kKvpMessageSize, message);
}

ItemReply refuse(KvpError error, TextError text_error = TextError::none) {
  return {error, text_error, {}, {}};
}

// Reads a REG_SZ / REG_EXPAND_SZ value of a reply.
ItemReply read_value(const wire::KvpValue& item) {
  const auto type = static_cast<wire::KvpValueType>(item.value_type);
  if (type != wire::KvpValueType::string && type != wire::KvpValueType::expand_string) {
    return refuse(KvpError::bad_value_type);
  }
  TextResult value = utf16le_to_utf8(bytes_of(item.value), item.value_size,
                                     utf8_capacity(wire::kKvpMaxValueBytes));
  if (value.error != TextError::none) {
    return refuse(KvpError::bad_value, value.error);
  }
  return {KvpError::none, TextError::none, {}, std::move(value.text)};
}

template <class Message>
RequestSize write_ip_request(std::span<std::byte> out, wire::KvpOperation operation,
                             const IpInfo& info) {
  Message message{};
  // OpenVMM sends pool 1 (guest) with IP-info requests.
  message.header = header_for(operation, wire::KvpPool::guest);
  if (write_ip_info(info, ip_fields(message)) != IpInfoError::none) {
    return {KvpError::bad_value, 0};
  }
  return finish(out, wire::kKvpIpMessageSize, message);
}

template <class Message>
IpInfoReply read_ip_reply(std::span<const std::byte> body) {
  const auto message = load_message<Message>(body);
  if (!message) {
    return {KvpError::truncated, IpInfoError::none, TextError::none, {}};
  }
  IpInfoResult parsed = read_ip_info(ip_fields(*message));
  if (parsed.error != IpInfoError::none) {
    return {KvpError::bad_ip_info, parsed.error, parsed.text_error, {}};
  }
  return {KvpError::none, IpInfoError::none, TextError::none, std::move(parsed.info)};
}

}  // namespace

RequestSize write_set_request(std::span<std::byte> out, wire::KvpPool pool, std::string_view key,
                              std::string_view value) {
  return write_item_request(out, wire::KvpOperation::set, pool, key, [&](wire::KvpValue& item) {
    const Utf16Result written =
        utf8_to_utf16le(value, writable_bytes_of(item.value), Overflow::reject);
    item.value_type = static_cast<uint32_t>(wire::KvpValueType::string);
    item.value_size = written.size_bytes;
    return written.error == TextError::none;
  });
}

RequestSize write_set_number_request(std::span<std::byte> out, wire::KvpPool pool,
                                     std::string_view key, wire::KvpValueType type,
                                     uint64_t value) {
  return write_item_request(out, wire::KvpOperation::set, pool, key, [&](wire::KvpValue& item) {
    item.value_type = static_cast<uint32_t>(type);
    if (type == wire::KvpValueType::u32 && value <= std::numeric_limits<uint32_t>::max()) {
      const auto number = static_cast<uint32_t>(value);
      std::memcpy(item.value, &number, sizeof(number));
      item.value_size = sizeof(number);
      return true;
    }
    if (type == wire::KvpValueType::u64 || type == wire::KvpValueType::u64_linux) {
      std::memcpy(item.value, &value, sizeof(value));
      item.value_size = sizeof(value);
      return true;
    }
    return false;
  });
}

RequestSize write_get_request(std::span<std::byte> out, wire::KvpPool pool, std::string_view key) {
  return write_item_request(out, wire::KvpOperation::get, pool, key,
                            [](wire::KvpValue&) { return true; });
}

RequestSize write_delete_request(std::span<std::byte> out, wire::KvpPool pool,
                                 std::string_view key) {
  if (out.size() < wire::kKvpMessageSize) {
    return {KvpError::buffer_too_small, 0};
  }
  wire::KvpDeleteMessage message{};
  message.header = header_for(wire::KvpOperation::del, pool);
  const Utf16Result key_written =
      utf8_to_utf16le(key, writable_bytes_of(message.key), Overflow::reject);
  if (key_written.error != TextError::none) {
    return {KvpError::bad_key, 0};
  }
  message.key_size = key_written.size_bytes;
  return finish(out, wire::kKvpMessageSize, message);
}

RequestSize write_enumerate_request(std::span<std::byte> out, wire::KvpPool pool,
                                    uint32_t index) {
  if (out.size() < wire::kKvpMessageSize) {
    return {KvpError::buffer_too_small, 0};
  }
  wire::KvpEnumerateMessage message{};
  message.header = header_for(wire::KvpOperation::enumerate, pool);
  message.index = index;
  return finish(out, wire::kKvpMessageSize, message);
}

RequestSize write_ip_info_request(std::span<std::byte> out, wire::KvpOperation operation,
                                  wire::IcVersion kvp_version, const IpInfo& info) {
  if (out.size() < wire::kKvpIpMessageSize) {
    return {KvpError::buffer_too_small, 0};
  }
  IpInfo sent;
  sent.adapter_id = info.adapter_id;
  sent.address_family = info.address_family;
  if (operation == wire::KvpOperation::set_ip_info) {
    sent = info;
  }
  return uses_binary_ip_info(kvp_version)
             ? write_ip_request<wire::KvpIpInfoBinaryMessage>(out, operation, sent)
             : write_ip_request<wire::KvpIpInfoStringMessage>(out, operation, sent);
}

ItemReply read_enumerate_reply(std::span<const std::byte> body) {
  const auto message = load_message<wire::KvpEnumerateMessage>(body);
  if (!message) {
    return refuse(KvpError::truncated);
  }
  TextResult key = utf16le_to_utf8(bytes_of(message->value.key), message->value.key_size,
                                   utf8_capacity(wire::kKvpMaxKeyBytes));
  if (key.error != TextError::none) {
    return refuse(KvpError::bad_key, key.error);
  }
  ItemReply reply = read_value(message->value);
  reply.key = std::move(key.text);
  return reply;
}

ItemReply read_get_reply(std::span<const std::byte> body) {
  const auto message = load_message<wire::KvpGetSetMessage>(body);
  if (!message) {
    return refuse(KvpError::truncated);
  }
  return read_value(message->value);
}

IpInfoReply read_ip_info_reply(std::span<const std::byte> body, wire::IcVersion kvp_version) {
  return uses_binary_ip_info(kvp_version) ? read_ip_reply<wire::KvpIpInfoBinaryMessage>(body)
                                          : read_ip_reply<wire::KvpIpInfoStringMessage>(body);
}

}  // namespace uvmbus::kvp
