#include "kestrel/golden/vector_unit.h"

#include <stdexcept>
#include <string>

#include "kestrel/golden/kvec.h"

namespace ks::golden {

namespace {
size_t rows_of(size_t len, size_t lanes) { return (len + lanes - 1) / lanes; }
}  // namespace

VectorUnitModel::VectorUnitModel(size_t lanes, size_t rows)
    : lanes_(lanes), rows_(rows), mem_(lanes * rows, 0), s_(kScalars, 0) {}

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
  std::string e;
  switch (in.kind) {
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
      if (!(e = past(in.a, n, "a")).empty() || !(e = past(in.b, 1, "b")).empty()) return e;
      if (!(e = past(in.dst, r, "dst")).empty()) return e;
      const size_t d0 = in.dst, d1 = in.dst + r;
      if ((in.a < d1 && d0 < in.a + n) || (in.b >= d0 && in.b < d1)) return "destination overlaps a source";
      return {};
    }
    case VecKind::kAxpyRows: {
      if (!(e = past(in.a, n, "a")).empty() || !(e = past(in.b, r, "b")).empty()) return e;
      if (!(e = past(in.dst, 1, "dst")).empty()) return e;
      if ((in.dst >= in.a && in.dst < in.a + n) || (in.dst >= in.b && in.dst < in.b + r)) {
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
      std::vector<kfp::Bits> out(n);
      for (size_t t = 0; t < n; ++t) out[t] = kvec::dot(&mem_[(in.a + t) * lanes_], &mem_[in.b * lanes_], lanes_, lanes_);
      for (size_t t = 0; t < n; ++t) at(in.dst, t) = out[t];
      break;
    }
    case VecKind::kAxpyRows: {
      std::vector<kfp::Bits> acc(lanes_, 0);
      for (size_t t = 0; t < n; ++t) {
        const kfp::Bits w = at(in.b, t);
        for (size_t l = 0; l < lanes_; ++l) acc[l] = kfp::add(acc[l], kfp::mul(w, mem_[(in.a + t) * lanes_ + l]));
      }
      for (size_t l = 0; l < lanes_; ++l) mem_[in.dst * lanes_ + l] = acc[l];
      break;
    }
  }
}

}  // namespace ks::golden
