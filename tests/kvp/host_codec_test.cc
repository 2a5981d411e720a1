// Host KVP codec: requests laid out as OpenVMM sends them, strict reading of
// the guest's replies.
#include "uvmbus/kvp/host_codec.h"

#include <gtest/gtest.h>

#include <vector>

#include "uvmbus/wire/bytes.h"

namespace uvmbus::kvp {
namespace {

using wire::KvpOperation;
using wire::KvpPool;

std::vector<std::byte> buffer() { return std::vector<std::byte>(wire::kKvpIpMessageSize, std::byte{0x5a}); }

TEST(HostRequests, SetHasOpenVmmsSizeHeaderAndZeroPadding) {
  auto body = buffer();
  const RequestSize written = write_set_request(body, KvpPool::auto_external, "HostName", "h1");
  ASSERT_EQ(written.error, KvpError::none);
  EXPECT_EQ(written.size, 2580u);
  const auto message = wire::load<wire::KvpGetSetMessage>(std::span(body));
  EXPECT_EQ(message.header.operation, 1);
  EXPECT_EQ(message.header.pool, 3);
  EXPECT_EQ(message.padding[0], 0);
  EXPECT_EQ(message.value.value_type, 1u);
  EXPECT_EQ(message.value.key_size, 18u);
  EXPECT_EQ(message.value.value_size, 6u);
  for (std::size_t i = sizeof(wire::KvpGetSetMessage); i < written.size; ++i) {
    EXPECT_EQ(body[i], std::byte{0}) << i;
  }
  EXPECT_EQ(body[written.size], std::byte{0x5a});
}

TEST(HostRequests, NumberSetsCarryLittleEndianValuesOfTheirSize) {
  auto body = buffer();
  ASSERT_EQ(write_set_number_request(body, KvpPool::external, "n", wire::KvpValueType::u64,
                                     0x0102030405060708)
                .error,
            KvpError::none);
  const auto message = wire::load<wire::KvpGetSetMessage>(std::span(body));
  EXPECT_EQ(message.value.value_type, 11u);
  EXPECT_EQ(message.value.value_size, 8u);
  EXPECT_EQ(message.value.value[0], 0x08);
  EXPECT_EQ(message.value.value[7], 0x01);
  EXPECT_EQ(write_set_number_request(body, KvpPool::external, "n", wire::KvpValueType::u32,
                                     0x100000000)
                .error,
            KvpError::bad_value);
  EXPECT_EQ(write_set_number_request(body, KvpPool::external, "n", wire::KvpValueType::string, 1)
                .error,
            KvpError::bad_value);
}

TEST(HostRequests, DeleteAndEnumerateHaveTheirFieldsWhereLinuxReadsThem) {
  auto body = buffer();
  ASSERT_EQ(write_delete_request(body, KvpPool::external, "abc").size, 2580u);
  const auto removal = wire::load<wire::KvpDeleteMessage>(std::span(body));
  EXPECT_EQ(removal.header.operation, 2);
  EXPECT_EQ(removal.key_size, 8u);
  EXPECT_EQ(removal.key[0], 'a');

  ASSERT_EQ(write_enumerate_request(body, KvpPool::guest, 0x01020304).size, 2580u);
  const auto listing = wire::load<wire::KvpEnumerateMessage>(std::span(body));
  EXPECT_EQ(listing.header.operation, 3);
  EXPECT_EQ(listing.header.pool, 1);
  EXPECT_EQ(listing.index, 0x01020304u);
  EXPECT_EQ(listing.value.key_size, 0u);
}

TEST(HostRequests, IpInfoRequestsAreFullSizeWithPoolGuest) {
  IpInfo info;
  info.adapter_id = "00:15:5D:00:00:01";
  auto body = buffer();
  const RequestSize binary =
      write_ip_info_request(body, KvpOperation::get_ip_info, wire::kKvpVersion5, info);
  EXPECT_EQ(binary.size, wire::kKvpIpMessageSize);
  EXPECT_EQ(body[0], std::byte{4});
  EXPECT_EQ(body[1], std::byte{1});
  EXPECT_EQ(body[4 + 24], std::byte{'0'});  // binary adapter id at body offset 4 + 24
  const RequestSize text =
      write_ip_info_request(body, KvpOperation::set_ip_info, wire::kKvpVersion4, info);
  EXPECT_EQ(text.size, wire::kKvpIpMessageSize);
  EXPECT_EQ(body[0], std::byte{5});
  EXPECT_EQ(body[2], std::byte{'0'});  // string adapter id right after the header
}

TEST(HostRequests, RefuseSmallBuffersAndStringsThatDoNotFit) {
  std::vector<std::byte> small(2579);
  EXPECT_EQ(write_set_request(small, KvpPool::external, "k", "v").error,
            KvpError::buffer_too_small);
  EXPECT_EQ(write_delete_request(small, KvpPool::external, "k").error,
            KvpError::buffer_too_small);
  EXPECT_EQ(write_enumerate_request(small, KvpPool::external, 0).error,
            KvpError::buffer_too_small);
  EXPECT_EQ(write_ip_info_request(small, KvpOperation::get_ip_info, wire::kKvpVersion5, {}).error,
            KvpError::buffer_too_small);
  auto body = buffer();
  EXPECT_EQ(write_set_request(body, KvpPool::external, std::string(256, 'k'), "v").error,
            KvpError::bad_key);
  EXPECT_EQ(write_set_request(body, KvpPool::external, "k", std::string(1024, 'v')).error,
            KvpError::bad_value);
  EXPECT_EQ(write_delete_request(body, KvpPool::external, "\xff").error, KvpError::bad_key);
  IpInfo too_many;
  too_many.ipv6_gateways.resize(6);
  EXPECT_EQ(
      write_ip_info_request(body, KvpOperation::set_ip_info, wire::kKvpVersion5, too_many).error,
      KvpError::bad_value);
}

TEST(HostReplies, RefuseMalformedGuestStringsAndTypes) {
  auto body = buffer();
  ASSERT_EQ(write_enumerate_request(body, KvpPool::guest, 0).error, KvpError::none);
  auto message = wire::load<wire::KvpEnumerateMessage>(std::span(body));
  message.value.value_type = 1;
  message.value.key_size = 3;
  wire::store(std::span(body), 0, message);
  EXPECT_EQ(read_enumerate_reply(body).error, KvpError::bad_key);
  EXPECT_EQ(read_enumerate_reply(body).text_error, TextError::odd_size);

  message.value.key[0] = 'k';
  message.value.key_size = 4;
  message.value.value_type = 4;
  wire::store(std::span(body), 0, message);
  EXPECT_EQ(read_enumerate_reply(body).error, KvpError::bad_value_type);

  message.value.value_type = 1;
  message.value.value_size = 4096;
  wire::store(std::span(body), 0, message);
  EXPECT_EQ(read_enumerate_reply(body).error, KvpError::bad_value);
  EXPECT_EQ(read_enumerate_reply(body).text_error, TextError::size_beyond_field);

  EXPECT_EQ(read_enumerate_reply(std::span(body).first(100)).error, KvpError::truncated);
  EXPECT_EQ(read_get_reply(std::span(body).first(100)).error, KvpError::truncated);
  EXPECT_EQ(read_ip_info_reply(std::span(body).first(100), wire::kKvpVersion5).error,
            KvpError::truncated);
  EXPECT_EQ(read_ip_info_reply(std::span(body).first(7000), wire::kKvpVersion4).error,
            KvpError::truncated);
}

}  // namespace
}  // namespace uvmbus::kvp
