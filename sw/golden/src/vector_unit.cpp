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

void VectorUnitModel::execute(const VecInstr& in) {
  const size_t n = in.len, r = rows_of(n, lanes_);
  auto check_rows = [&](size_t row, const char* what) {
    if (row + r > rows_) {
      throw std::invalid_argument(std::string("vector unit: ") + what + " rows " + std::to_string(row) + "+" +
                                  std::to_string(r) + " past " + std::to_string(rows_));
    }
  };
  auto check_scalar = [&](uint16_t i) {
    if (i >= kScalars) throw std::invalid_argument("vector unit: scalar register " + std::to_string(i));
  };
  switch (in.kind) {
    case VecKind::kVV:
    case VecKind::kVS: {
      check_rows(in.dst, "dst");
      check_rows(in.a, "a");
      if (in.kind == VecKind::kVV) check_rows(in.b, "b");
      if (in.kind == VecKind::kVS) check_scalar(in.b);
      // A destination must equal a source or not overlap it: rows are read, then written.
      auto overlaps = [&](uint16_t src) { return src != in.dst && src < in.dst + r && in.dst < src + r; };
      if (overlaps(in.a) || (in.kind == VecKind::kVV && overlaps(in.b))) {
        throw std::invalid_argument("vector unit: destination overlaps a source at an offset");
      }
      for (size_t row = 0; row < r; ++row) {
        for (size_t l = 0; l < lanes_; ++l) {
          if (row * lanes_ + l >= n) break;
          const kfp::Bits a = mem_[(in.a + row) * lanes_ + l];
          const kfp::Bits b = in.kind == VecKind::kVV ? mem_[(in.b + row) * lanes_ + l] : s_[in.b];
          mem_[(in.dst + row) * lanes_ + l] = kfp::alu(in.op, a, b);
        }
      }
      break;
    }
    case VecKind::kSS:
      check_scalar(in.dst);
      check_scalar(in.a);
      check_scalar(in.b);
      s_[in.dst] = kfp::alu(in.op, s_[in.a], s_[in.b]);
      break;
    case VecKind::kSum:
    case VecKind::kMax:
    case VecKind::kArgmax: {
      check_rows(in.a, "a");
      check_scalar(in.dst);
      std::vector<kfp::Bits> v(n);
      for (size_t e = 0; e < n; ++e) v[e] = mem_[(in.a + e / lanes_) * lanes_ + e % lanes_];
      if (in.kind == VecKind::kSum) s_[in.dst] = kvec::sum(v.data(), n, lanes_);
      if (in.kind == VecKind::kMax) s_[in.dst] = kvec::max(v.data(), n, lanes_);
      if (in.kind == VecKind::kArgmax) s_[in.dst] = static_cast<kfp::Bits>(kvec::argmax(v.data(), n));
      break;
    }
    case VecKind::kLoadS:
      check_scalar(in.dst);
      if (in.a + in.len / lanes_ >= rows_) throw std::invalid_argument("vector unit: load past the memory");
      s_[in.dst] = mem_[(in.a + in.len / lanes_) * lanes_ + in.len % lanes_];
      break;
    case VecKind::kStoreS:
      check_scalar(in.a);
      if (in.dst + in.len / lanes_ >= rows_) throw std::invalid_argument("vector unit: store past the memory");
      mem_[(in.dst + in.len / lanes_) * lanes_ + in.len % lanes_] = s_[in.a];
      break;
    case VecKind::kSetS:
      check_scalar(in.dst);
      s_[in.dst] = in.imm;
      break;
  }
}

}  // namespace ks::golden
