// libFuzzer target for the `user` transport's frame validation, the code
// that sees every byte a guest (or host) sends: parse_frame() on arbitrary
// datagrams with an arbitrary descriptor count, then the payload decoders.
// Checks that a frame is accepted only when it is self-consistent.
//
// Input: byte 0 = descriptors received (0..3), the rest = the datagram.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "uvmbus/channel/user_protocol.h"

namespace {

namespace user = uvmbus::channel::user;

void require(bool condition) {
  if (!condition) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::size_t fds = data[0] % 4;
  const auto datagram = std::as_bytes(std::span(data + 1, size - 1));
  const uvmbus::channel::Expected<user::Frame, user::ProtocolError> frame =
      user::parse_frame(datagram, fds);
  if (!frame) {
    require(frame.error() != user::ProtocolError::none);
    return 0;
  }
  const auto header = user::payload_as<user::FrameHeader>(datagram);
  require(datagram.size() <= user::kMaxFrameBytes);
  require(frame->payload.size() == header.length);
  require(frame->payload.data() == datagram.data() + sizeof(user::FrameHeader));
  require(header.fd_count == fds);
  switch (frame->type) {
    case user::FrameType::hello: {
      const auto hello = user::decode_hello(frame->payload);
      if (hello) {
        require(user::valid_partition_name(hello->name));
        require(hello->name.data() >= reinterpret_cast<const char*>(frame->payload.data()));
        require(hello->name.data() + hello->name.size() <=
                reinterpret_cast<const char*>(frame->payload.data() + frame->payload.size()));
      }
      break;
    }
    case user::FrameType::welcome: {
      const auto welcome = user::decode_welcome(frame->payload);
      require(!welcome || welcome->magic == user::kMagic);
      break;
    }
    case user::FrameType::control:
      require(!frame->payload.empty() && frame->payload.size() <= uvmbus::wire::kMaxChannelMessageSize);
      require(fds == 0);
      break;
    case user::FrameType::add_region:
      require(fds == 1);
      break;
    case user::FrameType::attach_channel:
      require(fds == 2);
      break;
    case user::FrameType::error:
    case user::FrameType::detach_channel:
      require(fds == 0);
      break;
  }
  return 0;
}
