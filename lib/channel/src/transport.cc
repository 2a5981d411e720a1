// Names of transport statuses, for logs and test messages.
#include "uvmbus/channel/transport.h"

namespace uvmbus::channel {

const char* to_string(TransportStatus status) noexcept {
  switch (status) {
    case TransportStatus::ok: return "ok";
    case TransportStatus::empty: return "nothing queued";
    case TransportStatus::oversized: return "oversized message dropped";
    case TransportStatus::closed: return "peer gone";
    case TransportStatus::busy: return "peer busy";
    case TransportStatus::invalid: return "invalid message";
    case TransportStatus::failed: return "system call failed";
  }
  return "unknown";
}

}  // namespace uvmbus::channel
