// The SDR SDRAM model of sdram_model.h.
#include "sdram_model.h"

#include <cinttypes>
#include <cstdio>

namespace ks::tb {

namespace {

constexpr size_t kMaxViolations = 32;  // the first ones tell the story

enum Cmd : unsigned {  // {ras_n, cas_n, we_n} with cs_n low
  kLmr = 0, kRef = 1, kPre = 2, kAct = 3, kWr = 4, kRd = 5, kBst = 6, kNop = 7
};

uint64_t mix(uint64_t x) {  // splitmix64's finaliser
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace

SdramModel::SdramModel(const SdramTiming& t, const SdramGeometry& g) : t_(t), g_(g) {}

void SdramModel::violation(const char* rule, const std::string& what) {
  if (violations_.size() >= kMaxViolations) return;
  char head[160];
  std::snprintf(head, sizeof head, "SDRAM rule '%s' broken at cycle %" PRIu64 " (t = %.3f us): ", rule, n_,
                ns(n_) / 1e3);
  violations_.push_back(head + what);
}

std::string SdramModel::ago(uint64_t since) const {
  char b[96];
  std::snprintf(b, sizeof b, "%" PRIu64 " cycles (%.1f ns) after cycle %" PRIu64, n_ - since,
                ns(n_ - since), since);
  return b;
}

uint16_t SdramModel::garbage(uint64_t key) const {
  return static_cast<uint16_t>(mix(key ^ (generation_ << 48)));
}

uint16_t& SdramModel::word(unsigned bank, unsigned row, unsigned col) {
  const uint64_t key = (uint64_t{bank} << g_.row_bits) | row;
  auto it = pages_.find(key);
  if (it == pages_.end()) {
    const size_t n = size_t{1} << g_.col_bits;
    auto page = std::make_unique<uint16_t[]>(n);
    for (size_t c = 0; c < n; ++c) page[c] = garbage((key << g_.col_bits) | c);
    it = pages_.emplace(key, std::move(page)).first;
  }
  return it->second[col];
}

uint16_t SdramModel::peek(unsigned bank, unsigned row, unsigned col) const {
  const uint64_t key = (uint64_t{bank} << g_.row_bits) | row;
  const auto it = pages_.find(key);
  return it == pages_.end() ? garbage((key << g_.col_bits) | col) : it->second[col];
}

void SdramModel::start_init() {
  if (state_ != State::kPowerUp) {
    ++generation_;   // a controller reset: the rows went without refresh, the data is gone
    pages_.clear();
  }
  state_ = State::kInit;
  init_refs_ = 0;
  lapsed_ = false;
  ++stats_.inits;
}

void SdramModel::check_lapses() {
  if (state_ != State::kReady || lapsed_) return;
  if (!elapsed(last_ref_, t_.trefi + 1)) {
    for (int b = 0; b < kBanks; ++b) {
      if (banks_[b].open && elapsed(banks_[b].act, t_.tras_max + 1)) {
        lapsed_ = true;
        lapse_ = "bank " + std::to_string(b) + " row open longer than tRAS(max) since its ACTIVE at cycle " +
                 std::to_string(banks_[b].act);
      }
    }
    return;
  }
  lapsed_ = true;
  lapse_ = "no AUTO REFRESH within tREFI (" + std::to_string(t_.trefi / 1000) + " ns) of the last at cycle " +
           std::to_string(last_ref_);
}

uint16_t SdramModel::edge(const SdramPins& p) {
  n_ = stats_.cycles;
  dqm_hist_[n_ % dqm_hist_.size()] = p.dqm & 3;
  check_lapses();
  if (state_ != State::kPowerUp && !p.cke) violation("CKE", "CKE low: power-down and self refresh are not modelled");
  if (!p.cs_n && ((p.ras_n << 2) | (p.cas_n << 1) | p.we_n) != kNop) command(p);

  // Write data: sampled at the burst's edges, bytes with DQM high are left alone.
  if (burst_.active && burst_.write && n_ - burst_.at < bl_) {
    const unsigned i = static_cast<unsigned>(n_ - burst_.at);
    const unsigned mask = p.dqm & 3;
    if (mask != 3 && !p.dq_oe) violation("write data", "write word " + std::to_string(i) + " unmasked but DQ not driven");
    if (banks_[burst_.bank].open && banks_[burst_.bank].row == burst_.row) {
      const unsigned col = (burst_.col & ~(bl_ - 1)) | ((burst_.col + i) & (bl_ - 1));
      uint16_t& w = word(burst_.bank, burst_.row, col);
      if (!(mask & 1)) w = static_cast<uint16_t>((w & 0xFF00) | (p.dq & 0x00FF));
      if (!(mask & 2)) w = static_cast<uint16_t>((w & 0x00FF) | (p.dq & 0xFF00));
      ++stats_.words_written;
    }
  }

  // Read data the SDRAM drives for this edge; DQM two edges ago masks it.
  Out o = out_[n_ % out_.size()];
  out_[n_ % out_.size()] = Out{};
  if (o.driven && n_ >= 2) {
    const unsigned mask = dqm_hist_[(n_ - 2) % dqm_hist_.size()];
    if (mask == 3) o.driven = false;
    const uint16_t g = garbage(~n_);
    if (mask & 1) o.value = static_cast<uint16_t>((o.value & 0xFF00) | (g & 0x00FF));
    if (mask & 2) o.value = static_cast<uint16_t>((o.value & 0x00FF) | (g & 0xFF00));
  }
  const bool next_driven = out_[(n_ + 1) % out_.size()].driven;
  if (p.dq_oe && (o.driven || sd_drove_prev_ || next_driven)) {
    violation("bus contention", std::string("the FPGA drives DQ while the SDRAM drives it") +
                                    (o.driven ? " (this clock)" : next_driven ? " (next clock)" : " (last clock)"));
  }
  sd_drove_prev_ = o.driven;  // the SDRAM's word of this edge stays on the bus into the next
  ++stats_.cycles;
  if (o.driven) return o.value;
  if (p.dq_oe) return p.dq;
  return garbage(n_ * 7919);    // a floating bus
}

void SdramModel::command(const SdramPins& p) {
  const unsigned cmd = (p.ras_n << 2) | (p.cas_n << 1) | p.we_n;
  const unsigned b = p.ba & 3;
  const bool all = (p.a >> 10) & 1;
  const bool reinit = cmd == kPre && all && (any_cmd_ ? elapsed(last_cmd_, t_.tinit) : elapsed(0, t_.tinit));
  if (!p.cke) violation("CKE", "a command with CKE low");
  if (reinit) {
    start_init();
  } else if (lapsed_) {
    violation("refresh interval", lapse_ + ", and the next command is not a new initialisation");
    lapsed_ = false;
    ++generation_;
    pages_.clear();
  }
  last_cmd_ = n_;
  any_cmd_ = true;

  if (state_ == State::kPowerUp) {
    if (cmd == kPre && all) {
      violation("initialisation", "PRECHARGE ALL only " + ago(0) + " (power-up); tINIT is " +
                                      std::to_string(t_.tinit / 1000000) + " us of NOP");
      start_init();
    } else {
      static const char* const kNames[] = {"LOAD MODE", "REFRESH", "PRECHARGE", "ACTIVE", "WRITE", "READ", "BURST TERMINATE", "NOP"};
      violation("initialisation", std::string(kNames[cmd]) + " before the power-up PRECHARGE ALL");
    }
    return;
  }
  if (state_ == State::kInit && (cmd == kAct || cmd == kRd || cmd == kWr)) {
    violation("initialisation", "ACTIVE/READ/WRITE before two AUTO REFRESH and LOAD MODE completed initialisation");
  }
  if (lmr_seen_ && (cmd == kAct || cmd == kRd || cmd == kWr || cmd == kRef || cmd == kLmr) &&
      n_ - last_lmr_ < t_.tmrd_clk) {
    violation("tMRD", "command " + ago(last_lmr_) + " LOAD MODE");
  }
  Bank& bk = banks_[b];
  switch (cmd) {
    case kAct: {
      ++stats_.activates;
      const unsigned row = p.a & 0x1FFF;
      if (row >> g_.row_bits) violation("ACTIVE", "row " + std::to_string(row) + " beyond the device");
      if (bk.open) violation("ACTIVE to an open bank", "bank " + std::to_string(b) + " has row " + std::to_string(bk.row) + " open");
      if (!elapsed(bk.pre, t_.trp)) violation("tRP", "ACTIVE bank " + std::to_string(b) + " " + ago(bk.pre) + " its PRECHARGE");
      if (!elapsed(bk.act, t_.trc)) violation("tRC", "ACTIVE bank " + std::to_string(b) + " " + ago(bk.act) + " its last ACTIVE");
      if (act_seen_ && !elapsed(last_act_any_, t_.trrd)) violation("tRRD", "ACTIVE " + ago(last_act_any_) + " another ACTIVE");
      if (ref_seen_ && !elapsed(last_ref_, t_.trfc)) violation("tRFC", "ACTIVE " + ago(last_ref_) + " REFRESH");
      bk.open = true;
      bk.row = row & ((1u << g_.row_bits) - 1);
      bk.act = n_;
      bk.rd_valid = bk.wr_valid = false;
      last_act_any_ = n_;
      act_seen_ = true;
      break;
    }
    case kRd:
    case kWr: {
      const bool write = cmd == kWr;
      const char* what = write ? "WRITE" : "READ";
      write ? ++stats_.writes : ++stats_.reads;
      if (!bk.open) {
        violation(write ? "WRITE to a closed bank" : "READ to a closed bank", "bank " + std::to_string(b));
        break;
      }
      if (!elapsed(bk.act, t_.trcd)) violation("tRCD", std::string(what) + " " + ago(bk.act) + " ACTIVE");
      if (all) violation(what, "auto precharge (A10) is not used by the controller and not modelled");
      const unsigned col = p.a & ~(1u << 10) & 0x1FFF;
      if (col >> g_.col_bits) violation(what, "column " + std::to_string(col) + " beyond the device's columns");
      if (bl_ == 0) break;
      if (burst_.active) {
        if (n_ < burst_.at + bl_) {
          violation("burst interrupted", std::string(what) + " " + ago(burst_.at) + " the previous " +
                                             (burst_.write ? "WRITE" : "READ") + " (burst length " + std::to_string(bl_) + ")");
        } else if (write && !burst_.write && n_ < burst_.at + cl_ + bl_ + 1) {
          violation("read to write turnaround", std::string("WRITE ") + ago(burst_.at) +
                                                     " READ: its first word would meet the last read word with no idle clock");
        }
      }
      burst_ = Burst{true, write, n_, b, bk.row, col & ((1u << g_.col_bits) - 1)};
      if (write) {
        bk.wr_end = n_ + bl_ - 1;
        bk.wr_valid = true;
      } else {
        bk.rd = n_;
        bk.rd_valid = true;
        for (unsigned i = 0; i < bl_; ++i) {
          const unsigned c = (burst_.col & ~(bl_ - 1)) | ((burst_.col + i) & (bl_ - 1));
          out_[(n_ + cl_ + i) % out_.size()] = Out{true, word(b, bk.row, c)};
          ++stats_.words_read;
        }
      }
      break;
    }
    case kPre: {
      ++stats_.precharges;
      for (unsigned i = 0; i < kBanks; ++i) {
        if (!all && i != b) continue;
        Bank& k = banks_[i];
        if (k.open) {
          const std::string bank = "PRECHARGE bank " + std::to_string(i) + " ";
          if (!elapsed(k.act, t_.tras)) violation("tRAS", bank + ago(k.act) + " ACTIVE");
          if (k.rd_valid && n_ < k.rd + bl_) violation("read burst truncated", bank + ago(k.rd) + " READ");
          if (k.wr_valid && (n_ <= k.wr_end || !elapsed(k.wr_end, t_.twr))) {
            violation("tWR", bank + (n_ <= k.wr_end ? std::string("during a write burst") : ago(k.wr_end) + " the last write word"));
          }
        }
        k.open = false;
        k.pre = n_;
      }
      break;
    }
    case kRef: {
      ++stats_.refreshes;
      for (unsigned i = 0; i < kBanks; ++i) {
        if (banks_[i].open) violation("REFRESH with a bank open", "bank " + std::to_string(i));
        if (!elapsed(banks_[i].pre, t_.trp)) violation("tRP", "REFRESH " + ago(banks_[i].pre) + " PRECHARGE of bank " + std::to_string(i));
      }
      if (ref_seen_ && !elapsed(last_ref_, t_.trfc)) violation("tRFC", "REFRESH " + ago(last_ref_) + " REFRESH");
      if (state_ == State::kReady && n_ - last_ref_ > stats_.max_refresh_gap) stats_.max_refresh_gap = n_ - last_ref_;
      if (state_ == State::kInit) ++init_refs_;
      last_ref_ = n_;
      ref_seen_ = true;
      break;
    }
    case kLmr: {
      for (unsigned i = 0; i < kBanks; ++i) {
        if (banks_[i].open) violation("LOAD MODE with a bank open", "bank " + std::to_string(i));
        if (!elapsed(banks_[i].pre, t_.trp)) violation("tRP", "LOAD MODE " + ago(banks_[i].pre) + " PRECHARGE");
      }
      if (ref_seen_ && !elapsed(last_ref_, t_.trfc)) violation("tRFC", "LOAD MODE " + ago(last_ref_) + " REFRESH");
      if (state_ == State::kInit && init_refs_ < 2) {
        violation("initialisation", "LOAD MODE after " + std::to_string(init_refs_) + " AUTO REFRESH (two needed)");
      }
      const unsigned bl_code = p.a & 7, cl = (p.a >> 4) & 7;
      if (bl_code > 3) violation("mode register", "burst length code " + std::to_string(bl_code) + " (1, 2, 4, 8 supported)");
      if ((p.a >> 3) & 1) violation("mode register", "interleaved bursts are not modelled");
      if (cl != 2 && cl != 3) violation("mode register", "CAS latency " + std::to_string(cl));
      if ((p.a >> 7) & 7) violation("mode register", "operating mode / single-write bits A9..A7 must be 0");
      if (b != 0) violation("mode register", "BA must be 0 for the mode register");
      bl_ = 1u << (bl_code & 3);
      cl_ = cl;
      last_lmr_ = n_;
      lmr_seen_ = true;
      if (state_ == State::kInit && init_refs_ >= 2) {
        state_ = State::kReady;
        // The refresh interval runs from the initialisation's last refresh.
      }
      break;
    }
    default:
      violation("command", "BURST TERMINATE is not used by the controller and not modelled");
      break;
  }
}

void SdramModel::finish() {
  n_ = stats_.cycles;
  check_lapses();
  if (lapsed_) {
    violation("refresh interval", lapse_ + " (at the end of the run)");
    lapsed_ = false;
  }
}

}  // namespace ks::tb
