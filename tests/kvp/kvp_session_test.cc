// A whole KVP conversation through lib/ic and lib/kvp, host and guest in one
// process: NEGOTIATE, the host's SET burst, ENUMERATE until "no more items",
// GET, DELETE, GET_IP_INFO and malformed requests, with the pool store
// behind the guest. The guest side here is the minimal dispatch the KVP
// daemon performs.
#include <gtest/gtest.h>

#include <vector>

#include "pool_files.h"
#include "uvmbus/ic/guest_endpoint.h"
#include "uvmbus/ic/host_endpoint.h"
#include "uvmbus/kvp/guest_codec.h"
#include "uvmbus/kvp/host_codec.h"
#include "uvmbus/kvp/pool_store.h"
#include "uvmbus/kvp/versions.h"

namespace uvmbus::kvp {
namespace {

using testing::read_items;
using testing::RawItem;
using testing::ScratchDir;
using wire::HvStatus;
using wire::KvpPool;

class KvpSession {
 public:
  KvpSession(PoolStore& store, std::span<const wire::IcVersion> guest_versions)
      : store_(store),
        guest_(wire::IcMessageType::kvp_exchange, {ic::kGuestFrameworkVersions, guest_versions}) {}

  ic::HostEndpoint& host() { return host_; }
  std::vector<std::byte>& buffer() { return buffer_; }
  std::span<std::byte> body() { return std::span(buffer_).subspan(wire::kIcBodyOffset); }

  // Sends the packet the host wrote (`size` bytes) through the guest and
  // returns the host's view of the reply.
  ic::HostEvent exchange(std::size_t size) {
    std::vector<std::byte> packet(buffer_.begin(), buffer_.begin() + size);
    const ic::GuestEvent event = guest_.on_packet(packet);
    if (event.action == ic::GuestAction::handle_request) {
      const HvStatus status = serve(event.body);
      EXPECT_EQ(guest_.complete(packet, status), ic::IcError::none);
    }
    EXPECT_EQ(packet.size(), size);  // replies keep the request's length
    reply_ = packet;
    return host_.on_packet(reply_);
  }

  ic::HostEvent request(RequestSize written) {
    EXPECT_EQ(written.error, KvpError::none);
    const ic::SizeResult framed = host_.start_request(buffer_, written.size);
    EXPECT_EQ(framed.error, ic::IcError::none);
    return exchange(framed.size);
  }

 private:
  // The guest's dispatch: decode, act on the store, reply in place.
  HvStatus serve(std::span<std::byte> body) {
    const wire::IcVersion version = guest_.versions()->service;
    const DecodeResult decoded = decode_request(body, version);
    if (decoded.error != KvpError::none) {
      return status_for(decoded.error);
    }
    const KvpRequest& request = decoded.request;
    switch (request.operation) {
      case wire::KvpOperation::set:
        return status_for(store_.set(request.pool, request.key, request.value));
      case wire::KvpOperation::del:
        return status_for(store_.remove(request.pool, request.key));
      case wire::KvpOperation::get: {
        const ValueResult found = store_.get(request.pool, request.key);
        if (found.status != StoreStatus::ok) {
          return status_for(found.status);
        }
        return status_for(write_get_reply(body, found.value).error);
      }
      case wire::KvpOperation::enumerate: {
        const ItemResult item = store_.enumerate(request.pool, request.index);
        if (item.status != StoreStatus::ok) {
          return status_for(item.status);
        }
        return status_for(write_enumerate_reply(body, item.key, item.value).error);
      }
      case wire::KvpOperation::get_ip_info: {
        IpInfo info;
        info.adapter_id = request.ip_info.adapter_id;
        info.address_family = wire::kKvpAddressFamilyIpv4;
        info.ipv4 = {{{10, 0, 0, 4}, {255, 255, 255, 0}, wire::KvpAddressOrigin::other}};
        return status_for(write_ip_info_reply(body, version, info).error);
      }
      case wire::KvpOperation::set_ip_info:
        return HvStatus::not_supported;
    }
    return HvStatus::not_supported;
  }

  PoolStore& store_;
  ic::GuestEndpoint guest_;
  ic::HostEndpoint host_{wire::IcMessageType::kvp_exchange,
                         {ic::kHostFrameworkVersions, kHostVersions}};
  std::vector<std::byte> buffer_ = std::vector<std::byte>(wire::kIcMaxMessageSize);
  std::vector<std::byte> reply_;
};

class KvpSessionTest : public ::testing::Test {
 protected:
  ScratchDir dir_;
  std::unique_ptr<PoolStore> store_ = testing::open_store(dir_.path());
  KvpSession session_{*store_, kGuestVersions};

  void negotiate() {
    const ic::SizeResult written = session_.host().start_negotiate(session_.buffer());
    ASSERT_EQ(written.error, ic::IcError::none);
    const ic::HostEvent event = session_.exchange(written.size);
    ASSERT_EQ(event.action, ic::HostAction::negotiate_reply);
    ASSERT_EQ(event.error, ic::IcError::none);
  }

