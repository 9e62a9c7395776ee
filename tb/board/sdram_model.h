// A cycle-based model of a 16-bit SDR SDRAM (MT48LC16M16A2 / AS4C32M16SB class) for the
// Verilator testbenches: it decodes the command on the pins at every SDRAM clock edge, checks
// the command protocol and every timing rule against the datasheet values it is given, stores
// the data sparsely, drives DQ with the CAS latency and honours DQM. A broken rule is recorded
// with its name, the cycle and the time, and the details (violations()); the tests fail on it.
//
// Clocking: the FPGA launches its pins on the rising edge of its clock and the SDRAM samples
// them half a clock later (its clock is the inverse of the FPGA's). So the testbench calls
// edge() once per FPGA cycle, after the rising edge, with the pins as the FPGA now drives them;
// edge() returns what the FPGA's input register will see on DQ at its next rising edge: the
// word the SDRAM drives for this SDRAM edge (a read's word CL edges after its READ), else the
// FPGA's own data while it drives, else a floating bus (a value that changes every cycle).
//
// What is checked, each as a named rule in the message:
//  - initialisation: nothing but NOP/INHIBIT until PRECHARGE ALL at least tINIT after power-up,
//    then at least two AUTO REFRESH and a LOAD MODE before any ACTIVE, READ or WRITE; a
//    PRECHARGE ALL after tINIT of NOP/INHIBIT restarts it (a controller reset) and the contents
//    are lost (reads return garbage);
//  - ACTIVE: bank closed, tRP after its PRECHARGE, tRC after its last ACTIVE, tRRD after any
//    ACTIVE, tRFC after REFRESH, tMRD after LOAD MODE; row in range;
//  - READ/WRITE: bank open, tRCD after its ACTIVE, no auto precharge, column in range, no burst
//    interrupted (a READ or WRITE before the previous burst ends; a WRITE needs one idle bus
//    clock after the last read word);
//  - PRECHARGE: tRAS after ACTIVE, not before a read burst's last word (issued CL - 1 edges
//    early at most), tWR after the last write word; a row open longer than tRAS(max) is lost;
//  - AUTO REFRESH: all banks closed for tRP, tRFC after the previous one; the time between two
//    refreshes (and from initialisation to the first) never above tREFI;
//  - LOAD MODE: banks closed, burst length 1/2/4/8, sequential, CAS latency 2/3, programmed
//    write bursts;
//  - the data bus: the FPGA drives DQ no sooner than one clock after the SDRAM's last read word
//    and not while the SDRAM drives; every unmasked write word is driven by the FPGA;
//  - CKE: high whenever a command is given (power-down and self refresh are not modelled).
// A READ/WRITE to the wrong row of an open bank cannot be seen on the pins; the data checks of
// the tests catch it (and the controller asserts it).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace ks::tb {

/// The pins as the FPGA drives them during one cycle.
struct SdramPins {
  bool cke = false, cs_n = true, ras_n = true, cas_n = true, we_n = true;
  unsigned ba = 0;    // 2 bits
  unsigned a = 0;     // 13 bits
  unsigned dqm = 3;   // 2 bits: 1 masks the byte
  uint16_t dq = 0;    // what the FPGA drives on DQ
  bool dq_oe = false;
};

/// Datasheet timings in picoseconds (defaults: the conservative values of docs/fpga.md).
struct SdramTiming {
  uint64_t clk_khz = 150000;        // the clock the model runs at
  uint64_t trcd = 21000, trp = 21000, tras = 42000, tras_max = 100000000, trc = 63000, trfc = 70000,
           twr = 15000, trrd = 14000;
  unsigned tmrd_clk = 2;
  uint64_t trefi = 7800000;         // longest time between AUTO REFRESH commands
  uint64_t tinit = 200000000;       // power-up wait before PRECHARGE ALL
};

struct SdramGeometry {
  unsigned row_bits = 13, col_bits = 9;  // 32 MiB: 8192 rows of 512 columns, 4 banks
};

