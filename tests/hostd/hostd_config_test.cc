// hostd's config file and flags: a full example, defaults, every kind of
// mistake (unknown key, wrong type, bad GUID, duplicate instance, bad CPU
// list, bad mode), hostile files (truncated, binary, oversized, deeply
// nested, huge lists, not a regular file) and flags over a file.
#include <gtest/gtest.h>

#include <fstream>

#include "hostd_config.h"
#include "hostd_options.h"
#include "hostd_process.h"
#include "uvmbus/host/builtin_devices.h"

namespace uvmbus::hostd::test {
namespace {

constexpr const char* kExample = R"({
  "guest_socket": "/run/uvmbus/vmbus.sock",
  "guest_socket_mode": "0660",
  "control_socket": "/run/uvmbus/hostd.sock",
  "log_level": "debug",
  "workers": {"cpus": "0-1", "idle_threshold_us": 100},
  "devices": [
    {"type": "echo", "instance": "11111111-2222-4333-8444-555555555555", "max_subchannels": 4},
    {"type": "sink", "instance": "{66666666-7777-4888-8999-aaaaaaaaaaaa}",
     "class": "5e1ec7ed-51a4-4000-8000-0000000000ff"}
  ],
  "allow": {"vm_ids": ["0f0e0d0c-0b0a-4908-8706-050403020101"], "names": ["web-1"], "uids": [0, 1000]},
  "limits": {"max_partitions": 8, "max_gpadls": 32, "max_gpadl_pages": 4096, "max_memory_mib": 256,
             "max_channels": 64, "handshake_timeout_ms": 500}
})";

std::string error_of(std::string_view text) {
  auto parsed = parse_config(text);
  return parsed ? std::string("(parsed)") : parsed.error();
}

TEST(HostdConfig, ParsesTheDocumentedExample) {
  auto parsed = parse_config(kExample);
  ASSERT_TRUE(parsed) << parsed.error();
  const HostdConfig& config = *parsed;
  EXPECT_EQ(config.guest_socket_mode, 0660u);
  EXPECT_EQ(config.log_level, LogLevel::debug);
  EXPECT_EQ(config.cpus, "0-1");
  EXPECT_EQ(config.idle_threshold_us, 100u);
  ASSERT_EQ(config.devices.size(), 2u);
  EXPECT_EQ(config.devices[0].type, DeviceType::echo);
  EXPECT_EQ(config.devices[0].max_subchannels, 4);
  EXPECT_EQ(wire::to_string(config.devices[1].instance), "66666666-7777-4888-8999-aaaaaaaaaaaa");
  EXPECT_EQ(wire::to_string(*config.devices[1].class_id), "5e1ec7ed-51a4-4000-8000-0000000000ff");
  EXPECT_EQ(config.allow.names, std::vector<std::string>{"web-1"});
  EXPECT_EQ(config.allow.uids, (std::vector<uid_t>{0, 1000}));
  EXPECT_EQ(config.limits.max_partitions, 8u);
  EXPECT_EQ(config.limits.handshake_timeout_ms, 500u);
}

TEST(HostdConfig, AnEmptyObjectKeepsEveryDefault) {
  auto parsed = parse_config("{}");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->guest_socket, "/run/uvmbus/vmbus.sock");
  EXPECT_EQ(parsed->control_socket, "/run/uvmbus/hostd.sock");
  EXPECT_EQ(parsed->guest_socket_mode, 0600u);
  EXPECT_TRUE(parsed->devices.empty());
  EXPECT_EQ(parsed->limits.max_partitions, 64u);
}

