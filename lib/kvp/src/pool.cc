// One pool file: operations, and the write sequences that keep it valid.
//
// Why every instant is valid. Other programs read pool files without locks
// and we may be killed at any point, so the file must always be whole
// records, each showing an item's old or new value. We rely on three facts:
//   1. ftruncate changes the size in one step.
//   2. A pwrite the process is killed in leaves a prefix of itself written,
//      cut at a 4 KiB page boundary: the page cache copies page by page and
//      checks for fatal signals only between pages (PoolFile::write_at).
//      So a write inside one page is all or nothing.
//   3. A key field (512 bytes at a multiple of 512) never crosses a page,
//      while a value field (2,048 bytes at 512 mod 2,560) crosses one in
//      three slots out of eight.
// A record whose key starts with NUL is "blank": no reader sees an item
// there, so its value may be half written. Every sequence below fills a
// blank slot's value first and its key last, so an item appears only whole;
// and it hides an item only when another copy of it is visible.
//
//   append       resize to n+1 slots (a blank slot), write the value, write
//                the key (the commit).
//   replace      the bytes that change inside one page (one 512-byte sector
//   (in place)   with StoreOptions::sync): one write of just those bytes (the
//                commit); the rest of the field already holds the new value.
//                Else the value field inside one page: one write (the commit).
//                Otherwise through a shadow copy (replace_through_shadow):
//                journal the intent; append the new record after the last
//                one (the first record still wins, so readers see the old
//                value); write key NUL + new value over the original in one
//                write (the commit: the copy now wins, with the new value);
//                write the key back (the original wins again, same value);
//                truncate the copy away; clear the journal. A kill leaves a
//                journal naming both slots, and the next operation finishes
//                the move back or drops the copy (recover_shadow).
//   delete       the last record: truncate it away (the commit). Others:
//                write the key NUL (the commit), then slide every later
//                record down one slot: copy it to the free slot below, value
//                before key (one write: its key and value, then the NUL key
//                of the slot above and the value of the next record to move),
//                so a kill leaves either a blank slot or two identical
//                neighbouring records; truncate the last slot away.
// The next operation tidies what a kill left (reload + refresh): a partial
// trailing record, blank slots and a record byte-identical to the nearest
// record before it are removed with the same slide. Acknowledged changes are
// never lost: an operation returns only after its commit, and no later step
// or tidy-up undoes a commit.
//
// The page cache outlives the process, so none of this needs fsync. With
// StoreOptions::sync every write and resize is followed by fdatasync, which
// keeps the same order on the disk for power loss (key fields are single
// 512-byte sectors; a rewrite changing bytes of one sector writes just them,
// other value rewrites go through the shadow copy).
//
// Outside writers. Each operation locks (PoolFile::lock), then compares the
// file with what the last operation left: a new inode (replaced), a missing
// path, another size or other times mean a full re-read. Every record we
// answer from or change is also read back and checked against the index,
// which catches a same-size rewrite within one timestamp tick.
#include "pool.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "kvp_fields.h"

