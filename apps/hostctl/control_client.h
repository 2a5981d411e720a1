// The client end of hostd's control socket (used by uvmbus-host and the
// tests): connect, then one request and its reply at a time, each bounded
// by a timeout. Failures say whether hostd is not running, the caller may
// not use it, or the exchange broke.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "uvmbus/runtime/expected.h"

namespace uvmbus::hostctl {

enum class ClientFailure : uint8_t {
  not_running,        // no socket at the path, or nobody listening
  permission_denied,  // the socket's mode refused us
  io,                 // a send, receive or timeout failure
  bad_reply,          // not a reply of the protocol's shape
};

struct ClientError {
  ClientFailure failure = ClientFailure::io;
  std::string detail;  // one line
};

class ControlClient {
 public:
  static runtime::Expected<ControlClient, ClientError> connect(const std::string& path);

  ControlClient(ControlClient&& other) noexcept;
  ControlClient& operator=(ControlClient&& other) = delete;
  ControlClient(const ControlClient&) = delete;
  ControlClient& operator=(const ControlClient&) = delete;
  ~ControlClient();

  // Sends `request` and returns hostd's reply object (ok or error).
  runtime::Expected<nlohmann::json, ClientError> call(const nlohmann::json& request,
                                                      std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // call() with make_request(name, args).
  runtime::Expected<nlohmann::json, ClientError> command(std::string_view name,
                                                         nlohmann::json args = nlohmann::json::object(),
                                                         std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  explicit ControlClient(int fd) noexcept : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace uvmbus::hostctl
