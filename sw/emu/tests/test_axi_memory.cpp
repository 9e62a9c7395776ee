// Tests of the AXI4 slave memory model, driven cycle by cycle from C++ as the core's AXI4
// master would drive it: data, strobes, narrow and FIXED/WRAP bursts, latency, outstanding
// limits, bandwidth, backpressure, error responses and the protocol checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "kestrel/emu/axi_memory.h"

namespace {

using ks::emu::AxiMasterSignals;
using ks::emu::AxiMemory;
using ks::emu::AxiMemoryConfig;
using ks::emu::AxiResp;
using ks::emu::AxiSlaveSignals;

constexpr uint64_t kBase = 0x8000'0000;
constexpr size_t kSize = 64 * 1024;

uint8_t pattern(uint64_t addr) { return static_cast<uint8_t>((addr * 131 + 7) ^ (addr >> 8)); }

void fill_pattern(AxiMemory& m) {
  for (size_t i = 0; i < m.size(); ++i) m.data()[i] = pattern(m.base() + i);
}

struct ReadReq {
  uint64_t addr = 0;
  uint8_t len = 0;
  uint8_t size = 3;
  uint8_t burst = ks::emu::kAxiBurstIncr;
  uint32_t id = 0;
};
using WriteReq = ReadReq;
struct WBeat {
  std::vector<uint8_t> data;
  uint64_t strb = 0;
  bool last = false;
};
struct RBeat {
  std::vector<uint8_t> data;
  uint32_t id;
  AxiResp resp;
  bool last;
  uint64_t cycle;
};
struct BResp {
  uint32_t id;
  AxiResp resp;
  uint64_t cycle;
};

// A master that keeps AR, AW and W valid while it has requests queued (AXI: valid never waits
// for ready and holds until the handshake), records every R and B handshake with its cycle,
// and checks that the slave holds R and B stable under backpressure.
class Master {
 public:
  explicit Master(AxiMemory& m) : m_(m) {}

  std::deque<ReadReq> ar;
  std::deque<WriteReq> aw;
  std::deque<WBeat> w;
  std::function<bool(uint64_t)> rready = [](uint64_t) { return true; };
  std::function<bool(uint64_t)> bready = [](uint64_t) { return true; };
  std::function<bool(uint64_t)> aw_enable = [](uint64_t) { return true; };

  std::vector<RBeat> r;
  std::vector<BResp> b;
  std::vector<uint64_t> ar_cycles, aw_cycles, w_cycles;
  size_t max_outstanding_reads = 0, max_outstanding_writes = 0;

  void step() {
    const AxiSlaveSignals& o = m_.outputs();
    const uint64_t c = m_.cycle();
    check_stable(o);
    AxiMasterSignals in;
    if (!ar.empty()) {
      in.arvalid = true;
      in.araddr = ar.front().addr;
      in.arlen = ar.front().len;
      in.arsize = ar.front().size;
      in.arburst = ar.front().burst;
      in.arid = ar.front().id;
    }
    if (!aw.empty() && (aw_held_ || aw_enable(c))) {
      in.awvalid = true;
      in.awaddr = aw.front().addr;
      in.awlen = aw.front().len;
      in.awsize = aw.front().size;
      in.awburst = aw.front().burst;
      in.awid = aw.front().id;
    }
    if (!w.empty()) {
      in.wvalid = true;
      in.wdata = w.front().data;
      in.wstrb = w.front().strb;
      in.wlast = w.front().last;
    }
    in.rready = rready(c);
    in.bready = bready(c);

    // Handshakes against this cycle's outputs, recorded before the clock edge changes them.
    const bool ar_hs = in.arvalid && o.arready;
    const bool aw_hs = in.awvalid && o.awready;
    const bool w_hs = in.wvalid && o.wready;
    if (o.rvalid && in.rready) r.push_back(RBeat{o.rdata, o.rid, o.rresp, o.rlast, c});
    if (o.bvalid && in.bready) b.push_back(BResp{o.bid, o.bresp, c});
    prev_ = o;
    prev_rready_ = in.rready;
    prev_bready_ = in.bready;
    have_prev_ = true;

    m_.tick(in);

    aw_held_ = in.awvalid && !aw_hs;
    if (ar_hs) {
      ar.pop_front();
      ar_cycles.push_back(c);
    }
    if (aw_hs) {
      aw.pop_front();
      aw_cycles.push_back(c);
    }
    if (w_hs) {
      w.pop_front();
      w_cycles.push_back(c);
    }
    max_outstanding_reads = std::max(max_outstanding_reads, m_.outstanding_reads());
    max_outstanding_writes = std::max(max_outstanding_writes, m_.outstanding_writes());
  }

  bool idle() const {
    return ar.empty() && aw.empty() && w.empty() && m_.outstanding_reads() == 0 &&
           m_.outstanding_writes() == 0;
  }

  // Steps until idle; fails the test if that takes more than max_cycles.
  void run(uint64_t max_cycles = 100000) {
    for (uint64_t i = 0; i < max_cycles && !idle(); ++i) step();
    EXPECT_TRUE(idle()) << "master not idle after " << max_cycles << " cycles";
  }