TEST(HostdConfig, EachMistakeIsOneLineNamingTheKey) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"guest_sockett": "/x"})", "guest_sockett: unknown key"},
      {R"({"workers": {"cpu": "0"}})", "workers.cpu: unknown key"},
      {R"({"devices": [{"type": "echo", "instance": "11111111-2222-4333-8444-555555555555", "x": 1}]})",
       "devices[0].x: unknown key"},
      {R"({"devices": [{"type": "echo", "instance": "not-a-guid"}]})", "devices[0].instance: bad GUID 'not-a-guid'"},
      {R"({"devices": [{"type": "disk", "instance": "11111111-2222-4333-8444-555555555555"}]})",
       "devices[0].type: unknown device type 'disk' (expected echo or sink)"},
      {R"({"devices": [{"type": "echo"}]})", "devices[0].instance: missing"},
      {R"({"devices": [{"instance": "11111111-2222-4333-8444-555555555555"}]})", "devices[0].type: missing (echo or sink)"},
      {R"({"devices": [{"type": "echo", "instance": "11111111-2222-4333-8444-555555555555"},
                       {"type": "sink", "instance": "11111111-2222-4333-8444-555555555555"}]})",
       "devices: instance 11111111-2222-4333-8444-555555555555 appears twice"},
      {R"({"devices": [{"type": "echo", "instance": "11111111-2222-4333-8444-555555555555", "max_subchannels": 5000}]})",
       "devices[0].max_subchannels: 5000 is out of range [0, 256]"},
      {R"({"devices": [{"type": "echo", "instance": "11111111-2222-4333-8444-555555555555", "max_subchannels": -1}]})",
       "devices[0].max_subchannels: expected a non-negative integer"},
      {R"({"devices": {"type": "echo"}})", "devices: expected a list"},
      {R"({"workers": {"cpus": "0-"}})", "workers.cpus: bad CPU list '0-' (malformed core list)"},
      {R"({"workers": {"cpus": "1,1"}})", "workers.cpus: bad CPU list '1,1' (CPU named twice)"},
      {R"({"workers": {"cpus": 3}})", "workers.cpus: expected a string"},
      {R"({"guest_socket_mode": "0999"})", "guest_socket_mode: expected an octal mode such as \"0660\", got '0999'"},
      {R"({"log_level": "loud"})", "log_level: expected debug, info, warn or error, got 'loud'"},
      {R"({"allow": {"uids": ["root"]}})", "allow.uids[0]: expected a non-negative integer"},
      {R"({"allow": {"vm_ids": ["x"]}})", "allow.vm_ids[0]: bad GUID 'x'"},
      {R"({"allow": {"names": [""]}})", "allow.names[0]: expected a non-empty string"},
      {R"({"limits": {"max_partitions": 0}})", "limits.max_partitions: 0 is out of range [1, 4096]"},
      {R"({"limits": {"max_channels": 1.5}})", "limits.max_channels: expected a non-negative integer"},
      {R"({"guest_socket": ""})", "guest_socket: must not be empty"},
      {R"([1, 2])", "expected an object"},
      {R"("text")", "expected an object"},
  };
  for (const auto& [text, expected] : cases) {
    const std::string error = error_of(text);
    EXPECT_EQ(error, expected) << text;
    EXPECT_EQ(error.find('\n'), std::string::npos);
  }
}

TEST(HostdConfig, HostileDocumentsAreRefusedWithoutCrashing) {
  const std::string example(kExample);
  // Every truncation of the example is refused (the document is one object).
  for (std::size_t length = 0; length < example.size() - 1; ++length) {
    const std::string error = error_of(example.substr(0, length));
    EXPECT_NE(error, "(parsed)") << length;
    EXPECT_EQ(error.find('\n'), std::string::npos);
  }
  EXPECT_EQ(error_of(std::string(100000, '[')), "nested deeper than 8 levels");
  std::string objects;
  for (int i = 0; i < 5000; ++i) {
    objects += R"({"a":)";
  }
  EXPECT_EQ(error_of(objects), "nested deeper than 8 levels");
  EXPECT_EQ(error_of(std::string(kMaxConfigBytes + 1, ' ')), "larger than 1048576 bytes");
  std::string binary(4096, '\0');
  for (std::size_t i = 0; i < binary.size(); ++i) {
    binary[i] = static_cast<char>(i * 131 + 7);
  }
  EXPECT_NE(error_of(binary).find("not valid JSON"), std::string::npos);
  std::string many_names = R"({"allow": {"names": [)";
  for (std::size_t i = 0; i <= kMaxListEntries; ++i) {
    many_names += (i == 0 ? "\"n\"" : ",\"n\"");
  }
  many_names += "]}}";
  EXPECT_EQ(error_of(many_names), "allow.names: more than 1024 entries");
  EXPECT_NE(error_of("{\"guest_socket\": \"\xff\xfe\"}").find("not valid JSON"), std::string::npos);
}

TEST(HostdConfig, FilesThatCannotBeReadAreNamed) {
  ScratchDir dir;
  auto missing = load_config(dir.path() / "absent.json");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().rfind((dir.path() / "absent.json").string() + ": ", 0), 0u) << missing.error();
  auto directory = load_config(dir.path());
  ASSERT_FALSE(directory);
  EXPECT_NE(directory.error().find("not a regular file"), std::string::npos);
  const auto big = dir.path() / "big.json";
  std::ofstream(big) << std::string(kMaxConfigBytes + 10, ' ');
  auto oversized = load_config(big);
  ASSERT_FALSE(oversized);
  EXPECT_NE(oversized.error().find("larger than"), std::string::npos);
}

ParsedOptions parse(std::vector<std::string> args) {
  args.insert(args.begin(), "uvmbus-hostd");
  std::vector<const char*> argv;
  for (const std::string& arg : args) {
    argv.push_back(arg.c_str());
  }
  return parse_options(static_cast<int>(argv.size()), argv.data());
}

