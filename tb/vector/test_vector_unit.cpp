// The vector unit (RTL) against ks::golden::VectorUnitModel: random instruction streams
// over random memory, every instruction kind (DOTROWS and AXPYROWS included), lane
// operation and flag (SWAP_B, B_IMM); instructions the model rejects are flagged on in_bad_o
// and change nothing; a microprogram (RMSNorm) against the quantized decode's own function,
// bit for bit; the memory port (the DMA's and VMOVE's view); cycle counts; VRUN from the
// program memory (random programs with POS_LEN, a bad entry ending the run, abort, cycles).
//
// Departure from VectorUnitModel (to be aligned there): a VV with SWAP_B whose B equals DST
// (in place, e.g. RoPE's rotate-half into the same rows) reads each whole row before writing
// it, as a row-at-a-time unit does; the model's element loop instead reads lane l ^ 1 after
// lane l - 1 may already have been overwritten. The random streams leave that case out and
// SwapBInPlaceReadsEachRowBeforeWritingIt checks the RTL's meaning directly.
//
// Built twice: the default shape (8 lanes, 256 rows, 16-byte port) and the up5k shape
// (2 lanes, 64 rows, 8-byte port), selected by KS_VEC_* definitions.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <vector>

#include KS_VEC_HEADER
#include "kestrel/emu/port_bits.h"
#include "kestrel/golden/kvec.h"
#include "kestrel/golden/vector_unit.h"
#include "kestrel/runtime/quant.h"
#include "sim_harness.h"
#include "test_seed.h"

