// hostd's control socket: a unix SOCK_SEQPACKET socket with mode 0600,
// answering requests (one JSON object per message, control_protocol.h) with
// a CommandTable. Only root and hostd's own uid may use it: the peer's
// credentials (SO_PEERCRED) are checked at accept, and anyone else gets a
// permission_denied reply and is disconnected. At most kMaxClients at once;
// malformed and oversized requests get error replies, never a crash. Main
// thread only; serve() never blocks: commands that wait on a guest run as
// DeferredCalls, and their replies go out when they are done (so a client
// with several requests in flight matches replies by the requests' "id").
// Destroy the server only after stopping the VMBus server: destruction
// waits for the deferred calls still running.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "command_table.h"
#include "deferred_calls.h"
#include "uvmbus/runtime/expected.h"

namespace uvmbus::hostd {

class ControlServer {
 public:
  static constexpr std::size_t kMaxClients = 16;

  // Binds `path` (prepare_socket_path first). `table` must outlive the server.
  static runtime::Expected<std::unique_ptr<ControlServer>, std::string> listen(const std::string& path,
                                                                               const CommandTable& table);
  ~ControlServer();  // closes every connection and removes the socket file
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Readable when serve() has work.
  int fd() const noexcept { return epoll_; }
  // Accepts connections and answers the requests that have arrived.
  void serve();

 private:
  struct Client {
    int fd = -1;
    uint64_t id = 0;  // unique for the server's life (fds are reused)
    pid_t pid = 0;
    uid_t uid = 0;
  };

  ControlServer(int listening, int epoll, std::string path, const CommandTable& table);
  void accept_clients();
  // Answers what `fd` sent; false when the client is to be dropped.
  bool answer(const Client& client);
  void drop(int fd);
  // Sends the replies of the deferred calls that are done.
  void deliver();

  int listening_;
  int epoll_;
  std::string path_;
  const CommandTable& table_;
  std::vector<Client> clients_;
  uint64_t next_client_ = 1;
  DeferredCalls deferred_;
};

}  // namespace uvmbus::hostd
