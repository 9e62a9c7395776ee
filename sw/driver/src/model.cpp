// The golden-model backend (model.h): the register file of rtl/ctrl/ks_ctrl_regs.sv, the
// command processor of rtl/ctrl/ks_cmdproc.sv and the load, compute and store engines
// (rtl/engine/*.sv, with the burst rules of rtl/dma/*.sv) as functions instead of cycles.
// Comments name the RTL behaviour each part reproduces, because that is what the host must
// not be able to tell apart.
//
// Scheduling. The hardware runs the command processor and the three engines concurrently;
// here one loop interleaves them until nothing can progress:
//   1. every idle engine whose queue head has its tokens takes it (pops its tokens): in the
//      RTL an engine picks up a command the cycle after it becomes valid;
//   2. otherwise the command processor takes one step (fetch and check a descriptor,
//      dispatch it into its engine's queue (of the configuration's cmd_queue_depth), or pass a
//      NOP/COMPLETE fence);
//   3. otherwise the engine command that started first finishes, all at once (memory and
//      bank effects, token pushes, errors).
// For programs ordered by tokens and fences the result does not depend on this order at
// all (each engine runs in order, tokens are counters, queues have the hardware's depth,
// so deadlocks happen exactly where the hardware's happen). The order only decides races
// the hardware resolves by timing: which of two errors comes first, how far the command
// processor got (RING_HEAD) when an engine reported a bus error, and how much of an
// unrelated command in flight runs when another engine aborts -- here it runs to completion.
// Letting the command processor run ahead until it blocks matched the Verilated core more
// often, in random programs with bus errors, than running each command as soon as it is
// dispatched; neither can match it always (a descriptor fetch queues behind LOAD data on
// the shared read channel, so the outcome depends on transfer sizes and memory latency).
//
// Performance counters: DESC_EXECUTED, MACS, DMA_RD_BEATS, DMA_WR_BEATS, BYTES_READ and
// BYTES_WRITTEN count exactly what the RTL counts (descriptor fetches, error beats and
// completion writes included; BYTES_WRITTEN counts enabled bytes). CYCLES and every other
// counter measure cycles, which the model does not have: they read 0.
#include "kestrel/driver/model.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <deque>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "kestrel/descriptors.h"
#include "kestrel/golden/matrix_unit.h"
#include "kestrel/golden/vector_unit.h"
#include "kestrel/regs.h"

namespace ks::drv {

namespace {

using desc::Error;
using desc::Opcode;

constexpr uint32_t kPageBytes = 4096;   // AXI bursts never cross a 4 KiB boundary
constexpr uint32_t kIrqBits = 0x3;      // ks_ctrl_regs takes wdata[1:0] for IRQ_STATUS/IRQ_ENABLE
// One pass over the ring fetches at most 65536 descriptors (head only moves towards tail).
// More means head can never meet tail (RING_SIZE shrunk below RING_TAIL while disabled) and
// the hardware would fetch forever; the model stops there and reports itself busy.
constexpr uint32_t kMaxFetchesPerRun = 2 * 65536 + 2;

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

uint32_t ceil_div(uint32_t a, uint32_t b) { return (a + b - 1) / b; }

uint32_t load_le32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

void store_le32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

/// The engines that own a queue, in the order the RTL's exec-error priority lists them.
enum Eng : size_t { kLoadEng = 0, kComputeEng = 1, kStoreEng = 2, kVecEng = 3, kNumEngines = 4 };

/// LOAD and STORE share their field layout (docs/descriptors.md).
struct XferFields {
  uint32_t bank, sram, host, rows, bytes, hstride, sstride;
};

XferFields xfer_fields(const desc::Words& w) {
  return XferFields{desc::kLoadBank.get(w),     desc::kLoadSramAddr.get(w),   desc::kLoadHostAddr.get(w),
                    desc::kLoadRows.get(w),     desc::kLoadRowBytes.get(w),   desc::kLoadHostStride.get(w),
                    desc::kLoadSramStride.get(w)};
}

/// Result of a descriptor check: ERR_CODE and ERR_INFO (kNone when the check passes).
struct Check {
  Error code = Error::kNone;
  uint32_t info = 0;
};

class ModelDevice final : public Device {
 public:
  ModelDevice(const hw::HwConfig& cfg, const ModelOptions& opt)
      : cfg_(cfg), base_(opt.mem_base.value_or(cfg.default_mem_base)),
        mem_(opt.mem_size.value_or(cfg.default_mem_bytes), 0), vu_(cfg.vec_lanes, cfg.vec_rows, cfg.vec_prog_depth, cfg.vec_hist_rows) {
    // SRAM contents are not reset in the RTL; the emulated backend starts them at zero.
    banks_[static_cast<size_t>(desc::Bank::kWgt)].assign(cfg.wgt_bank_bytes, 0);
    banks_[static_cast<size_t>(desc::Bank::kAct)].assign(cfg.act_bank_bytes, 0);
    banks_[static_cast<size_t>(desc::Bank::kAcc)].assign(cfg.acc_bank_bytes, 0);
    banks_[static_cast<size_t>(desc::Bank::kKv)].assign(cfg.kv_bank_bytes, 0);
  }

  std::string_view backend() const override { return "model"; }
  const hw::HwConfig& config() const override { return cfg_; }
  uint64_t mem_base() const override { return base_; }
  size_t mem_size() const override { return mem_.size(); }
  uint64_t cycles() const override { return 0; }

  void mem_write(uint64_t addr, const void* src, size_t n) override {
    check_host_access("mem_write", addr, n);
    if (n != 0) std::memcpy(&mem_[addr - base_], src, n);
  }

  void mem_read(uint64_t addr, void* dst, size_t n) override {
    check_host_access("mem_read", addr, n);
    if (n != 0) std::memcpy(dst, &mem_[addr - base_], n);
  }

  /// Nothing runs between register accesses (the model is always quiescent), so the line
  /// is either high now or stays low.
  /// Between register accesses the model is quiescent, except that a DECODE runs one step
  /// per run(): waiting runs it on until the line is high or nothing moves.
  bool wait_irq(uint64_t /*timeout*/) override {
    while (!irq_line() && run()) {
    }
    return irq_line();
  }

  std::vector<StreamToken> read_tokens(uint64_t /*timeout*/) override {
    while (stream_.empty() && run()) {
    }
    std::vector<StreamToken> out(stream_.begin(), stream_.end());
    stream_.clear();
    return out;
  }

