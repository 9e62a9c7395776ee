// The SDRAM device memory (ks_sdram_mem: AXI4 slave and host port over ks_sdram_ctrl, through
// ks_sdram_phy's I/O registers) against the SDRAM model (sdram_model.h), which checks every
// command and timing rule, and against a reference memory: random AXI read and write bursts of
// random lengths and strobes with random valid/ready stalls, host-port accesses among them,
// bursts across row and bank boundaries, out-of-range bursts (DECERR, nothing touched), refresh
// during long streams, a reset in the middle of traffic, open-row hits, and the sustained
// bandwidth of long read and write streams (printed; docs/fpga.md quotes it). Two shapes: the
// ULX3S's (16-byte beats, 150 MHz, CAS latency 3) and a narrow one (8-byte beats, 50 MHz, CAS
// latency 2). The model's own checks are tested first, on hand-made pin sequences.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "Vks_sdram_tb16.h"
#include "Vks_sdram_tb8.h"
#include "sdram_model.h"
#include "sim_harness.h"
#include "test_seed.h"

namespace {

using ks::tb::SdramModel;
using ks::tb::SdramPins;
using ks::tb::SdramTiming;

constexpr uint32_t kBase = 0x10000000;
constexpr uint32_t kSize = 32u << 20;

template <class V, unsigned Bytes, unsigned Khz, unsigned Cl>
struct Shape {
  using Model = V;
  static constexpr unsigned kBytes = Bytes, kKhz = Khz, kCl = Cl;
};
using Wide = Shape<Vks_sdram_tb16, 16, 150000, 3>;    // the ULX3S board
using Narrow = Shape<Vks_sdram_tb8, 8, 50000, 2>;

// Data ports: VlWide<N> above 64 bits, QData at 64.
template <size_t N>
void put(VlWide<N>& port, const uint8_t* b) {
  for (size_t w = 0; w < N; ++w) {
    port[w] = uint32_t{b[4 * w]} | uint32_t{b[4 * w + 1]} << 8 | uint32_t{b[4 * w + 2]} << 16 |
              uint32_t{b[4 * w + 3]} << 24;
  }
}
void put(QData& port, const uint8_t* b) {
  port = 0;
  for (int i = 7; i >= 0; --i) port = port << 8 | b[i];
}
template <size_t N>
void get(const VlWide<N>& port, uint8_t* b) {
  for (size_t w = 0; w < N; ++w) {
    for (int k = 0; k < 4; ++k) b[4 * w + k] = static_cast<uint8_t>(port[w] >> (8 * k));
  }
}
void get(QData port, uint8_t* b) {
  for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(port >> (8 * i));
}

/// Random traffic settings.
struct Traffic {
  double stall = 0.3;        // chance a valid is held back / a ready is low, per cycle
  double p_err = 0.05;       // bursts outside the memory
  double p_host = 0.15;      // host-port accesses among the operations
  double p_write = 0.5;
  unsigned max_len = 64;     // beats
  uint32_t lo = kBase, hi = kBase + (64u << 10);  // the window random bursts fall in
};

/// The device under test, its SDRAM model, an AXI4 master and a host-port driver with random
/// stalls, and the reference memory every read is checked against.
template <class S>
class Bench {
 public:
  static constexpr unsigned kB = S::kBytes;

  explicit Bench(uint64_t seed) : model_(timing()), rng_(seed), ref_(kSize), known_(kSize, false) {
    sim_->rst_ni = 0;
    for (int i = 0; i < 4; ++i) step();
    sim_->rst_ni = 1;
  }

  static SdramTiming timing() {
    SdramTiming t;
    t.clk_khz = S::kKhz;
    return t;
  }

  struct Op {
    bool write = false, host = false, err = false;
    uint32_t addr = 0;
    unsigned beats = 1;
    std::vector<uint8_t> data, strb;      // write: bytes and their enables; read: expected bytes
    std::vector<bool> known;              // read: which expected bytes are defined
    unsigned sent = 0, got = 0;           // beats handed over / checked
    bool addr_done = false, granted = false;
    uint64_t done_at = 0;
  };
  using OpPtr = std::shared_ptr<Op>;

  // ---- operations ---------------------------------------------------------------------------
  /// Is [a, a + n) free of every operation still in flight that writes, or (for a write) reads?
  bool free_range(uint32_t a, uint32_t n, bool write) const {
    for (const auto& o : inflight_) {
      if (!write && !o->write) continue;
      if (o->err) continue;   // touches nothing
      const uint32_t lo = o->addr, hi = o->addr + o->beats * kB;
      if (a < hi && lo < a + n) return false;
    }
    return true;
  }
  bool in_memory(uint32_t a, unsigned beats) const {
    return a >= kBase && uint64_t{a} - kBase + uint64_t{beats} * kB <= kSize;
  }

