// The golden model's own tests: packing, the reference product on hand-checked values,
// and tiling independence (the tiled transaction model equals the plain product for any
// array shape, shape of product and precision).
#include <gtest/gtest.h>

#include <random>
#include <stdexcept>
#include <vector>

#include "kestrel/golden/matmul.h"
#include "kestrel/golden/matrix_unit.h"
#include "kestrel/hw_config.h"

namespace {

using ks::golden::ArrayShape;
using ks::golden::Precision;

TEST(Int4Packing, LowNibbleFirstAndOddKPadsWithZero) {
  const std::vector<int8_t> v = {1, -1, 7, -8, 3};  // one row, K = 5
  const auto packed = ks::golden::pack_int4(v, 1, 5);
  ASSERT_EQ(packed.size(), 3u);
  EXPECT_EQ(packed[0], 0xF1);
  EXPECT_EQ(packed[1], 0x87);
  EXPECT_EQ(packed[2], 0x03);
  EXPECT_EQ(ks::golden::unpack_int4(packed, 1, 5), v);
}

TEST(Int4Packing, RejectsOutOfRangeValuesAndWrongSizes) {
  EXPECT_THROW(ks::golden::pack_int4({8}, 1, 1), std::invalid_argument);
  EXPECT_THROW(ks::golden::pack_int4({-9}, 1, 1), std::invalid_argument);
  EXPECT_THROW(ks::golden::pack_int4({1, 2, 3}, 2, 2), std::invalid_argument);
  EXPECT_THROW(ks::golden::unpack_int4({1, 2, 3}, 2, 2), std::invalid_argument);
}

TEST(MatmulRef, HandCheckedValues) {
  // X = [[1, 2, 3]], W = [[4, 5, 6], [-1, 0, 1]] -> Y = [[32, 2]]
  const std::vector<int8_t> x = {1, 2, 3};
  const std::vector<uint8_t> w = {4, 5, 6, 0xFF, 0, 1};
  const auto y = ks::golden::matmul_ref(Precision::kInt8, x.data(), w.data(), 1, 2, 3);
  EXPECT_EQ(y, (std::vector<int32_t>{32, 2}));
  const auto w4 = ks::golden::pack_int4({4, 5, 6, -1, 0, 1}, 2, 3);
  EXPECT_EQ(ks::golden::matmul_ref(Precision::kInt4, x.data(), w4.data(), 1, 2, 3),
            (std::vector<int32_t>{32, 2}));
}

TEST(MatmulRef, WrapsModulo2To32) {
  const size_t k = 131073;  // 131073 * 16384 = 2^31 + 16384
  const std::vector<int8_t> x(k, -128);
  const std::vector<uint8_t> w(k, 0x80);
  const auto y = ks::golden::matmul_ref(Precision::kInt8, x.data(), w.data(), 1, 1, k);
  EXPECT_EQ(y[0], static_cast<int32_t>(0x80000000u + 16384u));
}

TEST(MatrixUnitModel, RowSumsInBothPrecisions) {
  const ArrayShape s{1, 2, 4};
  ks::golden::MatrixBeat b;
  b.w = {0x21, 0xF8};           // INT8: 33, -8.  INT4: (1, 2), (-8, -1)
  b.x = {3, 0xFE, 5, 7};        // INT8 uses 3, -2.  INT4 uses all four
  b.int4 = false;
  EXPECT_EQ(ks::golden::MatrixUnitModel::row_sums(s, b)[0], 33 * 3 + (-8) * (-2));
  b.int4 = true;
  EXPECT_EQ(ks::golden::MatrixUnitModel::row_sums(s, b)[0], 1 * 3 + 2 * (-2) + (-8) * 5 + (-1) * 7);
}

TEST(MatrixUnitModel, RejectsBadBeats) {
  ks::golden::MatrixUnitModel m(ArrayShape{2, 2, 4});
  ks::golden::MatrixBeat b;
  b.w.resize(4);
  b.x.resize(4);
  b.addr = 4;
  EXPECT_THROW(m.push(b), std::out_of_range);
  b.addr = 0;
  b.w.resize(3);
  EXPECT_THROW(m.push(b), std::invalid_argument);
}

TEST(MatmulTiler, RejectsZeroDimensions) {
  const int8_t x[1] = {0};
  const uint8_t w[1] = {0};
  EXPECT_THROW(ks::golden::MatmulTiler(ArrayShape{2, 2, 2}, Precision::kInt8, x, w, 0, 1, 1),
               std::invalid_argument);
  EXPECT_THROW(ks::golden::MatmulTiler(ArrayShape{0, 2, 2}, Precision::kInt8, x, w, 1, 1, 1),
               std::invalid_argument);
}

TEST(MatmulTiler, TilingIndependentForAnyShape) {
  std::mt19937_64 rng(12345);
  std::uniform_int_distribution<int> b8(-128, 127), b4(-8, 7);
  std::uniform_int_distribution<size_t> dim(1, 40), arr(1, 9), depth(1, 7);
  for (int i = 0; i < 300; ++i) {
    const Precision p = (i & 1) ? Precision::kInt4 : Precision::kInt8;
    const size_t m = dim(rng), n = dim(rng), k = dim(rng);
    const ArrayShape s{arr(rng), arr(rng), depth(rng)};
    std::vector<int8_t> x(m * k), wv(n * k);
    for (auto& v : x) v = static_cast<int8_t>(b8(rng));
    for (auto& v : wv) v = static_cast<int8_t>(p == Precision::kInt4 ? b4(rng) : b8(rng));
    const std::vector<uint8_t> w = p == Precision::kInt4 ? ks::golden::pack_int4(wv, n, k)
                                                         : std::vector<uint8_t>(wv.begin(), wv.end());
    ASSERT_EQ(ks::golden::matmul_tiled(s, p, x.data(), w.data(), m, n, k),
              ks::golden::matmul_ref(p, x.data(), w.data(), m, n, k))
        << "iteration " << i << ": " << ks::golden::to_string(p) << " M=" << m << " N=" << n
        << " K=" << k << " on " << s.rows << "x" << s.cols << " depth " << s.acc_depth;
  }
}

TEST(HwConfig, DefaultExistsAndPeaksAreConsistent) {
  const ks::hw::HwConfig* d = ks::hw::find_config(ks::hw::kDefaultConfig);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(ks::hw::find_config("no-such-config"), nullptr);
  for (const auto& c : ks::hw::kConfigs) {
    EXPECT_EQ(c.peak_macs_int8, c.array_rows * c.array_cols) << c.name;
    EXPECT_EQ(c.peak_macs_int4, (c.int4_native ? 2 : 1) * c.peak_macs_int8) << c.name;
    EXPECT_GE(c.out_fifo_depth, c.array_latency + 2) << c.name;
  }
}

}  // namespace
