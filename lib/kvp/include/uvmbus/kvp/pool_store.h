// The KVP pool store: /var/lib/hyperv/.kvp_pool_0 ... .kvp_pool_4, byte
// compatible with Linux's hv_kvp_daemon and safe next to the other programs
// that use those files (docs/kvp.md has the whole contract).
//
//   Format    2,560-byte records (key[512] + value[2048], UTF-8, NUL-terminated,
//             zero-filled past the NUL), no header; append order is
//             enumeration order, the first record with a key wins, SET of an
//             existing key keeps its place, DELETE closes the gap in order.
//   Speed     SET, GET and ENUMERATE touch one record (an in-memory index maps
//             keys and item numbers to records); DELETE moves every later
//             record up by one, as Linux does.
//   Sharing   every operation takes flock and an fcntl (OFD) write lock on the
//             pool file, in that order, so it excludes cloud-init/azure-init
//             (flock) and Linux's daemon (fcntl); it then checks the file's
//             identity, size and times and re-reads it if anyone else changed
//             it. Records it cannot read are skipped, never dropped.
//   Crashes   a kill -9 at any instant leaves every file made of whole records,
//             each holding an item's old or new value, and never loses an
//             acknowledged change; the next operation tidies what a killed
//             operation left (pool.cc explains each step). No fsync is needed
//             for that; StoreOptions::sync adds fdatasync for power loss.
//
// Not thread-safe: one PoolStore per process, used from one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "uvmbus/wire/kvp.h"

namespace uvmbus::kvp {

struct StoreOptions {
  std::filesystem::path directory = "/var/lib/hyperv";
  // fdatasync at every ordering point of a change and before acknowledging
  // it: acknowledged changes survive power loss, at the cost of a few
  // device flushes per SET and one per moved record for DELETE.
  bool sync = false;
  // How long an operation waits for another program's lock before failing.
  std::chrono::milliseconds lock_timeout{5000};
};

enum class StoreStatus : uint8_t {
  ok,
  not_found,      // GET / DELETE: no record with this key
  end_of_items,   // ENUMERATE: index at or past the last listed item
  invalid_key,    // not storable (see is_storable_key)
  invalid_value,  // not storable (see is_storable_value)
  unreadable,     // GET: the stored value is not NUL-terminated UTF-8
  lock_timeout,   // another program held the pool's lock too long
  io_error,       // a system call failed, or the file holds more than
                  // kMaxPoolRecords records (EFBIG); see PoolStore::last_errno()
};

// A pool file larger than this is refused rather than indexed (2.6 GB).
inline constexpr uint32_t kMaxPoolRecords = 1u << 20;

const char* to_string(StoreStatus status) noexcept;

// The status a guest answers the host with: ok; not_found for a GET or
// DELETE of a missing key; no_more_items only for end_of_items (it ends the
// host's ENUMERATE); invalid_arg for keys and values no pool file can hold;
// fail for the rest.
[[nodiscard]] wire::HvStatus status_for(StoreStatus status) noexcept;

struct ValueResult {
  StoreStatus status;
  std::string value;
};

struct ItemResult {
  StoreStatus status;
  std::string key;
  std::string value;
};

// What the store has had to do besides answering, per pool.
struct PoolCounters {
  uint64_t reloads = 0;          // full re-reads (first use, outside changes)
  uint64_t skipped_records = 0;  // unreadable records seen by the last re-read
  uint64_t repairs = 0;          // leftovers of a killed operation tidied
  uint64_t moved_records = 0;    // records moved up by DELETE and repairs
};

class PoolStore {
 public:
  // Creates the directory (0755) if it is missing and opens or creates the
  // five pool files (pool 0 with mode 0600, since hosts may put secrets in
  // it; the others 0644 like Linux; existing files keep their mode). Returns
  // null with `status` set if that fails.
  struct OpenResult;
  [[nodiscard]] static OpenResult open(const StoreOptions& options);

  ~PoolStore();
  PoolStore(const PoolStore&) = delete;
  PoolStore& operator=(const PoolStore&) = delete;

  // Adds the item at the end, or replaces the value of the first record with
  // this key in place.
  [[nodiscard]] StoreStatus set(wire::KvpPool pool, std::string_view key, std::string_view value);
  [[nodiscard]] ValueResult get(wire::KvpPool pool, std::string_view key);
  // Removes the first record with this key; later records move up by one.
  [[nodiscard]] StoreStatus remove(wire::KvpPool pool, std::string_view key);
  // The index-th readable record in file order.
  [[nodiscard]] ItemResult enumerate(wire::KvpPool pool, uint32_t index);

  [[nodiscard]] const PoolCounters& counters(wire::KvpPool pool) const noexcept;
  // errno of the last io_error or lock failure, 0 if none.
  [[nodiscard]] int last_errno() const noexcept;

 private:
  class Impl;
  explicit PoolStore(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

struct PoolStore::OpenResult {
  StoreStatus status;
  int error_number;  // errno when status is io_error
  std::unique_ptr<PoolStore> store;
};

}  // namespace uvmbus::kvp
