// uvmbus-hostd: the VMBus host emulator daemon (docs/hostd.md). Guests
// connect on the `user` socket; uvmbus-host administers it on the control
// socket. SIGTERM or SIGINT stops it cleanly.
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "hostd.h"
#include "hostd_options.h"
#include "log.h"

int main(int argc, char** argv) {
  using namespace uvmbus::hostd;
  ParsedOptions parsed = parse_options(argc, argv);
  if (!parsed.options) {
    return parsed.exit_code;
  }
  HostdOptions& options = *parsed.options;
  set_log_level(options.config.log_level);
  // Before any thread exists: daemon() forks, and the blocked signals are
  // inherited by every thread, so only the signalfd sees them.
  if (!options.foreground && daemon(0, 1) != 0) {
    log(LogLevel::error, "event=daemon_failed errno={}", errno);
    return kExitSoftware;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigprocmask(SIG_BLOCK, &signals, nullptr);
  const int signal_fd = signalfd(-1, &signals, SFD_CLOEXEC);
  if (signal_fd < 0) {
    log(LogLevel::error, "event=start_failed reason=\"signalfd: {}\"", std::strerror(errno));
    return kExitSoftware;
  }
  signal(SIGPIPE, SIG_IGN);
  auto hostd = Hostd::start(std::move(options.config));
  if (!hostd) {
    log(LogLevel::error, "event=start_failed reason=\"{}\"", hostd.error().message);
    return hostd.error().exit_code;
  }
  const int code = (*hostd)->run(signal_fd);
  hostd->reset();
  close(signal_fd);
  log(LogLevel::info, "event=stopped");
  return code;
}
