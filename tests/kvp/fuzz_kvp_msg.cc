// libFuzzer target: arbitrary bytes as the body of a KVP message, decoded as
// the guest does under KVP 4.0 and 5.0; decoded requests are answered in
// place, and the same bytes are read as the host reads replies. Checks that
// decoded strings are valid UTF-8 that fits a pool record, that replies to
// what was decoded succeed, and that nothing reads outside the body (ASan).
// Each input is tried as it is (short bodies) and zero-padded to the size
// hosts send (so mutations reach the fields of every operation).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "uvmbus/kvp/guest_codec.h"
#include "uvmbus/kvp/host_codec.h"
#include "uvmbus/kvp/pool_record.h"

namespace {

using namespace uvmbus;

void check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

void answer(std::vector<std::byte> body, const kvp::DecodeResult& decoded,
            wire::IcVersion version) {
  const kvp::KvpRequest& request = decoded.request;
  switch (request.operation) {
    case wire::KvpOperation::get:
      check(kvp::write_get_reply(body, request.key).error == kvp::KvpError::none);
      check(kvp::read_get_reply(body).value == request.key);
      break;
    case wire::KvpOperation::enumerate:
      check(kvp::write_enumerate_reply(body, "key", "value").error == kvp::KvpError::none);
      break;
    case wire::KvpOperation::set_ip_info:
    case wire::KvpOperation::get_ip_info:
      // May not fit the string form's lists, but must never overrun.
      (void)kvp::write_ip_info_reply(body, version, request.ip_info);
      break;
    default:
      break;
  }
}

void fuzz_body(const std::vector<std::byte>& body) {
  for (const wire::IcVersion version : {wire::kKvpVersion4, wire::kKvpVersion5}) {
    const kvp::DecodeResult decoded = kvp::decode_request(body, version);
    if (decoded.error != kvp::KvpError::none) {
      continue;
    }
    const kvp::KvpRequest& request = decoded.request;
    if (request.operation == wire::KvpOperation::set ||
        request.operation == wire::KvpOperation::get ||
        request.operation == wire::KvpOperation::del) {
      check(kvp::is_storable_key(request.key));
    }
    if (request.operation == wire::KvpOperation::set) {
      check(kvp::is_storable_value(request.value));
    }
    answer(body, decoded, version);
  }
  (void)kvp::read_enumerate_reply(body);
  (void)kvp::read_ip_info_reply(body, wire::kKvpVersion4);
  (void)kvp::read_ip_info_reply(body, wire::kKvpVersion5);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::byte> body(size);
  if (size != 0) {
    std::memcpy(body.data(), data, size);
  }
  fuzz_body(body);
  if (body.size() < wire::kKvpIpMessageSize) {
    body.resize(wire::kKvpIpMessageSize);
    fuzz_body(body);
  }
  return 0;
}
