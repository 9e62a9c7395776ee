#include "kestrel/emu/axi_memory.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace ks::emu {

namespace {

constexpr uint64_t kU64Max = std::numeric_limits<uint64_t>::max();

std::string hex(uint64_t v) {
  std::ostringstream s;
  s << "0x" << std::hex << v;
  return s.str();
}

std::string_view burst_name(uint8_t type) {
  switch (type) {
    case kAxiBurstFixed: return "FIXED";
    case kAxiBurstIncr: return "INCR";
    case kAxiBurstWrap: return "WRAP";
    default: return "reserved";
  }
}

// Byte-lane mask of lanes lo..hi (inclusive), hi < 64.
uint64_t lane_mask(uint32_t lo, uint32_t hi) {
  const uint32_t n = hi - lo + 1;
  return (n >= 64 ? kU64Max : ((uint64_t{1} << n) - 1)) << lo;
}

}  // namespace

std::string_view to_string(AxiResp r) {
  switch (r) {
    case AxiResp::kOkay: return "OKAY";
    case AxiResp::kExOkay: return "EXOKAY";
    case AxiResp::kSlvErr: return "SLVERR";
    case AxiResp::kDecErr: return "DECERR";
  }
  return "?";
}

AxiMemory::AxiMemory(AxiMemoryConfig cfg, uint64_t base, size_t size) : cfg_(cfg), base_(base) {
  const size_t db = cfg.data_bytes;
  if (db != 4 && db != 8 && db != 16 && db != 32 && db != 64) {
    throw std::invalid_argument("AxiMemory: data_bytes = " + std::to_string(db) +
                                ": must be 4, 8, 16, 32 or 64");
  }
  if (cfg.max_outstanding_reads == 0 || cfg.max_outstanding_writes == 0) {
    throw std::invalid_argument("AxiMemory: max_outstanding_reads and max_outstanding_writes "
                                "must be at least 1");
  }
  if (std::isnan(cfg.bytes_per_cycle) || std::isnan(cfg.bucket_bytes)) {
    throw std::invalid_argument("AxiMemory: bytes_per_cycle and bucket_bytes must be numbers");
  }
  if (cfg.bucket_bytes != 0.0 && cfg.bucket_bytes < 2.0 * static_cast<double>(db)) {
    throw std::invalid_argument("AxiMemory: bucket_bytes = " + std::to_string(cfg.bucket_bytes) +
                                ": must be 0 (default) or at least 2 * data_bytes = " +
                                std::to_string(2 * db));
  }
  if (size == 0) throw std::invalid_argument("AxiMemory: size must not be 0");
  if (static_cast<uint64_t>(size) - 1 > kU64Max - base) {
    throw std::invalid_argument("AxiMemory: [" + hex(base) + ", +" + hex(size) +
                                ") wraps around the 64-bit address space");
  }
  while ((size_t{1} << max_size_log2_) < db) ++max_size_log2_;
  bucket_cap_ = cfg.bucket_bytes != 0.0 ? cfg.bucket_bytes : 32.0 * static_cast<double>(db);
  mem_.assign(size, 0);
  idle_outputs();
}

// ---------------------------------------------------------------------------------------------
// Host access and error injection

bool AxiMemory::in_range(uint64_t addr, uint64_t n) const {
  if (addr < base_) return false;
  const uint64_t off = addr - base_;
  return off <= mem_.size() && n <= mem_.size() - off;
}

void AxiMemory::write(uint64_t addr, const void* src, size_t n) {
  if (!in_range(addr, n)) {
    throw std::out_of_range("AxiMemory::write: [" + hex(addr) + ", +" + hex(n) +
                            ") outside memory [" + hex(base_) + ", +" + hex(mem_.size()) + ")");
  }
  if (n != 0) std::memcpy(mem_.data() + (addr - base_), src, n);
}

void AxiMemory::read(uint64_t addr, void* dst, size_t n) const {
  if (!in_range(addr, n)) {
    throw std::out_of_range("AxiMemory::read: [" + hex(addr) + ", +" + hex(n) +
                            ") outside memory [" + hex(base_) + ", +" + hex(mem_.size()) + ")");
  }
  if (n != 0) std::memcpy(dst, mem_.data() + (addr - base_), n);
}

