// Test helpers for pool files: a scratch directory and raw record access, so
// tests can check the bytes on disk and play other writers.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <string_view>
#include <vector>

#include "scratch_dir.h"
#include "uvmbus/kvp/pool_store.h"
#include "uvmbus/wire/kvp.h"

namespace uvmbus::kvp::testing {

// A fresh directory for pool files, removed with its files.
class ScratchDir : public test_support::ScratchDir {
 public:
  ScratchDir() : test_support::ScratchDir("uvmbus-kvp") {}
  [[nodiscard]] std::filesystem::path pool(int number) const;
};

struct RawItem {
  std::string key;    // bytes before the key's NUL (or all 512)
  std::string value;  // bytes before the value's NUL (or all 2048)
  friend bool operator==(const RawItem&, const RawItem&) = default;
};

using test_support::read_file;
void write_file(const std::filesystem::path& path, std::string_view bytes);
// Every whole record in the file, as a reader that cuts at the first NUL sees it.
std::vector<RawItem> read_items(const std::filesystem::path& path);
// One record as Linux's daemon and cloud-init write it (zero padded).
std::string record_bytes(std::string_view key, std::string_view value);
// Appends under flock(LOCK_EX), the way cloud-init's reporting handler does.
void append_like_cloud_init(const std::filesystem::path& path, std::string_view bytes);

std::unique_ptr<PoolStore> open_store(const std::filesystem::path& directory);

// Items as ENUMERATE lists them, in order.
using Items = std::vector<std::pair<std::string, std::string>>;
Items list_items(PoolStore& store, wire::KvpPool pool);
std::optional<std::string> value_of(const Items& items, std::string_view key);

}  // namespace uvmbus::kvp::testing
