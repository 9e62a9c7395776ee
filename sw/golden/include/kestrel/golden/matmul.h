// Reference integer matrix products: the arithmetic the matrix unit implements.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace ks::golden {

/// Weight precision of a product. Activations are always INT8.
enum class Precision { kInt8, kInt4 };

std::string_view to_string(Precision p);

/// Bytes one weight row of K elements occupies: K for INT8, ceil(K/2) for packed INT4.
size_t weight_row_bytes(Precision p, size_t k);

/// Packs signed 4-bit values (each in [-8, 7]) row by row, two per byte, low nibble first;
/// an odd K leaves the last high nibble zero. Throws std::invalid_argument on a value out of
/// range or a size that does not match rows x k.
std::vector<uint8_t> pack_int4(const std::vector<int8_t>& values, size_t rows, size_t k);

/// Inverse of pack_int4.
std::vector<int8_t> unpack_int4(const std::vector<uint8_t>& packed, size_t rows, size_t k);

/// Weight element (n, k) of a weight matrix in its memory layout (row-major [N][K]).
int weight_at(Precision p, const uint8_t* w, size_t k_total, size_t n, size_t k);

/// Y[m][n] = sum_k X[m][k] * W[n][k] with INT32 wrap-around (two's complement, modulo 2^32),
/// X row-major [M][K] INT8, W row-major [N][K] in its memory layout (INT8 bytes or packed
/// INT4 rows). This is the oracle: any tiling of the product gives exactly this result.
std::vector<int32_t> matmul_ref(Precision p, const int8_t* x, const uint8_t* w, size_t m, size_t n,
                                size_t k);

}  // namespace ks::golden