  uint32_t read32(uint32_t offset) override {
    if (dec_active_) run();  // a running DECODE advances a step per register access
    const uint32_t a = decode(offset);
    switch (a) {
      case regs::kId: return regs::kIdValueValue;
      case regs::kVersion:
        return regs::kVersionMajor.put(regs::kVersionMajorValue) | regs::kVersionMinor.put(regs::kVersionMinorValue);
      case regs::kHwArray:
        return regs::kHwArrayRows.put(cfg_.array_rows) | regs::kHwArrayCols.put(cfg_.array_cols) |
               regs::kHwArrayAxiBytes.put(cfg_.axi_data_bytes) | regs::kHwArrayAccDepthLog2.put(cfg_.acc_addr_bits);
      case regs::kHwVec:  // all zero without the vector unit
        return regs::kHwVecLanes.put(cfg_.vec_lanes) | regs::kHwVecRows.put(cfg_.vec_rows) |
               regs::kHwVecProgLog2.put(cfg_.vec_prog_depth ? static_cast<uint32_t>(__builtin_ctz(cfg_.vec_prog_depth)) : 0);
      case regs::kHwPerf: return regs::kHwPerfCounterBits.put(cfg_.perf_counter_bits);
      case regs::kDecStatus: return regs::kDecStatusRunning.put(dec_active_) | regs::kDecStatusReason.put(dec_reason_);
      case regs::kDecPos: return dec_pos_;
      case regs::kDecTokens: return dec_tokens_;
      case regs::kDecLastToken: return dec_last_;
      case regs::kDecPc: return dec_pc_;
      case regs::kHwVecHist: return regs::kHwVecHistRows.put(cfg_.vec_hist_rows);
      case regs::kHwWgtBytes: return cfg_.wgt_bank_bytes;
      case regs::kHwActBytes: return cfg_.act_bank_bytes;
      case regs::kHwAccBytes: return cfg_.acc_bank_bytes;
      case regs::kHwKvBytes: return cfg_.kv_bank_bytes;
      case regs::kCtrl: return regs::kCtrlEnable.put(enable_);  // QUEUE_RESET is w1p: reads 0
      case regs::kStatus:
        // RESETTING is never seen: a queue reset completes within the write that starts it.
        return regs::kStatusBusy.put(busy()) | regs::kStatusHalted.put(halted_) |
               regs::kStatusEnabled.put(enable_);
      case regs::kErrCode: return static_cast<uint32_t>(err_code_);
      case regs::kErrIndex: return err_index_;
      case regs::kErrInfo: return err_info_;
      case regs::kIrqStatus: return irq_status_;
      case regs::kIrqEnable: return irq_enable_;
      case regs::kRingBase: return ring_base_;
      case regs::kRingSize: return ring_size_;
      case regs::kRingHead: return head_;
      case regs::kRingTail: return tail_;
      case regs::kWinBase: return win_base_;
      case regs::kWinSize: return win_size_;
      case regs::kCompletions: return completions_;
      case regs::kLastSeq: return last_seq_;
      case regs::kPerfCtrl: return regs::kPerfCtrlFreeze.put(freeze_);  // CLEAR is w1p: reads 0
      default: break;
    }
    if (a >= regs::kCounterBase && a - regs::kCounterBase < 8 * regs::kNumCounters) {
      const uint64_t value = counters_[(a - regs::kCounterBase) / 8];
      // 32-bit counters (HW_PERF) wrap, and their _HI words read 0: there is no latch.
      if (cfg_.perf_counter_bits == 32) return ((a - regs::kCounterBase) & 4) != 0 ? 0 : static_cast<uint32_t>(value);
      if (((a - regs::kCounterBase) & 4) != 0) {
        // _HI returns the one shadow register the last _LO read loaded, whichever counter
        // that was (ks_ctrl_regs hi_shadow_q).
        return hi_shadow_;
      }
      hi_shadow_ = static_cast<uint32_t>(value >> 32);
      return static_cast<uint32_t>(value);
    }
    throw BusError("register read at offset " + hex(offset) + " answered SLVERR", offset);
  }

  void write32(uint32_t offset, uint32_t value) override {
    const uint32_t a = decode(offset);
    bool enable_write = false, queue_reset = false, tail_write = false;
    switch (a) {
      case regs::kCtrl:
        // Any CTRL write sets ENABLE to the written bit; the command processor sees "written
        // with ENABLE = 1" (checks or resume) and QUEUE_RESET as events.
        enable_ = regs::kCtrlEnable.get(value) != 0;
        enable_write = enable_;
        queue_reset = regs::kCtrlQueueReset.get(value) != 0;
        if (regs::kCtrlAbort.get(value) != 0 && dec_active_) dec_abort_ = true;
        break;
      case regs::kIrqStatus: irq_status_ &= ~(value & kIrqBits); break;
      case regs::kIrqEnable: irq_enable_ = value & kIrqBits; break;
      case regs::kRingBase:
      case regs::kRingSize:
        // The ring's geometry is frozen while the queue is enabled: SLVERR, no effect.
        if (enable_) slverr(offset);
        if (a == regs::kRingBase) {
          ring_base_ = sat_space(value);
        } else {
          ring_size_ = std::min<uint32_t>(value, 1u << 17);
        }
        break;
      case regs::kRingTail: tail_write = true; break;
      case regs::kWinBase: win_base_ = sat_space(value); break;
      case regs::kWinSize: win_size_ = sat_space(value); break;
      case regs::kPerfCtrl:
        freeze_ = regs::kPerfCtrlFreeze.get(value) != 0;  // FREEZE is rw: every write sets it
        if (regs::kPerfCtrlClear.get(value) != 0) counters_.fill(0);
        break;
      default: slverr(offset);  // unmapped, or a read-only register
    }

    // ks_cmdproc's error latch for events from the registers. The first error sticks: while
    // halted a bad doorbell is ignored silently and ENABLE = 1 means "resume".
    if (!halted_) {
      if (tail_write && value >= ring_size_) {
        halt(Error::kDoorbellRange, value, head_);
      } else if (enable_write) {
        if (const auto bad = ring_bad()) halt(Error::kRingConfig, *bad, head_);
      }
    } else if (enable_write && state_ == Cp::kIdle && !exec_error_) {
      // Resume, if the ring is still sound; a bad ring is reported (and interrupts) anew.
      // After an execution error the queued work is gone and only QUEUE_RESET recovers.
      if (const auto bad = ring_bad()) {
        halt(Error::kRingConfig, *bad, head_);
      } else {
        halted_ = false;
        err_code_ = Error::kNone;
        err_info_ = 0;
        err_index_ = 0;
      }
    }
    // A doorbell in range is taken even while halted or disabled, modulo the index register's
    // size (ks_cmdproc IdxW: 16 bits, or addr_bits - 5 when that is fewer; a ring of more
    // entries does not fit the address space and is refused anyway).
    if (tail_write && value < ring_size_) tail_ = static_cast<uint16_t>(value & idx_mask());
    if (queue_reset) reset_queue();
    run();
  }

  void inject_error(uint64_t lo, uint64_t hi, bool reads, bool writes) {
    if (lo >= hi) {
      throw std::invalid_argument("model_inject_error: empty range [" + hex(lo) + ", " + hex(hi) + ")");
    }
    errors_.push_back(ErrorRange{lo, hi, reads, writes});
  }

  void clear_errors() { errors_.clear(); }

  /// model_error_detail: the detail this model records for ctx.code, from the registers and
  /// the descriptor the host knows.
  std::optional<uint32_t> error_detail(const ErrorContext& ctx) {
    ring_base_ = ctx.ring_base;
    ring_size_ = ctx.ring_size;
    head_ = static_cast<uint16_t>(ctx.ring_head);
    tail_ = static_cast<uint16_t>(ctx.ring_tail);
    win_base_ = ctx.win_base;
    win_size_ = ctx.win_size;
    switch (ctx.code) {
      case Error::kRingConfig: return ring_bad();
      case Error::kFetchBusError: return ring_base_ + (ctx.index << 5);
      case Error::kTokenOverflow: return 0u;
      case Error::kWriteBusError:  // a COMPLETE's write has one address; a STORE's failing burst is not known
        if (ctx.descriptor && desc::kOpcode.get(*ctx.descriptor) == static_cast<uint32_t>(Opcode::kComplete)) {
          return desc::kCompleteHostAddr.get(*ctx.descriptor);
        }
        return std::nullopt;
      case Error::kNone:
      case Error::kDoorbellRange:  // the value written to RING_TAIL
      case Error::kReadBusError:   // the failing burst is not known
        return std::nullopt;
      default: break;
    }
    // A check's error: the checks again, on the descriptor as the host wrote it (a build
    // that leaves the detail out has no DECODE, so nothing was patched).
    if (!ctx.descriptor) return std::nullopt;
    Check c = check_fields(*ctx.descriptor);
    if (c.code == Error::kNone) c = check_range(*ctx.descriptor);
    if (c.code != ctx.code) return std::nullopt;
    return c.info;
  }

 private:
  enum class Cp { kIdle, kDispatch, kFence };  // the command processor's resting states

  struct ErrorRange {
    uint64_t lo, hi;
    bool reads, writes;
  };

  /// An engine command: the descriptor, the ring index it came from (for ERR_INDEX) and, for
  /// a VRUN, the DECODE pos it runs with (0 outside a DECODE).
  struct Command {
    uint16_t index;
    desc::Words w;
    uint32_t pos = 0;
  };

  struct Engine {
    std::deque<Command> queue;       ///< dispatched, waiting (at most cmd_queue_depth)
    std::optional<Command> current;  ///< taken by the engine, not yet finished
    uint64_t started = 0;            ///< start order: the oldest command finishes first
  };

  // ---- registers and host access ------------------------------------------------------------

  /// The AXI4-Lite slave decodes the low 12 address bits as a word address.
  static uint32_t decode(uint32_t offset) { return offset & (regs::kMapBytes - 1) & ~3u; }

  [[noreturn]] static void slverr(uint32_t offset) {
    throw BusError("register write at offset " + hex(offset) + " answered SLVERR", offset);
  }

