// Matrix-unit benchmark: for each shape and precision, the cycles the Verilated unit takes
// with operands supplied at full rate, its MAC utilization, and the simulator's speed.
// One JSON object per line; the last line states the goals and whether they are met.
//
//   bench_matrix [--config NAME] [--reps N]
//
// Cycle counts are exact and repeatable; wall time is the median of --reps runs. Every run
// is also checked against the golden model, so a fast wrong answer cannot pass.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "kestrel/golden/matmul.h"
#include "matrix_product.h"
#include "matrix_unit_models.h"

namespace {

using ks::golden::Precision;

struct Case {
  std::string name;
  size_t m, k, n;
  size_t count;  // products back to back in one stream
};

struct Options {
  std::string config = std::string(ks::hw::kDefaultConfig);
  int reps = 3;
};

[[noreturn]] void usage(const char* msg) {
  std::fprintf(stderr, "bench_matrix: %s\nusage: bench_matrix [--config NAME] [--reps N]\n", msg);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value after " + a).c_str());
      return argv[++i];
    };
    if (a == "--config") {
      o.config = value();
    } else if (a == "--reps") {
      o.reps = std::atoi(value().c_str());
      if (o.reps < 1) usage("--reps must be >= 1");
    } else {
      usage(("unknown argument " + a).c_str());
    }
  }
  return o;
}

template <class Model>
int bench(const ks::hw::HwConfig& cfg, const Options& opt) {
  const ks::golden::ArrayShape shape{cfg.array_rows, cfg.array_cols, cfg.acc_depth};
  const std::vector<Case> cases = {
      {"gemm", 256, 256, 256, 1},
      {"matvec_run", 1, 256, 256, 16},
      {"stories_q", 1, 64, 64, 1},
      {"stories_kv", 1, 64, 32, 1},
      {"stories_ffn_up", 1, 64, 172, 1},
      {"stories_ffn_down", 1, 172, 64, 1},
      {"stories_cls", 1, 64, 512, 1},
  };
  std::mt19937_64 rng(2026);
  double util[2][2] = {{0, 0}, {0, 0}};  // [gemm, matvec_run][int8, int4]
  bool all_correct = true;
  for (const Case& c : cases) {
    for (Precision p : {Precision::kInt8, Precision::kInt4}) {
      std::vector<ks::tb::Product> prods;
      for (size_t i = 0; i < c.count; ++i) prods.push_back(ks::tb::random_product(rng, p, c.m, c.n, c.k));
      std::vector<const ks::tb::Product*> ptrs;
      for (const auto& pr : prods) ptrs.push_back(&pr);
      std::vector<double> secs;
      ks::tb::ProductRun first;
      for (int r = 0; r < opt.reps; ++r) {
        ks::tb::SimHarness<Model> sim;
        sim.reset();
        const auto t0 = std::chrono::steady_clock::now();
        ks::tb::ProductRun run = ks::tb::run_products(sim, shape, ptrs, 7, {}, /*check=*/r == 0);
        secs.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        if (r == 0) first = std::move(run);
      }
      std::sort(secs.begin(), secs.end());
      const double med = secs[secs.size() / 2];
      const uint64_t macs = prods.front().macs() * c.count;
      const uint64_t peak = shape.peak_macs(p);
      const double u = static_cast<double>(macs) / (static_cast<double>(first.stats.cycles) * peak);
      all_correct = all_correct && first.ok();
      if (c.name == "gemm") util[0][p == Precision::kInt4] = u;
      if (c.name == "matvec_run") util[1][p == Precision::kInt4] = u;
      std::printf(
          "{\"bench\":\"matrix_unit\",\"config\":\"%s\",\"case\":\"%s\",\"m\":%zu,\"k\":%zu,\"n\":%zu,"
          "\"count\":%zu,\"precision\":\"%s\",\"beats\":%llu,\"cycles\":%llu,\"macs\":%llu,"
          "\"peak_macs_per_cycle\":%llu,\"utilization\":%.4f,\"correct\":%s,\"reps\":%d,"
          "\"wall_s_median\":%.4f,\"sim_cycles_per_s\":%.0f}\n",
          cfg.name.data(), c.name.c_str(), c.m, c.k, c.n, c.count, ks::golden::to_string(p).data(),
          static_cast<unsigned long long>(first.stats.beats),
          static_cast<unsigned long long>(first.stats.cycles), static_cast<unsigned long long>(macs),
          static_cast<unsigned long long>(peak), u, first.ok() ? "true" : "false", opt.reps, med,
          static_cast<double>(first.stats.cycles) / med);
      std::fflush(stdout);
    }
  }
  const double goal = 0.90;
  const bool met = util[0][0] >= goal && util[0][1] >= goal && util[1][0] >= goal && util[1][1] >= goal;
  std::printf(
      "{\"bench\":\"matrix_unit_goals\",\"config\":\"%s\",\"goal_utilization\":%.2f,"
      "\"gemm_int8\":%.4f,\"gemm_int4\":%.4f,\"matvec_run_int8\":%.4f,\"matvec_run_int4\":%.4f,"
      "\"met\":%s,\"all_correct\":%s}\n",
      cfg.name.data(), goal, util[0][0], util[0][1], util[1][0], util[1][1], met ? "true" : "false",
      all_correct ? "true" : "false");
  return all_correct ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse(argc, argv);
  try {
    return ks::tb::with_matrix_unit_model(opt.config, [&](auto tag, const ks::hw::HwConfig& cfg) {
      return bench<typename decltype(tag)::type>(cfg, opt);
    });
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_matrix: %s\n", e.what());
    return 1;
  }
}