  OpPtr make_op(bool write, uint32_t addr, unsigned beats, bool host = false) {
    auto o = std::make_shared<Op>();
    o->write = write;
    o->host = host;
    o->addr = addr;
    o->beats = beats;
    o->err = !in_memory(addr, beats);
    const size_t n = size_t{beats} * kB;
    o->data.resize(n);
    if (write) {
      o->strb.resize(n);
      std::uniform_int_distribution<int> byte(0, 255);
      const int mode = std::uniform_int_distribution<int>(0, 3)(rng_);
      for (size_t i = 0; i < n; ++i) {
        o->data[i] = static_cast<uint8_t>(byte(rng_));
        o->strb[i] = mode == 0 ? (byte(rng_) & 1) : 1;   // a quarter with random strobes
      }
      if (!o->err) {
        for (size_t i = 0; i < n; ++i) {
          if (!o->strb[i]) continue;
          ref_[addr - kBase + i] = o->data[i];
          known_[addr - kBase + i] = true;
        }
      }
    } else {
      o->known.assign(n, false);
      if (!o->err) {
        for (size_t i = 0; i < n; ++i) {
          o->data[i] = ref_[addr - kBase + i];
          o->known[i] = known_[addr - kBase + i];
        }
      }
    }
    inflight_.push_back(o);
    return o;
  }

  // Each waits (running the clock) until nothing in flight conflicts with it.
  void read(uint32_t addr, unsigned beats) {
    wait_free(addr, beats, false);
    ar_q_.push_back(make_op(false, addr, beats));
  }
  void write(uint32_t addr, unsigned beats) {
    wait_free(addr, beats, true);
    auto o = make_op(true, addr, beats);
    aw_q_.push_back(o);
    w_q_.push_back(o);
  }
  void host(bool write, uint32_t addr) {
    wait_free(addr, 1, write);
    host_q_.push_back(make_op(write, addr, 1, true));
  }
  void wait_free(uint32_t addr, unsigned beats, bool write) {
    while (!free_range(addr, beats * kB, write) && !::testing::Test::HasFatalFailure()) step();
  }

  size_t pending() const { return inflight_.size(); }

  /// One random operation in the traffic's window, if one that conflicts with nothing in flight
  /// comes up; returns whether one was queued.
  bool random_op(const Traffic& t) {
    std::uniform_real_distribution<double> u(0, 1);
    const bool host_op = u(rng_) < t.p_host;
    const bool wr = u(rng_) < t.p_write;
    if (host_op ? host_q_.size() >= 2 : (wr ? aw_q_.size() >= 2 : ar_q_.size() >= 2)) return false;
    unsigned beats = host_op ? 1 : std::uniform_int_distribution<unsigned>(1, t.max_len)(rng_);
    uint32_t addr;
    if (!host_op && u(rng_) < t.p_err) {
      // Outside: past the end, across the end, or below the base.
      const int where = std::uniform_int_distribution<int>(0, 2)(rng_);
      addr = where == 0 ? kBase + kSize + kB * std::uniform_int_distribution<uint32_t>(0, 100)(rng_)
           : where == 1 ? kBase + kSize - kB * std::uniform_int_distribution<uint32_t>(0, beats - 1)(rng_)
                        : kBase - kB * std::uniform_int_distribution<uint32_t>(1, 64)(rng_);
      if (where == 1 && beats == 1) addr = kBase + kSize;
    } else {
      const uint32_t slots = (t.hi - t.lo) / kB - beats;
      addr = t.lo + kB * std::uniform_int_distribution<uint32_t>(0, slots)(rng_);
      if (!free_range(addr, beats * kB, wr)) return false;
    }
    if (host_op) {
      host(wr, addr);
    } else if (wr) {
      write(addr, beats);
    } else {
      read(addr, beats);
    }
    return true;
  }

  // ---- the clock ----------------------------------------------------------------------------
  bool coin(double p_true) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p_true; }