  void check_host_access(const char* what, uint64_t addr, size_t n) const {
    if (addr < base_ || addr - base_ > mem_.size() || n > mem_.size() - (addr - base_)) {
      throw std::out_of_range(std::string("model device ") + what + ": [" + hex(addr) + ", +" + hex(n) +
                              ") outside device memory [" + hex(base_) + ", +" + hex(mem_.size()) + ")");
    }
  }

  bool irq_line() const { return (irq_status_ & irq_enable_) != 0; }

  bool engines_idle() const {
    for (const Engine& e : engines_) {
      if (e.current || !e.queue.empty()) return false;
    }
    return true;
  }

  /// Busy also while descriptors are pending (enabled, not halted, head != tail).
  bool busy() const {
    return state_ != Cp::kIdle || !engines_idle() || spinning_ || dec_active_ || (enable_ && !halted_ && head_ != tail_);
  }

  void count(regs::Counter c, uint64_t n) {
    // Counters the build does not have (perf_counters) stay 0.
    if (!freeze_ && (cfg_.perf_counter_mask >> static_cast<uint32_t>(c) & 1u) != 0) counters_[static_cast<size_t>(c)] += n;
  }

  /// ks_ctrl_regs: RING_BASE, WIN_BASE and WIN_SIZE keep a value past the core's address
  /// space as its end, 2^addr_bits (RING_SIZE: a value of 2^17 or more as 2^17). The ring
  /// and range checks decide as on the value written; a doorbell of 2^17 or more is always
  /// out of range.
  uint32_t sat_space(uint32_t v) const {
    return cfg_.addr_bits < 32 ? static_cast<uint32_t>(std::min<uint64_t>(v, uint64_t{1} << cfg_.addr_bits)) : v;
  }

  /// The ring index registers' bits: 16, or addr_bits - 5 when that is fewer.
  uint32_t idx_mask() const { return (1u << std::min(16u, cfg_.addr_bits - 5u)) - 1u; }

  /// The window's end: WIN_BASE + WIN_SIZE, or the end of the core's address space (2^addr_bits).
  uint64_t win_end() const {
    return std::min<uint64_t>(uint64_t{win_base_} + win_size_, uint64_t{1} << cfg_.addr_bits);
  }

  /// ks_cmdproc ring_ok / ring_bad: the offending value, or nothing when the ring is sound.
  std::optional<uint32_t> ring_bad() const {
    const uint32_t s = ring_size_;
    if (s < 2 || s > 65536 || (s & (s - 1)) != 0 || head_ >= s || tail_ >= s) return s;
    if ((ring_base_ & 31) != 0 || ring_base_ < win_base_ || uint64_t{ring_base_} + uint64_t{s} * 32 > win_end()) {
      return ring_base_;
    }
    return std::nullopt;
  }

  // ---- errors -------------------------------------------------------------------------------

  void halt(Error code, uint32_t info, uint32_t index) {
    dec_active_ = false;  // an error ends a DECODE (resuming runs it again from the start)
    halted_ = true;
    err_code_ = code;
    err_info_ = cfg_.err_info_detail != 0 ? info : 0;  // without err_info_detail, ERR_INFO reads 0
    err_index_ = index;
    irq_status_ |= regs::kIrqStatusError.mask();
  }

  /// An error found by the command processor itself (checks, fetch, completion write).
  void raise(Error code, uint32_t info, uint32_t index) {
    if (!halted_) halt(code, info, index);
  }

  /// An error reported by an engine (bus error, token overflow): aborts the engines -- the
  /// queued and running work is dropped, pushing no tokens -- even when the queue had already
  /// halted on something else; it is recorded only if it is the first error. Only
  /// QUEUE_RESET recovers from it.
  void exec_error(Error code, uint32_t info, uint32_t index) {
    exec_error_ = true;
    if (!halted_) halt(code, info, index);
    for (Engine& e : engines_) {
      e.queue.clear();
      e.current.reset();
    }
  }

  /// CTRL.QUEUE_RESET: drop all work, zero the queue state and the tokens, clear ENABLE.
  /// Nothing is ever in flight between register accesses, so the drain is immediate.
  void reset_queue() {
    for (Engine& e : engines_) {
      e.queue.clear();
      e.current.reset();
    }
    l2c_ = c2l_ = c2s_ = s2c_ = l2v_ = v2l_ = 0;
    state_ = Cp::kIdle;
    head_ = tail_ = 0;
    halted_ = false;
    err_code_ = Error::kNone;
    err_index_ = err_info_ = 0;
    completions_ = last_seq_ = 0;
    enable_ = false;
    dec_active_ = dec_abort_ = false;
    spinning_ = false;
    exec_error_ = false;
  }

  // ---- memory as the core's AXI master sees it ---------------------------------------------

  /// Whether a burst of n bytes at addr gets an error response: DECERR unless the whole
  /// burst lies in device memory (as emu::AxiMemory answers), or an injected range touches it.
  bool bus_error(uint32_t addr, uint32_t n, bool write) const {
    const uint64_t lo = addr;
    if (lo < base_ || lo - base_ > mem_.size() || n > mem_.size() - (lo - base_)) return true;
    for (const ErrorRange& e : errors_) {
      if ((write ? e.writes : e.reads) && lo < e.hi && e.lo < lo + n) return true;
    }
    return false;
  }

  uint8_t* mem_at(uint32_t addr) { return &mem_[addr - base_]; }

  /// Cuts a request of `beats` full-width beats at `addr` into the DMA's INCR bursts
  /// (ks_dma_rd / ks_dma_wr): at most max_burst_beats, never across a 4 KiB boundary. The
  /// DMA's addresses are 32 bits wide and wrap.
  template <class Fn>
  void for_each_burst(uint32_t addr, uint32_t beats, Fn&& fn) const {
    const uint32_t axi = cfg_.axi_data_bytes;
    while (beats != 0) {
      uint32_t n = std::min(beats, cfg_.max_burst_beats);
      n = std::min(n, (kPageBytes - (addr & (kPageBytes - 1))) / axi);
      fn(addr, n);
      addr += n * axi;
      beats -= n;
    }
  }

  uint32_t bank_bytes(uint32_t bank) const {
    if (bank < desc::kNumBanks && !cfg_.vector_unit && desc::needs_vector_unit(static_cast<desc::Bank>(bank))) return 0;
    if (bank == static_cast<uint32_t>(desc::Bank::kVec)) return static_cast<uint32_t>(4 * vu_.elements());
    if (bank == static_cast<uint32_t>(desc::Bank::kVprog)) return static_cast<uint32_t>(16 * vu_.prog_entries());
    if (bank == static_cast<uint32_t>(desc::Bank::kHist)) {
      return static_cast<uint32_t>(4 * vu_.lanes() * vu_.hist_rows());
    }
    return bank < desc::kNumBanks ? static_cast<uint32_t>(banks_[bank].size()) : 0;
  }

  /// n bytes of a bank at a byte offset. The command processor's range checks guarantee
  /// every access is inside; a violation here is a bug in the model.
  uint8_t* bank_span(desc::Bank bank, uint64_t offset, uint64_t n) {
    if (bank == desc::Bank::kVec) {  // the vector memory, element e at byte 4e (little-endian host)
      if (offset > 4 * vu_.elements() || n > 4 * vu_.elements() - offset) {
        throw std::logic_error("model device: access of " + std::to_string(n) + " bytes at " + hex(offset) +
                               " outside bank VEC");
      }
      return reinterpret_cast<uint8_t*>(&vu_.flat(0)) + offset;
    }
    if (bank == desc::Bank::kVprog) {  // the program memory, entry i at byte 16 i
      if (offset > 16 * vu_.prog_entries() || n > 16 * vu_.prog_entries() - offset) {
        throw std::logic_error("model device: access of " + std::to_string(n) + " bytes at " + hex(offset) +
                               " outside bank VPROG");
      }
      return vu_.prog_bytes() + offset;
    }
    if (bank == desc::Bank::kHist) {  // the history memory, element e at byte 4e
      const uint64_t size = 4 * vu_.lanes() * vu_.hist_rows();
      if (offset > size || n > size - offset) {
        throw std::logic_error("model device: access of " + std::to_string(n) + " bytes at " + hex(offset) +
                               " outside bank HIST");
      }
      return vu_.hist_bytes() + offset;
    }
    std::vector<uint8_t>& b = banks_[static_cast<size_t>(bank)];
    if (offset > b.size() || n > b.size() - offset) {
      throw std::logic_error("model device: access of " + std::to_string(n) + " bytes at " + hex(offset) +
                             " outside bank " + std::string(desc::name(bank)));
    }
    return b.data() + offset;
  }

