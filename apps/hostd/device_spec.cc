// Built-in device specs (see device_spec.h).
#include "device_spec.h"

#include <random>

#include "uvmbus/host/builtin_devices.h"

namespace uvmbus::hostd {

const char* to_string(DeviceType type) noexcept { return type == DeviceType::echo ? "echo" : "sink"; }

std::optional<DeviceType> parse_device_type(std::string_view text) noexcept {
  if (text == "echo") {
    return DeviceType::echo;
  }
  if (text == "sink") {
    return DeviceType::sink;
  }
  return std::nullopt;
}

runtime::Expected<DeviceSpec, std::string> parse_device_flag(std::string_view text) {
  const std::size_t colon = text.find(':');
  const std::string_view type_text = text.substr(0, colon);
  const std::optional<DeviceType> type = parse_device_type(type_text);
  if (!type) {
    return runtime::Unexpected<std::string>("unknown device type '" + std::string(type_text) +
                                            "' (expected echo or sink)");
  }
  DeviceSpec spec{.type = *type, .instance = random_guid(), .max_subchannels = kDefaultMaxSubchannels, .class_id = std::nullopt};
  if (colon != std::string_view::npos) {
    const std::string_view guid_text = text.substr(colon + 1);
    const std::optional<wire::Guid> instance = wire::parse_guid(guid_text);
    if (!instance) {
      return runtime::Unexpected<std::string>("bad instance GUID '" + std::string(guid_text) + "'");
    }
    spec.instance = *instance;
  }
  return spec;
}

wire::Guid random_guid() {
  static thread_local std::mt19937_64 generator{std::random_device{}()};
  wire::Guid guid{};
  for (std::size_t i = 0; i < std::size(guid.bytes); i += 8) {
    uint64_t bits = generator();
    for (std::size_t j = 0; j < 8; ++j, bits >>= 8) {
      guid.bytes[i + j] = static_cast<uint8_t>(bits);
    }
  }
  // Wire order: data3 is little-endian, so its version nibble is in byte 7;
  // byte 8 holds the variant.
  guid.bytes[7] = static_cast<uint8_t>((guid.bytes[7] & 0x0f) | 0x40);
  guid.bytes[8] = static_cast<uint8_t>((guid.bytes[8] & 0x3f) | 0x80);
  return guid;
}

std::shared_ptr<host::Device> make_device(const DeviceSpec& spec) {
  if (spec.type == DeviceType::echo) {
    return host::make_echo_device(spec.instance, spec.max_subchannels, spec.class_id.value_or(host::kEchoClassGuid));
  }
  return host::make_sink_device(spec.instance, spec.max_subchannels, spec.class_id.value_or(host::kSinkClassGuid));
}

}  // namespace uvmbus::hostd