  // Queues an INCR write of full-width aligned beats.
  void write_burst(uint64_t addr, const std::vector<uint8_t>& bytes, uint32_t id = 0) {
    const size_t db = m_.config().data_bytes;
    const size_t beats = bytes.size() / db;
    aw.push_back(WriteReq{addr, static_cast<uint8_t>(beats - 1), log2(db),
                          ks::emu::kAxiBurstIncr, id});
    for (size_t i = 0; i < beats; ++i) {
      w.push_back(WBeat{std::vector<uint8_t>(bytes.begin() + i * db, bytes.begin() + (i + 1) * db),
                        all_lanes(db), i + 1 == beats});
    }
  }

  static uint8_t log2(size_t v) {
    uint8_t r = 0;
    while ((size_t{1} << r) < v) ++r;
    return r;
  }
  static uint64_t all_lanes(size_t db) { return db >= 64 ? ~uint64_t{0} : (uint64_t{1} << db) - 1; }

 private:
  void check_stable(const AxiSlaveSignals& o) {
    if (!have_prev_) return;
    if (prev_.rvalid && !prev_rready_) {
      EXPECT_TRUE(o.rvalid) << "RVALID dropped before RREADY at cycle " << m_.cycle();
      EXPECT_EQ(o.rdata, prev_.rdata) << "RDATA changed under backpressure at " << m_.cycle();
      EXPECT_EQ(o.rid, prev_.rid);
      EXPECT_EQ(o.rresp, prev_.rresp);
      EXPECT_EQ(o.rlast, prev_.rlast);
    }
    if (prev_.bvalid && !prev_bready_) {
      EXPECT_TRUE(o.bvalid) << "BVALID dropped before BREADY at cycle " << m_.cycle();
      EXPECT_EQ(o.bid, prev_.bid);
      EXPECT_EQ(o.bresp, prev_.bresp);
    }
  }

