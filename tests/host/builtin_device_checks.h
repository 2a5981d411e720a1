// Test support: what a guest checks of the built-in echo and sink devices,
// shared by the in-process server tests and the end-to-end tests against a
// real uvmbus-hostd (same checks, different host).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "uvmbus/channel/channel.h"
#include "uvmbus/channel/guest_memory.h"
#include "uvmbus/channel/offer.h"
#include "uvmbus/channel/vmbus_connection.h"

namespace uvmbus::host::test {

// The bytes of `s`.
std::vector<std::byte> text(std::string_view s);

// Polls `condition` until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::seconds(5));

// True if one request through an echo channel comes back completed with its payload.
bool echoes(channel::Channel& channel, std::string_view message);

// Asks the device behind `channel` (primary `primary_relid`) for `count`
// sub-channels and returns the offers that arrive (checked: the completion
// grants `count`).
std::vector<channel::Offer> request_subchannels(channel::VmbusConnection& connection,
                                                channel::Channel& channel,
                                                uint32_t primary_relid, uint32_t count);

// Sends a GPA-direct packet naming 9000 bytes of patterned guest pages
// through an echo channel and checks the host's reply: one range, every
// byte read, FNV-1a checksum of exactly those bytes.
void expect_gpa_direct_checksum(channel::Channel& channel, channel::GuestMemory& memory);

}  // namespace uvmbus::host::test