  void step() {
    auto& t = sim_.top();
    // AR / AW: a valid, once raised, stays until taken (with its fields).
    if (!ar_valid_ && !ar_q_.empty() && coin(1 - stall)) ar_valid_ = true;
    t.arvalid_i = ar_valid_;
    if (ar_valid_) {
      t.araddr_i = ar_q_.front()->addr;
      t.arlen_i = ar_q_.front()->beats - 1;
    }
    if (!aw_valid_ && !aw_q_.empty() && coin(1 - stall)) aw_valid_ = true;
    t.awvalid_i = aw_valid_;
    if (aw_valid_) {
      t.awaddr_i = aw_q_.front()->addr;
      t.awlen_i = aw_q_.front()->beats - 1;
    }
    if (!w_valid_ && !w_q_.empty() && coin(1 - stall)) w_valid_ = true;
    t.wvalid_i = w_valid_;
    if (w_valid_) {
      const Op& o = *w_q_.front();
      put(t.wdata_i, &o.data[o.sent * kB]);
      uint32_t s = 0;
      for (unsigned i = 0; i < kB; ++i) s |= uint32_t{o.strb[o.sent * kB + i]} << i;
      t.wstrb_i = s;
      t.wlast_i = o.sent + 1 == o.beats;
    }
    t.rready_i = coin(1 - stall);
    t.bready_i = coin(1 - stall);
    if (!host_valid_ && !host_q_.empty() && coin(1 - stall)) host_valid_ = true;
    t.host_req_i = host_valid_;
    if (host_valid_) {
      const Op& o = *host_q_.front();
      t.host_we_i = o.write;
      t.host_addr_i = (o.addr - kBase) / kB;
      if (o.write) {
        put(t.host_wdata_i, o.data.data());
        uint32_t s = 0;
        for (unsigned i = 0; i < kB; ++i) s |= uint32_t{o.strb[i]} << i;
        t.host_wstrb_i = s;
      }
    }
    sim_.eval();

    // Handshakes at this rising edge (none while in reset).
    if (t.rst_ni) handshakes();
    sim_.tick();
    SdramPins p;
    p.cke = t.sdram_cke_o;
    p.cs_n = t.sdram_cs_n_o;
    p.ras_n = t.sdram_ras_n_o;
    p.cas_n = t.sdram_cas_n_o;
    p.we_n = t.sdram_we_n_o;
    p.ba = t.sdram_ba_o;
    p.a = t.sdram_a_o;
    p.dqm = t.sdram_dqm_o;
    p.dq = t.sdram_dq_o;
    p.dq_oe = t.sdram_dq_oe_o;
    t.sdram_dq_i = model_.edge(p);
  }

  void handshakes() {
    auto& t = sim_.top();
    if (ar_valid_ && t.arready_o) {
      ar_valid_ = false;
      r_q_.push_back(ar_q_.front());
      ar_q_.pop_front();
      ++ar_count_;
      if (first_ar_ == 0) first_ar_ = sim_.cycles();
    }
    if (aw_valid_ && t.awready_o) {
      aw_valid_ = false;
      aw_q_.front()->addr_done = true;
      b_q_.push_back(aw_q_.front());
      aw_q_.pop_front();
      if (first_aw_ == 0) first_aw_ = sim_.cycles();
    }
    if (w_valid_ && t.wready_o) {
      w_valid_ = false;
      Op& o = *w_q_.front();
      if (++o.sent == o.beats) w_q_.pop_front();
    }
    if (t.rvalid_o && t.rready_i) r_beat();
    if (t.bvalid_o && t.bready_i) b_resp();
    if (host_valid_ && t.host_gnt_o) {
      host_valid_ = false;
      OpPtr o = host_q_.front();
      host_q_.pop_front();
      if (o->write) {
        retire(o);
      } else {
        host_reads_.push_back(o);
      }
    }
    if (t.host_rvalid_o) host_word();
  }

  void r_beat() {
    auto& t = sim_.top();
    ASSERT_FALSE(r_q_.empty()) << "R beat with no read burst outstanding, cycle " << sim_.cycles();
    Op& o = *r_q_.front();
    uint8_t got[kB];
    get(t.rdata_o, got);
    const std::string where = "read burst at 0x" + hex(o.addr) + " (" + std::to_string(o.beats) + " beats), beat " +
                              std::to_string(o.got) + ", cycle " + std::to_string(sim_.cycles());
    EXPECT_EQ(t.rresp_o, o.err ? 3 : 0) << where;
    EXPECT_EQ(bool(t.rlast_o), o.got + 1 == o.beats) << where;
    for (unsigned i = 0; i < kB; ++i) {
      const size_t k = size_t{o.got} * kB + i;
      if (o.err) {
        EXPECT_EQ(got[i], 0) << where;
      } else if (o.known[k] && got[i] != o.data[k]) {
        ADD_FAILURE() << where << ", byte " << i << ": got 0x" << hex(got[i]) << ", want 0x" << hex(o.data[k]);
        ++mismatches_;
        break;
      }
    }
    bytes_read_ += kB;
    last_r_ = sim_.cycles();
    if (++o.got == o.beats) {
      retire(r_q_.front());
      r_q_.pop_front();
    }
  }

  void b_resp() {
    ASSERT_FALSE(b_q_.empty()) << "B with no write burst outstanding, cycle " << sim_.cycles();
    OpPtr o = b_q_.front();
    EXPECT_EQ(o->sent, o->beats) << "B before the last W beat of the write at 0x" << hex(o->addr);
    EXPECT_EQ(sim_->bresp_o, o->err ? 3 : 0) << "write burst at 0x" << hex(o->addr);
    bytes_written_ += o->beats * kB;
    last_b_ = sim_.cycles();
    b_q_.pop_front();
    retire(o);
  }