namespace {

using ks::golden::VecInstr;
using ks::golden::VecKind;
using ks::golden::kfp::AluOp;
using ks::golden::kfp::Bits;
using Model = KS_VEC_CLASS;

constexpr size_t kLanes = KS_VEC_LANES, kRows = KS_VEC_ROWS, kAxi = KS_VEC_AXI_BYTES, kProg = KS_VEC_PROG;
constexpr size_t kHist = KS_VEC_HIST;
constexpr size_t kBeatElems = kAxi / 4;

class VectorUnitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    seed_ = ks::tb::test_seed();
    rng_.seed(seed_);
    sim_.reset();
  }

  /// One memory-port write of the elements of `v` selected by `mask`, in the beat holding
  /// element `first` (a multiple of the beat).
  void port_write(size_t first, const std::vector<Bits>& v, uint32_t mask) {
    std::vector<uint8_t> bytes(kAxi, 0);
    for (size_t i = 0; i < kBeatElems; ++i) {
      for (int b = 0; b < 4; ++b) bytes[4 * i + b] = static_cast<uint8_t>(v[i] >> (8 * b));
    }
    sim_->mem_we_i = 1;
    sim_->mem_wmask_i = mask;
    sim_->mem_waddr_i = static_cast<uint32_t>(first * 4);
    ks::emu::put_bytes(sim_->mem_wdata_i, bytes.data(), kAxi);
    sim_.tick();
    sim_->mem_we_i = 0;
    for (size_t i = 0; i < kBeatElems; ++i) {
      if (mask >> i & 1) model_.flat(first + i) = v[i];
    }
  }

  void host_write(size_t elem, Bits v) {
    std::vector<Bits> beat(kBeatElems, 0xDEADBEEF);  // masked off: must not be written
    beat[elem % kBeatElems] = v;
    port_write(elem / kBeatElems * kBeatElems, beat, 1u << (elem % kBeatElems));
  }

  std::vector<Bits> port_read(size_t first) {
    sim_->mem_re_i = 1;
    sim_->mem_raddr_i = static_cast<uint32_t>(first * 4);
    sim_.tick();
    sim_->mem_re_i = 0;
    sim_.eval();
    std::vector<Bits> v(kBeatElems);
    for (size_t i = 0; i < kBeatElems; ++i) v[i] = ks::emu::get_word(sim_->mem_rdata_o, i);
    return v;
  }

  Bits host_read(size_t elem) { return port_read(elem / kBeatElems * kBeatElems)[elem % kBeatElems]; }

  Bits scalar(int i) {
    sim_->s_sel_i = static_cast<uint8_t>(i);
    sim_.eval();
    return sim_->s_o;
  }

  void drive(const VecInstr& in) {
    sim_->in_kind_i = static_cast<uint8_t>(in.kind);
    sim_->in_op_i = static_cast<uint8_t>(in.op);
    sim_->in_swap_b_i = in.swap_b;
    sim_->in_b_imm_i = in.b_imm;
    sim_->in_hist_a_i = in.hist_a;
    sim_->in_dst_i = in.dst;
    sim_->in_a_i = in.a;
    sim_->in_b_i = in.b;
    sim_->in_len_i = in.len;
    sim_->in_imm_i = in.imm;
  }

  /// Runs one instruction on both; the RTL must flag exactly what the model rejects.
  /// Returns the cycles from the handshake until the unit is idle again.
  uint64_t run(const VecInstr& in) {
    bool model_ok = true;
    try {
      model_.execute(in);
    } catch (const std::invalid_argument&) {
      model_ok = false;
    }
    drive(in);
    sim_->in_valid_i = 0;
    sim_.eval();
    EXPECT_EQ(sim_->in_bad_o != 0, !model_ok) << "in_bad_o (valid low) for " << describe(in);
    sim_->in_valid_i = 1;
    sim_.eval();
    int guard = 0;
    while (!sim_->in_ready_o) {
      sim_.tick();
      sim_.eval();
      if (++guard > 100) throw std::runtime_error("unit not ready");
    }
    EXPECT_EQ(sim_->in_bad_o != 0, !model_ok) << "in_bad_o for " << describe(in);
    const uint64_t start = sim_.cycles();
    sim_.tick();
    sim_->in_valid_i = 0;
    sim_.eval();
    while (sim_->busy_o) {
      sim_.tick();
      sim_.eval();
      if (++guard > 100000) throw std::runtime_error("instruction did not finish");
    }
    return sim_.cycles() - start;
  }

  static std::string describe(const VecInstr& in) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "kind %d op %d dst %u a %u b %u len %u imm 0x%x%s%s", static_cast<int>(in.kind),
                  static_cast<int>(in.op), in.dst, in.a, in.b, in.len, in.imm, in.swap_b ? " swap_b" : "",
                  in.b_imm ? " b_imm" : "");
    return buf;
  }

  void expect_same_state(const char* when) {
    for (int i = 0; i < 8; ++i) ASSERT_EQ(scalar(i), model_.scalar(i)) << "S" << i << " " << when;
    for (size_t e = 0; e < kLanes * kRows; e += kBeatElems) {
      const std::vector<Bits> v = port_read(e);
      for (size_t i = 0; i < kBeatElems; ++i) ASSERT_EQ(v[i], model_.flat(e + i)) << "element " << e + i << " " << when;
    }
  }

  Bits random_value() {
    switch (rng_() % 8) {
      case 0: return static_cast<Bits>(rng_());                                  // any encoding
      case 1: return static_cast<Bits>(static_cast<int32_t>(rng_() % 2000) - 1000);  // small integer
      case 2: return (rng_() & 1) ? 0x80000000u : 0;                               // +-0
      default: return ks::golden::kfp::from_float(static_cast<float>(static_cast<int32_t>(rng_() % 200000) - 100000) / 997.0f);
    }
  }

  void fill_random() {
    for (size_t e = 0; e < kLanes * kRows; e += kBeatElems) {
      std::vector<Bits> beat(kBeatElems);
      for (auto& b : beat) b = random_value();
      port_write(e, beat, (1u << kBeatElems) - 1);
    }
    for (int i = 0; i < 8; ++i) run(VecInstr{VecKind::kSetS, AluOp::kAdd, static_cast<uint16_t>(i), 0, 0, 0, random_value()});
  }

  uint16_t rnd(size_t n) { return static_cast<uint16_t>(rng_() % n); }

  /// VV with SWAP_B in place: the model's element order differs from the RTL's (file comment).
  static bool swap_in_place(const VecInstr& in) { return in.kind == VecKind::kVV && in.swap_b && in.b == in.dst; }

  /// A valid instruction of a random kind (the model must accept it).
  VecInstr random_valid() {
    for (;;) {
      VecInstr in;
      in.kind = static_cast<VecKind>(rng_() % ks::golden::kVecKinds);
      in.op = static_cast<AluOp>(rng_() % ks::golden::kfp::kNumAluOps);
      in.imm = random_value();
      const size_t max_len = std::min<size_t>(kLanes * 12, kLanes * kRows / 4);
      in.len = rnd(max_len);
      const uint16_t rows = static_cast<uint16_t>((in.len + kLanes - 1) / kLanes);
      auto row = [&](size_t span) { return rnd(kRows - span + 1); };
      switch (in.kind) {
        case VecKind::kVV:
        case VecKind::kVS: {
          in.a = row(rows);
          in.b = row(rows);
          in.dst = (rng_() % 3 == 0) ? in.a : row(rows);
          if (in.kind == VecKind::kVS) {
            in.b_imm = rng_() % 3 == 0;
            in.b = in.b_imm ? static_cast<uint16_t>(rng_()) : rnd(8);
          } else {
            in.swap_b = rng_() % 3 == 0;
            if (rng_() % 4 == 0) in.b = in.dst;
          }
          break;
        }
        case VecKind::kMulAdd:
          in.op = static_cast<AluOp>(rng_() % 3);
          in.a = row(rows);
          in.b = row(rows);
          in.dst = (rng_() % 3 == 0) ? in.a : (rng_() % 3 == 0) ? in.b : row(rows);
          break;
        case VecKind::kSS:
          in.dst = rnd(8);
          in.a = rnd(8);
          in.b_imm = rng_() % 3 == 0;
          in.b = in.b_imm ? static_cast<uint16_t>(rng_()) : rnd(8);
          break;
        case VecKind::kSum:
        case VecKind::kMax:
        case VecKind::kArgmax:
          in.dst = rnd(8);
          in.a = row(rows);
          break;
        case VecKind::kLoadS:
          in.dst = rnd(8);
          in.a = rnd(kRows);
          in.len = rnd((kRows - in.a) * kLanes);
          break;
        case VecKind::kStoreS:
          in.a = rnd(8);
          in.dst = rnd(kRows);
          in.len = rnd((kRows - in.dst) * kLanes);
          break;
        case VecKind::kSetS:
          in.dst = rnd(8);
          break;
        case VecKind::kDotRows:
          in.len = rnd(std::min<size_t>(kRows / 3, 40));
          in.a = row(in.len);
          in.b = rnd(kRows);
          in.dst = row((in.len + kLanes - 1) / kLanes);
          break;
        case VecKind::kAxpyRows:
          in.len = rnd(std::min<size_t>(kRows / 3, 40));
          in.a = row(in.len);
          in.b = row((in.len + kLanes - 1) / kLanes);
          in.dst = rnd(kRows);
          break;
      }
      if (swap_in_place(in)) continue;
      ks::golden::VectorUnitModel probe(kLanes, kRows);
      try {
        probe.execute(in);
        return in;
      } catch (const std::invalid_argument&) {
        // overlap or the like: draw again
      }
    }
  }

  /// Mostly-wrong instructions: random fields near the limits, flags on the wrong kinds,
  /// undefined kinds. Some happen to be valid; the model decides.
  VecInstr random_edge() {
    VecInstr in = random_valid();
    switch (rng_() % 8) {
      case 0: in.kind = static_cast<VecKind>(ks::golden::kVecKinds + rng_() % (16 - ks::golden::kVecKinds)); break;
      case 1: in.swap_b = true; break;
      case 2: in.b_imm = true; break;
      case 3: in.dst = static_cast<uint16_t>(rng_() % 2 ? rnd(16) : kRows - rnd(3)); break;
      case 4: in.a = static_cast<uint16_t>(rng_() % 2 ? rnd(16) : kRows - rnd(3)); break;
      case 5: in.b = static_cast<uint16_t>(rng_() % 2 ? rnd(16) : kRows - rnd(3)); break;
      case 6: in.len = static_cast<uint16_t>(rng_() % 2 ? rng_() : kLanes * kRows - rnd(4 * kLanes)); break;
      case 7: in.dst = static_cast<uint16_t>(in.a + rnd(3)); break;
    }
    if (swap_in_place(in)) in.swap_b = false;
    return in;
  }

  ks::tb::SimHarness<Model> sim_;
  /// One program-memory entry through the prog_* port (16 / kAxi beats), and into the model.
  void prog_write(size_t index, const ks::golden::VecEntry& e) {
    uint8_t bytes[16];
    for (size_t j = 0; j < 4; ++j) {
      for (int b = 0; b < 4; ++b) bytes[4 * j + b] = static_cast<uint8_t>(e[j] >> (8 * b));
    }
    for (size_t off = 0; off < 16; off += kAxi) {
      sim_->prog_we_i = 1;
      sim_->prog_waddr_i = static_cast<uint32_t>(index * 16 + off);
      ks::emu::put_bytes(sim_->prog_wdata_i, bytes + off, kAxi);
      sim_.tick();
    }
    sim_->prog_we_i = 0;
    model_.entry(index) = e;
  }

  struct RunOutcome {
    bool err = false;
    uint32_t index = 0;
    uint64_t cycles = 0;
  };

  /// A VRUN on the RTL (the cycles from the handshake edge until idle, and run_err_o).
  RunOutcome vrun_rtl(uint16_t start, uint16_t count, uint16_t pos, int abort_after = -1) {
    sim_->in_run_i = 1;
    sim_->in_a_i = start;
    sim_->in_len_i = count;
    sim_->in_imm_i = pos;
    sim_->in_valid_i = 1;
    sim_.eval();
    EXPECT_TRUE(sim_->in_ready_o);
    EXPECT_FALSE(sim_->in_bad_o) << "a VRUN is never flagged on in_bad_o";
    const uint64_t start_cycle = sim_.cycles();
    sim_.tick();
    sim_->in_valid_i = 0;
    sim_->in_run_i = 0;
    sim_.eval();
    RunOutcome o;
    for (int guard = 0; sim_->busy_o; ++guard) {
      if (guard > 1000000) throw std::runtime_error("VRUN did not finish");
      if (sim_->run_err_o) {
        EXPECT_FALSE(o.err) << "run_err_o pulsed twice";
        o.err = true;
        o.index = sim_->run_err_idx_o;
      }
      sim_->abort_i = guard == abort_after;
      sim_.tick();
      sim_.eval();
    }
    sim_->abort_i = 0;
    sim_.eval();
    o.cycles = sim_.cycles() - start_cycle;
    return o;
  }

  /// One beat into the history memory (bank HIST) through the hist_* port, and into the model.
  void hist_write(size_t first, const std::vector<Bits>& v) {
    std::vector<uint8_t> bytes(kAxi, 0);
    for (size_t i = 0; i < kBeatElems; ++i) {
      for (int b = 0; b < 4; ++b) bytes[4 * i + b] = static_cast<uint8_t>(v[i] >> (8 * b));
    }
    sim_->hist_we_i = 1;
    sim_->hist_waddr_i = static_cast<uint32_t>(first * 4);
    ks::emu::put_bytes(sim_->hist_wdata_i, bytes.data(), kAxi);
    sim_.tick();
    sim_->hist_we_i = 0;
    for (size_t i = 0; i < kBeatElems; ++i) model_.hist((first + i) / kLanes, (first + i) % kLanes) = v[i];
  }

  void fill_hist_random() {
    for (size_t e = 0; e < kLanes * kHist; e += kBeatElems) {
      std::vector<Bits> beat(kBeatElems);
      for (auto& b : beat) b = random_value();
      hist_write(e, beat);
    }
  }

  ks::golden::VectorUnitModel model_{kLanes, kRows, kProg, kHist};
  uint64_t seed_ = 0;
  std::mt19937_64 rng_;
};

