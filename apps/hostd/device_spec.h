// A device hostd offers, as the config file, --device and add-device name
// it: a built-in type ("echo", "sink"), an instance GUID, the most
// sub-channels a guest may ask for, and optionally a class GUID other than
// the type's own. make_device() builds it for the server.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "uvmbus/host/device.h"
#include "uvmbus/runtime/expected.h"
#include "uvmbus/wire/guid.h"

namespace uvmbus::hostd {

// The instance GUIDs of the devices hostd offers when neither a config file
// nor --device names any (docs/hostd.md).
inline constexpr wire::Guid kDefaultEchoInstance = wire::guid_literal("5e1ec7ed-ec40-4000-8000-00000000ec01");
inline constexpr wire::Guid kDefaultSinkInstance = wire::guid_literal("5e1ec7ed-51a4-4000-8000-0000000051a1");
inline constexpr uint16_t kDefaultMaxSubchannels = 8;
// Largest sub-channel count a device may allow (relids are at most 2047).
inline constexpr uint16_t kMaxSubchannelsLimit = 256;

enum class DeviceType : uint8_t { echo, sink };

const char* to_string(DeviceType type) noexcept;
std::optional<DeviceType> parse_device_type(std::string_view text) noexcept;

struct DeviceSpec {
  DeviceType type = DeviceType::echo;
  wire::Guid instance{};
  uint16_t max_subchannels = kDefaultMaxSubchannels;
  std::optional<wire::Guid> class_id;  // nullopt: the type's class
};

// "TYPE" or "TYPE:GUID" (--device); without a GUID a random one is drawn.
runtime::Expected<DeviceSpec, std::string> parse_device_flag(std::string_view text);

// A random (version 4) GUID.
wire::Guid random_guid();

std::shared_ptr<host::Device> make_device(const DeviceSpec& spec);

}  // namespace uvmbus::hostd
