// The shadow-copy journal of one pool file.
#include "pool_journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>

#include "uvmbus/wire/kvp.h"
#include "uvmbus/wire/layout.h"

namespace uvmbus::kvp::detail {

namespace {

constexpr char kMagic[8] = {'u', 'v', 'k', 'v', 'p', 'j', '1', '\0'};

struct JournalEntry {
  char magic[8];
  uint64_t device;
  uint64_t inode;
  uint32_t target_slot;
  uint32_t shadow_slot;
  uint32_t key_size;
  char key[wire::kKvpMaxKeyBytes];
  uint32_t checksum;  // FNV-1a of every byte before it
};
UVMBUS_WIRE_STRUCT(JournalEntry, 552);
static_assert(sizeof(JournalEntry) <= 4096, "one pwrite inside the first page");

uint32_t checksum_of(const JournalEntry& entry) noexcept {
  uint32_t hash = 2166136261u;
  const auto* bytes = reinterpret_cast<const unsigned char*>(&entry);
  for (std::size_t i = 0; i < offsetof(JournalEntry, checksum); ++i) {
    hash = (hash ^ bytes[i]) * 16777619u;
  }
  return hash;
}

}  // namespace

PoolJournal::~PoolJournal() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

int PoolJournal::record(const FileSnapshot& pool, const ShadowIntent& intent,
                        bool flush) noexcept {
  if (fd_ < 0) {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) {
      return errno;
    }
  }
  JournalEntry entry{};
  std::memcpy(entry.magic, kMagic, sizeof(kMagic));
  entry.device = pool.device;
  entry.inode = pool.inode;
  entry.target_slot = intent.target_slot;
  entry.shadow_slot = intent.shadow_slot;
  entry.key_size = static_cast<uint32_t>(intent.key.size());
  std::memcpy(entry.key, intent.key.data(), std::min(intent.key.size(), sizeof(entry.key)));
  entry.checksum = checksum_of(entry);
  const ssize_t put = ::pwrite(fd_, &entry, sizeof(entry), 0);
  if (put < 0) {
    return errno;
  }
  if (put != static_cast<ssize_t>(sizeof(entry))) {
    return EIO;
  }
  if (flush && ::fdatasync(fd_) != 0) {
    return errno;
  }
  return 0;
}

int PoolJournal::clear() noexcept {
  if (fd_ < 0) {
    return 0;
  }
  return ::ftruncate(fd_, 0) == 0 ? 0 : errno;
}

int PoolJournal::open_existing() noexcept {
  if (fd_ >= 0) {
    return 0;
  }
  fd_ = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
  return fd_ >= 0 ? 0 : errno;
}

IntentRead PoolJournal::read(const FileSnapshot& pool) noexcept {
  const int opened = open_existing();
  if (opened == ENOENT) {
    return {0, std::nullopt};
  }
  if (opened != 0) {
    return {opened, std::nullopt};
  }
  JournalEntry entry{};
  const ssize_t got = ::pread(fd_, &entry, sizeof(entry), 0);
  if (got < 0) {
    return {errno, std::nullopt};
  }
  if (got != static_cast<ssize_t>(sizeof(entry)) ||
      std::memcmp(entry.magic, kMagic, sizeof(kMagic)) != 0 ||
      entry.checksum != checksum_of(entry) || entry.key_size >= sizeof(entry.key) ||
      entry.device != pool.device || entry.inode != pool.inode) {
    return {0, std::nullopt};
  }
  return {0, ShadowIntent{entry.target_slot, entry.shadow_slot,
                          std::string(entry.key, entry.key_size)}};
}

}  // namespace uvmbus::kvp::detail
