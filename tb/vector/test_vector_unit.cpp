// The vector unit (RTL) against ks::golden::VectorUnitModel: random instruction streams
// over random memory, every instruction kind and lane operation, and a microprogram
// (RMSNorm) against the quantized decode's own function, bit for bit.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "Vks_vector_unit.h"
#include "kestrel/golden/kvec.h"
#include "kestrel/golden/vector_unit.h"
#include "kestrel/runtime/quant.h"
#include "sim_harness.h"
#include "test_seed.h"

namespace {

using ks::golden::VecInstr;
using ks::golden::VecKind;
using ks::golden::kfp::AluOp;
using ks::golden::kfp::Bits;

constexpr size_t kLanes = 8, kRows = 256;

class VectorUnitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    seed_ = ks::tb::test_seed();
    rng_.seed(seed_);
    sim_.reset();
  }

  void host_write(size_t elem, Bits v) {
    sim_->host_we_i = 1;
    sim_->host_elem_i = static_cast<uint16_t>(elem);
    sim_->host_wdata_i = v;
    sim_.tick();
    sim_->host_we_i = 0;
    model_.element(0, elem) = v;
  }

  Bits host_read(size_t elem) {
    sim_->host_re_i = 1;
    sim_->host_elem_i = static_cast<uint16_t>(elem);
    sim_.tick();
    sim_->host_re_i = 0;
    sim_.eval();
    return sim_->host_rdata_o;
  }

  Bits scalar(int i) {
    sim_->host_s_sel_i = static_cast<uint8_t>(i);
    sim_.eval();
    return sim_->host_s_o;
  }

  void run(const VecInstr& in) {
    model_.execute(in);
    sim_->in_kind_i = static_cast<uint8_t>(in.kind);
    sim_->in_op_i = static_cast<uint8_t>(in.op);
    sim_->in_dst_i = in.dst;
    sim_->in_a_i = in.a;
    sim_->in_b_i = in.b;
    sim_->in_len_i = in.len;
    sim_->in_imm_i = in.imm;
    sim_->in_valid_i = 1;
    sim_.eval();
    int guard = 0;
    while (!sim_->in_ready_o) {
      sim_.tick();
      sim_.eval();
      ASSERT_LT(++guard, 100);
    }
    sim_.tick();
    sim_->in_valid_i = 0;
    sim_.eval();
    while (sim_->busy_o) {
      sim_.tick();
      sim_.eval();
      ASSERT_LT(++guard, 1000) << "instruction did not finish";
    }
  }

  void expect_same_state(const char* when) {
    for (int i = 0; i < 8; ++i) ASSERT_EQ(scalar(i), model_.scalar(i)) << "S" << i << " " << when;
    for (size_t e = 0; e < kLanes * kRows; ++e) {
      ASSERT_EQ(host_read(e), model_.element(0, e)) << "element " << e << " " << when;
    }
  }

  Bits random_value() {
    switch (rng_() % 8) {
      case 0: return static_cast<Bits>(rng_());                                  // any encoding
      case 1: return static_cast<Bits>(static_cast<int32_t>(rng_() % 2000) - 1000);  // small integer
      case 2: return 0;
      default: return ks::golden::kfp::from_float(static_cast<float>(static_cast<int32_t>(rng_() % 200000) - 100000) / 997.0f);
    }
  }

  ks::tb::SimHarness<Vks_vector_unit> sim_;
  ks::golden::VectorUnitModel model_{kLanes, kRows};
  uint64_t seed_ = 0;
  std::mt19937_64 rng_;
};

