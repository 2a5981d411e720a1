// uvmbus-kvpd: the Hyper-V KVP guest daemon on the poll-mode VMBus stack.
// Drop-in for hv_kvp_daemon's pool files and flags (docs/kvpd.md).
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "kvpd_options.h"
#include "kvpd_run.h"
#include "log.h"

namespace {

std::atomic<bool> stop_requested{false};

void request_stop(int) { stop_requested.store(true, std::memory_order_relaxed); }

}  // namespace

int main(int argc, char** argv) {
  using namespace uvmbus::kvpd;
  ParsedOptions parsed = parse_options(argc, argv);
  if (!parsed.options) {
    return parsed.exit_code;
  }
  const KvpdOptions& options = *parsed.options;
  if (options.debug) {
    enable_debug_log();
  }
  StoreOpen store = open_pool_store(options);
  if (!store.store) {
    return store.exit_code;
  }
  TransportOpen transport = open_transport(options);
  if (!transport.transport) {
    return transport.exit_code;
  }
  // Like hv_kvp_daemon: detach unless -n; stderr stays open for the log.
  if (!options.no_daemon && daemon(0, 1) != 0) {
    log(LogLevel::error, "event=daemon_failed errno={}", errno);
    return kExitSoftware;
  }
  struct sigaction action {};
  action.sa_handler = request_stop;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  return serve(options, *transport.transport, *store.store, stop_requested);
}