namespace uvmbus::kvp::detail {

namespace {

constexpr off_t kRecordSize = sizeof(wire::KvpPoolRecord);
constexpr off_t kValueOffset = offsetof(wire::KvpPoolRecord, value);
constexpr off_t kPageSize = 4096;
constexpr off_t kSectorSize = 512;
constexpr uint32_t kReadChunkRecords = 256;
constexpr char kBlankKey[wire::kKvpMaxKeyBytes] = {};

off_t key_offset(uint32_t slot) { return off_t{slot} * kRecordSize; }
off_t value_offset(uint32_t slot) { return key_offset(slot) + kValueOffset; }

bool value_within_one_page(uint32_t slot) {
  return value_offset(slot) % kPageSize + off_t{wire::kKvpMaxValueBytes} <= kPageSize;
}

bool same_record(const wire::KvpPoolRecord& a, const wire::KvpPoolRecord& b) {
  return std::memcmp(&a, &b, sizeof(a)) == 0;
}

// The value-field bytes that differ, as [first, last) offsets in the field
// (first == last: none).
std::pair<off_t, off_t> changed_range(const wire::KvpPoolRecord& before, const wire::KvpPoolRecord& after) {
  off_t first = 0;
  off_t last = wire::kKvpMaxValueBytes;
  while (first < last && before.value[first] == after.value[first]) {
    ++first;
  }
  while (last > first && before.value[last - 1] == after.value[last - 1]) {
    --last;
  }
  return {first, last};
}

}  // namespace

Pool::Pool(std::filesystem::path path, mode_t create_mode, const StoreOptions& options)
    : path_(std::move(path)),
      create_mode_(create_mode),
      options_(options),
      journal_(std::filesystem::path(path_) += ".journal") {}

int Pool::open() noexcept { return file_.open(path_, create_mode_); }

// ---------------------------------------------------------------------------
// Operations

// Holds the pool's locks for one operation.
class Pool::Session {
 public:
  explicit Session(Pool& pool) : pool_(pool), status_(pool.begin()) {}
  ~Session() { pool_.end(); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  [[nodiscard]] StoreStatus status() const { return status_; }

 private:
  Pool& pool_;
  StoreStatus status_;
};

StoreStatus Pool::set(std::string_view key, std::string_view value) {
  if (!is_storable_key(key)) {
    return StoreStatus::invalid_key;
  }
  if (!is_storable_value(value)) {
    return StoreStatus::invalid_value;
  }
  const Session session(*this);
  if (session.status() != StoreStatus::ok) {
    return session.status();
  }
  const wire::KvpPoolRecord record = make_record(key, value);
  const Located found = locate(key);
  if (found.status != StoreStatus::ok) {
    return found.status;
  }
  if (!found.slot) {
    return append(record);
  }
  if (same_record(found.record, record)) {
    return StoreStatus::ok;
  }
  return replace(*found.slot, found.record, record);
}

ValueResult Pool::get(std::string_view key) {
  if (!is_storable_key(key)) {
    return {StoreStatus::invalid_key, {}};
  }
  const Session session(*this);
  if (session.status() != StoreStatus::ok) {
    return {session.status(), {}};
  }
  const Located found = locate(key);
  if (found.status != StoreStatus::ok) {
    return {found.status, {}};
  }
  if (!found.slot) {
    return {StoreStatus::not_found, {}};
  }
  const RecordView view = inspect_record(found.record);
  if (view.state != RecordState::valid) {
    return {StoreStatus::unreadable, {}};
  }
  return {StoreStatus::ok, std::string(view.value)};
}

StoreStatus Pool::remove(std::string_view key) {
  if (!is_storable_key(key)) {
    return StoreStatus::invalid_key;
  }
  const Session session(*this);
  if (session.status() != StoreStatus::ok) {
    return session.status();
  }
  const Located found = locate(key);
  if (found.status != StoreStatus::ok) {
    return found.status;
  }
  if (!found.slot) {
    return StoreStatus::not_found;
  }
  return remove_slots({*found.slot});
}

ItemResult Pool::enumerate(uint32_t index) {
  const Session session(*this);
  if (session.status() != StoreStatus::ok) {
    return {session.status(), {}, {}};
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (index >= index_.item_count()) {
      return {StoreStatus::end_of_items, {}, {}};
    }
    const uint32_t slot = index_.item_slot(index);
    wire::KvpPoolRecord record;
    if (const StoreStatus read = read_slot(slot, record); read != StoreStatus::ok) {
      return {read, {}, {}};
    }
    if (matches_index(slot, record)) {
      const RecordView view = inspect_record(record);
      return {StoreStatus::ok, std::string(view.key), std::string(view.value)};
    }
    if (const StoreStatus reloaded = reload(); reloaded != StoreStatus::ok) {
      return {reloaded, {}, {}};
    }
  }
  return {fail(EIO), {}, {}};
}

// ---------------------------------------------------------------------------
// Locking and keeping the index in step with the file

StoreStatus Pool::begin() {
  last_errno_ = 0;
  const auto deadline = std::chrono::steady_clock::now() + options_.lock_timeout;
  if (!file_.is_open()) {
    if (const int error = open(); error != 0) {
      return fail(error);
    }
  }
  if (const StoreStatus locked = take_locks(deadline); locked != StoreStatus::ok) {
    return locked;
  }
  FileSnapshot now;  // the file as the lock found it (no second fstat)
  if (const StoreStatus reopened = reopen_if_replaced(deadline, now); reopened != StoreStatus::ok) {
    return reopened;
  }
  if (now != known_) {
    known_ = now;
    stale_ = true;
  }
  return stale_ ? refresh() : StoreStatus::ok;
}

void Pool::end() noexcept {
  if (!locked_) {
    return;
  }
  if (file_.stat(known_) != 0) {
    stale_ = true;
  }
  file_.unlock();
  locked_ = false;
}

// Someone may have renamed another file over the path (or removed it) while
// we had the old inode open: follow the path. `held` gets the locked file's
// snapshot.
StoreStatus Pool::reopen_if_replaced(std::chrono::steady_clock::time_point deadline, FileSnapshot& held) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (const int error = file_.stat(held); error != 0) {
      return fail(error);
    }
    struct stat named {};
    if (::stat(path_.c_str(), &named) == 0) {
      if (named.st_dev == held.device && named.st_ino == held.inode) {
        return StoreStatus::ok;
      }
    } else if (errno != ENOENT) {
      return fail(errno);
    }
    file_.unlock();
    locked_ = false;
    stale_ = true;
    if (const int error = open(); error != 0) {
      return fail(error);
    }
    if (const StoreStatus locked = take_locks(deadline); locked != StoreStatus::ok) {
      return locked;
    }
  }
  return fail(EAGAIN);
}

