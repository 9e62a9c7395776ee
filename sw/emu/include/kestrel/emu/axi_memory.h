// Cycle-based AXI4 slave memory model: the memory behind the core's AXI4 master port in the
// emulated-hardware backend. Glue code connects it to the Verilated core once per clock cycle:
//
//   const AxiSlaveSignals& out = mem.outputs();  // registered outputs of this cycle
//   ... drive `out` into the core, evaluate the core, read its master signals into `in` ...
//   mem.tick(in);                                 // the clock edge
//
// The outputs depend only on the model's registered state, never combinationally on the
// master's signals of the same cycle, so the glue needs no second evaluation pass and the
// model cannot close a combinational loop with the core.
//
// Timing model: each accepted read burst becomes available read_latency cycles after its AR
// handshake; beats then flow one per cycle, in acceptance order, limited by a token bucket
// (bytes_per_cycle) that R and W data beats share. A write burst's B comes write_latency
// cycles after its last W beat, in order. The model also checks the master's side of the
// protocol and records what it breaks in violations() instead of throwing, so one run can
// report every problem.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace ks::emu {

enum class AxiResp : uint8_t { kOkay = 0, kExOkay = 1, kSlvErr = 2, kDecErr = 3 };

/// "OKAY", "EXOKAY", "SLVERR" or "DECERR".
std::string_view to_string(AxiResp r);

/// Burst types (AxBURST).
inline constexpr uint8_t kAxiBurstFixed = 0;
inline constexpr uint8_t kAxiBurstIncr = 1;
inline constexpr uint8_t kAxiBurstWrap = 2;

/// Signals the master (the core) drives, sampled by the model. Data is little-endian bytes.
struct AxiMasterSignals {
  bool arvalid = false;
  uint64_t araddr = 0;
  uint8_t arlen = 0;
  uint8_t arsize = 0;
  uint8_t arburst = 1;
  uint32_t arid = 0;
  bool rready = false;
  bool awvalid = false;
  uint64_t awaddr = 0;
  uint8_t awlen = 0;
  uint8_t awsize = 0;
  uint8_t awburst = 1;
  uint32_t awid = 0;
  bool wvalid = false;
  std::vector<uint8_t> wdata;  ///< data_bytes bytes; byte i travels on lane i
  uint64_t wstrb = 0;          ///< bit i enables byte i
  bool wlast = false;
  bool bready = false;
};

/// Signals the model drives. They depend only on the model's registered state.
struct AxiSlaveSignals {
  bool arready = false;
  bool rvalid = false;
  std::vector<uint8_t> rdata;  ///< always data_bytes bytes; inactive lanes are zero
  uint32_t rid = 0;
  AxiResp rresp = AxiResp::kOkay;
  bool rlast = false;
  bool awready = false;
  bool wready = false;
  bool bvalid = false;
  uint32_t bid = 0;
  AxiResp bresp = AxiResp::kOkay;
};

struct AxiMemoryConfig {
  size_t data_bytes = 8;               ///< bus width in bytes: 4, 8, 16, 32 or 64
  uint32_t read_latency = 20;          ///< cycles from AR handshake to the first R beat, at the earliest
  uint32_t write_latency = 10;         ///< cycles from the last W beat to B, at the earliest
  uint32_t max_outstanding_reads = 8;  ///< AR accepted but not fully returned; arready low at the limit
  uint32_t max_outstanding_writes = 8; ///< AW accepted but B not yet accepted; awready low at the limit
  /// Sustained bandwidth shared by R and W data beats (token bucket; a beat needs data_bytes
  /// tokens); <= 0 means unlimited.
  double bytes_per_cycle = 8.0;
  /// Token bucket capacity in bytes (how far a burst may run ahead of the sustained rate after
  /// idle time); 0 selects 32 * data_bytes. Otherwise at least 2 * data_bytes, so that an R and a
  /// W beat can both move in one cycle when the rate allows it.
  double bucket_bytes = 0.0;
};

class AxiMemory {
 public:
  /// Memory occupies [base, base + size), zero-filled. Throws std::invalid_argument on a bad
  /// configuration, an empty memory or a range that wraps around 2^64.
  AxiMemory(AxiMemoryConfig cfg, uint64_t base, size_t size);

  // Host-side access (no timing, no bus): throw std::out_of_range naming the address if any
  // byte of [addr, addr + n) lies outside the memory.
  void write(uint64_t addr, const void* src, size_t n);
  void read(uint64_t addr, void* dst, size_t n) const;
  uint8_t* data() { return mem_.data(); }
  const uint8_t* data() const { return mem_.data(); }
  size_t size() const { return mem_.size(); }
  uint64_t base() const { return base_; }
  const AxiMemoryConfig& config() const { return cfg_; }

  /// Error injection: any burst accepted from now on whose bytes touch [lo, hi) gets `resp`
  /// (kSlvErr or kDecErr) on every R beat (if `reads`) or in B (if `writes`; the write then
  /// leaves memory unchanged). The most recently injected matching range wins. Throws
  /// std::invalid_argument if lo >= hi or resp is not an error.
  void inject_error(uint64_t lo, uint64_t hi, AxiResp resp, bool reads, bool writes);
  void clear_errors();