TEST_F(VectorUnitTest, RandomInstructionStreamsMatchTheModel) {
  SCOPED_TRACE(ks::tb::seed_note(seed_));
  fill_random();
  for (int n = 0; n < 1500; ++n) {
    const VecInstr in = random_valid();
    run(in);
    if (HasFailure()) return;
    for (int s = 0; s < 8; ++s) {
      ASSERT_EQ(scalar(s), model_.scalar(s)) << "S" << s << " after instruction " << n << ": " << describe(in);
    }
    if (n % 100 == 99 || std::getenv("KS_VEC_CHECK_ALL")) expect_same_state(("after instruction " + std::to_string(n) + ": " + describe(in)).c_str());
    if (HasFatalFailure()) return;
  }
  expect_same_state("at the end");
}

// DOTROWS and AXPYROWS alone, long and short, checked after every instruction.
TEST_F(VectorUnitTest, RowKindsMatchTheModel) {
  SCOPED_TRACE(ks::tb::seed_note(seed_));
  fill_random();
  for (int n = 0; n < 300; ++n) {
    VecInstr in;
    do {
      in = random_valid();
    } while (in.kind != VecKind::kDotRows && in.kind != VecKind::kAxpyRows);
    run(in);
    if (HasFailure()) return;
    expect_same_state(describe(in).c_str());
    if (HasFatalFailure()) return;
  }
}

