// The control socket's commands, by name. A command family registers its
// commands with add() (core_commands.h registers the core ones; other
// families add their own register function the same way); dispatch() turns
// one request message into one reply object and never throws: a malformed
// request, an unknown command or a handler's CommandError becomes an error
// reply (control_protocol.h). A command that waits on a guest is added with
// add_deferred(): its handler checks the arguments and returns the waiting
// work, which the control server runs off the main loop (deferred_calls.h).
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
// Makes the result on the main thread (may throw CommandError, like a handler).
using Completion = std::function<nlohmann::json()>;
// Work that may block (waits on a guest); runs off the main thread.
using Deferred = std::function<Completion()>;
// Reads the arguments (on the main thread) and returns the work.
using DeferredHandler = std::function<Deferred(CommandArgs& args)>;

// What dispatch() made of one request.
struct Dispatched {
  nlohmann::json reply;  // the reply, unless `deferred` is set
  Deferred deferred;     // run it; its Completion makes the reply (complete())
  nlohmann::json id;     // the request's "id", echoed in its reply (null if none)
};

struct CommandInfo {
  std::string name;
  std::string summary;
};

class CommandTable {
 public:
  // False if `name` is taken.
  bool add(std::string name, std::string summary, CommandHandler handler);
  bool add_deferred(std::string name, std::string summary, DeferredHandler handler);
  // The reply to one request message, or the work that will make it.
  Dispatched dispatch(std::string_view request) const;
  // The reply {"ok": true, "result": make()}, or the error make() threw.
  static nlohmann::json complete(const Completion& make);
  std::vector<CommandInfo> commands() const;

 private:
  struct Entry {
    std::string summary;
    CommandHandler handler;    // one of the two
    DeferredHandler deferred;
  };
  std::map<std::string, Entry, std::less<>> commands_;
};

}  // namespace uvmbus::hostd
