// Matrix unit (RTL, Verilated) against the golden model, in one hardware configuration
// chosen at build time (KS_MODEL_HEADER / KS_MODEL_CLASS / KS_HW_CONFIG).
//
// Every test checks two things: each output beat equals the transaction model's beat bit
// for bit, and the assembled matrix equals the plain reference product.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <random>
#include <vector>

#include KS_MODEL_HEADER
#include "kestrel/golden/matmul.h"
#include "kestrel/golden/matrix_unit.h"
#include "kestrel/hw_config.h"
#include "matrix_product.h"
#include "test_seed.h"

namespace {

using Model = KS_MODEL_CLASS;
using ks::golden::ArrayShape;
using ks::golden::MatmulTiler;
using ks::golden::MatrixBeat;
using ks::golden::MatrixResult;
using ks::golden::MatrixUnitModel;
using ks::golden::Precision;
using ks::tb::MatrixUnitDriver;
using ks::tb::RunStats;
using ks::tb::StallProfile;

constexpr const ks::hw::HwConfig& kCfg = ks::hw::KS_HW_CONFIG;
const ArrayShape kShape{kCfg.array_rows, kCfg.array_cols, kCfg.acc_depth};

using ks::tb::constant_product;
using ks::tb::Product;
using ks::tb::random_product;

class MatrixUnitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    seed_ = ks::tb::test_seed();
    rng_.seed(seed_);
    sim_.reset();
  }

  /// Runs a product through the RTL; checks every beat against the model and the whole
  /// result against matmul_ref. Returns the run statistics.
  RunStats check_product(const Product& pr, StallProfile stalls = {}) {
    SCOPED_TRACE(::testing::Message() << ks::golden::to_string(pr.p) << " M=" << pr.m
                                      << " K=" << pr.k << " N=" << pr.n << ", "
                                      << ks::tb::seed_note(seed_));
    const ks::tb::ProductRun run = ks::tb::run_product(sim_, kShape, pr, rng_(), stalls);
    EXPECT_TRUE(run.stats.completed);
    EXPECT_EQ(run.beat_mismatches, 0u) << "first differing result beat: " << run.first_bad_beat;
    EXPECT_EQ(run.element_mismatches, 0u)
        << "first differing element: Y[" << run.first_bad_element / pr.n << "]["
        << run.first_bad_element % pr.n << "]";
    sim_.eval();
    EXPECT_FALSE(sim_->busy_o) << "unit still busy after its last result";
    return run.stats;
  }

  ks::tb::SimHarness<Model> sim_;
  uint64_t seed_ = 0;
  std::mt19937_64 rng_;
};

// The precisions the unit takes: a unit built for INT8 beats only (int4_native = 0; its
// compute engine feeds INT4 as INT8 beats) is tested in INT8.
const std::vector<Precision> kBoth = kCfg.int4_native ? std::vector<Precision>{Precision::kInt8, Precision::kInt4}
                                                      : std::vector<Precision>{Precision::kInt8};

TEST_F(MatrixUnitTest, SingleElementProducts) {
  for (Precision p : kBoth) {
    check_product(constant_product(p, 1, 1, 1, 3, -5));
    check_product(random_product(rng_, p, 1, 1, 1));
  }
}

TEST_F(MatrixUnitTest, ExtremeValuesInt8) {
  const size_t k = 3 * kShape.cols + 1;
  const int xs[] = {-128, 127};
  const int ws[] = {-128, 127};
  for (int xv : xs) {
    for (int wv : ws) check_product(constant_product(Precision::kInt8, 2, kShape.rows + 1, k, xv, wv));
  }
}

TEST_F(MatrixUnitTest, ExtremeValuesInt4) {
  if (!kCfg.int4_native) GTEST_SKIP() << "built for INT8 beats only (int4_native = 0)";
  const size_t k = 4 * kShape.cols + 3;
  const int xs[] = {-128, 127};
  const int ws[] = {-8, 7};
  for (int xv : xs) {
    for (int wv : ws) check_product(constant_product(Precision::kInt4, 2, kShape.rows + 1, k, xv, wv));
  }
}

TEST_F(MatrixUnitTest, AccumulatorWrapsModulo2To32) {
  // 2^31 / 16384 = 131072: one more term than that overflows INT32, and must wrap.
  const size_t k = 131072 + 8;
  check_product(constant_product(Precision::kInt8, 1, 1, k, -128, -128));
}

