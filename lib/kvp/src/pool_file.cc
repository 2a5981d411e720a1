// Pool file descriptor, locks and positioned I/O.
#include "pool_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <thread>

namespace uvmbus::kvp::detail {

namespace {

constexpr std::chrono::milliseconds kFirstLockRetry{1};
constexpr std::chrono::milliseconds kLastLockRetry{16};

int64_t nanoseconds(const struct timespec& time) noexcept {
  return int64_t{time.tv_sec} * 1'000'000'000 + time.tv_nsec;
}

struct flock whole_file(short type) noexcept {
  struct flock range {};
  range.l_type = type;
  range.l_whence = SEEK_SET;
  range.l_start = 0;
  range.l_len = 0;  // to the end, however far it grows
  return range;
}

// Calls `try_once` (0 = taken, EWOULDBLOCK/EAGAIN/EACCES = busy, else error)
// until it succeeds or `deadline` passes, sleeping 1, 2, 4 .. 16 ms between.
template <class TryOnce>
int poll_lock(TryOnce try_once, std::chrono::steady_clock::time_point deadline) noexcept {
  auto pause = kFirstLockRetry;
  for (;;) {
    const int error = try_once();
    if (error == 0) {
      return 0;
    }
    if (error != EWOULDBLOCK && error != EAGAIN && error != EACCES && error != EINTR) {
      return error;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return ETIMEDOUT;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, kLastLockRetry);
  }
}

}  // namespace

FileSnapshot snapshot_of(const struct stat& status) noexcept {
  return {status.st_dev, status.st_ino, status.st_size, nanoseconds(status.st_mtim),
          nanoseconds(status.st_ctim)};
}

PoolFile::~PoolFile() { close(); }

int PoolFile::open(const std::filesystem::path& path, mode_t create_mode) noexcept {
  close();
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, create_mode);
  return fd_ >= 0 ? 0 : errno;
}

void PoolFile::close() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

int PoolFile::lock(std::chrono::steady_clock::time_point deadline) noexcept {
  const int flocked = poll_lock(
      [this] { return ::flock(fd_, LOCK_EX | LOCK_NB) == 0 ? 0 : errno; }, deadline);
  if (flocked != 0) {
    return flocked;
  }
  const int fcntl_locked = poll_lock(
      [this] {
        struct flock range = whole_file(F_WRLCK);
        return ::fcntl(fd_, F_OFD_SETLK, &range) == 0 ? 0 : errno;
      },
      deadline);
  if (fcntl_locked != 0) {
    ::flock(fd_, LOCK_UN);
  }
  return fcntl_locked;
}

void PoolFile::unlock() noexcept {
  struct flock range = whole_file(F_UNLCK);
  ::fcntl(fd_, F_OFD_SETLK, &range);
  ::flock(fd_, LOCK_UN);
}

int PoolFile::stat(FileSnapshot& snapshot) const noexcept {
  struct stat status {};
  if (::fstat(fd_, &status) != 0) {
    return errno;
  }
  snapshot = snapshot_of(status);
  return 0;
}

int PoolFile::read_at(off_t offset, std::span<std::byte> out) const noexcept {
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t got = ::pread(fd_, out.data() + done, out.size() - done,
                                offset + static_cast<off_t>(done));
    if (got < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno;
    }
    if (got == 0) {
      return EIO;
    }
    done += static_cast<std::size_t>(got);
  }
  return 0;
}

int PoolFile::write_at(off_t offset, std::span<const std::byte> bytes) noexcept {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t put = ::pwrite(fd_, bytes.data() + done, bytes.size() - done,
                                 offset + static_cast<off_t>(done));
    if (put < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno;
    }
    done += static_cast<std::size_t>(put);
  }
  return 0;
}

int PoolFile::resize(off_t size) noexcept {
  while (::ftruncate(fd_, size) != 0) {
    if (errno != EINTR) {
      return errno;
    }
  }
  return 0;
}

int PoolFile::flush() noexcept { return ::fdatasync(fd_) == 0 ? 0 : errno; }

}  // namespace uvmbus::kvp::detail
