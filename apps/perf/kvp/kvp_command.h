// The `kvp` subcommand of uvmbus-perf: host-driven KVP SET, GET and
// ENUMERATE at several pool sizes, from the host/ library's KVP device in
// this process to uvmbus-kvpd (a process over the user transport, or
// in-process over loopback), with the pool files under /var/lib/hyperv.
// Records carry op, records, ops_per_s, p50_us and p99_us.
#pragma once

#include <CLI/CLI.hpp>

namespace uvmbus::perf::kvp_bench {

void add_kvp_command(CLI::App& app);

}  // namespace uvmbus::perf::kvp_bench
