// Compile-time layout checks shared by every wire header.
//
// Wire structs in uvmbus are plain structs whose fields are naturally aligned,
// so the compiler inserts no padding and the C++ layout is the wire layout.
// UVMBUS_WIRE_STRUCT proves that for a struct: its size, that it has no padding
// bytes (every bit belongs to a field) and that it can be memcpy'd to and from
// shared memory. Field offsets are asserted next to each struct.
#pragma once

#include <cstddef>
#include <type_traits>

#define UVMBUS_WIRE_STRUCT(type, size)                                          \
  static_assert(sizeof(type) == (size), #type ": wrong wire size");             \
  static_assert(std::is_trivially_copyable_v<type>,                             \
                #type ": must be trivially copyable");                          \
  static_assert(std::is_standard_layout_v<type>,                                \
                #type ": must be standard layout");                             \
  static_assert(std::has_unique_object_representations_v<type>,                 \
                #type ": has padding; the wire layout would differ")

#define UVMBUS_WIRE_OFFSET(type, field, offset)                                 \
  static_assert(offsetof(type, field) == (offset), #type "::" #field ": wrong offset")
