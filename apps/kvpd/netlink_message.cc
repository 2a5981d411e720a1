// rtnetlink parsing and request building (see netlink_message.h).
#include "netlink_message.h"

#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <optional>

namespace uvmbus::kvpd {
namespace {

// Reads a trivially copyable T at `offset` if it fits.
template <typename T>
std::optional<T> read_at(std::span<const std::byte> bytes, std::size_t offset) {
  if (offset > bytes.size() || bytes.size() - offset < sizeof(T)) {
    return std::nullopt;
  }
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

// The attribute area after a message's fixed header (empty if none).
template <typename Header>
std::span<const std::byte> attributes_after(std::span<const std::byte> payload) {
  return payload.subspan(std::min<std::size_t>(NLMSG_ALIGN(sizeof(Header)), payload.size()));
}

struct Attribute {
  uint16_t type;
  std::span<const std::byte> data;
};

// Walks the attributes in `area`; false if one does not fit.
template <typename Visit>
bool for_each_attribute(std::span<const std::byte> area, Visit visit) {
  std::size_t offset = 0;
  while (area.size() - offset >= sizeof(rtattr)) {
    const auto header = *read_at<rtattr>(area, offset);
    if (header.rta_len < sizeof(rtattr) || header.rta_len > area.size() - offset) {
      return false;
    }
    visit(Attribute{static_cast<uint16_t>(header.rta_type & NLA_TYPE_MASK),
                    area.subspan(offset + sizeof(rtattr), header.rta_len - sizeof(rtattr))});
    offset += std::min<std::size_t>(RTA_ALIGN(header.rta_len), area.size() - offset);
  }
  return true;
}

bool copy_address(const Attribute& attribute, uint8_t family, IpBytes& out) {
  const std::size_t size = address_bytes(family);
  if (size == 0 || attribute.data.size() != size) {
    return false;
  }
  out = {};
  std::memcpy(out.data(), attribute.data.data(), size);
  return true;
}

std::optional<uint32_t> read_u32(const Attribute& attribute) {
  if (attribute.data.size() != sizeof(uint32_t)) {
    return std::nullopt;
  }
  return read_at<uint32_t>(attribute.data, 0);
}

bool parse_link(std::span<const std::byte> payload, NetlinkDump& dump) {
  const auto info = read_at<ifinfomsg>(payload, 0);
  if (!info) {
    return false;
  }
  NetLink link;
  link.index = info->ifi_index;
  link.flags = info->ifi_flags;
  const bool fits = for_each_attribute(attributes_after<ifinfomsg>(payload), [&](const Attribute& attribute) {
    if (attribute.type == IFLA_IFNAME) {
      const auto* text = reinterpret_cast<const char*>(attribute.data.data());
      link.name.assign(text, strnlen(text, std::min<std::size_t>(attribute.data.size(), IFNAMSIZ - 1)));
    } else if (attribute.type == IFLA_ADDRESS && attribute.data.size() == link.mac.size()) {
      std::memcpy(link.mac.data(), attribute.data.data(), link.mac.size());
      link.has_mac = true;
    }
  });
  if (fits) {
    dump.links.push_back(std::move(link));
  }
  return fits;
}

bool parse_address(std::span<const std::byte> payload, NetlinkDump& dump) {
  const auto info = read_at<ifaddrmsg>(payload, 0);
  if (!info) {
    return false;
  }
  NetAddress address{.link_index = static_cast<int>(info->ifa_index),
                     .family = info->ifa_family,
                     .prefix_length = info->ifa_prefixlen,
                     .scope = info->ifa_scope,
                     .flags = info->ifa_flags};
  bool has_local = false;
  bool has_address = false;
  IpBytes peer{};
  const bool fits = for_each_attribute(
      attributes_after<ifaddrmsg>(payload),
      [&](const Attribute& attribute) {
        if (attribute.type == IFA_LOCAL) {
          has_local = copy_address(attribute, address.family, address.address);
        } else if (attribute.type == IFA_ADDRESS) {
          has_address = copy_address(attribute, address.family, peer);
        } else if (attribute.type == IFA_FLAGS) {
          address.flags = read_u32(attribute).value_or(address.flags);
        }
      });
  // IFA_LOCAL is this side of a point-to-point link; otherwise IFA_ADDRESS.
  if (!has_local && has_address) {
    address.address = peer;
  }
  if (fits && (has_local || has_address) &&
      info->ifa_prefixlen <= address_bytes(info->ifa_family) * 8) {
    dump.addresses.push_back(address);
  }
  return fits;
}

bool parse_route(std::span<const std::byte> payload, NetlinkDump& dump) {
  const auto info = read_at<rtmsg>(payload, 0);
  if (!info) {
    return false;
  }
  NetRoute route{.family = info->rtm_family,
                 .destination_length = info->rtm_dst_len,
                 .table = info->rtm_table};
  const bool fits = for_each_attribute(
      attributes_after<rtmsg>(payload),
      [&](const Attribute& attribute) {
        if (attribute.type == RTA_GATEWAY) {
          route.has_gateway = copy_address(attribute, route.family, route.gateway);
        } else if (attribute.type == RTA_OIF) {
          route.output_link = static_cast<int>(read_u32(attribute).value_or(0));
        } else if (attribute.type == RTA_TABLE) {
          route.table = read_u32(attribute).value_or(route.table);
        }
      });
  if (fits) {
    dump.routes.push_back(route);
  }
  return fits;
}

// Builds one request in a fixed buffer (kvpd's requests are small).
class RequestBuilder {
 public:
  RequestBuilder(uint16_t type, uint16_t flags, uint32_t sequence) {
    nlmsghdr header{};
    header.nlmsg_type = type;
    header.nlmsg_flags = flags;
    header.nlmsg_seq = sequence;
    append(&header, sizeof(header));
  }

  void append(const void* data, std::size_t size) {
    std::memcpy(buffer_.data() + size_, data, size);
    size_ = NLMSG_ALIGN(size_ + size);
  }

  void append_attribute(uint16_t type, const void* data, std::size_t size) {
    rtattr header{};
    header.rta_len = static_cast<unsigned short>(RTA_LENGTH(size));
    header.rta_type = type;
    std::memcpy(buffer_.data() + size_, &header, sizeof(header));
    std::memcpy(buffer_.data() + size_ + RTA_LENGTH(0), data, size);
    size_ += RTA_SPACE(size);
  }

  std::vector<std::byte> finish() {
    const auto length = static_cast<uint32_t>(size_);
    std::memcpy(buffer_.data() + offsetof(nlmsghdr, nlmsg_len), &length, sizeof(length));
    return {buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(size_)};
  }

 private:
  std::array<std::byte, 256> buffer_{};
  std::size_t size_ = 0;
};

}  // namespace

std::size_t address_bytes(uint8_t family) noexcept {
  return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

ParseStatus parse_netlink(std::span<const std::byte> datagram, NetlinkDump& dump) {
  std::size_t offset = 0;
  while (datagram.size() - offset >= sizeof(nlmsghdr)) {
    const auto header = *read_at<nlmsghdr>(datagram, offset);
    if (header.nlmsg_len < sizeof(nlmsghdr) || header.nlmsg_len > datagram.size() - offset) {
      return ParseStatus::malformed;
    }
    const std::span<const std::byte> payload =
        datagram.subspan(offset + sizeof(nlmsghdr), header.nlmsg_len - sizeof(nlmsghdr));
    bool ok = true;
    switch (header.nlmsg_type) {
      case NLMSG_DONE:
        return ParseStatus::done;
      case NLMSG_ERROR: {
        const auto error = read_at<nlmsgerr>(payload, 0);
        if (!error) {
          return ParseStatus::malformed;
        }
        dump.error_code = error->error;
        return ParseStatus::done;
      }
      case RTM_NEWLINK:
        ok = parse_link(payload, dump);
        break;
      case RTM_NEWADDR:
        ok = parse_address(payload, dump);
        break;
      case RTM_NEWROUTE:
        ok = parse_route(payload, dump);
        break;
      default:
        break;  // NLMSG_NOOP, NLMSG_OVERRUN and others carry nothing we use
    }
    if (!ok) {
      return ParseStatus::malformed;
    }
    offset += std::min<std::size_t>(NLMSG_ALIGN(header.nlmsg_len), datagram.size() - offset);
  }
  return offset == datagram.size() ? ParseStatus::more : ParseStatus::malformed;
}

std::vector<std::byte> dump_request(uint16_t type, uint8_t family, uint32_t sequence) {
  RequestBuilder request(type, NLM_F_REQUEST | NLM_F_DUMP, sequence);
  if (type == RTM_GETLINK) {
    ifinfomsg body{};
    body.ifi_family = family;
    request.append(&body, sizeof(body));
  } else if (type == RTM_GETADDR) {
    ifaddrmsg body{};
    body.ifa_family = family;
    request.append(&body, sizeof(body));
  } else {
    rtmsg body{};
    body.rtm_family = family;
    request.append(&body, sizeof(body));
  }
  return request.finish();
}

std::vector<std::byte> address_request(bool add, const NetAddress& address, uint32_t sequence) {
  const auto flags =
      static_cast<uint16_t>(NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_REPLACE : 0));
  RequestBuilder request(add ? RTM_NEWADDR : RTM_DELADDR, flags, sequence);
  ifaddrmsg body{};
  body.ifa_family = address.family;
  body.ifa_prefixlen = address.prefix_length;
  body.ifa_scope = RT_SCOPE_UNIVERSE;
  body.ifa_index = static_cast<uint32_t>(address.link_index);
  request.append(&body, sizeof(body));
  const std::size_t size = address_bytes(address.family);
  request.append_attribute(IFA_LOCAL, address.address.data(), size);
  request.append_attribute(IFA_ADDRESS, address.address.data(), size);
  return request.finish();
}

std::vector<std::byte> default_route_request(uint8_t family, const IpBytes& gateway,
                                             int output_link, uint32_t metric,
                                             uint32_t sequence) {
  RequestBuilder request(RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE,
                         sequence);
  rtmsg body{};
  body.rtm_family = family;
  body.rtm_table = RT_TABLE_MAIN;
  body.rtm_protocol = RTPROT_STATIC;
  body.rtm_scope = RT_SCOPE_UNIVERSE;
  body.rtm_type = RTN_UNICAST;
  request.append(&body, sizeof(body));
  request.append_attribute(RTA_GATEWAY, gateway.data(), address_bytes(family));
  const auto link = static_cast<uint32_t>(output_link);
  request.append_attribute(RTA_OIF, &link, sizeof(link));
  request.append_attribute(RTA_PRIORITY, &metric, sizeof(metric));
  return request.finish();
}

}  // namespace uvmbus::kvpd
