// The core through the host driver on the emulated backend, in every configuration:
// registers, transfers, matrix products against the golden model.
#include <gtest/gtest.h>

#include <algorithm>

#include "core_fixture.h"
#include "kestrel/driver/layout.h"
#include "kestrel/golden/matmul.h"
#include "kestrel/regs.h"

namespace {

using ks::tb::CoreTest;
using namespace ks;

TEST_P(CoreTest, IdentificationRegistersDescribeTheBuild) {
  EXPECT_EQ(dev_->read32(regs::kId), regs::kIdValueValue);
  EXPECT_EQ(regs::kVersionMajor.get(dev_->read32(regs::kVersion)), regs::kVersionMajorValue);
  const uint32_t a = dev_->read32(regs::kHwArray);
  EXPECT_EQ(regs::kHwArrayRows.get(a), cfg().array_rows);
  EXPECT_EQ(regs::kHwArrayCols.get(a), cfg().array_cols);
  EXPECT_EQ(regs::kHwArrayAxiBytes.get(a), cfg().axi_data_bytes);
  EXPECT_EQ(1u << regs::kHwArrayAccDepthLog2.get(a), cfg().acc_depth);
  EXPECT_EQ(dev_->read32(regs::kHwWgtBytes), cfg().wgt_bank_bytes);
  EXPECT_EQ(dev_->read32(regs::kHwActBytes), cfg().act_bank_bytes);
  EXPECT_EQ(dev_->read32(regs::kHwAccBytes), cfg().acc_bank_bytes);
  EXPECT_EQ(dev_->read32(regs::kHwKvBytes), cfg().kv_bank_bytes);
  const uint32_t v = dev_->read32(regs::kHwVec);
  EXPECT_EQ(regs::kHwVecLanes.get(v), cfg().vec_lanes) << "0 without the vector unit";
  EXPECT_EQ(regs::kHwVecRows.get(v), cfg().vec_rows);
  EXPECT_EQ(regs::kHwVecHistRows.get(dev_->read32(regs::kHwVecHist)), cfg().vec_hist_rows);
  EXPECT_EQ(regs::kHwPerfCounterBits.get(dev_->read32(regs::kHwPerf)), cfg().perf_counter_bits);
}

TEST_P(CoreTest, EveryMappedOffsetReadsAndUnmappedOnesAnswerSlverr) {
  for (uint32_t off : regs::kMappedOffsets) EXPECT_NO_THROW(dev_->read32(off)) << "offset " << off;
  for (uint32_t off = 0; off < regs::kMapBytes; off += 4) {
    if (std::find(std::begin(regs::kMappedOffsets), std::end(regs::kMappedOffsets), off) !=
        std::end(regs::kMappedOffsets)) {
      continue;
    }
    EXPECT_THROW(dev_->read32(off), drv::BusError) << "read of unmapped offset " << off;
    EXPECT_THROW(dev_->write32(off, 0xFFFFFFFF), drv::BusError) << "write of unmapped offset " << off;
  }
  // Read-only registers refuse writes and keep their value.
  EXPECT_THROW(dev_->write32(regs::kId, 0), drv::BusError);
  EXPECT_EQ(dev_->read32(regs::kId), regs::kIdValueValue);
  EXPECT_THROW(dev_->write32(regs::kRingHead, 3), drv::BusError);
  EXPECT_EQ(dev_->read32(regs::kRingHead), 0u);
  // The ring's geometry is frozen while the queue is enabled.
  EXPECT_THROW(dev_->write32(regs::kRingSize, 64), drv::BusError);
  EXPECT_EQ(dev_->read32(regs::kRingSize), kRingEntries);
}

TEST_P(CoreTest, PerformanceCountersCountAndClear) {
  if (is_model()) GTEST_SKIP() << "the model backend counts no cycles";
  const uint32_t lo = regs::counter_lo(regs::Counter::kCycles);
  const uint32_t c0 = dev_->read32(lo);
  const uint32_t c1 = dev_->read32(lo);
  EXPECT_GT(c1, c0);
  dev_->write32(regs::kPerfCtrl, regs::kPerfCtrlFreeze.mask());
  const uint32_t f0 = dev_->read32(lo);
  EXPECT_EQ(dev_->read32(lo), f0);
  const uint64_t t0 = clock_cycles();
  dev_->write32(regs::kPerfCtrl, regs::kPerfCtrlClear.mask());
  const uint32_t since_clear = dev_->read32(lo);  // a read can take cycles (counters in RAM)
  EXPECT_LE(since_clear, clock_cycles() - t0) << "counted from the clear";
  EXPECT_EQ(dev_->read32(lo + 4), 0u);
}

// The counters that count events, not cycles, are exact on every backend (the model counts
// them too), frozen by FREEZE and zeroed by CLEAR; read as LO then HI.
TEST_P(CoreTest, EventCountersAreExactFreezeAndClear) {
  auto counter = [&](regs::Counter c) {
    const uint32_t lo = dev_->read32(regs::counter_lo(c));
    return uint64_t{dev_->read32(regs::counter_lo(c) + 4)} << 32 | lo;
  };
  dev_->write32(regs::kPerfCtrl, regs::kPerfCtrlClear.mask());
  const uint32_t desc_beats = desc::kBytes / axi();
  const auto data = random_bytes(6 * axi());
  const uint32_t src = alloc(data.size()), dst = alloc(data.size());
  dev_->mem_write(src, data.data(), data.size());
  const drv::Xfer x{desc::Bank::kKv, 0, src, 3, 2 * axi(), 2 * axi(), 2 * axi()};
  drv::Xfer y = x;
  y.host_addr = dst;
  q_->run({drv::make_load(x), drv::make_nop(), drv::make_store(y)});  // + COMPLETE
  EXPECT_EQ(counter(regs::Counter::kDescExecuted), 4u);
  // (A counter the configuration leaves out reads 0: up5k counts bytes, not beats.)
  auto kept = [&](regs::Counter c, uint64_t v) {
    return (cfg().perf_counter_mask >> static_cast<uint32_t>(c) & 1u) != 0 ? v : uint64_t{0};
  };
  EXPECT_EQ(counter(regs::Counter::kDmaRdBeats), kept(regs::Counter::kDmaRdBeats, 4u * desc_beats + 6));
  EXPECT_EQ(counter(regs::Counter::kBytesRead), 4u * desc::kBytes + 6 * axi());
  EXPECT_EQ(counter(regs::Counter::kDmaWrBeats), kept(regs::Counter::kDmaWrBeats, 6u + 1));
  EXPECT_EQ(counter(regs::Counter::kBytesWritten), 6u * axi() + 4) << "the completion enables 4 bytes";
  EXPECT_EQ(counter(regs::Counter::kMacs), 0u);
  const uint32_t m = 3, k = 2 * cfg().array_cols + 1, n = cfg().array_rows + 1;
  const drv::MatmulLayout l = drv::matmul_layout(cfg(), golden::Precision::kInt8, m, k, n);
  q_->run({drv::make_matmul({false, m, k, n, 0, 0, 0})});
  EXPECT_EQ(counter(regs::Counter::kMacs), uint64_t{m} * k * n) << "useful MACs, padding excluded";
  EXPECT_EQ(counter(regs::Counter::kDescExecuted), 6u);
  EXPECT_LE(l.acc_bytes, cfg().acc_bank_bytes);
  dev_->write32(regs::kPerfCtrl, regs::kPerfCtrlFreeze.mask());
  q_->run({drv::make_nop()});
  EXPECT_EQ(counter(regs::Counter::kDescExecuted), 6u) << "frozen";
  dev_->write32(regs::kPerfCtrl, regs::kPerfCtrlClear.mask());
  for (auto c : {regs::Counter::kDescExecuted, regs::Counter::kMacs, regs::Counter::kDmaRdBeats,
                 regs::Counter::kDmaWrBeats, regs::Counter::kBytesRead, regs::Counter::kBytesWritten}) {
    EXPECT_EQ(counter(c), 0u) << "cleared: " << regs::kCounterNames[static_cast<uint32_t>(c)];
  }
  q_->run({drv::make_nop()});
  EXPECT_EQ(counter(regs::Counter::kDescExecuted), 2u) << "the NOP and the COMPLETE";
}

// A build has the counters of its perf_counters; the others read 0, whatever runs.
TEST_P(CoreTest, CountersOutsideTheBuildReadZero) {
  const uint32_t src = alloc(4 * axi());
  q_->run({drv::make_load({desc::Bank::kKv, 0, src, 2, 2 * axi(), 2 * axi(), 2 * axi()}),
           drv::make_matmul({false, 1, cfg().array_cols, cfg().array_rows, 0, 0, 0})});
  uint32_t absent = 0;
  for (uint32_t i = 0; i < regs::kNumCounters; ++i) {
    const auto c = static_cast<regs::Counter>(i);
    const bool present = (cfg().perf_counter_mask >> i & 1u) != 0;
    const uint32_t lo = dev_->read32(regs::counter_lo(c)), hi = dev_->read32(regs::counter_lo(c) + 4);
    if (!present) {
      ++absent;
      EXPECT_EQ(lo, 0u) << regs::kCounterNames[i];
      EXPECT_EQ(hi, 0u) << regs::kCounterNames[i];
    } else if (c == regs::Counter::kDescExecuted) {
      EXPECT_EQ(lo, 3u) << "LOAD, MATMUL, COMPLETE";
    }
  }
  EXPECT_EQ(absent, regs::kNumCounters - static_cast<uint32_t>(__builtin_popcount(cfg().perf_counter_mask)));
}

TEST_P(CoreTest, LoadAndStoreRoundTripWithStrides) {
  std::uniform_int_distribution<uint32_t> beats(1, 6), rows(1, 5), gap(0, 3);
  for (int round = 0; round < 8; ++round) {
    const uint32_t row_bytes = beats(rng_) * axi();
    const uint32_t n_rows = rows(rng_);
    const uint32_t hstride = row_bytes + gap(rng_) * axi();
    const uint32_t sstride = row_bytes + gap(rng_) * axi();
    if ((n_rows - 1) * sstride + row_bytes > cfg().kv_bank_bytes) continue;
    const auto src = random_bytes(n_rows * hstride);
    const uint32_t in = alloc(src.size()), out = alloc(src.size());
    dev_->mem_write(in, src.data(), src.size());
    const std::vector<uint8_t> zeros(src.size(), 0);
    dev_->mem_write(out, zeros.data(), zeros.size());
    const uint32_t sram = axi() * gap(rng_);
    q_->run({drv::make_load({desc::Bank::kKv, sram, in, n_rows, row_bytes, hstride, sstride}, {false, false, false, false}),
             drv::make_nop(),
             drv::make_store({desc::Bank::kKv, sram, out, n_rows, row_bytes, hstride, sstride})});
    std::vector<uint8_t> got(src.size());
    dev_->mem_read(out, got.data(), got.size());
    for (uint32_t r = 0; r < n_rows; ++r) {
      for (uint32_t b = 0; b < hstride; ++b) {
        const uint8_t want = b < row_bytes ? src[r * hstride + b] : 0;
        ASSERT_EQ(got[r * hstride + b], want) << "row " << r << " byte " << b << ", " << ks::tb::seed_note(seed_);
      }
    }
  }
}

// One MATMUL through the banks: LOAD W and X, MATMUL, STORE the results; equal to the
// golden product bit for bit.
TEST_P(CoreTest, MatmulThroughTheBanksMatchesTheGoldenModel) {
  std::uniform_int_distribution<size_t> dm(1, 6), dk(1, 70), dn(1, 3 * cfg().array_rows + 2);
  std::uniform_int_distribution<int> b8(-128, 127), b4(-8, 7);
  int done = 0;
  for (int round = 0; done < 10 && round < 100; ++round) {
    const auto p = round % 2 ? golden::Precision::kInt4 : golden::Precision::kInt8;
    const size_t m = dm(rng_), k = dk(rng_), n = dn(rng_);
    const drv::MatmulLayout l = drv::matmul_layout(cfg(), p, m, k, n);
    if (l.wgt_bytes > cfg().wgt_bank_bytes || l.act_bytes > cfg().act_bank_bytes ||
        l.acc_bytes > cfg().acc_bank_bytes) {
      continue;
    }
    std::vector<int8_t> x(m * k), wv(n * k);
    for (auto& v : x) v = static_cast<int8_t>(b8(rng_));
    for (auto& v : wv) v = static_cast<int8_t>(p == golden::Precision::kInt4 ? b4(rng_) : b8(rng_));
    const std::vector<uint8_t> w = p == golden::Precision::kInt4 ? golden::pack_int4(wv, n, k)
                                                                : std::vector<uint8_t>(wv.begin(), wv.end());
    const auto wimg = drv::pack_weights(cfg(), p, w.data(), n, k);
    const auto ximg = drv::pack_activations(cfg(), x.data(), m, k);
    const uint32_t wa = alloc(wimg.size()), xa = alloc(ximg.size()), ya = alloc(l.acc_bytes);
    dev_->mem_write(wa, wimg.data(), wimg.size());
    dev_->mem_write(xa, ximg.data(), ximg.size());
    q_->run({drv::make_load({desc::Bank::kWgt, 0, wa, 1, static_cast<uint32_t>(wimg.size()), 0, 0}),
             drv::make_load({desc::Bank::kAct, 0, xa, 1, static_cast<uint32_t>(ximg.size()), 0, 0},
                            {false, false, false, true}),
             drv::make_matmul({p == golden::Precision::kInt4, static_cast<uint32_t>(m), static_cast<uint32_t>(k),
                               static_cast<uint32_t>(n), 0, 0, 0},
                              {true, false, false, true}),
             drv::make_store({desc::Bank::kAcc, 0, ya, 1, static_cast<uint32_t>(l.acc_bytes), 0, 0},
                             {true, false, false, false})});
    std::vector<uint8_t> yimg(l.acc_bytes);
    dev_->mem_read(ya, yimg.data(), yimg.size());
    const auto y = drv::unpack_results(cfg(), yimg.data(), m, n);
    const auto ref = golden::matmul_ref(p, x.data(), w.data(), m, n, k);
    ASSERT_EQ(y, ref) << golden::to_string(p) << " M=" << m << " K=" << k << " N=" << n << ", "
                      << ks::tb::seed_note(seed_);
    ++done;
  }
  EXPECT_EQ(done, 10);
}

// MATMUL with GROUP: one INT32 partial sum per group of reduction chunks (the input of
// group-wise weight scales), equal to the golden product of each K slice.
TEST_P(CoreTest, MatmulGroupPartialSumsMatchTheGoldenModel) {
  std::uniform_int_distribution<size_t> dm(1, 4), dk(1, 90), dn(1, 2 * cfg().array_rows + 1);
  std::uniform_int_distribution<int> b8(-128, 127), b4(-8, 7);
  int done = 0;
  for (int round = 0; done < 8 && round < 100; ++round) {
    const auto p = round % 2 ? golden::Precision::kInt4 : golden::Precision::kInt8;
    const unsigned group = 1 + static_cast<unsigned>(rng_() % 3);
    const size_t m = dm(rng_), k = dk(rng_), n = dn(rng_);
    const drv::MatmulLayout l = drv::matmul_layout(cfg(), p, m, k, n, group);
    if (l.wgt_bytes > cfg().wgt_bank_bytes || l.act_bytes > cfg().act_bank_bytes ||
        l.acc_bytes > cfg().acc_bank_bytes) {
      continue;
    }
    std::vector<int8_t> x(m * k), wv(n * k);
    for (auto& v : x) v = static_cast<int8_t>(b8(rng_));
    for (auto& v : wv) v = static_cast<int8_t>(p == golden::Precision::kInt4 ? b4(rng_) : b8(rng_));
    const std::vector<uint8_t> w = p == golden::Precision::kInt4 ? golden::pack_int4(wv, n, k)
                                                                : std::vector<uint8_t>(wv.begin(), wv.end());
    const auto wimg = drv::pack_weights(cfg(), p, w.data(), n, k);
    const auto ximg = drv::pack_activations(cfg(), x.data(), m, k);
    const uint32_t wa = alloc(wimg.size()), xa = alloc(ximg.size()), ya = alloc(l.acc_bytes);
    dev_->mem_write(wa, wimg.data(), wimg.size());
    dev_->mem_write(xa, ximg.data(), ximg.size());
    drv::MatmulArgs mm{p == golden::Precision::kInt4, static_cast<uint32_t>(m), static_cast<uint32_t>(k),
                       static_cast<uint32_t>(n), 0, 0, 0, group};
    q_->run({drv::make_load({desc::Bank::kWgt, 0, wa, 1, static_cast<uint32_t>(wimg.size()), 0, 0}),
             drv::make_load({desc::Bank::kAct, 0, xa, 1, static_cast<uint32_t>(ximg.size()), 0, 0}, {false, false, false, true}),
             drv::make_matmul(mm, {true, false, false, true}),
             drv::make_store({desc::Bank::kAcc, 0, ya, 1, static_cast<uint32_t>(l.acc_bytes), 0, 0}, {true, false, false, false})});
    std::vector<uint8_t> yimg(l.acc_bytes);
    dev_->mem_read(ya, yimg.data(), yimg.size());
    const auto got = drv::unpack_group_results(cfg(), yimg.data(), m, n, l.groups);
    // The golden partial sums: the product of each K slice of (chunks per group) chunks.
    const size_t gk = (size_t{1} << (group - 1)) * l.chunk_k;
    for (size_t g = 0; g < l.groups; ++g) {
      const size_t k0 = g * gk, kn = std::min(gk, k - k0);
      std::vector<int8_t> xs(m * kn), ws(n * kn);
      for (size_t r = 0; r < m; ++r) std::copy_n(&x[r * k + k0], kn, &xs[r * kn]);
      for (size_t r = 0; r < n; ++r) std::copy_n(&wv[r * k + k0], kn, &ws[r * kn]);
      const std::vector<uint8_t> wsp = p == golden::Precision::kInt4 ? golden::pack_int4(ws, n, kn)
                                                                    : std::vector<uint8_t>(ws.begin(), ws.end());
      const auto ref = golden::matmul_ref(p, xs.data(), wsp.data(), m, n, kn);
      for (size_t e = 0; e < m * n; ++e) {
        ASSERT_EQ(got[e * l.groups + g], ref[e]) << golden::to_string(p) << " group " << group << " M=" << m << " K=" << k
                                                 << " N=" << n << " slice " << g << ", " << ks::tb::seed_note(seed_);
      }
    }
    ++done;
  }
  EXPECT_EQ(done, 8);
}

INSTANTIATE_TEST_SUITE_P(Backends, CoreTest, ::testing::ValuesIn(ks::tb::all_backends()), ks::tb::config_name);

}  // namespace
