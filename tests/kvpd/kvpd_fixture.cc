// Test support: kvpd facing a KVP host played by the test (see kvpd_fixture.h).
#include "kvpd_fixture.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "uvmbus/runtime/affinity.h"

namespace uvmbus::kvpd::test {

channel::test::ScriptedHostConfig kvp_host_config(bool offer_kvp) {
  channel::test::ScriptedHostConfig config;
  config.offers.push_back({.class_id = wire::kHvNicGuid,
                           .instance_id = wire::guid_literal("5e1ec7ed-0000-4000-8000-0000000000e1"),
                           .relid = 7});
  if (offer_kvp) {
    config.offers.push_back(
        {.class_id = wire::kHvKvpGuid, .instance_id = kKvpInstance, .relid = kKvpRelid});
  }
  return config;
}

KvpHost::KvpHost(channel::test::ScriptedHost& host, uint32_t relid) : host_(host), relid_(relid) {
  host_.set_inband_handler(relid_, [this](uint64_t trans_id, std::span<const std::byte> payload) {
    const std::lock_guard lock(mutex_);
    replies_.emplace_back(trans_id, std::vector(payload.begin(), payload.end()));
    arrived_.notify_all();
  });
}

std::optional<std::vector<std::byte>> KvpHost::exchange(std::span<const std::byte> packet,
                                                        uint64_t trans_id,
                                                        std::chrono::milliseconds timeout) {
  const iovec segment{.iov_base = const_cast<std::byte*>(packet.data()), .iov_len = packet.size()};
  const ring::OutPacket out{.type = wire::PacketType::data_inband,
                            .flags = 0,
                            .trans_id = trans_id,
                            .header_ext = {},
                            .payload = std::span(&segment, 1)};
  if (host_.inject(relid_, out) != ring::WriteStatus::ok) {
    ADD_FAILURE() << "the guest's inbound ring refused the packet";
    return std::nullopt;
  }
  std::unique_lock lock(mutex_);
  if (!arrived_.wait_for(lock, timeout, [&] { return !replies_.empty(); })) {
    return std::nullopt;
  }
  auto [id, reply] = std::move(replies_.front());
  replies_.pop_front();
  last_trans_id_ = id;
  return reply;
}

ic::HostEvent KvpHost::exchange_framed(std::span<const std::byte> packet) {
  const uint64_t trans_id = next_trans_id_++;
  std::optional<std::vector<std::byte>> reply = exchange(packet, trans_id);
  if (!reply) {
    ADD_FAILURE() << "no reply from kvpd";
    return {ic::HostAction::dropped, ic::IcError::truncated, wire::HvStatus::fail, {}};
  }
  EXPECT_EQ(last_trans_id_, trans_id);  // the VMBus request id is echoed
  // Replies keep the request's length (the ring pads both to 8 bytes).
  EXPECT_EQ(reply->size(), (packet.size() + 7) / 8 * 8);
  reply_ = std::move(*reply);
  return session_.endpoint().on_packet(reply_);
}

ic::HostEvent KvpHost::negotiate() {
  const host::KvpHostSession::Packet written = session_.negotiate();
  EXPECT_EQ(written.ic_error, ic::IcError::none);
  return exchange_framed(written.bytes);
}

ic::HostEvent KvpHost::request(kvp::RequestSize written) {
  EXPECT_EQ(written.error, kvp::KvpError::none);
  return request_raw(written.size);
}

ic::HostEvent KvpHost::request_raw(std::size_t body_size) {
  const host::KvpHostSession::Packet framed = session_.frame(body_size);
  EXPECT_EQ(framed.ic_error, ic::IcError::none);
  return exchange_framed(framed.bytes);
}

KvpdUnderTest::KvpdUnderTest(const std::filesystem::path& pool_dir,
                             std::span<const wire::IcVersion> versions, FakeIpConfig& ip_config,
                             std::chrono::nanoseconds idle_threshold) {
  if (!memory_.add_region(1 << 20)) {
    throw std::runtime_error("guest memory");
  }
  auto made = channel::make_loopback_pair();
  if (!made) {
    throw std::runtime_error("loopback pair");
  }
  pair_ = std::move(*made);
  scripted_host_ = std::make_unique<channel::test::ScriptedHost>(*pair_.host, kvp_host_config());
  store_ = kvp::testing::open_store(pool_dir);
  service_ = std::make_unique<KvpService>(versions, *store_, auto_pool_, ip_config);
  auto topology = runtime::Topology::load();
  if (!topology) {
    throw std::runtime_error("topology");
  }
  topology_ = std::make_unique<runtime::Topology>(std::move(*topology));
  DaemonConfig config;
  config.worker.cpu = runtime::first_allowed_cpu();
  config.worker.idle_threshold = idle_threshold;
  config.connection.reply_timeout = std::chrono::milliseconds(2000);
  KvpDaemon::StartResult started =
      KvpDaemon::start(*pair_.guest, memory_, *service_, *topology_, config);
  if (started.error != DaemonError::none) {
    throw std::runtime_error(std::string("kvpd start: ") + to_string(started.error) + " " +
                             started.detail);
  }
  daemon_ = std::move(started.daemon);
  kvp_host_ = std::make_unique<KvpHost>(*scripted_host_, kKvpRelid);
}

KvpdUnderTest::~KvpdUnderTest() {
  scripted_host_->set_inband_handler(kKvpRelid, {});
  kvp_host_.reset();
  daemon_.reset();
}

}  // namespace uvmbus::kvpd::test
