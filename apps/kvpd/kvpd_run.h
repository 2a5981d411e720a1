// The body of uvmbus-kvpd after its flags are parsed, split from main() so
// tests can run it in-process on a loopback transport with a scripted host:
// open the pool store, then serve the KVP device over a transport until
// stopped or the host goes away. Errors are logged with a clear reason and
// returned as the process's exit code (kvpd_options.h).
#pragma once

#include <atomic>
#include <memory>

#include "kvpd_options.h"
#include "uvmbus/channel/transport.h"
#include "uvmbus/kvp/pool_store.h"

namespace uvmbus::kvpd {

struct StoreOpen {
  std::unique_ptr<kvp::PoolStore> store;  // null: exit with exit_code
  int exit_code = 0;
};
[[nodiscard]] StoreOpen open_pool_store(const KvpdOptions& options);

struct TransportOpen {
  std::unique_ptr<channel::Transport> transport;  // null: exit with exit_code
  int exit_code = 0;
};
// The transport --transport names, as far as this build has it.
[[nodiscard]] TransportOpen open_transport(const KvpdOptions& options);

// Serves the KVP device on `transport` until `stop` is set (returns 0) or
// the host is gone; a missing device or a failure to start gives its code.
[[nodiscard]] int serve(const KvpdOptions& options, channel::Transport& transport,
                        kvp::PoolStore& store, const std::atomic<bool>& stop);

}  // namespace uvmbus::kvpd
