// Field access shared by the guest and host KVP codecs (private).
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

template <std::size_t N>
std::span<const std::byte> bytes_of(const uint8_t (&field)[N]) {
  return std::as_bytes(std::span(field));
}

template <std::size_t N>
std::span<std::byte> writable_bytes_of(uint8_t (&field)[N]) {
  return std::as_writable_bytes(std::span(field));
}

}  // namespace uvmbus::kvp::detail