TEST(HostdOptions, WithoutConfigOrDevicesOffersTheDefaultEchoAndSink) {
  const ParsedOptions parsed = parse({});
  ASSERT_TRUE(parsed.options);
  const auto& devices = parsed.options->config.devices;
  ASSERT_EQ(devices.size(), 2u);
  EXPECT_EQ(devices[0].type, DeviceType::echo);
  EXPECT_EQ(devices[0].instance, kDefaultEchoInstance);
  EXPECT_EQ(devices[1].type, DeviceType::sink);
  EXPECT_EQ(devices[1].instance, kDefaultSinkInstance);
  EXPECT_EQ(make_device(devices[0])->offer().class_id, host::kEchoClassGuid);
}

TEST(HostdOptions, FlagsOverrideTheFile) {
  ScratchDir dir;
  const auto file = dir.path() / "hostd.json";
  std::ofstream(file) << kExample;
  const ParsedOptions parsed =
      parse({"--config", file.string(), "--socket", "/tmp/g.sock", "--cpus", "0", "--device", "sink",
             "--device", "echo:22222222-2222-4333-8444-555555555555", "--log-level", "warn", "-n"});
  ASSERT_TRUE(parsed.options);
  const HostdConfig& config = parsed.options->config;
  EXPECT_TRUE(parsed.options->foreground);
  EXPECT_EQ(config.guest_socket, "/tmp/g.sock");
  EXPECT_EQ(config.control_socket, "/run/uvmbus/hostd.sock");
  EXPECT_EQ(config.cpus, "0");
  EXPECT_EQ(config.log_level, LogLevel::warn);
  ASSERT_EQ(config.devices.size(), 2u);  // --device replaces the file's
  EXPECT_EQ(config.devices[0].type, DeviceType::sink);
  EXPECT_EQ(wire::to_string(config.devices[1].instance), "22222222-2222-4333-8444-555555555555");
  EXPECT_EQ(config.allow.names, std::vector<std::string>{"web-1"});
}

TEST(HostdOptions, BadFlagsAndBadFilesExitNonZero) {
  EXPECT_EQ(parse({"--device", "disk"}).exit_code, kExitConfig);
  EXPECT_EQ(parse({"--device", "echo:xyz"}).exit_code, kExitConfig);
  EXPECT_EQ(parse({"--device", "echo:22222222-2222-4333-8444-555555555555", "--device",
                   "sink:22222222-2222-4333-8444-555555555555"})
                .exit_code,
            kExitConfig);
  EXPECT_EQ(parse({"--cpus", "a-b"}).exit_code, kExitConfig);
  EXPECT_EQ(parse({"--config", "/nonexistent/hostd.json"}).exit_code, kExitConfig);
  EXPECT_EQ(parse({"--socket", "/tmp/same", "--control", "/tmp/same"}).exit_code, kExitConfig);
  EXPECT_EQ(parse({"--log-level", "loud"}).exit_code, kExitUsage);
  EXPECT_EQ(parse({"--no-such-flag"}).exit_code, kExitUsage);
  EXPECT_EQ(parse({"--help"}).exit_code, 0);
}

TEST(AllowList, EveryNonEmptyListIsACondition) {
  channel::PartitionIdentity identity{.vm_id = wire::guid_literal("0f0e0d0c-0b0a-4908-8706-050403020101"),
                                      .name = "web-1",
                                      .peer = {.pid = 1, .uid = 1000, .gid = 1000},
                                      .protocol_minor = 0};
  AllowList allow;
  EXPECT_FALSE(allow.refusal(identity));
  allow.names = {"web-1"};
  EXPECT_FALSE(allow.refusal(identity));
  allow.uids = {0};
  EXPECT_EQ(allow.refusal(identity), "uid");
  allow.uids = {1000};
  allow.vm_ids = {wire::Guid{}};
  EXPECT_EQ(allow.refusal(identity), "vm_id");
  allow.vm_ids = {identity.vm_id};
  identity.name = "web-2";
  EXPECT_EQ(allow.refusal(identity), "name");
}

TEST(DeviceFlag, ParsesTypeAndOptionalGuid) {
  auto plain = parse_device_flag("echo");
  ASSERT_TRUE(plain);
  auto other = parse_device_flag("echo");
  ASSERT_TRUE(other);
  EXPECT_NE(plain->instance, other->instance);  // random
  EXPECT_EQ(wire::to_string(plain->instance)[14], '4');  // version 4
  EXPECT_EQ(parse_device_flag("sink:").error(), "bad instance GUID ''");
  EXPECT_EQ(parse_device_flag("").error(), "unknown device type '' (expected echo or sink)");
}

}  // namespace
}  // namespace uvmbus::hostd::test
