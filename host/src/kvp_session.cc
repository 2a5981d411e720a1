// The host end of a KVP channel, sans-IO (see kvp_session.h).
#include "uvmbus/host/kvp_session.h"

#include "uvmbus/kvp/versions.h"

namespace uvmbus::host {

KvpHostSession::KvpHostSession()
    : endpoint_(wire::IcMessageType::kvp_exchange, {ic::kHostFrameworkVersions, kvp::kHostVersions}),
      buffer_(wire::kIcMaxMessageSize) {}

KvpHostSession::Packet KvpHostSession::negotiate() {
  const ic::SizeResult written = endpoint_.start_negotiate(buffer_);
  outstanding_.clear();
  if (written.error != ic::IcError::none) {
    return {written.error, kvp::KvpError::none, {}};
  }
  return {ic::IcError::none, kvp::KvpError::none, std::span(buffer_).first(written.size)};
}

KvpHostSession::Packet KvpHostSession::frame(std::size_t body_size) {
  const ic::SizeResult framed = endpoint_.start_request(buffer_, body_size);
  if (framed.error != ic::IcError::none) {
    return {framed.error, kvp::KvpError::none, {}};
  }
  return {ic::IcError::none, kvp::KvpError::none, std::span(buffer_).first(framed.size)};
}

KvpHostSession::Packet KvpHostSession::request(const KvpCall& call) {
  if (!endpoint_.versions()) {
    return {ic::IcError::not_negotiated, kvp::KvpError::none, {}};
  }
  if (!endpoint_.can_send()) {
    return {ic::IcError::transaction_pending, kvp::KvpError::none, {}};
  }
  const std::span<std::byte> out = body();
  kvp::RequestSize written{kvp::KvpError::unknown_operation, 0};
  switch (call.operation) {
    case wire::KvpOperation::get:
      written = kvp::write_get_request(out, call.pool, call.key);
      break;
    case wire::KvpOperation::set:
      written = kvp::write_set_request(out, call.pool, call.key, call.value);
      break;
    case wire::KvpOperation::del:
      written = kvp::write_delete_request(out, call.pool, call.key);
      break;
    case wire::KvpOperation::enumerate:
      written = kvp::write_enumerate_request(out, call.pool, call.index);
      break;
    case wire::KvpOperation::get_ip_info:
    case wire::KvpOperation::set_ip_info:
      written = kvp::write_ip_info_request(out, call.operation, endpoint_.versions()->service,
                                           call.ip_info);
      break;
  }
  if (written.error != kvp::KvpError::none) {
    return {ic::IcError::none, written.error, {}};
  }
  Packet framed = frame(written.size);
  if (framed.ic_error == ic::IcError::none) {
    outstanding_.push_back(call.operation);
  }
  return framed;
}

KvpSessionEvent KvpHostSession::on_packet(std::span<const std::byte> packet) {
  const ic::HostEvent event = endpoint_.on_packet(packet);
  KvpSessionEvent out;
  out.ic_error = event.error;
  out.status = event.status;
  switch (event.action) {
    case ic::HostAction::dropped:
      out.kind = KvpSessionEventKind::dropped;
      return out;
    case ic::HostAction::negotiate_reply:
      out.kind = endpoint_.versions() ? KvpSessionEventKind::negotiated
                                      : KvpSessionEventKind::negotiate_refused;
      return out;
    case ic::HostAction::response:
      break;
  }
  out.kind = KvpSessionEventKind::reply;
  std::optional<wire::KvpOperation> operation;
  if (!outstanding_.empty()) {
    operation = outstanding_.front();
    outstanding_.pop_front();
  }
  if (!operation || event.status != wire::HvStatus::ok) {
    return out;
  }
  switch (*operation) {
    case wire::KvpOperation::enumerate: {
      kvp::ItemReply item = kvp::read_enumerate_reply(event.body);
      out.bad_body = item.error;
      out.key = std::move(item.key);
      out.value = std::move(item.value);
      break;
    }
    case wire::KvpOperation::get: {
      kvp::ItemReply item = kvp::read_get_reply(event.body);
      out.bad_body = item.error;
      out.value = std::move(item.value);
      break;
    }
    case wire::KvpOperation::get_ip_info: {
      kvp::IpInfoReply info = kvp::read_ip_info_reply(event.body, endpoint_.versions()->service);
      out.bad_body = info.error;
      out.ip_info = std::move(info.info);
      break;
    }
    default:
      break;  // status only
  }
  return out;
}

}  // namespace uvmbus::host
