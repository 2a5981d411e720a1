// Offer decoding and the single-message checks.
#include "uvmbus/channel/offer.h"

#include <cstring>

namespace uvmbus::channel {

namespace {

bool is_null(const wire::Guid& guid) noexcept { return guid == wire::Guid{}; }

bool at_least(wire::VmbusVersion version, wire::VmbusVersion minimum) noexcept {
  return static_cast<uint32_t>(version) >= static_cast<uint32_t>(minimum);
}

}  // namespace

const char* to_string(OfferError error) noexcept {
  switch (error) {
    case OfferError::relid_out_of_range: return "relid 0 or above 2047";
    case OfferError::null_class: return "null class GUID";
    case OfferError::null_instance: return "null instance GUID";
    case OfferError::monitor_id_out_of_range: return "monitor id above 127";
    case OfferError::confidential: return "confidential memory requested";
    case OfferError::duplicate_relid: return "relid already in use";
    case OfferError::duplicate_instance: return "instance GUID already offered";
    case OfferError::duplicate_subchannel: return "sub-channel index already offered";
    case OfferError::orphan_subchannel: return "sub-channel without a primary";
  }
  return "unknown";
}

Expected<Offer, OfferError> decode_offer(const wire::OfferChannel& message,
                                         wire::VmbusVersion version) noexcept {
  // `message` is packed: copy each field out before using it.
  const uint32_t relid = message.child_relid;
  if (relid == 0 || relid > kMaxRelid) {
    return Unexpected(OfferError::relid_out_of_range);
  }
  Offer offer;
  offer.class_id = message.if_type;
  offer.instance_id = message.if_instance;
  if (is_null(offer.class_id)) {
    return Unexpected(OfferError::null_class);
  }
  if (is_null(offer.instance_id)) {
    return Unexpected(OfferError::null_instance);
  }
  if ((message.monitor_allocated & wire::kOfferMonitorAllocated) != 0) {
    const uint8_t monitor_id = message.monitorid;
    if (monitor_id > wire::kMaxMonitorId) {
      return Unexpected(OfferError::monitor_id_out_of_range);
    }
    offer.monitor_id = monitor_id;
  }
  offer.relid = relid;
  offer.flags = message.chn_flags;
  if ((offer.flags & (wire::kVmbusChannelConfidentialRingBuffer |
                      wire::kVmbusChannelConfidentialExternalMemory)) != 0) {
    return Unexpected(OfferError::confidential);
  }
  offer.mmio_megabytes = message.mmio_megabytes;
  std::memcpy(offer.user_defined.data(), message.user_def, offer.user_defined.size());
  if (at_least(version, wire::VmbusVersion::win7)) {
    offer.connection_id = message.connection_id;
    offer.dedicated_interrupt = (message.is_dedicated_interrupt & wire::kOfferDedicatedInterrupt) != 0;
  } else {
    offer.connection_id = wire::kVmbusEventConnectionId;
  }
  if (at_least(version, wire::VmbusVersion::win8)) {
    offer.subchannel_index = message.sub_channel_index;
  }
  return offer;
}

}  // namespace uvmbus::channel
