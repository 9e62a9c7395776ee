#include "kestrel/golden/matmul.h"

#include <stdexcept>
#include <string>

namespace ks::golden {

std::string_view to_string(Precision p) { return p == Precision::kInt4 ? "int4" : "int8"; }

size_t weight_row_bytes(Precision p, size_t k) { return p == Precision::kInt4 ? (k + 1) / 2 : k; }

std::vector<uint8_t> pack_int4(const std::vector<int8_t>& values, size_t rows, size_t k) {
  if (values.size() != rows * k) {
    throw std::invalid_argument("pack_int4: " + std::to_string(values.size()) + " values for a " +
                                std::to_string(rows) + " x " + std::to_string(k) + " matrix");
  }
  const size_t stride = weight_row_bytes(Precision::kInt4, k);
  std::vector<uint8_t> out(rows * stride, 0);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < k; ++c) {
      const int v = values[r * k + c];
      if (v < -8 || v > 7) {
        throw std::invalid_argument("pack_int4: value " + std::to_string(v) + " at (" +
                                    std::to_string(r) + ", " + std::to_string(c) +
                                    ") is outside [-8, 7]");
      }
      const auto nib = static_cast<uint8_t>(v & 0xF);
      out[r * stride + c / 2] |= static_cast<uint8_t>((c & 1) ? nib << 4 : nib);
    }
  }
  return out;
}

std::vector<int8_t> unpack_int4(const std::vector<uint8_t>& packed, size_t rows, size_t k) {
  const size_t stride = weight_row_bytes(Precision::kInt4, k);
  if (packed.size() != rows * stride) {
    throw std::invalid_argument("unpack_int4: " + std::to_string(packed.size()) +
                                " bytes for a " + std::to_string(rows) + " x " +
                                std::to_string(k) + " INT4 matrix");
  }
  std::vector<int8_t> out(rows * k);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < k; ++c) {
      out[r * k + c] = static_cast<int8_t>(weight_at(Precision::kInt4, packed.data(), k, r, c));
    }
  }
  return out;
}

int weight_at(Precision p, const uint8_t* w, size_t k_total, size_t n, size_t k) {
  if (p == Precision::kInt8) return static_cast<int8_t>(w[n * k_total + k]);
  const uint8_t byte = w[n * weight_row_bytes(p, k_total) + k / 2];
  const int nib = (k & 1) ? byte >> 4 : byte & 0xF;
  return nib >= 8 ? nib - 16 : nib;
}

std::vector<int32_t> matmul_ref(Precision p, const int8_t* x, const uint8_t* w, size_t m, size_t n,
                                size_t k) {
  std::vector<int32_t> y(m * n);
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < n; ++j) {
      uint32_t acc = 0;  // unsigned: wraps modulo 2^32 exactly like the INT32 accumulators
      for (size_t kk = 0; kk < k; ++kk) {
        acc += static_cast<uint32_t>(x[i * k + kk] * weight_at(p, w, k, j, kk));
      }
      y[i * n + j] = static_cast<int32_t>(acc);
    }
  }
  return y;
}

}  // namespace ks::golden
