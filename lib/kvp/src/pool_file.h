// One open pool file (private): the descriptor, both lock kinds, positioned
// reads and writes, and the identity/size/time snapshot used to notice other
// writers. Every call returns 0 or an errno value.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>

namespace uvmbus::kvp::detail {

// What identifies a version of the file: if any field differs, someone else
// has written, replaced or truncated it.
struct FileSnapshot {
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = -1;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  friend bool operator==(const FileSnapshot&, const FileSnapshot&) = default;
};

FileSnapshot snapshot_of(const struct stat& status) noexcept;

class PoolFile {
 public:
  PoolFile() = default;
  ~PoolFile();
  PoolFile(const PoolFile&) = delete;
  PoolFile& operator=(const PoolFile&) = delete;

  // Opens `path` read-write, creating it with `create_mode` if missing.
  int open(const std::filesystem::path& path, mode_t create_mode) noexcept;
  void close() noexcept;
  [[nodiscard]] bool is_open() const noexcept { return fd_ >= 0; }

  // flock(LOCK_EX), then an OFD fcntl write lock on the whole file, the
  // order azure-init uses, so the two never deadlock. Polls until `deadline`
  // (ETIMEDOUT after it). Either both locks are held afterwards or neither.
  int lock(std::chrono::steady_clock::time_point deadline) noexcept;
  // Releases the fcntl lock, then the flock.
  void unlock() noexcept;

  int stat(FileSnapshot& snapshot) const noexcept;
  // Reads exactly `out.size()` bytes at `offset`, or returns EIO if the file
  // ends first.
  int read_at(off_t offset, std::span<std::byte> out) const noexcept;
  // Writes all of `bytes` at `offset` with one pwrite where possible. A kill
  // during the call can leave any 4 KiB-page prefix of it written, no more:
  // the kernel copies page by page and checks for fatal signals only between
  // pages; callers order their writes so that every such prefix is valid.
  int write_at(off_t offset, std::span<const std::byte> bytes) noexcept;
  int resize(off_t size) noexcept;
  // fdatasync: used at ordering points when power-loss durability is asked.
  int flush() noexcept;

 private:
  int fd_ = -1;
};

}  // namespace uvmbus::kvp::detail
