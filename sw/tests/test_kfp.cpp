// KFP32 against the host's IEEE binary32: identical wherever IEEE's result is a normal
// number and the inputs are normal; the flush and saturation rules elsewhere.
#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cstdio>
#include <vector>
#include <cmath>
#include <cstring>
#include <random>

#include "kestrel/golden/kfp.h"
#include "kestrel/golden/kvec.h"

namespace {

using namespace ks::golden;

bool normal(float f) { return std::isnormal(f); }

float random_float(std::mt19937_64& rng, int emin, int emax) {
  std::uniform_int_distribution<uint32_t> mant(0, 0x7FFFFF), sign(0, 1);
  std::uniform_int_distribution<int> ex(emin, emax);
  const uint32_t b = (sign(rng) << 31) | (static_cast<uint32_t>(ex(rng)) << 23) | mant(rng);
  return kfp::to_float(b);
}

TEST(Kfp32, AddSubMulEqualIeeeOnNormalResults) {
  std::mt19937_64 rng(7);
  int checked = 0;
  for (int i = 0; i < 2000000; ++i) {
    // Mostly close exponents (cancellation, rounding), some far apart.
    const int span = (i % 4 == 0) ? 60 : 6;
    const int base = 1 + static_cast<int>(rng() % (254 - span));
    const float a = random_float(rng, base, base + span), b = random_float(rng, base, base + span);
    ASSERT_TRUE(normal(a) && normal(b));
    const volatile float s = a + b, d = a - b, p = a * b;
    if (normal(s)) { ASSERT_EQ(kfp::add(kfp::from_float(a), kfp::from_float(b)), kfp::from_float(s)) << a << " + " << b; ++checked; }
    if (normal(d)) { ASSERT_EQ(kfp::sub(kfp::from_float(a), kfp::from_float(b)), kfp::from_float(d)) << a << " - " << b; }
    if (normal(p)) { ASSERT_EQ(kfp::mul(kfp::from_float(a), kfp::from_float(b)), kfp::from_float(p)) << a << " * " << b; }
  }
  EXPECT_GT(checked, 1000000);
}

TEST(Kfp32, ZerosFlushAndSaturation) {
  const kfp::Bits one = kfp::from_float(1.0f), tiny = kfp::from_float(FLT_MIN), sub = 0x00000001u;
  EXPECT_EQ(kfp::add(one, kfp::from_float(-1.0f)), 0u);                  // x - x = +0
  EXPECT_EQ(kfp::add(0x80000000u, 0x80000000u), 0x80000000u);           // -0 + -0 = -0
  EXPECT_EQ(kfp::add(sub, sub), 0u);                                      // subnormals read as zero
  EXPECT_EQ(kfp::mul(tiny, kfp::from_float(0.5f)), 0u);                  // subnormal result flushes
  EXPECT_EQ(kfp::mul(kfp::from_float(-FLT_MIN), kfp::from_float(0.5f)), 0x80000000u);
  EXPECT_EQ(kfp::mul(kfp::from_float(FLT_MAX), kfp::from_float(2.0f)), kfp::kMaxFinite);
  EXPECT_EQ(kfp::add(kfp::from_float(-FLT_MAX), kfp::from_float(-FLT_MAX)), 0x80000000u | kfp::kMaxFinite);
  EXPECT_EQ(kfp::mul(0x7F800000u, one), kfp::kMaxFinite);                // exponent 255 is finite, then saturates
}

TEST(Kfp32, IntegerConversions) {
  std::mt19937_64 rng(9);
  for (int i = 0; i < 200000; ++i) {
    const auto v = static_cast<int32_t>(rng());
    const volatile float f = static_cast<float>(v);
    ASSERT_EQ(kfp::from_int(v), kfp::from_float(f)) << v;
  }
  EXPECT_EQ(kfp::to_int(kfp::from_float(2.5f), -128, 127), 2);    // ties to even
  EXPECT_EQ(kfp::to_int(kfp::from_float(3.5f), -128, 127), 4);
  EXPECT_EQ(kfp::to_int(kfp::from_float(-2.5f), -128, 127), -2);
  EXPECT_EQ(kfp::to_int(kfp::from_float(-0.49f), -128, 127), 0);
  EXPECT_EQ(kfp::to_int(kfp::from_float(300.0f), -128, 127), 127);  // saturation
  EXPECT_EQ(kfp::to_int(kfp::from_float(-1e30f), -128, 127), -128);
  for (int i = 0; i < 200000; ++i) {
    const float f = random_float(rng, 100, 140);
    const float r = std::nearbyint(f);  // default rounding mode: nearest even
    const float c = std::fmin(std::fmax(r, -32768.0f), 32767.0f);
    ASSERT_EQ(kfp::to_int(kfp::from_float(f), -32768, 32767), static_cast<int32_t>(c)) << f;
  }
}

TEST(Kfp32, MaxAndScale) {
  EXPECT_EQ(kfp::max(kfp::from_float(-3.0f), kfp::from_float(2.0f)), kfp::from_float(2.0f));
  EXPECT_EQ(kfp::max(kfp::from_float(-3.0f), kfp::from_float(-2.0f)), kfp::from_float(-2.0f));
  EXPECT_EQ(kfp::scale2(kfp::from_float(3.0f), -3), kfp::from_float(0.375f));
  EXPECT_EQ(kfp::scale2(kfp::from_float(1.0f), -127), 0u);
}

}  // namespace