  // ---- descriptor checks (ks_cmdproc stage 1 and stage 2, in their priority order) -----------

  Check check_fields(const desc::Words& w) const {
    const uint32_t op = desc::kOpcode.get(w);
    if (!desc::is_opcode(op)) return {Error::kBadOpcode, op};
    if (dec_active_ && op == static_cast<uint32_t>(Opcode::kDecode)) return {Error::kBadOpcode, op};
    const auto opc = static_cast<Opcode>(op);
    // A build without the vector unit has neither its opcodes nor its banks.
    if (!cfg_.vector_unit && desc::needs_vector_unit(opc)) return {Error::kUnsupported, op};
    const desc::Words reserved = desc::reserved_mask(opc);
    for (uint32_t i = 0; i < desc::kWords; ++i) {
      if ((w[i] & reserved[i]) != 0) return {Error::kReservedBits, i};  // the lowest such word
    }
    const uint32_t deps =
        w[0] & (desc::kPopPrev.mask() | desc::kPopNext.mask() | desc::kPushPrev.mask() | desc::kPushNext.mask());
    if ((deps & ~desc::allowed_dep_mask(desc::engine_of(opc))) != 0) return {Error::kBadDependency, w[0]};
    // A LOAD's tokens with the vector engine, in a build without one.
    if (!cfg_.vector_unit && opc == Opcode::kLoad && (desc::kLoadPushVec.get(w) || desc::kLoadPopVec.get(w))) {
      return {Error::kBadDependency, w[0]};
    }

    const uint32_t lane = cfg_.axi_data_bytes - 1;
    switch (opc) {
      case Opcode::kLoad:
      case Opcode::kStore: {
        const XferFields x = xfer_fields(w);
        // LOAD writes WGT, ACT and KV; STORE reads ACC and KV.
        const bool load = opc == Opcode::kLoad;
        if (!cfg_.vector_unit && x.bank < desc::kNumBanks && desc::needs_vector_unit(static_cast<desc::Bank>(x.bank))) {
          return {Error::kUnsupported, x.bank};
        }
        bool bank_ok = false;
        switch (x.bank) {
          case static_cast<uint32_t>(desc::Bank::kWgt):
          case static_cast<uint32_t>(desc::Bank::kAct): bank_ok = load; break;
          case static_cast<uint32_t>(desc::Bank::kAcc): bank_ok = !load; break;
          case static_cast<uint32_t>(desc::Bank::kKv):
          case static_cast<uint32_t>(desc::Bank::kVec): bank_ok = true; break;
          case static_cast<uint32_t>(desc::Bank::kVprog):
          case static_cast<uint32_t>(desc::Bank::kHist): bank_ok = load; break;
          default: break;
        }
        if (!bank_ok) return {Error::kBadBank, x.bank};
        if (x.rows == 0 || x.bytes == 0) return {Error::kZeroSize, 0};
        for (uint32_t v : {x.host, x.hstride, x.sram, x.sstride, x.bytes}) {
          if ((v & lane) != 0) return {Error::kMisaligned, v};
        }
        break;
      }
      case Opcode::kMatmul: {
        if (desc::kMatmulM.get(w) == 0 || desc::kMatmulK.get(w) == 0 || desc::kMatmulN.get(w) == 0) {
          return {Error::kZeroSize, 0};
        }
        const uint32_t wgt = desc::kMatmulWgtAddr.get(w), act = desc::kMatmulActAddr.get(w),
                       acc = desc::kMatmulAccAddr.get(w);
        if (wgt % cfg_.wgt_word_bytes != 0) return {Error::kMisaligned, wgt};
        if (act % cfg_.act_word_bytes != 0) return {Error::kMisaligned, act};
        if (acc % cfg_.acc_word_bytes != 0) return {Error::kMisaligned, acc};
        break;
      }
      case Opcode::kComplete: {
        const uint32_t host = desc::kCompleteHostAddr.get(w);
        if ((host & 3) != 0) return {Error::kMisaligned, host};
        break;
      }
      case Opcode::kVmove: {
        const uint32_t dir = desc::kVmoveDir.get(w), count = desc::kVmoveCount.get(w);
        const uint32_t groups = desc::kVmoveGroups.get(w), bank = desc::kVmoveBankAddr.get(w);
        if (dir > 1) return {Error::kBadVector, w[1]};
        if (count == 0 || (dir == 0 && groups == 0)) return {Error::kZeroSize, 0};
        if (bank % (dir == 0 ? cfg_.acc_word_bytes : cfg_.act_word_bytes) != 0) return {Error::kMisaligned, bank};
        if (dir == 0 && count % groups != 0) return {Error::kMisaligned, count};
        break;
      }
      case Opcode::kDecode: {
        if (desc::kDecodeProgLen.get(w) == 0 || desc::kDecodePromptLen.get(w) == 0 || desc::kDecodeSteps.get(w) == 0 ||
            desc::kDecodeSeqLen.get(w) == 0) {
          return {Error::kZeroSize, 0};
        }
        if ((desc::kDecodeProgAddr.get(w) & 31) != 0) return {Error::kMisaligned, desc::kDecodeProgAddr.get(w)};
        if ((desc::kDecodePromptAddr.get(w) & 3) != 0) return {Error::kMisaligned, desc::kDecodePromptAddr.get(w)};
        break;
      }
      case Opcode::kVrun:
        if (desc::kVrunCount.get(w) == 0) return {Error::kZeroSize, 0};
        break;
      case Opcode::kVec:
      case Opcode::kNop: break;
    }
    return {};
  }

  /// The VEC instruction of a descriptor (LEN as patched).
  static golden::VecInstr vec_instr(const desc::Words& w) {
    golden::VecInstr in;
    in.kind = static_cast<golden::VecKind>(desc::kVecKind.get(w));
    in.op = static_cast<golden::kfp::AluOp>(desc::kVecOp.get(w));
    in.swap_b = desc::kVecSwapB.get(w) != 0;
    in.b_imm = desc::kVecBImm.get(w) != 0;
    in.hist_a = desc::kVecHistA.get(w) != 0;
    in.dst = static_cast<uint16_t>(desc::kVecDst.get(w));
    in.a = static_cast<uint16_t>(desc::kVecA.get(w));
    in.b = static_cast<uint16_t>(desc::kVecB.get(w));
    in.len = static_cast<uint16_t>(desc::kVecLen.get(w));
    in.imm = desc::kVecImm.get(w);
    return in;
  }

  /// Applies POS_ADDR, TOKEN_ADDR, POS_ROWS and POS_LEN with the step's pos and token (0 and 0
  /// outside a DECODE). A result that does not fit its field is an error.
  Check patch(desc::Words& w) const {
    const uint32_t op = desc::kOpcode.get(w);
    const uint64_t pos = dec_active_ ? dec_pos_ : 0, token = dec_active_ ? dec_token_ : 0;
    if (op == static_cast<uint32_t>(Opcode::kLoad) || op == static_cast<uint32_t>(Opcode::kStore)) {
      uint64_t host = desc::kLoadHostAddr.get(w);
      const uint64_t bytes = desc::kLoadRowBytes.get(w);
      if (desc::kLoadPosAddr.get(w)) host += pos * bytes;
      if (desc::kLoadTokenAddr.get(w)) host += token * bytes;
      if (host > 0xFFFFFFFFull) return {Error::kHostRange, static_cast<uint32_t>(host)};
      desc::kLoadHostAddr.set(w, static_cast<uint32_t>(host));
      if (desc::kLoadPosRows.get(w)) {
        const uint64_t rows = desc::kLoadRows.get(w) + pos;
        if (rows > 0xFFFF) return {Error::kSramRange, desc::kLoadSramAddr.get(w)};
        desc::kLoadRows.set(w, static_cast<uint32_t>(rows));
      }
    } else if (op == static_cast<uint32_t>(Opcode::kVec) && desc::kVecPosLen.get(w)) {
      const uint64_t len = desc::kVecLen.get(w) + pos;
      if (len > 0xFFFF) return {Error::kBadVector, w[1]};
      desc::kVecLen.set(w, static_cast<uint32_t>(len));
    }
    return {};
  }

