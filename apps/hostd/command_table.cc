// Command registration and dispatch (see command_table.h).
#include "command_table.h"

#include <fmt/core.h>

#include <algorithm>

namespace uvmbus::hostd {

using hostctl::ErrorCode;
using nlohmann::json;

const json* CommandArgs::find(const char* key) {
  read_.emplace_back(key);
  const auto it = args_.find(key);
  return it == args_.end() ? nullptr : &*it;
}

std::optional<std::string> CommandArgs::string(const char* key) {
  const json* value = find(key);
  if (value == nullptr) {
    return std::nullopt;
  }
  if (!value->is_string()) {
    throw CommandError(ErrorCode::invalid_argument, fmt::format("argument '{}' must be a string", key));
  }
  return value->get<std::string>();
}

std::optional<uint64_t> CommandArgs::number(const char* key, uint64_t max) {
  const json* value = find(key);
  if (value == nullptr) {
    return std::nullopt;
  }
  if (!value->is_number_unsigned() || value->get<uint64_t>() > max) {
    throw CommandError(ErrorCode::invalid_argument,
                       fmt::format("argument '{}' must be an integer from 0 to {}", key, max));
  }
  return value->get<uint64_t>();
}

void CommandArgs::finish() const {
  for (const auto& [key, value] : args_.items()) {
    if (std::find(read_.begin(), read_.end(), key) == read_.end()) {
      throw CommandError(ErrorCode::invalid_argument, fmt::format("unknown argument '{}'", key));
    }
  }
}

bool CommandTable::add(std::string name, std::string summary, CommandHandler handler) {
  return commands_.emplace(std::move(name), Entry{std::move(summary), std::move(handler), {}}).second;
}

bool CommandTable::add_deferred(std::string name, std::string summary, DeferredHandler handler) {
  return commands_.emplace(std::move(name), Entry{std::move(summary), {}, std::move(handler)}).second;
}

json CommandTable::complete(const Completion& make) {
  try {
    return hostctl::ok_reply(make());
  } catch (const CommandError& error) {
    return hostctl::error_reply(error.code(), error.what());
  } catch (const std::exception& error) {
    return hostctl::error_reply(ErrorCode::internal, error.what());
  }
}

Dispatched CommandTable::dispatch(std::string_view request) const {
  Dispatched out;
  const json parsed = json::parse(request, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object() || !parsed.contains("command") || !parsed["command"].is_string()) {
    out.reply = hostctl::error_reply(ErrorCode::bad_request,
                                     "expected a JSON object {\"command\": NAME, \"args\": {...}}");
    return out;
  }
  for (const auto& [key, value] : parsed.items()) {
    if (key != "command" && key != "args" && key != "id") {
      out.reply = hostctl::error_reply(ErrorCode::bad_request, fmt::format("unknown request key '{}'", key));
      return out;
    }
  }
  const json id = parsed.value("id", json());
  if (!id.is_null() && !id.is_string() && !id.is_number_unsigned()) {
    out.reply = hostctl::error_reply(ErrorCode::bad_request, "\"id\" must be a string or an unsigned integer");
    return out;
  }
  const json args = parsed.value("args", json::object());
  if (!args.is_object()) {
    out.reply = hostctl::error_reply(ErrorCode::bad_request, "\"args\" must be an object");
    return out;
  }
  const std::string& name = parsed["command"].get_ref<const std::string&>();
  const auto it = commands_.find(name);
  if (it == commands_.end()) {
    out.reply = hostctl::error_reply(ErrorCode::unknown_command, fmt::format("no command '{}'", name));
    return out;
  }
  CommandArgs reader(args);
  const Entry& entry = it->second;
  out.reply = complete([&] {
    if (entry.deferred) {
      out.deferred = entry.deferred(reader);
      return json();
    }
    return entry.handler(reader);
  });
  out.id = id;
  if (!out.id.is_null()) {
    out.reply["id"] = out.id;
  }
  return out;
}

std::vector<CommandInfo> CommandTable::commands() const {
  std::vector<CommandInfo> list;
  for (const auto& [name, entry] : commands_) {
    list.push_back({name, entry.summary});
  }
  return list;
}

}  // namespace uvmbus::hostd
