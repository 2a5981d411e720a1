// VmbusClient: the control-protocol state machine (requests, reply matching,
// offer bookkeeping, rescind and EOF handling).
#include "uvmbus/channel/vmbus_client.h"

#include <algorithm>
#include <cstring>
#include <variant>

#include "uvmbus/channel/control_message.h"
#include "uvmbus/channel/guest_memory_region.h"
#include "uvmbus/wire/bytes.h"

namespace uvmbus::channel {

namespace {

bool at_least(wire::VmbusVersion version, wire::VmbusVersion minimum) noexcept {
  return static_cast<uint32_t>(version) >= static_cast<uint32_t>(minimum);
}

template <typename Message>
std::span<const std::byte> bytes_of(const Message& message) noexcept {
  return std::as_bytes(std::span(&message, 1));
}

}  // namespace

VmbusClient::VmbusClient(ControlSender& sender, ClientOptions options)
    : sender_(sender), options_(options), offers_(kMaxRelid + 1), events_(kMaxQueuedEvents) {}

// ---------------------------------------------------------------------------
// Sending

ControlError VmbusClient::send_bytes(std::span<const std::byte> bytes) noexcept {
  switch (sender_.send_control(bytes)) {
    case TransportStatus::ok:
      ++stats_.messages_sent;
      return ControlError::none;
    case TransportStatus::closed:
      on_host_gone();
      return ControlError::host_gone;
    default:
      return ControlError::transport_failed;
  }
}

template <typename Message>
ControlError VmbusClient::send(const Message& message) noexcept {
  return send_bytes(bytes_of(message));
}

ControlError VmbusClient::send_initiate_contact() noexcept {
  const wire::VmbusVersion version = options_.versions[version_index_];
  auto message = wire::make_channel_message<wire::InitiateContact>();
  message.vmbus_version_requested = version;
  message.target_vcpu = options_.target_vcpu;
  if (at_least(version, wire::VmbusVersion::win10_v5)) {
    message.target.msg_sint = wire::kVmbusMessageSint;
  }
  ++stats_.versions_tried;
  return send(message);
}

// Header with the first PFNs, then bodies; PFNs are generated from the run,
// so nothing is allocated.
ControlError VmbusClient::send_gpadl(uint32_t relid, uint32_t handle, uint64_t first_pfn,
                                     uint32_t page_count) noexcept {
  std::array<std::byte, wire::kMaxChannelMessageSize> buffer{};
  auto header = wire::make_channel_message<wire::GpadlHeader>();
  header.child_relid = relid;
  header.gpadl = handle;
  header.range_buflen = static_cast<uint16_t>(sizeof(wire::GpaRange) + page_count * sizeof(uint64_t));
  header.rangecount = 1;
  const wire::GpaRange range{.byte_count = page_count * wire::kHvPageSize, .byte_offset = 0};
  wire::store(buffer, 0, header);
  wire::store(buffer, sizeof(header), range);
  std::size_t at = sizeof(header) + sizeof(range);
  const uint32_t in_header = std::min(page_count, wire::kGpadlHeaderMaxPfns);
  for (uint32_t i = 0; i < in_header; ++i, at += sizeof(uint64_t)) {
    wire::store(buffer, at, first_pfn + i);
  }
  if (const ControlError error = send_bytes(std::span(buffer).first(at)); error != ControlError::none) {
    return error;
  }
  auto body = wire::make_channel_message<wire::GpadlBody>();
  body.gpadl = handle;
  for (uint32_t sent = in_header; sent < page_count;) {
    ++body.msgnumber;
    wire::store(buffer, 0, body);
    at = sizeof(body);
    const uint32_t in_body = std::min(page_count - sent, wire::kGpadlBodyMaxPfns);
    for (uint32_t i = 0; i < in_body; ++i, at += sizeof(uint64_t)) {
      wire::store(buffer, at, first_pfn + sent + i);
    }
    if (const ControlError error = send_bytes(std::span(buffer).first(at)); error != ControlError::none) {
      return error;
    }
    sent += in_body;
  }
  return ControlError::none;
}

// ---------------------------------------------------------------------------
// Requests

ControlError VmbusClient::start_connect() noexcept {
  if (state_ != ConnectionState::idle && state_ != ConnectionState::failed) {
    return ControlError::invalid_state;
  }
  if (options_.versions.empty()) {
    return ControlError::invalid_argument;
  }
  version_index_ = 0;
  failure_ = ControlError::none;
  state_ = ConnectionState::contacting;
  if (const ControlError error = send_initiate_contact(); error != ControlError::none) {
    if (state_ == ConnectionState::contacting) {
      state_ = ConnectionState::failed;
      failure_ = error;
    }
    return error;
  }
  return ControlError::none;
}

ControlError VmbusClient::request_offers() noexcept {
  if (state_ != ConnectionState::connected || offers_requested_) {
    return ControlError::invalid_state;
  }
  if (const ControlError error = send(wire::make_channel_message<wire::RequestOffers>());
      error != ControlError::none) {
    return error;
  }
  offers_requested_ = true;
  return ControlError::none;
}

Expected<uint32_t, ControlError> VmbusClient::start_create_gpadl(uint32_t relid, uint64_t first_pfn,
                                                                 uint32_t page_count) {
  if (state_ != ConnectionState::connected) {
    return Unexpected(ControlError::invalid_state);
  }
  const OfferRecord* record = find_offer(relid);
  if (record == nullptr) {
    return Unexpected(ControlError::invalid_argument);
  }
  if (record->rescinded) {
    return Unexpected(ControlError::rescinded);
  }
  constexpr uint64_t kPfnLimit = gpa_to_pfn(kGpaLimit);
  if (page_count == 0 || page_count > kMaxGpadlPages || first_pfn >= kPfnLimit ||
      page_count > kPfnLimit - first_pfn) {
    return Unexpected(ControlError::invalid_argument);
  }
  const uint32_t handle = allocate_gpadl_handle();
  GpadlRecord& gpadl = gpadls_[handle];
  gpadl.relid = relid;
  gpadl.status.state = GpadlState::creating;
  if (const ControlError error = send_gpadl(relid, handle, first_pfn, page_count);
      error != ControlError::none) {
    // Part of it may have gone out; the handle is never used again.
    gpadls_.erase(handle);
    return Unexpected(error);
  }
  return handle;
}

uint32_t VmbusClient::allocate_gpadl_handle() noexcept {
  // Handles only grow; after 2^32 of them the counter skips 0 and live ones.
  while (next_gpadl_handle_ == 0 || gpadls_.contains(next_gpadl_handle_)) {
    ++next_gpadl_handle_;
  }
  return next_gpadl_handle_++;
}

ControlError VmbusClient::start_teardown_gpadl(uint32_t handle) noexcept {
  const auto found = gpadls_.find(handle);
  if (found == gpadls_.end()) {
    return ControlError::invalid_argument;
  }
  GpadlRecord& gpadl = found->second;
  if (gpadl.status.state == GpadlState::failed) {
    gpadls_.erase(found);
    return ControlError::none;
  }
  if (gpadl.status.state != GpadlState::created) {
    return ControlError::invalid_state;
  }
  const OfferRecord* record = find_offer(gpadl.relid);
  if (state_ != ConnectionState::connected || record == nullptr || record->rescinded) {
    // Nobody left to answer: the host released it with the channel or itself.
    gpadls_.erase(found);
    return ControlError::none;
  }
  auto message = wire::make_channel_message<wire::GpadlTeardown>();
  message.child_relid = gpadl.relid;
  message.gpadl = handle;
  if (const ControlError error = send(message); error != ControlError::none) {
    return error;
  }
  gpadl.status.state = GpadlState::tearing_down;
  return ControlError::none;
}

void VmbusClient::forget_gpadl(uint32_t handle) noexcept {
  const auto found = gpadls_.find(handle);
  if (found != gpadls_.end() && found->second.status.state == GpadlState::failed) {
    gpadls_.erase(found);
  }
}

ControlError VmbusClient::start_open(const OpenRequest& request) noexcept {
  if (state_ != ConnectionState::connected) {
    return ControlError::invalid_state;
  }
  OfferRecord* record = find_offer(request.relid);
  if (record == nullptr) {
    return ControlError::invalid_argument;
  }
  if (record->rescinded) {
    return ControlError::rescinded;
  }
  if (record->open.state == OpenState::opening || record->open.state == OpenState::open) {
    return ControlError::invalid_state;
  }
  const auto gpadl = gpadls_.find(request.ring_gpadl);
  if (gpadl == gpadls_.end() || gpadl->second.relid != request.relid ||
      gpadl->second.status.state != GpadlState::created || request.downstream_page_offset == 0) {
    return ControlError::invalid_argument;
  }
  auto message = wire::make_channel_message<wire::OpenChannel>();
  message.child_relid = request.relid;
  message.openid = request.relid;
  message.ringbuffer_gpadlhandle = request.ring_gpadl;
  message.target_vp = request.target_vp;
  message.downstream_ringbuffer_pageoffset = request.downstream_page_offset;
  std::memcpy(message.userdata, request.user_data.data(), sizeof(message.userdata));
  if (const ControlError error = send(message); error != ControlError::none) {
    return error;
  }
  record->open = OpenStatus{.state = OpenState::opening};
  record->modify = ModifyStatus{};
  return ControlError::none;
}

ControlError VmbusClient::start_modify(uint32_t relid, uint32_t target_vp) noexcept {
  if (state_ != ConnectionState::connected ||
      !at_least(options_.versions[version_index_], wire::VmbusVersion::win10_v4_1)) {
    return ControlError::invalid_state;
  }
  OfferRecord* record = find_offer(relid);
  if (record == nullptr) {
    return ControlError::invalid_argument;
  }
  if (record->rescinded) {
    return ControlError::rescinded;
  }
  if (record->open.state != OpenState::open || record->modify.state == ModifyState::pending) {
    return ControlError::invalid_state;
  }
  auto message = wire::make_channel_message<wire::ModifyChannel>();
  message.child_relid = relid;
  message.target_vp = target_vp;
  if (const ControlError error = send(message); error != ControlError::none) {
    return error;
  }
  const bool acknowledged =
      at_least(options_.versions[version_index_], wire::VmbusVersion::win10_v5_3);
  record->modify = ModifyStatus{
      .state = acknowledged ? ModifyState::pending : ModifyState::applied,
      .target_vp = target_vp};
  return ControlError::none;
}

ControlError VmbusClient::close_channel(uint32_t relid) noexcept {
  OfferRecord* record = find_offer(relid);
  if (record == nullptr) {
    return ControlError::invalid_argument;
  }
  const bool was_open = record->open.state == OpenState::open;
  record->open = OpenStatus{};
  record->modify = ModifyStatus{};
  if (!was_open || record->rescinded || state_ != ConnectionState::connected) {
    return ControlError::none;
  }
  auto message = wire::make_channel_message<wire::CloseChannel>();
  message.child_relid = relid;
  return send(message);
}

ControlError VmbusClient::release_relid(uint32_t relid) noexcept {
  const OfferRecord* record = find_offer(relid);
  if (record == nullptr) {
    return ControlError::invalid_argument;
  }
  if (!record->rescinded) {
    return ControlError::invalid_state;
  }
  offers_[relid].reset();
  if (state_ != ConnectionState::connected) {
    return ControlError::none;
  }
  auto message = wire::make_channel_message<wire::RelidReleased>();
  message.child_relid = relid;
  return send(message);
}

ControlError VmbusClient::start_unload() noexcept {
  if (state_ != ConnectionState::connected) {
    return ControlError::invalid_state;
  }
  if (const ControlError error = send(wire::make_channel_message<wire::Unload>());
      error != ControlError::none) {
    return error;
  }
  state_ = ConnectionState::unloading;
  // Hosts before Win7 send no UnloadResponse.
  if (!at_least(options_.versions[version_index_], wire::VmbusVersion::win7)) {
    state_ = ConnectionState::unloaded;
    fail_pending(ControlError::host_gone);
  }
  return ControlError::none;
}

// ---------------------------------------------------------------------------
// State

std::optional<wire::VmbusVersion> VmbusClient::version() const noexcept {
  switch (state_) {
    case ConnectionState::connected:
    case ConnectionState::unloading:
    case ConnectionState::unloaded:
      return options_.versions[version_index_];
    default:
      return std::nullopt;
  }
}

VmbusClient::OfferRecord* VmbusClient::find_offer(uint32_t relid) noexcept {
  return relid < offers_.size() && offers_[relid] ? &*offers_[relid] : nullptr;
}

const VmbusClient::OfferRecord* VmbusClient::find_offer(uint32_t relid) const noexcept {
  return relid < offers_.size() && offers_[relid] ? &*offers_[relid] : nullptr;
}

const Offer* VmbusClient::offer(uint32_t relid) const noexcept {
  const OfferRecord* record = find_offer(relid);
  return record != nullptr ? &record->offer : nullptr;
}

bool VmbusClient::rescinded(uint32_t relid) const noexcept {
  const OfferRecord* record = find_offer(relid);
  return record != nullptr && record->rescinded;
}

std::vector<Offer> VmbusClient::offers() const {
  std::vector<Offer> live;
  for (const std::optional<OfferRecord>& record : offers_) {
    if (record && !record->rescinded) {
      live.push_back(record->offer);
    }
  }
  return live;
}

OpenStatus VmbusClient::open_status(uint32_t relid) const noexcept {
  const OfferRecord* record = find_offer(relid);
  return record != nullptr ? record->open : OpenStatus{};
}

ModifyStatus VmbusClient::modify_status(uint32_t relid) const noexcept {
  const OfferRecord* record = find_offer(relid);
  return record != nullptr ? record->modify : ModifyStatus{};
}

GpadlStatus VmbusClient::gpadl_status(uint32_t handle) const noexcept {
  const auto found = gpadls_.find(handle);
  return found != gpadls_.end() ? found->second.status : GpadlStatus{};
}

std::optional<ClientEvent> VmbusClient::next_event() noexcept {
  if (event_count_ == 0) {
    return std::nullopt;
  }
  const ClientEvent event = events_[first_event_];
  first_event_ = (first_event_ + 1) % events_.size();
  --event_count_;
  return event;
}

void VmbusClient::push_event(ClientEvent event) noexcept {
  if (event_count_ == events_.size()) {
    ++stats_.events_dropped;
    return;
  }
  events_[(first_event_ + event_count_) % events_.size()] = event;
  ++event_count_;
}

// ---------------------------------------------------------------------------
// Input from the host

ControlError VmbusClient::reject(ControlError error) noexcept {
  ++stats_.messages_rejected;
  ++stats_.rejected_by_cause[static_cast<std::size_t>(error)];
  return error;
}

void VmbusClient::on_oversized_message() noexcept { reject(ControlError::message_oversized); }

ControlError VmbusClient::on_message(std::span<const std::byte> bytes) noexcept {
  Expected<HostMessage, ControlError> message = parse_host_message(bytes);
  if (!message) {
    return reject(message.error());
  }
  const ControlError error =
      std::visit([this](const auto& parsed) { return handle(parsed); }, *message);
  if (error != ControlError::none) {
    return reject(error);
  }
  ++stats_.messages_received;
  return ControlError::none;
}

void VmbusClient::on_host_gone() noexcept {
  if (state_ == ConnectionState::host_gone) {
    return;
  }
  state_ = ConnectionState::host_gone;
  failure_ = ControlError::host_gone;
  fail_pending(ControlError::host_gone);
}

// Fails every outstanding request: nobody will answer them.
void VmbusClient::fail_pending(ControlError error) noexcept {
  for (auto it = gpadls_.begin(); it != gpadls_.end();) {
    GpadlStatus& status = it->second.status;
    if (status.state == GpadlState::tearing_down) {
      it = gpadls_.erase(it);
      continue;
    }
    if (status.state == GpadlState::creating) {
      status = GpadlStatus{.state = GpadlState::failed, .error = error};
    }
    ++it;
  }
  for (std::optional<OfferRecord>& record : offers_) {
    if (record) {
      fail_pending(*record, error);
    }
  }
}

void VmbusClient::fail_pending(OfferRecord& record, ControlError error) noexcept {
  if (record.open.state == OpenState::opening) {
    record.open = OpenStatus{.state = OpenState::failed, .error = error};
  }
  if (record.modify.state == ModifyState::pending) {
    record.modify.state = ModifyState::failed;
    record.modify.error = error;
  }
}

// Channel messages are meaningful only on an established connection.
bool VmbusClient::accepting_channel_messages() const noexcept {
  return state_ == ConnectionState::connected || state_ == ConnectionState::unloading;
}

ControlError VmbusClient::handle(const wire::VersionResponse& message) noexcept {
  if (state_ != ConnectionState::contacting) {
    return ControlError::unexpected_message;
  }
  if (message.version_supported == 0) {
    ++version_index_;
    if (version_index_ == options_.versions.size()) {
      version_index_ = 0;
      state_ = ConnectionState::failed;
      failure_ = ControlError::no_common_version;
      return ControlError::none;
    }
    const ControlError error = send_initiate_contact();
    if (error != ControlError::none && state_ == ConnectionState::contacting) {
      state_ = ConnectionState::failed;
      failure_ = error;
    }
    return ControlError::none;  // the response itself was fine
  }
  if (message.connection_state != wire::ConnectionState::successful) {
    state_ = ConnectionState::failed;
    failure_ = ControlError::host_refused;
    return ControlError::none;
  }
  state_ = ConnectionState::connected;
  message_connection_id_ =
      at_least(options_.versions[version_index_], wire::VmbusVersion::win10_v5)
          ? message.msg_conn_id
          : wire::kVmbusMessageConnectionId;
  return ControlError::none;
}

std::optional<OfferError> VmbusClient::check_against_others(const Offer& offer) const noexcept {
  if (find_offer(offer.relid) != nullptr) {
    return OfferError::duplicate_relid;
  }
  bool primary_found = false;
  for (const std::optional<OfferRecord>& record : offers_) {
    if (!record || record->rescinded || record->offer.instance_id != offer.instance_id) {
      continue;
    }
    if (record->offer.subchannel_index == offer.subchannel_index) {
      return offer.is_primary() ? OfferError::duplicate_instance : OfferError::duplicate_subchannel;
    }
    if (record->offer.is_primary() && record->offer.class_id == offer.class_id) {
      primary_found = true;
    }
  }
  if (!offer.is_primary() && !primary_found) {
    return OfferError::orphan_subchannel;
  }
  return std::nullopt;
}

ControlError VmbusClient::handle(const wire::OfferChannel& message) noexcept {
  if (state_ != ConnectionState::connected || !offers_requested_) {
    return ControlError::unexpected_message;
  }
  const Expected<Offer, OfferError> offer =
      decode_offer(message, options_.versions[version_index_]);
  const std::optional<OfferError> error =
      offer ? check_against_others(*offer) : std::optional(offer.error());
  if (error) {
    ++stats_.offers_rejected_by_cause[static_cast<std::size_t>(*error)];
    return ControlError::offer_rejected;
  }
  offers_[offer->relid] = OfferRecord{.offer = *offer, .rescinded = false, .open = {}, .modify = {}};
  ++stats_.offers_accepted;
  push_event({ClientEventType::offer, offer->relid});
  return ControlError::none;
}

ControlError VmbusClient::handle(const wire::RescindChannelOffer& message) noexcept {
  if (!accepting_channel_messages()) {
    return ControlError::unexpected_message;
  }
  OfferRecord* record = find_offer(message.child_relid);
  if (record == nullptr) {
    return ControlError::unknown_relid;
  }
  if (record->rescinded) {
    return ControlError::unexpected_message;
  }
  record->rescinded = true;
  fail_pending(*record, ControlError::rescinded);
  for (auto it = gpadls_.begin(); it != gpadls_.end();) {
    GpadlRecord& gpadl = it->second;
    if (gpadl.relid == message.child_relid && gpadl.status.state == GpadlState::tearing_down) {
      it = gpadls_.erase(it);
      continue;
    }
    if (gpadl.relid == message.child_relid && gpadl.status.state == GpadlState::creating) {
      gpadl.status = GpadlStatus{.state = GpadlState::failed, .error = ControlError::rescinded};
    }
    ++it;
  }
  push_event({ClientEventType::rescind, message.child_relid});
  return ControlError::none;
}

ControlError VmbusClient::handle(const wire::AllOffersDelivered&) noexcept {
  if (state_ != ConnectionState::connected || !offers_requested_ || offers_delivered_) {
    return ControlError::unexpected_message;
  }
  offers_delivered_ = true;
  push_event({ClientEventType::all_offers_delivered});
  return ControlError::none;
}

ControlError VmbusClient::handle(const wire::GpadlCreated& message) noexcept {
  if (!accepting_channel_messages()) {
    return ControlError::unexpected_message;
  }
  const auto found = gpadls_.find(message.gpadl);
  if (found == gpadls_.end() || found->second.status.state != GpadlState::creating) {
    return ControlError::unknown_gpadl;
  }
  if (found->second.relid != message.child_relid) {
    return ControlError::mismatched_reply;
  }
  found->second.status = message.creation_status == 0
                             ? GpadlStatus{.state = GpadlState::created}
                             : GpadlStatus{.state = GpadlState::failed,
                                           .error = ControlError::host_refused,
                                           .host_status = message.creation_status};
  return ControlError::none;
}

ControlError VmbusClient::handle(const wire::GpadlTorndown& message) noexcept {
  if (!accepting_channel_messages()) {
    return ControlError::unexpected_message;
  }
  const auto found = gpadls_.find(message.gpadl);
  if (found == gpadls_.end() || found->second.status.state != GpadlState::tearing_down) {
    return ControlError::unknown_gpadl;
  }
  gpadls_.erase(found);
  return ControlError::none;
}

ControlError VmbusClient::handle(const wire::OpenChannelResult& message) noexcept {
  if (!accepting_channel_messages()) {
    return ControlError::unexpected_message;
  }
  OfferRecord* record = find_offer(message.child_relid);
  if (record == nullptr) {
    return ControlError::unknown_relid;
  }
  if (record->open.state != OpenState::opening) {
    return ControlError::unexpected_message;
  }
  if (message.openid != message.child_relid) {
    return ControlError::mismatched_reply;
  }
  record->open = message.status == 0 ? OpenStatus{.state = OpenState::open}
                                     : OpenStatus{.state = OpenState::failed,
                                                  .error = ControlError::host_refused,
                                                  .host_status = message.status};
  return ControlError::none;
}

ControlError VmbusClient::handle(const wire::ModifyChannelResponse& message) noexcept {
  if (!accepting_channel_messages()) {
    return ControlError::unexpected_message;
  }
  OfferRecord* record = find_offer(message.child_relid);
  if (record == nullptr) {
    return ControlError::unknown_relid;
  }
  if (record->modify.state != ModifyState::pending) {
    return ControlError::unexpected_message;
  }
  record->modify.state = message.status == 0 ? ModifyState::applied : ModifyState::failed;
  if (message.status != 0) {
    record->modify.error = ControlError::host_refused;
    record->modify.host_status = message.status;
  }
  return ControlError::none;
}

ControlError VmbusClient::handle(const wire::UnloadResponse&) noexcept {
  if (state_ != ConnectionState::unloading) {
    return ControlError::unexpected_message;
  }
  state_ = ConnectionState::unloaded;
  fail_pending(ControlError::host_gone);
  return ControlError::none;
}

}  // namespace uvmbus::channel
