// The decode compiler: QuantModel -> device memory image + DECODE step program. Every
// vector instruction below reproduces one line of QuantModel::forward (sw/runtime/src/
// quant.cpp) in the same KFP32 operations and order; the comments name the line.
#include "kestrel/runtime/decode_program.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <numeric>
#include <stdexcept>
#include <string>

#include "kestrel/driver/layout.h"
#include "kestrel/driver/queue.h"
#include "kestrel/golden/kfp.h"
#include "kestrel/golden/kvec.h"

namespace ks::rt {

namespace kfp = golden::kfp;
namespace kvec = golden::kvec;
using golden::VecInstr;
using golden::VecKind;
using kfp::AluOp;

const char* placement_name(Placement p) {
  switch (p) {
    case Placement::kAuto: return "auto";
    case Placement::kResident: return "resident";
    case Placement::kStreamed: return "streamed";
  }
  return "?";
}

namespace {

uint32_t round_up(uint64_t v, uint64_t m) { return static_cast<uint32_t>((v + m - 1) / m * m); }
uint32_t ceil_div(uint64_t a, uint64_t b) { return static_cast<uint32_t>((a + b - 1) / b); }

void put32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

}  // namespace

/// Builds a DecodeProgram; one instance per compilation.
class DecodeCompiler {
 public:
  DecodeCompiler(DecodeProgram& out, const QuantModel& m, const hw::HwConfig& cfg, uint64_t base, size_t size,
                 const DecodeBuildOptions& opt)
      : p_(out), m_(m), c_(m.config()), cfg_(cfg), opt_(opt), L_(cfg.vec_lanes) {
    if (!cfg.vector_unit) {
      throw std::invalid_argument("decode: configuration '" + std::string(cfg.name) +
                                  "' has no vector unit (vector_unit = 0 in rtl/cfg/hw_configs.json): a step program "
                                  "needs it for RMSNorm, attention, softmax and the other float work; compile for a "
                                  "configuration with one (ecp5, odd)");
    }
    if (base > 0xFFFFFFFFull || size > 0xFFFFFFFFull - base) {
      throw std::invalid_argument("decode: device memory must lie below 4 GiB (32-bit DMA addresses)");
    }
    mem_next_ = round_up(base, 64);
    mem_limit_ = static_cast<uint32_t>(base + size);
    p_.mem_base_ = static_cast<uint32_t>(base);
  }

  void build();

 private:
  /// One matrix product of the step: its layout in memory and in WGT.
  struct Mat {
    std::string name;
    golden::Precision p = golden::Precision::kInt8;
    uint32_t n = 0, k = 0;       ///< outputs (padded parts included), inputs
    uint32_t npad = 0;           ///< elements per group vector in the vector memory
    uint32_t groups = 0;         ///< partial sums per output
    uint32_t group_field = 0;    ///< MATMUL GROUP
    uint32_t wgt_host = 0, wgt_bytes = 0, wgt_sram = 0;
    uint32_t scales_host = 0;    ///< [groups][npad] KFP32
    bool resident = false;
    uint64_t macs = 0;
  };

  // ---- device memory ------------------------------------------------------------------------
  uint32_t alloc(size_t bytes, const char* what) {
    const uint64_t at = mem_next_;
    if (at + bytes > mem_limit_) {
      throw std::invalid_argument(std::string("decode: device memory too small for ") + what + " (needs " +
                                  std::to_string(at + bytes - p_.mem_base_) + " bytes)");
    }
    mem_next_ = round_up(at + bytes, 64);
    return static_cast<uint32_t>(at);
  }
  uint32_t put(std::vector<uint8_t> bytes, const char* what) {
    bytes.resize(round_up(bytes.size(), cfg_.axi_data_bytes), 0);
    const uint32_t at = alloc(bytes.size(), what);
    p_.image_.push_back({at, std::move(bytes)});
    return at;
  }
  uint32_t put_floats(const std::vector<kfp::Bits>& v, const char* what) {
    std::vector<uint8_t> b(4 * v.size());
    for (size_t i = 0; i < v.size(); ++i) put32(b, 4 * i, v[i]);
    return put(std::move(b), what);
  }
  uint32_t vec_bytes(uint32_t elems) const { return round_up(uint64_t{elems} * 4, cfg_.axi_data_bytes); }

  // ---- matrices -----------------------------------------------------------------------------
  /// Rows of several QMatrix stacked (each part padded to `part_pad` rows with zeros).
  Mat make_mat(const std::string& name, const std::vector<const QMatrix*>& parts, uint32_t part_pad);

