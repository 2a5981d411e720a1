// Names of channel and partition states, as admin tools print them.
#include "uvmbus/host/snapshot.h"

namespace uvmbus::host {

const char* to_string(ChannelState state) noexcept {
  switch (state) {
    case ChannelState::offered: return "offered";
    case ChannelState::open: return "open";
    case ChannelState::rescinded: return "rescinded";
  }
  return "unknown";
}

const char* to_string(PartitionState state) noexcept {
  switch (state) {
    case PartitionState::awaiting_contact: return "awaiting_contact";
    case PartitionState::connected: return "connected";
    case PartitionState::offers_sent: return "offers_sent";
    case PartitionState::gone: return "gone";
  }
  return "unknown";
}

}  // namespace uvmbus::host
