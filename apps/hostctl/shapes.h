// The results of hostd's control commands, as C++ values with their JSON
// form: hostd fills them from the server's snapshot, uvmbus-host reads them
// back to print tables, and --json prints them as they came. Field names
// here are the protocol (docs/hostd.md lists them).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace uvmbus::hostctl {

struct ChannelInfo {
  uint32_t relid = 0;
  std::string device;    // the device's type name ("echo", "sink")
  std::string instance;  // instance GUID
  uint16_t subchannel = 0;
  std::string state;     // offered, open, rescinded
  bool ring_corrupt = false;
  uint64_t packets_in = 0;
  uint64_t bytes_in = 0;
  uint64_t packets_out = 0;
  uint64_t bytes_out = 0;
  uint64_t signals_sent = 0;
  uint64_t signals_avoided = 0;
  uint64_t ring_full = 0;
  std::map<std::string, uint64_t> drops;  // by cause; causes with 0 left out
};

struct PartitionInfo {
  uint32_t id = 0;
  std::string name;
  std::string vm_id;
  int64_t pid = 0;  // of the guest process at connect (SO_PEERCRED)
  int64_t uid = 0;
  std::string state;    // awaiting_contact, connected, offers_sent
  std::string version;  // negotiated VMBus version "major.minor", "" before
  uint64_t messages = 0;
  uint64_t gpadls = 0;
  uint64_t gpadl_pages = 0;
  uint32_t channels_open = 0;
  std::map<std::string, uint64_t> faults;  // by cause; causes with 0 left out
  std::string last_fault;                  // "" if none
  std::vector<ChannelInfo> channels;
};

struct DeviceInfo {
  std::string type;
  std::string class_id;
  std::string instance;
  uint16_t max_subchannels = 0;
};

// Everything `ping` answers.
struct PingInfo {
  std::string version;  // uvmbus's
  uint32_t protocol = 0;
  int64_t pid = 0;
  std::string guest_socket;
};

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ChannelInfo, relid, device, instance, subchannel, state, ring_corrupt,
                                   packets_in, bytes_in, packets_out, bytes_out, signals_sent,
                                   signals_avoided, ring_full, drops)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PartitionInfo, id, name, vm_id, pid, uid, state, version, messages,
                                   gpadls, gpadl_pages, channels_open, faults, last_fault, channels)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(DeviceInfo, type, class_id, instance, max_subchannels)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PingInfo, version, protocol, pid, guest_socket)

}  // namespace uvmbus::hostctl
