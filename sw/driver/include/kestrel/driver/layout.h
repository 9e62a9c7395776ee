// The hardware's bank layouts for MATMUL operands and results (docs/descriptors.md): the
// host packs weights and activations into these images, loads them with LOAD, and unpacks
// the ACC image that STORE brings back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kestrel/golden/matmul.h"
#include "kestrel/hw_config.h"

namespace ks::drv {

/// Sizes of the layouts for one M x K x N product on a configuration.
struct MatmulLayout {
  size_t nb = 0;            ///< weight row blocks: ceil(N / rows)
  size_t kc = 0;            ///< reduction chunks per block: ceil(K / k_per_beat)
  size_t kx = 0;            ///< ACT words per X row: ceil(K / (2 * cols))
  size_t wgt_bytes = 0;     ///< nb * kc tiles of wgt_word_bytes
  size_t act_bytes = 0;     ///< m * kx words of act_word_bytes
  size_t acc_bytes = 0;     ///< m * nb * groups words of acc_word_bytes
  size_t groups = 1;        ///< partial sums per output (MATMUL GROUP field)
  size_t chunk_k = 0;       ///< reduction elements per chunk (cols, or 2 cols for INT4)
};

/// `group` is the MATMUL GROUP field: 0 for one sum over all of K.
MatmulLayout matmul_layout(const hw::HwConfig& cfg, golden::Precision p, size_t m, size_t k, size_t n,
                           unsigned group = 0);

/// W [N][K] in memory layout for p -> the WGT image (tile-major, zero padding).
std::vector<uint8_t> pack_weights(const hw::HwConfig& cfg, golden::Precision p, const uint8_t* w, size_t n,
                                  size_t k);

/// X [M][K] INT8 -> the ACT image (each row KX words of 2*cols values, zero padding).
std::vector<uint8_t> pack_activations(const hw::HwConfig& cfg, const int8_t* x, size_t m, size_t k);

/// The ACC image of an M x N result -> Y [M][N] INT32.
std::vector<int32_t> unpack_results(const hw::HwConfig& cfg, const uint8_t* acc, size_t m, size_t n);

/// The ACC image of a MATMUL with `groups` partial sums per output -> P [M][N][groups].
std::vector<int32_t> unpack_group_results(const hw::HwConfig& cfg, const uint8_t* acc, size_t m, size_t n,
                                          size_t groups);

}  // namespace ks::drv