void AxiMemory::inject_error(uint64_t lo, uint64_t hi, AxiResp resp, bool reads, bool writes) {
  if (lo >= hi) {
    throw std::invalid_argument("AxiMemory::inject_error: empty range [" + hex(lo) + ", " +
                                hex(hi) + ")");
  }
  if (resp != AxiResp::kSlvErr && resp != AxiResp::kDecErr) {
    throw std::invalid_argument("AxiMemory::inject_error: response must be SLVERR or DECERR, not " +
                                std::string(to_string(resp)));
  }
  errors_.push_back(ErrorRange{lo, hi, resp, reads, writes});
}

void AxiMemory::clear_errors() { errors_.clear(); }

// ---------------------------------------------------------------------------------------------
// Bookkeeping

void AxiMemory::idle_outputs() {
  out_ = AxiSlaveSignals{};
  out_.rdata.assign(cfg_.data_bytes, 0);
  // Ready for addresses straight away: the limits are at least 1.
  out_.arready = true;
  out_.awready = true;
  // wready waits until W data or an address is seen (see tick()): raising it costs bandwidth
  // tokens that reads could use.
  out_.wready = false;
}

void AxiMemory::reset() {
  reads_.clear();
  writes_.clear();
  early_w_.clear();
  tokens_ = 0.0;
  prefer_write_ = false;
  have_prev_ = false;  // the master is reset too: nothing to hold stable across the reset
  idle_outputs();
}

void AxiMemory::clear_stats() {
  stats_ = Stats{};
  violations_.clear();
  violations_dropped_ = 0;
}

void AxiMemory::violation(const std::string& what) {
  // Bounded: a master stuck in a bad state would otherwise add one message per cycle forever.
  if (violations_.size() < kMaxViolations) {
    violations_.push_back("cycle " + std::to_string(cycle_) + ": " + what);
    return;
  }
  ++violations_dropped_;
  const std::string more = "... " + std::to_string(violations_dropped_) + " more violations";
  if (violations_.size() == kMaxViolations) {
    violations_.push_back(more);
  } else {
    violations_.back() = more;
  }
}

// ---------------------------------------------------------------------------------------------
// Burst decoding and addressing (AXI4 spec, A3.4)

AxiMemory::Burst AxiMemory::accept_burst(bool is_read, uint64_t addr, uint8_t len, uint8_t size,
                                         uint8_t type, uint32_t id) {
  Burst b;
  b.addr = addr;
  b.beats = uint32_t{len} + 1;
  b.type = type;
  b.id = id;
  const std::string desc = std::string(is_read ? "AR" : "AW") + " addr " + hex(addr) + " len " +
                           std::to_string(len) + " size " + std::to_string(size) + " " +
                           std::string(burst_name(type)) + " id " + std::to_string(id);

  // A size or burst type the model cannot interpret: answer SLVERR without touching memory,
  // so the master sees an error rather than plausible-looking data.
  if (size > max_size_log2_) {
    violation(desc + ": " + std::to_string(1u << std::min<uint32_t>(size, 31)) +
              "-byte beats are wider than the " + std::to_string(cfg_.data_bytes) + "-byte bus");
    b.resp = AxiResp::kSlvErr;
    return b;
  }
  b.bytes = 1u << size;
  const uint64_t aligned = addr & ~uint64_t{b.bytes - 1};
  uint64_t lo = addr, n = 0;  // the bytes the burst touches: [lo, lo + n)
  switch (type) {
    case kAxiBurstFixed:
      if (b.beats > 16) violation(desc + ": FIXED bursts are at most 16 beats");
      n = b.bytes - (addr - aligned);
      break;
    case kAxiBurstIncr:
      n = uint64_t{b.beats} * b.bytes - (addr - aligned);
      break;
    case kAxiBurstWrap: {
      if (b.beats != 2 && b.beats != 4 && b.beats != 8 && b.beats != 16) {
        violation(desc + ": WRAP bursts are 2, 4, 8 or 16 beats");
        b.resp = AxiResp::kSlvErr;
        return b;
      }
      if (addr != aligned) {
        violation(desc + ": WRAP burst address not aligned to its beat size");
        b.resp = AxiResp::kSlvErr;
        return b;
      }
      n = uint64_t{b.beats} * b.bytes;
      lo = addr / n * n;
      break;
    }
    default:
      violation(desc + ": reserved burst type");
      b.resp = AxiResp::kSlvErr;
      return b;
  }
  b.geometry_ok = true;

  const bool wraps_2_64 = n - 1 > kU64Max - lo;
  if (type == kAxiBurstIncr && !wraps_2_64 && (lo >> 12) != ((lo + n - 1) >> 12)) {
    violation(desc + ": INCR burst crosses a 4 KiB boundary at " +
              hex(((lo >> 12) + 1) << 12));
  }
  if (wraps_2_64 || !in_range(lo, n)) {
    violation(desc + ": bytes [" + hex(lo) + ", +" + hex(n) + ") outside memory [" + hex(base_) +
              ", +" + hex(mem_.size()) + "), answered DECERR");
    b.resp = AxiResp::kDecErr;
    return b;
  }
  for (auto e = errors_.rbegin(); e != errors_.rend(); ++e) {
    if ((is_read ? e->reads : e->writes) && lo < e->hi && e->lo < lo + n) {
      b.resp = e->resp;
      break;
    }
  }
  return b;
}

