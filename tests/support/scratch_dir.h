// Test support: a fresh directory under $TMPDIR (or /tmp), removed with its
// contents at the end, and reading a file back whole.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace uvmbus::test_support {

class ScratchDir {
 public:
  // PREFIX-XXXXXX under the temporary directory; throws if it cannot.
  explicit ScratchDir(std::string_view prefix = "uvmbus-test");
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// The file's bytes; empty if it cannot be read.
std::string read_file(const std::filesystem::path& path);

}  // namespace uvmbus::test_support