// Rejected instructions are flagged (in_bad_o equals the model's verdict, checked in run())
// and change neither the memory nor the scalars; valid ones around them still run.
TEST_F(VectorUnitTest, InvalidInstructionsAreFlaggedAndNotExecuted) {
  SCOPED_TRACE(ks::tb::seed_note(seed_));
  fill_random();
  int rejected = 0;
  for (int n = 0; n < 1500; ++n) {
    const VecInstr in = (n % 3 == 0) ? random_valid() : random_edge();
    ks::golden::VectorUnitModel probe(kLanes, kRows);
    try {
      probe.execute(in);
    } catch (const std::invalid_argument&) {
      ++rejected;
    }
    run(in);
    if (HasFailure()) return;
    if (n % 150 == 149 || std::getenv("KS_VEC_CHECK_ALL")) expect_same_state(("after instruction " + std::to_string(n) + ": " + describe(in)).c_str());
    if (HasFatalFailure()) return;
  }
  EXPECT_GT(rejected, 500);
  expect_same_state("at the end");
}

// The memory port: masked writes touch only their elements; reads return the beat.
TEST_F(VectorUnitTest, MemoryPortWritesMaskedElementsAndReadsBeats) {
  SCOPED_TRACE(ks::tb::seed_note(seed_));
  fill_random();
  for (int n = 0; n < 2000; ++n) {
    const size_t first = rnd(kLanes * kRows / kBeatElems) * kBeatElems;
    std::vector<Bits> beat(kBeatElems);
    for (auto& b : beat) b = random_value();
    port_write(first, beat, static_cast<uint32_t>(rng_() & ((1u << kBeatElems) - 1)));
    if (n % 7 == 0) {
      const size_t e = rnd(kLanes * kRows);
      ASSERT_EQ(host_read(e), model_.flat(e)) << "element " << e;
    }
  }
  expect_same_state("at the end");
}