  // ---- instructions -------------------------------------------------------------------------
  /// Appends a descriptor to the step program. VEC descriptors are held back and go out as
  /// one VRUN per run of them (flush_vec), when a descriptor of another kind follows.
  void emit(const desc::Words& w) {
    if (desc::kOpcode.get(w) == static_cast<uint32_t>(desc::Opcode::kVec)) {
      pending_vec_.push_back(w);
      ++p_.vec_instrs_;
      return;
    }
    flush_vec();
    p_.step_.push_back(w);
  }
  /// The held-back VEC descriptors as a VRUN of program-memory entries: the entries of an
  /// identical earlier run if there is one, else new ones; as VEC descriptors if the
  /// program memory is off or full. d: the run's tokens with the load engine (pop_prev
  /// before its first instruction, push_prev after its last).
  void flush_vec(drv::Deps d = {}) {
    if (pending_vec_.empty()) {
      if (d.pop_prev || d.push_prev) throw std::logic_error("decode: tokens on an empty vector run");
      return;
    }
    std::vector<golden::VecEntry> run;
    for (const desc::Words& w : pending_vec_) run.push_back(golden::VecEntry{w[1], w[2], w[3], w[4]});
    const auto it = runs_.find(run);
    if (it != runs_.end()) {
      p_.step_.push_back(drv::make_vrun(it->second, static_cast<uint32_t>(run.size()), d));
    } else if (opt_.vector_program && run.size() <= 0xFFFF && p_.vprog_.size() + run.size() <= cfg_.vec_prog_depth) {
      const auto start = static_cast<uint32_t>(p_.vprog_.size());
      p_.vprog_.insert(p_.vprog_.end(), run.begin(), run.end());
      runs_.emplace(run, start);
      p_.step_.push_back(drv::make_vrun(start, static_cast<uint32_t>(run.size()), d));
    } else {
      desc::kPopPrev.set(pending_vec_.front(), d.pop_prev);
      desc::kPushPrev.set(pending_vec_.back(), d.push_prev);
      p_.step_.insert(p_.step_.end(), pending_vec_.begin(), pending_vec_.end());
    }
    pending_vec_.clear();
  }
  void vec(VecKind kind, AluOp op, uint32_t dst, uint32_t a, uint32_t b, uint32_t len, bool pos_len = false,
           uint32_t imm = 0, bool b_imm = false, bool swap_b = false, bool hist_a = false) {
    VecInstr in;
    in.hist_a = hist_a;
    in.kind = kind;
    in.op = op;
    in.dst = static_cast<uint16_t>(dst);
    in.a = static_cast<uint16_t>(a);
    in.b = static_cast<uint16_t>(b);
    in.len = static_cast<uint16_t>(len);
    in.imm = imm;
    in.b_imm = b_imm;
    in.swap_b = swap_b;
    emit(drv::make_vec(in, pos_len));
  }
  void vv(AluOp op, uint32_t d, uint32_t a, uint32_t b, uint32_t len, bool pos_len = false, bool swap_b = false) {
    vec(VecKind::kVV, op, d, a, b, len, pos_len, 0, false, swap_b);
  }
  void vs(AluOp op, uint32_t d, uint32_t a, uint32_t s, uint32_t len, bool pos_len = false) {
    vec(VecKind::kVS, op, d, a, s, len, pos_len);
  }
  void vi(AluOp op, uint32_t d, uint32_t a, kfp::Bits imm, uint32_t len, bool pos_len = false) {
    vec(VecKind::kVS, op, d, a, 0, len, pos_len, imm, true);
  }
  void ss(AluOp op, uint32_t d, uint32_t a, uint32_t b) { vec(VecKind::kSS, op, d, a, b, 0); }
  /// MULADD: form 0 d = a x b + imm; 1 d = b - a x imm; 2 d = imm - a x b (two roundings,
  /// exactly the two instructions it replaces).
  void mad(uint32_t form, uint32_t d, uint32_t a, uint32_t b, kfp::Bits imm, uint32_t len, bool pos_len = false) {
    vec(VecKind::kMulAdd, static_cast<AluOp>(form), d, a, b, len, pos_len, imm);
  }
  void si(AluOp op, uint32_t d, uint32_t a, kfp::Bits imm) { vec(VecKind::kSS, op, d, a, 0, 0, false, imm, true); }
  void sets(uint32_t d, kfp::Bits v) { vec(VecKind::kSetS, AluOp::kAdd, d, 0, 0, 0, false, v); }
  void reduce(VecKind k, uint32_t s, uint32_t row, uint32_t len, bool pos_len = false) {
    vec(k, AluOp::kAdd, s, row, 0, len, pos_len);
  }

  /// LOAD or STORE of `elems` elements between memory and vector row `row`.
  desc::Words xfer_vec(bool load, uint32_t row, uint32_t host, uint32_t elems) {
    drv::Xfer x;
    x.bank = desc::Bank::kVec;
    x.sram_addr = row * L_ * 4;
    x.host_addr = host;
    x.rows = 1;
    x.row_bytes = vec_bytes(elems);
    x.host_stride = x.row_bytes;
    x.sram_stride = x.row_bytes;
    return load ? drv::make_load(x) : drv::make_store(x);
  }

  /// dst = e^x elementwise (kvec::exp), len elements; temps nI, nF, r, t (rows).
  void exp_v(uint32_t dst, uint32_t x, uint32_t len, bool pos_len, uint32_t nI, uint32_t nF, uint32_t r,
             uint32_t t) {
    const kvec::ExpConstants& k = kvec::exp_constants();
    vi(AluOp::kMul, t, x, k.log2e, len, pos_len);
    vi(AluOp::kToInt, nI, t, 200, len, pos_len);
    vi(AluOp::kFromInt, nF, nI, 0, len, pos_len);
    mad(1, r, nF, x, k.c1, len, pos_len);            // r = x - n C1
    mad(1, r, nF, r, k.c2, len, pos_len);            // r = r - n C2
    vi(AluOp::kMul, t, r, k.coef[7], len, pos_len);  // p = coef7 r (+ coef6 next)
    vi(AluOp::kAdd, t, t, k.coef[6], len, pos_len);
    for (int i = 5; i >= 0; --i) mad(0, t, t, r, k.coef[i], len, pos_len);  // p = p r + coef_i
    vv(AluOp::kScale2, dst, t, nI, len, pos_len);
  }