uint64_t AxiMemory::beat_addr(const Burst& b, uint32_t i) const {
  const uint64_t aligned = b.addr & ~uint64_t{b.bytes - 1};
  switch (b.type) {
    case kAxiBurstFixed: return b.addr;
    case kAxiBurstWrap: {
      const uint64_t total = uint64_t{b.beats} * b.bytes;
      const uint64_t boundary = b.addr / total * total;
      return boundary + ((b.addr - boundary) + uint64_t{i} * b.bytes) % total;
    }
    default:  // INCR: the first beat may be unaligned, the later ones are aligned
      return i == 0 ? b.addr : aligned + uint64_t{i} * b.bytes;
  }
}

// The byte lanes beat i uses: from the lane of its address to the end of its size-aligned
// chunk, so an unaligned first beat uses fewer lanes (AXI4 spec, A3.4.2 narrow transfers).
void AxiMemory::beat_lanes(const Burst& b, uint32_t i, uint32_t& lo, uint32_t& hi) const {
  const uint64_t a = beat_addr(b, i);
  const uint64_t db = cfg_.data_bytes;
  lo = static_cast<uint32_t>(a % db);
  hi = static_cast<uint32_t>((a & ~uint64_t{b.bytes - 1}) % db) + b.bytes - 1;
}

// ---------------------------------------------------------------------------------------------
// Data movement

void AxiMemory::present_read_beat() {
  const Burst& b = reads_.front();
  out_.rvalid = true;
  out_.rid = b.id;
  out_.rresp = b.resp;
  out_.rlast = b.done + 1 == b.beats;
  std::fill(out_.rdata.begin(), out_.rdata.end(), uint8_t{0});
  if (b.resp != AxiResp::kOkay) return;
  uint32_t lo = 0, hi = 0;
  beat_lanes(b, b.done, lo, hi);
  const uint64_t line = beat_addr(b, b.done) & ~uint64_t{cfg_.data_bytes - 1};
  // line + lo >= base_ and line + hi < base_ + size: the whole burst footprint was checked.
  std::memcpy(out_.rdata.data() + lo, mem_.data() + (line + lo - base_), hi - lo + 1);
}

AxiMemory::Burst* AxiMemory::first_write_awaiting_data() {
  for (Burst& b : writes_) {
    if (b.done < b.beats) return &b;
  }
  return nullptr;
}

// W data belongs to the AWs in their order; beats that came before their AW wait here.
void AxiMemory::drain_early_w() {
  while (!early_w_.empty()) {
    Burst* b = first_write_awaiting_data();
    if (b == nullptr) return;
    apply_write_beat(*b, early_w_.front());
    early_w_.pop_front();
  }
}

