// Guest KVP codec: decoding every operation the host sends, refusing every
// malformed field with the right status, and writing replies in place.
#include "uvmbus/kvp/guest_codec.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "uvmbus/kvp/host_codec.h"
#include "uvmbus/wire/bytes.h"

namespace uvmbus::kvp {
namespace {

using wire::KvpOperation;
using wire::KvpPool;

constexpr wire::IcVersion kV4 = wire::kKvpVersion4;
constexpr wire::IcVersion kV5 = wire::kKvpVersion5;

std::vector<std::byte> buffer() { return std::vector<std::byte>(wire::kKvpIpMessageSize); }

std::vector<std::byte> set_request(KvpPool pool, const std::string& key, const std::string& value) {
  auto body = buffer();
  EXPECT_EQ(write_set_request(body, pool, key, value).error, KvpError::none);
  return body;
}

// Edits the item of a GET/SET message in place.
template <class Edit>
std::vector<std::byte> edited(std::vector<std::byte> body, Edit edit) {
  auto message = wire::load<wire::KvpGetSetMessage>(std::span(body));
  edit(message.value);
  wire::store(std::span(body), 0, message);
  return body;
}

void put_units(uint8_t* field, std::initializer_list<uint16_t> units) {
  std::size_t i = 0;
  for (const uint16_t unit : units) {
    field[i++] = static_cast<uint8_t>(unit & 0xff);
    field[i++] = static_cast<uint8_t>(unit >> 8);
  }
}

TEST(DecodeRequest, DecodesASetOfAStringInEveryPool) {
  for (uint8_t pool = 0; pool < wire::kKvpPoolCount; ++pool) {
    const auto body = set_request(static_cast<KvpPool>(pool), "VirtualMachineName", "vm-01");
    const DecodeResult decoded = decode_request(body, kV5);
    ASSERT_EQ(decoded.error, KvpError::none);
    EXPECT_EQ(decoded.request.operation, KvpOperation::set);
    EXPECT_EQ(decoded.request.pool, static_cast<KvpPool>(pool));
    EXPECT_EQ(decoded.request.key, "VirtualMachineName");
    EXPECT_EQ(decoded.request.value, "vm-01");
  }
}

TEST(DecodeRequest, StoresNumbersAsDecimalTextForEveryNumberType) {
  const auto decode_number = [](wire::KvpValueType type, uint64_t number) {
    auto body = buffer();
    EXPECT_EQ(write_set_number_request(body, KvpPool::external, "n", type, number).error,
              KvpError::none);
    return decode_request(body, kV4).request.value;
  };
  EXPECT_EQ(decode_number(wire::KvpValueType::u32, 4294967295u), "4294967295");
  EXPECT_EQ(decode_number(wire::KvpValueType::u64, 18446744073709551615u),
            "18446744073709551615");
  EXPECT_EQ(decode_number(wire::KvpValueType::u64_linux, 42), "42");
}

TEST(DecodeRequest, TakesExpandStringsAsText) {
  const auto body = edited(set_request(KvpPool::external, "k", "%PATH%"), [](wire::KvpValue& v) {
    v.value_type = static_cast<uint32_t>(wire::KvpValueType::expand_string);
  });
  EXPECT_EQ(decode_request(body, kV4).request.value, "%PATH%");
}

TEST(DecodeRequest, RefusesUnknownValueTypesAndNumbersOfTheWrongSize) {
  for (const uint32_t type : {0u, 3u, 5u, 7u, 9u, 12u, 0xffffffffu}) {
    const auto body = edited(set_request(KvpPool::external, "k", "v"),
                             [&](wire::KvpValue& v) { v.value_type = type; });
    const DecodeResult decoded = decode_request(body, kV4);
    EXPECT_EQ(decoded.error, KvpError::bad_value_type) << type;
    EXPECT_EQ(status_for(decoded.error), wire::HvStatus::invalid_arg);
  }
  for (const auto& type_and_size : {std::pair{4u, 8u}, std::pair{4u, 0u}, std::pair{11u, 4u},
                                    std::pair{8u, 9u}}) {
    const uint32_t type = type_and_size.first;
    const uint32_t size = type_and_size.second;
    const auto body = edited(set_request(KvpPool::external, "k", "v"), [&](wire::KvpValue& v) {
      v.value_type = type;
      v.value_size = size;
    });
    EXPECT_EQ(decode_request(body, kV4).error, KvpError::bad_value_size);
  }
}

TEST(DecodeRequest, DecodesGetDeleteAndEnumerate) {
  auto body = buffer();
  ASSERT_EQ(write_get_request(body, KvpPool::auto_external, "HostName").error, KvpError::none);
  DecodeResult decoded = decode_request(body, kV4);
  EXPECT_EQ(decoded.request.operation, KvpOperation::get);
  EXPECT_EQ(decoded.request.key, "HostName");

  ASSERT_EQ(write_delete_request(body, KvpPool::external, "gone").error, KvpError::none);
  decoded = decode_request(body, kV4);
  EXPECT_EQ(decoded.request.operation, KvpOperation::del);
  EXPECT_EQ(decoded.request.pool, KvpPool::external);
  EXPECT_EQ(decoded.request.key, "gone");

  ASSERT_EQ(write_enumerate_request(body, KvpPool::automatic, 9).error, KvpError::none);
  decoded = decode_request(body, kV4);
  EXPECT_EQ(decoded.request.operation, KvpOperation::enumerate);
  EXPECT_EQ(decoded.request.pool, KvpPool::automatic);
  EXPECT_EQ(decoded.request.index, 9u);
}

TEST(DecodeRequest, RefusesUnknownOperationsWithNotSupported) {
  for (const uint8_t operation : {6, 7, 100, 255}) {
    auto body = set_request(KvpPool::external, "k", "v");
    body[0] = static_cast<std::byte>(operation);
    const DecodeResult decoded = decode_request(body, kV4);
    EXPECT_EQ(decoded.error, KvpError::unknown_operation);
    EXPECT_EQ(status_for(decoded.error), wire::HvStatus::not_supported);
  }
}

TEST(DecodeRequest, RefusesPoolsBeyondTheFive) {
  for (const uint8_t pool : {5, 6, 200, 255}) {
    auto body = set_request(KvpPool::external, "k", "v");
    body[1] = static_cast<std::byte>(pool);
    EXPECT_EQ(decode_request(body, kV4).error, KvpError::bad_pool) << int{pool};
  }
}

TEST(DecodeRequest, RefusesEveryBodyShorterThanItsOperationNeeds) {
  auto body = buffer();
  const auto check = [&](std::size_t needed) {
    for (std::size_t size = 0; size < needed; ++size) {
      EXPECT_EQ(decode_request(std::span(body).first(size), kV5).error, KvpError::truncated)
          << size;
    }
    EXPECT_NE(decode_request(std::span(body).first(needed), kV5).error, KvpError::truncated);
  };
  ASSERT_EQ(write_set_request(body, KvpPool::external, "k", "v").error, KvpError::none);
  check(sizeof(wire::KvpGetSetMessage));
  ASSERT_EQ(write_delete_request(body, KvpPool::external, "k").error, KvpError::none);
  check(sizeof(wire::KvpDeleteMessage));
  ASSERT_EQ(write_enumerate_request(body, KvpPool::external, 0).error, KvpError::none);
  check(sizeof(wire::KvpEnumerateMessage));
  IpInfo info;
  info.adapter_id = "00:15:5D:00:00:01";
  ASSERT_EQ(write_ip_info_request(body, KvpOperation::get_ip_info, kV5, info).error,
            KvpError::none);
  check(sizeof(wire::KvpIpInfoBinaryMessage));
  ASSERT_EQ(write_ip_info_request(body, KvpOperation::get_ip_info, kV4, info).error,
            KvpError::none);
  for (std::size_t size = 0; size < sizeof(wire::KvpIpInfoStringMessage); size += 97) {
    EXPECT_EQ(decode_request(std::span(body).first(size), kV4).error, KvpError::truncated);
  }
}

TEST(DecodeRequest, RefusesMalformedKeysWithTheirCause) {
  const auto key_error = [](auto edit) {
    const auto body = edited(set_request(KvpPool::external, "key", "v"), edit);
    const DecodeResult decoded = decode_request(body, kV4);
    EXPECT_EQ(status_for(decoded.error), wire::HvStatus::invalid_arg);
    return std::pair{decoded.error, decoded.text_error};
  };
  EXPECT_EQ(key_error([](wire::KvpValue& v) { v.key_size = 7; }),
            (std::pair{KvpError::bad_key, TextError::odd_size}));
  EXPECT_EQ(key_error([](wire::KvpValue& v) { v.key_size = 514; }),
            (std::pair{KvpError::bad_key, TextError::size_beyond_field}));
  EXPECT_EQ(key_error([](wire::KvpValue& v) { v.key_size = 6; }),
            (std::pair{KvpError::bad_key, TextError::missing_terminator}));
  EXPECT_EQ(key_error([](wire::KvpValue& v) { v.key_size = 0; }),
            (std::pair{KvpError::bad_key, TextError::missing_terminator}));
  EXPECT_EQ(key_error([](wire::KvpValue& v) {
              put_units(v.key, {'a', 0, 'b', 0});
              v.key_size = 8;
            }),
            (std::pair{KvpError::bad_key, TextError::embedded_nul}));
  EXPECT_EQ(key_error([](wire::KvpValue& v) {
              put_units(v.key, {0xd83d, 'x', 0});
              v.key_size = 6;
            }),
            (std::pair{KvpError::bad_key, TextError::unpaired_surrogate}));
  EXPECT_EQ(key_error([](wire::KvpValue& v) {
              put_units(v.key, {0});
              v.key_size = 2;
            }),
            (std::pair{KvpError::empty_key, TextError::none}));
}

TEST(DecodeRequest, RefusesMalformedValuesWithTheirCause) {
  const auto value_error = [](auto edit) {
    const auto body = edited(set_request(KvpPool::external, "k", "value"), edit);
    const DecodeResult decoded = decode_request(body, kV4);
    return std::pair{decoded.error, decoded.text_error};
  };
  EXPECT_EQ(value_error([](wire::KvpValue& v) { v.value_size = 11; }),
            (std::pair{KvpError::bad_value, TextError::odd_size}));
  EXPECT_EQ(value_error([](wire::KvpValue& v) { v.value_size = 2050; }),
            (std::pair{KvpError::bad_value, TextError::size_beyond_field}));
  EXPECT_EQ(value_error([](wire::KvpValue& v) { v.value_size = 4; }),
            (std::pair{KvpError::bad_value, TextError::missing_terminator}));
  EXPECT_EQ(value_error([](wire::KvpValue& v) {
              put_units(v.value, {0xdfff, 0});
              v.value_size = 4;
            }),
            (std::pair{KvpError::bad_value, TextError::unpaired_surrogate}));
}

TEST(DecodeRequest, TakesKeysAndValuesThatFillAPoolRecordAndRefusesLongerOnes) {
  // A full UTF-16 key field of ASCII (255 units) fits the 511-byte record key.
  auto body = set_request(KvpPool::external, std::string(255, 'k'), std::string(1023, 'v'));
  DecodeResult decoded = decode_request(body, kV4);
  ASSERT_EQ(decoded.error, KvpError::none);
  EXPECT_EQ(decoded.request.key.size(), 255u);
  EXPECT_EQ(decoded.request.value.size(), 1023u);

  std::string wide_key;
  for (int i = 0; i < 171; ++i) {
    wide_key += "\xe9\x8d\xb5";  // 3 UTF-8 bytes, 1 UTF-16 unit: 513 bytes
  }
  decoded = decode_request(set_request(KvpPool::external, wide_key, "v"), kV4);
  EXPECT_EQ(decoded.error, KvpError::bad_key);
  EXPECT_EQ(decoded.text_error, TextError::too_long);

  std::string wide_value;
  for (int i = 0; i < 683; ++i) {
    wide_value += "\xe2\x82\xac";  // 2,049 bytes
  }
  decoded = decode_request(set_request(KvpPool::external, "k", wide_value), kV4);
  EXPECT_EQ(decoded.error, KvpError::bad_value);
  EXPECT_EQ(decoded.text_error, TextError::too_long);
}

TEST(GuestReplies, EnumerateReplyFillsTheItemAsRegSzAndKeepsTheRequestFields) {
  auto body = buffer();
  ASSERT_EQ(write_enumerate_request(body, KvpPool::guest, 3).error, KvpError::none);
  const ReplyResult reply = write_enumerate_reply(body, "Schl\xc3\xbcssel", "Wert");
  ASSERT_EQ(reply.error, KvpError::none);
  EXPECT_FALSE(reply.truncated);
  const auto message = wire::load<wire::KvpEnumerateMessage>(std::span(body));
  EXPECT_EQ(message.header.operation, 3);
  EXPECT_EQ(message.header.pool, 1);
  EXPECT_EQ(message.index, 3u);
  EXPECT_EQ(message.value.value_type, 1u);
  EXPECT_EQ(message.value.key_size, 20u);
  EXPECT_EQ(message.value.value_size, 10u);
  const ItemReply read = read_enumerate_reply(body);
  ASSERT_EQ(read.error, KvpError::none);
  EXPECT_EQ(read.key, "Schl\xc3\xbcssel");
  EXPECT_EQ(read.value, "Wert");
}

TEST(GuestReplies, EnumerateReplyCutsARecordTooLongForTheWireAndSaysSo) {
  auto body = buffer();
  ASSERT_EQ(write_enumerate_request(body, KvpPool::guest, 0).error, KvpError::none);
  const ReplyResult reply =
      write_enumerate_reply(body, std::string(300, 'k'), std::string(1024, 'v'));
  EXPECT_EQ(reply.error, KvpError::none);
  EXPECT_TRUE(reply.truncated);
  const ItemReply read = read_enumerate_reply(body);
  EXPECT_EQ(read.key, std::string(255, 'k'));
  EXPECT_EQ(read.value, std::string(1023, 'v'));
}

TEST(GuestReplies, RepliesRefuseBodiesTooShortToHoldThem) {
  auto body = buffer();
  EXPECT_EQ(write_enumerate_reply(std::span(body).first(2579), "k", "v").error,
            KvpError::truncated);
  EXPECT_EQ(write_get_reply(std::span(body).first(2575), "v").error, KvpError::truncated);
  EXPECT_EQ(write_ip_info_reply(std::span(body).first(3715), kV5, {}).error, KvpError::truncated);
  EXPECT_EQ(write_ip_info_reply(std::span(body).first(7427), kV4, {}).error, KvpError::truncated);
  EXPECT_EQ(write_enumerate_reply(body, "\xff", "v").error, KvpError::bad_key);
  EXPECT_EQ(write_enumerate_reply(body, "k", "\xff").error, KvpError::bad_value);
  EXPECT_EQ(write_get_reply(body, "\xc0").error, KvpError::bad_value);
}

TEST(GuestReplies, GetReplyCarriesTheValueUnderTheHostsKey) {
  auto body = buffer();
  ASSERT_EQ(write_get_request(body, KvpPool::external, "k").error, KvpError::none);
  ASSERT_EQ(write_get_reply(body, "the value").error, KvpError::none);
  const ItemReply read = read_get_reply(body);
  ASSERT_EQ(read.error, KvpError::none);
  EXPECT_EQ(read.value, "the value");
  EXPECT_EQ(decode_request(body, kV4).request.key, "k");
}

IpInfo adapter(const std::string& id) {
  IpInfo info;
  info.adapter_id = id;
  info.address_family = wire::kKvpAddressFamilyIpv4;
  return info;
}

TEST(IpInfoRequests, UseTheStringFormBelowVersion5AndTheBinaryFormFrom5) {
  for (const wire::IcVersion version : {wire::kKvpVersion3, kV4, kV5}) {
    IpInfo info = adapter("{b6650ff7-33bc-4840-8048-e0676786f393}");
    info.ipv4 = {{{10, 1, 2, 3}, {255, 255, 255, 0}, {}}};
    info.ipv4_gateways = {{10, 1, 2, 1}};
    auto body = buffer();
    ASSERT_EQ(write_ip_info_request(body, KvpOperation::set_ip_info, version, info).error,
              KvpError::none);
    const DecodeResult decoded = decode_request(body, version);
    ASSERT_EQ(decoded.error, KvpError::none) << version.major;
    EXPECT_EQ(decoded.request.operation, KvpOperation::set_ip_info);
    EXPECT_EQ(decoded.request.ip_info, info);
  }
}

TEST(IpInfoRequests, GetUsesOnlyTheAdapterIdAndFamilyAndIgnoresThePool) {
  auto body = buffer();
  ASSERT_EQ(write_ip_info_request(body, KvpOperation::get_ip_info, kV4, adapter("00:15:5D:AA:BB:CC"))
                .error,
            KvpError::none);
  body[1] = std::byte{77};  // pool: meaningless for IP info
  std::fill(body.begin() + 300, body.begin() + 400, std::byte{0xff});  // junk in the lists
  const DecodeResult decoded = decode_request(body, kV4);
  ASSERT_EQ(decoded.error, KvpError::none);
  EXPECT_EQ(decoded.request.ip_info.adapter_id, "00:15:5D:AA:BB:CC");
  EXPECT_EQ(decoded.request.ip_info.address_family, 1);
}

TEST(IpInfoRequests, RefuseMalformedIpInfoWithInvalidArg) {
  auto body = buffer();
  IpInfo info = adapter("{guid}");
  ASSERT_EQ(write_ip_info_request(body, KvpOperation::set_ip_info, kV5, info).error,
            KvpError::none);
  auto message = wire::load<wire::KvpIpInfoBinaryMessage>(std::span(body));
  message.info.ipv4_address_count = 1000;
  wire::store(std::span(body), 0, message);
  DecodeResult decoded = decode_request(body, kV5);
  EXPECT_EQ(decoded.error, KvpError::bad_ip_info);
  EXPECT_EQ(decoded.ip_error, IpInfoError::too_many_entries);
  EXPECT_EQ(status_for(decoded.error), wire::HvStatus::invalid_arg);

  std::fill(std::begin(message.info.adapter_id), std::end(message.info.adapter_id), uint8_t{'a'});
  message.info.ipv4_address_count = 0;
  wire::store(std::span(body), 0, message);
  message.header.operation = static_cast<uint8_t>(KvpOperation::get_ip_info);
  decoded = decode_request(body, kV5);
  EXPECT_EQ(decoded.error, KvpError::bad_ip_info);
  EXPECT_EQ(decoded.ip_error, IpInfoError::bad_adapter_id);
}

TEST(IpInfoReplies, AreWrittenInTheNegotiatedForm) {
  IpInfo info = adapter("00:15:5D:AA:BB:CC");
  info.dhcp_enabled = true;
  info.ipv4 = {{{172, 16, 0, 5}, {255, 255, 0, 0}, wire::KvpAddressOrigin::other}};
  info.ipv4_dns_servers = {{168, 63, 129, 16}};
  for (const wire::IcVersion version : {kV4, kV5}) {
    auto body = buffer();
    ASSERT_EQ(write_ip_info_request(body, KvpOperation::get_ip_info, version, info).error,
              KvpError::none);
    ASSERT_EQ(write_ip_info_reply(body, version, info).error, KvpError::none);
    const IpInfoReply read = read_ip_info_reply(body, version);
    ASSERT_EQ(read.error, KvpError::none);
    IpInfo expected = info;
    if (version.major < 5) {
      expected.ipv4[0].origin = wire::KvpAddressOrigin::unknown;
    }
    EXPECT_EQ(read.info, expected);
  }
  IpInfo too_many = info;
  too_many.ipv4_gateways.resize(6);
  auto body = buffer();
  const ReplyResult refused = write_ip_info_reply(body, kV5, too_many);
  EXPECT_EQ(refused.error, KvpError::bad_ip_info);
  EXPECT_EQ(refused.ip_error, IpInfoError::too_many_entries);
}

TEST(StatusFor, NeverAnswersNoMoreItemsForAnError) {
  for (uint8_t error = 0; error <= static_cast<uint8_t>(KvpError::bad_ip_info); ++error) {
    const auto kvp_error = static_cast<KvpError>(error);
    EXPECT_NE(status_for(kvp_error), wire::HvStatus::no_more_items);
    EXPECT_STRNE(to_string(kvp_error), "unknown");
  }
  EXPECT_EQ(status_for(KvpError::none), wire::HvStatus::ok);
  EXPECT_EQ(status_for(KvpError::buffer_too_small), wire::HvStatus::fail);
  EXPECT_STREQ(to_string(static_cast<KvpError>(99)), "unknown");
}

}  // namespace
}  // namespace uvmbus::kvp
