// Error-compensating weight quantization in the manner of GPTQ (Frantar et al., 2022), in
// the core's fixed format: symmetric INT8/INT4 codes, one KFP32 scale per group of `group`
// consecutive inputs. See quant.h (quantize_gptq) for what it minimizes.
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "kestrel/runtime/quant.h"
#include "linalg.h"

namespace ks::rt {

namespace kfp = golden::kfp;

namespace {

using Mat = std::vector<double>;  // row-major square k x k

using linalg::cholesky;

/// The inverse of L L^T from its Cholesky factor L.
Mat cholesky_inverse(const Mat& l, int k) {
  // Linv (lower) by forward substitution, then Linv^T Linv.
  Mat li(static_cast<size_t>(k) * k, 0.0);
  for (int c = 0; c < k; ++c) {
    li[static_cast<size_t>(c) * k + c] = 1.0 / l[static_cast<size_t>(c) * k + c];
    for (int i = c + 1; i < k; ++i) {
      double s = 0;
      for (int p = c; p < i; ++p) s += l[static_cast<size_t>(i) * k + p] * li[static_cast<size_t>(p) * k + c];
      li[static_cast<size_t>(i) * k + c] = -s / l[static_cast<size_t>(i) * k + i];
    }
  }
  Mat inv(static_cast<size_t>(k) * k, 0.0);
  for (int i = 0; i < k; ++i) {
    for (int j = 0; j <= i; ++j) {
      double s = 0;
      for (int p = i; p < k; ++p) s += li[static_cast<size_t>(p) * k + i] * li[static_cast<size_t>(p) * k + j];
      inv[static_cast<size_t>(i) * k + j] = s;
      inv[static_cast<size_t>(j) * k + i] = s;
    }
  }
  return inv;
}

/// Solves the small symmetric system a x = b (Gaussian elimination with partial pivoting).
/// Returns false when it is singular.
bool solve(std::vector<double> a, std::vector<double> b, int n, std::vector<double>& x) {
  for (int c = 0; c < n; ++c) {
    int piv = c;
    for (int r = c + 1; r < n; ++r) {
      if (std::fabs(a[static_cast<size_t>(r) * n + c]) > std::fabs(a[static_cast<size_t>(piv) * n + c])) piv = r;
    }
    if (!(std::fabs(a[static_cast<size_t>(piv) * n + c]) > 1e-300)) return false;
    if (piv != c) {
      for (int j = 0; j < n; ++j) std::swap(a[static_cast<size_t>(c) * n + j], a[static_cast<size_t>(piv) * n + j]);
      std::swap(b[c], b[piv]);
    }
    for (int r = c + 1; r < n; ++r) {
      const double f = a[static_cast<size_t>(r) * n + c] / a[static_cast<size_t>(c) * n + c];
      for (int j = c; j < n; ++j) a[static_cast<size_t>(r) * n + j] -= f * a[static_cast<size_t>(c) * n + j];
      b[r] -= f * b[c];
    }
  }
  x.assign(n, 0.0);
  for (int r = n - 1; r >= 0; --r) {
    double s = b[r];
    for (int j = r + 1; j < n; ++j) s -= a[static_cast<size_t>(r) * n + j] * x[j];
    x[r] = s / a[static_cast<size_t>(r) * n + r];
  }
  return true;
}

/// One row's quantization problem: codes in [qmin, qmax], one scale per group of `group`
/// consecutive columns.
struct Quantizer {
  int k, group, groups, qmin, qmax;
  const Mat& hd;  // damped second moments, k x k
  const Mat& u;   // upper Cholesky factor of hd's inverse
  int scale_steps;
  bool negative;  // also negative scales: the code range's longer side (-8) on the largest weight

  int end(int g) const { return std::min(k, (g + 1) * group); }
  double code(double x, double s) const {
    return std::clamp(std::nearbyint(x / s), static_cast<double>(qmin), static_cast<double>(qmax));
  }
  double uat(int i, int j) const { return u[static_cast<size_t>(i) * k + j]; }