TEST_F(MatrixUnitTest, ShapesAroundArrayEdges) {
  const size_t r = kShape.rows, c = kShape.cols;
  for (Precision p : kBoth) {
    const size_t kb = kShape.k_per_beat(p);
    const size_t ns[] = {1, r - 1 > 0 ? r - 1 : 1, r, r + 1, 2 * r + 1};
    const size_t ks[] = {1, kb - 1 > 0 ? kb - 1 : 1, kb, kb + 1, 2 * kb + 3, c + 1};
    for (size_t n : ns) {
      for (size_t k : ks) check_product(random_product(rng_, p, 2, n, k));
    }
  }
}

TEST_F(MatrixUnitTest, MoreTokensThanAccumulatorEntries) {
  for (Precision p : kBoth) {
    const size_t m = kShape.acc_depth + kShape.acc_depth / 2 + 1;
    check_product(random_product(rng_, p, m, kShape.rows + 2, kShape.k_per_beat(p) * 2 + 1));
  }
}

TEST_F(MatrixUnitTest, RandomShapes) {
  std::uniform_int_distribution<size_t> dm(1, 9), dn(1, 4 * kShape.rows + 3), dk(1, 300);
  for (int i = 0; i < 100; ++i) {
    const Precision p = kBoth[i % kBoth.size()];
    check_product(random_product(rng_, p, dm(rng_), dn(rng_), dk(rng_)));
  }
}

TEST_F(MatrixUnitTest, RandomShapesUnderRandomStalls) {
  std::uniform_int_distribution<size_t> dm(1, 12), dn(1, 3 * kShape.rows + 1), dk(1, 150);
  const StallProfile profiles[] = {{0.3, 0.0}, {0.0, 0.5}, {0.5, 0.7}, {0.1, 0.95}};
  for (int i = 0; i < 60; ++i) {
    const Precision p = kBoth[i % kBoth.size()];
    check_product(random_product(rng_, p, dm(rng_), dn(rng_), dk(rng_)), profiles[i % 4]);
  }
}

// Raw beats, not from the tiler: random precision per beat, random entries, random
// first/last flags, random bytes in the activation lanes INT8 mode must ignore.
TEST_F(MatrixUnitTest, RandomBeatStreamMatchesModel) {
  SCOPED_TRACE(ks::tb::seed_note(seed_));
  std::uniform_int_distribution<int> byte(0, 255), coin(0, 1);
  const size_t live = std::min<size_t>(kShape.acc_depth, 5);
  std::uniform_int_distribution<size_t> entry(0, live - 1);
  std::vector<bool> open(live, false);
  std::vector<MatrixBeat> beats;
  for (int i = 0; i < 20000; ++i) {
    MatrixBeat b;
    b.w.resize(kShape.weight_bytes());
    b.x.resize(kShape.act_bytes());
    for (auto& v : b.w) v = static_cast<uint8_t>(byte(rng_));
    for (auto& v : b.x) v = static_cast<uint8_t>(byte(rng_));
    b.int4 = kCfg.int4_native && coin(rng_);
    b.addr = static_cast<uint32_t>(entry(rng_));
    b.first = !open[b.addr] || (coin(rng_) && coin(rng_));
    b.last = coin(rng_);
    open[b.addr] = !b.last;
    beats.push_back(b);
  }
  MatrixUnitModel model(kShape);
  std::vector<MatrixResult> expected;
  for (const auto& b : beats) {
    if (auto r = model.push(b)) expected.push_back(*r);
  }
  MatrixUnitDriver<Model> drv(sim_, kShape, rng_());
  size_t bad = 0;
  const RunStats st = drv.run(
      beats.size(), expected.size(), [&](size_t i, MatrixBeat& b) { b = beats[i]; },
      [&](size_t i, const MatrixResult& r) {
        if ((r.data != expected[i].data || r.addr != expected[i].addr) && bad++ < 3) {
          ADD_FAILURE() << "result " << i << " differs from the model";
        }
      },
      StallProfile{0.2, 0.3});
  EXPECT_TRUE(st.completed);
  EXPECT_EQ(bad, 0u);
}

