// The `user` transport's frame validation and error names.
#include "uvmbus/channel/user_protocol.h"

namespace uvmbus::channel::user {

namespace {

struct FrameRule {
  std::size_t min_payload;
  std::size_t max_payload;
  std::size_t fds;
};

// What each frame type carries. Unknown types get {0, 0, 0}: every known
// type has at least one payload byte.
constexpr FrameRule rule_for(FrameType type) noexcept {
  switch (type) {
    case FrameType::hello: return {sizeof(HelloPayload), sizeof(HelloPayload), 0};
    case FrameType::welcome: return {sizeof(WelcomePayload), sizeof(WelcomePayload), 0};
    case FrameType::error: return {sizeof(ErrorPayload), sizeof(ErrorPayload), 0};
    case FrameType::control: return {1, wire::kMaxChannelMessageSize, 0};
    case FrameType::add_region: return {sizeof(AddRegionPayload), sizeof(AddRegionPayload), 1};
    case FrameType::attach_channel: return {sizeof(ChannelPayload), sizeof(ChannelPayload), 2};
    case FrameType::detach_channel: return {sizeof(ChannelPayload), sizeof(ChannelPayload), 0};
  }
  return {0, 0, 0};
}

bool name_character(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

}  // namespace

const char* to_string(ProtocolError error) noexcept {
  switch (error) {
    case ProtocolError::none: return "no error";
    case ProtocolError::bad_magic: return "bad magic (not a vmbus-user peer)";
    case ProtocolError::unsupported_version: return "unsupported protocol version";
    case ProtocolError::bad_name: return "invalid partition name";
    case ProtocolError::truncated_frame: return "truncated frame";
    case ProtocolError::oversized_frame: return "oversized frame";
    case ProtocolError::bad_length: return "frame length disagrees with the datagram";
    case ProtocolError::unknown_type: return "unknown frame type";
    case ProtocolError::unexpected_type: return "frame type not allowed here";
    case ProtocolError::wrong_fd_count: return "wrong number of file descriptors";
    case ProtocolError::bad_region: return "memory region refused (alignment, size, seals or mapping)";
    case ProtocolError::overlapping_region: return "memory region overlaps a registered one";
    case ProtocolError::too_many_regions: return "too many memory regions";
    case ProtocolError::memory_limit: return "memory regions exceed the host's limit";
    case ProtocolError::bad_doorbell: return "doorbell is not a non-blocking eventfd";
    case ProtocolError::bad_relid: return "channel id invalid, already attached or not attached";
    case ProtocolError::too_many_channels: return "too many channels attached";
    case ProtocolError::handshake_timeout: return "no hello within the handshake timeout";
    case ProtocolError::too_many_pending: return "too many unfinished handshakes";
    case ProtocolError::peer_closed: return "peer closed the connection";
    case ProtocolError::system: return "system call failed";
    case ProtocolError::oversized_control: return "control message over 240 bytes";
  }
  return "unknown error code";
}

Expected<Frame, ProtocolError> parse_frame(std::span<const std::byte> datagram,
                                           std::size_t fds_received) noexcept {
  if (datagram.size() < sizeof(FrameHeader)) {
    return Unexpected(ProtocolError::truncated_frame);
  }
  if (datagram.size() > kMaxFrameBytes) {
    return Unexpected(ProtocolError::oversized_frame);
  }
  const auto header = payload_as<FrameHeader>(datagram);
  const std::span<const std::byte> payload = datagram.subspan(sizeof(FrameHeader));
  if (header.length != payload.size()) {
    return Unexpected(ProtocolError::bad_length);
  }
  const auto type = static_cast<FrameType>(header.type);
  const FrameRule rule = rule_for(type);
  if (rule.min_payload == 0) {
    return Unexpected(ProtocolError::unknown_type);
  }
  if (header.fd_count != fds_received || fds_received != rule.fds) {
    return Unexpected(ProtocolError::wrong_fd_count);
  }
  if (payload.size() < rule.min_payload) {
    return Unexpected(ProtocolError::truncated_frame);
  }
  if (payload.size() > rule.max_payload) {
    return Unexpected(ProtocolError::oversized_frame);
  }
  return Frame{.type = type, .payload = payload};
}

bool valid_partition_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > kMaxNameBytes) {
    return false;
  }
  for (const char c : name) {
    if (!name_character(c)) {
      return false;
    }
  }
  return true;
}

Expected<Hello, ProtocolError> decode_hello(std::span<const std::byte> payload) noexcept {
  if (payload.size() != sizeof(HelloPayload)) {
    return Unexpected(ProtocolError::truncated_frame);
  }
  const auto hello = payload_as<HelloPayload>(payload);
  if (hello.magic != kMagic) {
    return Unexpected(ProtocolError::bad_magic);
  }
  if (hello.version_major != kVersionMajor) {
    return Unexpected(ProtocolError::unsupported_version);
  }
  if (hello.reserved != 0 || hello.name_length == 0 || hello.name_length > kMaxNameBytes) {
    return Unexpected(ProtocolError::bad_name);
  }
  // The name is read from the caller's buffer, not the local copy.
  const auto* name_bytes =
      reinterpret_cast<const char*>(payload.data() + offsetof(HelloPayload, name));
  const std::string_view name(name_bytes, hello.name_length);
  if (!valid_partition_name(name)) {
    return Unexpected(ProtocolError::bad_name);
  }
  for (std::size_t i = hello.name_length; i < kMaxNameBytes; ++i) {
    if (hello.name[i] != 0) {
      return Unexpected(ProtocolError::bad_name);
    }
  }
  return Hello{.version_minor = hello.version_minor, .vm_id = hello.vm_id, .name = name};
}

Expected<WelcomePayload, ProtocolError> decode_welcome(std::span<const std::byte> payload) noexcept {
  if (payload.size() != sizeof(WelcomePayload)) {
    return Unexpected(ProtocolError::truncated_frame);
  }
  const auto welcome = payload_as<WelcomePayload>(payload);
  if (welcome.magic != kMagic) {
    return Unexpected(ProtocolError::bad_magic);
  }
  if (welcome.version_major != kVersionMajor || welcome.version_minor > kVersionMinor) {
    return Unexpected(ProtocolError::unsupported_version);
  }
  return welcome;
}

}  // namespace uvmbus::channel::user
