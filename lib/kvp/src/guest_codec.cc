// Guest side of the KVP codec: request decoding and in-place replies.
#include "uvmbus/kvp/guest_codec.h"

#include <cstring>
#include <string>

#include "kvp_fields.h"

namespace uvmbus::kvp {

namespace {

using detail::bytes_of;
using detail::ip_fields;
using detail::load_message;
using detail::writable_bytes_of;

DecodeResult refuse(KvpError error, TextError text_error = TextError::none,
                    IpInfoError ip_error = IpInfoError::none) {
  return {error, text_error, ip_error, {}};
}

// Decodes a key into `result`; false (with the error set) if it is invalid.
bool decode_key(std::span<const std::byte> field, uint32_t size, DecodeResult& result) {
  TextResult key = utf16le_to_utf8(field, size, kMaxKeyUtf8);
  if (key.error != TextError::none) {
    result = refuse(KvpError::bad_key, key.error);
    return false;
  }
  if (key.text.empty()) {
    result = refuse(KvpError::empty_key);
    return false;
  }
  result.request.key = std::move(key.text);
  return true;
}

template <class Number>
bool decode_number(const wire::KvpValue& item, DecodeResult& result) {
  if (item.value_size != sizeof(Number)) {
    result = refuse(KvpError::bad_value_size);
    return false;
  }
  Number number;
  std::memcpy(&number, item.value, sizeof(Number));
  result.request.value = std::to_string(number);
  return true;
}

bool decode_value(const wire::KvpValue& item, DecodeResult& result) {
  switch (static_cast<wire::KvpValueType>(item.value_type)) {
    case wire::KvpValueType::string:
    case wire::KvpValueType::expand_string: {
      TextResult value = utf16le_to_utf8(bytes_of(item.value), item.value_size, kMaxValueUtf8);
      if (value.error != TextError::none) {
        result = refuse(KvpError::bad_value, value.error);
        return false;
      }
      result.request.value = std::move(value.text);
      return true;
    }
    case wire::KvpValueType::u32:
      return decode_number<uint32_t>(item, result);
    case wire::KvpValueType::u64:
    case wire::KvpValueType::u64_linux:
      return decode_number<uint64_t>(item, result);
  }
  result = refuse(KvpError::bad_value_type);
  return false;
}

DecodeResult decode_get_or_set(std::span<const std::byte> body, DecodeResult result) {
  const auto message = load_message<wire::KvpGetSetMessage>(body);
  if (!message) {
    return refuse(KvpError::truncated);
  }
  if (!decode_key(bytes_of(message->value.key), message->value.key_size, result)) {
    return result;
  }
  if (result.request.operation == wire::KvpOperation::set) {
    decode_value(message->value, result);
  }
  return result;
}

DecodeResult decode_delete(std::span<const std::byte> body, DecodeResult result) {
  const auto message = load_message<wire::KvpDeleteMessage>(body);
  if (!message) {
    return refuse(KvpError::truncated);
  }
  decode_key(bytes_of(message->key), message->key_size, result);
  return result;
}

DecodeResult decode_enumerate(std::span<const std::byte> body, DecodeResult result) {
  const auto message = load_message<wire::KvpEnumerateMessage>(body);
  if (!message) {
    return refuse(KvpError::truncated);
  }
  result.request.index = message->index;
  return result;
}

// GET_IP_INFO uses only the adapter id and the address family (as Linux);
// SET_IP_INFO uses every field.
template <class Message>
DecodeResult decode_ip_request(std::span<const std::byte> body, DecodeResult result) {
  const auto message = load_message<Message>(body);
  if (!message) {
    return refuse(KvpError::truncated);
  }
  const auto& fields = ip_fields(*message);
  if (result.request.operation == wire::KvpOperation::get_ip_info) {
    TextResult adapter = utf16le_field_to_utf8(bytes_of(fields.adapter_id), kMaxValueUtf8);
    if (adapter.error != TextError::none) {
      return refuse(KvpError::bad_ip_info, adapter.error, IpInfoError::bad_adapter_id);
    }
    result.request.ip_info.adapter_id = std::move(adapter.text);
    result.request.ip_info.address_family = fields.address_family;
    return result;
  }
  IpInfoResult parsed = read_ip_info(fields);
  if (parsed.error != IpInfoError::none) {
    return refuse(KvpError::bad_ip_info, parsed.text_error, parsed.error);
  }
  result.request.ip_info = std::move(parsed.info);
  return result;
}

template <class Message>
ReplyResult write_ip_reply(std::span<std::byte> body, const IpInfo& info) {
  auto message = load_message<Message>(body);
  if (!message) {
    return {KvpError::truncated, IpInfoError::none, false};
  }
  if (const IpInfoError error = write_ip_info(info, ip_fields(*message));
      error != IpInfoError::none) {
    return {KvpError::bad_ip_info, error, false};
  }
  wire::store(body, 0, *message);
  return {KvpError::none, IpInfoError::none, false};
}

}  // namespace

DecodeResult decode_request(std::span<const std::byte> body, wire::IcVersion kvp_version) {
  const auto header = load_message<wire::KvpHeader>(body);
  if (!header) {
    return refuse(KvpError::truncated);
  }
  if (header->operation >= wire::kKvpOperationCount) {
    return refuse(KvpError::unknown_operation);
  }
  DecodeResult result{KvpError::none, TextError::none, IpInfoError::none, {}};
  result.request.operation = static_cast<wire::KvpOperation>(header->operation);
  switch (result.request.operation) {
    case wire::KvpOperation::get_ip_info:
    case wire::KvpOperation::set_ip_info:
      // The pool byte of IP-info messages means nothing (OpenVMM sends 1).
      return uses_binary_ip_info(kvp_version)
                 ? decode_ip_request<wire::KvpIpInfoBinaryMessage>(body, std::move(result))
                 : decode_ip_request<wire::KvpIpInfoStringMessage>(body, std::move(result));
    default:
      break;
  }
  if (header->pool >= wire::kKvpPoolCount) {
    return refuse(KvpError::bad_pool);
  }
  result.request.pool = static_cast<wire::KvpPool>(header->pool);
  switch (result.request.operation) {
    case wire::KvpOperation::get:
    case wire::KvpOperation::set:
      return decode_get_or_set(body, std::move(result));
    case wire::KvpOperation::del:
      return decode_delete(body, std::move(result));
    default:
      return decode_enumerate(body, std::move(result));
  }
}

ReplyResult write_get_reply(std::span<std::byte> body, std::string_view value) {
  auto message = load_message<wire::KvpGetSetMessage>(body);
  if (!message) {
    return {KvpError::truncated, IpInfoError::none, false};
  }
  wire::KvpValue& item = message->value;
  const Utf16Result written =
      utf8_to_utf16le(value, writable_bytes_of(item.value), Overflow::truncate);
  if (written.error != TextError::none) {
    return {KvpError::bad_value, IpInfoError::none, false};
  }
  item.value_type = static_cast<uint32_t>(wire::KvpValueType::string);
  item.value_size = written.size_bytes;
  wire::store(body, 0, *message);
  return {KvpError::none, IpInfoError::none, written.truncated};
}

ReplyResult write_enumerate_reply(std::span<std::byte> body, std::string_view key,
                                  std::string_view value) {
  auto message = load_message<wire::KvpEnumerateMessage>(body);
  if (!message) {
    return {KvpError::truncated, IpInfoError::none, false};
  }
  wire::KvpValue& item = message->value;
  const Utf16Result key_written =
      utf8_to_utf16le(key, writable_bytes_of(item.key), Overflow::truncate);
  if (key_written.error != TextError::none) {
    return {KvpError::bad_key, IpInfoError::none, false};
  }
  const Utf16Result value_written =
      utf8_to_utf16le(value, writable_bytes_of(item.value), Overflow::truncate);
  if (value_written.error != TextError::none) {
    return {KvpError::bad_value, IpInfoError::none, false};
  }
  item.value_type = static_cast<uint32_t>(wire::KvpValueType::string);
  item.key_size = key_written.size_bytes;
  item.value_size = value_written.size_bytes;
  wire::store(body, 0, *message);
  return {KvpError::none, IpInfoError::none, key_written.truncated || value_written.truncated};
}

ReplyResult write_ip_info_reply(std::span<std::byte> body, wire::IcVersion kvp_version,
                                const IpInfo& info) {
  return uses_binary_ip_info(kvp_version)
             ? write_ip_reply<wire::KvpIpInfoBinaryMessage>(body, info)
             : write_ip_reply<wire::KvpIpInfoStringMessage>(body, info);
}

}  // namespace uvmbus::kvp
