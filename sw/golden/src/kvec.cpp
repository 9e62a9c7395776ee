#include "kestrel/golden/kvec.h"

#include <algorithm>

namespace ks::golden::kvec {

Bits constant(float f) { return kfp::from_float(f); }

Bits sum(const Bits* x, size_t n, size_t lanes) {
  std::vector<Bits> acc(std::max<size_t>(lanes, 1), 0);
  for (size_t i = 0; i < n; ++i) acc[i % acc.size()] = kfp::add(acc[i % acc.size()], x[i]);
  while (acc.size() > 1) {
    std::vector<Bits> next((acc.size() + 1) / 2);
    for (size_t i = 0; i < next.size(); ++i) {
      next[i] = 2 * i + 1 < acc.size() ? kfp::add(acc[2 * i], acc[2 * i + 1]) : acc[2 * i];
    }
    acc.swap(next);
  }
  return acc[0];
}

Bits max(const Bits* x, size_t n, size_t lanes) {
  if (n == 0) return 0;
  const size_t used = std::min(std::max<size_t>(lanes, 1), n);
  std::vector<Bits> acc(x, x + used);
  for (size_t i = used; i < n; ++i) acc[i % used] = kfp::max(acc[i % used], x[i]);
  while (acc.size() > 1) {
    std::vector<Bits> next((acc.size() + 1) / 2);
    for (size_t i = 0; i < next.size(); ++i) {
      next[i] = 2 * i + 1 < acc.size() ? kfp::max(acc[2 * i], acc[2 * i + 1]) : acc[2 * i];
    }
    acc.swap(next);
  }
  return acc[0];
}

Bits max(const Bits* x, size_t n) {
  Bits m = n ? x[0] : 0;
  for (size_t i = 1; i < n; ++i) m = kfp::max(m, x[i]);
  return m;
}

size_t argmax(const Bits* x, size_t n) {
  size_t best = 0;
  for (size_t i = 1; i < n; ++i) {
    // kfp::max(a, b) returns b only when b is strictly larger.
    if (kfp::max(x[best], x[i]) == x[i] && kfp::max(x[i], x[best]) != x[best]) best = i;
  }
  return best;
}

Bits dot(const Bits* x, const Bits* y, size_t n, size_t lanes) {
  std::vector<Bits> p(n);
  for (size_t i = 0; i < n; ++i) p[i] = kfp::mul(x[i], y[i]);
  return sum(p.data(), n, lanes);
}

Bits recip(Bits a) {
  const Bits two = constant(2.0f);
  Bits r = kRecipMagic - a;  // estimate: exponent negated, mantissa roughly mirrored
  for (int i = 0; i < 3; ++i) r = kfp::mul(r, kfp::sub(two, kfp::mul(a, r)));
  return r;
}

Bits rsqrt(Bits a) {
  const Bits half_a = kfp::mul(constant(0.5f), a), three_halves = constant(1.5f);
  Bits r = kRsqrtMagic - (a >> 1);
  for (int i = 0; i < 3; ++i) r = kfp::mul(r, kfp::sub(three_halves, kfp::mul(half_a, kfp::mul(r, r))));
  return r;
}

const ExpConstants& exp_constants() {
  // e^x = 2^n * e^r with n = round(x / ln 2) and r = x - n ln 2 in [-0.35, 0.35]. ln 2 is
  // split (Cody-Waite) so that n * C1 is exact and r keeps full precision; e^r by its Taylor
  // polynomial of degree 7 in Horner form.
  static const ExpConstants k{constant(1.44269504f),
                              constant(0.693145751953125f),  // 16 significant bits of ln 2
                              constant(1.42860682e-6f),      // ln 2 - c1
                              {constant(1.0f), constant(1.0f), constant(0.5f), constant(1.0f / 6),
                               constant(1.0f / 24), constant(1.0f / 120), constant(1.0f / 720),
                               constant(1.0f / 5040)}};
  return k;
}

Bits exp(Bits x) {
  const ExpConstants& k = exp_constants();
  const int32_t n = kfp::to_int(kfp::mul(x, k.log2e), -200, 200);
  const Bits nf = kfp::from_int(n);
  const Bits r = kfp::sub(kfp::sub(x, kfp::mul(nf, k.c1)), kfp::mul(nf, k.c2));
  Bits p = k.coef[7];
  for (int i = 6; i >= 0; --i) p = kfp::add(kfp::mul(p, r), k.coef[i]);
  return kfp::scale2(p, n);
}

Bits silu(Bits x) {
  const Bits den = kfp::add(constant(1.0f), exp(x ^ 0x80000000u));
  return kfp::mul(x, recip(den));
}

}  // namespace ks::golden::kvec
