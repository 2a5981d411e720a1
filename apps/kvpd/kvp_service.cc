// KVP request dispatch (see kvp_service.h).
#include "kvp_service.h"

#include "uvmbus/ic/negotiate.h"
#include "uvmbus/kvp/guest_codec.h"

namespace uvmbus::kvpd {

KvpService::KvpService(std::span<const wire::IcVersion> versions, kvp::PoolStore& store,
                       const AutoPool& auto_pool, IpConfig& ip_config) noexcept
    : endpoint_(wire::IcMessageType::kvp_exchange, {ic::kGuestFrameworkVersions, versions}),
      store_(store),
      auto_pool_(auto_pool),
      ip_config_(ip_config) {}

PacketOutcome KvpService::on_packet(std::span<std::byte> packet) {
  PacketOutcome outcome;
  const ic::GuestEvent event = endpoint_.on_packet(packet);
  outcome.ic_error = event.error;
  switch (event.action) {
    case ic::GuestAction::drop:
      ++counters_.dropped;
      return outcome;
    case ic::GuestAction::send_reply:
      outcome.send_reply = true;
      outcome.negotiated = event.header.message_type == static_cast<uint16_t>(wire::IcMessageType::negotiate);
      outcome.status = event.error == ic::IcError::none ? wire::HvStatus::ok : wire::HvStatus::fail;
      counters_.negotiations += outcome.negotiated ? 1 : 0;
      counters_.refused += event.error == ic::IcError::none ? 0 : 1;
      return outcome;
    case ic::GuestAction::handle_request:
      break;
  }
  serve(event.body, outcome);
  // complete() fails only for a buffer other than the request's: not here.
  outcome.send_reply = endpoint_.complete(packet, outcome.status) == ic::IcError::none;
  return outcome;
}

void KvpService::serve(std::span<std::byte> body, PacketOutcome& outcome) {
  const kvp::DecodeResult decoded = kvp::decode_request(body, endpoint_.versions()->service);
  const kvp::KvpRequest& request = decoded.request;
  outcome.operation = request.operation;
  outcome.pool = request.pool;
  if (decoded.error != kvp::KvpError::none) {
    outcome.kvp_error = decoded.error;
    outcome.status = kvp::status_for(decoded.error);
    ++counters_.refused;
    return;
  }
  ++counters_.requests[static_cast<std::size_t>(request.operation)];
  const bool ip_info = request.operation == wire::KvpOperation::get_ip_info ||
                       request.operation == wire::KvpOperation::set_ip_info;
  if (ip_info) {
    outcome.status = serve_ip_info(request, body, outcome);
  } else if (request.pool == wire::KvpPool::automatic) {
    outcome.status = serve_auto_pool(request, body, outcome);
  } else if (request.pool == wire::KvpPool::auto_internal) {
    outcome.status = wire::HvStatus::not_supported;
  } else {
    outcome.status = serve_store(request, body, outcome);
  }
  const bool failed = outcome.status != wire::HvStatus::ok &&
                      outcome.status != wire::HvStatus::no_more_items &&
                      outcome.status != wire::HvStatus::not_found;
  counters_.refused += failed ? 1 : 0;
}

wire::HvStatus KvpService::serve_store(const kvp::KvpRequest& request, std::span<std::byte> body,
                                       PacketOutcome& outcome) {
  switch (request.operation) {
    case wire::KvpOperation::set:
      outcome.store_status = store_.set(request.pool, request.key, request.value);
      return kvp::status_for(outcome.store_status);
    case wire::KvpOperation::del:
      outcome.store_status = store_.remove(request.pool, request.key);
      return kvp::status_for(outcome.store_status);
    case wire::KvpOperation::get: {
      const kvp::ValueResult found = store_.get(request.pool, request.key);
      outcome.store_status = found.status;
      if (found.status != kvp::StoreStatus::ok) {
        return kvp::status_for(found.status);
      }
      outcome.kvp_error = kvp::write_get_reply(body, found.value).error;
      return kvp::status_for(outcome.kvp_error);
    }
    case wire::KvpOperation::enumerate: {
      const kvp::ItemResult item = store_.enumerate(request.pool, request.index);
      outcome.store_status = item.status;
      if (item.status != kvp::StoreStatus::ok) {
        return kvp::status_for(item.status);
      }
      outcome.kvp_error = kvp::write_enumerate_reply(body, item.key, item.value).error;
      return kvp::status_for(outcome.kvp_error);
    }
    default:
      return wire::HvStatus::not_supported;
  }
}

wire::HvStatus KvpService::serve_auto_pool(const kvp::KvpRequest& request,
                                           std::span<std::byte> body, PacketOutcome& outcome) {
  switch (request.operation) {
    case wire::KvpOperation::enumerate: {
      const std::optional<AutoItem> item = auto_pool_.item(request.index);
      if (!item) {
        return wire::HvStatus::no_more_items;
      }
      outcome.kvp_error = kvp::write_enumerate_reply(body, item->key, item->value).error;
      return kvp::status_for(outcome.kvp_error);
    }
    case wire::KvpOperation::get: {
      const std::optional<std::string> value = auto_pool_.value(request.key);
      if (!value) {
        return wire::HvStatus::not_found;
      }
      outcome.kvp_error = kvp::write_get_reply(body, *value).error;
      return kvp::status_for(outcome.kvp_error);
    }
    default:
      return wire::HvStatus::not_supported;  // intrinsic keys are the guest's own
  }
}

wire::HvStatus KvpService::serve_ip_info(const kvp::KvpRequest& request, std::span<std::byte> body,
                                         PacketOutcome& outcome) {
  if (request.operation == wire::KvpOperation::set_ip_info) {
    return ip_config_.set(request.ip_info);
  }
  IpLookup lookup = ip_config_.get(request.ip_info.adapter_id);
  if (lookup.status != wire::HvStatus::ok) {
    return lookup.status;
  }
  lookup.info.adapter_id = request.ip_info.adapter_id;
  const kvp::ReplyResult written =
      kvp::write_ip_info_reply(body, endpoint_.versions()->service, lookup.info);
  outcome.kvp_error = written.error;
  return kvp::status_for(written.error);
}

}  // namespace uvmbus::kvpd
