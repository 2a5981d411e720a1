// The auto pool (pool 2): the ten intrinsic keys Linux's daemon reports, in
// its index order, each computed when the host asks, so a hostname or
// address change shows without a restart:
//   0 FullyQualifiedDomainName   gethostname() (no resolver call: it can hang)
//   1 IntegrationServicesVersion "3.1", as Linux's kernel driver reports
//   2 NetworkAddressIPv4         non-loopback addresses (rtnetlink), ';'-joined
//   3 NetworkAddressIPv6         likewise
//   4 OSBuildNumber              uname -r
//   5 OSName                     os-release NAME (else uname -s)
//   6 OSMajorVersion             os-release VERSION_ID
//   7 OSMinorVersion             "" (as Linux with os-release)
//   8 OSVersion                  uname -r up to the first '-'
//   9 ProcessorArchitecture      uname -m
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace uvmbus::kvpd {

inline constexpr uint32_t kAutoPoolKeyCount = 10;

struct AutoItem {
  std::string key;
  std::string value;
};

// NAME and VERSION_ID of an os-release text (quotes removed).
struct OsRelease {
  std::string name;
  std::string version_id;
};
[[nodiscard]] OsRelease parse_os_release(std::string_view text);

class AutoPool {
 public:
  explicit AutoPool(std::filesystem::path os_release = "/etc/os-release")
      : os_release_(std::move(os_release)) {}

  // The item at `index`; nullopt past the last key.
  [[nodiscard]] std::optional<AutoItem> item(uint32_t index) const;
  // The value of `key` (GET on pool 2); nullopt if it is not an intrinsic key.
  [[nodiscard]] std::optional<std::string> value(std::string_view key) const;

 private:
  std::string compute(uint32_t index) const;

  std::filesystem::path os_release_;
};

}  // namespace uvmbus::kvpd