  void host_word() {
    ASSERT_FALSE(host_reads_.empty()) << "host read data with no host read granted, cycle " << sim_.cycles();
    Op& o = *host_reads_.front();
    uint8_t got[kB];
    get(sim_->host_rdata_o, got);
    for (unsigned i = 0; i < kB; ++i) {
      if (o.known[i] && got[i] != o.data[i]) {
        ADD_FAILURE() << "host read of 0x" << hex(o.addr) << ", byte " << i << ": got 0x" << hex(got[i]) << ", want 0x"
                      << hex(o.data[i]);
        ++mismatches_;
        break;
      }
    }
    retire(host_reads_.front());
    host_reads_.pop_front();
  }

  void retire(const OpPtr& o) {
    for (auto it = inflight_.begin(); it != inflight_.end(); ++it) {
      if (*it == o) {
        inflight_.erase(it);
        return;
      }
    }
  }

  /// Runs until every operation is done; fails after `limit` cycles.
  void drain(uint64_t limit = 2000000) {
    const uint64_t end = sim_.cycles() + limit;
    while (!inflight_.empty() && sim_.cycles() < end && !::testing::Test::HasFatalFailure()) step();
    ASSERT_TRUE(inflight_.empty()) << inflight_.size() << " operations still in flight after " << limit << " cycles";
  }
  void run(uint64_t cycles) {
    for (uint64_t i = 0; i < cycles && !::testing::Test::HasFatalFailure(); ++i) step();
  }
  /// Runs random traffic: `ops` operations, then drains.
  void traffic(unsigned ops, const Traffic& t) {
    stall = t.stall;
    unsigned issued = 0;
    uint64_t guard = 0;
    while (issued < ops && !::testing::Test::HasFatalFailure() && mismatches_ < 5) {
      if (random_op(t)) ++issued;
      step();
      ASSERT_LT(++guard, 100ull * ops + 2000000) << "traffic stopped making progress";
    }
    drain();
  }

  /// Reset in the middle of whatever is going on: the SDRAM keeps its state (the model runs
  /// on), the master's outstanding transactions and the reference contents are forgotten.
  void reset_dut(unsigned cycles) {
    sim_->rst_ni = 0;
    ar_valid_ = aw_valid_ = w_valid_ = host_valid_ = false;
    ar_q_.clear();
    aw_q_.clear();
    w_q_.clear();
    r_q_.clear();
    b_q_.clear();
    host_q_.clear();
    host_reads_.clear();
    inflight_.clear();
    for (unsigned i = 0; i < cycles; ++i) step();
    sim_->rst_ni = 1;
    std::fill(known_.begin(), known_.end(), false);
  }

  /// Runs until the controller is through its initialisation (the model saw LOAD MODE).
  void wait_init() {
    const uint64_t limit = sim_.cycles() + 400ull * S::kKhz / 1000 * 1000 / 1000;  // 400 us
    while (!model_.initialised() && sim_.cycles() < limit) step();
    ASSERT_TRUE(model_.initialised()) << "no initialisation within 400 us";
  }

  void check_model() {
    model_.finish();
    const auto& v = model_.violations();
    EXPECT_TRUE(v.empty()) << v.size() << " SDRAM rule violations, the first: " << v.front();
    for (size_t i = 1; i < v.size() && i < 5; ++i) ADD_FAILURE() << v[i];
  }

  static std::string hex(uint64_t v) {
    char b[24];
    std::snprintf(b, sizeof b, "%llx", static_cast<unsigned long long>(v));
    return b;
  }

  ks::tb::SimHarness<typename S::Model> sim_;
  SdramModel model_;
  std::mt19937_64 rng_;
  std::vector<uint8_t> ref_;
  std::vector<bool> known_;
  double stall = 0.0;
  std::deque<OpPtr> ar_q_, aw_q_, w_q_, r_q_, b_q_, host_q_, host_reads_;
  std::vector<OpPtr> inflight_;
  bool ar_valid_ = false, aw_valid_ = false, w_valid_ = false, host_valid_ = false;
  uint64_t first_ar_ = 0, first_aw_ = 0, last_r_ = 0, last_b_ = 0, ar_count_ = 0;
  uint64_t bytes_read_ = 0, bytes_written_ = 0;
  unsigned mismatches_ = 0;
};

template <class S>
class SdramTest : public ::testing::Test {
 protected:
  void SetUp() override {
    seed_ = ks::tb::test_seed();
    bench_ = std::make_unique<Bench<S>>(seed_);
    bench_->wait_init();
  }
  void TearDown() override {
    if (bench_) bench_->check_model();
    if (HasFailure()) std::printf("  %s\n", ks::tb::seed_note(seed_).c_str());
  }
  std::unique_ptr<Bench<S>> bench_;
  uint64_t seed_ = 0;
};

