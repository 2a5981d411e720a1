// One 2,560-byte record of a Linux KVP pool file: how to read one that any
// writer may have produced, and how to write one the way every reader
// expects.
//
// Reading treats both fields as bounded (a 512-byte key without NUL does not
// run into the value, unlike Linux's strlen) and classifies the record:
//   blank     key starts with NUL: no item. A slot the store is filling or
//             has freed; never produced by Linux, cloud-init or azure-init.
//   bad_key   key unterminated or not UTF-8: kept in the file, never used.
//   bad_value key fine, value unterminated or not UTF-8: the key can be
//             overwritten or deleted, the item is not listed.
//   valid     both fields NUL-terminated UTF-8.
// Bytes after a field's NUL are ignored; records this store writes have none.
#pragma once

#include <cstdint>
#include <string_view>

#include "uvmbus/wire/kvp.h"

namespace uvmbus::kvp {

enum class RecordState : uint8_t { blank, bad_key, bad_value, valid };

struct RecordView {
  RecordState state;
  std::string_view key;    // empty for blank and bad_key
  std::string_view value;  // set for valid only
};

// Classifies `record`; the views point into it.
[[nodiscard]] RecordView inspect_record(const wire::KvpPoolRecord& record) noexcept;

// True if `key` can be stored: non-empty, no NUL, valid UTF-8, at most 511 bytes.
[[nodiscard]] bool is_storable_key(std::string_view key) noexcept;
// True if `value` can be stored: no NUL, valid UTF-8, at most 2,047 bytes.
[[nodiscard]] bool is_storable_value(std::string_view value) noexcept;

// A record holding `key` and `value`, zero-filled past each NUL.
// Precondition: both are storable.
[[nodiscard]] wire::KvpPoolRecord make_record(std::string_view key,
                                              std::string_view value) noexcept;

}  // namespace uvmbus::kvp