  /// Current registered outputs. The reference stays valid; its contents change at tick().
  const AxiSlaveSignals& outputs() const { return out_; }
  /// Clock edge: performs the handshakes (valid && ready, valid from `in`, ready from
  /// outputs()), updates the state and computes the next outputs.
  void tick(const AxiMasterSignals& in);
  /// Drops all in-flight transactions and returns the outputs to their idle values. Memory
  /// contents, injected errors, the cycle counter, statistics and violations are kept.
  void reset();

  struct Stats {
    uint64_t cycles = 0;             ///< tick() calls
    uint64_t read_bursts = 0;        ///< AR handshakes
    uint64_t write_bursts = 0;       ///< AW handshakes
    uint64_t read_beats = 0;         ///< R handshakes
    uint64_t write_beats = 0;        ///< W handshakes
    uint64_t bytes_read = 0;         ///< active-lane bytes of accepted R beats that read memory
    uint64_t bytes_written = 0;      ///< bytes written to memory (strobed, active lanes)
    uint64_t read_busy_cycles = 0;   ///< cycles with a read outstanding or accepted
    uint64_t write_busy_cycles = 0;  ///< cycles with a write outstanding, accepted or buffered
  };
  const Stats& stats() const { return stats_; }
  /// Protocol violations seen, human-readable, each prefixed with its cycle number. At most
  /// kMaxViolations are kept; one final entry says how many more were dropped.
  const std::vector<std::string>& violations() const { return violations_; }
  /// Zeroes the statistics and forgets the recorded violations (the cycle counter continues).
  void clear_stats();

  /// Number of the cycle whose outputs outputs() holds: tick() calls since construction.
  uint64_t cycle() const { return cycle_; }
  /// AR accepted and not fully returned; AW accepted and B not yet accepted.
  size_t outstanding_reads() const { return reads_.size(); }
  size_t outstanding_writes() const { return writes_.size(); }

  static constexpr size_t kMaxViolations = 1000;
  /// W beats accepted before their AW (allowed by AXI) are buffered, up to this many.
  static constexpr size_t kMaxEarlyWBeats = 16;

 private:
  /// One accepted burst, read or write.
  struct Burst {
    uint64_t addr = 0;       ///< AxADDR as given
    uint32_t beats = 1;      ///< AxLEN + 1
    uint32_t bytes = 1;      ///< 2^AxSIZE
    uint8_t type = kAxiBurstIncr;
    uint32_t id = 0;
    bool geometry_ok = false;  ///< size and type are legal: beat addresses and lanes are defined
    AxiResp resp = AxiResp::kOkay;  ///< memory is accessed only when kOkay
    uint32_t done = 0;         ///< beats handed over (R handshakes, or W beats applied)
    uint64_t ready_cycle = 0;  ///< first cycle its R beats (reads) or B (writes) may be presented
  };
  struct WBeat {
    std::vector<uint8_t> data;
    uint64_t strb = 0;
    bool last = false;
  };
  struct ErrorRange {
    uint64_t lo, hi;
    AxiResp resp;
    bool reads, writes;
  };

  Burst accept_burst(bool is_read, uint64_t addr, uint8_t len, uint8_t size, uint8_t type,
                     uint32_t id);
  uint64_t beat_addr(const Burst& b, uint32_t i) const;
  void beat_lanes(const Burst& b, uint32_t i, uint32_t& lo, uint32_t& hi) const;
  bool in_range(uint64_t addr, uint64_t n) const;
  Burst* first_write_awaiting_data();
  void drain_early_w();
  void apply_write_beat(Burst& b, const WBeat& w);
  void present_read_beat();
  void check_stability(const AxiMasterSignals& in);
  void violation(const std::string& what);
  void idle_outputs();

  AxiMemoryConfig cfg_;
  uint64_t base_;
  std::vector<uint8_t> mem_;
  uint32_t max_size_log2_ = 0;  ///< log2(data_bytes): the widest legal AxSIZE
  double bucket_cap_ = 0.0;
  std::vector<ErrorRange> errors_;

  AxiSlaveSignals out_;
  std::deque<Burst> reads_;   ///< in acceptance order; the front one is being returned
  std::deque<Burst> writes_;  ///< in acceptance order; W data fills them front to back
  std::deque<WBeat> early_w_; ///< W beats waiting for their AW
  double tokens_ = 0.0;
  bool prefer_write_ = false;  ///< round-robin between R and W when tokens cover only one beat

  // The previous cycle, for the valid/payload stability checks.
  bool have_prev_ = false;
  AxiMasterSignals prev_in_;
  bool prev_arready_ = false, prev_awready_ = false, prev_wready_ = false;

  uint64_t cycle_ = 0;
  Stats stats_;
  std::vector<std::string> violations_;
  uint64_t violations_dropped_ = 0;
};

}  // namespace ks::emu
