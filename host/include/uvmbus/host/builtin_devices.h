// The built-in devices: `echo` and `sink`, for tests, benchmarks and demos.
//
//   echo  returns every in-band packet: as the payload of a completion when
//         the guest asked for one, else as an in-band packet.
//   sink  consumes every packet; completes those that ask for it (empty
//         payload).
//
// Both answer two device-level requests, so guests can exercise
// multi-channel and GPA-direct paths:
//
//   Sub-channel request: an in-band packet, completion requested, whose
//   payload starts with SubchannelRequest {u32 magic = 0x43425553 ("SUBC"),
//   u32 count}. The completion carries a SubchannelRequest with the count
//   granted (at most the device's max_subchannels); sub-channels 1..granted
//   of the device are then offered on the control thread.
//
//   GPA-direct packet: the host reads the guest buffers it names (validated
//   against the registered memory) and completes it with a GpaDirectReply
//   {u32 ranges_read, u32 bytes_read, u64 checksum}: FNV-1a-64 over the bytes
//   in range order (offset basis 0xcbf29ce484222325, prime 0x100000001b3). A
//   packet with any bad range gets a reply with zero ranges and the basis as
//   checksum, and is counted as a bad_gpa_range drop.
#pragma once

#include <cstdint>
#include <memory>

#include "uvmbus/host/device.h"
#include "uvmbus/wire/guid.h"

namespace uvmbus::host {

inline constexpr uint32_t kSubchannelRequestMagic = 0x43425553;  // "SUBC"

struct SubchannelRequest {
  uint32_t magic = kSubchannelRequestMagic;
  uint32_t count = 0;
};
static_assert(sizeof(SubchannelRequest) == 8);

struct GpaDirectReply {
  uint32_t ranges_read = 0;
  uint32_t bytes_read = 0;
  uint64_t checksum = 0;
};
static_assert(sizeof(GpaDirectReply) == 16);

inline constexpr uint64_t kFnvOffsetBasis = 0xcbf29ce484222325ull;

// Class GUIDs of the built-in devices (not Hyper-V classes).
inline constexpr wire::Guid kEchoClassGuid = wire::guid_literal("5e1ec7ed-ec40-4000-8000-000000000001");
inline constexpr wire::Guid kSinkClassGuid = wire::guid_literal("5e1ec7ed-51a4-4000-8000-000000000002");

std::shared_ptr<Device> make_echo_device(const wire::Guid& instance_id, uint16_t max_subchannels = 8,
                                         const wire::Guid& class_id = kEchoClassGuid);
std::shared_ptr<Device> make_sink_device(const wire::Guid& instance_id, uint16_t max_subchannels = 8,
                                         const wire::Guid& class_id = kSinkClassGuid);

}  // namespace uvmbus::host
