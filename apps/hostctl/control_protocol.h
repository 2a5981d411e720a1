// The control protocol between uvmbus-hostd and its admin CLI, uvmbus-host
// (docs/hostd.md): one JSON object per SOCK_SEQPACKET message on hostd's
// control socket, one reply per request, in order.
//
//   request  {"command": "<name>", "args": {...}}        args optional
//   reply    {"ok": true, "result": <value>}
//            {"ok": false, "error": "<code>", "message": "<one line>"}
//
// Requests are at most kMaxRequestBytes, replies at most kMaxReplyBytes; a
// longer request is answered with too_large. Error codes are ErrorCode's
// names.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace uvmbus::hostctl {

// 16 KiB: the largest kvp-set (a 255-unit key and a 1,023-unit value) takes
// 2.6 KB as raw UTF-8, but 7.7 KB from a client whose JSON encoder writes
// every non-ASCII UTF-16 unit as a 6-byte \uXXXX escape (Python's default).
inline constexpr std::size_t kMaxRequestBytes = 16 * 1024;
inline constexpr std::size_t kMaxReplyBytes = 160 * 1024;
inline constexpr uint32_t kProtocolVersion = 1;

enum class ErrorCode : uint8_t {
  bad_request,        // not a JSON object of the request shape
  too_large,          // request over kMaxRequestBytes, or a reply over kMaxReplyBytes
  unknown_command,
  invalid_argument,   // an argument missing, of the wrong type or out of range
  no_such_partition,
  no_such_device,
  duplicate_device,   // add-device with an instance GUID already offered
  permission_denied,  // the client's uid may not use the control socket
  unavailable,        // hostd is shutting down
  guest_not_connected,  // the VM's guest has not opened the device's channel (KVP)
  timeout,            // the guest did not answer in time
  guest_failed,       // the guest answered with a failure, or a reply that does not decode
  not_found,          // no such item
  internal,
};

const char* to_string(ErrorCode code) noexcept;
std::optional<ErrorCode> parse_error_code(std::string_view text) noexcept;

nlohmann::json make_request(std::string_view command, nlohmann::json args = nlohmann::json::object());
nlohmann::json ok_reply(nlohmann::json result);
nlohmann::json error_reply(ErrorCode code, std::string_view message);

}  // namespace uvmbus::hostctl
