// hostd's core control commands (docs/hostd.md): ping, help, partitions,
// devices, stats, add-device, remove-device.
#pragma once

#include "command_table.h"
#include "hostd_context.h"

namespace uvmbus::hostd {

// Registers the core commands; `context` and `table` must outlive their use.
void register_core_commands(CommandTable& table, HostdContext& context);

}  // namespace uvmbus::hostd
