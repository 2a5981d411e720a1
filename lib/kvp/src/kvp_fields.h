// Field access shared by the KVP codecs and the pool store (private).
#pragma once

#include <cstddef>
#include <optional>
#include <span>

#include "uvmbus/wire/bytes.h"
#include "uvmbus/wire/kvp.h"

namespace uvmbus::kvp::detail {

// A message struct copied out of `body`, if the body holds one.
template <class Message>
std::optional<Message> load_message(std::span<const std::byte> body) {
  if (!wire::fits<Message>(body, 0)) {
    return std::nullopt;
  }
  return wire::load<Message>(body);
}

// The bytes of a fixed-size wire field.
template <class Byte, std::size_t N>
std::span<const std::byte> bytes_of(const Byte (&field)[N]) {
  static_assert(sizeof(Byte) == 1);
  return std::as_bytes(std::span(field));
}

template <class Byte, std::size_t N>
std::span<std::byte> writable_bytes_of(Byte (&field)[N]) {
  static_assert(sizeof(Byte) == 1);
  return std::as_writable_bytes(std::span(field));
}

// The IP-info fields of either form: the binary body inside its message, or
// the string message itself.
inline wire::KvpIpInfoBinary& ip_fields(wire::KvpIpInfoBinaryMessage& message) {
  return message.info;
}
inline const wire::KvpIpInfoBinary& ip_fields(const wire::KvpIpInfoBinaryMessage& message) {
  return message.info;
}
inline wire::KvpIpInfoStringMessage& ip_fields(wire::KvpIpInfoStringMessage& message) {
  return message;
}
inline const wire::KvpIpInfoStringMessage& ip_fields(
    const wire::KvpIpInfoStringMessage& message) {
  return message;
}

}  // namespace uvmbus::kvp::detail
