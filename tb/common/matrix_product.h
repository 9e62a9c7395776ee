// Matrix products on a Verilated matrix unit: operand generation, the run, and the
// comparison with the golden model. One implementation for tests, benchmark and demo.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "kestrel/golden/matmul.h"
#include "kestrel/golden/matrix_unit.h"
#include "matrix_unit_driver.h"

namespace ks::tb {

/// Y = X W^T with X INT8 [M][K] and W [N][K] in memory layout for p (packed for INT4).
struct Product {
  golden::Precision p = golden::Precision::kInt8;
  size_t m = 0, n = 0, k = 0;
  std::vector<int8_t> x;
  std::vector<uint8_t> w;

  uint64_t macs() const { return static_cast<uint64_t>(m) * n * k; }
};

/// Operands drawn uniformly from the whole range of each type.
inline Product random_product(std::mt19937_64& rng, golden::Precision p, size_t m, size_t n, size_t k) {
  Product pr{p, m, n, k, std::vector<int8_t>(m * k), {}};
  std::uniform_int_distribution<int> b8(-128, 127), b4(-8, 7);
  for (auto& v : pr.x) v = static_cast<int8_t>(b8(rng));
  std::vector<int8_t> w(n * k);
  for (auto& v : w) v = static_cast<int8_t>(p == golden::Precision::kInt4 ? b4(rng) : b8(rng));
  if (p == golden::Precision::kInt4) {
    pr.w = golden::pack_int4(w, n, k);
  } else {
    pr.w.assign(w.begin(), w.end());
  }
  return pr;
}

/// Every activation xv and every weight wv (for extreme-value tests).
inline Product constant_product(golden::Precision p, size_t m, size_t n, size_t k, int xv, int wv) {
  Product pr{p, m, n, k, std::vector<int8_t>(m * k, static_cast<int8_t>(xv)), {}};
  std::vector<int8_t> w(n * k, static_cast<int8_t>(wv));
  if (p == golden::Precision::kInt4) {
    pr.w = golden::pack_int4(w, n, k);
  } else {
    pr.w.assign(w.begin(), w.end());
  }
  return pr;
}

struct ProductRun {
  RunStats stats;
  std::vector<int32_t> y;        ///< the RTL's result, [M][N]
  size_t beat_mismatches = 0;    ///< output beats differing from the transaction model
  size_t first_bad_beat = 0;
  size_t element_mismatches = 0; ///< elements of y differing from matmul_ref
  size_t first_bad_element = 0;

  bool ok() const { return stats.completed && beat_mismatches == 0 && element_mismatches == 0; }
};

/// Runs several products back to back as one beat stream (no gap between them) and checks
/// each against the model beat by beat and against matmul_ref element by element. With
/// check = false only the run happens (the caller compares nothing).
template <class Model>
ProductRun run_products(SimHarness<Model>& sim, const golden::ArrayShape& shape,
                        const std::vector<const Product*>& products, uint64_t seed,
                        StallProfile stalls = {}, bool check = true) {
  std::vector<golden::MatmulTiler> tilers;
  std::vector<size_t> beat_base{0}, result_base{0};
  for (const Product* pr : products) {
    tilers.emplace_back(shape, pr->p, pr->x.data(), pr->w.data(), pr->m, pr->n, pr->k);
    beat_base.push_back(beat_base.back() + tilers.back().num_beats());
    result_base.push_back(result_base.back() + tilers.back().num_results());
  }
  std::vector<golden::MatrixResult> expected;
  if (check) {
    golden::MatrixUnitModel model(shape);
    golden::MatrixBeat b;
    for (const auto& t : tilers) {
      for (size_t i = 0; i < t.num_beats(); ++i) {
        t.beat(i, b);
        if (auto r = model.push(b)) expected.push_back(std::move(*r));
      }
    }
  }
  ProductRun run;
  std::vector<std::vector<int32_t>> ys;
  for (const Product* pr : products) ys.emplace_back(pr->m * pr->n, 0);
  size_t bt = 0, rt = 0;  // tiler cursors: beats and results arrive in order
  MatrixUnitDriver<Model> drv(sim, shape, seed);
  run.stats = drv.run(
      beat_base.back(), result_base.back(),
      [&](size_t i, golden::MatrixBeat& b) {
        while (i >= beat_base[bt + 1]) ++bt;
        tilers[bt].beat(i - beat_base[bt], b);
      },
      [&](size_t i, const golden::MatrixResult& r) {
        while (i >= result_base[rt + 1]) ++rt;
        if (check && (r.data != expected[i].data || r.addr != expected[i].addr)) {
          if (run.beat_mismatches++ == 0) run.first_bad_beat = i;
        }
        tilers[rt].scatter(i - result_base[rt], r, ys[rt]);
      },
      stalls);
  if (check) {
    size_t base = 0;
    for (size_t j = 0; j < products.size(); ++j) {
      const Product& pr = *products[j];
      const auto ref = golden::matmul_ref(pr.p, pr.x.data(), pr.w.data(), pr.m, pr.n, pr.k);
      for (size_t e = 0; e < ref.size(); ++e) {
        if (ys[j][e] != ref[e] && run.element_mismatches++ == 0) run.first_bad_element = base + e;
      }
      base += ref.size();
    }
  }
  run.y = std::move(ys.front());
  return run;
}

template <class Model>
ProductRun run_product(SimHarness<Model>& sim, const golden::ArrayShape& shape, const Product& pr,
                       uint64_t seed, StallProfile stalls = {}) {
  return run_products(sim, shape, {&pr}, seed, stalls);
}

}  // namespace ks::tb