using Shapes = ::testing::Types<Wide, Narrow>;
class ShapeNames {
 public:
  template <class T>
  static std::string GetName(int) {
    return T::kBytes == 16 ? "x16_150MHz_CL3" : "x8_50MHz_CL2";
  }
};
TYPED_TEST_SUITE(SdramTest, Shapes, ShapeNames);

TYPED_TEST(SdramTest, InitialisesAndRefreshesWhileIdle) {
  auto& b = *this->bench_;
  EXPECT_EQ(b.model_.burst_length(), TypeParam::kBytes / 2);
  EXPECT_EQ(b.model_.cas_latency(), TypeParam::kCl);
  const uint64_t before = b.model_.stats().refreshes;
  b.run(100ull * TypeParam::kKhz / 1000);  // 100 us
  const uint64_t refreshes = b.model_.stats().refreshes - before;
  EXPECT_GE(refreshes, 100 / 7.8 - 1) << "refreshes in 100 us";
  EXPECT_LE(refreshes, 100 / 7.8 * 1.25) << "refreshes in 100 us";
  EXPECT_EQ(b.model_.stats().activates, 0u) << "nothing else happens while idle";
}

TYPED_TEST(SdramTest, RandomBurstsAgainstReference) {
  auto& b = *this->bench_;
  Traffic t;
  b.traffic(600, t);
  EXPECT_GT(b.model_.stats().reads, 100u);
  EXPECT_GT(b.model_.stats().writes, 100u);
}

TYPED_TEST(SdramTest, RandomBurstsWithoutStallsAndManyHostAccesses) {
  auto& b = *this->bench_;
  Traffic t;
  t.stall = 0.0;
  t.p_host = 0.5;
  t.hi = kBase + (16u << 10);   // a small window: many conflicts, many row hits
  b.traffic(800, t);
}

TYPED_TEST(SdramTest, HeavyStallsOnEveryChannel) {
  auto& b = *this->bench_;
  Traffic t;
  t.stall = 0.8;
  b.traffic(200, t);
}

// Bursts crossing the 1 KiB (16-byte beats) or 512-byte (8-byte beats) boundary into the next
// bank, and the 4 KiB / 2 KiB boundary into the next row of bank 0 (the SDRAM does not care
// about AXI's 4 KiB rule), and bursts that alternate rows of one bank.
TYPED_TEST(SdramTest, BurstsAcrossRowAndBankBoundaries) {
  auto& b = *this->bench_;
  constexpr unsigned kB = TypeParam::kBytes;
  const uint32_t row_bytes = 512 * 2;        // one row of one bank
  const uint32_t bank_stride = row_bytes;    // consecutive rows of beats go to the next bank
  const uint32_t row_stride = 4 * row_bytes; // then the next row
  b.stall = 0.2;
  for (uint32_t k = 1; k < 8; ++k) {
    const uint32_t edge = kBase + k * bank_stride;
    b.write(edge - 3 * kB, 7);                              // into the next bank
    b.write(kBase + k * row_stride - 5 * kB, 11);           // into the next row (bank 0 again)
    b.drain();
    b.read(edge - 3 * kB, 7);
    b.read(kBase + k * row_stride - 5 * kB, 11);
    b.read(edge - 32 * kB, 64);
    b.drain();
  }
  // Same bank, other rows, back to back: every burst re-opens a row.
  const uint64_t acts = b.model_.stats().activates;
  for (int i = 0; i < 8; ++i) b.read(kBase + 0x20000 + (i % 2 ? row_stride * 3 : 0), 4);
  b.drain();
  EXPECT_GE(b.model_.stats().activates - acts, 8u);
}

TYPED_TEST(SdramTest, RowHitsDoNotReactivate) {
  auto& b = *this->bench_;
  constexpr unsigned kB = TypeParam::kBytes;
  const unsigned beats = std::min(64u, 1024u / kB);   // one whole row of one bank
  b.stall = 0.0;
  b.write(kBase + 0x40000, beats);
  b.drain();
  for (int rep = 0; rep < 4; ++rep) {
    const uint64_t acts = b.model_.stats().activates, refs = b.model_.stats().refreshes;
    for (unsigned i = 0; i < beats; i += 4) b.read(kBase + 0x40000 + i * kB, 4);
    b.drain();
    // The row is open already: no ACTIVE, unless a refresh closed it meanwhile.
    EXPECT_LE(b.model_.stats().activates - acts, b.model_.stats().refreshes - refs);
  }
}

