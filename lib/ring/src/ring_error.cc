// Names of ring corruption causes, for logs, stats and test messages.
#include "uvmbus/ring/ring.h"

namespace uvmbus::ring {

const char* to_string(RingError error) noexcept {
  switch (error) {
    case RingError::none: return "none";
    case RingError::bad_memory: return "bad ring memory";
    case RingError::index_misaligned: return "peer index not 8-byte aligned";
    case RingError::index_out_of_range: return "peer index outside the data area";
    case RingError::index_out_of_sequence: return "peer index moved outside the range it may move in";
    case RingError::descriptor_truncated: return "published bytes shorter than a descriptor";
    case RingError::descriptor_offset: return "descriptor offset8 invalid";
    case RingError::descriptor_length: return "descriptor len8 exceeds published bytes";
    case RingError::packet_type: return "unknown packet type";
    case RingError::packet_flags: return "unknown packet flags";
  }
  return "unknown";
}

}  // namespace uvmbus::ring