StoreStatus Pool::take_locks(std::chrono::steady_clock::time_point deadline) {
  const int error = file_.lock(deadline);
  if (error == ETIMEDOUT) {
    last_errno_ = error;
    return StoreStatus::lock_timeout;
  }
  if (error != 0) {
    return fail(error);
  }
  locked_ = true;
  return StoreStatus::ok;
}

// Re-reads the file, finishes or undoes a shadow copy a kill interrupted,
// and tidies what a killed operation (or a killed outside writer) left.
StoreStatus Pool::refresh() {
  if (const StoreStatus loaded = reload(); loaded != StoreStatus::ok) {
    return loaded;
  }
  const IntentRead journal = journal_.read(known_);
  if (journal.error != 0) {
    return fail(journal.error);
  }
  if (journal.intent) {
    if (const StoreStatus recovered = recover_shadow(*journal.intent);
        recovered != StoreStatus::ok) {
      return recovered;
    }
    if (const StoreStatus loaded = reload(); loaded != StoreStatus::ok) {
      return loaded;
    }
  }
  if (known_.size % kRecordSize != 0) {
    ++counters_.repairs;
    if (const StoreStatus trimmed = resize(index_.slot_count()); trimmed != StoreStatus::ok) {
      return trimmed;
    }
  }
  if (!leftovers_.empty()) {
    ++counters_.repairs;
    return remove_slots(leftovers_);
  }
  return StoreStatus::ok;
}