class SdramModel {
 public:
  struct Stats {
    uint64_t cycles = 0, activates = 0, reads = 0, writes = 0, precharges = 0, refreshes = 0, inits = 0;
    uint64_t max_refresh_gap = 0;     // cycles between refreshes, the longest seen while running
    uint64_t words_read = 0, words_written = 0;
  };

  explicit SdramModel(const SdramTiming& t = {}, const SdramGeometry& g = {});

  /// One SDRAM clock edge with the pins `p`; returns what the FPGA sees on DQ until its next
  /// rising edge (see the file comment).
  uint16_t edge(const SdramPins& p);
  /// End-of-run checks (a refresh overdue now is a violation).
  void finish();

  const std::vector<std::string>& violations() const { return violations_; }
  const Stats& stats() const { return stats_; }
  /// The LOAD MODE values (0 before the first LOAD MODE).
  unsigned cas_latency() const { return cl_; }
  unsigned burst_length() const { return bl_; }
  bool initialised() const { return state_ == State::kReady; }
  /// The stored word of bank/row/column (the power-up garbage if never written).
  uint16_t peek(unsigned bank, unsigned row, unsigned col) const;

 private:
  enum class State { kPowerUp, kInit, kReady };
  static constexpr int kBanks = 4;
  static constexpr uint64_t kNever = ~uint64_t{0} >> 2;  // "long ago", far enough to satisfy any rule

  struct Bank {
    bool open = false;
    unsigned row = 0;
    uint64_t act = 0, pre = 0;       // cycles of the last ACTIVE and PRECHARGE
    uint64_t rd = 0, wr_end = 0;     // last READ; last write word's edge
    bool rd_valid = false, wr_valid = false;
  };

  void violation(const char* rule, const std::string& what);
  /// At least `ps` picoseconds from edge `since` to the current edge.
  bool elapsed(uint64_t since, uint64_t ps) const { return (n_ - since) * 1000000000ull >= ps * t_.clk_khz; }
  double ns(uint64_t cycles) const { return static_cast<double>(cycles) * 1e6 / static_cast<double>(t_.clk_khz); }
  std::string ago(uint64_t since) const;
  uint16_t& word(unsigned bank, unsigned row, unsigned col);
  uint16_t garbage(uint64_t key) const;
  void command(const SdramPins& p);
  void start_init();
  void check_lapses();

  SdramTiming t_;
  SdramGeometry g_;
  State state_ = State::kPowerUp;
  uint64_t n_ = 0;                    // the current edge
  uint64_t last_cmd_ = 0;             // last command other than NOP/INHIBIT (0: none yet)
  bool any_cmd_ = false;
  unsigned init_refs_ = 0;
  uint64_t last_ref_ = 0, last_lmr_ = 0, last_act_any_ = 0;
  bool ref_seen_ = false, lmr_seen_ = false, act_seen_ = false;
  bool lapsed_ = false;
  std::string lapse_;                 // why the contents were lost, for the message
  unsigned cl_ = 0, bl_ = 0;
  std::array<Bank, kBanks> banks_{};
  // The burst in progress on the data bus: READ or WRITE at cycle `at`.
  struct Burst {
    bool active = false, write = false;
    uint64_t at = 0;
    unsigned bank = 0, row = 0, col = 0;
  } burst_;
  // Data the SDRAM drives, by edge (a small ring: reads land at most CL edges ahead).
  struct Out {
    bool driven = false;
    uint16_t value = 0;
  };
  std::array<Out, 16> out_{};
  std::array<unsigned, 4> dqm_hist_{};  // DQM of the last edges (read masking has 2 clocks latency)
  bool sd_drove_prev_ = false;
  uint64_t generation_ = 0;           // bumped when the contents are lost
  std::unordered_map<uint64_t, std::unique_ptr<uint16_t[]>> pages_;  // one row of one bank each
  std::vector<std::string> violations_;
  Stats stats_;
};

}  // namespace ks::tb