TYPED_TEST(SdramTest, OutOfRangeBurstsAnswerDecerrAndTouchNothing) {
  auto& b = *this->bench_;
  constexpr unsigned kB = TypeParam::kBytes;
  b.stall = 0.3;
  // Known contents at both ends.
  b.write(kBase, 16);
  b.write(kBase + kSize - 16 * kB, 16);
  b.drain();
  b.run(200);   // B comes once the last beat is queued in the controller: let it reach the SDRAM
  const uint64_t writes = b.model_.stats().writes, reads = b.model_.stats().reads;
  b.write(kBase + kSize - 4 * kB, 8);       // across the end
  b.write(kBase + kSize, 3);                // past it
  b.write(kBase - 2 * kB, 4);               // across the base
  b.write(0xFFFFFFFFu - kB + 1, 1);         // at the top of the address space
  b.read(kBase + kSize - 2 * kB, 4);
  b.read(kBase + kSize + 0x1000, 64);
  b.read(kBase - kB, 2);
  b.drain();
  b.run(200);
  EXPECT_EQ(b.model_.stats().writes, writes) << "a DECERR write reached the SDRAM";
  EXPECT_EQ(b.model_.stats().reads, reads) << "a DECERR read reached the SDRAM";
  b.read(kBase, 16);
  b.read(kBase + kSize - 16 * kB, 16);
  b.drain();
}

TYPED_TEST(SdramTest, RefreshKeepsHappeningDuringLongStreams) {
  auto& b = *this->bench_;
  constexpr unsigned kB = TypeParam::kBytes;
  b.stall = 0.0;
  const uint64_t refs = b.model_.stats().refreshes, start = b.sim_.cycles();
  // About 400 us of back-to-back bursts, reads and writes mixed.
  const uint64_t cycles = 400ull * TypeParam::kKhz / 1000;
  uint32_t a = kBase;
  while (b.sim_.cycles() - start < cycles && !::testing::Test::HasFailure()) {
    if (b.pending() < 4) {
      if ((a / 4096) % 3 == 2) {
        b.read(a - 4096, 4096 / kB / 4);
      } else {
        b.write(a, 4096 / kB / 4);
      }
      a += 1024;
    }
    b.step();
  }
  b.drain();
  const double us = static_cast<double>(b.sim_.cycles() - start) * 1000.0 / TypeParam::kKhz;
  const uint64_t n = b.model_.stats().refreshes - refs;
  std::printf("  %.0f us of streaming: %llu refreshes, longest gap %llu cycles (%.2f us)\n", us,
              static_cast<unsigned long long>(n), static_cast<unsigned long long>(b.model_.stats().max_refresh_gap),
              static_cast<double>(b.model_.stats().max_refresh_gap) * 1000.0 / TypeParam::kKhz);
  EXPECT_GE(n, static_cast<uint64_t>(us / 7.8));
  EXPECT_LE(static_cast<double>(b.model_.stats().max_refresh_gap) * 1000.0 / TypeParam::kKhz, 7.8);
}

TYPED_TEST(SdramTest, ResetInTheMiddleOfTrafficThenNormalOperation) {
  auto& b = *this->bench_;
  std::mt19937_64 rng(this->seed_);
  Traffic t;
  t.stall = 0.1;
  for (int round = 0; round < 3; ++round) {
    // Keep traffic going for a random while, then reset with bursts in flight.
    const unsigned cycles = std::uniform_int_distribution<unsigned>(200, 3000)(rng);
    for (unsigned i = 0; i < cycles; ++i) {
      b.random_op(t);
      b.step();
    }
    ASSERT_GT(b.pending(), 0u) << "nothing in flight at the reset";
    b.reset_dut(std::uniform_int_distribution<unsigned>(1, 40)(rng));
    b.wait_init();
    b.traffic(150, t);
  }
  EXPECT_EQ(b.model_.stats().inits, 4u) << "power-up and three resets";
}

