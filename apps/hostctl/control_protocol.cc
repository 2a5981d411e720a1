// Request and reply shapes of the control protocol (see control_protocol.h).
#include "control_protocol.h"

#include <array>

namespace uvmbus::hostctl {
namespace {

constexpr std::array kErrorNames = {
    "bad_request",       "too_large",   "unknown_command", "invalid_argument", "no_such_partition",
    "no_such_device",    "duplicate_device", "permission_denied", "unavailable", "guest_not_connected",
    "timeout",           "guest_failed",     "not_found",         "internal",
};
static_assert(kErrorNames.size() == static_cast<std::size_t>(ErrorCode::internal) + 1);

}  // namespace

const char* to_string(ErrorCode code) noexcept { return kErrorNames.at(static_cast<std::size_t>(code)); }

std::optional<ErrorCode> parse_error_code(std::string_view text) noexcept {
  for (std::size_t i = 0; i < kErrorNames.size(); ++i) {
    if (text == kErrorNames[i]) {
      return static_cast<ErrorCode>(i);
    }
  }
  return std::nullopt;
}

nlohmann::json make_request(std::string_view command, nlohmann::json args) {
  return {{"command", command}, {"args", std::move(args)}};
}

nlohmann::json ok_reply(nlohmann::json result) { return {{"ok", true}, {"result", std::move(result)}}; }

nlohmann::json error_reply(ErrorCode code, std::string_view message) {
  return {{"ok", false}, {"error", to_string(code)}, {"message", message}};
}

}  // namespace uvmbus::hostctl
