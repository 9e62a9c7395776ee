// GEMM of any shape through the driver, tiled over the SRAM with double buffering, on the
// emulated core; equal to the golden product bit for bit, including products far larger
// than the on-chip memory and reductions split over several K tiles.
#include <gtest/gtest.h>

#include "core_fixture.h"
#include "kestrel/driver/gemm.h"
#include "kestrel/golden/matmul.h"

namespace {

using ks::tb::CoreTest;
using namespace ks;

class GemmTest : public CoreTest {
 protected:
  static constexpr uint32_t kBigRing = 64;

  void SetUp() override {
    CoreTest::SetUp();
    // A bigger ring for long programs, after the fixture's small one.
    q_ = std::make_unique<drv::CommandQueue>(*dev_, base_ + 0x400 * 0, kBigRing, completion_);
    q_->reset();
    arena_ = std::make_unique<drv::DeviceArena>(base_ + 0x10000, dev_->mem_size() - 0x10000);
  }

  void check(golden::Precision p, size_t m, size_t n, size_t k) {
    std::uniform_int_distribution<int> b8(-128, 127), b4(-8, 7);
    std::vector<int8_t> x(m * k), wv(n * k);
    for (auto& v : x) v = static_cast<int8_t>(b8(rng_));
    for (auto& v : wv) v = static_cast<int8_t>(p == golden::Precision::kInt4 ? b4(rng_) : b8(rng_));
    const std::vector<uint8_t> w = p == golden::Precision::kInt4 ? golden::pack_int4(wv, n, k)
                                                                : std::vector<uint8_t>(wv.begin(), wv.end());
    drv::GemmTiling t;
    arena_->reset();
    const auto y = drv::gemm(*dev_, *q_, *arena_, p, x.data(), w.data(), m, n, k, &t);
    const auto ref = golden::matmul_ref(p, x.data(), w.data(), m, n, k);
    ASSERT_EQ(y, ref) << golden::to_string(p) << " M=" << m << " K=" << k << " N=" << n << " tiles " << t.m_tiles
                      << "x" << t.n_tiles << "x" << t.k_tiles << ", " << ks::tb::seed_note(seed_);
  }

  std::unique_ptr<drv::DeviceArena> arena_;
};

TEST_P(GemmTest, RandomShapesLargerThanTheBanks) {
  std::uniform_int_distribution<size_t> dm(1, 40), dn(1, 90), dk(1, 300);
  for (int i = 0; i < 6; ++i) {
    check(i % 2 ? golden::Precision::kInt4 : golden::Precision::kInt8, dm(rng_), dn(rng_), dk(rng_));
  }
}

TEST_P(GemmTest, MatrixVectorProductsWithLargeWeights) {
  for (auto p : {golden::Precision::kInt8, golden::Precision::kInt4}) {
    const size_t k = config_name() == "ecp5" ? 1024 : 160;
    check(p, 1, 3 * k / 2, k);
  }
}

TEST_P(GemmTest, ReductionSplitOverKTiles) {
  // Longer than half the ACT bank can hold in one row: forces K tiles and host accumulation.
  const size_t k = cfg().act_bank_bytes / cfg().act_word_bytes * 2 * cfg().array_cols / 2 + 37;
  const drv::GemmTiling t = drv::plan_gemm(cfg(), golden::Precision::kInt8, 3, 10, k);
  EXPECT_GT(t.k_tiles, 1u);
  check(golden::Precision::kInt8, 3, 10, k);
  check(golden::Precision::kInt4, 3, 10, k);
}

INSTANTIATE_TEST_SUITE_P(Backends, GemmTest, ::testing::ValuesIn(ks::tb::all_backends()), ks::tb::config_name);

// The big one: 512 x 512 x 512, far beyond the ecp5 SRAM, in both precisions.
class BigGemmTest : public GemmTest {};
TEST_P(BigGemmTest, Gemm512Cubed) {
  check(golden::Precision::kInt8, 512, 512, 512);
  check(golden::Precision::kInt4, 512, 512, 512);
}
INSTANTIATE_TEST_SUITE_P(Backends, BigGemmTest, ::testing::Values("emulated/ecp5", "model/ecp5"), ks::tb::config_name);

}  // namespace
