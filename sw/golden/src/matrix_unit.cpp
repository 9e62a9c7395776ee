#include "kestrel/golden/matrix_unit.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace ks::golden {

namespace {
size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }
int sext4(unsigned nib) { return nib >= 8 ? static_cast<int>(nib) - 16 : static_cast<int>(nib); }
}  // namespace

void fill_weight_tile(const ArrayShape& shape, Precision p, const uint8_t* w, size_t n, size_t k, size_t nb,
                      size_t kc, uint8_t* out) {
  const size_t rows = shape.rows, cols = shape.cols, kpb = shape.k_per_beat(p);
  const size_t k0 = kc * kpb;
  const size_t kn = std::min(kpb, k - k0);
  std::fill(out, out + rows * cols, uint8_t{0});
  for (size_t r = 0; r < rows; ++r) {
    const size_t nrow = nb * rows + r;
    if (nrow >= n) break;
    for (size_t col = 0; col < cols; ++col) {
      uint8_t byte = 0;
      if (p == Precision::kInt8) {
        if (col < kn) byte = w[nrow * k + k0 + col];
      } else if (2 * col < kn) {
        // k0 is even, so the packed row's bytes line up with the columns; a high nibble past
        // K (odd K's padding, whatever memory holds there) is cleared.
        byte = w[nrow * weight_row_bytes(p, k) + k0 / 2 + col];
        if (2 * col + 1 >= kn) byte &= 0x0F;
      }
      out[r * cols + col] = byte;
    }
  }
}

MatmulTiler::MatmulTiler(ArrayShape shape, Precision p, const int8_t* x, const uint8_t* w, size_t m,
                         size_t n, size_t k)
    : shape_(shape), p_(p), x_(x), w_(w), m_(m), n_(n), k_(k) {
  if (shape.rows == 0 || shape.cols == 0 || shape.acc_depth == 0) {
    throw std::invalid_argument("MatmulTiler: array shape has a zero dimension");
  }
  if (m == 0 || n == 0 || k == 0) {
    throw std::invalid_argument("MatmulTiler: product " + std::to_string(m) + " x " +
                                std::to_string(k) + " x " + std::to_string(n) +
                                " has a zero dimension");
  }
  kpb_ = shape.k_per_beat(p);
  n_blocks_ = ceil_div(n, shape.rows);
  k_chunks_ = ceil_div(k, kpb_);
  num_beats_ = m * n_blocks_ * k_chunks_;
  num_results_ = m * n_blocks_;
}

MatmulTiler::Coord MatmulTiler::beat_coord(size_t i) const {
  // Every token chunk but the last holds acc_depth tokens.
  const size_t per_full_chunk = shape_.acc_depth * n_blocks_ * k_chunks_;
  const size_t chunk = i / per_full_chunk;
  const size_t m0 = chunk * shape_.acc_depth;
  const size_t mt = std::min(shape_.acc_depth, m_ - m0);
  const size_t in_chunk = i - chunk * per_full_chunk;
  return Coord{m0, mt, in_chunk / (k_chunks_ * mt), (in_chunk / mt) % k_chunks_, in_chunk % mt};
}

void MatmulTiler::beat(size_t i, MatrixBeat& b) const {
  const Coord c = beat_coord(i);
  b.w.resize(shape_.weight_bytes());
  b.x.assign(shape_.act_bytes(), 0);
  b.int4 = p_ == Precision::kInt4;
  b.first = c.kc == 0;
  b.last = c.kc + 1 == k_chunks_;
  b.addr = static_cast<uint32_t>(c.m);
  const size_t k0 = c.kc * kpb_;
  const size_t kn = std::min(kpb_, k_ - k0);
  const int8_t* xrow = x_ + (c.m0 + c.m) * k_ + k0;
  for (size_t j = 0; j < kn; ++j) b.x[j] = static_cast<uint8_t>(xrow[j]);
  fill_weight_tile(shape_, p_, w_, n_, k_, c.nb, c.kc, b.w.data());
}

