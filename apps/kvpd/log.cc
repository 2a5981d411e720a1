// The debug switch of kvpd's log (see log.h).
#include "log.h"

namespace uvmbus::kvpd {
namespace {
std::atomic<bool> debug_enabled{false};
}  // namespace

void enable_debug_log() noexcept { debug_enabled.store(true, std::memory_order_relaxed); }
bool debug_log_enabled() noexcept { return debug_enabled.load(std::memory_order_relaxed); }

}  // namespace uvmbus::kvpd