  /// Extents, computed in 64 bits as the RTL's registered products are.
  Check check_range(const desc::Words& w) const {
    const auto opc = static_cast<Opcode>(desc::kOpcode.get(w));
    switch (opc) {
      case Opcode::kLoad:
      case Opcode::kStore:
      case Opcode::kComplete: {
        const bool cpl = opc == Opcode::kComplete;
        const XferFields x = xfer_fields(w);
        const uint32_t start = cpl ? desc::kCompleteHostAddr.get(w) : x.host;
        const uint64_t host_end = cpl ? uint64_t{start} + 4
                                      : uint64_t{x.host} + uint64_t{x.rows - 1} * x.hstride + x.bytes;
        if (start < win_base_ || host_end > win_end()) return {Error::kHostRange, start};
        if (!cpl && uint64_t{x.sram} + uint64_t{x.rows - 1} * x.sstride + x.bytes > bank_bytes(x.bank)) {
          return {Error::kSramRange, x.sram};
        }
        break;
      }
      case Opcode::kMatmul: {
        const MatmulShape s = matmul_shape(w);
        const uint32_t wgt = desc::kMatmulWgtAddr.get(w), act = desc::kMatmulActAddr.get(w),
                       acc = desc::kMatmulAccAddr.get(w);
        if (uint64_t{wgt / cfg_.wgt_word_bytes} + uint64_t{s.nb} * s.kc > cfg_.wgt_bank_bytes / cfg_.wgt_word_bytes) {
          return {Error::kSramRange, wgt};
        }
        if (uint64_t{act / cfg_.act_word_bytes} + uint64_t{s.m} * s.kx > cfg_.act_bank_bytes / cfg_.act_word_bytes) {
          return {Error::kSramRange, act};
        }
        if (uint64_t{acc / cfg_.acc_word_bytes} + uint64_t{s.m} * s.nb * s.groups >
            cfg_.acc_bank_bytes / cfg_.acc_word_bytes) {
          return {Error::kSramRange, acc};
        }
        break;
      }
      case Opcode::kVec:
        if (!vu_.check(vec_instr(w)).empty()) return {Error::kBadVector, w[1]};
        break;
      case Opcode::kVrun:
        if (uint64_t{desc::kVrunStart.get(w)} + desc::kVrunCount.get(w) > vu_.prog_entries()) {
          return {Error::kSramRange, desc::kVrunStart.get(w)};
        }
        break;
      case Opcode::kVmove: {
        const uint32_t dir = desc::kVmoveDir.get(w), count = desc::kVmoveCount.get(w);
        const uint32_t groups = desc::kVmoveGroups.get(w), bank = desc::kVmoveBankAddr.get(w);
        const uint64_t elem = desc::kVmoveVecElem.get(w), gstride = desc::kVmoveGstride.get(w);
        uint64_t last = 0;
        if (dir == 0) {
          if (uint64_t{bank / cfg_.acc_word_bytes} + count > cfg_.acc_bank_bytes / cfg_.acc_word_bytes) {
            return {Error::kSramRange, bank};
          }
          last = elem + uint64_t{groups - 1} * gstride + uint64_t{count / groups} * cfg_.array_rows;
        } else {
          if (uint64_t{bank} + uint64_t{ceil_div(count, cfg_.act_word_bytes)} * cfg_.act_word_bytes >
              cfg_.act_bank_bytes) {
            return {Error::kSramRange, bank};
          }
          last = elem + count;
        }
        if (last > vu_.elements()) return {Error::kBadVector, w[1]};
        break;
      }
      case Opcode::kDecode: {
        const uint32_t prog = desc::kDecodeProgAddr.get(w), prompt = desc::kDecodePromptAddr.get(w);
        if (prog < win_base_ || uint64_t{prog} + uint64_t{desc::kDecodeProgLen.get(w)} * desc::kBytes > win_end()) {
          return {Error::kHostRange, prog};
        }
        if (prompt < win_base_ || uint64_t{prompt} + uint64_t{desc::kDecodePromptLen.get(w)} * 4 > win_end()) {
          return {Error::kHostRange, prompt};
        }
        if (desc::kDecodeStartPos.get(w) >= desc::kDecodeSeqLen.get(w)) {
          return {Error::kDecodeRange, desc::kDecodeStartPos.get(w)};
        }
        break;
      }
      case Opcode::kNop: break;
    }
    return {};
  }

  /// A MATMUL's loop bounds (ks_cmdproc m_nb, m_kc, m_kx).
  struct MatmulShape {
    bool int4;
    uint32_t m, k, n, nb, kc, kx;
    uint32_t cpg, groups;  ///< chunks per partial-sum group, groups per output (GROUP field)
  };

  MatmulShape matmul_shape(const desc::Words& w) const {
    MatmulShape s{};
    s.int4 = desc::kMatmulInt4.get(w) != 0;
    s.m = desc::kMatmulM.get(w);
    s.k = desc::kMatmulK.get(w);
    s.n = desc::kMatmulN.get(w);
    s.nb = ceil_div(s.n, cfg_.array_rows);
    s.kc = ceil_div(s.k, s.int4 ? 2 * cfg_.array_cols : cfg_.array_cols);
    s.kx = ceil_div(s.k, 2 * cfg_.array_cols);
    const uint32_t g = desc::kMatmulGroup.get(w);
    s.cpg = g == 0 ? s.kc : 1u << (g - 1);
    s.groups = g == 0 ? 1 : ceil_div(s.kc, s.cpg);
    return s;
  }

  // ---- the command processor ---------------------------------------------------------------

  static Eng engine_for(Opcode op) {
    switch (desc::engine_of(op)) {
      case desc::Engine::kLoad: return kLoadEng;
      case desc::Engine::kCompute: return kComputeEng;
      case desc::Engine::kStore: return kStoreEng;
      case desc::Engine::kVector: return kVecEng;
      case desc::Engine::kQueue: break;
    }
    throw std::logic_error("model device: opcode without an engine queue");
  }

  /// RING_HEAD wraps below RING_SIZE's lowest set bit among [15:0] (all 16 bits if none is):
  /// RING_SIZE - 1 for the powers of two a ring runs with (ks_cmdproc size_mask).
  void advance() {
    const uint32_t low = ring_size_ & 0xFFFFu;
    const uint32_t mask = low == 0 ? 0xFFFFu : (low & (~low + 1u)) - 1u;
    head_ = static_cast<uint16_t>((head_ + 1u) & mask);
  }

  /// SFetch .. SRange: reads the descriptor at RING_HEAD and checks it; leaves it in hand
  /// (state kDispatch or kFence) or halts with RING_HEAD on it.
  void fetch_and_check() {
    const uint32_t axi = cfg_.axi_data_bytes;
    // Inside a DECODE the step program is fetched instead of the ring; errors name the
    // DECODE's ring index (RING_HEAD stays on it) and DEC_PC the program's descriptor.
    const uint32_t addr = dec_active_ ? dec_prog_ + (dec_pc_ << 5) : ring_base_ + (uint32_t{head_} << 5);
    desc::Words w{};
    // ks_cmdproc's step-program cache: a DECODE's first step fills it, the later ones read it
    // (no memory access).
    const bool cached = dec_active_ && dec_step_ != 0 && dec_prog_len_ <= cfg_.dec_prog_cache;
    if (cached) {
      w = dcache_.at(dec_pc_);
    } else {
      std::array<uint8_t, desc::kBytes> raw{};
      bool bad = false;
      uint32_t off = 0;
      for_each_burst(addr, desc::kBytes / axi, [&](uint32_t a, uint32_t beats) {
        const uint32_t n = beats * axi;
        count(regs::Counter::kDmaRdBeats, beats);
        count(regs::Counter::kBytesRead, n);
        if (bus_error(a, n, false)) {
          bad = true;
        } else {
          std::memcpy(raw.data() + off, mem_at(a), n);
        }
        off += n;
      });
      if (bad) {
        raise(Error::kFetchBusError, addr, head_);
        return;
      }
      for (uint32_t i = 0; i < desc::kWords; ++i) w[i] = load_le32(&raw[4 * i]);
      if (dec_active_ && dec_step_ == 0 && dec_pc_ < cfg_.dec_prog_cache) {
        if (dcache_.size() < cfg_.dec_prog_cache) dcache_.resize(cfg_.dec_prog_cache);
        dcache_[dec_pc_] = w;  // before the patch
      }
    }
    Check c;
    if (desc::is_opcode(desc::kOpcode.get(w))) c = patch(w);
    if (c.code == Error::kNone) c = check_fields(w);
    if (c.code == Error::kNone) c = check_range(w);
    if (c.code != Error::kNone) {
      raise(c.code, c.info, head_);
      return;
    }
    in_hand_ = w;
    const auto op = static_cast<Opcode>(desc::kOpcode.get(w));
    state_ = (op == Opcode::kNop || op == Opcode::kComplete || op == Opcode::kVmove || op == Opcode::kDecode)
                 ? Cp::kFence
                 : Cp::kDispatch;
  }

