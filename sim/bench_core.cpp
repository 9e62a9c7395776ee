// Core benchmarks through the host driver on the emulated backend (JSON lines):
//  - GEMM 512 x 512 x 512, tiled with double buffering: array utilization over the whole
//    run and overlap = cycles / max(compute-only cycles, transfer-only cycles);
//  - matrix-vector products whose weights are far larger than the SRAM, streamed from
//    memory: achieved bytes per cycle as a fraction of the memory bandwidth.
//
//   bench_core [--config NAME] [--bandwidth BYTES_PER_CYCLE] [--quick]
//
// Figures come from the core's performance counters; every result is checked against the
// golden model.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "kestrel/driver/emulated.h"
#include "kestrel/driver/gemm.h"
#include "kestrel/driver/queue.h"
#include "kestrel/golden/matmul.h"

namespace {

using ks::golden::Precision;

struct Options {
  std::string config = std::string(ks::hw::kDefaultConfig);
  double bandwidth = 0;
  bool quick = false;
};

[[noreturn]] void usage(const std::string& msg) {
  std::fprintf(stderr, "bench_core: %s\nusage: bench_core [--config NAME] [--bandwidth B] [--quick]\n", msg.c_str());
  std::exit(2);
}

bool run_case(const Options& opt, const char* name, Precision p, size_t m, size_t n, size_t k) {
  ks::drv::EmulatedOptions eo;
  eo.mem_size = 32u << 20;
  eo.bytes_per_cycle = opt.bandwidth;
  auto dev = ks::drv::make_emulated_device(opt.config, eo);
  const uint32_t base = static_cast<uint32_t>(dev->mem_base());
  ks::drv::CommandQueue q(*dev, base, 256, base + 0x2000);
  q.start();
  ks::drv::DeviceArena arena(base + 0x10000, dev->mem_size() - 0x10000);
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int> b8(-128, 127), b4(-8, 7);
  std::vector<int8_t> x(m * k), wv(n * k);
  for (auto& v : x) v = static_cast<int8_t>(b8(rng));
  for (auto& v : wv) v = static_cast<int8_t>(p == Precision::kInt4 ? b4(rng) : b8(rng));
  const std::vector<uint8_t> w = p == Precision::kInt4 ? ks::golden::pack_int4(wv, n, k)
                                                       : std::vector<uint8_t>(wv.begin(), wv.end());
  ks::drv::GemmTiling t;
  ks::drv::GemmStats s;
  const auto t0 = std::chrono::steady_clock::now();
  const auto y = ks::drv::gemm(*dev, q, arena, p, x.data(), w.data(), m, n, k, &t, &s, opt.bandwidth);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const bool ok = y == ks::golden::matmul_ref(p, x.data(), w.data(), m, n, k) &&
                  ks::drv::emulated_violations(*dev).empty();
  const double bw = opt.bandwidth > 0 ? opt.bandwidth : dev->config().mem_bytes_per_cycle;
  std::printf(
      "{\"bench\":\"core_%s\",\"config\":\"%s\",\"m\":%zu,\"k\":%zu,\"n\":%zu,\"precision\":\"%s\","
      "\"mem_bytes_per_cycle\":%.1f,\"cycles\":%llu,\"macs\":%llu,\"utilization\":%.4f,"
      "\"compute_cycles\":%llu,\"transfer_cycles\":%.0f,\"overlap\":%.4f,\"bytes_read\":%llu,"
      "\"bytes_written\":%llu,\"bandwidth_fraction\":%.4f,\"tiles\":[%zu,%zu,%zu],\"descriptors\":%zu,"
      "\"correct\":%s,\"sim_cycles_per_s\":%.0f}\n",
      name, opt.config.c_str(), m, k, n, ks::golden::to_string(p).data(), bw,
      static_cast<unsigned long long>(s.cycles), static_cast<unsigned long long>(s.macs), s.utilization,
      static_cast<unsigned long long>(s.compute_cycles), s.transfer_cycles, s.overlap,
      static_cast<unsigned long long>(s.bytes_read), static_cast<unsigned long long>(s.bytes_written),
      s.bandwidth_fraction, t.m_tiles, t.n_tiles, t.k_tiles, t.descriptors, ok ? "true" : "false",
      static_cast<double>(dev->cycles()) / secs);
  std::fflush(stdout);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage("missing value after " + a);
      return argv[++i];
    };
    if (a == "--config") opt.config = value();
    else if (a == "--bandwidth") opt.bandwidth = std::atof(value().c_str());
    else if (a == "--quick") opt.quick = true;
    else usage("unknown argument " + a);
  }
  try {
    bool ok = true;
    const size_t g = opt.quick ? 96 : 512;
    const size_t kv = opt.quick ? 256 : 2048;
    for (Precision p : {Precision::kInt8, Precision::kInt4}) ok = run_case(opt, "gemm", p, g, g, g) && ok;
    for (Precision p : {Precision::kInt8, Precision::kInt4}) ok = run_case(opt, "matvec_stream", p, 1, kv, kv) && ok;
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_core: %s\n", e.what());
    return 1;
  }
}