  ic::HostEvent set(KvpPool pool, const std::string& key, const std::string& value) {
    return session_.request(write_set_request(session_.body(), pool, key, value));
  }
};

TEST_F(KvpSessionTest, NegotiatesFramework3AndKvp5) {
  negotiate();
  EXPECT_EQ(session_.host().versions(),
            (ic::NegotiatedVersions{ic::kFrameworkVersion3, wire::kKvpVersion5}));
}

TEST_F(KvpSessionTest, NegotiatesKvp4WithTheLinuxVersionList) {
  KvpSession linux_like(*store_, kLinuxGuestVersions);
  const ic::SizeResult written = linux_like.host().start_negotiate(linux_like.buffer());
  ASSERT_EQ(linux_like.exchange(written.size).error, ic::IcError::none);
  EXPECT_EQ(linux_like.host().versions()->service, wire::kKvpVersion4);
}

TEST_F(KvpSessionTest, StoresTheHostsSetBurstAndListsTheGuestPoolUntilNoMoreItems) {
  negotiate();
  for (const auto& [key, value] : {std::pair{"HostName", "host-01"},
                                   std::pair{"VirtualMachineName", "vm \xc3\xa9t\xc3\xa9"},
                                   std::pair{"VirtualMachineId", "1234"}}) {
    const ic::HostEvent event = set(KvpPool::auto_external, key, value);
    ASSERT_EQ(event.action, ic::HostAction::response);
    EXPECT_EQ(event.status, HvStatus::ok);
  }
  EXPECT_EQ(read_items(dir_.pool(3)),
            (std::vector<RawItem>{{"HostName", "host-01"},
                                  {"VirtualMachineName", "vm \xc3\xa9t\xc3\xa9"},
                                  {"VirtualMachineId", "1234"}}));
  const auto number = session_.request(write_set_number_request(
      session_.body(), KvpPool::external, "Counter", wire::KvpValueType::u32, 7));
  EXPECT_EQ(number.status, HvStatus::ok);
  EXPECT_EQ(store_->get(KvpPool::external, "Counter").value, "7");

  ASSERT_EQ(store_->set(KvpPool::guest, "GuestKey0", "a"), StoreStatus::ok);
  ASSERT_EQ(store_->set(KvpPool::guest, "GuestKey1", "b"), StoreStatus::ok);
  std::vector<std::string> listed;
  for (uint32_t index = 0;; ++index) {
    const ic::HostEvent event =
        session_.request(write_enumerate_request(session_.body(), KvpPool::guest, index));
    if (event.status != HvStatus::ok) {
      EXPECT_EQ(event.status, HvStatus::no_more_items);
      break;
    }
    const ItemReply item = read_enumerate_reply(event.body);
    ASSERT_EQ(item.error, KvpError::none);
    listed.push_back(item.key + "=" + item.value);
  }
  EXPECT_EQ(listed, (std::vector<std::string>{"GuestKey0=a", "GuestKey1=b"}));
}

TEST_F(KvpSessionTest, AnswersGetDeleteAndIpInfoWithDistinctStatuses) {
  negotiate();
  ASSERT_EQ(set(KvpPool::external, "k", "v").status, HvStatus::ok);
  ic::HostEvent event = session_.request(write_get_request(session_.body(), KvpPool::external, "k"));
  EXPECT_EQ(event.status, HvStatus::ok);
  EXPECT_EQ(read_get_reply(event.body).value, "v");
  event = session_.request(write_get_request(session_.body(), KvpPool::external, "nope"));
  EXPECT_EQ(event.status, HvStatus::not_found);
  event = session_.request(write_delete_request(session_.body(), KvpPool::external, "k"));
  EXPECT_EQ(event.status, HvStatus::ok);
  event = session_.request(write_delete_request(session_.body(), KvpPool::external, "k"));
  EXPECT_EQ(event.status, HvStatus::not_found);
  EXPECT_EQ(std::filesystem::file_size(dir_.pool(0)), 0u);

  IpInfo asked;
  asked.adapter_id = "00:15:5D:00:00:01";
  event = session_.request(write_ip_info_request(session_.body(), wire::KvpOperation::get_ip_info,
                                                 wire::kKvpVersion5, asked));
  ASSERT_EQ(event.status, HvStatus::ok);
  const IpInfoReply info = read_ip_info_reply(event.body, wire::kKvpVersion5);
  ASSERT_EQ(info.error, KvpError::none);
  EXPECT_EQ(info.info.adapter_id, "00:15:5D:00:00:01");
  ASSERT_EQ(info.info.ipv4.size(), 1u);
  EXPECT_EQ(info.info.ipv4[0].origin, wire::KvpAddressOrigin::other);
}

TEST_F(KvpSessionTest, AnswersMalformedRequestsWithoutTouchingThePools) {
  negotiate();
  auto body = session_.body();
  ASSERT_EQ(write_set_request(body, KvpPool::external, "k", "v").error, KvpError::none);
  body[1] = std::byte{9};  // no such pool
  ic::HostEvent event = session_.request({KvpError::none, wire::kKvpMessageSize});
  EXPECT_EQ(event.status, HvStatus::invalid_arg);
  body[0] = std::byte{42};  // no such operation
  event = session_.request({KvpError::none, wire::kKvpMessageSize});
  EXPECT_EQ(event.status, HvStatus::not_supported);
  event = session_.request({KvpError::none, 100});  // and a short body
  EXPECT_EQ(event.status, HvStatus::not_supported);
  ASSERT_EQ(write_set_request(body, KvpPool::external, "k", "v").error, KvpError::none);
  event = session_.request({KvpError::none, 100});  // a SET cut to 100 bytes
  EXPECT_EQ(event.status, HvStatus::invalid_arg);
  ASSERT_EQ(write_set_request(body, KvpPool::external, "k", "v").error, KvpError::none);
  body[4 + 4] = std::byte{3};  // odd key_size
  event = session_.request({KvpError::none, wire::kKvpMessageSize});
  EXPECT_EQ(event.status, HvStatus::invalid_arg);
  EXPECT_EQ(std::filesystem::file_size(dir_.pool(0)), 0u);
}

}  // namespace
}  // namespace uvmbus::kvp