StoreStatus Pool::reload() {
  ++counters_.reloads;
  index_.clear();
  leftovers_.clear();
  counters_.skipped_records = 0;
  if (const int error = file_.stat(known_); error != 0) {
    return fail(error);
  }
  if (known_.size / kRecordSize > kMaxPoolRecords) {
    return fail(EFBIG);
  }
  const auto count = static_cast<uint32_t>(known_.size / kRecordSize);
  std::vector<wire::KvpPoolRecord> chunk(std::min(count, kReadChunkRecords));
  wire::KvpPoolRecord previous{};  // nearest non-blank record so far
  bool have_previous = false;
  for (uint32_t first = 0; first < count; first += kReadChunkRecords) {
    const uint32_t records = std::min(kReadChunkRecords, count - first);
    const int error =
        file_.read_at(key_offset(first), std::as_writable_bytes(std::span(chunk).first(records)));
    if (error != 0) {
      return fail(error);
    }
    for (uint32_t i = 0; i < records; ++i) {
      const wire::KvpPoolRecord& record = chunk[i];
      const RecordView view = inspect_record(record);
      if (view.state == RecordState::blank ||
          (have_previous && same_record(record, previous))) {
        leftovers_.push_back(first + i);
      } else {
        previous = record;
        have_previous = true;
      }
      if (view.state == RecordState::bad_key || view.state == RecordState::bad_value) {
        ++counters_.skipped_records;
      }
      index_.append({view.state, std::string(view.key)});
    }
  }
  stale_ = false;
  return StoreStatus::ok;
}

// The journal says a SET was rewriting `target` through a copy at `shadow`
// when it was killed. If the copy is visible, the item is safe in it: put
// it back in place if the original was already hidden, then drop the copy.
// If the copy never became visible, it is a blank slot the tidy-up removes.
StoreStatus Pool::recover_shadow(const ShadowIntent& intent) {
  ++counters_.repairs;
  const auto holds_key = [&](uint32_t slot) {
    return slot < index_.slot_count() && index_.slot(slot).key == intent.key &&
           index_.slot(slot).state != RecordState::blank;
  };
  if (holds_key(intent.shadow_slot) && intent.target_slot < intent.shadow_slot) {
    const bool original_visible = holds_key(intent.target_slot);
    const bool original_hidden =
        !original_visible && index_.slot(intent.target_slot).state == RecordState::blank;
    if (original_hidden) {
      wire::KvpPoolRecord copy;
      if (const StoreStatus read = read_slot(intent.shadow_slot, copy);
          read != StoreStatus::ok) {
        return read;
      }
      if (const StoreStatus written =
              write(value_offset(intent.target_slot), bytes_of(copy.value));
          written != StoreStatus::ok) {
        return written;
      }
      if (const StoreStatus written = write(key_offset(intent.target_slot), bytes_of(copy.key));
          written != StoreStatus::ok) {
        return written;
      }
    }
    if (original_visible || original_hidden) {
      if (const StoreStatus removed = remove_slots({intent.shadow_slot});
          removed != StoreStatus::ok) {
        return removed;
      }
    }
  }
  return journal_.clear() == 0 ? StoreStatus::ok : fail(errno);
}

StoreStatus Pool::fail(int error) {
  last_errno_ = error;
  stale_ = true;  // a sequence may have stopped half way: re-read and tidy
  return StoreStatus::io_error;
}

Pool::Located Pool::locate(std::string_view key) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    const std::optional<uint32_t> slot = index_.find(key);
    if (!slot) {
      return {StoreStatus::ok, std::nullopt, {}};
    }
    Located found{StoreStatus::ok, slot, {}};
    found.status = read_slot(*slot, found.record);
    if (found.status != StoreStatus::ok || matches_index(*slot, found.record)) {
      return found;
    }
    if (const StoreStatus reloaded = reload(); reloaded != StoreStatus::ok) {
      return {reloaded, std::nullopt, {}};
    }
  }
  return {fail(EIO), std::nullopt, {}};
}

StoreStatus Pool::read_slot(uint32_t slot, wire::KvpPoolRecord& record) {
  const int error = file_.read_at(key_offset(slot), std::as_writable_bytes(std::span(&record, 1)));
  return error == 0 ? StoreStatus::ok : fail(error);
}

