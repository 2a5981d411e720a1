// Hostile clients of the `user` transport's host end, written as raw socket
// frames: a bad handshake is refused with its cause, a violation after the
// handshake ends that partition with its cause (error frame, then EOF), no
// received descriptor is leaked, and the listener keeps serving others.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "loopback_fixture.h"
#include "user_fixture.h"
#include "uvmbus/channel/user_protocol.h"

namespace uvmbus::channel::test {
namespace {

using std::chrono::milliseconds;
using user::FrameType;
using user::ProtocolError;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

Fd raw_connect(const std::string& path) {
  Fd socket(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  EXPECT_EQ(connect(socket.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);
  return socket;
}

// Sends `bytes` as one datagram with `fds`.
void send_raw(int socket, std::span<const std::byte> bytes, std::span<const int> fds = {}) {
  iovec part{.iov_base = const_cast<std::byte*>(bytes.data()), .iov_len = bytes.size()};
  alignas(cmsghdr) std::array<std::byte, CMSG_SPACE(sizeof(int) * 16)> control{};
  msghdr message{};
  message.msg_iov = &part;
  message.msg_iovlen = 1;
  if (!fds.empty()) {
    message.msg_control = control.data();
    message.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* rights = CMSG_FIRSTHDR(&message);
    rights->cmsg_level = SOL_SOCKET;
    rights->cmsg_type = SCM_RIGHTS;
    rights->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(rights), fds.data(), sizeof(int) * fds.size());
  }
  ASSERT_GE(sendmsg(socket, &message, MSG_NOSIGNAL), 0) << std::strerror(errno);
}

// A frame: header (type, fd_count, length = payload size) and payload.
std::vector<std::byte> frame(uint16_t type, std::span<const std::byte> payload, uint16_t fd_count = 0) {
  const user::FrameHeader header{.type = type, .fd_count = fd_count,
                                 .length = static_cast<uint32_t>(payload.size())};
  std::vector<std::byte> bytes(sizeof(header) + payload.size());
  std::memcpy(bytes.data(), &header, sizeof(header));
  std::copy(payload.begin(), payload.end(), bytes.begin() + sizeof(header));
  return bytes;
}

template <typename Payload>
std::vector<std::byte> frame_of(FrameType type, const Payload& payload, uint16_t fd_count = 0) {
  return frame(static_cast<uint16_t>(type), std::as_bytes(std::span(&payload, 1)), fd_count);
}

user::HelloPayload good_hello(std::string_view name = "hostile") {
  user::HelloPayload hello{};
  hello.magic = user::kMagic;
  hello.version_major = user::kVersionMajor;
  hello.version_minor = user::kVersionMinor;
  hello.vm_id = test_vm_id(42);
  hello.name_length = static_cast<uint32_t>(name.size());
  std::memcpy(hello.name, name.data(), name.size());
  return hello;
}

// The error code of the frame the host sent last before EOF, or none.
ProtocolError error_frame_then_eof(int socket) {
  ProtocolError error = ProtocolError::none;
  for (;;) {
    if (!wait_readable(socket, std::chrono::seconds(5))) {
      ADD_FAILURE() << "no EOF from the host";
      return error;
    }
    std::array<std::byte, 512> buffer;
    const ssize_t bytes = recv(socket, buffer.data(), buffer.size(), 0);
    if (bytes <= 0) {
      return error;
    }
    user::FrameHeader header{};
    std::memcpy(&header, buffer.data(), sizeof(header));
    if (header.type == static_cast<uint16_t>(FrameType::error)) {
      user::ErrorPayload payload{};
      std::memcpy(&payload, buffer.data() + sizeof(header), sizeof(payload));
      error = static_cast<ProtocolError>(payload.code);
    }
  }
}

// A memfd of `bytes`, sealed against shrinking unless `sealed` is false.
Fd make_memfd(std::size_t bytes, bool sealed = true) {
  Fd fd(memfd_create("hostile", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  EXPECT_EQ(ftruncate(fd.get(), static_cast<off_t>(bytes)), 0);
  if (sealed) {
    EXPECT_EQ(fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW), 0);
  }
  return fd;
}

class UserHostile : public ::testing::Test {
 protected:
  UserHostile() : listener_(directory_.socket_path(), options()) {}

  static UserListenerOptions options() {
    UserListenerOptions options;
    options.max_regions = 3;
    options.max_memory_bytes = uint64_t{32} << 20;  // a SocketGuest's 16 MiB fits
    options.handshake_timeout = milliseconds(200);
    return options;
  }

  // Sends `bytes` (with `fds`) as the first frame; expects a refusal with
  // `expected`, seen by both the listener and the client.
  void expect_handshake_refused(std::span<const std::byte> bytes, ProtocolError expected,
                                std::span<const int> fds = {}) {
    Fd client = raw_connect(directory_.socket_path());
    send_raw(client.get(), bytes, fds);
    const std::optional<AcceptResult> refusal = listener_.next_refusal();
    ASSERT_TRUE(refusal);
    EXPECT_EQ(refusal->error.code, expected) << user::to_string(refusal->error.code);
    EXPECT_EQ(refusal->peer.pid, getpid());
    EXPECT_EQ(error_frame_then_eof(client.get()), expected);
  }

  // A client past the handshake, and the partition the host accepted.
  struct Session {
    Fd client;
    std::unique_ptr<UserHostTransport> partition;
  };
  Session handshake() {
    Session session{raw_connect(directory_.socket_path()), nullptr};
    send_raw(session.client.get(), frame_of(FrameType::hello, good_hello()));
    session.partition = listener_.next_partition();
    EXPECT_NE(session.partition, nullptr);
    return session;
  }

  // Sends frames until the host's receive_control() reports closed; expects
  // the partition's error and the client's error frame to be `expected`.
  void expect_partition_ended(Session& session, ProtocolError expected) {
    std::array<std::byte, wire::kMaxChannelMessageSize> buffer;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    TransportStatus status = TransportStatus::empty;
    while (status != TransportStatus::closed && std::chrono::steady_clock::now() < deadline) {
      wait_readable(session.partition->control_fd(), milliseconds(10));
      status = session.partition->receive_control(buffer).status;
    }
    ASSERT_EQ(status, TransportStatus::closed);
    EXPECT_EQ(session.partition->error().code, expected)
        << user::to_string(session.partition->error().code);
    EXPECT_EQ(error_frame_then_eof(session.client.get()), expected);
    EXPECT_EQ(session.partition->attached_channels(), 0u);
  }

  // Afterwards a well-behaved guest still gets served.
  void expect_listener_still_serves() {
    SocketGuest guest(directory_.socket_path(), listener_, "well-behaved", two_device_config());
    Channel& channel = guest.open(kEchoRelid);
    const std::array<std::byte, 4> payload{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};
    ASSERT_EQ(send_one(channel, payload).status, SendStatus::ok);
    ASSERT_EQ(receive(channel, 1).size(), 1u);
  }

  SocketDirectory directory_;
  ListenerThread listener_;
};

TEST_F(UserHostile, HandshakeWithBadMagicIsRefused) {
  user::HelloPayload hello = good_hello();
  hello.magic = 0x12345678;
  expect_handshake_refused(frame_of(FrameType::hello, hello), ProtocolError::bad_magic);
  expect_listener_still_serves();
}

TEST_F(UserHostile, HandshakeWithAnotherMajorVersionIsRefused) {
  user::HelloPayload hello = good_hello();
  hello.version_major = 2;
  expect_handshake_refused(frame_of(FrameType::hello, hello), ProtocolError::unsupported_version);
}

TEST_F(UserHostile, NewerMinorVersionIsAnsweredWithOurs) {
  Fd client = raw_connect(directory_.socket_path());
  user::HelloPayload hello = good_hello();
  hello.version_minor = 77;
  send_raw(client.get(), frame_of(FrameType::hello, hello));
  const std::unique_ptr<UserHostTransport> partition = listener_.next_partition();
  ASSERT_NE(partition, nullptr);
  EXPECT_EQ(partition->partition().protocol_minor, user::kVersionMinor);
}

TEST_F(UserHostile, HandshakeWithBadNamesIsRefused) {
  user::HelloPayload spaces = good_hello("has space");
  expect_handshake_refused(frame_of(FrameType::hello, spaces), ProtocolError::bad_name);
  user::HelloPayload too_long = good_hello();
  too_long.name_length = 65;
  expect_handshake_refused(frame_of(FrameType::hello, too_long), ProtocolError::bad_name);
  user::HelloPayload trailing = good_hello();
  trailing.name[63] = 'x';
  expect_handshake_refused(frame_of(FrameType::hello, trailing), ProtocolError::bad_name);
}

TEST_F(UserHostile, TruncatedAndOversizedHandshakesAreRefused) {
  const std::vector<std::byte> hello = frame_of(FrameType::hello, good_hello());
  expect_handshake_refused(std::span(hello).first(5), ProtocolError::truncated_frame);
  // A header that claims the whole hello, with half of it.
  expect_handshake_refused(std::span(hello).first(40), ProtocolError::bad_length);
  std::vector<std::byte> short_hello = frame(static_cast<uint16_t>(FrameType::hello),
                                             std::span(hello).subspan(8, 40));
  expect_handshake_refused(short_hello, ProtocolError::truncated_frame);
  std::vector<std::byte> huge(4000, std::byte{0});
  std::memcpy(huge.data(), hello.data(), hello.size());
  expect_handshake_refused(huge, ProtocolError::oversized_frame);
}

TEST_F(UserHostile, HandshakeMustStartWithHello) {
  const std::array<std::byte, 8> message{};
  expect_handshake_refused(frame(static_cast<uint16_t>(FrameType::control), message),
                           ProtocolError::unexpected_type);
  expect_handshake_refused(frame(99, message), ProtocolError::unknown_type);
}

TEST_F(UserHostile, HelloWithDescriptorsIsRefusedAndTheyAreClosed) {
  const std::size_t fds_before = open_fd_count();
  {
    Fd memfd = make_memfd(4096);
    const std::array<int, 3> fds = {memfd.get(), memfd.get(), memfd.get()};
    expect_handshake_refused(frame_of(FrameType::hello, good_hello(), 3), ProtocolError::wrong_fd_count,
                             fds);
  }
  EXPECT_EQ(open_fd_count(), fds_before);
}

TEST_F(UserHostile, SilentClientTimesOutWithoutStallingOthers) {
  Fd silent = raw_connect(directory_.socket_path());
  expect_listener_still_serves();
  const std::optional<AcceptResult> refusal = listener_.next_refusal();
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->error.code, ProtocolError::handshake_timeout);
  EXPECT_EQ(error_frame_then_eof(silent.get()), ProtocolError::handshake_timeout);
}

TEST_F(UserHostile, DescriptorsOnAControlFrameEndThePartitionAndAreClosed) {
  const std::size_t fds_before = open_fd_count();
  {
    Session session = handshake();
    Fd memfd = make_memfd(4096);
    const std::array<std::byte, 8> message{};
    const int fd = memfd.get();
    send_raw(session.client.get(), frame(static_cast<uint16_t>(FrameType::control), message, 1),
             std::span(&fd, 1));
    expect_partition_ended(session, ProtocolError::wrong_fd_count);
  }
  EXPECT_EQ(open_fd_count(), fds_before);
  expect_listener_still_serves();
}

TEST_F(UserHostile, RegionWithoutOrWithTooManyDescriptorsIsRefused) {
  const user::AddRegionPayload region{.base_gpa = 0, .size = 4096};
  {
    Session session = handshake();
    send_raw(session.client.get(), frame_of(FrameType::add_region, region, 0));
    expect_partition_ended(session, ProtocolError::wrong_fd_count);
  }
  {
    Session session = handshake();
    Fd memfd = make_memfd(4096);
    const std::array<int, 2> fds = {memfd.get(), memfd.get()};
    send_raw(session.client.get(), frame_of(FrameType::add_region, region, 1), fds);
    expect_partition_ended(session, ProtocolError::wrong_fd_count);
  }
  {
    // More descriptors than any frame carries: the excess is discarded.
    const std::size_t fds_before = open_fd_count();
    {
      Session session = handshake();
      Fd memfd = make_memfd(4096);
      std::vector<int> fds(12, memfd.get());
      send_raw(session.client.get(), frame_of(FrameType::add_region, region, 12), fds);
      expect_partition_ended(session, ProtocolError::wrong_fd_count);
    }
    EXPECT_EQ(open_fd_count(), fds_before);
  }
}

TEST_F(UserHostile, UnsealedTooSmallAndMisalignedRegionsAreRefused) {
  const auto try_region = [&](Fd memfd, user::AddRegionPayload region) {
    Session session = handshake();
    const int fd = memfd.get();
    send_raw(session.client.get(), frame_of(FrameType::add_region, region, 1), std::span(&fd, 1));
    expect_partition_ended(session, ProtocolError::bad_region);
  };
  try_region(make_memfd(8192, false), {.base_gpa = 0, .size = 8192});
  try_region(make_memfd(4096), {.base_gpa = 0, .size = 8192});
  try_region(make_memfd(8192), {.base_gpa = 100, .size = 4096});
  Fd not_a_memfd(eventfd(0, EFD_CLOEXEC));
  try_region(std::move(not_a_memfd), {.base_gpa = 0, .size = 4096});
}

TEST_F(UserHostile, OverlappingRegionsAreRefused) {
  Session session = handshake();
  Fd first = make_memfd(8192);
  Fd second = make_memfd(8192);
  const int first_fd = first.get();
  const int second_fd = second.get();
  send_raw(session.client.get(),
           frame_of(FrameType::add_region, user::AddRegionPayload{.base_gpa = 0x10000, .size = 8192}, 1),
           std::span(&first_fd, 1));
  send_raw(session.client.get(),
           frame_of(FrameType::add_region, user::AddRegionPayload{.base_gpa = 0x11000, .size = 8192}, 1),
           std::span(&second_fd, 1));
  expect_partition_ended(session, ProtocolError::overlapping_region);
  EXPECT_EQ(session.partition->guest_memory().region_count(), 1u);
}

TEST_F(UserHostile, TooManyRegionsAndTooMuchMemoryAreRefused) {
  {
    Session session = handshake();
    Fd memfd = make_memfd(4096);
    const int fd = memfd.get();
    for (uint64_t i = 0; i < 4; ++i) {
      send_raw(session.client.get(),
               frame_of(FrameType::add_region, user::AddRegionPayload{.base_gpa = i * 4096, .size = 4096}, 1),
               std::span(&fd, 1));
    }
    expect_partition_ended(session, ProtocolError::too_many_regions);
    EXPECT_EQ(session.partition->guest_memory().region_count(), 3u);
  }
  {
    Session session = handshake();
    Fd memfd = make_memfd(64 << 20);
    const int fd = memfd.get();
    send_raw(session.client.get(),
             frame_of(FrameType::add_region, user::AddRegionPayload{.base_gpa = 0, .size = 64 << 20}, 1),
             std::span(&fd, 1));
    expect_partition_ended(session, ProtocolError::memory_limit);
  }
}

TEST_F(UserHostile, DoorbellsMustBeNonBlockingEventfds) {
  std::array<int, 2> pipe_fds{};
  ASSERT_EQ(pipe2(pipe_fds.data(), O_NONBLOCK | O_CLOEXEC), 0);
  Fd read_end(pipe_fds[0]);
  Fd write_end(pipe_fds[1]);
  Fd blocking(eventfd(0, EFD_CLOEXEC));
  Fd good(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  const user::ChannelPayload attach{.relid = 7, .reserved = 0};
  for (const int bad : {read_end.get(), blocking.get()}) {
    Session session = handshake();
    const std::array<int, 2> fds = {good.get(), bad};
    send_raw(session.client.get(), frame_of(FrameType::attach_channel, attach, 2), fds);
    expect_partition_ended(session, ProtocolError::bad_doorbell);
  }
}

// The doorbells' file flags are shared with the guest, which may clear
// O_NONBLOCK after attaching: the host still never blocks on them.
TEST_F(UserHostile, ClearingNonBlockOnADoorbellCannotBlockTheHost) {
  Fd to_host(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  Fd to_guest(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  Session session = handshake();
  const std::array<int, 2> fds = {to_host.get(), to_guest.get()};
  send_raw(session.client.get(),
           frame_of(FrameType::attach_channel, user::ChannelPayload{.relid = 5, .reserved = 0}, 2), fds);
  std::array<std::byte, wire::kMaxChannelMessageSize> buffer;
  std::shared_ptr<HostChannelLink> link;
  for (int i = 0; i < 100 && !link; ++i) {
    wait_readable(session.partition->control_fd(), milliseconds(10));
    [[maybe_unused]] const ControlReceive received = session.partition->receive_control(buffer);
    link = session.partition->channel_link(5);
  }
  ASSERT_NE(link, nullptr);
  ASSERT_EQ(fcntl(to_host.get(), F_SETFL, 0), 0);
  ASSERT_EQ(fcntl(to_guest.get(), F_SETFL, 0), 0);
  const uint64_t nearly_full = 0xfffffffffffffffeull;
  ASSERT_EQ(write(to_guest.get(), &nearly_full, sizeof(nearly_full)), 8);
  std::atomic<bool> returned{false};
  std::thread host_side([&] {
    link->acknowledge_doorbell();  // nothing pending
    link->signal_guest();          // no room
    returned = true;
  });
  for (int i = 0; i < 100 && !returned; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_TRUE(returned);
  if (!returned) {  // release the blocked calls so the test can end
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t rung = write(to_host.get(), &one, sizeof(one));
    uint64_t drained = 0;
    [[maybe_unused]] const ssize_t read_back = read(to_guest.get(), &drained, sizeof(drained));
  }
  host_side.join();
}

TEST_F(UserHostile, RelidsMustBeValidAndAttachedOnce) {
  Fd to_host(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  Fd to_guest(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  const std::array<int, 2> fds = {to_host.get(), to_guest.get()};
  {
    Session session = handshake();
    send_raw(session.client.get(),
             frame_of(FrameType::attach_channel, user::ChannelPayload{.relid = 0, .reserved = 0}, 2), fds);
    expect_partition_ended(session, ProtocolError::bad_relid);
  }
  {
    Session session = handshake();
    const user::ChannelPayload attach{.relid = 5, .reserved = 0};
    send_raw(session.client.get(), frame_of(FrameType::attach_channel, attach, 2), fds);
    send_raw(session.client.get(), frame_of(FrameType::attach_channel, attach, 2), fds);
    expect_partition_ended(session, ProtocolError::bad_relid);
  }
  {
    Session session = handshake();
    send_raw(session.client.get(),
             frame_of(FrameType::detach_channel, user::ChannelPayload{.relid = 9, .reserved = 0}));
    expect_partition_ended(session, ProtocolError::bad_relid);
  }
}

TEST_F(UserHostile, HandshakeFramesAfterTheHandshakeEndThePartition) {
  Session session = handshake();
  send_raw(session.client.get(), frame_of(FrameType::hello, good_hello()));
  expect_partition_ended(session, ProtocolError::unexpected_type);
}

TEST_F(UserHostile, OversizedControlMessagesAreDroppedNotFatal) {
  Session session = handshake();
  const std::vector<std::byte> too_big(wire::kMaxChannelMessageSize + 1, std::byte{0});
  send_raw(session.client.get(), frame(static_cast<uint16_t>(FrameType::control), too_big));
  const std::array<std::byte, 16> fine{std::byte{3}};
  send_raw(session.client.get(), frame(static_cast<uint16_t>(FrameType::control), fine));
  std::array<std::byte, wire::kMaxChannelMessageSize> buffer;
  ASSERT_TRUE(wait_readable(session.partition->control_fd(), std::chrono::seconds(5)));
  EXPECT_EQ(session.partition->receive_control(buffer).status, TransportStatus::oversized);
  const ControlReceive next = session.partition->receive_control(buffer);
  EXPECT_EQ(next.status, TransportStatus::ok);
  EXPECT_EQ(next.size, fine.size());
}

TEST_F(UserHostile, EmptyControlFramesAreTruncated) {
  Session session = handshake();
  send_raw(session.client.get(), frame(static_cast<uint16_t>(FrameType::control), {}));
  expect_partition_ended(session, ProtocolError::truncated_frame);
}

}  // namespace
}  // namespace uvmbus::channel::test