TEST_F(VectorUnitTest, RandomInstructionStreamsMatchTheModel) {
  SCOPED_TRACE(ks::tb::seed_note(seed_));
  for (size_t e = 0; e < kLanes * kRows; ++e) host_write(e, random_value());
  for (int i = 0; i < 8; ++i) run(VecInstr{VecKind::kSetS, AluOp::kAdd, static_cast<uint16_t>(i), 0, 0, 0, random_value()});
  for (int n = 0; n < 600; ++n) {
    VecInstr in;
    in.kind = static_cast<VecKind>(rng_() % 9);
    in.op = static_cast<AluOp>(rng_() % ks::golden::kfp::kNumAluOps);
    in.len = static_cast<uint16_t>(rng_() % 90);
    const uint16_t rows = static_cast<uint16_t>((in.len + kLanes - 1) / kLanes);
    auto row = [&]() { return static_cast<uint16_t>(rng_() % (kRows - rows - 1)); };
    in.a = row();
    in.b = row();
    in.dst = (rng_() % 3 == 0) ? in.a : row();
    switch (in.kind) {
      case VecKind::kVV:
      case VecKind::kVS: {
        if (in.kind == VecKind::kVS) in.b = static_cast<uint16_t>(rng_() % 8);
        auto overlaps = [&](uint16_t src) { return src != in.dst && src < in.dst + rows && in.dst < src + rows; };
        if (overlaps(in.a) || (in.kind == VecKind::kVV && overlaps(in.b))) in.dst = in.a;
        if (in.kind == VecKind::kVV && overlaps(in.b)) continue;
        break;
      }
      case VecKind::kSS:
        in.dst = static_cast<uint16_t>(rng_() % 8);
        in.a = static_cast<uint16_t>(rng_() % 8);
        in.b = static_cast<uint16_t>(rng_() % 8);
        break;
      case VecKind::kSum:
      case VecKind::kMax:
      case VecKind::kArgmax:
      case VecKind::kLoadS:
      case VecKind::kSetS:
        in.dst = static_cast<uint16_t>(rng_() % 8);
        in.imm = random_value();
        break;
      case VecKind::kStoreS:
        in.a = static_cast<uint16_t>(rng_() % 8);
        break;
    }
    run(in);
    if (HasFatalFailure()) return;
    for (int s = 0; s < 8; ++s) {
      ASSERT_EQ(scalar(s), model_.scalar(s)) << "S" << s << " after instruction " << n << " kind "
                                             << static_cast<int>(in.kind) << " op " << static_cast<int>(in.op)
                                             << " len " << in.len;
    }
    if (n % 100 == 99) expect_same_state("after a batch");
  }
  expect_same_state("at the end");
}

// RMSNorm as the decode runs it, as a microprogram of vector instructions: equal to
// QuantModel::rmsnorm with the same lane count.
TEST_F(VectorUnitTest, RmsNormMicroprogramEqualsTheDecodeFunction) {
  using ks::golden::kvec::constant;
  const size_t n = 64;
  std::vector<Bits> x(n), w(n);
  for (size_t i = 0; i < n; ++i) {
    x[i] = random_value();
    w[i] = ks::golden::kfp::from_float(0.5f + static_cast<float>(rng_() % 1000) / 1000.0f);
    x[i] = ks::golden::kfp::from_float(static_cast<float>(static_cast<int32_t>(rng_() % 4000) - 2000) / 300.0f);
    host_write(i, x[i]);                 // x at row 0
    host_write(16 * kLanes + i, w[i]);   // weight at row 16
  }
  const uint16_t X = 0, W = 16, SQ = 32, T = 48, OUT = 64;
  auto vv = [&](AluOp op, uint16_t d, uint16_t a, uint16_t b) { run({VecKind::kVV, op, d, a, b, static_cast<uint16_t>(n), 0}); };
  auto vs = [&](AluOp op, uint16_t d, uint16_t a, uint16_t s) { run({VecKind::kVS, op, d, a, s, static_cast<uint16_t>(n), 0}); };
  auto ss = [&](AluOp op, uint16_t d, uint16_t a, uint16_t b) { run({VecKind::kSS, op, d, a, b, 0, 0}); };
  auto set = [&](uint16_t d, Bits v) { run({VecKind::kSetS, AluOp::kAdd, d, 0, 0, 0, v}); };
  // ss = sum(x * x); ms = ss * (1/n) + 1e-5; r = rsqrt(ms) by three Newton steps.
  vv(AluOp::kMul, SQ, X, X);
  run({VecKind::kSum, AluOp::kAdd, 0, SQ, 0, static_cast<uint16_t>(n), 0});
  set(1, constant(1.0f / static_cast<float>(n)));
  ss(AluOp::kMul, 0, 0, 1);
  set(1, constant(1e-5f));
  ss(AluOp::kAdd, 0, 0, 1);                  // S0 = ms
  set(1, constant(0.5f));
  ss(AluOp::kMul, 1, 1, 0);                  // S1 = ms / 2
  ss(AluOp::kShr1, 2, 0, 0);
  set(3, 0x5F3759DFu);
  ss(AluOp::kISub, 2, 2, 3);                 // S2 = r estimate
  set(4, constant(1.5f));
  for (int i = 0; i < 3; ++i) {
    ss(AluOp::kMul, 5, 2, 2);                // r*r
    ss(AluOp::kMul, 5, 1, 5);                // (ms/2) r r
    ss(AluOp::kSub, 5, 4, 5);                // 1.5 - ...
    ss(AluOp::kMul, 2, 2, 5);                // r *= ...
  }
  vs(AluOp::kMul, T, X, 2);                  // x * r  (commutative: = r * x)
  vv(AluOp::kMul, OUT, W, T);                // w * (r x)
  std::vector<Bits> want;
  ks::rt::QuantModel::rmsnorm(x, w, kLanes, want);
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(host_read(OUT * kLanes + i), want[i]) << "element " << i;
}

}  // namespace