TYPED_TEST(SdramTest, SustainedBandwidthOfLongStreams) {
  auto& b = *this->bench_;
  constexpr unsigned kB = TypeParam::kBytes;
  const unsigned beats = std::min(64u, 4096u / kB);   // the ecp5 DMA's longest burst
  const unsigned bursts = 256;
  b.stall = 0.0;
  // Writes: back-to-back bursts, W always valid, B always taken.
  uint32_t a = kBase + 0x100000;
  b.first_aw_ = 0;
  for (unsigned i = 0; i < bursts; ++i) {
    while (b.pending() >= 2) b.step();
    b.write(a + i * beats * kB, beats);
  }
  b.drain();
  const double wr = static_cast<double>(bursts * beats * kB) / static_cast<double>(b.last_b_ - b.first_aw_);
  // Reads of the same, R always taken.
  b.first_ar_ = 0;
  for (unsigned i = 0; i < bursts; ++i) {
    while (b.pending() >= 2) b.step();
    b.read(a + i * beats * kB, beats);
  }
  b.drain();
  const double rd = static_cast<double>(bursts * beats * kB) / static_cast<double>(b.last_r_ - b.first_ar_);
  // Both at once: reads of one area while another is written.
  const uint64_t m0 = b.sim_.cycles(), r0 = b.bytes_read_, wb0 = b.bytes_written_;
  for (unsigned i = 0; i < bursts / 2; ++i) {
    while (b.pending() >= 4) b.step();
    b.read(a + i * beats * kB, beats);
    b.write(a + 0x200000 + i * beats * kB, beats);
  }
  b.drain();
  const double mixed = static_cast<double>(b.bytes_read_ - r0 + b.bytes_written_ - wb0) /
                       static_cast<double>(b.sim_.cycles() - m0);
  std::printf("  sustained bandwidth, %u bursts of %u x %u bytes: read %.3f bytes/cycle, write %.3f bytes/cycle, "
              "reads and writes interleaved %.3f bytes/cycle (peak 2: one 16-bit word per cycle)\n",
              bursts, beats, kB, rd, wr, mixed);
  EXPECT_GE(rd, 1.85);
  EXPECT_GE(wr, 1.85);
  EXPECT_GE(mixed, 1.5);

  // Latency of a lone one-beat read, from the AR handshake to the R beat: to an open row, to a
  // closed bank, and to another row of an open bank.
  // (A refresh may close the row in between: the least of a few tries is the hit, the most
  // of a few alternations between two rows the miss.)
  auto latency = [&](uint32_t addr) {
    b.run(40);
    b.first_ar_ = 0;
    b.read(addr, 1);
    b.drain();
    return b.last_r_ - b.first_ar_;
  };
  const uint32_t base = kBase + 0x300000, other_row = base + 4 * 1024 * 8;
  uint64_t hit = ~uint64_t{0}, miss = 0;
  for (int i = 0; i < 4; ++i) {
    latency(base);                                 // opens the row
    hit = std::min(hit, latency(base + kB));
    miss = std::max(miss, latency(other_row));     // same bank, another row
  }
  std::printf("  read latency, AR to R, one beat: %llu cycles to an open row, %llu to another row of the bank\n",
              static_cast<unsigned long long>(hit), static_cast<unsigned long long>(miss));
  EXPECT_LT(hit, miss);
}

// ---- the model's own checks, on hand-made pin sequences --------------------------------------

class ModelDriver {
 public:
  explicit ModelDriver(unsigned khz = 100000) {
    SdramTiming t;
    t.clk_khz = khz;
    model_ = std::make_unique<SdramModel>(t);
  }
  // {ras_n, cas_n, we_n}
  enum : unsigned { kLmr = 0, kRef = 1, kPre = 2, kAct = 3, kWr = 4, kRd = 5, kNop = 7 };
  uint16_t cmd(unsigned c, unsigned ba = 0, unsigned a = 0, bool oe = false, uint16_t dq = 0, unsigned dqm = 0) {
    SdramPins p;
    p.cke = true;
    p.cs_n = c == kNop;
    p.ras_n = (c >> 2) & 1;
    p.cas_n = (c >> 1) & 1;
    p.we_n = c & 1;
    p.ba = ba;
    p.a = a;
    p.dqm = dqm;
    p.dq = dq;
    p.dq_oe = oe;
    return model_->edge(p);
  }
  void nop(unsigned n) {
    for (unsigned i = 0; i < n; ++i) cmd(kNop);
  }
  /// Power-up wait, PRECHARGE ALL, two refreshes, LOAD MODE (BL 4, CL 2) with the waits at 100 MHz.
  void init() {
    nop(20000);
    cmd(kPre, 0, 1 << 10);
    nop(2);
    cmd(kRef);
    nop(7);
    cmd(kRef);
    nop(7);
    cmd(kLmr, 0, 0x22);
    nop(2);
  }
  bool broke(const std::string& rule) const {
    for (const auto& v : model_->violations()) {
      if (v.find("'" + rule + "'") != std::string::npos) return true;
    }
    return false;
  }
  std::string all() const {
    std::string s;
    for (const auto& v : model_->violations()) s += v + "\n";
    return s;
  }
  std::unique_ptr<SdramModel> model_;
};

TEST(SdramModel, LegalSequenceWritesAndReadsBackWithCasLatency) {
  ModelDriver d;
  d.init();
  d.cmd(d.kAct, 1, 77);
  d.nop(2);
  d.cmd(d.kWr, 1, 8, true, 0x1111, 0);   // words at columns 8..11
  d.cmd(d.kNop, 0, 0, true, 0x2222, 2);  // upper byte masked
  d.cmd(d.kNop, 0, 0, true, 0x3333, 0);
  d.cmd(d.kNop, 0, 0, true, 0x4444, 0);
  d.nop(1);
  d.cmd(d.kRd, 1, 8);
  d.nop(1);
  EXPECT_EQ(d.cmd(d.kNop), 0x1111);       // CL 2: the first word on the second edge after READ
  const uint16_t w1 = d.cmd(d.kNop);
  EXPECT_EQ(w1 & 0xFF, 0x22);
  EXPECT_EQ(d.cmd(d.kNop), 0x3333);
  EXPECT_EQ(d.cmd(d.kNop), 0x4444);
  d.nop(2);
  d.cmd(d.kPre, 1);
  d.nop(3);
  d.model_->finish();
  EXPECT_TRUE(d.model_->violations().empty()) << d.all();
}