  /// The GPTQ loss of quantizing group g of `w` with scale s: each column's error, divided
  /// by U's diagonal, squared and summed, the error pushed onto the group's later columns
  /// only (the next groups absorb the rest and are not chosen yet). Stops early, returning
  /// at least `bound`, once the sum passes it.
  double group_loss(const double* w, int g, double s, double* tmp, double bound) const {
    const int c0 = g * group, c1 = end(g);
    std::copy(w + c0, w + c1, tmp);
    const double inv = 1.0 / s;
    double loss = 0;
    for (int i = c0; i < c1; ++i) {
      const double x = tmp[i - c0];
      const double q = std::clamp(std::nearbyint(x * inv), static_cast<double>(qmin), static_cast<double>(qmax));
      const double e = (x - q * s) / uat(i, i);
      loss += e * e;
      if (loss >= bound) return loss;
      for (int j = i + 1; j < c1; ++j) tmp[j - c0] -= e * uat(i, j);
    }
    return loss;
  }

  /// The scale of group g for the current (error-updated) weights: the one with the least
  /// loss of `scale_steps` + 1 magnitudes evenly from max|w| / qmax (the largest weight at
  /// code qmax) down to half of max|w| / |qmin| (clipped to half), searched coarse (every
  /// fourth) then fine around the best. With `negative` both signs: a negative scale puts
  /// the range's longer side (-8 of INT4's [-8, 7]) on a positive largest weight.
  float choose_scale(const double* w, int g, double* tmp) const {
    double amax = 0;
    for (int c = g * group; c < end(g); ++c) amax = std::max(amax, std::fabs(w[c]));
    if (amax == 0) return 0.0f;
    const double hi = amax / qmax, lo = 0.5 * amax / -qmin;
    float best = 0.0f;
    double best_loss = INFINITY;
    int best_step = 0;
    auto at_step = [&](int step) {
      const double mag = hi + (lo - hi) * step / scale_steps;
      for (int sign = 0; sign < (negative ? 2 : 1); ++sign) {
        const float s = kfp::to_float(kfp::from_float(static_cast<float>(sign ? -mag : mag)));
        if (s == 0.0f) continue;
        const double l = group_loss(w, g, s, tmp, best_loss);
        if (l < best_loss) {
          best_loss = l;
          best = s;
          best_step = step;
        }
      }
    };
    constexpr int kCoarse = 4;
    for (int step = 0; step <= scale_steps; step += kCoarse) at_step(step);
    const int centre = best_step;
    for (int step = std::max(0, centre - kCoarse + 1); step <= std::min(scale_steps, centre + kCoarse - 1); ++step) {
      if (step != centre) at_step(step);
    }
    return best;
  }

  /// One row by error-compensating rounding: codes, and with `search` the scales, each
  /// group's chosen when its first column comes.
  void row(const double* w0, bool search, float* scales, int8_t* codes) const {
    std::vector<double> w(w0, w0 + k), tmp(static_cast<size_t>(group));
    for (int g = 0; g < groups; ++g) {
      if (search) scales[g] = choose_scale(w.data(), g, tmp.data());
      const double s = scales[g];
      for (int i = g * group; i < end(g); ++i) {
        const double q = s != 0 ? code(w[i], s) : 0.0;
        codes[i] = static_cast<int8_t>(q);
        const double e = (w[i] - q * s) / uat(i, i);
        for (int j = i + 1; j < k; ++j) w[j] -= e * uat(i, j);
      }
    }
  }

  /// (w0 - wq)^T hd (w0 - wq) of one row.
  double loss(const double* w0, const float* scales, const int8_t* codes) const {
    std::vector<double> d(k);
    for (int c = 0; c < k; ++c) d[c] = w0[c] - codes[c] * static_cast<double>(scales[c / group]);
    double l = 0;
    for (int i = 0; i < k; ++i) {
      double s = 0;
      for (int j = 0; j < k; ++j) s += hd[static_cast<size_t>(i) * k + j] * d[j];
      l += d[i] * s;
    }
    return l;
  }

