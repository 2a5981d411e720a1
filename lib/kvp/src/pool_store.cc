// PoolStore: the five pool files of one directory.
#include "uvmbus/kvp/pool_store.h"

#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <string>

#include "pool.h"

namespace uvmbus::kvp {

namespace {

// Pool 0 carries what the host administrator pushes, possibly secrets.
mode_t create_mode_for(uint8_t pool) { return pool == 0 ? 0600 : 0644; }

std::filesystem::path pool_path(const std::filesystem::path& directory, uint8_t pool) {
  return directory / (".kvp_pool_" + std::to_string(pool));
}

}  // namespace

class PoolStore::Impl {
 public:
  explicit Impl(const StoreOptions& options)
      : options_(options),
        pools_{pool(0), pool(1), pool(2), pool(3), pool(4)} {}

  detail::Pool& operator[](wire::KvpPool pool) { return pools_[static_cast<uint8_t>(pool)]; }
  const detail::Pool& operator[](wire::KvpPool pool) const {
    return pools_[static_cast<uint8_t>(pool)];
  }
  std::array<detail::Pool, wire::kKvpPoolCount>& pools() { return pools_; }

  int last_errno = 0;

 private:
  detail::Pool pool(uint8_t number) {
    return detail::Pool(pool_path(options_.directory, number), create_mode_for(number), options_);
  }

  StoreOptions options_;
  std::array<detail::Pool, wire::kKvpPoolCount> pools_;
};

const char* to_string(StoreStatus status) noexcept {
  switch (status) {
    case StoreStatus::ok: return "ok";
    case StoreStatus::not_found: return "not_found";
    case StoreStatus::end_of_items: return "end_of_items";
    case StoreStatus::invalid_key: return "invalid_key";
    case StoreStatus::invalid_value: return "invalid_value";
    case StoreStatus::unreadable: return "unreadable";
    case StoreStatus::lock_timeout: return "lock_timeout";
    case StoreStatus::io_error: return "io_error";
  }
  return "unknown";
}

wire::HvStatus status_for(StoreStatus status) noexcept {
  switch (status) {
    case StoreStatus::ok: return wire::HvStatus::ok;
    case StoreStatus::not_found: return wire::HvStatus::not_found;
    case StoreStatus::end_of_items: return wire::HvStatus::no_more_items;
    case StoreStatus::invalid_key:
    case StoreStatus::invalid_value: return wire::HvStatus::invalid_arg;
    default: return wire::HvStatus::fail;
  }
}

PoolStore::OpenResult PoolStore::open(const StoreOptions& options) {
  if (::mkdir(options.directory.c_str(), 0755) != 0 && errno != EEXIST) {
    return {StoreStatus::io_error, errno, nullptr};
  }
  auto impl = std::make_unique<Impl>(options);
  for (detail::Pool& pool : impl->pools()) {
    if (const int error = pool.open(); error != 0) {
      return {StoreStatus::io_error, error, nullptr};
    }
  }
  return {StoreStatus::ok, 0, std::unique_ptr<PoolStore>(new PoolStore(std::move(impl)))};
}

PoolStore::PoolStore(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
PoolStore::~PoolStore() = default;

StoreStatus PoolStore::set(wire::KvpPool pool, std::string_view key, std::string_view value) {
  const StoreStatus status = (*impl_)[pool].set(key, value);
  impl_->last_errno = (*impl_)[pool].last_errno();
  return status;
}

ValueResult PoolStore::get(wire::KvpPool pool, std::string_view key) {
  ValueResult result = (*impl_)[pool].get(key);
  impl_->last_errno = (*impl_)[pool].last_errno();
  return result;
}

StoreStatus PoolStore::remove(wire::KvpPool pool, std::string_view key) {
  const StoreStatus status = (*impl_)[pool].remove(key);
  impl_->last_errno = (*impl_)[pool].last_errno();
  return status;
}

ItemResult PoolStore::enumerate(wire::KvpPool pool, uint32_t index) {
  ItemResult result = (*impl_)[pool].enumerate(index);
  impl_->last_errno = (*impl_)[pool].last_errno();
  return result;
}

const PoolCounters& PoolStore::counters(wire::KvpPool pool) const noexcept {
  return (*impl_)[pool].counters();
}

int PoolStore::last_errno() const noexcept { return impl_->last_errno; }

}  // namespace uvmbus::kvp
