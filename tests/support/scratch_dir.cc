// Scratch directories and file contents for tests (see scratch_dir.h).
#include "scratch_dir.h"

#include <stdlib.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace uvmbus::test_support {

ScratchDir::ScratchDir(std::string_view prefix) {
  std::string pattern = std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX");
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  path_ = pattern;
}

ScratchDir::~ScratchDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

}  // namespace uvmbus::test_support
