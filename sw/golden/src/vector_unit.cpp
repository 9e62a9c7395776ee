#include "kestrel/golden/vector_unit.h"

#include <stdexcept>
#include <string>

#include "kestrel/descriptors.h"
#include "kestrel/golden/kvec.h"

namespace ks::golden {

namespace {
size_t rows_of(size_t len, size_t lanes) { return (len + lanes - 1) / lanes; }
}  // namespace

VectorUnitModel::VectorUnitModel(size_t lanes, size_t rows, size_t prog_depth, size_t hist_rows)
    : lanes_(lanes),
      rows_(rows),
      mem_(lanes * rows, 0),
      s_(kScalars, 0),
      prog_(prog_depth, VecEntry{}),
      hist_(lanes * hist_rows, 0) {}

VecEntry encode_entry(const VecInstr& in, bool pos_len) {
  desc::Words w{};
  desc::kVecKind.set(w, static_cast<uint32_t>(in.kind));
  desc::kVecOp.set(w, static_cast<uint32_t>(in.op));
  desc::kVecSwapB.set(w, in.swap_b);
  desc::kVecBImm.set(w, in.b_imm);
  desc::kVecHistA.set(w, in.hist_a);
  desc::kVecPosLen.set(w, pos_len);
  desc::kVecDst.set(w, in.dst);
  desc::kVecA.set(w, in.a);
  desc::kVecB.set(w, in.b);
  desc::kVecLen.set(w, in.len);
  desc::kVecImm.set(w, in.imm);
  return VecEntry{w[1], w[2], w[3], w[4]};
}

VecRunResult VectorUnitModel::run(uint32_t start, uint32_t count, uint32_t pos) {
  if (uint64_t{start} + count > prog_.size()) {
    throw std::out_of_range("vector unit: VRUN of entries " + std::to_string(start) + "+" + std::to_string(count) +
                            " past the program memory's " + std::to_string(prog_.size()));
  }
  const desc::Words reserved = desc::reserved_mask(desc::Opcode::kVec);
  for (uint32_t i = start; i < start + count; ++i) {
    desc::Words w{};
    for (size_t j = 0; j < 4; ++j) w[j + 1] = prog_[i][j];
    VecRunResult bad{false, i, {}};
    for (size_t j = 1; j <= 4; ++j) {
      if ((w[j] & reserved[j]) != 0) {
        bad.why = "reserved bits set in word " + std::to_string(j);
        return bad;
      }
    }
    VecInstr in;
    in.kind = static_cast<VecKind>(desc::kVecKind.get(w));
    in.op = static_cast<kfp::AluOp>(desc::kVecOp.get(w));
    in.swap_b = desc::kVecSwapB.get(w) != 0;
    in.b_imm = desc::kVecBImm.get(w) != 0;
    in.hist_a = desc::kVecHistA.get(w) != 0;
    in.dst = static_cast<uint16_t>(desc::kVecDst.get(w));
    in.a = static_cast<uint16_t>(desc::kVecA.get(w));
    in.b = static_cast<uint16_t>(desc::kVecB.get(w));
    uint64_t len = desc::kVecLen.get(w);
    if (desc::kVecPosLen.get(w) != 0) len += pos;
    if (len > 0xFFFF) {
      bad.why = "LEN + pos = " + std::to_string(len) + " past 16 bits";
      return bad;
    }
    in.len = static_cast<uint16_t>(len);
    in.imm = desc::kVecImm.get(w);
    if (std::string why = check(in); !why.empty()) {
      bad.why = why;
      return bad;
    }
    execute(in);
  }
  return {};
}

std::string VectorUnitModel::check(const VecInstr& in) const {
  const size_t n = in.len, r = rows_of(n, lanes_);
  auto past = [&](size_t row, size_t count, const char* what) -> std::string {
    if (row + count > rows_) {
      return std::string(what) + " rows " + std::to_string(row) + "+" + std::to_string(count) + " past " +
             std::to_string(rows_);
    }
    return {};
  };
  auto scalar = [&](uint16_t i, const char* what) -> std::string {
    return i >= kScalars ? std::string(what) + ": scalar register " + std::to_string(i) : std::string{};
  };
  const auto k = static_cast<unsigned>(in.kind);
  if (k >= static_cast<unsigned>(kVecKinds)) return "undefined kind " + std::to_string(k);
  if (in.swap_b && in.kind != VecKind::kVV) return "SWAP_B needs VV";
  if (in.b_imm && in.kind != VecKind::kVS && in.kind != VecKind::kSS) return "B_IMM needs VS or SS";
  if (in.hist_a && in.kind != VecKind::kDotRows && in.kind != VecKind::kAxpyRows) {
    return "HIST_A needs DOTROWS or AXPYROWS";
  }
  // Operand a's rows in the history memory (HIST_A) or the vector memory.
  auto past_a = [&](size_t row, size_t count) -> std::string {
    if (!in.hist_a) return past(row, count, "a");
    const size_t h = hist_.size() / lanes_;
    if (row + count > h) {
      return "a rows " + std::to_string(row) + "+" + std::to_string(count) + " past the history's " + std::to_string(h);
    }
    return {};
  };
  std::string e;
  switch (in.kind) {
    case VecKind::kMulAdd: {
      if (static_cast<unsigned>(in.op) > 2) return "MULADD form " + std::to_string(static_cast<unsigned>(in.op));
      if (!(e = past(in.dst, r, "dst")).empty() || !(e = past(in.a, r, "a")).empty()) return e;
      if (!(e = past(in.b, r, "b")).empty()) return e;
      auto overlaps = [&](uint16_t src) { return src != in.dst && src < in.dst + r && in.dst < src + r; };
      if (overlaps(in.a) || overlaps(in.b)) return "destination overlaps a source";
      return {};
    }
    case VecKind::kVV:
    case VecKind::kVS: {
      if (!(e = past(in.dst, r, "dst")).empty() || !(e = past(in.a, r, "a")).empty()) return e;
      if (in.kind == VecKind::kVV && !(e = past(in.b, r, "b")).empty()) return e;
      if (in.kind == VecKind::kVS && !in.b_imm && !(e = scalar(in.b, "b")).empty()) return e;
      // A destination must equal a source or not overlap it: rows are read, then written.
      auto overlaps = [&](uint16_t src) { return src != in.dst && src < in.dst + r && in.dst < src + r; };
      if (overlaps(in.a) || (in.kind == VecKind::kVV && overlaps(in.b))) return "destination overlaps a source";
      return {};
    }
    case VecKind::kSS:
      if (!(e = scalar(in.dst, "dst")).empty() || !(e = scalar(in.a, "a")).empty()) return e;
      return in.b_imm ? std::string{} : scalar(in.b, "b");
    case VecKind::kSum:
    case VecKind::kMax:
    case VecKind::kArgmax:
      if (!(e = past(in.a, r, "a")).empty()) return e;
      return scalar(in.dst, "dst");
    case VecKind::kLoadS:
      if (!(e = scalar(in.dst, "dst")).empty()) return e;
      return past(in.a + in.len / lanes_, 1, "element");
    case VecKind::kStoreS:
      if (!(e = scalar(in.a, "a")).empty()) return e;
      return past(in.dst + in.len / lanes_, 1, "element");
    case VecKind::kSetS: return scalar(in.dst, "dst");
    case VecKind::kDotRows: {
      if (!(e = past_a(in.a, n)).empty() || !(e = past(in.b, 1, "b")).empty()) return e;
      if (!(e = past(in.dst, r, "dst")).empty()) return e;
      const size_t d0 = in.dst, d1 = in.dst + r;
      if ((!in.hist_a && in.a < d1 && d0 < in.a + n) || (in.b >= d0 && in.b < d1)) return "destination overlaps a source";
      return {};
    }
    case VecKind::kAxpyRows: {
      if (!(e = past_a(in.a, n)).empty() || !(e = past(in.b, r, "b")).empty()) return e;
      if (!(e = past(in.dst, 1, "dst")).empty()) return e;
      if ((!in.hist_a && in.dst >= in.a && in.dst < in.a + n) || (in.dst >= in.b && in.dst < in.b + r)) {
        return "destination overlaps a source";
      }
      return {};
    }
  }
  return "undefined kind";
}

void VectorUnitModel::execute(const VecInstr& in) {
  if (const std::string why = check(in); !why.empty()) throw std::invalid_argument("vector unit: " + why);
  const size_t n = in.len, r = rows_of(n, lanes_);
  auto at = [&](size_t row, size_t e) -> kfp::Bits& { return mem_[(row + e / lanes_) * lanes_ + e % lanes_]; };
  switch (in.kind) {
    case VecKind::kVV:
    case VecKind::kVS:
      for (size_t row = 0; row < r; ++row) {
        for (size_t l = 0; l < lanes_ && row * lanes_ + l < n; ++l) {
          const kfp::Bits a = mem_[(in.a + row) * lanes_ + l];
          const size_t lb = in.swap_b ? (l ^ 1u) : l;
          const kfp::Bits b = in.kind == VecKind::kVV ? mem_[(in.b + row) * lanes_ + lb] : in.b_imm ? in.imm : s_[in.b];
          mem_[(in.dst + row) * lanes_ + l] = kfp::alu(in.op, a, b);
        }
      }
      break;
    case VecKind::kMulAdd:
      for (size_t row = 0; row < r; ++row) {
        for (size_t l = 0; l < lanes_ && row * lanes_ + l < n; ++l) {
          const kfp::Bits a = mem_[(in.a + row) * lanes_ + l], b = mem_[(in.b + row) * lanes_ + l];
          const auto form = static_cast<unsigned>(in.op);
          const kfp::Bits m = kfp::mul(a, form == 1 ? in.imm : b);
          mem_[(in.dst + row) * lanes_ + l] = form == 0 ? kfp::add(m, in.imm) : kfp::sub(form == 1 ? b : in.imm, m);
        }
      }
      break;
    case VecKind::kSS: s_[in.dst] = kfp::alu(in.op, s_[in.a], in.b_imm ? in.imm : s_[in.b]); break;
    case VecKind::kSum:
    case VecKind::kMax:
    case VecKind::kArgmax: {
      std::vector<kfp::Bits> v(n);
      for (size_t e = 0; e < n; ++e) v[e] = at(in.a, e);
      if (in.kind == VecKind::kSum) s_[in.dst] = kvec::sum(v.data(), n, lanes_);
      if (in.kind == VecKind::kMax) s_[in.dst] = kvec::max(v.data(), n, lanes_);
      if (in.kind == VecKind::kArgmax) s_[in.dst] = static_cast<kfp::Bits>(kvec::argmax(v.data(), n));
      break;
    }
    case VecKind::kLoadS: s_[in.dst] = at(in.a, in.len); break;
    case VecKind::kStoreS: at(in.dst, in.len) = s_[in.a]; break;
    case VecKind::kSetS: s_[in.dst] = in.imm; break;
    case VecKind::kDotRows: {
      const kfp::Bits* a = in.hist_a ? hist_.data() : mem_.data();
      std::vector<kfp::Bits> out(n);
      for (size_t t = 0; t < n; ++t) out[t] = kvec::dot(&a[(in.a + t) * lanes_], &mem_[in.b * lanes_], lanes_, lanes_);
      for (size_t t = 0; t < n; ++t) at(in.dst, t) = out[t];
      break;
    }
    case VecKind::kAxpyRows: {
      const kfp::Bits* a = in.hist_a ? hist_.data() : mem_.data();
      std::vector<kfp::Bits> acc(lanes_, 0);
      for (size_t t = 0; t < n; ++t) {
        const kfp::Bits w = at(in.b, t);
        for (size_t l = 0; l < lanes_; ++l) acc[l] = kfp::add(acc[l], kfp::mul(w, a[(in.a + t) * lanes_ + l]));
      }
      for (size_t l = 0; l < lanes_; ++l) mem_[in.dst * lanes_ + l] = acc[l];
      break;
    }
  }
}

}  // namespace ks::golden
