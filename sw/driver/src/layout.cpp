#include "kestrel/driver/layout.h"

#include <algorithm>
#include <cstring>

#include "kestrel/golden/matrix_unit.h"

namespace ks::drv {

namespace {
size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }
golden::ArrayShape shape_of(const hw::HwConfig& cfg) {
  return golden::ArrayShape{cfg.array_rows, cfg.array_cols, cfg.acc_depth};
}
}  // namespace

MatmulLayout matmul_layout(const hw::HwConfig& cfg, golden::Precision p, size_t m, size_t k, size_t n,
                           unsigned group) {
  MatmulLayout l;
  l.chunk_k = shape_of(cfg).k_per_beat(p);
  l.nb = ceil_div(n, cfg.array_rows);
  l.kc = ceil_div(k, l.chunk_k);
  l.kx = ceil_div(k, 2 * cfg.array_cols);
  l.groups = group == 0 ? 1 : ceil_div(l.kc, size_t{1} << (group - 1));
  l.wgt_bytes = l.nb * l.kc * cfg.wgt_word_bytes;
  l.act_bytes = m * l.kx * cfg.act_word_bytes;
  l.acc_bytes = m * l.nb * l.groups * cfg.acc_word_bytes;
  return l;
}

std::vector<uint8_t> pack_weights(const hw::HwConfig& cfg, golden::Precision p, const uint8_t* w, size_t n,
                                  size_t k) {
  const MatmulLayout l = matmul_layout(cfg, p, 1, k, n);
  const golden::ArrayShape shape = shape_of(cfg);
  std::vector<uint8_t> img(l.wgt_bytes, 0);
  for (size_t nb = 0; nb < l.nb; ++nb) {
    for (size_t kc = 0; kc < l.kc; ++kc) {
      golden::fill_weight_tile(shape, p, w, n, k, nb, kc, &img[(nb * l.kc + kc) * cfg.wgt_word_bytes]);
    }
  }
  return img;
}

std::vector<uint8_t> pack_activations(const hw::HwConfig& cfg, const int8_t* x, size_t m, size_t k) {
  const size_t per_word = 2 * cfg.array_cols;
  const size_t kx = ceil_div(k, per_word);
  std::vector<uint8_t> img(m * kx * cfg.act_word_bytes, 0);
  for (size_t row = 0; row < m; ++row) {
    for (size_t j = 0; j < kx; ++j) {
      const size_t k0 = j * per_word;
      const size_t kn = std::min(per_word, k - k0);
      std::memcpy(&img[(row * kx + j) * cfg.act_word_bytes], x + row * k + k0, kn);
    }
  }
  return img;
}

std::vector<int32_t> unpack_results(const hw::HwConfig& cfg, const uint8_t* acc, size_t m, size_t n) {
  const size_t nb_count = ceil_div(n, cfg.array_rows);
  std::vector<int32_t> y(m * n);
  for (size_t row = 0; row < m; ++row) {
    for (size_t col = 0; col < n; ++col) {
      const size_t word = row * nb_count + col / cfg.array_rows;
      std::memcpy(&y[row * n + col], acc + word * cfg.acc_word_bytes + 4 * (col % cfg.array_rows), 4);
    }
  }
  return y;
}

std::vector<int32_t> unpack_group_results(const hw::HwConfig& cfg, const uint8_t* acc, size_t m, size_t n,
                                          size_t groups) {
  const size_t nb_count = ceil_div(n, cfg.array_rows);
  std::vector<int32_t> p(m * n * groups);
  for (size_t row = 0; row < m; ++row) {
    for (size_t col = 0; col < n; ++col) {
      for (size_t g = 0; g < groups; ++g) {
        const size_t word = (row * nb_count + col / cfg.array_rows) * groups + g;
        std::memcpy(&p[(row * n + col) * groups + g], acc + word * cfg.acc_word_bytes + 4 * (col % cfg.array_rows), 4);
      }
    }
  }
  return p;
}

}  // namespace ks::drv
