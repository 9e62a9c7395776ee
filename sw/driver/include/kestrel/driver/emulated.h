// The emulated-hardware backend: the Verilated core in-process, its AXI4 master connected
// to a cycle-based memory model (ks::emu::AxiMemory) and its AXI4-Lite slave driven by
// register accesses that advance the clock.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "kestrel/driver/device.h"
#include "kestrel/emu/axi_memory.h"

namespace ks::drv {

struct EmulatedOptions {
  /// Device memory: base address and bytes; unset, the configuration's default_mem_base and
  /// default_mem_bytes (16 MiB at 0x1000_0000, or the upper half of a smaller address space).
  std::optional<uint64_t> mem_base;
  std::optional<size_t> mem_size;
  uint32_t read_latency = 20;         ///< memory model: cycles from AR to first R beat
  uint32_t write_latency = 10;        ///< memory model: cycles from last W to B
  uint32_t max_outstanding = 8;       ///< memory model: bursts in flight per direction
  double bytes_per_cycle = 0;         ///< memory bandwidth; 0 = the configuration's default
  std::string waveform;               ///< FST file to write (needs a KS_TRACE build)
  double stream_stall = 0;            ///< token stream sink: probability tready is low in a cycle
  uint64_t stream_seed = 1;           ///< seed of the tready pattern
};

/// The core in configuration `config` on the emulated backend. Throws std::invalid_argument
/// for an unknown configuration.
std::unique_ptr<Device> make_emulated_device(std::string_view config, const EmulatedOptions& opt = {});

/// The memory model behind an emulated device (for error injection and statistics), or
/// nullptr if `dev` is not emulated.
emu::AxiMemory* emulated_memory(Device& dev);

/// Protocol violations the memory model saw on the core's AXI4 master (empty when clean).
std::vector<std::string> emulated_violations(Device& dev);

}  // namespace ks::drv