  /// The descriptor in hand is done with: the next one of the step program, or of the ring.
  void consume() {
    if (dec_active_) {
      ++dec_pc_;
    } else {
      advance();
    }
  }

  /// Banks VEC and VPROG belong to the vector unit: their transfers are ordered with VEC and VRUN.
  static bool vector_bank(const desc::Words& w) {
    const uint32_t b = desc::kLoadBank.get(w);
    return b == static_cast<uint32_t>(desc::Bank::kVec) || b == static_cast<uint32_t>(desc::Bank::kVprog);
  }

  /// Whether a LOAD or STORE of bank VEC or VPROG is queued or running in the load or store engine.
  bool vec_xfer_pending() const {
    for (Eng e : {kLoadEng, kStoreEng}) {
      const Engine& en = engines_[e];
      if (en.current && vector_bank(en.current->w)) return true;
      for (const Command& c : en.queue) {
        if (vector_bank(c.w)) return true;
      }
    }
    return false;
  }

  /// VMOVE waits for the vector, compute and store engines and for LOADs of ACT, VEC and
  /// VPROG; LOADs of WGT, KV and HIST may go on (ks_cmdproc vmove_free).
  bool vmove_free() const {
    for (Eng e : {kVecEng, kComputeEng, kStoreEng}) {
      if (engines_[e].current || !engines_[e].queue.empty()) return false;
    }
    auto blocks = [](const desc::Words& w) {
      const uint32_t b = desc::kLoadBank.get(w);
      return b == static_cast<uint32_t>(desc::Bank::kAct) || vector_bank(w);
    };
    const Engine& ld = engines_[kLoadEng];
    if (ld.current && blocks(ld.current->w)) return false;
    for (const Command& c : ld.queue) {
      if (blocks(c.w)) return false;
    }
    return true;
  }

  /// VMOVE, at its fence (ks_cmdproc / the vector unit's move port).
  void exec_vmove(const desc::Words& w) {
    const uint32_t dir = desc::kVmoveDir.get(w), count = desc::kVmoveCount.get(w);
    const uint32_t elem = desc::kVmoveVecElem.get(w), bank = desc::kVmoveBankAddr.get(w);
    if (dir == 0) {
      const uint32_t groups = desc::kVmoveGroups.get(w), gstride = desc::kVmoveGstride.get(w);
      for (uint32_t i = 0; i < count; ++i) {
        const uint8_t* word = bank_span(desc::Bank::kAcc, uint64_t{bank} + uint64_t{i} * cfg_.acc_word_bytes,
                                        cfg_.acc_word_bytes);
        const uint32_t nb = i / groups, g = i % groups;
        for (uint32_t r = 0; r < cfg_.array_rows; ++r) {
          vu_.flat(elem + size_t{g} * gstride + size_t{nb} * cfg_.array_rows + r) = load_le32(word + 4 * r);
        }
      }
    } else {
      const uint32_t padded = ceil_div(count, cfg_.act_word_bytes) * cfg_.act_word_bytes;
      uint8_t* out = bank_span(desc::Bank::kAct, bank, padded);
      for (uint32_t e = 0; e < padded; ++e) out[e] = e < count ? static_cast<uint8_t>(vu_.flat(elem + e)) : 0;
    }
  }

  /// A prompt token: PROMPT[i] (FETCH_BUS_ERROR with its address when it cannot be read).
  std::optional<uint32_t> read_prompt(uint32_t i) {
    const uint32_t addr = dec_prompt_ + 4 * i;
    const uint32_t line = addr & ~(cfg_.axi_data_bytes - 1);
    count(regs::Counter::kDmaRdBeats, 1);
    count(regs::Counter::kBytesRead, cfg_.axi_data_bytes);
    if (bus_error(line, cfg_.axi_data_bytes, false)) {
      raise(Error::kFetchBusError, addr, head_);
      return std::nullopt;
    }
    return load_le32(mem_at(addr));
  }

  /// DECODE at its fence: the first step's token, then the step program runs.
  void start_decode() {
    const desc::Words& w = in_hand_;
    dec_prog_ = desc::kDecodeProgAddr.get(w);
    dec_prog_len_ = desc::kDecodeProgLen.get(w);
    dec_stop_ = desc::kDecodeStopToken.get(w);
    dec_prompt_ = desc::kDecodePromptAddr.get(w);
    dec_prompt_len_ = desc::kDecodePromptLen.get(w);
    dec_steps_ = desc::kDecodeSteps.get(w);
    dec_seq_len_ = desc::kDecodeSeqLen.get(w);
    const std::optional<uint32_t> first = read_prompt(0);
    if (!first) return;
    dec_active_ = true;
    dec_abort_ = false;
    dec_pos_ = desc::kDecodeStartPos.get(w);
    dec_token_ = *first;
    dec_pc_ = 0;
    dec_step_ = 0;
    dec_tokens_ = 0;
    dec_reason_ = 0;
  }

  /// The end of a step, after its program has finished: the next token, the stream, the stop
  /// conditions (in their priority order).
  void end_step() {
    const bool forced = dec_step_ + 1 < dec_prompt_len_;
    uint32_t next = vu_.scalar(7);
    if (forced) {
      const std::optional<uint32_t> p = read_prompt(dec_step_ + 1);
      if (!p) return;
      next = *p;
    }
    uint32_t reason = 0;
    if (next == dec_stop_) {
      reason = 3;
    } else if (dec_step_ + 1 == dec_steps_) {
      reason = 1;
    } else if (dec_pos_ + 1 == dec_seq_len_) {
      reason = 2;
    } else if (dec_abort_) {
      reason = 4;
    }
    stream_.push_back(StreamToken{next, forced, reason != 0});
    ++dec_tokens_;
    dec_last_ = next;
    count(regs::Counter::kDecSteps, 1);
    yield_ = true;
    if (reason != 0) {
      dec_active_ = false;
      dec_reason_ = reason;
      advance();  // the DECODE itself
      count(regs::Counter::kDescExecuted, 1);
      return;
    }
    ++dec_pos_;
    ++dec_step_;
    dec_token_ = next;
    dec_pc_ = 0;
  }

  /// SCplReq .. SCplWait: one strobed beat at the AXI-aligned address; a failing write
  /// reports HOST_ADDR itself and leaves the COMPLETE unconsumed.
  void complete() {
    const uint32_t host = desc::kCompleteHostAddr.get(in_hand_);
    const uint32_t seq = desc::kCompleteSeq.get(in_hand_);
    const uint32_t line = host & ~(cfg_.axi_data_bytes - 1);
    count(regs::Counter::kDmaWrBeats, 1);
    count(regs::Counter::kBytesWritten, 4);
    if (bus_error(line, cfg_.axi_data_bytes, true)) {
      raise(Error::kWriteBusError, host, head_);
      return;
    }
    store_le32(mem_at(host), seq);
    ++completions_;
    last_seq_ = seq;
    consume();
    count(regs::Counter::kDescExecuted, 1);
    if (desc::kCompleteIrq.get(in_hand_) != 0) irq_status_ |= regs::kIrqStatusCompletion.mask();
  }