bool Pool::matches_index(uint32_t slot, const wire::KvpPoolRecord& record) const {
  const RecordView view = inspect_record(record);
  const SlotInfo& expected = index_.slot(slot);
  return view.state == expected.state && view.key == expected.key;
}

// ---------------------------------------------------------------------------
// Write sequences (see the top of this file)

StoreStatus Pool::append(const wire::KvpPoolRecord& record) {
  const uint32_t slot = index_.slot_count();
  if (slot >= kMaxPoolRecords) {
    return fail(EFBIG);
  }
  StoreStatus status = resize(slot + 1);
  if (status == StoreStatus::ok) {
    status = write(value_offset(slot), bytes_of(record.value));
  }
  if (status == StoreStatus::ok) {
    status = write(key_offset(slot), bytes_of(record.key));
  }
  if (status == StoreStatus::ok) {
    index_.append({RecordState::valid, std::string(inspect_record(record).key)});
  }
  return status;
}

StoreStatus Pool::replace(uint32_t slot, const wire::KvpPoolRecord& before,
                          const wire::KvpPoolRecord& record) {
  // A write inside one page is all or nothing after a kill (inside one
  // sector, after power loss): when the changed bytes lie inside one, they
  // are the whole change. `before` was just read back and checked.
  const auto [first, last] = changed_range(before, record);
  const off_t unit = options_.sync ? kSectorSize : kPageSize;
  if (first < last && (value_offset(slot) + first) / unit == (value_offset(slot) + last - 1) / unit) {
    const StoreStatus status = write(value_offset(slot) + first,
                                     bytes_of(record.value).subspan(static_cast<std::size_t>(first),
                                                                    static_cast<std::size_t>(last - first)));
    if (status == StoreStatus::ok) {
      index_.set_state(slot, RecordState::valid);
    }
    return status;
  }
  if (options_.sync || !value_within_one_page(slot)) {
    return replace_through_shadow(slot, record);
  }
  const StoreStatus status = write(value_offset(slot), bytes_of(record.value));
  if (status == StoreStatus::ok) {
    index_.set_state(slot, RecordState::valid);
  }
  return status;
}

StoreStatus Pool::replace_through_shadow(uint32_t slot, const wire::KvpPoolRecord& record) {
  const uint32_t shadow = index_.slot_count();
  const ShadowIntent intent{slot, shadow, std::string(inspect_record(record).key)};
  if (const int error = journal_.record(known_, intent, options_.sync); error != 0) {
    return fail(error);
  }
  // The original record with its key hidden and the new value.
  struct {
    char key[wire::kKvpMaxKeyBytes] = {};
    char value[wire::kKvpMaxValueBytes];
  } hidden;
  std::memcpy(hidden.value, record.value, sizeof(hidden.value));
  static_assert(sizeof(hidden) == kRecordSize);

  StoreStatus status = resize(shadow + 1);
  if (status == StoreStatus::ok) {
    status = write(value_offset(shadow), bytes_of(record.value));
  }
  if (status == StoreStatus::ok) {
    status = write(key_offset(shadow), bytes_of(record.key));  // copy visible, second
  }
  if (status == StoreStatus::ok) {
    status = write(key_offset(slot), std::as_bytes(std::span(&hidden, 1)));  // commit
  }
  if (status == StoreStatus::ok) {
    status = write(key_offset(slot), bytes_of(record.key));  // original wins again
  }
  if (status == StoreStatus::ok) {
    status = resize(shadow);
  }
  if (status != StoreStatus::ok) {
    return status;
  }
  if (const int error = journal_.clear(); error != 0) {
    return fail(error);
  }
  index_.set_state(slot, RecordState::valid);
  return StoreStatus::ok;
}

