// Bit-exact transaction model of the matrix unit (rtl/matrix/ks_matrix_unit.sv) and the
// tiling that turns a matrix product into the beats the unit consumes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "kestrel/golden/matmul.h"

namespace ks::golden {

/// The array dimensions a tiling targets (from a named hardware configuration).
struct ArrayShape {
  size_t rows = 0;       ///< output features per beat
  size_t cols = 0;       ///< reduction elements per beat in INT8 mode (twice that in INT4)
  size_t acc_depth = 0;  ///< accumulator entries: the largest M per weight tile

  size_t k_per_beat(Precision p) const { return p == Precision::kInt4 ? 2 * cols : cols; }
  size_t weight_bytes() const { return rows * cols; }
  size_t act_bytes() const { return 2 * cols; }
  size_t peak_macs(Precision p) const { return rows * k_per_beat(p); }
};

/// One input beat, laid out exactly as the unit's ports: w byte (r, c) at r*cols + c;
/// x holds 2*cols bytes (INT8 mode reads the first cols).
struct MatrixBeat {
  std::vector<uint8_t> w;
  std::vector<uint8_t> x;
  bool int4 = false;
  bool first = false;
  bool last = false;
  uint32_t addr = 0;
};

/// One output beat: rows INT32 sums from accumulator entry addr.
struct MatrixResult {
  std::vector<int32_t> data;
  uint32_t addr = 0;
};

/// Where a result belongs in Y.
struct ResultPlace {
  size_t m = 0;   ///< output row (token)
  size_t n0 = 0;  ///< first output feature; valid ones are n0 .. min(n0 + rows, N) - 1
};

/// Fills `out` (rows x cols bytes, byte (r, c) at r*cols + c) with weight tile (nb, kc) of
/// W [N][K] (memory layout for p): rows nb*rows.., reduction elements kc*k_per_beat(p)..,
/// zero past N and K. The byte order the array and the WGT bank use.
void fill_weight_tile(const ArrayShape& shape, Precision p, const uint8_t* w, size_t n, size_t k, size_t nb,
                      size_t kc, uint8_t* out);

/// Tiles Y = X W^T (M x K by N x K) for an array. Loop order, outermost first: token
/// chunks of at most acc_depth, weight row blocks of `rows`, reduction chunks of
/// k_per_beat, tokens in the chunk. A weight tile is therefore used by consecutive beats
/// (M of them), and each accumulator entry is finished on the block's last reduction chunk.
/// Edges are zero-padded. Beats and results are addressed by index, so a producer can
/// generate them lazily in any quantity.
class MatmulTiler {
 public:
  /// x: INT8 [M][K]; w: weights [N][K] in memory layout for `p`. Both must outlive the tiler.
  /// Throws std::invalid_argument on a zero dimension or an empty array shape.
  MatmulTiler(ArrayShape shape, Precision p, const int8_t* x, const uint8_t* w, size_t m, size_t n,
              size_t k);

  size_t num_beats() const { return num_beats_; }
  size_t num_results() const { return num_results_; }
  /// Multiply-accumulates the product needs (M x N x K), padding excluded.
  uint64_t macs() const { return static_cast<uint64_t>(m_) * n_ * k_; }

  /// Fills beat number i (0 <= i < num_beats()).
  void beat(size_t i, MatrixBeat& out) const;
  /// Where result number i (in output order) belongs.
  ResultPlace place(size_t i) const;
  /// Copies result i into Y (row-major [M][N]), dropping padded rows.
  void scatter(size_t i, const MatrixResult& r, std::vector<int32_t>& y) const;

 private:
  struct Coord {
    size_t m0, mt, nb, kc, m;
  };
  Coord beat_coord(size_t i) const;

  ArrayShape shape_;
  Precision p_;
  const int8_t* x_;
  const uint8_t* w_;
  size_t m_, n_, k_;
  size_t kpb_, n_blocks_, k_chunks_;
  size_t num_beats_ = 0, num_results_ = 0;
};

/// The unit itself: applies beats in order, returns a result for every `last` beat.
class MatrixUnitModel {
 public:
  explicit MatrixUnitModel(ArrayShape shape);

  /// The array's row sums for one beat (before accumulation).
  static std::vector<int32_t> row_sums(const ArrayShape& shape, const MatrixBeat& b);

  /// Accumulates one beat. Throws std::out_of_range for an address past acc_depth and
  /// std::invalid_argument for a beat of the wrong size.
  std::optional<MatrixResult> push(const MatrixBeat& b);

 private:
  ArrayShape shape_;
  std::vector<uint32_t> acc_;  // acc_depth x rows, wrapping like the hardware
};

/// Runs a whole product through the tiler and the unit model: must equal matmul_ref.
std::vector<int32_t> matmul_tiled(const ArrayShape& shape, Precision p, const int8_t* x,
                                  const uint8_t* w, size_t m, size_t n, size_t k);

}  // namespace ks::golden
