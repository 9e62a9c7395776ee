// Small dense linear algebra for the quantizers (gptq.cpp, calibrate.cpp): symmetric
// positive definite matrices, row-major, double.
#pragma once

#include <cmath>
#include <cstddef>
#include <vector>

namespace ks::rt::linalg {

/// In-place Cholesky factor L (lower; the upper triangle is zeroed) of a symmetric positive
/// definite k x k matrix. Returns false when a pivot is not positive.
inline bool cholesky(std::vector<double>& a, int k) {
  const auto at = [k](int i, int j) { return static_cast<size_t>(i) * static_cast<size_t>(k) + static_cast<size_t>(j); };
  for (int j = 0; j < k; ++j) {
    double d = a[at(j, j)];
    for (int p = 0; p < j; ++p) d -= a[at(j, p)] * a[at(j, p)];
    if (!(d > 0)) return false;
    d = std::sqrt(d);
    a[at(j, j)] = d;
    for (int i = j + 1; i < k; ++i) {
      double s = a[at(i, j)];
      for (int p = 0; p < j; ++p) s -= a[at(i, p)] * a[at(j, p)];
      a[at(i, j)] = s / d;
    }
    for (int i = 0; i < j; ++i) a[at(i, j)] = 0;
  }
  return true;
}

/// Solves L L^T x = b in place (L from cholesky()).
inline void cholesky_solve(const std::vector<double>& l, int k, double* x) {
  const auto at = [k](int i, int j) { return static_cast<size_t>(i) * static_cast<size_t>(k) + static_cast<size_t>(j); };
  for (int i = 0; i < k; ++i) {
    double s = x[i];
    for (int p = 0; p < i; ++p) s -= l[at(i, p)] * x[p];
    x[i] = s / l[at(i, i)];
  }
  for (int i = k - 1; i >= 0; --i) {
    double s = x[i];
    for (int p = i + 1; p < k; ++p) s -= l[at(p, i)] * x[p];
    x[i] = s / l[at(i, i)];
  }
}

}  // namespace ks::rt::linalg