StoreStatus Pool::remove_slots(const std::vector<uint32_t>& slots) {
  std::vector<uint32_t> kept;
  std::size_t next_removed = 0;
  for (uint32_t slot = slots.front(); slot < index_.slot_count(); ++slot) {
    if (next_removed < slots.size() && slots[next_removed] == slot) {
      ++next_removed;
    } else {
      kept.push_back(slot);
    }
  }
  // Removing the last records is one truncate; otherwise hide each one (the
  // commit of a DELETE) before sliding the rest down.
  for (const uint32_t slot : slots) {
    if (!kept.empty() && index_.slot(slot).state != RecordState::blank) {
      if (const StoreStatus hidden = write(key_offset(slot), bytes_of(kBlankKey));
          hidden != StoreStatus::ok) {
        return hidden;
      }
    }
  }
  if (const StoreStatus slid = slide_down(slots.front(), kept); slid != StoreStatus::ok) {
    return slid;
  }
  index_.erase(slots);
  return StoreStatus::ok;
}

// Moves the records in `kept` (ascending, all above `first_free`) down into
// consecutive slots from `first_free`, in order, then truncates. Every slot
// between first_free and the next record to move is blank.
StoreStatus Pool::slide_down(uint32_t first_free, const std::vector<uint32_t>& kept) {
  if (kept.empty()) {
    return resize(first_free);
  }
  const uint32_t base = kept.front();
  std::vector<wire::KvpPoolRecord> records(index_.slot_count() - base);
  if (const int error =
          file_.read_at(key_offset(base), std::as_writable_bytes(std::span(records)));
      error != 0) {
    return fail(error);
  }
  const auto record_at = [&](uint32_t slot) -> const wire::KvpPoolRecord& {
    return records[slot - base];
  };
  uint32_t free_slot = first_free;
  if (const StoreStatus written = write(value_offset(free_slot), bytes_of(record_at(base).value));
      written != StoreStatus::ok) {
    return written;
  }
  // One write per move: [key + value of the record] into the free slot
  // (its value is already there), [NUL key + value of the next record to
  // move] into the slot above, which becomes the next free slot.
  struct {
    wire::KvpPoolRecord moved;
    char next_key[wire::kKvpMaxKeyBytes];
    char next_value[wire::kKvpMaxValueBytes];
  } move;
  std::memset(move.next_key, 0, sizeof(move.next_key));
  for (std::size_t i = 0; i < kept.size(); ++i) {
    const uint32_t from = kept[i];
    move.moved = record_at(from);
    std::size_t length = sizeof(move.moved) + sizeof(move.next_key);
    if (i + 1 < kept.size()) {
      std::memcpy(move.next_value, record_at(kept[i + 1]).value, sizeof(move.next_value));
      length += sizeof(move.next_value);
    }
    if (const StoreStatus written =
            write(key_offset(free_slot), std::as_bytes(std::span(&move, 1)).first(length));
        written != StoreStatus::ok) {
      return written;
    }
    if (from != free_slot + 1) {
      if (const StoreStatus hidden = write(key_offset(from), bytes_of(kBlankKey));
          hidden != StoreStatus::ok) {
        return hidden;
      }
    }
    ++free_slot;
    ++counters_.moved_records;
  }
  return resize(free_slot);
}

StoreStatus Pool::write(off_t offset, std::span<const std::byte> bytes) {
  if (const int error = file_.write_at(offset, bytes); error != 0) {
    return fail(error);
  }
  if (options_.sync) {
    if (const int error = file_.flush(); error != 0) {
      return fail(error);
    }
  }
  return StoreStatus::ok;
}

StoreStatus Pool::resize(uint32_t slots) {
  if (const int error = file_.resize(off_t{slots} * kRecordSize); error != 0) {
    return fail(error);
  }
  if (options_.sync) {
    if (const int error = file_.flush(); error != 0) {
      return fail(error);
    }
  }
  return StoreStatus::ok;
}

}  // namespace uvmbus::kvp::detail
