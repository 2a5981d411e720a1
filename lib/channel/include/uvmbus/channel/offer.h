// Offer: a channel offer from the host, decoded from OfferChannel and checked
// field by field. The host is untrusted: decode_offer() checks what a single
// message can get wrong; VmbusClient adds the checks that need the other
// offers (duplicate ids, sub-channels without a primary).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "uvmbus/channel/expected.h"
#include "uvmbus/wire/channel_messages.h"
#include "uvmbus/wire/guid.h"

namespace uvmbus::channel {

// Channel ids are 1-based bit numbers in a 2048-bit event-flag page.
inline constexpr uint32_t kMaxRelid = 2047;

struct Offer {
  wire::Guid class_id{};       // if_type: the device class
  wire::Guid instance_id{};    // if_instance: shared by a primary and its sub-channels
  uint32_t relid = 0;
  uint16_t subchannel_index = 0;  // 0 = primary
  uint16_t flags = 0;             // chn_flags (wire::kVmbusChannel*)
  uint16_t mmio_megabytes = 0;
  uint32_t connection_id = 0;     // HvSignalEvent target; opaque
  std::optional<uint8_t> monitor_id;  // set when the host allocated a monitor bit
  bool dedicated_interrupt = false;
  std::array<uint8_t, wire::kOfferUserDefinedSize> user_defined{};

  bool is_primary() const noexcept { return subchannel_index == 0; }
};

enum class OfferError : uint8_t {
  relid_out_of_range,      // 0 or above kMaxRelid
  null_class,              // all-zero class GUID
  null_instance,           // all-zero instance GUID
  monitor_id_out_of_range, // monitor allocated with an id above 127
  confidential,            // asks for confidential (encrypted) ring or buffer memory,
                           // which a guest with plain shared memory cannot provide
  duplicate_relid,         // the relid is still in use by another offer
  duplicate_instance,      // a primary with this instance GUID exists
  duplicate_subchannel,    // this (instance, sub-channel index) exists
  orphan_subchannel,       // a sub-channel with no primary of the same GUIDs
};

inline constexpr std::size_t kOfferErrorCount =
    static_cast<std::size_t>(OfferError::orphan_subchannel) + 1;

const char* to_string(OfferError error) noexcept;

// Decodes and checks one OfferChannel as understood at protocol `version`:
// relid range, non-null GUIDs, monitor id, no confidential-memory flags;
// before Win7 offers carry no connection id (signals go to connection 2),
// before Win8 no sub-channel index.
Expected<Offer, OfferError> decode_offer(const wire::OfferChannel& message,
                                         wire::VmbusVersion version) noexcept;

}  // namespace uvmbus::channel
