// The vector unit's mathematics in KFP32, bit-exact: reductions in the hardware's order,
// and the special functions (reciprocal, reciprocal square root, exponential, SiLU) as the
// fixed sequences of KFP32 additions and multiplications the hardware executes. Every
// function here is a specification: the RTL computes the same operations in the same order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kestrel/golden/kfp.h"

namespace ks::golden::kvec {

using kfp::Bits;

/// Sum of n values as a `lanes`-wide unit computes it: lane l accumulates elements
/// l, l + lanes, ... in index order, then the lane sums combine pairwise (lane 0 + lane 1,
/// lane 2 + lane 3, ...; then the results pairwise again) until one remains.
Bits sum(const Bits* x, size_t n, size_t lanes);
/// max over n values in the order of sum(): lane l takes the max of elements l, l + lanes,
/// ... (starting from its first element); the lanes then combine pairwise. (The value is
/// order-independent; the order fixes which encoding wins between equal keys, e.g. +0/-0.)
Bits max(const Bits* x, size_t n, size_t lanes);
/// The same value from a plain left-to-right scan (equal keys keep the earlier encoding).
Bits max(const Bits* x, size_t n);
/// The index of the first largest of n values (kfp order), 0 when n is 0.
size_t argmax(const Bits* x, size_t n);
/// Sum of x[i] * y[i] in the order of sum().
Bits dot(const Bits* x, const Bits* y, size_t n, size_t lanes);

/// 1 / a for a > 0 normal: a bit-trick estimate refined by three Newton steps
/// r = r * (2 - a * r).
Bits recip(Bits a);
/// 1 / sqrt(a) for a > 0 normal: a bit-trick estimate refined by three Newton steps
/// r = r * (1.5 - (0.5 * a) * r * r).
Bits rsqrt(Bits a);
/// e^x: n = round(x log2 e), r = x - n ln 2 (ln 2 in two parts), e^r by a degree-7
/// polynomial (Horner), times 2^n. Saturates for large x, flushes to zero for very negative x.
Bits exp(Bits x);
/// x * sigmoid(x) = x * recip(1 + exp(-x)).
Bits silu(Bits x);

/// Float constants as KFP32 bits (the host computes them once, in float).
Bits constant(float f);

/// The constants of the sequences above, for programs that run them on the vector unit.
inline constexpr Bits kRecipMagic = 0x7EF311C3u;  ///< recip's estimate: kRecipMagic - bits(a)
inline constexpr Bits kRsqrtMagic = 0x5F3759DFu;  ///< rsqrt's estimate: kRsqrtMagic - bits(a) / 2
struct ExpConstants {
  Bits log2e;    ///< n = to_int(x * log2e, -200, 200)
  Bits c1, c2;   ///< r = (x - n c1) - n c2
  Bits coef[8];  ///< e^r = Horner over coef[7] .. coef[0]
};
const ExpConstants& exp_constants();

}  // namespace ks::golden::kvec