namespace {

using namespace ks::golden;

// The special functions against the host's libm: error bounds that the rest of the
// numerics rely on (docs/vector_unit.md).
TEST(KfpVec, SpecialFunctionsAreAccurate) {
  double worst_recip = 0, worst_rsqrt = 0, worst_exp = 0, worst_silu = 0;
  for (float v = 1e-6f; v < 1e6f; v *= 1.0137f) {
    const double r = kfp::to_float(kvec::recip(kfp::from_float(v)));
    worst_recip = std::max(worst_recip, std::fabs(r * v - 1.0));
    const double q = kfp::to_float(kvec::rsqrt(kfp::from_float(v)));
    worst_rsqrt = std::max(worst_rsqrt, std::fabs(q * std::sqrt(static_cast<double>(v)) - 1.0));
  }
  for (float v = -80.0f; v < 80.0f; v += 0.0371f) {
    const double e = kfp::to_float(kvec::exp(kfp::from_float(v)));
    worst_exp = std::max(worst_exp, std::fabs(e / std::exp(static_cast<double>(v)) - 1.0));
    const double s = kfp::to_float(kvec::silu(kfp::from_float(v)));
    const double want = v / (1.0 + std::exp(-static_cast<double>(v)));
    worst_silu = std::max(worst_silu, std::fabs(s - want) / std::max(1e-3, std::fabs(want)));
  }
  EXPECT_LT(worst_recip, 3e-7);
  EXPECT_LT(worst_rsqrt, 3e-7);
  EXPECT_LT(worst_exp, 1e-6);
  EXPECT_LT(worst_silu, 2e-6);
  std::printf("relative error: recip %.2e rsqrt %.2e exp %.2e silu %.2e\n", worst_recip, worst_rsqrt, worst_exp,
              worst_silu);
}

TEST(KfpVec, SumOrderFollowsTheLanes) {
  // 1e8 + 1 + ... : the order decides what survives rounding.
  std::vector<kfp::Bits> v = {kfp::from_float(1e8f), kfp::from_float(1.0f), kfp::from_float(1.0f),
                              kfp::from_float(1.0f), kfp::from_float(-1e8f), kfp::from_float(1.0f)};
  // One lane: strictly left to right: (((((1e8 + 1) + 1) + 1) - 1e8) + 1) = 1 (the 1s vanish).
  EXPECT_EQ(kfp::to_float(kvec::sum(v.data(), v.size(), 1)), 1.0f);
  // Two lanes: lane 0 = 1e8 + 1 - 1e8 = 0, lane 1 = 1 + 1 + 1 = 3: total 3.
  EXPECT_EQ(kfp::to_float(kvec::sum(v.data(), v.size(), 2)), 3.0f);
}

}  // namespace
