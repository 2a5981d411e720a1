// The control socket's commands, by name. A command family registers its
// commands with add() (core_commands.h registers the core ones; other
// families add their own register function the same way); dispatch() turns
// one request message into one reply object and never throws: a malformed
// request, an unknown command or a handler's CommandError becomes an error
// reply (control_protocol.h).
#pragma once

#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "control_protocol.h"

namespace uvmbus::hostd {

// Thrown by handlers: becomes {"ok": false, "error": code, "message": what()}.
class CommandError : public std::runtime_error {
 public:
  CommandError(hostctl::ErrorCode code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  hostctl::ErrorCode code() const noexcept { return code_; }

 private:
  hostctl::ErrorCode code_;
};

// A command's arguments, read strictly: each read marks its key, finish()
// rejects keys nobody read; wrong types and ranges are invalid_argument.
class CommandArgs {
 public:
  explicit CommandArgs(const nlohmann::json& args) : args_(args) {}
  std::optional<std::string> string(const char* key);
  std::optional<uint64_t> number(const char* key, uint64_t max);
  void finish() const;

 private:
  const nlohmann::json* find(const char* key);
  const nlohmann::json& args_;
  std::vector<std::string> read_;
};

// Returns the command's result (the reply's "result").
using CommandHandler = std::function<nlohmann::json(CommandArgs& args)>;

struct CommandInfo {
  std::string name;
  std::string summary;
};

class CommandTable {
 public:
  // False if `name` is taken.
  bool add(std::string name, std::string summary, CommandHandler handler);
  // The reply to one request message.
  nlohmann::json dispatch(std::string_view request) const;
  std::vector<CommandInfo> commands() const;

 private:
  struct Entry {
    std::string summary;
    CommandHandler handler;
  };
  std::map<std::string, Entry, std::less<>> commands_;
};

}  // namespace uvmbus::hostd