void AxiMemory::apply_write_beat(Burst& b, const WBeat& w) {
  const uint32_t i = b.done;
  const bool last = i + 1 == b.beats;
  if (w.last != last) {
    violation("W beat " + std::to_string(i + 1) + " of " + std::to_string(b.beats) +
              " of the burst to " + hex(b.addr) + " id " + std::to_string(b.id) +
              (last ? ": WLAST low on the last beat" : ": WLAST high before the last beat"));
  }
  if (b.geometry_ok) {
    uint32_t lo = 0, hi = 0;
    beat_lanes(b, i, lo, hi);
    const uint64_t mask = lane_mask(lo, hi);
    if ((w.strb & ~mask) != 0) {
      violation("W beat " + std::to_string(i + 1) + " of the burst to " + hex(b.addr) +
                ": WSTRB " + hex(w.strb) + " enables lanes outside the active lanes " +
                hex(mask) + " (ignored)");
    }
    if (b.resp == AxiResp::kOkay) {
      const uint64_t line = beat_addr(b, i) & ~uint64_t{cfg_.data_bytes - 1};
      for (uint32_t lane = lo; lane <= hi; ++lane) {
        if ((w.strb >> lane) & 1) {
          mem_[line + lane - base_] = w.data[lane];
          ++stats_.bytes_written;
        }
      }
    }
  }
  if (++b.done == b.beats) {
    // Registered outputs: B can appear in the next cycle at the earliest.
    b.ready_cycle = cycle_ + std::max<uint32_t>(1, cfg_.write_latency);
  }
}

// ---------------------------------------------------------------------------------------------
// Protocol checks on the master's side

