// The golden-model backend: a pure C++ Device that behaves like the RTL core (ks_core) at
// the level a host observes it -- register values and SLVERR responses, memory contents
// after execution, completion writes, the interrupt line, error codes, indices and detail
// values -- but executes descriptors functionally, without cycles. MATMUL results come
// from the golden model of the matrix unit (ks::golden), fed with the raw bank words the
// hardware reads, so they are bit-exact for any bank contents.
//
// Execution happens synchronously: every register write runs the command processor and
// the engines until nothing can make progress. A program that completes on the hardware
// completes here before write32() returns; one that deadlocks on tokens leaves the model
// with STATUS.BUSY = 1, as the hardware would hang. Cycle-dependent details (CYCLES and
// the other cycle-count performance counters, cycles()) read 0. See model.cpp for the
// scheduling rule that decides races the hardware resolves by timing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "kestrel/descriptors.h"
#include "kestrel/driver/device.h"
#include "kestrel/hw_config.h"

namespace ks::drv {

struct ModelOptions {
  /// Device memory: base address and bytes; unset, the configuration's default_mem_base and
  /// default_mem_bytes (16 MiB at 0x1000_0000, or the upper half of a smaller address space).
  std::optional<uint64_t> mem_base;
  std::optional<size_t> mem_size;
};

/// The core in configuration `config` (a name from kestrel/hw_config.h) as a golden model.
/// Throws std::invalid_argument naming the known configurations for an unknown one, or for
/// an empty memory or one that wraps around the 64-bit address space.
std::unique_ptr<Device> make_model_device(std::string_view config, const ModelOptions& opt = {});

/// Error injection, as on the emulated backend's memory: every bus burst issued from now on
/// whose bytes touch [lo, hi) is answered with an error -- on reads (descriptor fetch, LOAD)
/// if `reads`, on writes (STORE, COMPLETE; the burst then leaves memory unchanged) if
/// `writes`. Throws std::invalid_argument if `dev` is not a model device or lo >= hi.
void model_inject_error(Device& dev, uint64_t lo, uint64_t hi, bool reads, bool writes);

/// Removes every injected error range. Throws std::invalid_argument if `dev` is not a model
/// device.
void model_clear_errors(Device& dev);

/// What the host knows of a halted queue: the error, its ring index, the queue's registers and
/// the descriptor the host wrote into that slot (if it has it).
struct ErrorContext {
  desc::Error code = desc::Error::kNone;
  uint32_t index = 0;
  uint32_t ring_base = 0, ring_size = 0, ring_head = 0, ring_tail = 0, win_base = 0, win_size = 0;
  std::optional<desc::Words> descriptor;
};

/// The ERR_INFO detail the golden model of configuration `cfg` records for the error in
/// `ctx`, worked out as its checks would: for a build whose ERR_INFO keeps no detail
/// (err_info_detail = 0). Empty where the host cannot know it: a LOAD's or STORE's failing
/// burst, a DOORBELL_RANGE's value (whoever wrote RING_TAIL knows it), a descriptor that does
/// not fail with ctx.code.
std::optional<uint32_t> model_error_detail(const hw::HwConfig& cfg, const ErrorContext& ctx);

}  // namespace ks::drv