  /// One step of the command processor; false when it cannot move.
  bool step_cmdproc(uint32_t& fetches) {
    switch (state_) {
      case Cp::kIdle:
        if (dec_active_ && enable_ && !halted_ && dec_pc_ == dec_prog_len_) {
          if (!engines_idle()) return false;  // the step's fence
          end_step();
          return true;
        }
        if (!enable_ || halted_ || (!dec_active_ && head_ == tail_)) return false;
        if (fetches >= kMaxFetchesPerRun) {
          spinning_ = true;
          return false;
        }
        ++fetches;
        fetch_and_check();
        return true;
      case Cp::kDispatch: {
        if (halted_) {  // the descriptor in hand is dropped, not consumed
          state_ = Cp::kIdle;
          return true;
        }
        const auto op = static_cast<Opcode>(desc::kOpcode.get(in_hand_));
        const Eng eng = engine_for(op);
        Engine& e = engines_[eng];
        if (cfg_.cmd_queue_depth == 0) {
          // No queues: the engine takes the descriptor from dispatch once it is idle and the
          // descriptor's tokens are there (ks_cmdproc's g_direct); it starts right away.
          if (e.current || !e.queue.empty() || !tokens_ok(eng, in_hand_)) return false;
        } else if (e.queue.size() >= cfg_.cmd_queue_depth) {
          return false;  // ks_cmdproc QueueDepth
        }
        // VEC after LOAD/STORE of bank VEC, and the other way round, in descriptor order.
        if (eng == kVecEng && vec_xfer_pending()) return false;
        if ((eng == kLoadEng || eng == kStoreEng) && vector_bank(in_hand_) &&
            (engines_[kVecEng].current || !engines_[kVecEng].queue.empty())) {
          return false;
        }
        e.queue.push_back(Command{head_, in_hand_, dec_active_ ? dec_pos_ : 0u});
        consume();
        state_ = Cp::kIdle;
        return true;
      }
      case Cp::kFence:
        if (halted_) {
          state_ = Cp::kIdle;
          return true;
        }
        if (static_cast<Opcode>(desc::kOpcode.get(in_hand_)) == Opcode::kVmove ? !vmove_free() : !engines_idle()) {
          return false;
        }
        switch (static_cast<Opcode>(desc::kOpcode.get(in_hand_))) {
          case Opcode::kNop:
            consume();
            count(regs::Counter::kDescExecuted, 1);
            break;
          case Opcode::kVmove:
            exec_vmove(in_hand_);
            consume();
            count(regs::Counter::kDescExecuted, 1);
            break;
          case Opcode::kDecode: start_decode(); break;
          default: complete(); break;
        }
        state_ = Cp::kIdle;
        return true;
    }
    return false;
  }

  // ---- dependency tokens ---------------------------------------------------------------------

  bool tokens_ok(Eng e, const desc::Words& w) const {
    switch (e) {
      case kLoadEng: return (!desc::kPopNext.get(w) || c2l_ != 0) && (!desc::kLoadPopVec.get(w) || v2l_ != 0);
      case kVecEng: return !desc::kPopPrev.get(w) || l2v_ != 0;
      case kComputeEng: return (!desc::kPopPrev.get(w) || l2c_ != 0) && (!desc::kPopNext.get(w) || s2c_ != 0);
      case kStoreEng: return !desc::kPopPrev.get(w) || c2s_ != 0;
      case kNumEngines: break;
    }
    return false;
  }

  void take_tokens(Eng e, const desc::Words& w) {
    switch (e) {
      case kLoadEng:
        if (desc::kPopNext.get(w)) --c2l_;
        if (desc::kLoadPopVec.get(w)) --v2l_;
        break;
      case kVecEng:
        if (desc::kPopPrev.get(w)) --l2v_;
        break;
      case kComputeEng:
        if (desc::kPopPrev.get(w)) --l2c_;
        if (desc::kPopNext.get(w)) --s2c_;
        break;
      case kStoreEng:
        if (desc::kPopPrev.get(w)) --c2s_;
        break;
      case kNumEngines: break;
    }
  }

  /// Adds a token; true if the count was already 255 (TOKEN_OVERFLOW; the count saturates).
  static bool push_token(uint8_t& t) {
    if (t == 0xFF) return true;
    ++t;
    return false;
  }

  // ---- engines ---------------------------------------------------------------------------------

  bool start_engines() {
    bool any = false;
    for (size_t i = 0; i < kNumEngines; ++i) {
      Engine& e = engines_[i];
      if (e.current || e.queue.empty() || !tokens_ok(static_cast<Eng>(i), e.queue.front().w)) continue;
      take_tokens(static_cast<Eng>(i), e.queue.front().w);  // tokens are taken at the start
      e.current = e.queue.front();
      e.queue.pop_front();
      e.started = next_start_++;
      any = true;
    }
    return any;
  }

  bool finish_oldest() {
    size_t pick = kNumEngines;
    for (size_t i = 0; i < kNumEngines; ++i) {
      if (engines_[i].current && (pick == kNumEngines || engines_[i].started < engines_[pick].started)) pick = i;
    }
    if (pick == kNumEngines) return false;
    const Command c = *engines_[pick].current;
    engines_[pick].current.reset();
    // Tokens are pushed only by a command that finished without a bus error.
    switch (static_cast<Eng>(pick)) {
      case kLoadEng:
        if (const auto err = exec_load(c.w)) {
          exec_error(Error::kReadBusError, *err, c.index);
        } else {
          count(regs::Counter::kDescExecuted, 1);
          bool overflow = desc::kPushNext.get(c.w) && push_token(l2c_);
          overflow |= desc::kLoadPushVec.get(c.w) && push_token(l2v_);
          if (overflow) exec_error(Error::kTokenOverflow, 0, c.index);
        }
        break;
      case kComputeEng: {
        exec_matmul(c.w);
        count(regs::Counter::kDescExecuted, 1);
        bool overflow = false;
        if (desc::kPushPrev.get(c.w)) overflow |= push_token(c2l_);
        if (desc::kPushNext.get(c.w)) overflow |= push_token(c2s_);
        if (overflow) exec_error(Error::kTokenOverflow, 0, c.index);
        break;
      }
      case kStoreEng:
        if (const auto err = exec_store(c.w)) {
          exec_error(Error::kWriteBusError, *err, c.index);
        } else {
          count(regs::Counter::kDescExecuted, 1);
          if (desc::kPushPrev.get(c.w) && push_token(s2c_)) exec_error(Error::kTokenOverflow, 0, c.index);
        }
        break;
      case kVecEng:
        if (desc::kOpcode.get(c.w) == static_cast<uint32_t>(Opcode::kVrun)) {
          const golden::VecRunResult r = vu_.run(desc::kVrunStart.get(c.w), desc::kVrunCount.get(c.w), c.pos);
          if (!r.ok) {
            exec_error(Error::kBadVector, r.bad_index, c.index);
            break;
          }
        } else {
          vu_.execute(vec_instr(c.w));
        }
        count(regs::Counter::kDescExecuted, 1);
        if (desc::kPushPrev.get(c.w) && push_token(v2l_)) exec_error(Error::kTokenOverflow, 0, c.index);
        break;
      case kNumEngines: break;
    }
    return true;
  }

  /// ks_load_engine: each row is one DMA read request. Beats of a failing burst are not
  /// written; the error reports the host address of the first row that had one.
  std::optional<uint32_t> exec_load(const desc::Words& w) {
    const XferFields x = xfer_fields(w);
    const uint32_t axi = cfg_.axi_data_bytes;
    const auto bank = static_cast<desc::Bank>(x.bank);
    std::optional<uint32_t> err;
    uint32_t host = x.host, sram = x.sram;
    for (uint32_t r = 0; r < x.rows; ++r) {
      uint32_t off = 0;
      for_each_burst(host, x.bytes / axi, [&](uint32_t a, uint32_t beats) {
        const uint32_t n = beats * axi;
        count(regs::Counter::kDmaRdBeats, beats);
        count(regs::Counter::kBytesRead, n);
        if (bus_error(a, n, false)) {
          if (!err) err = host;
        } else {
          std::memcpy(bank_span(bank, uint64_t{sram} + off, n), mem_at(a), n);
        }
        off += n;
      });
      host += x.hstride;
      sram += x.sstride;
    }
    return err;
  }

  /// ks_store_engine: each row is one DMA write request. A failing burst leaves memory
  /// unchanged; the error reports the address of the first failing burst.
  std::optional<uint32_t> exec_store(const desc::Words& w) {
    const XferFields x = xfer_fields(w);
    const uint32_t axi = cfg_.axi_data_bytes;
    const auto bank = static_cast<desc::Bank>(x.bank);
    std::optional<uint32_t> err;
    uint32_t host = x.host, sram = x.sram;
    for (uint32_t r = 0; r < x.rows; ++r) {
      uint32_t off = 0;
      for_each_burst(host, x.bytes / axi, [&](uint32_t a, uint32_t beats) {
        const uint32_t n = beats * axi;
        count(regs::Counter::kDmaWrBeats, beats);
        count(regs::Counter::kBytesWritten, n);  // every strobe is on, even if the burst fails
        if (bus_error(a, n, true)) {
          if (!err) err = a;
        } else {
          std::memcpy(mem_at(a), bank_span(bank, uint64_t{sram} + off, n), n);
        }
        off += n;
      });
      host += x.hstride;
      sram += x.sstride;
    }
    return err;
  }