// Cycles per instruction, counted from the handshake edge until the unit is idle again:
// ceil(len / Lanes) + 2 for VV/VS, plus log2(Lanes) for SUM/MAX/ARGMAX; 2 for SS (on lane 0's
// ALU); len + 3 + log2(Lanes)
// for DOTROWS (one row per cycle into the registered tree); len + 4 for AXPYROWS; MULADD one
// more than VV (its second stage).
TEST_F(VectorUnitTest, CycleCounts) {
  const size_t levels = static_cast<size_t>(__builtin_ctzll(kLanes));
  const uint16_t n = static_cast<uint16_t>(std::min<size_t>(kRows / 4, 32));
  const uint16_t vlen = static_cast<uint16_t>(4 * kLanes);
  struct Row {
    const char* name;
    VecInstr in;
    uint64_t expect;
  } rows[] = {
      {"VV", {VecKind::kVV, AluOp::kAdd, 0, 8, 16, vlen, 0}, 4u + 2},
      {"SUM", {VecKind::kSum, AluOp::kAdd, 0, 8, 0, vlen, 0}, 4u + 2 + levels},
      {"SS", {VecKind::kSS, AluOp::kAdd, 0, 1, 2, 0, 0}, 2},
      {"DOTROWS", {VecKind::kDotRows, AluOp::kAdd, 0, 16, 12, n, 0}, n + 3u + levels},
      {"AXPYROWS", {VecKind::kAxpyRows, AluOp::kAdd, 0, 16, 8, n, 0}, n + 4u},
      {"MULADD", {VecKind::kMulAdd, static_cast<AluOp>(0), 0, 8, 16, vlen, 0}, 4u + 3},
  };
  for (const Row& r : rows) {
    const uint64_t c = run(r.in);
    std::printf("  %-8s len %3u: %3llu cycles after the handshake\n", r.name, r.in.len, static_cast<unsigned long long>(c));
    EXPECT_EQ(c, r.expect) << r.name;
  }
}

