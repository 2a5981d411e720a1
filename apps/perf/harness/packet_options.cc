// The ring and channel scenarios' packet options (see packet_options.h).
#include "harness/packet_options.h"

namespace uvmbus::perf {

PacketOptions add_packet_options(CLI::App& command, std::size_t& payload_bytes, std::size_t& batch,
                                 std::size_t& ring_bytes, std::vector<std::string>& impls,
                                 std::span<const std::string_view> impl_names, const PacketHelp& help) {
  PacketOptions added;
  added.payload = command.add_option("--payload", payload_bytes, "payload bytes per packet")
                      ->check(CLI::Range(8, 4096))
                      ->capture_default_str();
  added.batch = command.add_option("--batch", batch, help.batch)
                    ->check(CLI::Range(1, 256))
                    ->capture_default_str();
  command.add_option("--ring-size", ring_bytes, help.ring_size)
      ->transform(CLI::AsSizeValue(false))
      ->check(CLI::Range(std::size_t{8} << 10, std::size_t{16} << 20))
      ->check(CLI::Validator(
          [](const std::string& text) {
            return std::stoull(text) % 4096 == 0 ? std::string() : std::string("not a multiple of 4096");
          },
          "MULTIPLE OF 4096"))
      ->capture_default_str();
  command.add_option("--impl", impls, help.impl)
      ->delimiter(',')
      ->check(CLI::IsMember(std::vector<std::string>(impl_names.begin(), impl_names.end())))
      ->capture_default_str();
  return added;
}

void add_sweep_flag(CLI::App& command, bool& sweep, const PacketOptions& excluded) {
  command.add_flag("--sweep", sweep, "payloads 64,256,1024,4096 x batches 1,8,32,256")
      ->excludes(excluded.payload)
      ->excludes(excluded.batch);
}

}  // namespace uvmbus::perf
