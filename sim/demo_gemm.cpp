// make run (until the end-to-end decode exists): matrix products on the Verilated matrix
// unit, each checked bit for bit against the golden model, with cycles and utilization.
//
//   demo_gemm [--config NAME] [--m M --k K --n N] [--seed S] [--in-idle P] [--out-stall P]
//
// Runs a prefill-style GEMM in INT8 and in INT4, then a decode-style stream of
// matrix-vector products, and prints what the hardware did.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "kestrel/golden/matmul.h"
#include "matrix_product.h"
#include "matrix_unit_models.h"

namespace {

using ks::golden::Precision;

struct Options {
  std::string config = std::string(ks::hw::kDefaultConfig);
  size_t m = 64, k = 256, n = 256;
  uint64_t seed = 1;
  ks::tb::StallProfile stalls;
};

[[noreturn]] void usage(const std::string& msg) {
  std::fprintf(stderr,
               "demo_gemm: %s\nusage: demo_gemm [--config NAME] [--m M] [--k K] [--n N] [--seed S]\n"
               "                 [--in-idle P] [--out-stall P]\n",
               msg.c_str());
  std::exit(2);
}

size_t to_dim(const std::string& flag, const std::string& v) {
  char* end = nullptr;
  const unsigned long long x = std::strtoull(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || x == 0 || x > 1u << 20) usage(flag + " wants a size in 1..1048576, got '" + v + "'");
  return static_cast<size_t>(x);
}

double to_prob(const std::string& flag, const std::string& v) {
  char* end = nullptr;
  const double x = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || x < 0.0 || x >= 1.0) usage(flag + " wants a probability in [0, 1), got '" + v + "'");
  return x;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage("missing value after " + a);
      return argv[++i];
    };
    if (a == "--config") o.config = value();
    else if (a == "--m") o.m = to_dim(a, value());
    else if (a == "--k") o.k = to_dim(a, value());
    else if (a == "--n") o.n = to_dim(a, value());
    else if (a == "--seed") o.seed = std::strtoull(value().c_str(), nullptr, 0);
    else if (a == "--in-idle") o.stalls.in_idle = to_prob(a, value());
    else if (a == "--out-stall") o.stalls.out_stall = to_prob(a, value());
    else usage("unknown argument " + a);
  }
  return o;
}

void print_row(const char* label, const int32_t* v, size_t count) {
  std::printf("      %-8s", label);
  for (size_t i = 0; i < count; ++i) std::printf(" %9d", v[i]);
  std::printf("\n");
}

template <class Model>
bool step(const char* title, const ks::hw::HwConfig& cfg, const ks::golden::ArrayShape& shape,
          const std::vector<ks::tb::Product>& prods, const Options& opt, double& cycles, double& seconds) {
  const ks::tb::Product& p0 = prods.front();
  std::printf("\n%s\n  %zu x (M=%zu K=%zu N=%zu), %s weights x INT8 activations -> INT32\n", title,
              prods.size(), p0.m, p0.k, p0.n, ks::golden::to_string(p0.p) == "int4" ? "INT4" : "INT8");
  std::vector<const ks::tb::Product*> ptrs;
  for (const auto& p : prods) ptrs.push_back(&p);
  ks::tb::SimHarness<Model> sim;
  sim.reset();
  const auto t0 = std::chrono::steady_clock::now();
  const ks::tb::ProductRun run = ks::tb::run_products(sim, shape, ptrs, opt.seed, opt.stalls);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  cycles += static_cast<double>(run.stats.cycles);
  seconds += secs;
  const uint64_t macs = p0.macs() * prods.size();
  const double util = static_cast<double>(macs) / (static_cast<double>(run.stats.cycles) * shape.peak_macs(p0.p));
  const auto ref = ks::golden::matmul_ref(p0.p, p0.x.data(), p0.w.data(), p0.m, p0.n, p0.k);
  const size_t show = std::min<size_t>(p0.n, 8);
  print_row("RTL", run.y.data(), show);
  print_row("golden", ref.data(), show);
  std::printf("  %llu beats in %llu cycles: %llu MACs, %.1f%% of the %zu MAC/cycle peak; %.2f us at %u MHz\n",
              static_cast<unsigned long long>(run.stats.beats),
              static_cast<unsigned long long>(run.stats.cycles), static_cast<unsigned long long>(macs),
              100.0 * util, shape.peak_macs(p0.p), static_cast<double>(run.stats.cycles) / cfg.target_mhz,
              cfg.target_mhz);
  if (run.ok()) {
    std::printf("  golden model: all %llu outputs equal, bit for bit\n",
                static_cast<unsigned long long>(p0.m * p0.n * prods.size()));
  } else {
    std::printf("  MISMATCH: %zu result beats and %zu elements differ from the golden model\n",
                run.beat_mismatches, run.element_mismatches);
  }
  return run.ok();
}

template <class Model>
int demo(const ks::hw::HwConfig& cfg, const Options& opt) {
  const ks::golden::ArrayShape shape{cfg.array_rows, cfg.array_cols, cfg.acc_depth};
  std::printf("Kestrel matrix unit on the Verilated RTL: configuration '%s' (%s)\n", cfg.name.data(),
              cfg.device.data());
  std::printf("  %u x %u systolic array: %u INT8 or %u INT4 MACs per cycle; %u accumulator entries\n",
              cfg.array_rows, cfg.array_cols, cfg.peak_macs_int8, cfg.peak_macs_int4, cfg.acc_depth);
  if (opt.stalls.in_idle > 0 || opt.stalls.out_stall > 0) {
    std::printf("  random stalls: producer idle %.2f, consumer stalled %.2f\n", opt.stalls.in_idle,
                opt.stalls.out_stall);
  }
  std::mt19937_64 rng(opt.seed);
  bool ok = true;
  double cycles = 0, seconds = 0;
  for (Precision p : {Precision::kInt8, Precision::kInt4}) {
    const std::vector<ks::tb::Product> gemm = {ks::tb::random_product(rng, p, opt.m, opt.n, opt.k)};
    ok = step<Model>(p == Precision::kInt8 ? "[prefill] GEMM, INT8 weights" : "[prefill] GEMM, INT4 weights",
                     cfg, shape, gemm, opt, cycles, seconds) && ok;
  }
  std::vector<ks::tb::Product> decode;
  for (int i = 0; i < 16; ++i) decode.push_back(ks::tb::random_product(rng, Precision::kInt4, 1, opt.n, opt.k));
  ok = step<Model>("[decode] matrix-vector products back to back, INT4 weights", cfg, shape, decode, opt, cycles, seconds) && ok;
  std::printf("\nsimulation speed: %.2f M cycles/s (Verilator, one thread, with the golden-model checks)\n%s\n",
              cycles / seconds / 1e6,
              ok ? "PASS: RTL equals the golden model" : "FAIL: RTL differs from the golden model");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse(argc, argv);
  try {
    return ks::tb::with_matrix_unit_model(opt.config, [&](auto tag, const ks::hw::HwConfig& cfg) {
      return demo<typename decltype(tag)::type>(cfg, opt);
    });
  } catch (const std::exception& e) {
    std::fprintf(stderr, "demo_gemm: %s\n", e.what());
    return 1;
  }
}
