// libFuzzer target: a pool file written by someone else. The store must list
// exactly the readable records in file order, keep every record it cannot
// read, and after a SET and a DELETE leave a file of whole records.
//
// Whole records are 2,560 bytes, far more than mutation reaches quickly, so
// an input with an odd first byte is the file itself, and any other input
// describes records compactly (see build_file). The file is written to
// .kvp_pool_1 in a scratch directory on /dev/shm when there is one (tmpfs:
// the same page-cache code, no disk).
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "uvmbus/kvp/pool_record.h"
#include "uvmbus/kvp/pool_store.h"

namespace {

using namespace uvmbus;

constexpr std::size_t kRecord = sizeof(wire::KvpPoolRecord);

void check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

std::filesystem::path make_scratch() {
  const char* base = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp";
  std::string pattern = std::string(base) + "/uvmbus-fuzz-pool-XXXXXX";
  check(::mkdtemp(pattern.data()) != nullptr);
  return pattern;
}

void remove_scratch();

// The scratch directory, removed when the fuzzer exits (the clean-up is
// registered after the path exists, so it runs before the path is destroyed).
const std::filesystem::path& scratch() {
  static const std::filesystem::path path = make_scratch();
  [[maybe_unused]] static const bool removed_at_exit = std::atexit(remove_scratch) == 0;
  return path;
}

void remove_scratch() {
  std::error_code ignored;
  std::filesystem::remove_all(scratch(), ignored);
}

std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

wire::KvpPoolRecord record_at(const std::string& bytes, std::size_t index) {
  wire::KvpPoolRecord record;
  std::memcpy(&record, bytes.data() + index * kRecord, kRecord);
  return record;
}

// Each entry: flags, key length, value length, then that many key and value
// bytes. Flags: 1 = key fills its field without NUL, 2 = value fills its field
// without NUL, 4 = blank the key, 8 = repeat the previous record, 16 = end
// with part of a record.
std::string build_file(std::string_view entries) {
  std::string file;
  std::string record;
  while (entries.size() >= 3) {
    const auto flags = static_cast<uint8_t>(entries[0]);
    const std::size_t key_length = std::min<std::size_t>(static_cast<uint8_t>(entries[1]),
                                                         entries.size() - 3);
    const std::size_t value_length = std::min<std::size_t>(
        static_cast<uint8_t>(entries[2]), entries.size() - 3 - key_length);
    const std::string_view key = entries.substr(3, key_length);
    const std::string_view value = entries.substr(3 + key_length, value_length);
    entries.remove_prefix(3 + key_length + value_length);
    if ((flags & 8) == 0 || record.empty()) {
      record.assign(kRecord, '\0');
      record.replace(0, key.size(), key);
      record.replace(wire::kKvpMaxKeyBytes, value.size(), value);
      if ((flags & 1) != 0) {
        std::fill(record.begin(), record.begin() + wire::kKvpMaxKeyBytes, key.empty() ? 'k' : key[0]);
      }
      if ((flags & 2) != 0) {
        std::fill(record.begin() + wire::kKvpMaxKeyBytes, record.end(), value.empty() ? 'v' : value[0]);
      }
      if ((flags & 4) != 0) {
        record[0] = '\0';
      }
    }
    file += record;
    if ((flags & 16) != 0) {
      file += record.substr(0, kRecord / 3);
      break;
    }
  }
  return file;
}

// Unreadable records no SET or DELETE of `touched` keys could change.
std::size_t untouchable_records(const std::string& bytes,
                                const std::vector<std::string>& touched) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < bytes.size() / kRecord; ++i) {
    const wire::KvpPoolRecord record = record_at(bytes, i);
    const kvp::RecordView view = kvp::inspect_record(record);
    if (view.state == kvp::RecordState::bad_key ||
        (view.state == kvp::RecordState::bad_value &&
         std::find(touched.begin(), touched.end(), view.key) == touched.end())) {
      ++count;
    }
  }
  return count;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::filesystem::path pool = scratch() / ".kvp_pool_1";
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const std::string input = !bytes.empty() && (bytes[0] & 1) != 0 ? std::string(bytes.substr(1))
                                                                    : build_file(bytes);
  {
    std::ofstream out(pool, std::ios::binary | std::ios::trunc);
    out.write(input.data(), static_cast<std::streamsize>(input.size()));
  }
  kvp::StoreOptions options;
  options.directory = scratch();
  auto store = std::move(kvp::PoolStore::open(options).store);
  check(store != nullptr);

  // What the store lists after its tidy-up equals what the file holds.
  std::vector<std::string> listed;
  for (uint32_t index = 0;; ++index) {
    const kvp::ItemResult item = store->enumerate(wire::KvpPool::guest, index);
    if (item.status != kvp::StoreStatus::ok) {
      check(item.status == kvp::StoreStatus::end_of_items);
      break;
    }
    listed.push_back(item.key);
  }
  const std::string tidied = read_all(pool);
  check(tidied.size() % kRecord == 0);
  std::vector<std::string> readable;
  for (std::size_t i = 0; i < tidied.size() / kRecord; ++i) {
    const wire::KvpPoolRecord record = record_at(tidied, i);
    const kvp::RecordView view = kvp::inspect_record(record);
    check(view.state != kvp::RecordState::blank);
    if (view.state == kvp::RecordState::valid) {
      readable.emplace_back(view.key);
    }
  }
  check(listed == readable);

  // Changes keep the file whole and every unreadable record they do not
  // address.
  std::vector<std::string> touched{"fuzz-key"};
  check(store->set(wire::KvpPool::guest, touched.front(), "fuzz-value") == kvp::StoreStatus::ok);
  if (!listed.empty()) {
    touched.push_back(listed.front());
    check(store->remove(wire::KvpPool::guest, listed.front()) == kvp::StoreStatus::ok);
  }
  const std::string changed = read_all(pool);
  check(changed.size() % kRecord == 0);
  check(untouchable_records(changed, touched) == untouchable_records(tidied, touched));
  return 0;
}
