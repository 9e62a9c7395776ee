// KFP32: the floating-point arithmetic of the vector unit, bit-exact in software.
//
// The bit layout is IEEE-754 binary32, and every operation rounds to nearest, ties to
// even, as IEEE does. Two simplifications keep the hardware small, and this model copies
// them exactly:
//  - no subnormals: a subnormal input reads as zero (of its sign), and a result that
//    would be subnormal becomes zero (of the exact result's sign);
//  - no infinities or NaNs: an encoding with exponent 255 reads as the finite number
//    2^128 x 1.m, and a result beyond the largest finite value saturates to +-FLT_MAX.
// For normal inputs whose IEEE result is normal, every operation equals IEEE binary32
// exactly (tests check this against the host's float).
#pragma once

#include <cstdint>

namespace ks::golden::kfp {

using Bits = uint32_t;

Bits add(Bits a, Bits b);
Bits sub(Bits a, Bits b);
Bits mul(Bits a, Bits b);
/// max by value (-0 < +0 is not distinguished: equal magnitudes of zero return a).
Bits max(Bits a, Bits b);
/// Exact INT32 -> KFP32, rounded to nearest even when |v| >= 2^24.
Bits from_int(int32_t v);
/// KFP32 -> integer, rounded to nearest even, saturated to [lo, hi].
int32_t to_int(Bits a, int32_t lo, int32_t hi);
/// a x 2^n (n may be negative), with KFP32's flush and saturation.
Bits scale2(Bits a, int n);

/// The vector unit's lane operations: every KFP32 computation in the decode is a sequence
/// of these (docs/vector_unit.md). Integer operands travel in the same 32-bit word.
enum class AluOp : uint8_t {
  kAdd,      ///< a + b
  kSub,      ///< a - b
  kMul,      ///< a * b
  kMax,      ///< max(a, b)
  kAbs,      ///< |a| (clears the sign bit)
  kFromInt,  ///< INT32 a -> KFP32
  kToInt,    ///< KFP32 a -> integer in [-b, b] (b an INT32 bound), round to nearest even
  kScale2,   ///< a * 2^b (b INT32)
  kISub,     ///< b - a as 32-bit integers (the reciprocal and rsqrt estimates)
  kShr1,     ///< a >> 1 as a 32-bit integer
};
inline constexpr int kNumAluOps = 10;

Bits alu(AluOp op, Bits a, Bits b);

Bits from_float(float f);
float to_float(Bits b);

constexpr Bits kMaxFinite = 0x7F7FFFFFu;

}  // namespace ks::golden::kfp
