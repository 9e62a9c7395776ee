#include "kestrel/golden/kfp.h"

#include <cstring>

namespace ks::golden::kfp {

namespace {

struct Unpacked {
  uint32_t sign;
  int32_t exp;    // biased exponent, 0 means zero
  uint32_t mant;  // 24 bits with the hidden one, 0 for zero
};

Unpacked unpack(Bits b) {
  Unpacked u{b >> 31, static_cast<int32_t>((b >> 23) & 0xFF), (b & 0x7FFFFF) | 0x800000};
  if (u.exp == 0) u.mant = 0;  // subnormals read as zero
  return u;
}

/// Packs sign, biased exponent and a 24-bit mantissa (hidden bit set) followed by guard,
/// round and sticky bits, rounding to nearest even with flush and saturation.
Bits round_pack(uint32_t sign, int32_t exp, uint32_t mant, uint32_t g, uint32_t r, uint32_t s) {
  if (g && (r || s || (mant & 1))) {
    ++mant;
    if (mant == 0x1000000) {
      mant >>= 1;
      ++exp;
    }
  }
  if (exp >= 255) return (sign << 31) | kMaxFinite;
  if (exp <= 0) return sign << 31;
  return (sign << 31) | (static_cast<uint32_t>(exp) << 23) | (mant & 0x7FFFFF);
}

}  // namespace

Bits add(Bits a, Bits b) {
  Unpacked x = unpack(a), y = unpack(b);
  if (x.mant == 0 && y.mant == 0) return (x.sign & y.sign) << 31;
  if (x.mant == 0) return round_pack(y.sign, y.exp, y.mant, 0, 0, 0);
  if (y.mant == 0) return round_pack(x.sign, x.exp, x.mant, 0, 0, 0);
  // x is the larger magnitude.
  if (y.exp > x.exp || (y.exp == x.exp && y.mant > x.mant)) {
    const Unpacked t = x;
    x = y;
    y = t;
  }
  const int32_t d = x.exp - y.exp;
  uint64_t mx = static_cast<uint64_t>(x.mant) << 3;  // 27 bits: mantissa, guard, round, sticky
  uint64_t my = static_cast<uint64_t>(y.mant) << 3;
  if (d >= 27) {
    my = my != 0 ? 1 : 0;
  } else if (d > 0) {
    const uint64_t lost = my & ((uint64_t{1} << d) - 1);
    my = (my >> d) | (lost != 0 ? 1 : 0);
  }
  int32_t e = x.exp;
  uint64_t m;
  if (x.sign == y.sign) {
    m = mx + my;
    if (m & (uint64_t{1} << 27)) {
      m = (m >> 1) | (m & 1);
      ++e;
    }
  } else {
    m = mx - my;
    if (m == 0) return 0;  // exact cancellation: +0
    while (!(m & (uint64_t{1} << 26))) {
      m <<= 1;
      --e;
    }
  }
  return round_pack(x.sign, e, static_cast<uint32_t>(m >> 3), (m >> 2) & 1, (m >> 1) & 1, m & 1);
}

Bits sub(Bits a, Bits b) { return add(a, b ^ 0x80000000u); }

Bits mul(Bits a, Bits b) {
  const Unpacked x = unpack(a), y = unpack(b);
  const uint32_t sign = x.sign ^ y.sign;
  if (x.mant == 0 || y.mant == 0) return sign << 31;
  const uint64_t p = static_cast<uint64_t>(x.mant) * y.mant;  // 47 or 48 bits
  int32_t e = x.exp + y.exp - 127;
  if (p & (uint64_t{1} << 47)) {
    ++e;
    return round_pack(sign, e, static_cast<uint32_t>(p >> 24), (p >> 23) & 1, (p >> 22) & 1,
                      (p & ((uint64_t{1} << 22) - 1)) != 0);
  }
  return round_pack(sign, e, static_cast<uint32_t>(p >> 23), (p >> 22) & 1, (p >> 21) & 1,
                    (p & ((uint64_t{1} << 21) - 1)) != 0);
}

Bits max(Bits a, Bits b) {
  const Unpacked x = unpack(a), y = unpack(b);
  // Compare as signed magnitudes; zeros (of either sign, subnormals included) are equal.
  auto key = [](const Unpacked& u) -> int64_t {
    if (u.mant == 0) return 0;
    const int64_t mag = (static_cast<int64_t>(u.exp) << 24) | u.mant;
    return u.sign ? -mag : mag;
  };
  return key(y) > key(x) ? b : a;
}

Bits from_int(int32_t v) {
  if (v == 0) return 0;
  const uint32_t sign = v < 0;
  uint64_t mag = sign ? static_cast<uint64_t>(-static_cast<int64_t>(v)) : static_cast<uint64_t>(v);
  int32_t e = 127 + 23;
  // Normalize to 24 bits plus guard/round/sticky.
  uint64_t m = mag << 3;
  while (m >= (uint64_t{1} << 27)) {
    m = (m >> 1) | (m & 1);
    ++e;
  }
  while (!(m & (uint64_t{1} << 26))) {
    m <<= 1;
    --e;
  }
  return round_pack(sign, e, static_cast<uint32_t>(m >> 3), (m >> 2) & 1, (m >> 1) & 1, m & 1);
}

int32_t to_int(Bits a, int32_t lo, int32_t hi) {
  const Unpacked x = unpack(a);
  if (x.mant == 0) return 0;
  const int32_t sh = x.exp - 127 - 23;  // value = mant x 2^sh
  int64_t q;
  if (sh >= 0) {
    q = sh > 20 ? (int64_t{1} << 40) : static_cast<int64_t>(x.mant) << sh;
  } else if (sh < -25) {
    q = 0;  // |value| < 2^-2: rounds to zero
  } else {
    const int n = -sh;
    const uint64_t m = x.mant;
    const uint64_t whole = m >> n;
    const uint64_t rem = m & ((uint64_t{1} << n) - 1);
    const uint64_t half = uint64_t{1} << (n - 1);
    q = static_cast<int64_t>(whole + ((rem > half || (rem == half && (whole & 1))) ? 1 : 0));
  }
  if (x.sign) q = -q;
  if (q < lo) return lo;
  if (q > hi) return hi;
  return static_cast<int32_t>(q);
}

Bits scale2(Bits a, int n) {
  const Unpacked x = unpack(a);
  if (x.mant == 0) return x.sign << 31;
  return round_pack(x.sign, x.exp + n, x.mant, 0, 0, 0);
}

Bits alu(AluOp op, Bits a, Bits b) {
  switch (op) {
    case AluOp::kAdd: return add(a, b);
    case AluOp::kSub: return sub(a, b);
    case AluOp::kMul: return mul(a, b);
    case AluOp::kMax: return max(a, b);
    case AluOp::kAbs: return a & 0x7FFFFFFFu;
    case AluOp::kFromInt: return from_int(static_cast<int32_t>(a));
    case AluOp::kToInt: {
      const auto bound = static_cast<int32_t>(b);
      const int32_t lim = bound < 0 ? 0 : bound;
      return static_cast<Bits>(to_int(a, -lim, lim));
    }
    case AluOp::kScale2: {
      // The exponent change saturates at +-512: beyond it the result is flushed or saturated
      // anyway, and the hardware's adder is 10 bits wide.
      const auto n = static_cast<int32_t>(b);
      return scale2(a, n > 512 ? 512 : (n < -512 ? -512 : n));
    }
    case AluOp::kISub: return b - a;
    case AluOp::kShr1: return a >> 1;
  }
  return 0;
}

Bits from_float(float f) {
  Bits b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}

float to_float(Bits b) {
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
}

}  // namespace ks::golden::kfp