ResultPlace MatmulTiler::place(size_t i) const {
  const size_t per_full_chunk = shape_.acc_depth * n_blocks_;
  const size_t chunk = i / per_full_chunk;
  const size_t m0 = chunk * shape_.acc_depth;
  const size_t mt = std::min(shape_.acc_depth, m_ - m0);
  const size_t in_chunk = i - chunk * per_full_chunk;
  return ResultPlace{m0 + in_chunk % mt, (in_chunk / mt) * shape_.rows};
}

void MatmulTiler::scatter(size_t i, const MatrixResult& r, std::vector<int32_t>& y) const {
  const ResultPlace pl = place(i);
  for (size_t j = 0; j < shape_.rows && pl.n0 + j < n_; ++j) y[pl.m * n_ + pl.n0 + j] = r.data[j];
}

MatrixUnitModel::MatrixUnitModel(ArrayShape shape)
    : shape_(shape), acc_(shape.acc_depth * shape.rows, 0) {}

std::vector<int32_t> MatrixUnitModel::row_sums(const ArrayShape& shape, const MatrixBeat& b) {
  std::vector<int32_t> sums(shape.rows, 0);
  for (size_t r = 0; r < shape.rows; ++r) {
    int32_t s = 0;  // |s| <= 16384 * cols: no overflow for any realistic array
    for (size_t c = 0; c < shape.cols; ++c) {
      const uint8_t w = b.w[r * shape.cols + c];
      if (b.int4) {
        s += sext4(w & 0xF) * static_cast<int8_t>(b.x[2 * c]) +
             sext4(w >> 4) * static_cast<int8_t>(b.x[2 * c + 1]);
      } else {
        s += static_cast<int8_t>(w) * static_cast<int8_t>(b.x[c]);
      }
    }
    sums[r] = s;
  }
  return sums;
}

std::optional<MatrixResult> MatrixUnitModel::push(const MatrixBeat& b) {
  if (b.w.size() != shape_.weight_bytes() || b.x.size() != shape_.act_bytes()) {
    throw std::invalid_argument("MatrixUnitModel: beat has " + std::to_string(b.w.size()) +
                                " weight and " + std::to_string(b.x.size()) +
                                " activation bytes, expected " +
                                std::to_string(shape_.weight_bytes()) + " and " +
                                std::to_string(shape_.act_bytes()));
  }
  if (b.addr >= shape_.acc_depth) {
    throw std::out_of_range("MatrixUnitModel: accumulator address " + std::to_string(b.addr) +
                            " >= depth " + std::to_string(shape_.acc_depth));
  }
  const std::vector<int32_t> sums = row_sums(shape_, b);
  uint32_t* acc = &acc_[b.addr * shape_.rows];
  for (size_t r = 0; r < shape_.rows; ++r) {
    acc[r] = (b.first ? 0u : acc[r]) + static_cast<uint32_t>(sums[r]);
  }
  if (!b.last) return std::nullopt;
  MatrixResult res;
  res.addr = b.addr;
  res.data.resize(shape_.rows);
  for (size_t r = 0; r < shape_.rows; ++r) res.data[r] = static_cast<int32_t>(acc[r]);
  return res;
}

std::vector<int32_t> matmul_tiled(const ArrayShape& shape, Precision p, const int8_t* x,
                                  const uint8_t* w, size_t m, size_t n, size_t k) {
  MatmulTiler tiler(shape, p, x, w, m, n, k);
  MatrixUnitModel unit(shape);
  std::vector<int32_t> y(m * n, 0);
  MatrixBeat beat;
  size_t result = 0;
  for (size_t i = 0; i < tiler.num_beats(); ++i) {
    tiler.beat(i, beat);
    if (auto r = unit.push(beat)) tiler.scatter(result++, *r, y);
  }
  return y;
}

}  // namespace ks::golden
