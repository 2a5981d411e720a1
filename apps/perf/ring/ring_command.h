// The `ring` subcommand of uvmbus-perf: the VMBus ring against rte_ring and a
// raw cache line, stream and ping-pong, on two pinned cores.
#pragma once

#include <CLI/CLI.hpp>

namespace uvmbus::perf::ring_bench {

void add_ring_command(CLI::App& app);

}  // namespace uvmbus::perf::ring_bench