TEST(SdramModel, FlagsCommandsBeforeInitialisation) {
  ModelDriver d;
  d.nop(100);
  d.cmd(d.kPre, 0, 1 << 10);   // only 1 us after power-up
  EXPECT_TRUE(d.broke("initialisation")) << d.all();
  ModelDriver e;
  e.nop(20000);
  e.cmd(e.kPre, 0, 1 << 10);
  e.nop(2);
  e.cmd(e.kAct, 0, 1);         // no refreshes, no LOAD MODE yet
  EXPECT_TRUE(e.broke("initialisation")) << e.all();
  ModelDriver f;
  f.nop(20000);
  f.cmd(f.kPre, 0, 1 << 10);
  f.nop(2);
  f.cmd(f.kRef);
  f.nop(7);
  f.cmd(f.kLmr, 0, 0x22);      // one refresh only
  EXPECT_TRUE(f.broke("initialisation")) << f.all();
}

TEST(SdramModel, FlagsBankStateAndTimingViolations) {
  ModelDriver d;
  d.init();
  d.cmd(d.kAct, 0, 5);
  d.cmd(d.kRd, 0, 0);                 // tRCD: 10 ns after ACTIVE
  EXPECT_TRUE(d.broke("tRCD")) << d.all();
  d.nop(3);
  d.cmd(d.kAct, 0, 6);                // bank 0 is open
  EXPECT_TRUE(d.broke("ACTIVE to an open bank")) << d.all();
  d.cmd(d.kAct, 1, 6);                // 10 ns after the last ACTIVE
  EXPECT_TRUE(d.broke("tRRD")) << d.all();
  d.cmd(d.kRd, 2, 0);                 // bank 2 is closed
  EXPECT_TRUE(d.broke("READ to a closed bank")) << d.all();
  d.nop(10);
  d.cmd(d.kPre, 0);
  d.cmd(d.kAct, 0, 9);                // tRP
  EXPECT_TRUE(d.broke("tRP")) << d.all();
  d.cmd(d.kPre, 0);                   // tRAS
  EXPECT_TRUE(d.broke("tRAS")) << d.all();
  d.nop(5);
  d.cmd(d.kRef);                      // bank 1 open
  EXPECT_TRUE(d.broke("REFRESH with a bank open")) << d.all();
}

TEST(SdramModel, FlagsBurstInterruptionBusTurnaroundAndWriteRecovery) {
  ModelDriver d;
  d.init();
  d.cmd(d.kAct, 0, 1);
  d.nop(3);
  d.cmd(d.kRd, 0, 0);
  d.cmd(d.kRd, 0, 4);                 // the first burst of 4 is not over
  EXPECT_TRUE(d.broke("burst interrupted")) << d.all();
  d.nop(3);
  d.cmd(d.kWr, 0, 8, true, 1);        // right after the last read word: no idle clock
  EXPECT_TRUE(d.broke("read to write turnaround")) << d.all();
  EXPECT_TRUE(d.broke("bus contention")) << d.all();
  d.cmd(d.kNop, 0, 0, false, 0, 0);   // an unmasked write word nobody drives
  EXPECT_TRUE(d.broke("write data")) << d.all();
  d.nop(2);
  d.cmd(d.kPre, 0);                   // right after the last write word: tWR
  EXPECT_TRUE(d.broke("tWR")) << d.all();
}

TEST(SdramModel, FlagsAMissedRefreshButAcceptsAReinitialisation) {
  ModelDriver d;
  d.init();
  d.nop(790);                         // 7.9 us at 100 MHz since the last refresh
  d.cmd(d.kAct, 0, 1);
  EXPECT_TRUE(d.broke("refresh interval")) << d.all();
  ModelDriver e;
  e.init();
  e.cmd(e.kAct, 0, 1);
  e.nop(20000);                       // a controller reset: 200 us of NOP, then a new start
  e.init();
  e.model_->finish();
  EXPECT_TRUE(e.model_->violations().empty()) << e.all();
  EXPECT_EQ(e.model_->stats().inits, 2u);
  ModelDriver f;
  f.init();
  f.nop(700);
  f.model_->finish();
  EXPECT_TRUE(f.model_->violations().empty()) << f.all();
  f.nop(100);
  f.model_->finish();
  EXPECT_TRUE(f.broke("refresh interval")) << f.all();
}

}  // namespace