  /// QuantModel::rmsnorm: dst = w * (rsqrt(mean(x^2) + 1e-5) * x), n elements.
  void rmsnorm(uint32_t dst, uint32_t x, uint32_t weight_host, uint32_t n) {
    emit(xfer_vec(true, nw_, weight_host, n));
    p_.fixed_load_bytes_ += vec_bytes(n);
    vv(AluOp::kMul, t1_, x, x, n);
    reduce(VecKind::kSum, 0, t1_, n);
    si(AluOp::kMul, 0, 0, kvec::constant(1.0f / static_cast<float>(n)));
    si(AluOp::kAdd, 0, 0, kvec::constant(1e-5f));  // S0 = ms
    sets(1, kvec::constant(0.5f));
    ss(AluOp::kMul, 1, 1, 0);  // half_a = 0.5 ms
    si(AluOp::kShr1, 2, 0, 0);
    si(AluOp::kISub, 2, 2, kvec::kRsqrtMagic);  // r = magic - (a >> 1)
    sets(4, kvec::constant(1.5f));
    for (int i = 0; i < 3; ++i) {
      ss(AluOp::kMul, 5, 2, 2);  // r r
      ss(AluOp::kMul, 5, 1, 5);  // half_a (r r)
      ss(AluOp::kSub, 5, 4, 5);  // 1.5 - ...
      ss(AluOp::kMul, 2, 2, 5);  // r (...)
    }
    vs(AluOp::kMul, t1_, x, 2, n);        // r x (= mul(r, x))
    vv(AluOp::kMul, dst, nw_, t1_, n);    // w (r x)
  }

  /// dst = recip(src) elementwise on n elements (kvec::recip: the estimate, three Newton
  /// steps r (2 - a r)); tmp: a vector of n elements.
  void recip_v(uint32_t dst, uint32_t src, uint32_t n, uint32_t tmp) {
    vi(AluOp::kISub, dst, src, kvec::kRecipMagic, n);  // r = magic - a
    for (int i = 0; i < 3; ++i) {
      mad(2, tmp, src, dst, kvec::constant(2.0f), n);  // 2 - a r
      vv(AluOp::kMul, dst, dst, tmp, n);               // r (2 - a r)
    }
  }

  /// The groups' max|x| (QuantModel::quantize_wide's m) into vector vm_, |x| left in t1_.
  uint32_t group_maxima(uint32_t x, uint32_t n) {
    const uint32_t g_elems = static_cast<uint32_t>(m_.options().group);
    vi(AluOp::kAbs, t1_, x, 0, n);
    uint32_t groups = 0;
    for (uint32_t g = 0; g * g_elems < n; ++g, ++groups) {
      reduce(VecKind::kMax, 0, t1_ + g * g_elems / L_, std::min(g_elems, n - g * g_elems));  // m
      vec(VecKind::kStoreS, AluOp::kAdd, vm_, 0, 0, g);
    }
    return groups;
  }

  /// t1_ = x times its group's inverse scale (vector vinv_), group by group.
  void scale_groups(uint32_t x, uint32_t n) {
    const uint32_t g_elems = static_cast<uint32_t>(m_.options().group);
    for (uint32_t g = 0; g * g_elems < n; ++g) {
      const uint32_t row = g * g_elems / L_;
      vec(VecKind::kLoadS, AluOp::kAdd, 1, vinv_, 0, g);
      vs(AluOp::kMul, t1_ + row, x + row, 1, std::min(g_elems, n - g * g_elems));
    }
  }

  /// QuantModel::quantize_wide per group of x (n elements): INT values into q (rows), the
  /// scales into vector sx. qmax 127. The groups' reciprocals are one vector computation.
  void quantize(uint32_t x, uint32_t n, uint32_t q, uint32_t sx) {
    const uint32_t groups = group_maxima(x, n);
    recip_v(vr_, vm_, groups, ve_);
    vi(AluOp::kMul, vinv_, vr_, kfp::from_int(127), groups);           // inv = recip(m) * 127
    vi(AluOp::kMul, sx, vm_, kvec::recip(kfp::from_int(127)), groups);  // s = m * recip(127)
    scale_groups(x, n);
    vi(AluOp::kToInt, q, t1_, 127, n);
  }

  /// The 16-bit split of matvec_a16: hi, lo (rows) and scales sx per group.
  void quantize16(uint32_t x, uint32_t n, uint32_t hi, uint32_t lo, uint32_t sx) {
    const uint32_t groups = group_maxima(x, n);
    recip_v(vr_, vm_, groups, ve_);
    vi(AluOp::kMul, vinv_, vr_, kvec::constant(16256.0f), groups);
    vi(AluOp::kMul, sx, vm_, kvec::constant(1.0f / 16256.0f), groups);
    scale_groups(x, n);
    vi(AluOp::kToInt, t2_, t1_, 16256, n);      // v
    vi(AluOp::kFromInt, t2_, t2_, 0, n);        // vf
    vi(AluOp::kMul, t1_, t2_, kvec::constant(1.0f / 128), n);
    vi(AluOp::kToInt, hi, t1_, 127, n);         // hi
    vi(AluOp::kFromInt, t1_, hi, 0, n);
    vi(AluOp::kMul, t1_, t1_, kvec::constant(128.0f), n);
    vv(AluOp::kSub, t1_, t2_, t1_, n);          // vf - 128 hi
    vi(AluOp::kToInt, lo, t1_, 127, n);         // lo
  }

  /// y (rows out) = W x for x quantized in rows q (and q_lo for a16) with scales sx.
  void matvec(const Mat& w, uint32_t q, uint32_t sx, uint32_t out, bool a16 = false, uint32_t q_lo = 0);
  void load_weights(const Mat& w) {
    emit(drv::make_load(drv::Xfer{desc::Bank::kWgt, stream_buf_, w.wgt_host, 1, w.wgt_bytes, w.wgt_bytes, w.wgt_bytes},
                        drv::Deps{false, false, false, true}));
    p_.fixed_load_bytes_ += w.wgt_bytes;
  }

