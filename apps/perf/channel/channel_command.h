// The `channel` subcommand of uvmbus-perf: lib/channel streaming to the
// host's sink device and round trips through its echo device, with the
// embedded host over loopback or a running uvmbus-hostd over the user
// transport, beside the raw ring on the same cores.
#pragma once

#include <CLI/CLI.hpp>

namespace uvmbus::perf::channel_bench {

void add_channel_command(CLI::App& app);

}  // namespace uvmbus::perf::channel_bench