  AxiMemory& m_;
  AxiSlaveSignals prev_;
  bool prev_rready_ = false, prev_bready_ = false, have_prev_ = false, aw_held_ = false;
};

AxiMemoryConfig fast_config() {
  AxiMemoryConfig c;
  c.read_latency = 4;
  c.write_latency = 3;
  return c;
}

std::string all_violations(const AxiMemory& m) {
  std::string s;
  for (const auto& v : m.violations()) s += v + "\n";
  return s;
}

bool has_violation(const AxiMemory& m, const std::string& needle) {
  return all_violations(m).find(needle) != std::string::npos;
}

std::vector<uint8_t> mem_bytes(const AxiMemory& m, uint64_t addr, size_t n) {
  std::vector<uint8_t> v(n);
  m.read(addr, v.data(), n);
  return v;
}

// ---------------------------------------------------------------------------------------------
// Data

TEST(AxiMemory, SingleBeatReadReturnsMemory) {
  AxiMemory m(fast_config(), kBase, kSize);
  fill_pattern(m);
  Master ms(m);
  ms.ar.push_back(ReadReq{kBase + 0x40, 0, 3, 1, 5});
  ms.run();
  ASSERT_EQ(ms.r.size(), 1u);
  EXPECT_EQ(ms.r[0].data, mem_bytes(m, kBase + 0x40, 8));
  EXPECT_EQ(ms.r[0].id, 5u);
  EXPECT_EQ(ms.r[0].resp, AxiResp::kOkay);
  EXPECT_TRUE(ms.r[0].last);
  EXPECT_TRUE(m.violations().empty()) << all_violations(m);
}

TEST(AxiMemory, IncrReadBurstsReturnConsecutiveBeatsInOrder) {
  for (size_t db : {4u, 8u, 16u, 32u, 64u}) {
    AxiMemoryConfig cfg = fast_config();
    cfg.data_bytes = db;
    cfg.bytes_per_cycle = 0;
    AxiMemory m(cfg, kBase, kSize);
    fill_pattern(m);
    Master ms(m);
    const uint8_t size = Master::log2(db);
    ms.ar.push_back(ReadReq{kBase + 0x1000, 15, size, 1, 1});
    ms.ar.push_back(ReadReq{kBase + 0x3000, 3, size, 1, 2});
    ms.run();
    ASSERT_EQ(ms.r.size(), 20u) << db;
    for (size_t i = 0; i < 20; ++i) {
      const uint64_t a = i < 16 ? kBase + 0x1000 + i * db : kBase + 0x3000 + (i - 16) * db;
      EXPECT_EQ(ms.r[i].data, mem_bytes(m, a, db)) << "db " << db << " beat " << i;
      EXPECT_EQ(ms.r[i].id, i < 16 ? 1u : 2u);
      EXPECT_EQ(ms.r[i].last, i == 15 || i == 19);
    }
    EXPECT_TRUE(m.violations().empty()) << all_violations(m);
  }
}

TEST(AxiMemory, IncrWriteBurstsUpdateMemoryAndRespondOkayInOrder) {
  AxiMemory m(fast_config(), kBase, kSize);
  Master ms(m);
  std::vector<uint8_t> a(64), b(8);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<uint8_t>(i + 1);
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>(0xA0 + i);
  ms.write_burst(kBase + 0x200, a, 7);
  ms.write_burst(kBase + 0x800, b, 8);
  ms.run();
  ASSERT_EQ(ms.b.size(), 2u);
  EXPECT_EQ(ms.b[0].id, 7u);
  EXPECT_EQ(ms.b[1].id, 8u);
  EXPECT_EQ(ms.b[0].resp, AxiResp::kOkay);
  EXPECT_EQ(mem_bytes(m, kBase + 0x200, 64), a);
  EXPECT_EQ(mem_bytes(m, kBase + 0x800, 8), b);
  EXPECT_EQ(mem_bytes(m, kBase + 0x240, 8), std::vector<uint8_t>(8, 0));
  EXPECT_TRUE(m.violations().empty()) << all_violations(m);
}

TEST(AxiMemory, WriteStrobesEnableOnlySelectedBytes) {
  AxiMemory m(fast_config(), kBase, kSize);
  fill_pattern(m);
  const auto before = mem_bytes(m, kBase + 0x100, 16);
  Master ms(m);
  ms.aw.push_back(WriteReq{kBase + 0x100, 1, 3, 1, 0});
  ms.w.push_back(WBeat{std::vector<uint8_t>(8, 0x11), 0b1010'0101, false});
  ms.w.push_back(WBeat{std::vector<uint8_t>(8, 0x22), 0b1000'0000, true});
  ms.run();
  auto expect = before;
  for (int i : {0, 2, 5, 7}) expect[i] = 0x11;
  expect[15] = 0x22;
  EXPECT_EQ(mem_bytes(m, kBase + 0x100, 16), expect);
  EXPECT_EQ(m.stats().bytes_written, 5u);
  EXPECT_TRUE(m.violations().empty()) << all_violations(m);
}

TEST(AxiMemory, NarrowReadUsesAddressAlignedLanes) {
  AxiMemory m(fast_config(), kBase, kSize);
  fill_pattern(m);
  Master ms(m);
  // 2-byte beats from an unaligned address on an 8-byte bus: the first beat carries only
  // byte 3 (lane 3), then 4-5, 6-7, 8-9 (lanes 0-1 of the next line).
  ms.ar.push_back(ReadReq{kBase + 3, 3, 1, 1, 0});
  ms.run();
  ASSERT_EQ(ms.r.size(), 4u);
  const struct {
    uint32_t lo, hi;
    uint64_t line;
  } want[] = {{3, 3, 0}, {4, 5, 0}, {6, 7, 0}, {0, 1, 8}};
  for (size_t i = 0; i < 4; ++i) {
    std::vector<uint8_t> e(8, 0);
    for (uint32_t l = want[i].lo; l <= want[i].hi; ++l) e[l] = pattern(kBase + want[i].line + l);
    EXPECT_EQ(ms.r[i].data, e) << "beat " << i;
  }
  EXPECT_EQ(m.stats().bytes_read, 7u);
  EXPECT_TRUE(m.violations().empty()) << all_violations(m);
}

TEST(AxiMemory, NarrowWriteUsesAddressAlignedLanesAndIgnoresOtherStrobes) {
  AxiMemory m(fast_config(), kBase, kSize);
  Master ms(m);
  // Byte writes to 0x105..0x107: lanes 5, 6, 7.
  ms.aw.push_back(WriteReq{kBase + 0x105, 2, 0, 1, 0});
  for (uint32_t i = 0; i < 3; ++i) {
    std::vector<uint8_t> d(8, 0xEE);
    d[5 + i] = static_cast<uint8_t>(0x50 + i);
    ms.w.push_back(WBeat{d, uint64_t{1} << (5 + i), i == 2});
  }
  // A 4-byte write to 0x204 with a stray strobe on lane 0: reported and ignored.
  ms.aw.push_back(WriteReq{kBase + 0x204, 0, 2, 1, 0});
  ms.w.push_back(WBeat{{1, 2, 3, 4, 5, 6, 7, 8}, 0xF1, true});
  ms.run();
  EXPECT_EQ(mem_bytes(m, kBase + 0x100, 8), (std::vector<uint8_t>{0, 0, 0, 0, 0, 0x50, 0x51, 0x52}));
  EXPECT_EQ(mem_bytes(m, kBase + 0x200, 8), (std::vector<uint8_t>{0, 0, 0, 0, 5, 6, 7, 8}));
  EXPECT_EQ(m.violations().size(), 1u) << all_violations(m);
  EXPECT_TRUE(has_violation(m, "WSTRB 0xf1 enables lanes outside")) << all_violations(m);
}

TEST(AxiMemory, FixedBurstRepeatsOneAddress) {
  AxiMemory m(fast_config(), kBase, kSize);
  fill_pattern(m);
  Master ms(m);
  ms.ar.push_back(ReadReq{kBase + 0x30, 3, 3, ks::emu::kAxiBurstFixed, 0});
  ms.aw.push_back(WriteReq{kBase + 0x400, 2, 3, ks::emu::kAxiBurstFixed, 0});
  for (uint8_t i = 0; i < 3; ++i) ms.w.push_back(WBeat{std::vector<uint8_t>(8, i + 1), 0xFF, i == 2});
  ms.run();
  ASSERT_EQ(ms.r.size(), 4u);
  for (const auto& r : ms.r) EXPECT_EQ(r.data, mem_bytes(m, kBase + 0x30, 8));
  EXPECT_EQ(mem_bytes(m, kBase + 0x400, 8), std::vector<uint8_t>(8, 3));  // the last beat wins
  std::vector<uint8_t> next(8);
  for (size_t i = 0; i < 8; ++i) next[i] = pattern(kBase + 0x408 + i);
  EXPECT_EQ(mem_bytes(m, kBase + 0x408, 8), next);  // untouched
  EXPECT_TRUE(m.violations().empty()) << all_violations(m);
}

TEST(AxiMemory, WrapBurstWrapsAtItsBoundary) {
  AxiMemory m(fast_config(), kBase, kSize);
  fill_pattern(m);
  Master ms(m);
  // 4 beats of 8 bytes from 0x28: the 32-byte window is 0x20..0x3f -> 0x28, 0x30, 0x38, 0x20.
  ms.ar.push_back(ReadReq{kBase + 0x28, 3, 3, ks::emu::kAxiBurstWrap, 0});
  ms.run();
  ASSERT_EQ(ms.r.size(), 4u);
  const uint64_t want[] = {0x28, 0x30, 0x38, 0x20};
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(ms.r[i].data, mem_bytes(m, kBase + want[i], 8)) << i;
  EXPECT_TRUE(m.violations().empty()) << all_violations(m);
}

TEST(AxiMemory, WBeatsBeforeTheirAwAreAccepted) {
  AxiMemory m(fast_config(), kBase, kSize);
  Master ms(m);
  std::vector<uint8_t> a(32);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<uint8_t>(0x80 + i);
  ms.write_burst(kBase + 0x600, a, 3);
  ms.aw_enable = [](uint64_t c) { return c >= 12; };  // the address comes well after the data
  ms.run();
  ASSERT_EQ(ms.w_cycles.size(), 4u);
  ASSERT_EQ(ms.aw_cycles.size(), 1u);
  EXPECT_LT(ms.w_cycles.back(), ms.aw_cycles[0]);
  ASSERT_EQ(ms.b.size(), 1u);
  EXPECT_GE(ms.b[0].cycle, ms.aw_cycles[0] + m.config().write_latency);
  EXPECT_EQ(mem_bytes(m, kBase + 0x600, 32), a);
  EXPECT_TRUE(m.violations().empty()) << all_violations(m);
}

// ---------------------------------------------------------------------------------------------
// Timing

TEST(AxiMemory, FirstReadBeatComesExactlyReadLatencyAfterAr) {
  for (uint32_t lat : {1u, 2u, 7u, 20u}) {
    AxiMemoryConfig cfg;
    cfg.read_latency = lat;
    AxiMemory m(cfg, kBase, kSize);
    Master ms(m);
    for (int i = 0; i < 5; ++i) ms.step();  // arrive at a cycle other than 0
    ms.ar.push_back(ReadReq{kBase, 3, 3, 1, 0});
    ms.run();
    ASSERT_EQ(ms.ar_cycles.size(), 1u);
    ASSERT_EQ(ms.r.size(), 4u);
    EXPECT_EQ(ms.r[0].cycle, ms.ar_cycles[0] + lat) << "latency " << lat;
    EXPECT_EQ(ms.r[3].cycle, ms.r[0].cycle + 3) << "beats back to back";
  }
}

TEST(AxiMemory, PipelinedReadsEachWaitTheirOwnLatency) {
  AxiMemoryConfig cfg;
  cfg.read_latency = 10;
  AxiMemory m(cfg, kBase, kSize);
  Master ms(m);
  for (int i = 0; i < 3; ++i) ms.ar.push_back(ReadReq{kBase + 0x100 * i, 1, 3, 1, 0});
  ms.run();
  ASSERT_EQ(ms.ar_cycles, (std::vector<uint64_t>{0, 1, 2}));
  ASSERT_EQ(ms.r.size(), 6u);
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(ms.r[i].cycle, 10 + i) << i;  // fully pipelined
}

TEST(AxiMemory, WriteResponseComesWriteLatencyAfterLastW) {
  for (uint32_t lat : {1u, 10u}) {
    AxiMemoryConfig cfg;
    cfg.write_latency = lat;
    AxiMemory m(cfg, kBase, kSize);
    Master ms(m);
    ms.write_burst(kBase, std::vector<uint8_t>(32, 1));
    ms.run();
    ASSERT_EQ(ms.b.size(), 1u);
    ASSERT_EQ(ms.w_cycles.size(), 4u);
    EXPECT_EQ(ms.b[0].cycle, ms.w_cycles.back() + lat) << "latency " << lat;
  }
}

TEST(AxiMemory, ArreadyDropsAtTheOutstandingReadLimit) {
  AxiMemoryConfig cfg = fast_config();
  cfg.max_outstanding_reads = 4;
  AxiMemory m(cfg, kBase, kSize);
  fill_pattern(m);
  Master ms(m);
  for (int i = 0; i < 10; ++i) ms.ar.push_back(ReadReq{kBase + 8u * i, 0, 3, 1, 0});
  ms.rready = [](uint64_t c) { return c >= 50; };
  for (int i = 0; i < 50; ++i) ms.step();
  EXPECT_EQ(ms.ar_cycles.size(), 4u);
  EXPECT_FALSE(m.outputs().arready);
  EXPECT_EQ(m.outstanding_reads(), 4u);
  ms.run();
  EXPECT_EQ(ms.max_outstanding_reads, 4u);
  ASSERT_EQ(ms.r.size(), 10u);
  for (size_t i = 0; i < 10; ++i) EXPECT_EQ(ms.r[i].data, mem_bytes(m, kBase + 8 * i, 8));
  EXPECT_TRUE(m.violations().empty()) << all_violations(m);
}

TEST(AxiMemory, AwreadyDropsAtTheOutstandingWriteLimit) {
  AxiMemoryConfig cfg = fast_config();
  cfg.max_outstanding_writes = 2;
  AxiMemory m(cfg, kBase, kSize);
  Master ms(m);
  for (int i = 0; i < 6; ++i) ms.write_burst(kBase + 8u * i, std::vector<uint8_t>(8, i + 1), i);
  ms.bready = [](uint64_t c) { return c >= 40; };
  for (int i = 0; i < 40; ++i) ms.step();
  EXPECT_EQ(ms.aw_cycles.size(), 2u);
  EXPECT_FALSE(m.outputs().awready);
  ms.run();
  EXPECT_EQ(ms.max_outstanding_writes, 2u);
  ASSERT_EQ(ms.b.size(), 6u);
  for (uint32_t i = 0; i < 6; ++i) {
    EXPECT_EQ(ms.b[i].id, i);
    EXPECT_EQ(mem_bytes(m, kBase + 8 * i, 8), std::vector<uint8_t>(8, i + 1));
  }
  EXPECT_TRUE(m.violations().empty()) << all_violations(m);
}

// ---------------------------------------------------------------------------------------------
// Bandwidth

TEST(AxiMemory, HalfBandwidthGivesOneReadBeatEveryTwoCycles) {
  AxiMemoryConfig cfg;
  cfg.bytes_per_cycle = cfg.data_bytes / 2.0;
  AxiMemory m(cfg, kBase, kSize);
  Master ms(m);
  for (int i = 0; i < 16; ++i) ms.ar.push_back(ReadReq{kBase + 0x800u * i, 255, 3, 1, 0});
  ms.run();
  ASSERT_EQ(ms.r.size(), 4096u);
  // Steady state, after the bucket's initial credit is spent.
  const size_t first = 256, last = ms.r.size() - 1;
  const double rate = double(last - first) / double(ms.r[last].cycle - ms.r[first].cycle);
  EXPECT_NEAR(rate, 0.5, 0.5 * 0.02);
  // Whole run, including the latency and the initial credit.
  const double overall = double(ms.r.size()) / double(m.stats().cycles);
  EXPECT_NEAR(overall, 0.5, 0.5 * 0.03);
  EXPECT_TRUE(m.violations().empty()) << all_violations(m);
}

TEST(AxiMemory, FullBandwidthStreamsOneReadBeatPerCycle) {
  AxiMemoryConfig cfg;  // bytes_per_cycle == data_bytes
  AxiMemory m(cfg, kBase, kSize);
  Master ms(m);
  for (int i = 0; i < 8; ++i) ms.ar.push_back(ReadReq{kBase + 0x800u * i, 255, 3, 1, 0});
  ms.run();
  ASSERT_EQ(ms.r.size(), 2048u);
  EXPECT_EQ(ms.r.back().cycle - ms.r.front().cycle, 2047u);
}

// Runs a read stream and a write stream of `beats` beats each at the same time.
void run_concurrent_streams(AxiMemory& m, Master& ms, size_t beats) {
  const size_t db = m.config().data_bytes;
  for (size_t i = 0; i < beats / 256; ++i) {
    ms.ar.push_back(ReadReq{kBase + 0x800 * i, 255, 3, 1, 0});
    ms.write_burst(kBase + 0x8000 + 0x800 * i, std::vector<uint8_t>(256 * db, uint8_t(i)));
  }
  ms.run();
  ASSERT_EQ(ms.r.size(), beats);
  ASSERT_EQ(ms.w_cycles.size(), beats);
}

TEST(AxiMemory, DoubleBandwidthMovesAReadAndAWriteBeatEveryCycle) {
  AxiMemoryConfig cfg;
  cfg.bytes_per_cycle = 2.0 * cfg.data_bytes;
  AxiMemory m(cfg, kBase, kSize);
  Master ms(m);
  run_concurrent_streams(m, ms, 1024);
  EXPECT_EQ(ms.r.back().cycle - ms.r.front().cycle, 1023u);
  EXPECT_EQ(ms.w_cycles.back() - ms.w_cycles.front(), 1023u);
  EXPECT_TRUE(m.violations().empty()) << all_violations(m);
}

TEST(AxiMemory, ReadsAndWritesShareTheBandwidthEqually) {
  AxiMemoryConfig cfg;  // one beat per cycle in all
  AxiMemory m(cfg, kBase, kSize);
  Master ms(m);
  run_concurrent_streams(m, ms, 1024);
  // Count both directions in a window where both streams are busy.
  const uint64_t lo = 200, hi = 1800;
  const auto in_window = [&](uint64_t c) { return c >= lo && c < hi; };
  const double r = double(std::count_if(ms.r.begin(), ms.r.end(),
                                        [&](const RBeat& b) { return in_window(b.cycle); }));
  const double w = double(std::count_if(ms.w_cycles.begin(), ms.w_cycles.end(), in_window));
  EXPECT_NEAR(r / double(hi - lo), 0.5, 0.5 * 0.03);
  EXPECT_NEAR(w / double(hi - lo), 0.5, 0.5 * 0.03);
  EXPECT_NEAR(double(m.stats().cycles), 2048.0, 2048.0 * 0.03);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(mem_bytes(m, kBase + 0x8000 + 0x800 * i, 2048), std::vector<uint8_t>(2048, i));
  }
  EXPECT_TRUE(m.violations().empty()) << all_violations(m);
}

TEST(AxiMemory, RreadyBackpressureKeepsRdataStable) {
  // Unlimited and limited bandwidth: with a token bucket a beat must not be charged again (and
  // perhaps withdrawn) while it waits for rready.
  for (double bpc : {0.0, 3.0}) {
    AxiMemoryConfig cfg = fast_config();
    cfg.bytes_per_cycle = bpc;
    AxiMemory m(cfg, kBase, kSize);
    fill_pattern(m);
    Master ms(m);
    for (int i = 0; i < 8; ++i) ms.ar.push_back(ReadReq{kBase + 0x100u * i, 15, 3, 1, uint32_t(i)});
    std::mt19937 rng(1234);  // fixed seed: deterministic
    std::vector<bool> ready(4000);
    for (size_t i = 0; i < ready.size(); ++i) ready[i] = rng() % 3 == 0;
    ms.rready = [&](uint64_t c) { return c < ready.size() ? bool(ready[c]) : true; };
    ms.run();  // Master::check_stable verifies RVALID/RDATA/RID/RLAST hold every stalled cycle
    ASSERT_EQ(ms.r.size(), 128u);
    for (size_t i = 0; i < 128; ++i) {
      EXPECT_EQ(ms.r[i].data, mem_bytes(m, kBase + 0x100 * (i / 16) + 8 * (i % 16), 8)) << i;
      EXPECT_EQ(ms.r[i].id, i / 16);
      EXPECT_EQ(ms.r[i].last, i % 16 == 15);
    }
    EXPECT_TRUE(m.violations().empty()) << all_violations(m);
  }
}

// ---------------------------------------------------------------------------------------------
// Errors

TEST(AxiMemory, InjectedErrorsAnswerEveryBeatAndLeaveMemoryUnchanged) {
  AxiMemory m(fast_config(), kBase, kSize);
  fill_pattern(m);
  m.inject_error(kBase + 0x1010, kBase + 0x1011, AxiResp::kSlvErr, true, true);
  m.inject_error(kBase + 0x2000, kBase + 0x3000, AxiResp::kDecErr, true, false);
  const auto before = mem_bytes(m, kBase + 0x1000, 32);
  Master ms(m);
  ms.ar.push_back(ReadReq{kBase + 0x1000, 3, 3, 1, 0});  // touches 0x1010: SLVERR
  ms.ar.push_back(ReadReq{kBase + 0x1018, 1, 3, 1, 0});  // does not: OKAY
  ms.ar.push_back(ReadReq{kBase + 0x2ff8, 0, 3, 1, 0});  // DECERR
  ms.write_burst(kBase + 0x1008, std::vector<uint8_t>(16, 0xCC));  // touches 0x1010: SLVERR
  ms.write_burst(kBase + 0x2000, std::vector<uint8_t>(8, 0xDD));   // reads-only range: OKAY
  ms.run();
  ASSERT_EQ(ms.r.size(), 7u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(ms.r[i].resp, AxiResp::kSlvErr) << i;
    EXPECT_EQ(ms.r[i].data, std::vector<uint8_t>(8, 0));
  }
  EXPECT_EQ(ms.r[4].resp, AxiResp::kOkay);
  EXPECT_EQ(ms.r[5].resp, AxiResp::kOkay);
  EXPECT_EQ(ms.r[4].data, mem_bytes(m, kBase + 0x1018, 8));
  EXPECT_EQ(ms.r[6].resp, AxiResp::kDecErr);
  ASSERT_EQ(ms.b.size(), 2u);
  EXPECT_EQ(ms.b[0].resp, AxiResp::kSlvErr);
  EXPECT_EQ(ms.b[1].resp, AxiResp::kOkay);
  EXPECT_EQ(mem_bytes(m, kBase + 0x1000, 32), before);
  EXPECT_EQ(mem_bytes(m, kBase + 0x2000, 8), std::vector<uint8_t>(8, 0xDD));
  EXPECT_TRUE(m.violations().empty()) << all_violations(m);  // injected errors are not the master's fault

  m.clear_errors();
  ms.write_burst(kBase + 0x1008, std::vector<uint8_t>(16, 0xCC));
  ms.run();
  ASSERT_EQ(ms.b.size(), 3u);
  EXPECT_EQ(ms.b[2].resp, AxiResp::kOkay);
  EXPECT_EQ(mem_bytes(m, kBase + 0x1008, 16), std::vector<uint8_t>(16, 0xCC));
}

TEST(AxiMemory, OutOfRangeBurstsGetDecerrAndAViolation) {
  AxiMemory m(fast_config(), kBase, kSize);
  fill_pattern(m);
  const auto tail = mem_bytes(m, kBase + kSize - 8, 8);
  Master ms(m);
  ms.ar.push_back(ReadReq{kBase + kSize - 8, 1, 3, 1, 0});  // last beat beyond the end
  ms.ar.push_back(ReadReq{kBase - 0x100, 3, 3, 1, 0});      // below the base
  ms.write_burst(kBase + kSize - 8, std::vector<uint8_t>(16, 0x77));
  ms.run();
  ASSERT_EQ(ms.r.size(), 6u);
  for (const auto& r : ms.r) {
    EXPECT_EQ(r.resp, AxiResp::kDecErr);
    EXPECT_EQ(r.data, std::vector<uint8_t>(8, 0));
  }
  ASSERT_EQ(ms.b.size(), 1u);
  EXPECT_EQ(ms.b[0].resp, AxiResp::kDecErr);
  EXPECT_EQ(mem_bytes(m, kBase + kSize - 8, 8), tail);
  // One per burst; the two ending past the memory also cross the 4 KiB boundary at its end.
  const auto& v = m.violations();
  EXPECT_EQ(std::count_if(v.begin(), v.end(),
                          [](const std::string& s) { return s.find("outside memory") != s.npos; }),
            3)
      << all_violations(m);
  EXPECT_EQ(v.size(), 5u) << all_violations(m);
  EXPECT_TRUE(has_violation(m, "AR addr 0x7fffff00")) << all_violations(m);
}

TEST(AxiMemory, IncrBurstCrossing4KiBIsAViolation) {
  AxiMemory m(fast_config(), kBase, kSize);
  fill_pattern(m);
  Master ms(m);
  ms.ar.push_back(ReadReq{kBase + 0xFF8, 0, 3, 1, 0});  // ends at the boundary: fine
  ms.run();
  EXPECT_TRUE(m.violations().empty()) << all_violations(m);
  ms.ar.push_back(ReadReq{kBase + 0xFF8, 1, 3, 1, 0});  // crosses it
  ms.write_burst(kBase + 0x1FF0, std::vector<uint8_t>(32, 1));
  ms.run();
  ASSERT_EQ(m.violations().size(), 2u) << all_violations(m);
  EXPECT_TRUE(has_violation(m, "crosses a 4 KiB boundary at 0x80001000")) << all_violations(m);
  EXPECT_TRUE(has_violation(m, "crosses a 4 KiB boundary at 0x80002000")) << all_violations(m);
  // Still answered: the violation is the master's, the memory behaves as plain memory.
  ASSERT_EQ(ms.r.size(), 3u);
  EXPECT_EQ(ms.r[2].data, mem_bytes(m, kBase + 0x1000, 8));
}

TEST(AxiMemory, HostAccessOutsideMemoryThrowsNamingTheAddress) {
  AxiMemory m(fast_config(), kBase, kSize);
  uint8_t buf[8] = {};
  EXPECT_NO_THROW(m.write(kBase + kSize - 8, buf, 8));
  EXPECT_NO_THROW(m.read(kBase, buf, 8));
  try {
    m.read(kBase + kSize - 4, buf, 8);
    ADD_FAILURE() << "no exception";
  } catch (const std::out_of_range& e) {
    EXPECT_NE(std::string(e.what()).find("0x8000fffc"), std::string::npos) << e.what();
  }
  try {
    m.write(kBase - 1, buf, 1);
    ADD_FAILURE() << "no exception";
  } catch (const std::out_of_range& e) {
    EXPECT_NE(std::string(e.what()).find("0x7fffffff"), std::string::npos) << e.what();
  }
  EXPECT_THROW(m.read(~uint64_t{0}, buf, 2), std::out_of_range);
}

TEST(AxiMemory, BadConfigurationIsRejected) {
  const auto make = [](AxiMemoryConfig c, uint64_t base = kBase, size_t size = kSize) {
    AxiMemory m(c, base, size);
  };
  AxiMemoryConfig c;
  c.data_bytes = 12;
  EXPECT_THROW(make(c), std::invalid_argument);
  c.data_bytes = 2;
  EXPECT_THROW(make(c), std::invalid_argument);
  c = AxiMemoryConfig{};
  c.max_outstanding_reads = 0;
  EXPECT_THROW(make(c), std::invalid_argument);
  c = AxiMemoryConfig{};
  c.bucket_bytes = 8;  // less than two beats
  EXPECT_THROW(make(c), std::invalid_argument);
  EXPECT_THROW(make(AxiMemoryConfig{}, kBase, 0), std::invalid_argument);
  EXPECT_THROW(make(AxiMemoryConfig{}, ~uint64_t{0} - 10, 100), std::invalid_argument);
  AxiMemory m(AxiMemoryConfig{}, kBase, kSize);
  EXPECT_THROW(m.inject_error(10, 10, AxiResp::kSlvErr, true, true), std::invalid_argument);
  EXPECT_THROW(m.inject_error(0, 10, AxiResp::kOkay, true, true), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// Protocol checks on the master

TEST(AxiMemory, ValidDroppedOrPayloadChangedBeforeReadyIsAViolation) {
  AxiMemoryConfig cfg = fast_config();
  cfg.max_outstanding_reads = 1;
  cfg.max_outstanding_writes = 1;
  AxiMemory m(cfg, kBase, kSize);
  // Fill both address limits, with nobody taking R or B, so arready and awready stay low.
  AxiMasterSignals in;
  in.arvalid = true;
  in.araddr = kBase;
  in.arsize = 3;
  in.awvalid = true;
  in.awaddr = kBase;
  in.awsize = 3;
  in.wvalid = true;
  in.wdata.assign(8, 0);
  in.wstrb = 0xFF;
  in.wlast = true;
  m.tick(in);  // wready starts low: the W beat waits
  ASSERT_TRUE(m.outputs().wready);
  m.tick(in);  // W accepted
  in.wvalid = false;
  ASSERT_FALSE(m.outputs().arready);
  ASSERT_FALSE(m.outputs().awready);
  EXPECT_TRUE(m.violations().empty()) << all_violations(m);
  // Now the same addresses wait for ready: change AR's address, drop AWVALID.
  in.araddr = kBase + 0x40;
  in.awvalid = false;
  m.tick(in);
  EXPECT_TRUE(has_violation(m, "AR payload changed")) << all_violations(m);
  EXPECT_TRUE(has_violation(m, "AWVALID dropped before AWREADY")) << all_violations(m);
  EXPECT_TRUE(has_violation(m, "cycle 2:")) << all_violations(m);
  in.arvalid = false;
  m.tick(in);
  EXPECT_TRUE(has_violation(m, "ARVALID dropped before ARREADY")) << all_violations(m);
}

TEST(AxiMemory, WrongWlastIsAViolation) {
  AxiMemory m(fast_config(), kBase, kSize);
  Master ms(m);
  ms.aw.push_back(WriteReq{kBase, 2, 3, 1, 0});
  ms.w.push_back(WBeat{std::vector<uint8_t>(8, 1), 0xFF, false});
  ms.w.push_back(WBeat{std::vector<uint8_t>(8, 2), 0xFF, true});   // early
  ms.w.push_back(WBeat{std::vector<uint8_t>(8, 3), 0xFF, false});  // missing
  ms.run();
  ASSERT_EQ(m.violations().size(), 2u) << all_violations(m);
  EXPECT_TRUE(has_violation(m, "W beat 2 of 3 of the burst to 0x80000000 id 0: WLAST high before"))
      << all_violations(m);
  EXPECT_TRUE(has_violation(m, "W beat 3 of 3 of the burst to 0x80000000 id 0: WLAST low on"))
      << all_violations(m);
  ASSERT_EQ(ms.b.size(), 1u);  // the burst length comes from AWLEN
}

TEST(AxiMemory, IllegalSizeAndBurstTypeAreViolationsAnsweredSlverr) {
  AxiMemory m(fast_config(), kBase, kSize);
  Master ms(m);
  ms.ar.push_back(ReadReq{kBase, 0, 4, 1, 0});                          // 16-byte beats, 8-byte bus
  ms.ar.push_back(ReadReq{kBase, 2, 3, ks::emu::kAxiBurstWrap, 0});     // 3-beat WRAP
  ms.ar.push_back(ReadReq{kBase + 4, 1, 3, ks::emu::kAxiBurstWrap, 0}); // unaligned WRAP
  ms.ar.push_back(ReadReq{kBase, 0, 3, 3, 0});                          // reserved type
  ms.run();
  ASSERT_EQ(ms.r.size(), 1u + 3 + 2 + 1);
  for (const auto& r : ms.r) EXPECT_EQ(r.resp, AxiResp::kSlvErr);
  ASSERT_EQ(m.violations().size(), 4u) << all_violations(m);
  EXPECT_TRUE(has_violation(m, "16-byte beats are wider than the 8-byte bus")) << all_violations(m);
  EXPECT_TRUE(has_violation(m, "WRAP bursts are 2, 4, 8 or 16 beats")) << all_violations(m);
  EXPECT_TRUE(has_violation(m, "not aligned")) << all_violations(m);
  EXPECT_TRUE(has_violation(m, "reserved burst type")) << all_violations(m);
}

// ---------------------------------------------------------------------------------------------
// Reset and statistics

TEST(AxiMemory, ResetDropsInFlightTransactionsAndKeepsMemory) {
  AxiMemory m(fast_config(), kBase, kSize);
  fill_pattern(m);
  {
    Master ms(m);
    for (int i = 0; i < 4; ++i) ms.ar.push_back(ReadReq{kBase, 15, 3, 1, 0});
    ms.write_burst(kBase + 0x100, std::vector<uint8_t>(64, 0x5A));
    for (int i = 0; i < 12; ++i) ms.step();
    ASSERT_GT(m.outstanding_reads(), 0u);
  }
  m.reset();
  EXPECT_EQ(m.outstanding_reads(), 0u);
  EXPECT_EQ(m.outstanding_writes(), 0u);
  EXPECT_FALSE(m.outputs().rvalid);
  EXPECT_FALSE(m.outputs().bvalid);
  EXPECT_TRUE(m.outputs().arready);
  EXPECT_EQ(mem_bytes(m, kBase + 0x100, 8), std::vector<uint8_t>(8, 0x5A));  // applied before reset
  Master ms(m);  // a fresh master after the reset works normally
  ms.ar.push_back(ReadReq{kBase + 0x100, 0, 3, 1, 9});
  ms.run();
  ASSERT_EQ(ms.r.size(), 1u);
  EXPECT_EQ(ms.r[0].data, std::vector<uint8_t>(8, 0x5A));
  EXPECT_EQ(ms.r[0].id, 9u);
  EXPECT_TRUE(m.violations().empty()) << all_violations(m);
}

TEST(AxiMemory, StatsCountBurstsBeatsBytesAndBusyCycles) {
  AxiMemoryConfig cfg;
  cfg.read_latency = 5;
  cfg.write_latency = 2;
  cfg.bytes_per_cycle = 0;
  AxiMemory m(cfg, kBase, kSize);
  Master ms(m);
  ms.ar.push_back(ReadReq{kBase, 3, 3, 1, 0});
  ms.run();
  ms.write_burst(kBase + 0x100, std::vector<uint8_t>(16, 1));
  ms.run();
  const auto& s = m.stats();
  EXPECT_EQ(s.read_bursts, 1u);
  EXPECT_EQ(s.write_bursts, 1u);
  EXPECT_EQ(s.read_beats, 4u);
  EXPECT_EQ(s.write_beats, 2u);
  EXPECT_EQ(s.bytes_read, 32u);
  EXPECT_EQ(s.bytes_written, 16u);
  // AR in cycle 0, beats in cycles 5..8: busy 0..8.
  EXPECT_EQ(s.read_busy_cycles, 9u);
  EXPECT_EQ(s.cycles, m.cycle());
  EXPECT_GT(s.write_busy_cycles, 2u + 2u);
  EXPECT_LE(s.write_busy_cycles, s.cycles - s.read_busy_cycles);
  m.clear_stats();
  EXPECT_EQ(m.stats().cycles, 0u);
  EXPECT_EQ(m.stats().read_beats, 0u);
}

}  // namespace