// RMSNorm as the decode runs it, as a microprogram of vector instructions: equal to
// QuantModel::rmsnorm with the same lane count.
TEST_F(VectorUnitTest, RmsNormMicroprogramEqualsTheDecodeFunction) {
  using ks::golden::kvec::constant;
  const size_t n = std::min<size_t>(64, kLanes * 12);
  const uint16_t rows = static_cast<uint16_t>(n / kLanes);
  std::vector<Bits> x(n), w(n);
  const uint16_t X = 0, W = rows, SQ = 2 * rows, T = 3 * rows, OUT = 4 * rows;
  for (size_t i = 0; i < n; ++i) {
    w[i] = ks::golden::kfp::from_float(0.5f + static_cast<float>(rng_() % 1000) / 1000.0f);
    x[i] = ks::golden::kfp::from_float(static_cast<float>(static_cast<int32_t>(rng_() % 4000) - 2000) / 300.0f);
    host_write(X * kLanes + i, x[i]);
    host_write(W * kLanes + i, w[i]);
  }
  auto vv = [&](AluOp op, uint16_t d, uint16_t a, uint16_t b) { run({VecKind::kVV, op, d, a, b, static_cast<uint16_t>(n), 0}); };
  auto vs = [&](AluOp op, uint16_t d, uint16_t a, uint16_t s) { run({VecKind::kVS, op, d, a, s, static_cast<uint16_t>(n), 0}); };
  auto ss = [&](AluOp op, uint16_t d, uint16_t a, uint16_t b) { run({VecKind::kSS, op, d, a, b, 0, 0}); };
  auto set = [&](uint16_t d, Bits v) { run({VecKind::kSetS, AluOp::kAdd, d, 0, 0, 0, v}); };
  // ss = sum(x * x); ms = ss * (1/n) + 1e-5; r = rsqrt(ms) by three Newton steps.
  vv(AluOp::kMul, SQ, X, X);
  run({VecKind::kSum, AluOp::kAdd, 0, SQ, 0, static_cast<uint16_t>(n), 0});
  set(1, constant(1.0f / static_cast<float>(n)));
  ss(AluOp::kMul, 0, 0, 1);
  set(1, constant(1e-5f));
  ss(AluOp::kAdd, 0, 0, 1);                  // S0 = ms
  set(1, constant(0.5f));
  ss(AluOp::kMul, 1, 1, 0);                  // S1 = ms / 2
  ss(AluOp::kShr1, 2, 0, 0);
  set(3, 0x5F3759DFu);
  ss(AluOp::kISub, 2, 2, 3);                 // S2 = r estimate
  set(4, constant(1.5f));
  for (int i = 0; i < 3; ++i) {
    ss(AluOp::kMul, 5, 2, 2);                // r*r
    ss(AluOp::kMul, 5, 1, 5);                // (ms/2) r r
    ss(AluOp::kSub, 5, 4, 5);                // 1.5 - ...
    ss(AluOp::kMul, 2, 2, 5);                // r *= ...
  }
  vs(AluOp::kMul, T, X, 2);                  // x * r  (commutative: = r * x)
  vv(AluOp::kMul, OUT, W, T);                // w * (r x)
  std::vector<Bits> want;
  ks::rt::QuantModel::rmsnorm(x, w, kLanes, want);
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(host_read(OUT * kLanes + i), want[i]) << "element " << i;
}

// SWAP_B in place (B = DST): every lane reads the row as it was before the instruction.
TEST_F(VectorUnitTest, SwapBInPlaceReadsEachRowBeforeWritingIt) {
  const uint16_t len = static_cast<uint16_t>(3 * kLanes + 1), A = 0, D = 8;
  std::vector<Bits> a(len), d(len + kLanes);
  for (size_t i = 0; i < len; ++i) {
    a[i] = random_value();
    host_write(A * kLanes + i, a[i]);
  }
  for (size_t i = 0; i < d.size(); ++i) {
    d[i] = random_value();
    host_write(D * kLanes + i, d[i]);
  }
  VecInstr in{VecKind::kVV, AluOp::kSub, D, A, D, len, 0};
  in.swap_b = true;
  drive(in);
  sim_->in_valid_i = 1;
  sim_.eval();
  ASSERT_FALSE(sim_->in_bad_o);
  sim_.tick();
  sim_->in_valid_i = 0;
  sim_.eval();
  for (int guard = 0; sim_->busy_o; ++guard) {
    ASSERT_LT(guard, 100);
    sim_.tick();
    sim_.eval();
  }
  for (size_t i = 0; i < d.size(); ++i) {
    const Bits want = i < len ? ks::golden::kfp::sub(a[i], d[i ^ 1]) : d[i];
    ASSERT_EQ(host_read(D * kLanes + i), want) << "element " << i;
  }
}

