// Test helpers for pool files.
#include "pool_files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <stdexcept>

namespace uvmbus::kvp::testing {

std::filesystem::path ScratchDir::pool(int number) const {
  return path() / (".kvp_pool_" + std::to_string(number));
}

void write_file(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::vector<RawItem> read_items(const std::filesystem::path& path) {
  const std::string bytes = read_file(path);
  std::vector<RawItem> items;
  constexpr std::size_t kRecord = sizeof(wire::KvpPoolRecord);
  for (std::size_t offset = 0; offset + kRecord <= bytes.size(); offset += kRecord) {
    const std::string_view key(bytes.data() + offset, wire::kKvpMaxKeyBytes);
    const std::string_view value(bytes.data() + offset + wire::kKvpMaxKeyBytes,
                                 wire::kKvpMaxValueBytes);
    items.push_back({std::string(key.substr(0, key.find('\0'))),
                     std::string(value.substr(0, value.find('\0')))});
  }
  return items;
}

std::string record_bytes(std::string_view key, std::string_view value) {
  std::string record(sizeof(wire::KvpPoolRecord), '\0');
  std::memcpy(record.data(), key.data(), std::min<std::size_t>(key.size(), wire::kKvpMaxKeyBytes));
  std::memcpy(record.data() + wire::kKvpMaxKeyBytes, value.data(),
              std::min<std::size_t>(value.size(), wire::kKvpMaxValueBytes));
  return record;
}

void append_like_cloud_init(const std::filesystem::path& path, std::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw std::runtime_error("open failed");
  }
  ::flock(fd, LOCK_EX);
  const ssize_t written = ::write(fd, bytes.data(), bytes.size());
  ::flock(fd, LOCK_UN);
  ::close(fd);
  if (written != static_cast<ssize_t>(bytes.size())) {
    throw std::runtime_error("append failed");
  }
}

std::unique_ptr<PoolStore> open_store(const std::filesystem::path& directory) {
  StoreOptions options;
  options.directory = directory;
  PoolStore::OpenResult opened = PoolStore::open(options);
  if (opened.status != StoreStatus::ok) {
    throw std::runtime_error("PoolStore::open failed");
  }
  return std::move(opened.store);
}

Items list_items(PoolStore& store, wire::KvpPool pool) {
  Items items;
  for (uint32_t index = 0;; ++index) {
    ItemResult item = store.enumerate(pool, index);
    if (item.status == StoreStatus::end_of_items) {
      return items;
    }
    if (item.status != StoreStatus::ok) {
      throw std::runtime_error(std::string("enumerate: ") + to_string(item.status));
    }
    items.emplace_back(std::move(item.key), std::move(item.value));
  }
}

std::optional<std::string> value_of(const Items& items, std::string_view key) {
  for (const auto& [item_key, value] : items) {
    if (item_key == key) {
      return value;
    }
  }
  return std::nullopt;
}

}  // namespace uvmbus::kvp::testing
