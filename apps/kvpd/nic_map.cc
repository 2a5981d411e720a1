// GUID -> interface mapping (see nic_map.h).
#include "nic_map.h"

#include <net/if.h>

#include <cctype>
#include <fstream>

namespace uvmbus::kvpd {
namespace {

std::string_view trim(std::string_view text) {
  const std::size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    return {};
  }
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

bool is_interface_name(std::string_view name) {
  return !name.empty() && name.size() < IFNAMSIZ && name != "." && name != ".." &&
         name.find_first_of("/ \t:") == std::string_view::npos;
}

}  // namespace

std::optional<std::string> normalize_guid(std::string_view text) {
  text = trim(text);
  if (text.size() == 38 && text.front() == '{' && text.back() == '}') {
    text = text.substr(1, 36);
  }
  if (text.size() != 36) {
    return std::nullopt;
  }
  std::string guid;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool dash_place = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_place ? c != '-' : std::isxdigit(static_cast<unsigned char>(c)) == 0) {
      return std::nullopt;
    }
    guid.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return guid;
}

bool NicMap::add(std::string_view entry) {
  const std::size_t equals = entry.find('=');
  if (equals == std::string_view::npos) {
    return false;
  }
  const std::optional<std::string> guid = normalize_guid(entry.substr(0, equals));
  const std::string_view name = trim(entry.substr(equals + 1));
  if (!guid || !is_interface_name(name)) {
    return false;
  }
  entries_[*guid] = std::string(name);
  return true;
}

int NicMap::add_file(const std::filesystem::path& path) {
  std::ifstream file(path);
  if (!file) {
    return -1;
  }
  std::string line;
  for (int number = 1; std::getline(file, line); ++number) {
    const std::string_view content = trim(std::string_view(line).substr(0, line.find('#')));
    if (!content.empty() && !add(content)) {
      return number;
    }
  }
  return 0;
}

std::optional<std::string> NicMap::interface_for(std::string_view adapter_id,
                                                 const std::filesystem::path& sysfs_net) const {
  const std::optional<std::string> guid = normalize_guid(adapter_id);
  if (!guid) {
    return std::nullopt;
  }
  if (const auto found = entries_.find(*guid); found != entries_.end()) {
    return found->second;
  }
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(sysfs_net, error)) {
    std::ifstream id_file(entry.path() / "device" / "device_id");
    std::string id;
    if (std::getline(id_file, id) && normalize_guid(id) == guid) {
      return entry.path().filename().string();
    }
  }
  return std::nullopt;
}

}  // namespace uvmbus::kvpd