// Attention over a short K/V history as DOTROWS then AXPYROWS equals kvec::dot and the
// ordered weighted sum computed directly.
TEST_F(VectorUnitTest, AttentionRowsEqualTheDirectComputation) {
  const uint16_t t_len = static_cast<uint16_t>(std::min<size_t>(kRows / 4, 20));
  const uint16_t K = 0, V = t_len, Q = 2 * t_len, S = Q + 1, OUT = S + static_cast<uint16_t>((t_len + kLanes - 1) / kLanes);
  std::vector<Bits> k(t_len * kLanes), v(t_len * kLanes), q(kLanes);
  for (auto& x : k) x = random_value();
  for (auto& x : v) x = random_value();
  for (auto& x : q) x = random_value();
  for (size_t i = 0; i < k.size(); ++i) host_write(K * kLanes + i, k[i]);
  for (size_t i = 0; i < v.size(); ++i) host_write(V * kLanes + i, v[i]);
  for (size_t i = 0; i < kLanes; ++i) host_write(Q * kLanes + i, q[i]);
  run({VecKind::kDotRows, AluOp::kAdd, S, K, Q, t_len, 0});
  run({VecKind::kAxpyRows, AluOp::kAdd, OUT, V, S, t_len, 0});
  std::vector<Bits> acc(kLanes, 0);
  for (size_t t = 0; t < t_len; ++t) {
    const Bits s = ks::golden::kvec::dot(&k[t * kLanes], q.data(), kLanes, kLanes);
    ASSERT_EQ(host_read(S * kLanes + t), s) << "score " << t;
    for (size_t l = 0; l < kLanes; ++l) acc[l] = ks::golden::kfp::add(acc[l], ks::golden::kfp::mul(s, v[t * kLanes + l]));
  }
  for (size_t l = 0; l < kLanes; ++l) ASSERT_EQ(host_read(OUT * kLanes + l), acc[l]) << "lane " << l;
}

// VRUN: random programs (valid instructions, some with POS_LEN) at random places in the
// program memory, run with random positions, equal the model's runs; an entry that fails
// (POS_LEN pushing an instruction out of range, for one) ends both runs at the same index.
TEST_F(VectorUnitTest, VrunRandomProgramsMatchTheModel) {
  SCOPED_TRACE(ks::tb::seed_note(seed_));
  fill_random();
  int errors = 0;
  for (int n = 0; n < 60; ++n) {
    const uint16_t count = static_cast<uint16_t>(1 + rnd(std::min<size_t>(kProg, 24)));
    const uint16_t start = rnd(kProg - count + 1);
    for (uint16_t i = 0; i < count; ++i) {
      VecInstr in = random_valid();
      const bool pos_len = rng_() % 4 == 0;
      if (pos_len) in.len = static_cast<uint16_t>(in.len / 2);
      prog_write(start + i, ks::golden::encode_entry(in, pos_len));
    }
    const uint16_t pos = (rng_() % 8 == 0) ? static_cast<uint16_t>(0xFFF0 + rnd(16)) : rnd(2 * kLanes);
    const ks::golden::VecRunResult want = model_.run(start, count, pos);
    const RunOutcome got = vrun_rtl(start, count, pos);
    ASSERT_EQ(got.err, !want.ok) << "run " << n << ": " << want.why;
    if (got.err) {
      ++errors;
      ASSERT_EQ(got.index, want.bad_index) << "run " << n << ": " << want.why;
    }
    expect_same_state(("after run " + std::to_string(n)).c_str());
    if (HasFatalFailure()) return;
  }
  EXPECT_GT(errors, 0) << "no run met a bad entry";
}

// An entry with a reserved bit set, or an instruction the unit rejects, is not executed: the
// run ends there with its index; the entries before it have run.
TEST_F(VectorUnitTest, VrunEndsAtTheFirstBadEntry) {
  SCOPED_TRACE(ks::tb::seed_note(seed_));
  fill_random();
  for (int n = 0; n < 40; ++n) {
    const uint16_t count = static_cast<uint16_t>(2 + rnd(std::min<size_t>(kProg - 1, 12)));
    const uint16_t start = rnd(kProg - count + 1), bad = static_cast<uint16_t>(start + rnd(count));
    for (uint16_t i = start; i < start + count; ++i) {
      ks::golden::VecEntry e = ks::golden::encode_entry(random_valid());
      if (i == bad) {
        if (n % 2 == 0) {
          e[0] |= 1u << (11 + rnd(21));  // a reserved bit of word 1
        } else {
          VecInstr in;
          ks::golden::VectorUnitModel probe(kLanes, kRows);
          do {
            in = random_edge();
          } while (probe.check(in).empty());
          e = ks::golden::encode_entry(in);
        }
      }
      prog_write(i, e);
    }
    const ks::golden::VecRunResult want = model_.run(start, count, 0);
    ASSERT_FALSE(want.ok);
    ASSERT_EQ(want.bad_index, bad);
    const RunOutcome got = vrun_rtl(start, count, 0);
    ASSERT_TRUE(got.err);
    ASSERT_EQ(got.index, bad);
    expect_same_state(("after run " + std::to_string(n)).c_str());
    if (HasFatalFailure()) return;
  }
}

