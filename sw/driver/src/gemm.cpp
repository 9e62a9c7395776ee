#include "kestrel/driver/gemm.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "kestrel/driver/layout.h"
#include "kestrel/regs.h"

namespace ks::drv {

namespace {

size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

uint64_t read_counter(Device& dev, regs::Counter c) {
  const uint32_t lo = dev.read32(regs::counter_lo(c));
  const uint32_t hi = dev.read32(regs::counter_lo(c) + 4);
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

struct Counters {
  uint64_t cycles, macs, beats, rd, wr;
};

Counters snapshot(Device& dev) {
  return Counters{read_counter(dev, regs::Counter::kCycles), read_counter(dev, regs::Counter::kMacs),
                  read_counter(dev, regs::Counter::kMuBusy), read_counter(dev, regs::Counter::kBytesRead),
                  read_counter(dev, regs::Counter::kBytesWritten)};
}

/// Copies the sub-matrix rows [r0, r0+nr) x columns [c0, c0+nc) of a row-major matrix with
/// `k` columns in memory layout `p` (for INT4, c0 and k are in elements; c0 must be even).
std::vector<uint8_t> sub_weights(golden::Precision p, const uint8_t* w, size_t k, size_t r0, size_t nr, size_t c0,
                                 size_t nc) {
  const size_t src_row = golden::weight_row_bytes(p, k);
  const size_t dst_row = golden::weight_row_bytes(p, nc);
  const size_t off = p == golden::Precision::kInt4 ? c0 / 2 : c0;
  std::vector<uint8_t> out(nr * dst_row, 0);
  for (size_t r = 0; r < nr; ++r) {
    std::memcpy(&out[r * dst_row], w + (r0 + r) * src_row + off, dst_row);
    if (p == golden::Precision::kInt4 && (nc & 1)) out[r * dst_row + dst_row - 1] &= 0x0F;
  }
  return out;
}

std::vector<int8_t> sub_acts(const int8_t* x, size_t k, size_t r0, size_t nr, size_t c0, size_t nc) {
  std::vector<int8_t> out(nr * nc);
  for (size_t r = 0; r < nr; ++r) std::memcpy(&out[r * nc], x + (r0 + r) * k + c0, nc);
  return out;
}

}  // namespace

uint32_t DeviceArena::alloc(size_t bytes, size_t align) {
  const size_t start = (used_ + align - 1) / align * align;
  if (start + bytes > size_) {
    throw std::runtime_error("device memory arena: " + std::to_string(bytes) + " bytes requested, " +
                             std::to_string(size_ - std::min(size_, start)) + " of " + std::to_string(size_) +
                             " left");
  }
  used_ = start + bytes;
  return base_ + static_cast<uint32_t>(start);
}

GemmTiling plan_gemm(const hw::HwConfig& cfg, golden::Precision p, size_t m, size_t n, size_t k) {
  if (m == 0 || n == 0 || k == 0) throw std::invalid_argument("gemm: a dimension is zero");
  const size_t rows = cfg.array_rows, per_word = 2 * cfg.array_cols;
  const size_t kb = p == golden::Precision::kInt4 ? 2 * cfg.array_cols : cfg.array_cols;
  // Each bank is used as two halves: one being filled or drained while the other computes.
  const size_t wgt_half = cfg.wgt_bank_bytes / 2 / cfg.wgt_word_bytes;  // tiles
  const size_t act_half = cfg.act_bank_bytes / 2 / cfg.act_word_bytes;  // words
  const size_t acc_half = cfg.acc_bank_bytes / 2 / cfg.acc_word_bytes;  // words
  if (wgt_half == 0 || act_half == 0 || acc_half == 0) {
    throw std::invalid_argument("gemm: a bank of configuration '" + std::string(cfg.name) + "' is too small to halve");
  }
  GemmTiling t;
  // Reduction tile: all of K if one weight block and one activation row fit, else the
  // largest multiple of 2 x cols that does (partial sums are added on the host).
  const size_t k_by_wgt = wgt_half * kb, k_by_act = act_half * per_word;
  t.kt = std::min({k, k_by_wgt, k_by_act});
  if (t.kt < k) t.kt = t.kt / per_word * per_word;
  const size_t kc = ceil_div(t.kt, kb), kx = ceil_div(t.kt, per_word);
  // Output tile: as many weight row blocks as fit the WGT half and one ACC row.
  const size_t nb_max = std::min(wgt_half / kc, acc_half);
  t.nt = std::min(ceil_div(n, rows), nb_max) * rows;
  const size_t nb = ceil_div(std::min(t.nt, n), rows);
  // Token tile: as many rows as fit the ACT half and the ACC half.
  t.mt = std::min({m, act_half / kx, acc_half / nb});
  t.m_tiles = ceil_div(m, t.mt);
  t.n_tiles = ceil_div(n, t.nt);
  t.k_tiles = ceil_div(k, t.kt);
  return t;
}

std::vector<int32_t> gemm(Device& dev, CommandQueue& q, DeviceArena& arena, golden::Precision p, const int8_t* x,
                          const uint8_t* w, size_t m, size_t n, size_t k, GemmTiling* tiling, GemmStats* stats,
                          double mem_bytes_per_cycle) {
  const hw::HwConfig& cfg = dev.config();
  GemmTiling t = plan_gemm(cfg, p, m, n, k);
  const size_t wgt_half = cfg.wgt_bank_bytes / 2 / cfg.wgt_word_bytes * cfg.wgt_word_bytes;
  const size_t act_half = cfg.act_bank_bytes / 2 / cfg.act_word_bytes * cfg.act_word_bytes;
  const size_t acc_half = cfg.acc_bank_bytes / 2 / cfg.acc_word_bytes * cfg.acc_word_bytes;

  // Stage operands in device memory in the bank layouts.
  std::vector<uint32_t> w_addr(t.n_tiles * t.k_tiles), w_bytes(t.n_tiles * t.k_tiles);
  for (size_t j = 0; j < t.n_tiles; ++j) {
    for (size_t kt = 0; kt < t.k_tiles; ++kt) {
      const size_t n0 = j * t.nt, nn = std::min(t.nt, n - n0), k0 = kt * t.kt, kn = std::min(t.kt, k - k0);
      const auto sub = sub_weights(p, w, k, n0, nn, k0, kn);
      const auto img = pack_weights(cfg, p, sub.data(), nn, kn);
      const size_t idx = j * t.k_tiles + kt;
      w_addr[idx] = arena.alloc(img.size());
      w_bytes[idx] = static_cast<uint32_t>(img.size());
      dev.mem_write(w_addr[idx], img.data(), img.size());
    }
  }
  std::vector<uint32_t> x_addr(t.m_tiles * t.k_tiles), x_bytes(t.m_tiles * t.k_tiles);
  for (size_t i = 0; i < t.m_tiles; ++i) {
    for (size_t kt = 0; kt < t.k_tiles; ++kt) {
      const size_t m0 = i * t.mt, mm = std::min(t.mt, m - m0), k0 = kt * t.kt, kn = std::min(t.kt, k - k0);
      const auto sub = sub_acts(x, k, m0, mm, k0, kn);
      const auto img = pack_activations(cfg, sub.data(), mm, kn);
      const size_t idx = i * t.k_tiles + kt;
      x_addr[idx] = arena.alloc(img.size());
      x_bytes[idx] = static_cast<uint32_t>(img.size());
      dev.mem_write(x_addr[idx], img.data(), img.size());
    }
  }

  // The program: steps (n tile j, k tile kt, m tile i), weights reused across i.
  struct Step {
    size_t j, kt, i;
    uint32_t y_addr, y_bytes;
  };
  std::vector<Step> steps;
  for (size_t j = 0; j < t.n_tiles; ++j) {
    for (size_t kt = 0; kt < t.k_tiles; ++kt) {
      for (size_t i = 0; i < t.m_tiles; ++i) steps.push_back(Step{j, kt, i, 0, 0});
    }
  }
  const size_t S = steps.size();
  std::vector<desc::Words> prog;
  for (size_t s = 0; s < S; ++s) {
    Step& st = steps[s];
    const size_t nn = std::min(t.nt, n - st.j * t.nt), kn = std::min(t.kt, k - st.kt * t.kt);
    const size_t mm = std::min(t.mt, m - st.i * t.mt);
    const MatmulLayout l = matmul_layout(cfg, p, mm, kn, nn);
    const uint32_t wbuf = static_cast<uint32_t>(((st.j * t.k_tiles + st.kt) % 2) * wgt_half);
    const uint32_t abuf = static_cast<uint32_t>((s % 2) * act_half);
    const uint32_t cbuf = static_cast<uint32_t>((s % 2) * acc_half);
    st.y_bytes = static_cast<uint32_t>(l.acc_bytes);
    st.y_addr = arena.alloc(l.acc_bytes);
    // Loads: the first waits for MATMUL s-2 to free the halves it reuses; the last tells
    // the compute engine that the step's operands are in.
    std::vector<desc::Words> loads;
    const size_t widx = st.j * t.k_tiles + st.kt;
    if (st.i == 0) loads.push_back(make_load({desc::Bank::kWgt, wbuf, w_addr[widx], 1, w_bytes[widx], 0, 0}));
    const size_t xidx = st.i * t.k_tiles + st.kt;
    loads.push_back(make_load({desc::Bank::kAct, abuf, x_addr[xidx], 1, x_bytes[xidx], 0, 0}));
    desc::kPopNext.set(loads.front(), s >= 2);
    desc::kPushNext.set(loads.back(), true);
    prog.insert(prog.end(), loads.begin(), loads.end());
    // The matrix product: needs its operands and a free ACC half (STORE s-2 done).
    prog.push_back(make_matmul({p == golden::Precision::kInt4, static_cast<uint32_t>(mm),
                                static_cast<uint32_t>(kn), static_cast<uint32_t>(nn), wbuf, abuf, cbuf},
                               {true, s >= 2, s + 2 < S, true}));
    // Results out; frees the ACC half for MATMUL s+2.
    prog.push_back(make_store({desc::Bank::kAcc, cbuf, st.y_addr, 1, st.y_bytes, 0, 0}, {true, false, s + 2 < S, false}));
  }
  t.descriptors = prog.size() + 1;

  const Counters before = snapshot(dev);
  q.wait(q.stream_and_complete(prog));
  const Counters after = snapshot(dev);

  std::vector<int32_t> y(m * n, 0);
  std::vector<uint8_t> img;
  for (const Step& st : steps) {
    const size_t n0 = st.j * t.nt, nn = std::min(t.nt, n - n0), m0 = st.i * t.mt, mm = std::min(t.mt, m - m0);
    img.resize(st.y_bytes);
    dev.mem_read(st.y_addr, img.data(), img.size());
    const auto part = unpack_results(cfg, img.data(), mm, nn);
    for (size_t r = 0; r < mm; ++r) {
      for (size_t c = 0; c < nn; ++c) {
        int32_t& dst = y[(m0 + r) * n + n0 + c];
        dst = static_cast<int32_t>(static_cast<uint32_t>(dst) + static_cast<uint32_t>(part[r * nn + c]));
      }
    }
  }
  if (tiling) *tiling = t;
  if (stats) {
    const double bw = mem_bytes_per_cycle > 0 ? mem_bytes_per_cycle : cfg.mem_bytes_per_cycle;
    GemmStats g;
    g.cycles = after.cycles - before.cycles;
    g.macs = after.macs - before.macs;
    g.compute_cycles = after.beats - before.beats;
    g.bytes_read = after.rd - before.rd;
    g.bytes_written = after.wr - before.wr;
    const double peak = static_cast<double>(p == golden::Precision::kInt4 ? cfg.peak_macs_int4 : cfg.peak_macs_int8);
    const double bytes = static_cast<double>(g.bytes_read + g.bytes_written);
    g.transfer_cycles = bytes / bw;
    if (g.cycles > 0) {
      g.utilization = static_cast<double>(g.macs) / (static_cast<double>(g.cycles) * peak);
      g.overlap = static_cast<double>(g.cycles) /
                  std::max(static_cast<double>(g.compute_cycles), g.transfer_cycles);
      g.bandwidth_fraction = bytes / (static_cast<double>(g.cycles) * bw);
    }
    *stats = g;
  }
  return y;
}

}  // namespace ks::drv