  /// The least-squares scales for fixed codes: min over s of (w0 - sum_g s_g q_g)^T hd (...),
  /// q_g the codes of group g. Groups whose codes are all zero keep their scale. False when
  /// the system is singular.
  bool refit(const double* w0, const int8_t* codes, float* scales) const {
    std::vector<int> live;
    for (int g = 0; g < groups; ++g) {
      bool any = false;
      for (int c = g * group; c < end(g); ++c) any = any || codes[c] != 0;
      if (any) live.push_back(g);
    }
    const int n = static_cast<int>(live.size());
    if (n == 0) return false;
    // hq[a] = hd q_g, then A = Q^T hd Q and b = Q^T hd w0.
    std::vector<std::vector<double>> hq(n, std::vector<double>(k, 0.0));
    for (int a = 0; a < n; ++a) {
      for (int c = live[a] * group; c < end(live[a]); ++c) {
        if (codes[c] == 0) continue;
        for (int i = 0; i < k; ++i) hq[a][i] += hd[static_cast<size_t>(i) * k + c] * codes[c];
      }
    }
    std::vector<double> A(static_cast<size_t>(n) * n), b(n), x;
    for (int a = 0; a < n; ++a) {
      double sb = 0;
      for (int i = 0; i < k; ++i) sb += hq[a][i] * w0[i];
      b[a] = sb;
      for (int c = 0; c < n; ++c) {
        double s = 0;
        for (int i = live[c] * group; i < end(live[c]); ++i) s += hq[a][i] * codes[i];
        A[static_cast<size_t>(a) * n + c] = s;
      }
    }
    if (!solve(A, b, n, x)) return false;
    for (double v : x) {
      if (!std::isfinite(v)) return false;
    }
    for (int a = 0; a < n; ++a) scales[live[a]] = kfp::to_float(kfp::from_float(static_cast<float>(x[a])));
    return true;
  }
};

/// The damped, normalized second moments and the upper Cholesky factor of their inverse.
struct Factor {
  Mat hd, u;
};

Factor factor(const InputMoments& moments, int k, double damp) {
  if (moments.k != k || moments.h.size() != static_cast<size_t>(k) * k) {
    throw std::invalid_argument("quantize_gptq: moments of width " + std::to_string(moments.k) + " for K = " +
                                std::to_string(k));
  }
  // An input never seen (zero diagonal) gets the mean diagonal and no correlations, so its
  // weights round to nearest and nothing is pushed onto or from them.
  const double norm = moments.count > 0 ? 1.0 / static_cast<double>(moments.count) : 1.0;
  double mean_diag = 0;
  for (int i = 0; i < k; ++i) mean_diag += moments.h[static_cast<size_t>(i) * k + i] * norm;
  mean_diag /= k;
  if (!(mean_diag > 0)) mean_diag = 1;
  Factor f;
  f.hd.resize(moments.h.size());
  for (int i = 0; i < k; ++i) {
    const bool dead_i = !(moments.h[static_cast<size_t>(i) * k + i] > 0);
    for (int j = 0; j < k; ++j) {
      const bool dead = dead_i || !(moments.h[static_cast<size_t>(j) * k + j] > 0);
      f.hd[static_cast<size_t>(i) * k + j] =
          dead ? (i == j ? mean_diag : 0.0) : moments.h[static_cast<size_t>(i) * k + j] * norm;
    }
    f.hd[static_cast<size_t>(i) * k + i] += damp * mean_diag;
  }
  Mat l = f.hd;
  if (!cholesky(l, k)) throw std::runtime_error("quantize_gptq: second moments not positive definite");
  f.u = cholesky_inverse(l, k);
  if (!cholesky(f.u, k)) throw std::runtime_error("quantize_gptq: inverse not positive definite");
  // cholesky() leaves the lower factor L (hinv = L L^T); GPTQ uses the upper factor U with
  // hinv = U^T U, which is L^T.
  for (int i = 0; i < k; ++i) {
    for (int j = i + 1; j < k; ++j) std::swap(f.u[static_cast<size_t>(i) * k + j], f.u[static_cast<size_t>(j) * k + i]);
  }
  return f;
}

/// quantize_gptq with the factors of row r from `row_factor(r)`.
template <class RowFactor>
QMatrix quantize_rows(const float* w, int n, int k, int group, Precision p, const GptqOptions& opt,
                      const RowFactor& row_factor) {
  if (n <= 0 || k <= 0 || group <= 0) throw std::invalid_argument("quantize_gptq: empty matrix or group");
  if (opt.scale_steps < 0 || opt.refit < 0) throw std::invalid_argument("quantize_gptq: negative option");
  QMatrix m;
  m.n = n;
  m.k = k;
  m.group = group;
  m.p = p;
  const int groups = m.groups();
  const bool int4 = p == Precision::kInt4;
  std::vector<int8_t> values(static_cast<size_t>(n) * k, 0);
  std::vector<float> scales(static_cast<size_t>(n) * groups, 0.0f);
  std::vector<int8_t> codes(k);
  std::vector<float> sc(groups);
  std::vector<double> w0(k);
  for (int r = 0; r < n; ++r) {
    const Factor& f = row_factor(r);
    const Quantizer qz{k,  group, groups, int4 ? -8 : -127, int4 ? 7 : 127, f.hd, f.u, std::max(1, opt.scale_steps),
                       int4 && opt.negative_scales};
    for (int i = 0; i < k; ++i) w0[i] = w[static_cast<size_t>(r) * k + i];
    float* rs = &scales[static_cast<size_t>(r) * groups];
    int8_t* rq = &values[static_cast<size_t>(r) * k];
    qz.row(w0.data(), true, rs, rq);
    // Least-squares scales for these codes, then the codes again for those scales, while
    // the loss falls.
    double best = qz.loss(w0.data(), rs, rq);
    for (int it = 0; it < opt.refit; ++it) {
      std::copy(rs, rs + groups, sc.begin());
      if (!qz.refit(w0.data(), rq, sc.data())) break;
      qz.row(w0.data(), false, sc.data(), codes.data());
      const double l = qz.loss(w0.data(), sc.data(), codes.data());
      if (!(l < best)) break;
      best = l;
      std::copy(sc.begin(), sc.end(), rs);
      std::copy(codes.begin(), codes.end(), rq);
    }
  }
  m.scales.resize(scales.size());
  for (size_t i = 0; i < scales.size(); ++i) m.scales[i] = kfp::from_float(scales[i]);
  if (int4) {
    m.q = golden::pack_int4(values, static_cast<size_t>(n), static_cast<size_t>(k));
  } else {
    m.q.assign(values.begin(), values.end());
  }
  return m;
}

}  // namespace

QMatrix quantize_gptq(const float* w, int n, int k, int group, Precision p, const InputMoments& moments,
                      const GptqOptions& opt) {
  if (n <= 0 || k <= 0 || group <= 0) throw std::invalid_argument("quantize_gptq: empty matrix or group");
  const Factor f = factor(moments, k, opt.damp);
  return quantize_rows(w, n, k, group, p, opt, [&](int) -> const Factor& { return f; });
}

QMatrix quantize_gptq(const float* w, int n, int k, int group, Precision p,
                      const std::vector<InputMoments>& row_moments, const GptqOptions& opt) {
  if (row_moments.size() != static_cast<size_t>(n)) {
    throw std::invalid_argument("quantize_gptq: " + std::to_string(row_moments.size()) + " moments for " +
                                std::to_string(n) + " rows");
  }
  Factor f;
  return quantize_rows(w, n, k, group, p, opt, [&](int r) -> const Factor& {
    f = factor(row_moments[r], k, opt.damp);
    return f;
  });
}

std::vector<float> dequantize(const QMatrix& m) {
  std::vector<float> w(static_cast<size_t>(m.n) * m.k);
  for (int r = 0; r < m.n; ++r) {
    for (int c = 0; c < m.k; ++c) {
      w[static_cast<size_t>(r) * m.k + c] = static_cast<float>(m.value(r, c)) *
                                            kfp::to_float(m.scales[static_cast<size_t>(r) * m.groups() + c / m.group]);
    }
  }
  return w;
}

double output_error(const float* w, const QMatrix& m, const InputMoments& moments) {
  const std::vector<float> wq = dequantize(m);
  const int k = m.k;
  double e = 0;
  std::vector<double> d(k);
  for (int r = 0; r < m.n; ++r) {
    for (int c = 0; c < k; ++c) d[c] = static_cast<double>(w[static_cast<size_t>(r) * k + c]) - wq[static_cast<size_t>(r) * k + c];
    for (int i = 0; i < k; ++i) {
      double s = 0;
      for (int j = 0; j < k; ++j) s += moments.h[static_cast<size_t>(i) * k + j] * d[j];
      e += d[i] * s;
    }
  }
  return moments.count > 0 ? e / static_cast<double>(moments.count) : e;
}

}  // namespace ks::rt
