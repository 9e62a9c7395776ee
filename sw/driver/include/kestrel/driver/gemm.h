// GEMM on the device for any shape: tiles Y = X W^T over the configured SRAM banks with
// double buffering (the next weight and activation tiles load while the array computes,
// and results drain while the next tile computes), ordered by dependency tokens.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kestrel/driver/device.h"
#include "kestrel/driver/queue.h"
#include "kestrel/golden/matmul.h"

namespace ks::drv {

/// A bump allocator over a region of device memory (addresses the core can reach).
class DeviceArena {
 public:
  DeviceArena(uint32_t base, size_t size) : base_(base), size_(size) {}
  /// Reserves `bytes` aligned to `align`; throws std::bad_alloc-like std::runtime_error
  /// naming the request when the arena is exhausted.
  uint32_t alloc(size_t bytes, size_t align = 64);
  void reset() { used_ = 0; }
  size_t used() const { return used_; }

 private:
  uint32_t base_;
  size_t size_;
  size_t used_ = 0;
};

/// How a product was cut into tiles.
struct GemmTiling {
  size_t mt = 0, nt = 0, kt = 0;        ///< tile sizes
  size_t m_tiles = 0, n_tiles = 0, k_tiles = 0;
  size_t descriptors = 0;               ///< descriptors submitted
};

/// Figures of one run, from the core's performance counters.
struct GemmStats {
  uint64_t cycles = 0;          ///< CYCLES over the run
  uint64_t macs = 0;            ///< useful MACs (MACS counter)
  uint64_t compute_cycles = 0;  ///< beats that entered the array (MU_BUSY): compute alone
  uint64_t bytes_read = 0, bytes_written = 0;
  double utilization = 0;       ///< macs / (cycles x peak MACs per cycle)
  double transfer_cycles = 0;   ///< (bytes read + written) / memory bytes per cycle: transfers alone
  double overlap = 0;           ///< cycles / max(compute_cycles, transfer_cycles)
  double bandwidth_fraction = 0;  ///< (bytes read + written) / (cycles x memory bytes per cycle)
};

/// Y[M][N] = X[M][K] W[N][K]^T, X INT8 row-major, W row-major in memory layout for p
/// (packed INT4 rows for kInt4). Packs the operands into the hardware's bank layouts in
/// `arena`, streams the program through `q` (which must have been started), and returns Y.
/// Partial sums of a reduction split over several K tiles are added on the host, with the
/// hardware's INT32 wrap-around.
std::vector<int32_t> gemm(Device& dev, CommandQueue& q, DeviceArena& arena, golden::Precision p, const int8_t* x,
                          const uint8_t* w, size_t m, size_t n, size_t k, GemmTiling* tiling = nullptr,
                          GemmStats* stats = nullptr, double mem_bytes_per_cycle = 0);

/// The tiling gemm() would use on this configuration.
GemmTiling plan_gemm(const hw::HwConfig& cfg, golden::Precision p, size_t m, size_t n, size_t k);

}  // namespace ks::drv