TEST_F(MatrixUnitTest, ResetInTheMiddleOfAStream) {
  for (int round = 0; round < 6; ++round) {
    const Precision p = kBoth[round % kBoth.size()];
    Product pr = random_product(rng_, p, 5, 2 * kShape.rows + 1, 3 * kShape.k_per_beat(p) + 2);
    MatmulTiler tiler(kShape, pr.p, pr.x.data(), pr.w.data(), pr.m, pr.n, pr.k);
    MatrixUnitDriver<Model> drv(sim_, kShape, rng_());
    std::uniform_int_distribution<uint64_t> when(1, tiler.num_beats() / 2);
    const RunStats partial = drv.run(
        tiler.num_beats(), tiler.num_results(), [&](size_t i, MatrixBeat& b) { tiler.beat(i, b); },
        [](size_t, const MatrixResult&) {}, StallProfile{0.2, 0.6}, when(rng_));
    EXPECT_FALSE(partial.completed);
    sim_->in_valid_i = 0;
    sim_.reset(1 + round % 3);
    sim_.eval();
    EXPECT_FALSE(sim_->busy_o) << "reset must empty the pipeline and the FIFO";
    EXPECT_FALSE(sim_->out_valid_o);
    check_product(random_product(rng_, p, 3, kShape.rows + 1, 2 * kShape.k_per_beat(p) + 1),
                  StallProfile{0.1, 0.3});
  }
}

// Full rate: with operands every cycle and a consumer always ready, a stream of B beats
// takes exactly B + latency + 1 cycles (the +1 is the FIFO's registered output), in both
// precisions, for matrix-vector products back to back and for a GEMM tile.
TEST_F(MatrixUnitTest, FullRateWithoutStalls) {
  for (Precision p : kBoth) {
    for (size_t m : {size_t{1}, size_t{7}}) {
      Product pr = random_product(rng_, p, m, 4 * kShape.rows, 4 * kShape.k_per_beat(p));
      const RunStats st = check_product(pr);
      EXPECT_EQ(st.cycles, st.beats + kCfg.array_latency + 1);
      EXPECT_EQ(st.throttled, 0u);
    }
  }
}

}  // namespace

namespace {

// The RTL's own protocol checks run in every test (Verilator --assert): changing a beat
// while it waits for in_ready must stop the simulation with the stream assertion.

/// For the death tests: Verilator's report to stderr, a reset unit offering one complete beat
/// (first and last) of the given precision.
void offer_one_beat(ks::tb::SimHarness<Model>& sim, bool int4) {
  ::dup2(2, 1);  // Verilator reports on stdout; the death test reads stderr
  sim.reset();
  sim->in_first_i = 1;
  sim->in_last_i = 1;
  sim->in_int4_i = int4;
  sim->in_valid_i = 1;
}

TEST(MatrixUnitDeathTest, ChangingAStalledBeatTripsTheStreamAssertion) {
#ifdef KS_NETLIST
  GTEST_SKIP() << "a synthesised netlist carries no assertions";
#endif
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        ks::tb::SimHarness<Model> sim;
        offer_one_beat(sim, false);
        sim->out_ready_i = 0;
        for (int i = 0; i < 4 * static_cast<int>(kCfg.out_fifo_depth) && sim->in_ready_o; ++i) {
          sim.tick();
          sim.eval();
        }
        // Stalled now: alter the beat on the next cycle.
        sim.tick();
        sim->in_first_i = !sim->in_first_i;
        for (int i = 0; i < 4; ++i) sim.tick();
      },
      "valid dropped or data changed while stalled");
}

// A unit built for INT8 beats only (int4_native = 0) stops on an INT4 beat.
TEST(MatrixUnitDeathTest, Int4BeatOnAnInt8OnlyUnitTripsItsAssertion) {
#ifdef KS_NETLIST
  GTEST_SKIP() << "a synthesised netlist carries no assertions";
#endif
  if (kCfg.int4_native) GTEST_SKIP() << "this configuration takes INT4 beats";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        ks::tb::SimHarness<Model> sim;
        offer_one_beat(sim, true);
        for (int i = 0; i < 4; ++i) sim.tick();
      },
      "int4_supported_a");
}

}  // namespace

namespace {

// Matrix-vector products back to back, alternating precisions, as decode issues them: one
// continuous stream, every product correct, and no bubble between products.
TEST_F(MatrixUnitTest, BackToBackMatrixVectorProducts) {
  std::vector<Product> prods;
  std::uniform_int_distribution<size_t> dn(1, 3 * kShape.rows), dk(1, 5 * kShape.cols);
  for (int i = 0; i < 12; ++i) prods.push_back(random_product(rng_, kBoth[i % kBoth.size()], 1, dn(rng_), dk(rng_)));
  std::vector<const Product*> ptrs;
  for (const auto& p : prods) ptrs.push_back(&p);
  const ks::tb::ProductRun run = ks::tb::run_products(sim_, kShape, ptrs, rng_());
  EXPECT_TRUE(run.ok()) << "beat mismatches " << run.beat_mismatches << ", element mismatches "
                        << run.element_mismatches << "; " << ks::tb::seed_note(seed_);
  EXPECT_EQ(run.stats.cycles, run.stats.beats + kCfg.array_latency + 1);
}

}  // namespace