  /// ks_compute_engine: the beats of the product in the hardware's loop order (token chunks
  /// of acc_depth, weight row block, reduction chunk, token), built from the raw bank words
  /// -- padding included, whatever it holds -- and run through the golden matrix-unit model.
  /// Each finished accumulator entry becomes one ACC word: Rows INT32, zero above.
  void exec_matmul(const desc::Words& w) {
    const MatmulShape s = matmul_shape(w);
    const uint32_t rows = cfg_.array_rows, cols = cfg_.array_cols, depth = cfg_.acc_depth;
    const uint32_t wgt0 = desc::kMatmulWgtAddr.get(w) / cfg_.wgt_word_bytes;
    const uint32_t act0 = desc::kMatmulActAddr.get(w) / cfg_.act_word_bytes;
    const uint32_t acc0 = desc::kMatmulAccAddr.get(w) / cfg_.acc_word_bytes;
    const golden::ArrayShape shape{rows, cols, depth};
    golden::MatrixUnitModel unit(shape);
    golden::MatrixBeat beat;
    beat.w.resize(shape.weight_bytes());
    beat.x.assign(shape.act_bytes(), 0);
    beat.int4 = s.int4;
    for (uint32_t m0 = 0; m0 < s.m; m0 += depth) {
      const uint32_t mt = std::min(depth, s.m - m0);
      for (uint32_t nb = 0; nb < s.nb; ++nb) {
        for (uint32_t kc = 0; kc < s.kc; ++kc) {
          const uint8_t* tile =
              bank_span(desc::Bank::kWgt, uint64_t{wgt0 + nb * s.kc + kc} * cfg_.wgt_word_bytes, beat.w.size());
          std::copy(tile, tile + beat.w.size(), beat.w.begin());
          beat.first = kc % s.cpg == 0;
          beat.last = kc + 1 == s.kc || kc % s.cpg == s.cpg - 1;
          // INT4 beats use a whole ACT word (2 x Cols values); INT8 beats use its lower half
          // for even chunks and its upper half for odd ones.
          const uint32_t word_in_row = s.int4 ? kc : kc / 2;
          const uint32_t half = (!s.int4 && (kc & 1) != 0) ? cols : 0;
          const uint32_t x_bytes = s.int4 ? 2 * cols : cols;
          for (uint32_t mi = 0; mi < mt; ++mi) {
            const uint64_t word = uint64_t{act0} + uint64_t{m0 + mi} * s.kx + word_in_row;
            const uint8_t* x = bank_span(desc::Bank::kAct, word * cfg_.act_word_bytes + half, x_bytes);
            std::copy(x, x + x_bytes, beat.x.begin());
            beat.addr = mi;
            if (const auto res = unit.push(beat)) {
              const uint64_t acc_word = (uint64_t{acc0} + (uint64_t{m0 + mi} * s.nb + nb) * s.groups) + kc / s.cpg;
              uint8_t* out = bank_span(desc::Bank::kAcc, acc_word * cfg_.acc_word_bytes, cfg_.acc_word_bytes);
              std::fill(out, out + cfg_.acc_word_bytes, uint8_t{0});
              for (uint32_t r = 0; r < rows; ++r) store_le32(out + 4 * r, static_cast<uint32_t>(res->data[r]));
            }
          }
        }
      }
    }
    count(regs::Counter::kMacs, uint64_t{s.m} * s.k * s.n);
  }

  /// Runs the command processor and the engines until nothing can move (see the file
  /// comment for the order).
  /// A DECODE yields after each step (so the host can read tokens, abort, and wait).
  /// Returns whether anything moved.
  bool run() {
    uint32_t fetches = 0;
    spinning_ = false;
    bool moved = false;
    for (;;) {
      if (yield_) {
        yield_ = false;
        return true;
      }
      if (start_engines() || step_cmdproc(fetches) || finish_oldest()) {
        moved = true;
        continue;
      }
      return moved;
    }
  }

  // ---- state -------------------------------------------------------------------------------------

  const hw::HwConfig& cfg_;
  uint64_t base_;
  std::vector<uint8_t> mem_;
  std::vector<ErrorRange> errors_;
  std::array<std::vector<uint8_t>, desc::kNumBanks> banks_;

  // Register file (ks_ctrl_regs)
  bool enable_ = false, freeze_ = false;
  uint32_t ring_base_ = 0, ring_size_ = 0, win_base_ = 0, win_size_ = 0;
  uint32_t irq_enable_ = 0, irq_status_ = 0;
  std::array<uint64_t, regs::kNumCounters> counters_{};
  uint32_t hi_shadow_ = 0;

  // Command processor (ks_cmdproc)
  Cp state_ = Cp::kIdle;
  desc::Words in_hand_{};
  uint16_t head_ = 0, tail_ = 0;
  bool halted_ = false;
  bool exec_error_ = false;  // an execution error since the last queue reset: no resume
  Error err_code_ = Error::kNone;
  uint32_t err_index_ = 0, err_info_ = 0, completions_ = 0, last_seq_ = 0;
  uint8_t l2c_ = 0, c2l_ = 0, c2s_ = 0, s2c_ = 0, l2v_ = 0, v2l_ = 0;  // tokens (l2v: load -> vector)
  std::vector<desc::Words> dcache_;  ///< the step-program cache (ks_cmdproc g_dcache)
  std::array<Engine, kNumEngines> engines_;
  uint64_t next_start_ = 0;
  bool spinning_ = false;

  // Vector unit and token-streaming controller
  golden::VectorUnitModel vu_;
  bool dec_active_ = false, dec_abort_ = false, yield_ = false;
  uint32_t dec_prog_ = 0, dec_prog_len_ = 0, dec_stop_ = 0, dec_prompt_ = 0, dec_prompt_len_ = 0;
  uint32_t dec_steps_ = 0, dec_seq_len_ = 0, dec_pos_ = 0, dec_token_ = 0, dec_pc_ = 0, dec_step_ = 0;
  uint32_t dec_tokens_ = 0, dec_last_ = 0, dec_reason_ = 0;
  std::deque<StreamToken> stream_;
};

ModelDevice& as_model(Device& dev, const char* what) {
  auto* m = dynamic_cast<ModelDevice*>(&dev);
  if (m == nullptr) {
    throw std::invalid_argument(std::string(what) + ": the device is not a model device (backend '" +
                                std::string(dev.backend()) + "')");
  }
  return *m;
}

}  // namespace

std::unique_ptr<Device> make_model_device(std::string_view config, const ModelOptions& opt) {
  const hw::HwConfig* cfg = hw::find_config(config);
  if (cfg == nullptr) {
    std::string known;
    for (const hw::HwConfig& c : hw::kConfigs) known += (known.empty() ? "" : ", ") + std::string(c.name);
    throw std::invalid_argument("unknown hardware configuration '" + std::string(config) + "' (known: " + known +
                                ")");
  }
  const uint64_t base = opt.mem_base.value_or(cfg->default_mem_base);
  const size_t size = opt.mem_size.value_or(cfg->default_mem_bytes);
  if (size == 0) throw std::invalid_argument("model device: mem_size must not be 0");
  if (static_cast<uint64_t>(size) - 1 > ~uint64_t{0} - base) {
    throw std::invalid_argument("model device: memory [" + hex(base) + ", +" + hex(size) +
                                ") wraps around the 64-bit address space");
  }
  return std::make_unique<ModelDevice>(*cfg, opt);
}

void model_inject_error(Device& dev, uint64_t lo, uint64_t hi, bool reads, bool writes) {
  as_model(dev, "model_inject_error").inject_error(lo, hi, reads, writes);
}

void model_clear_errors(Device& dev) { as_model(dev, "model_clear_errors").clear_errors(); }

std::optional<uint32_t> model_error_detail(const hw::HwConfig& cfg, const ErrorContext& ctx) {
  ModelOptions opt;
  opt.mem_base = cfg.default_mem_base;
  opt.mem_size = desc::kBytes;  // no memory is touched
  ModelDevice m(cfg, opt);
  return m.error_detail(ctx);
}

}  // namespace ks::drv
