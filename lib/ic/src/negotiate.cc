// IC version negotiation, guest answer and host request/reply.
#include "uvmbus/ic/negotiate.h"

#include <algorithm>

#include "uvmbus/wire/bytes.h"

namespace uvmbus::ic {

namespace {

constexpr std::size_t kVersionSize = sizeof(wire::IcVersion);
constexpr std::size_t kListsOffset = sizeof(wire::IcNegotiateHeader);

bool contains(std::span<const wire::IcVersion> list, wire::IcVersion version) noexcept {
  return std::find(list.begin(), list.end(), version) != list.end();
}

// The first of `preferred` found among the `count` versions at `offset`.
std::optional<wire::IcVersion> select_from_wire(std::span<const wire::IcVersion> preferred,
                                                std::span<const std::byte> body,
                                                std::size_t offset, std::size_t count) noexcept {
  for (const wire::IcVersion wanted : preferred) {
    for (std::size_t i = 0; i < count; ++i) {
      if (wire::load<wire::IcVersion>(body, offset + i * kVersionSize) == wanted) {
        return wanted;
      }
    }
  }
  return std::nullopt;
}

void set_message_size(std::span<std::byte> packet, uint16_t size) noexcept {
  constexpr std::size_t kHeaderOffset = sizeof(wire::PipeHeader);
  auto header = wire::load<wire::IcMessageHeader>(packet, kHeaderOffset);
  header.message_size = size;
  wire::store(packet, kHeaderOffset, header);
}

// Rewrites the body as "no versions" (counts 0/0) when there is room for the
// negotiate header, and fails the reply.
NegotiateAnswer refuse(std::span<std::byte> packet, IcError error) noexcept {
  std::span<std::byte> body = body_of(packet);
  if (wire::fits<wire::IcNegotiateHeader>(body, 0)) {
    wire::store(body, 0, wire::IcNegotiateHeader{});
  }
  make_reply(packet, wire::HvStatus::fail);
  return {error, std::nullopt};
}

}  // namespace

std::optional<wire::IcVersion> select_version(std::span<const wire::IcVersion> preferred,
                                              std::span<const wire::IcVersion> offered) noexcept {
  for (const wire::IcVersion wanted : preferred) {
    if (contains(offered, wanted)) {
      return wanted;
    }
  }
  return std::nullopt;
}

NegotiateAnswer answer_negotiate(std::span<std::byte> packet,
                                 const VersionLists& preferences) noexcept {
  const FrameResult parsed = parse_frame(packet);
  if (parsed.error != IcError::none) {
    return {parsed.error, std::nullopt};
  }
  // Read only what the host declared; the reply may use the packet's room.
  const std::span<const std::byte> declared =
      parsed.frame.body.first(parsed.frame.header.message_size);
  if (!wire::fits<wire::IcNegotiateHeader>(declared, 0)) {
    return refuse(packet, IcError::negotiate_truncated);
  }
  const auto counts = wire::load<wire::IcNegotiateHeader>(declared);
  const std::size_t framework_count = counts.framework_version_count;
  const std::size_t service_count = counts.message_version_count;
  if (framework_count > wire::kIcMaxVersionCount || service_count > wire::kIcMaxVersionCount) {
    return refuse(packet, IcError::too_many_versions);
  }
  if (declared.size() - kListsOffset < (framework_count + service_count) * kVersionSize) {
    return refuse(packet, IcError::negotiate_truncated);
  }
  const auto framework =
      select_from_wire(preferences.framework, declared, kListsOffset, framework_count);
  const auto service = select_from_wire(preferences.service, declared,
                                        kListsOffset + framework_count * kVersionSize,
                                        service_count);
  if (!framework || !service) {
    return refuse(packet, IcError::no_common_version);
  }
  // Both lists are non-empty, so the declared body (and the room) is at least
  // the 16 bytes of the reply.
  std::span<std::byte> body = body_of(packet);
  wire::store(body, 0, wire::IcNegotiateHeader{1, 1, 0});
  wire::store(body, kListsOffset, *framework);
  wire::store(body, kListsOffset + kVersionSize, *service);
  set_message_size(packet, wire::kIcNegotiateReplyBodySize);
  make_reply(packet, wire::HvStatus::ok);
  return {IcError::none, NegotiatedVersions{*framework, *service}};
}

SizeResult write_negotiate_request(std::span<std::byte> out, const VersionLists& offer,
                                   uint8_t transaction_id) noexcept {
  if (offer.framework.size() > wire::kIcMaxVersionCount ||
      offer.service.size() > wire::kIcMaxVersionCount) {
    return {IcError::too_many_versions, 0};
  }
  const std::size_t body_size =
      kListsOffset + (offer.framework.size() + offer.service.size()) * kVersionSize;
  if (out.size() < wire::kIcBodyOffset + body_size) {
    return {IcError::buffer_too_small, 0};
  }
  std::span<std::byte> body = out.subspan(wire::kIcBodyOffset);
  wire::store(body, 0,
              wire::IcNegotiateHeader{static_cast<uint16_t>(offer.framework.size()),
                                      static_cast<uint16_t>(offer.service.size()), 0});
  std::size_t offset = kListsOffset;
  for (const wire::IcVersion version : offer.framework) {
    wire::store(body, offset, version);
    offset += kVersionSize;
  }
  for (const wire::IcVersion version : offer.service) {
    wire::store(body, offset, version);
    offset += kVersionSize;
  }
  const RequestHeader header{
      .type = wire::IcMessageType::negotiate,
      .framework_version = {0, 0},
      .message_version = {0, 0},
      .transaction_id = transaction_id,
  };
  return write_request_headers(out, header, body_size);
}

NegotiateAnswer read_negotiate_reply(const IcFrame& reply, const VersionLists& offer) noexcept {
  const std::span<const std::byte> declared = reply.body.first(reply.header.message_size);
  if (declared.size() < wire::kIcNegotiateReplyBodySize) {
    return {IcError::negotiate_truncated, std::nullopt};
  }
  const auto counts = wire::load<wire::IcNegotiateHeader>(declared);
  if (counts.framework_version_count != 1 || counts.message_version_count != 1) {
    return {IcError::no_common_version, std::nullopt};
  }
  const auto framework = wire::load<wire::IcVersion>(declared, kListsOffset);
  const auto service = wire::load<wire::IcVersion>(declared, kListsOffset + kVersionSize);
  if (!contains(offer.framework, framework) || !contains(offer.service, service)) {
    return {IcError::no_common_version, std::nullopt};
  }
  return {IcError::none, NegotiatedVersions{framework, service}};
}

}  // namespace uvmbus::ic