// Back to back: a VRUN costs its instructions' own cycles plus one (the first entry's read).
TEST_F(VectorUnitTest, VrunRunsEntriesBackToBack) {
  const uint16_t vlen = static_cast<uint16_t>(3 * kLanes);
  const uint16_t count = static_cast<uint16_t>(std::min<size_t>(kProg, 16));
  uint64_t alone = 0;
  for (uint16_t i = 0; i < count; ++i) {
    const VecInstr in = (i % 3 == 2) ? VecInstr{VecKind::kSetS, AluOp::kAdd, 3, 0, 0, 0, 0x3F800000u}
                                     : VecInstr{VecKind::kVV, AluOp::kAdd, static_cast<uint16_t>(8 + 4 * (i % 2)), 0, 4, vlen, 0};
    prog_write(i, ks::golden::encode_entry(in));
    alone += in.kind == VecKind::kSetS ? 1 : 3 + 2;  // SETS finishes in its handshake cycle
  }
  const RunOutcome got = vrun_rtl(0, count, 0);
  EXPECT_FALSE(got.err);
  std::printf("  VRUN of %u entries: %llu cycles (instructions alone: %llu)\n", count,
              static_cast<unsigned long long>(got.cycles), static_cast<unsigned long long>(alone));
  EXPECT_LE(got.cycles, alone + 2);
}

// abort_i ends a run after the instruction in progress; the unit is ready for the next.
TEST_F(VectorUnitTest, VrunAbortEndsTheRun) {
  const uint16_t count = static_cast<uint16_t>(std::min<size_t>(kProg, 30));
  for (uint16_t i = 0; i < count; ++i) {
    prog_write(i, ks::golden::encode_entry(VecInstr{VecKind::kVV, AluOp::kAdd, 8, 0, 4, static_cast<uint16_t>(2 * kLanes), 0}));
  }
  const RunOutcome full = vrun_rtl(0, count, 0);
  const RunOutcome cut = vrun_rtl(0, count, 0, 10);
  EXPECT_FALSE(cut.err);
  EXPECT_LT(cut.cycles, full.cycles / 2);
  EXPECT_LE(cut.cycles, 10u + 6);
  EXPECT_TRUE(sim_->in_ready_o);
}

// DOTROWS and AXPYROWS with HIST_A read operand A from the history memory: random shapes
// against the model, also with the history written while the unit runs (the DMA's port is
// its own); HIST_A past the history, or on another kind, is rejected.
TEST_F(VectorUnitTest, HistoryOperandsMatchTheModel) {
  SCOPED_TRACE(ks::tb::seed_note(seed_));
  fill_random();
  fill_hist_random();
  int rejected = 0;
  for (int n = 0; n < 200; ++n) {
    VecInstr in;
    do {
      in = random_valid();
    } while (in.kind != VecKind::kDotRows && in.kind != VecKind::kAxpyRows);
    in.hist_a = true;
    in.len = static_cast<uint16_t>(rng_() % (kHist + 1));
    in.a = rnd(kHist - in.len + 1);
    if (n % 10 == 0) in.a = static_cast<uint16_t>(kHist - in.len + 1 + rnd(3));  // past the history
    if (n % 17 == 0) in.kind = VecKind::kVV;                                     // HIST_A on VV
    ks::golden::VectorUnitModel probe(kLanes, kRows, 0, kHist);
    const bool valid = probe.check(in).empty();
    rejected += !valid;
    // Half the time, beats of the history change while the instruction runs (rows it does not
    // read: the ones past a + len, if any).
    const bool overlap_writes = valid && n % 2 == 1 && in.a + in.len < kHist;
    if (!overlap_writes) {
      run(in);
    } else {
      const size_t first_free = (in.a + in.len) * kLanes;
      model_.execute(in);  // the model first: the writes below touch rows it does not read
      drive(in);
      sim_->in_valid_i = 1;
      sim_.eval();
      ASSERT_FALSE(sim_->in_bad_o);
      sim_.tick();
      sim_->in_valid_i = 0;
      sim_.eval();
      size_t e = first_free;
      for (int guard = 0; sim_->busy_o; ++guard) {
        ASSERT_LT(guard, 100000);
        if (e + kBeatElems <= kLanes * kHist) {
          std::vector<Bits> beat(kBeatElems);
          for (auto& b : beat) b = random_value();
          hist_write(e, beat);  // ticks
          e += kBeatElems;
        } else {
          sim_.tick();
        }
        sim_.eval();
      }
    }
    if (HasFailure()) return;
    expect_same_state(describe(in).c_str());
    if (HasFatalFailure()) return;
  }
  EXPECT_GT(rejected, 10);
}

}  // namespace
