// The `user` transport end to end: a guest VmbusConnection over a real unix
// socket, against the scripted host driving the partition the listener
// accepted. Handshake and identity, memory registration, control round
// trips, echo with doorbells both ways, two guests at once, host death and
// guest death (a killed child process) without hangs or leaked descriptors.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <functional>
#include <future>

#include "loopback_fixture.h"
#include "user_fixture.h"

namespace uvmbus::channel::test {
namespace {

using std::chrono::milliseconds;

std::vector<std::byte> text_bytes(std::string_view text) {
  const auto bytes = std::as_bytes(std::span(text.data(), text.size()));
  return {bytes.begin(), bytes.end()};
}

// Sends `payload` on `channel` and returns what the echo host sent back,
// without the ring's padding to 8 bytes.
std::vector<std::byte> echo(Channel& channel, std::string_view payload) {
  const std::vector<std::byte> bytes = text_bytes(payload);
  if (send_one(channel, bytes).status != SendStatus::ok) {
    return {};
  }
  std::vector<CollectedPacket> received = receive(channel, 1);
  if (received.empty() || received[0].payload.size() < bytes.size()) {
    return {};
  }
  received[0].payload.resize(bytes.size());
  return received[0].payload;
}

TEST(UserTransport, HandshakeNamesThePartitionAndItsProcess) {
  SocketDirectory directory;
  ListenerThread listener(directory.socket_path());
  SocketGuest guest(directory.socket_path(), listener, "guest-one", two_device_config());
  const PartitionIdentity& identity = guest.partition->partition();
  EXPECT_EQ(identity.name, "guest-one");
  EXPECT_EQ(identity.vm_id, test_vm_id(9));
  EXPECT_EQ(identity.peer.pid, getpid());
  EXPECT_EQ(identity.peer.uid, getuid());
  EXPECT_EQ(identity.protocol_minor, user::kVersionMinor);
  EXPECT_EQ(guest.transport->protocol_minor(), user::kVersionMinor);
}

TEST(UserTransport, ConnectsRegistersMemoryAndCollectsOffers) {
  SocketDirectory directory;
  ListenerThread listener(directory.socket_path());
  SocketGuest guest(directory.socket_path(), listener, "offers", two_device_config());
  ASSERT_EQ(guest.connect(), ControlError::none);
  EXPECT_EQ(guest.connection->state(), ConnectionState::connected);
  EXPECT_EQ(guest.connection->version(), wire::VmbusVersion::win10_v6_0);
  ASSERT_EQ(guest.connection->offers().size(), 2u);
  // The host maps the guest's memfd: bytes the guest writes are the host's.
  const MappedGuestMemory& host_memory = guest.partition->guest_memory();
  guest.host->run([&] { EXPECT_EQ(host_memory.region_count(), 1u); });
  const GuestMemoryRegion& region = guest.memory.region(0);
  std::memcpy(region.base() + 4096, "wire-exact", 10);
  const std::byte* seen = host_memory.host_address(region.base_gpa() + 4096, 10);
  ASSERT_NE(seen, nullptr);
  EXPECT_EQ(std::memcmp(seen, "wire-exact", 10), 0);
  EXPECT_EQ(host_memory.host_address(region.base_gpa() + region.size(), 1), nullptr);
}

TEST(UserTransport, EchoesOnAChannelWithDoorbellsBothWays) {
  SocketDirectory directory;
  ListenerThread listener(directory.socket_path());
  SocketGuest guest(directory.socket_path(), listener, "echo", two_device_config());
  Channel& channel = guest.open(kEchoRelid);
  for (int i = 0; i < 50; ++i) {
    const std::string payload = "packet " + std::to_string(i);
    ASSERT_EQ(echo(channel, payload), text_bytes(payload)) << i;
  }
  // The host heard the guest's HvSignalEvent doorbell, and the guest slept
  // on its interrupt fd in receive(): both eventfds crossed the socket.
  EXPECT_GT(guest.host->counters().doorbells.load(), 0u);
  EXPECT_EQ(guest.host->counters().packets.load(), 50u);
  ASSERT_EQ(guest.connection->close_channel(kEchoRelid), ControlError::none);
  EXPECT_EQ(guest.host->gpadl_count(), 0u);
  guest.host->run([&] { EXPECT_EQ(guest.partition->attached_channels(), 0u); });
}

TEST(UserTransport, ReopensAChannelAfterClosingIt) {
  SocketDirectory directory;
  ListenerThread listener(directory.socket_path());
  SocketGuest guest(directory.socket_path(), listener, "reopen", two_device_config());
  ASSERT_EQ(echo(guest.open(kEchoRelid), "first"), text_bytes("first"));
  ASSERT_EQ(guest.connection->close_channel(kEchoRelid), ControlError::none);
  ASSERT_EQ(echo(guest.open(kEchoRelid), "second"), text_bytes("second"));
}

TEST(UserTransport, ServesTwoGuestsOnOneListenerAtOnce) {
  SocketDirectory directory;
  ListenerThread listener(directory.socket_path());
  SocketGuest first(directory.socket_path(), listener, "first", two_device_config());
  SocketGuest second(directory.socket_path(), listener, "second-guest", two_device_config());
  Channel& first_channel = first.open(kEchoRelid);
  Channel& second_channel = second.open(kEchoRelid);
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(echo(first_channel, "to first"), text_bytes("to first"));
    ASSERT_EQ(echo(second_channel, "to second"), text_bytes("to second"));
  }
  EXPECT_EQ(first.partition->partition().name, "first");
  EXPECT_EQ(second.partition->partition().name, "second-guest");
  // One guest leaving does not disturb the other.
  first.connection.reset();
  first.host->die();
  ASSERT_EQ(echo(second_channel, "still here"), text_bytes("still here"));
}

TEST(UserTransport, GuestSeesHostDeathPromptly) {
  SocketDirectory directory;
  ListenerThread listener(directory.socket_path());
  SocketGuest guest(directory.socket_path(), listener, "orphan", two_device_config());
  Channel& channel = guest.open(kEchoRelid);
  const auto started = std::chrono::steady_clock::now();
  guest.host->die();
  while (guest.connection->pump(milliseconds(50))) {
    ASSERT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
  EXPECT_EQ(guest.connection->state(), ConnectionState::host_gone);
  EXPECT_TRUE(channel.ended());
  EXPECT_EQ(guest.transport->send_control(text_bytes("late")), TransportStatus::closed);
  EXPECT_EQ(guest.transport->host_error().code, user::ProtocolError::none);
}

TEST(UserTransport, SendingToAVanishedHostNeverRaisesSigpipe) {
  SocketDirectory directory;
  ListenerThread listener(directory.socket_path());
  SocketGuest guest(directory.socket_path(), listener, "sigpipe", two_device_config());
  guest.host.reset();
  guest.partition.reset();  // closes the host's socket
  // The first sends may still be queued; later ones see the closed peer.
  TransportStatus status = TransportStatus::ok;
  for (int i = 0; i < 100 && status == TransportStatus::ok; ++i) {
    status = guest.transport->send_control(text_bytes("anyone?"));
  }
  EXPECT_EQ(status, TransportStatus::closed);
}

TEST(UserTransport, RefusedConnectReportsWhy) {
  SocketDirectory directory;
  const Expected<std::unique_ptr<UserTransport>, UserError> nobody =
      UserTransport::connect(directory.socket_path(), UserPartition{.vm_id = {}, .name = "lonely"});
  ASSERT_FALSE(nobody);
  EXPECT_EQ(nobody.error().code, user::ProtocolError::system);
  EXPECT_EQ(nobody.error().sys_errno, ENOENT);
  const Expected<std::unique_ptr<UserTransport>, UserError> unnamed =
      UserTransport::connect(directory.socket_path(), UserPartition{.vm_id = {}, .name = "bad name"});
  ASSERT_FALSE(unnamed);
  EXPECT_EQ(unnamed.error().code, user::ProtocolError::bad_name);
}

TEST(UserTransport, GuestLearnsWhyTheHostRefusedItsMemory) {
  SocketDirectory directory;
  UserListenerOptions small_host;
  small_host.max_memory_bytes = 1 << 20;
  ListenerThread listener(directory.socket_path(), small_host);
  SocketGuest guest(directory.socket_path(), listener, "greedy", two_device_config());
  EXPECT_EQ(guest.connect(), ControlError::host_gone);
  EXPECT_EQ(guest.transport->host_error().code, user::ProtocolError::memory_limit);
  EXPECT_EQ(describe(guest.transport->host_error()), "memory regions exceed the host's limit");
}

// A bare socket playing the host's side of the handshake.
class FakeHost {
 public:
  explicit FakeHost(const std::string& path) : listening_(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
    EXPECT_EQ(bind(listening_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);
    EXPECT_EQ(listen(listening_, 4), 0);
  }
  ~FakeHost() {
    if (client_ >= 0) close(client_);
    close(listening_);
  }
  // Accepts the guest and reads its hello.
  void accept_hello() {
    client_ = accept4(listening_, nullptr, nullptr, SOCK_CLOEXEC);
    std::array<std::byte, 512> hello;
    EXPECT_EQ(recv(client_, hello.data(), hello.size(), 0),
              static_cast<ssize_t>(sizeof(user::FrameHeader) + sizeof(user::HelloPayload)));
  }
  void send_frame(user::FrameType type, std::span<const std::byte> payload) {
    std::vector<std::byte> bytes(sizeof(user::FrameHeader) + payload.size());
    const user::FrameHeader header{.type = static_cast<uint16_t>(type), .fd_count = 0,
                                   .length = static_cast<uint32_t>(payload.size())};
    std::memcpy(bytes.data(), &header, sizeof(header));
    std::copy(payload.begin(), payload.end(), bytes.begin() + sizeof(header));
    EXPECT_EQ(send(client_, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
  }

 private:
  int listening_;
  int client_ = -1;
};

Expected<std::unique_ptr<UserTransport>, UserError> connect_to_fake(const std::string& path, FakeHost& host,
                                                                     const std::function<void()>& answer) {
  UserConnectOptions options;
  options.handshake_timeout = milliseconds(300);
  auto connecting = std::async(std::launch::async, [&] {
    return UserTransport::connect(path, UserPartition{.vm_id = test_vm_id(3), .name = "probe"}, options);
  });
  host.accept_hello();
  answer();
  return connecting.get();
}

TEST(UserTransport, ConnectReportsTheHostsRefusal) {
  SocketDirectory directory;
  FakeHost host(directory.socket_path());
  const auto refused = connect_to_fake(directory.socket_path(), host, [&] {
    const user::ErrorPayload refusal{.code = static_cast<uint32_t>(user::ProtocolError::unsupported_version),
                                     .reserved = 0};
    host.send_frame(user::FrameType::error, std::as_bytes(std::span(&refusal, 1)));
  });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, user::ProtocolError::unsupported_version);
}

TEST(UserTransport, ConnectRefusesAnIncompatibleHost) {
  SocketDirectory directory;
  FakeHost host(directory.socket_path());
  const auto refused = connect_to_fake(directory.socket_path(), host, [&] {
    const user::WelcomePayload welcome{.magic = user::kMagic, .version_major = 2, .version_minor = 0};
    host.send_frame(user::FrameType::welcome, std::as_bytes(std::span(&welcome, 1)));
  });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, user::ProtocolError::unsupported_version);
}

TEST(UserTransport, ConnectToASilentHostTimesOut) {
  SocketDirectory directory;
  FakeHost host(directory.socket_path());
  const auto start = std::chrono::steady_clock::now();
  const auto silent = connect_to_fake(directory.socket_path(), host, [] {});
  ASSERT_FALSE(silent);
  EXPECT_EQ(silent.error().code, user::ProtocolError::handshake_timeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

// A child process connects, opens a channel and is killed; the host sees
// EOF, and once it drops the partition every descriptor is released.
TEST(UserTransport, HostReclaimsEverythingFromAKilledGuest) {
  SocketDirectory directory;
  const std::size_t fds_before = open_fd_count();
  {
    Expected<std::unique_ptr<UserListener>, UserError> listening =
        UserListener::listen(directory.socket_path());
    ASSERT_TRUE(listening);
    UserListener& listener = **listening;
    std::array<int, 2> ready_pipe{};
    ASSERT_EQ(pipe(ready_pipe.data()), 0);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      // The guest: no gtest assertions here, only an exit status on failure.
      close(ready_pipe[0]);
      GuestMemory memory;
      if (!memory.add_region(SocketGuest::kMemoryBytes)) {
        _exit(2);
      }
      auto transport = UserTransport::connect(directory.socket_path(),
                                              UserPartition{.vm_id = test_vm_id(1), .name = "doomed"});
      if (!transport) {
        _exit(3);
      }
      auto connection = VmbusConnection::connect(**transport, memory, quick_options());
      if (!connection || !(*connection)->open_channel(kEchoRelid, small_rings())) {
        _exit(4);
      }
      const char ready = 1;
      [[maybe_unused]] const ssize_t written = write(ready_pipe[1], &ready, 1);
      for (;;) {
        pause();
      }
    }
    close(ready_pipe[1]);
    std::unique_ptr<UserHostTransport> partition;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!partition && std::chrono::steady_clock::now() < deadline) {
      wait_readable(listener.fd(), milliseconds(10));
      AcceptResult result = listener.accept();
      if (result.status == AcceptStatus::partition) {
        partition = std::move(result.partition);
      }
    }
    ASSERT_NE(partition, nullptr);
    EXPECT_EQ(partition->partition().peer.pid, child);
    auto host = std::make_unique<ScriptedHost>(*partition, two_device_config());
    ASSERT_TRUE(wait_readable(ready_pipe[0], std::chrono::seconds(5)));
    close(ready_pipe[0]);
    host->run([&] { EXPECT_EQ(partition->attached_channels(), 1u); });
    EXPECT_EQ(host->open_channels(), std::vector<uint32_t>{kEchoRelid});

    ASSERT_EQ(kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    // The host thread sees EOF; the transport drops the guest's doorbells.
    bool gone = false;
    for (int i = 0; i < 200 && !gone; ++i) {
      host->run([&] { gone = partition->error().code == user::ProtocolError::peer_closed; });
      std::this_thread::sleep_for(milliseconds(5));
    }
    EXPECT_TRUE(gone);
    host->run([&] { EXPECT_EQ(partition->attached_channels(), 0u); });
    host.reset();
    partition.reset();
  }
  EXPECT_EQ(open_fd_count(), fds_before);
}

}  // namespace
}  // namespace uvmbus::channel::test
