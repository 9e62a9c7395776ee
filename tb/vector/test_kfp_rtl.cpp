// The KFP32 operators in RTL against ks::golden::kfp, bit for bit: random operands over
// the whole encoding space (subnormals and exponent 255 included), operands with close
// exponents (cancellation, rounding ties), and directed corners.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "Vks_kfp_add.h"
#include "Vks_kfp_mul.h"
#include "kestrel/golden/kfp.h"
#include "test_seed.h"

namespace {

using ks::golden::kfp::Bits;

std::vector<std::pair<Bits, Bits>> operands(uint64_t seed, int n) {
  std::mt19937_64 rng(seed);
  std::vector<std::pair<Bits, Bits>> v;
  const Bits corners[] = {0x00000000, 0x80000000, 0x00000001, 0x807FFFFF, 0x00800000, 0x80800000, 0x3F800000,
                          0xBF800000, 0x7F7FFFFF, 0xFF7FFFFF, 0x7F800000, 0xFFFFFFFF, 0x3F800001, 0x33800000,
                          0x4B800000, 0x3EFFFFFF};
  for (Bits a : corners) {
    for (Bits b : corners) v.emplace_back(a, b);
  }
  std::uniform_int_distribution<int> near(-3, 3);
  for (int i = 0; i < n; ++i) {
    const Bits a = static_cast<Bits>(rng());
    Bits b = static_cast<Bits>(rng());
    if (i % 2) {  // close exponents
      const int e = static_cast<int>((a >> 23) & 0xFF) + near(rng);
      b = (b & 0x807FFFFF) | (static_cast<Bits>(std::clamp(e, 0, 255)) << 23);
    }
    v.emplace_back(a, b);
  }
  return v;
}

TEST(KfpRtl, AdderMatchesTheModel) {
  Vks_kfp_add dut;
  for (const auto& [a, b] : operands(ks::tb::test_seed(), 300000)) {
    for (int sub = 0; sub < 2; ++sub) {
      dut.a_i = a;
      dut.b_i = b;
      dut.sub_i = sub;
      dut.eval();
      const Bits want = sub ? ks::golden::kfp::sub(a, b) : ks::golden::kfp::add(a, b);
      ASSERT_EQ(dut.z_o, want) << std::hex << a << (sub ? " - " : " + ") << b;
    }
  }
}

TEST(KfpRtl, MultiplierMatchesTheModel) {
  Vks_kfp_mul dut;
  for (const auto& [a, b] : operands(ks::tb::test_seed(), 300000)) {
    dut.a_i = a;
    dut.b_i = b;
    dut.eval();
    ASSERT_EQ(dut.z_o, ks::golden::kfp::mul(a, b)) << std::hex << a << " * " << b;
  }
}

}  // namespace

#include "Vks_kfp_alu.h"

namespace {

TEST(KfpRtl, LaneAluMatchesTheModelForEveryOperation) {
  using ks::golden::kfp::AluOp;
  Vks_kfp_alu dut;
  std::mt19937_64 rng(ks::tb::test_seed());
  const auto pairs = operands(rng(), 40000);
  const uint32_t bounds[] = {127, 32767, 200, 0, 1, 0x7FFFFFFF, 0x80000000u, 16256};
  for (int op = 0; op < ks::golden::kfp::kNumAluOps; ++op) {
    for (size_t i = 0; i < pairs.size(); ++i) {
      Bits a = pairs[i].first, b = pairs[i].second;
      switch (static_cast<AluOp>(op)) {
        case AluOp::kToInt:
          b = bounds[i % 8];
          if (i % 3 == 0) a = ks::golden::kfp::from_float(static_cast<float>(static_cast<int32_t>(rng() % 70000) - 35000) / 64.0f);
          break;
        case AluOp::kScale2:
          b = static_cast<Bits>(static_cast<int32_t>(i % 2 ? rng() % 1300 : rng()) - (i % 2 ? 650 : 0));
          break;
        case AluOp::kFromInt:
          if (i % 2) a = static_cast<Bits>(static_cast<int32_t>(rng() % 100000) - 50000);
          break;
        default:
          break;
      }
      dut.op_i = static_cast<uint8_t>(op);
      dut.a_i = a;
      dut.b_i = b;
      dut.eval();
      ASSERT_EQ(dut.z_o, ks::golden::kfp::alu(static_cast<AluOp>(op), a, b))
          << "op " << op << std::hex << " a " << a << " b " << b;
    }
  }
}

}  // namespace
