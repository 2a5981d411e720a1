// uvmbus-perf: pinned two-thread benchmarks of the stack's layers, one
// subcommand per scenario, sharing one harness (records, table, JSON).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <exception>

#include "channel/channel_command.h"
#include "kvp/kvp_command.h"
#include "ring/ring_command.h"

int main(int argc, char** argv) {
  CLI::App app{"uvmbus-perf: benchmarks of the uvmbus VMBus stack"};
  app.require_subcommand(1);
  uvmbus::perf::ring_bench::add_ring_command(app);
  uvmbus::perf::channel_bench::add_channel_command(app);
  uvmbus::perf::kvp_bench::add_kvp_command(app);
  try {
    app.parse(argc, argv);  // runs the chosen scenario
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  } catch (const std::exception& error) {
    fmt::print(stderr, "uvmbus-perf: error: {}\n", error.what());
    return 1;
  }
  return 0;
}