void AxiMemory::check_stability(const AxiMasterSignals& in) {
  if (!have_prev_) return;
  const AxiMasterSignals& p = prev_in_;
  // AXI: once valid is high, valid and the payload hold until the handshake.
  if (p.arvalid && !prev_arready_) {
    if (!in.arvalid) {
      violation("ARVALID dropped before ARREADY (AR addr " + hex(p.araddr) + ")");
    } else if (in.araddr != p.araddr || in.arlen != p.arlen || in.arsize != p.arsize ||
               in.arburst != p.arburst || in.arid != p.arid) {
      violation("AR payload changed while ARVALID high and ARREADY low (addr " + hex(p.araddr) +
                " -> " + hex(in.araddr) + ")");
    }
  }
  if (p.awvalid && !prev_awready_) {
    if (!in.awvalid) {
      violation("AWVALID dropped before AWREADY (AW addr " + hex(p.awaddr) + ")");
    } else if (in.awaddr != p.awaddr || in.awlen != p.awlen || in.awsize != p.awsize ||
               in.awburst != p.awburst || in.awid != p.awid) {
      violation("AW payload changed while AWVALID high and AWREADY low (addr " + hex(p.awaddr) +
                " -> " + hex(in.awaddr) + ")");
    }
  }
  if (p.wvalid && !prev_wready_) {
    if (!in.wvalid) {
      violation("WVALID dropped before WREADY");
    } else if (in.wdata != p.wdata || in.wstrb != p.wstrb || in.wlast != p.wlast) {
      violation("W payload changed while WVALID high and WREADY low");
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The clock edge

void AxiMemory::tick(const AxiMasterSignals& in) {
  const uint64_t c = cycle_;  // the cycle that ends at this edge
  const size_t db = cfg_.data_bytes;
  check_stability(in);

  const bool ar_hs = in.arvalid && out_.arready;
  const bool r_hs = out_.rvalid && in.rready;
  const bool aw_hs = in.awvalid && out_.awready;
  const bool w_hs = in.wvalid && out_.wready;
  const bool b_hs = out_.bvalid && in.bready;

  ++stats_.cycles;
  if (!reads_.empty() || ar_hs) ++stats_.read_busy_cycles;
  if (!writes_.empty() || !early_w_.empty() || aw_hs || w_hs) ++stats_.write_busy_cycles;

  // Handshakes of this cycle.
  if (r_hs) {
    Burst& b = reads_.front();
    ++stats_.read_beats;
    if (b.resp == AxiResp::kOkay) {
      uint32_t lo = 0, hi = 0;
      beat_lanes(b, b.done, lo, hi);
      stats_.bytes_read += hi - lo + 1;
    }
    if (++b.done == b.beats) reads_.pop_front();
  }
  if (b_hs) writes_.pop_front();
  if (ar_hs) {
    Burst b = accept_burst(true, in.araddr, in.arlen, in.arsize, in.arburst, in.arid);
    // Registered outputs: data can appear in the next cycle at the earliest.
    b.ready_cycle = c + std::max<uint32_t>(1, cfg_.read_latency);
    reads_.push_back(b);
    ++stats_.read_bursts;
  }
  if (aw_hs) {
    writes_.push_back(accept_burst(false, in.awaddr, in.awlen, in.awsize, in.awburst, in.awid));
    ++stats_.write_bursts;
  }
  if (w_hs) {
    ++stats_.write_beats;
    WBeat w{in.wdata, in.wstrb, in.wlast};
    if (w.data.size() != db) {
      violation("W beat with " + std::to_string(w.data.size()) + " data bytes on a " +
                std::to_string(db) + "-byte bus");
      w.data.resize(db, 0);
    }
    early_w_.push_back(std::move(w));
  }
  drain_early_w();  // after the AW above, so a W beat and its AW may come in the same cycle

  // Bandwidth. wready reserved a beat's tokens when it was raised; give them back if the
  // master did not use it. Then refill for this cycle.
  const bool unlimited = cfg_.bytes_per_cycle <= 0.0;
  const double beat = static_cast<double>(db);
  if (!unlimited) {
    if (out_.wready && !w_hs) tokens_ += beat;
    tokens_ = std::min(bucket_cap_, tokens_ + cfg_.bytes_per_cycle);
  }

  // Which data beats want to move in the next cycle.
  const bool hold_r = out_.rvalid && !in.rready;  // AXI: rvalid and its payload hold
  const bool want_r = !hold_r && !reads_.empty() && reads_.front().ready_cycle <= c + 1;
  // W: only while W data is coming (a master must raise WVALID without waiting for WREADY, so
  // this cannot deadlock) or an accepted or offered address still needs data, and while the
  // early-beat buffer has room.
  const bool want_w = early_w_.size() < kMaxEarlyWBeats &&
                      (in.wvalid || in.awvalid || first_write_awaiting_data() != nullptr);
  bool grant_r = false, grant_w = false;
  if (unlimited) {
    grant_r = want_r;
    grant_w = want_w;
  } else if (want_r && want_w && tokens_ < 2 * beat && tokens_ >= beat) {
    // Tokens for one beat only: alternate, so neither direction starves the other.
    grant_w = prefer_write_;
    grant_r = !prefer_write_;
    prefer_write_ = !prefer_write_;
  } else {
    grant_r = want_r && tokens_ >= beat;
    grant_w = want_w && tokens_ >= beat * (grant_r ? 2 : 1);
  }
  if (!unlimited) {
    if (grant_r) tokens_ -= beat;
    if (grant_w) tokens_ -= beat;
  }

  // Remember this cycle for the stability checks of the next one.
  prev_in_ = in;
  prev_arready_ = out_.arready;
  prev_awready_ = out_.awready;
  prev_wready_ = out_.wready;
  have_prev_ = true;

  // Next registered outputs.
  ++cycle_;
  out_.arready = reads_.size() < cfg_.max_outstanding_reads;
  out_.awready = writes_.size() < cfg_.max_outstanding_writes;
  out_.wready = grant_w;
  if (!hold_r) {
    if (grant_r) {
      present_read_beat();
    } else {
      out_.rvalid = false;
      out_.rlast = false;
    }
  }
  if (!(out_.bvalid && !in.bready)) {
    const bool b_ready = !writes_.empty() && writes_.front().done == writes_.front().beats &&
                         writes_.front().ready_cycle <= cycle_;
    out_.bvalid = b_ready;
    if (b_ready) {
      out_.bid = writes_.front().id;
      out_.bresp = writes_.front().resp;
    }
  }
}

}  // namespace ks::emu