  // ---- state --------------------------------------------------------------------------------
  DecodeProgram& p_;
  const QuantModel& m_;
  const llm::ModelConfig& c_;
  const hw::HwConfig& cfg_;
  DecodeBuildOptions opt_;
  uint32_t L_;
  uint64_t mem_next_ = 0;
  uint32_t mem_limit_ = 0;
  uint32_t wgt_next_ = 0, stream_buf_ = 0;
  std::vector<Mat> mats_;  ///< in program order: per layer qkv, wo, w13, w2; the classifier
  int prefetched_ = -1;    ///< the matrix whose LOAD is already in flight
  std::vector<desc::Words> pending_vec_;                  ///< VEC descriptors not yet emitted
  std::map<std::vector<golden::VecEntry>, uint32_t> runs_;  ///< program-memory runs by content
  // vector memory rows
  uint32_t x_ = 0, xb_ = 0, xb2_ = 0, qkv_ = 0, h_ = 0, hb_ = 0, q8_ = 0, q8lo_ = 0, sx_ = 0;
  uint32_t vm_ = 0, vr_ = 0, ve_ = 0, vinv_ = 0;  // small vectors: per-group and per-head scalars
  uint32_t t1_ = 0, t2_ = 0, t3_ = 0, t4_ = 0, t5_ = 0, t6_ = 0, nw_ = 0, rc_ = 0, rs_ = 0, scratch_ = 0;
  uint32_t scratch_rows_ = 0;
};

DecodeCompiler::Mat DecodeCompiler::make_mat(const std::string& name, const std::vector<const QMatrix*>& parts,
                                             uint32_t part_pad) {
  Mat mt;
  mt.name = name;
  mt.p = parts[0]->p;
  mt.k = static_cast<uint32_t>(parts[0]->k);
  const uint32_t group = static_cast<uint32_t>(parts[0]->group);
  const size_t row_bytes = parts[0]->q.size() / static_cast<size_t>(parts[0]->n);
  std::vector<uint8_t> q;
  std::vector<uint32_t> offsets;  // first output row of each part
  for (const QMatrix* part : parts) {
    if (part->p != mt.p || static_cast<uint32_t>(part->k) != mt.k) {
      throw std::logic_error("decode: fused matrices differ in precision or K");
    }
    offsets.push_back(static_cast<uint32_t>(q.size() / row_bytes));
    q.insert(q.end(), part->q.begin(), part->q.end());
    const uint32_t rows = static_cast<uint32_t>(part->n);
    q.resize(q.size() + (round_up(rows, part_pad) - rows) * row_bytes, 0);
  }
  mt.n = static_cast<uint32_t>(q.size() / row_bytes);
  const bool int4 = mt.p == golden::Precision::kInt4;
  const uint32_t chunk = int4 ? 2 * cfg_.array_cols : cfg_.array_cols;
  if (group % chunk != 0 || ((group / chunk) & (group / chunk - 1)) != 0 || group % L_ != 0) {
    throw std::invalid_argument("decode: group size " + std::to_string(group) +
                                " must be a power-of-two multiple of the matrix unit's chunk (" +
                                std::to_string(chunk) + ") and a multiple of the vector lanes (" +
                                std::to_string(L_) + ")");
  }
  mt.group_field = 1;
  for (uint32_t cpg = group / chunk; cpg > 1; cpg >>= 1) ++mt.group_field;
  mt.groups = ceil_div(mt.k, group);
  const uint32_t lcm = std::lcm(cfg_.array_rows, L_);
  mt.npad = round_up(mt.n, lcm);
  const std::vector<uint8_t> img = drv::pack_weights(cfg_, mt.p, q.data(), mt.n, mt.k);
  mt.wgt_bytes = static_cast<uint32_t>(img.size());
  mt.wgt_host = put(img, "weights");
  // Scales [g][npad], zero for padding rows.
  std::vector<kfp::Bits> sc(size_t{mt.groups} * mt.npad, 0);
  for (size_t pi = 0; pi < parts.size(); ++pi) {
    const QMatrix& part = *parts[pi];
    for (int r = 0; r < part.n; ++r) {
      for (int g = 0; g < part.groups(); ++g) {
        sc[size_t(g) * mt.npad + offsets[pi] + r] = part.scales[size_t(r) * part.groups() + g];
      }
    }
    mt.macs += uint64_t(part.n) * uint64_t(part.k);
  }
  mt.scales_host = put_floats(sc, "weight scales");
  return mt;
}

void DecodeCompiler::matvec(const Mat& w, uint32_t q, uint32_t sx, uint32_t out, bool a16, uint32_t q_lo) {
  const uint32_t kx = ceil_div(w.k, 2 * cfg_.array_cols);
  const uint32_t m = a16 ? 2 : 1;
  // Activations into ACT (rows 0 and, for a16, 1 of X).
  drv::VmoveArgs mv;
  mv.dir = drv::VmoveDir::kVecToAct;
  mv.vec_elem = q * L_;
  mv.bank_addr = 0;
  mv.count = w.k;
  emit(drv::make_vmove(mv));
  if (a16) {
    mv.vec_elem = q_lo * L_;
    mv.bank_addr = kx * cfg_.act_word_bytes;
    emit(drv::make_vmove(mv));
  }
  // Streamed weights: LOADed into the stream buffer (here, or prefetched after the previous
  // product), handing the MATMUL a token.
  const uint32_t wgt = w.resident ? w.wgt_sram : stream_buf_;
  const int idx = static_cast<int>(&w - mats_.data());
  if (!w.resident) {
    if (prefetched_ != idx) load_weights(w);
    prefetched_ = -1;
  }
  drv::MatmulArgs a;
  a.int4 = w.p == golden::Precision::kInt4;
  a.m = m;
  a.k = w.k;
  a.n = w.n;
  a.wgt_addr = wgt;
  a.act_addr = 0;
  a.acc_addr = 0;
  a.group = w.group_field;
  emit(drv::make_matmul(a, drv::Deps{!w.resident, false, false, false}));
  p_.weight_macs_ += w.macs;
  p_.weight_bytes_ += w.wgt_bytes;
  // Partial sums regrouped: group g of row mi at P + g * gstride + mi * npad.
  const uint32_t nb = ceil_div(w.n, cfg_.array_rows);
  const uint32_t gstride = m * w.npad;
  const uint32_t P = scratch_, WS = scratch_ + w.groups * gstride / L_;
  const uint32_t T = WS + w.groups * w.npad / L_, U = T + w.npad / L_;
  if (U + w.npad / L_ > scratch_ + scratch_rows_) throw std::logic_error("decode: matvec scratch overflow");
  mv = {};
  mv.dir = drv::VmoveDir::kAccToVec;
  mv.vec_elem = P * L_;
  mv.bank_addr = 0;
  mv.count = m * nb * w.groups;
  mv.groups = w.groups;
  mv.gstride = gstride;
  emit(drv::make_vmove(mv));
  emit(xfer_vec(true, WS, w.scales_host, w.groups * w.npad));
  p_.fixed_load_bytes_ += vec_bytes(w.groups * w.npad);
  // The stream buffer is free now (the VMOVE fence waited for the MATMUL): prefetch the next
  // streamed matrix of this step, behind the scales so the epilogue need not wait for it. It
  // runs on while the vector unit works, until the next fence.
  for (size_t j = static_cast<size_t>(idx) + 1; prefetched_ < 0 && j < mats_.size(); ++j) {
    if (!mats_[j].resident) {
      load_weights(mats_[j]);
      prefetched_ = static_cast<int>(j);
      break;
    }
  }
  const uint32_t n = w.n;
  for (uint32_t g = 0; g < w.groups; ++g) {
    const uint32_t pg = P + g * gstride / L_;
    vi(AluOp::kFromInt, T, pg, 0, n);  // float(P)
    if (a16) {
      vi(AluOp::kMul, T, T, kvec::constant(128.0f), n);  // 128 P_hi
      vi(AluOp::kFromInt, U, pg + w.npad / L_, 0, n);     // float(P_lo)
      vv(AluOp::kAdd, T, T, U, n);                        // part
    }
    vv(AluOp::kMul, T, T, WS + g * w.npad / L_, n);  // * w_scale
    vec(VecKind::kLoadS, AluOp::kAdd, 0, sx, 0, g);  // S0 = sx[g]
    vs(AluOp::kMul, T, T, 0, n);                     // * sx
    if (g == 0) {
      vi(AluOp::kAdd, out, T, 0, n);  // acc = 0 + term
    } else {
      vv(AluOp::kAdd, out, out, T, n);  // acc += term
    }
  }
}

void DecodeCompiler::build() {
  const QuantOptions& qo = m_.options();
  const uint32_t dim = static_cast<uint32_t>(c_.dim), kv = static_cast<uint32_t>(c_.kv_dim());
  const uint32_t hs = static_cast<uint32_t>(c_.head_size()), hid = static_cast<uint32_t>(c_.hidden_dim);
  const uint32_t nl = static_cast<uint32_t>(c_.n_layers), nh = static_cast<uint32_t>(c_.n_heads);
  const uint32_t nkv = static_cast<uint32_t>(c_.n_kv_heads), vocab = static_cast<uint32_t>(c_.vocab_size);
  const uint32_t group = static_cast<uint32_t>(qo.group);
  auto fail = [](const std::string& why) { throw std::invalid_argument("decode: " + why); };
  if (hs != L_) fail("head size " + std::to_string(hs) + " must equal the vector lanes (" + std::to_string(L_) + ")");
  if (qo.lanes != L_) fail("the model's reduction lanes (" + std::to_string(qo.lanes) + ") must equal the vector lanes");
  if (qo.kv_int8) fail("the on-chip decode keeps the KV cache in KFP32 (QuantOptions::kv_int8 = false)");
  if (!qo.act_per_group || group == 0) fail("the on-chip decode quantizes activations per group");
  if (cfg_.axi_data_bytes % 4 != 0 || (L_ * 4) % cfg_.axi_data_bytes != 0) fail("vector rows must hold whole AXI beats");

  // ---- matrices and their memory ------------------------------------------------------------
  using M = QuantModel::Mat;
  std::vector<Mat>& mats = mats_;
  const uint32_t hpad = round_up(hid, std::lcm(cfg_.array_rows, L_));
  for (uint32_t l = 0; l < nl; ++l) {
    const int li = static_cast<int>(l);
    mats.push_back(make_mat("qkv" + std::to_string(l), {&m_.matrix(li, M::kWq), &m_.matrix(li, M::kWk), &m_.matrix(li, M::kWv)}, 1));
    mats.push_back(make_mat("wo" + std::to_string(l), {&m_.matrix(li, M::kWo)}, 1));
    mats.push_back(make_mat("w13_" + std::to_string(l), {&m_.matrix(li, M::kW1), &m_.matrix(li, M::kW3)}, hpad));
    mats.push_back(make_mat("w2_" + std::to_string(l), {&m_.matrix(li, M::kW2)}, 1));
  }
  mats.push_back(make_mat("cls", {&m_.classifier()}, 1));
  for (const Mat& mt : mats) {
    if (mt.k > 0xFFFF || mt.n > 0xFFFF) fail("matrix " + mt.name + " too large for one MATMUL");
  }
  // Placement: all resident if they fit; streamed through one buffer otherwise (auto: as many
  // as fit resident besides the buffer, in program order).
  uint64_t total = 0, biggest = 0;
  for (const Mat& mt : mats) {
    total += round_up(mt.wgt_bytes, cfg_.wgt_word_bytes);
    biggest = std::max<uint64_t>(biggest, round_up(mt.wgt_bytes, cfg_.wgt_word_bytes));
  }
  const bool all_fit = total <= cfg_.wgt_bank_bytes;
  if (opt_.placement == Placement::kResident && !all_fit) {
    fail("weights need " + std::to_string(total) + " bytes of WGT, the configuration has " +
         std::to_string(cfg_.wgt_bank_bytes) + " (use streamed or auto placement)");
  }
  if (biggest > cfg_.wgt_bank_bytes) fail("a weight matrix is larger than the WGT bank");
  uint32_t wgt_next = 0;
  if (!(all_fit && opt_.placement != Placement::kStreamed)) {
    stream_buf_ = 0;
    wgt_next = static_cast<uint32_t>(biggest);
  }
  for (Mat& mt : mats) {
    const uint32_t need = round_up(mt.wgt_bytes, cfg_.wgt_word_bytes);
    const bool can = uint64_t{wgt_next} + need <= cfg_.wgt_bank_bytes;
    mt.resident = opt_.placement == Placement::kStreamed ? false : (all_fit || (opt_.placement == Placement::kAuto && can));
    if (mt.resident) {
      mt.wgt_sram = wgt_next;
      wgt_next += need;
      drv::Xfer x{desc::Bank::kWgt, mt.wgt_sram, mt.wgt_host, 1, mt.wgt_bytes, mt.wgt_bytes, mt.wgt_bytes};
      p_.setup_.push_back(drv::make_load(x));
    }
  }
  p_.resident_ = std::all_of(mats.begin(), mats.end(), [](const Mat& mt) { return mt.resident; });

  // ---- vector memory ------------------------------------------------------------------------
  uint32_t row = 0;
  auto take = [&](uint32_t elems) {
    const uint32_t at = row;
    row += ceil_div(elems, L_);
    return at;
  };
  uint32_t max_npad = 0, max_groups = 0;
  for (const Mat& mt : mats) {
    max_groups = std::max(max_groups, mt.groups);
    if (&mt != &mats.back()) max_npad = std::max(max_npad, mt.npad);
  }
  x_ = take(dim);
  xb_ = take(dim);
  xb2_ = take(dim);
  qkv_ = take(dim + 2 * kv);
  h_ = take(2 * hpad);
  hb_ = take(hid);
  q8_ = take(std::max(dim, hid));
  q8lo_ = take(dim);
  sx_ = take(max_groups);
  const uint32_t small = std::max(max_groups, nh / nkv);  // per-group or per-head scalars
  vm_ = take(small);
  vr_ = take(small);
  ve_ = take(small);
  vinv_ = take(small);
  const uint32_t tlen = std::max({dim, hid, max_npad});
  t1_ = take(tlen);
  t2_ = take(tlen);
  nw_ = take(dim);
  rc_ = take(dim);
  rs_ = take(dim);
  scratch_ = row;
  // SiLU's vectors live in the scratch too (no matvec or attention runs meanwhile).
  const uint32_t hr = ceil_div(hid, L_);
  t3_ = scratch_;
  t4_ = t3_ + hr;
  t5_ = t4_ + hr;
  t6_ = t5_ + hr;
  // Scratch: the largest of a layer matvec (P, WS, T, U), the classifier (a16: P twice), and
  // attention (4 + heads-per-KV-head vectors of positions; the K and V histories are in bank HIST).
  uint32_t mat_rows = 0;
  for (const Mat& mt : mats) {
    const uint32_t m = (&mt == &mats.back() && qo.classifier_a16) ? 2 : 1;
    mat_rows = std::max(mat_rows, ceil_div(uint64_t{mt.groups} * m * mt.npad, L_) + ceil_div(uint64_t{mt.groups} * mt.npad, L_) +
                                      2 * ceil_div(mt.npad, L_));
  }
  mat_rows = std::max(mat_rows, 4 * hr);
  const uint32_t logits_rows = ceil_div(vocab, L_);
  // Attention's vectors of positions (scores, exp's temporaries); the K and V histories are
  // in bank HIST, two buffers of K and V: 4 x seq rows.
  auto att_rows = [&](uint32_t s) { return (4 + nh / nkv) * ceil_div(s, L_); };
  const uint32_t avail = cfg_.vec_rows > row + logits_rows ? cfg_.vec_rows - row - logits_rows : 0;
  if (avail < mat_rows) fail("the vector memory (" + std::to_string(cfg_.vec_rows) + " rows) is too small for the model");
  uint32_t seq = opt_.seq_len ? opt_.seq_len : static_cast<uint32_t>(c_.seq_len);
  if (seq > static_cast<uint32_t>(c_.seq_len)) fail("seq_len above the model's " + std::to_string(c_.seq_len));
  if (opt_.seq_len == 0) {
    while (seq > 1 && (att_rows(seq) > avail || 4 * seq > cfg_.vec_hist_rows)) --seq;
  }
  if (att_rows(seq) > avail) {
    fail("the vector memory holds attention over at most " + std::to_string(seq) + " positions, not " +
         std::to_string(opt_.seq_len));
  }
  if (4 * seq > cfg_.vec_hist_rows) {
    fail("bank HIST (" + std::to_string(cfg_.vec_hist_rows) + " rows: two K and V buffers) holds at most " +
         std::to_string(cfg_.vec_hist_rows / 4) + " positions, not " + std::to_string(seq));
  }
  if (seq > 0xFFFF) seq = 0xFFFF;
  p_.seq_len_ = seq;
  scratch_rows_ = std::max(mat_rows, att_rows(seq));
  const uint32_t logits = scratch_ + scratch_rows_;
  p_.vec_rows_used_ = logits + logits_rows;

  // ---- the rest of device memory ------------------------------------------------------------
  std::vector<uint32_t> rms_att(nl), rms_ffn(nl);
  for (uint32_t l = 0; l < nl; ++l) {
    rms_att[l] = put_floats(m_.rms_att(static_cast<int>(l)), "norm weights");
    rms_ffn[l] = put_floats(m_.rms_ffn(static_cast<int>(l)), "norm weights");
  }
  const uint32_t rms_final = put_floats(m_.rms_final(), "norm weights");
  // RoPE rows [pos][dim]: cos, and sin with the sign of the pair's first element flipped.
  std::vector<kfp::Bits> rc(size_t{seq} * dim), rsn(size_t{seq} * dim);
  for (uint32_t pos = 0; pos < seq; ++pos) {
    for (uint32_t i = 0; i < dim; ++i) {
      const uint32_t hd = i % hs;
      const size_t t = size_t{pos} * hs / 2 + hd / 2;
      rc[size_t{pos} * dim + i] = m_.rope_cos()[t];
      rsn[size_t{pos} * dim + i] = m_.rope_sin()[t] ^ ((hd % 2 == 0) ? 0x80000000u : 0u);
    }
  }
  const uint32_t dim_bytes = vec_bytes(dim);
  auto put_rows = [&](const std::vector<kfp::Bits>& v, uint32_t rows, uint32_t n, const char* what) {
    std::vector<uint8_t> b(size_t{rows} * vec_bytes(n), 0);
    for (uint32_t r = 0; r < rows; ++r) {
      for (uint32_t i = 0; i < n; ++i) put32(b, size_t{r} * vec_bytes(n) + 4 * i, v[size_t{r} * n + i]);
    }
    return put(std::move(b), what);
  };
  const uint32_t rope_c = put_rows(rc, seq, dim, "RoPE table");
  const uint32_t rope_s = put_rows(rsn, seq, dim, "RoPE table");
  // The embedding table, exactly the KFP32 rows forward() reads.
  const uint32_t emb_host = put_rows(m_.embedding(), vocab, dim, "embedding table");
  // KV cache: [layer][kv head][pos][head_size] KFP32, K and V.
  const uint32_t kv_row = hs * 4;
  const uint32_t kcache = alloc(size_t{nl} * nkv * seq * kv_row, "the K cache");
  const uint32_t vcache = alloc(size_t{nl} * nkv * seq * kv_row, "the V cache");
  p_.prompt_cap_ = seq + 1;  // a DECODE of seq positions reads PROMPT[0 .. seq]
  p_.prompt_addr_ = alloc(size_t{seq + 1} * 4, "the prompt");
  if (opt_.store_logits) p_.logits_addr_ = alloc(vec_bytes(vocab), "the logits");

  // ---- the step program (QuantModel::forward) -----------------------------------------------
  // Embedding row of the token.
  {
    drv::Xfer x;
    x.bank = desc::Bank::kVec;
    x.sram_addr = x_ * L_ * 4;
    x.host_addr = emb_host;
    x.rows = 1;
    x.row_bytes = dim_bytes;
    x.host_stride = x.sram_stride = dim_bytes;
    x.token_addr = true;
    emit(drv::make_load(x));
    p_.fixed_load_bytes_ += dim_bytes;
  }
  for (uint32_t l = 0; l < nl; ++l) {
    const Mat& Wqkv = mats[4 * l];
    const Mat& Wo = mats[4 * l + 1];
    const Mat& W13 = mats[4 * l + 2];
    const Mat& W2 = mats[4 * l + 3];
    rmsnorm(xb_, x_, rms_att[l], dim);
    quantize(xb_, dim, q8_, sx_);
    matvec(Wqkv, q8_, sx_, qkv_);
    // RoPE on q (dim) and k (kv): out = v * cos + swap(v) * (-+sin), the rows of this position.
    {
      drv::Xfer x{desc::Bank::kVec, rc_ * L_ * 4, rope_c, 1, dim_bytes, dim_bytes, dim_bytes, true};
      emit(drv::make_load(x));
      x.sram_addr = rs_ * L_ * 4;
      x.host_addr = rope_s;
      emit(drv::make_load(x));
      p_.fixed_load_bytes_ += 2 * dim_bytes;
    }
    const std::pair<uint32_t, uint32_t> rope_parts[2] = {{qkv_, dim}, {qkv_ + dim / L_, kv}};
    for (const auto& [base, n] : rope_parts) {
      vv(AluOp::kMul, t1_, base, rc_, n);
      vv(AluOp::kMul, t2_, rs_, base, n, false, true);
      vv(AluOp::kAdd, base, t1_, t2_, n);
    }
    // K and V of this position into the cache.
    for (int which = 0; which < 2; ++which) {
      drv::Xfer x;
      x.bank = desc::Bank::kVec;
      x.sram_addr = (qkv_ + (dim + which * kv) / L_) * L_ * 4;
      x.host_addr = (which == 0 ? kcache : vcache) + l * nkv * seq * kv_row;
      x.rows = nkv;
      x.row_bytes = kv_row;
      x.host_stride = seq * kv_row;
      x.sram_stride = kv_row;
      x.pos_addr = true;
      emit(drv::make_store(x));
    }
    // The histories read below include this position: let the stores land first.
    emit(drv::make_nop());
    // Attention, per KV head: its K and V histories into bank HIST, then each of its query
    // heads. The histories are double-buffered: the LOADs of KV head g + 1 run while the
    // vector unit works on head g (tokens: the V LOAD gives one the head's VRUN takes; the
    // VRUN gives one back when done, which the LOAD of head g + 2, into the same buffer,
    // takes). Within a layer only, so the counts never grow.
    // Each query head of the KV head keeps its exp'd scores (E_j; the last head's in SC) until
    // the heads' sums have one vector reciprocal.
    const uint32_t q = nh / nkv;
    const uint32_t SC = scratch_;
    const uint32_t sr = ceil_div(seq, L_);
    const uint32_t NI = SC + sr, NF = NI + sr, R = NF + sr, T = R + sr, E = T + sr;
    auto e_of = [&](uint32_t j) { return j + 1 == q ? SC : E + j * sr; };
    for (uint32_t g = 0; g < nkv; ++g) {
      const uint32_t KH = (g % 2) * 2 * seq, VH = KH + seq;
      for (int which = 0; which < 2; ++which) {
        drv::Xfer x;
        x.bank = desc::Bank::kHist;
        x.sram_addr = (which == 0 ? KH : VH) * L_ * 4;
        x.host_addr = (which == 0 ? kcache : vcache) + (l * nkv + g) * seq * kv_row;
        x.rows = 1;
        x.row_bytes = kv_row;
        x.host_stride = kv_row;
        x.sram_stride = L_ * 4;
        x.pos_rows = true;
        x.pop_vec = which == 0 && g >= 2;
        x.push_vec = which == 1;
        emit(drv::make_load(x));
      }
      for (uint32_t j = 0; j < q; ++j) {
        const uint32_t h = g * q + j, Ej = e_of(j);
        vec(VecKind::kDotRows, AluOp::kAdd, SC, KH, qkv_ + h, 1, true, 0, false, false, true);  // dot(q_h, K[t])
        vi(AluOp::kMul, SC, SC, m_.inv_sqrt_head(), 1, true);              // * 1/sqrt(hs)
        reduce(VecKind::kMax, 0, SC, 1, true);                              // max
        vs(AluOp::kSub, Ej, SC, 0, 1, true);                                // score - max
        exp_v(Ej, Ej, 1, true, NI, NF, R, T);                               // exp
        reduce(VecKind::kSum, 1, Ej, 1, true);                              // sum
        vec(VecKind::kStoreS, AluOp::kAdd, vm_, 1, 0, j);
      }
      recip_v(vr_, vm_, q, ve_);                                            // 1 / sum, every head
      for (uint32_t j = 0; j < q; ++j) {
        const uint32_t h = g * q + j, Ej = e_of(j);
        vec(VecKind::kLoadS, AluOp::kAdd, 2, vr_, 0, j);
        vs(AluOp::kMul, Ej, Ej, 2, 1, true);                                // a[t] = e * inv
        vec(VecKind::kAxpyRows, AluOp::kAdd, xb_ + h, VH, Ej, 1, true, 0, false, false, true);  // sum_t a[t] V[t]
      }
      flush_vec(drv::Deps{true, false, g + 2 < nkv, false});
    }
    quantize(xb_, dim, q8_, sx_);
    matvec(Wo, q8_, sx_, xb2_);
    vv(AluOp::kAdd, x_, x_, xb2_, dim);  // residual
    // Feed-forward: SwiGLU.
    rmsnorm(xb_, x_, rms_ffn[l], dim);
    quantize(xb_, dim, q8_, sx_);
    matvec(W13, q8_, sx_, h_);
    const uint32_t h1 = h_, h3 = h_ + hpad / L_;
    vi(AluOp::kMul, t3_, h1, kvec::constant(-1.0f), hid);  // -x
    exp_v(t3_, t3_, hid, false, t4_, t5_, t6_, t1_);        // e^-x
    vi(AluOp::kAdd, t3_, t3_, kvec::constant(1.0f), hid);   // den = 1 + e^-x
    vi(AluOp::kISub, t4_, t3_, kvec::kRecipMagic, hid);     // r = magic - den
    for (int i = 0; i < 3; ++i) {
      mad(2, t5_, t3_, t4_, kvec::constant(2.0f), hid);  // 2 - den r
      vv(AluOp::kMul, t4_, t4_, t5_, hid);               // r (...)
    }
    vv(AluOp::kMul, t5_, h1, t4_, hid);   // silu = x * recip(den)
    vv(AluOp::kMul, hb_, t5_, h3, hid);   // silu(h1) * h3
    quantize(hb_, hid, q8_, sx_);
    matvec(W2, q8_, sx_, xb_);
    vv(AluOp::kAdd, x_, x_, xb_, dim);
  }
  rmsnorm(xb_, x_, rms_final, dim);
  if (qo.classifier_a16) {
    quantize16(xb_, dim, q8_, q8lo_, sx_);
    matvec(mats.back(), q8_, sx_, logits, true, q8lo_);
  } else {
    quantize(xb_, dim, q8_, sx_);
    matvec(mats.back(), q8_, sx_, logits);
  }
  reduce(VecKind::kArgmax, 7, logits, vocab);  // the next token, in S7
  if (opt_.store_logits) emit(xfer_vec(false, logits, p_.logits_addr_, vocab));
  flush_vec();

  // The vector program memory, loaded once with the setup.
  if (!p_.vprog_.empty()) {
    std::vector<uint8_t> img(p_.vprog_.size() * 16);
    for (size_t i = 0; i < p_.vprog_.size(); ++i) {
      for (size_t j = 0; j < 4; ++j) put32(img, 16 * i + 4 * j, p_.vprog_[i][j]);
    }
    const auto bytes = static_cast<uint32_t>(img.size());
    const uint32_t at = put(std::move(img), "the vector program");
    p_.setup_.push_back(drv::make_load(drv::Xfer{desc::Bank::kVprog, 0, at, 1, bytes, bytes, bytes}));
  }

  // The program itself, then the ring area the host uses.
  std::vector<uint8_t> prog(p_.step_.size() * desc::kBytes);
  for (size_t i = 0; i < p_.step_.size(); ++i) {
    for (uint32_t w = 0; w < desc::kWords; ++w) put32(prog, i * desc::kBytes + 4 * w, p_.step_[i][w]);
  }
  p_.prog_addr_ = put(std::move(prog), "the step program");
  p_.mem_end_ = static_cast<uint32_t>(mem_next_);
  p_.vocab_ = vocab;
}

DecodeProgram::DecodeProgram(const QuantModel& model, const hw::HwConfig& cfg, uint64_t mem_base, size_t mem_size,
                             const DecodeBuildOptions& opt) {
  DecodeCompiler c(*this, model, cfg, mem_base, mem_size, opt);
  c.build();
}

}  // namespace ks::rt
