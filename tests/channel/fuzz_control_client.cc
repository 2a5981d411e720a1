// libFuzzer target for the guest's control-message handling: a VmbusClient
// fed with arbitrary host messages, interleaved with guest requests, from
// every state. Checks that nothing crashes and that every message is either
// used or rejected with exactly one counted cause.
//
// Input: records of [op][length][bytes...]. Even ops feed a host message:
// its type is op / 2 % 32 (so every known and some unknown types come up),
// and `length` bytes follow the 8-byte header (up to 263 in all: oversized
// messages too). Odd ops make a guest request chosen by op / 2.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <span>
#include <vector>

#include "control_test_support.h"
#include "uvmbus/channel/vmbus_client.h"

namespace {

using uvmbus::channel::ControlError;
using uvmbus::channel::VmbusClient;

void require(bool condition) {
  if (!condition) {
    std::abort();
  }
}

void guest_request(VmbusClient& client, uint8_t choice, uint8_t argument) {
  const uint32_t relid = argument % 16;
  switch (choice % 10) {
    case 0: (void)client.start_connect(); break;
    case 1: (void)client.request_offers(); break;
    case 2: (void)client.start_create_gpadl(relid, 0x100000 + argument, 1 + argument % 60); break;
    case 3: (void)client.start_teardown_gpadl(uvmbus::channel::kFirstGpadlHandle + argument % 8); break;
    case 4:
      (void)client.start_open({.relid = relid,
                               .ring_gpadl = uvmbus::channel::kFirstGpadlHandle + argument % 8,
                               .downstream_page_offset = 1u + argument % 4u});
      break;
    case 5: (void)client.close_channel(relid); break;
    case 6: (void)client.release_relid(relid); break;
    case 7: (void)client.start_unload(); break;
    case 8: client.on_host_gone(); break;
    default: client.forget_gpadl(uvmbus::channel::kFirstGpadlHandle + argument % 8); break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  uvmbus::channel::test::RecordingSender sender;
  VmbusClient client(sender);
  // Start connected with offers requested half of the time, so the deeper
  // states are reached without having to guess a VersionResponse first.
  std::size_t at = 0;
  if (size > 0 && (data[at++] & 1) != 0) {
    uvmbus::channel::test::connect_client(client);
  }
  while (at + 2 <= size) {
    const uint8_t op = data[at];
    const uint8_t length = data[at + 1];
    at += 2;
    if ((op & 1) != 0) {
      guest_request(client, op >> 1, length);
      continue;
    }
    std::vector<std::byte> message(8 + std::size_t{length});
    const uint32_t type = (op >> 1) % 32;
    std::memcpy(message.data(), &type, sizeof(type));
    const std::size_t available = std::min<std::size_t>(length, size - at);
    std::memcpy(message.data() + 8, data + at, available);
    at += available;
    const uvmbus::channel::ClientStats before = client.stats();
    const ControlError error = client.on_message(message);
    const uvmbus::channel::ClientStats& after = client.stats();
    // Used, or rejected with its cause counted: exactly one of the two.
    if (error == ControlError::none) {
      require(after.messages_received == before.messages_received + 1 &&
              after.messages_rejected == before.messages_rejected);
    } else {
      const auto cause = static_cast<std::size_t>(error);
      require(after.messages_rejected == before.messages_rejected + 1 &&
              after.messages_received == before.messages_received &&
              after.rejected_by_cause[cause] == before.rejected_by_cause[cause] + 1);
    }
    require(message.size() <= 240 || error == ControlError::message_oversized);
  }
  for (const std::vector<std::byte>& sent : sender.sent) {
    require(sent.size() >= 8 && sent.size() <= 240);
  }
  while (client.next_event()) {
  }
  return 0;
}
