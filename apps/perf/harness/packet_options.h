// Options the ring and channel scenarios share: --payload, --batch,
// --ring-size and --impl, and --sweep over payloads and batches.
#pragma once

#include <CLI/CLI.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace uvmbus::perf {

// What --batch, --ring-size and --impl say in the scenario's help.
struct PacketHelp {
  const char* batch;
  const char* ring_size;
  const char* impl;
};

// --payload and --batch, which --sweep excludes.
struct PacketOptions {
  CLI::Option* payload;
  CLI::Option* batch;
};

// Adds --payload (8..4096), --batch (1..256), --ring-size (8 KiB..16 MiB,
// a multiple of 4096) and --impl (a comma list of impl_names).
PacketOptions add_packet_options(CLI::App& command, std::size_t& payload_bytes, std::size_t& batch,
                                 std::size_t& ring_bytes, std::vector<std::string>& impls,
                                 std::span<const std::string_view> impl_names, const PacketHelp& help);

// Adds --sweep (payloads 64,256,1024,4096 x batches 1,8,32,256).
void add_sweep_flag(CLI::App& command, bool& sweep, const PacketOptions& excluded);

}  // namespace uvmbus::perf
