// Transaction model of the vector unit (rtl/vector/ks_vector_unit.sv): a lane-parallel
// KFP32 machine with a vector memory and scalar registers, executing one instruction at a
// time. Bit-exact with the RTL, and the building block of the decode step's microprograms.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kestrel/golden/kfp.h"

namespace ks::golden {

/// What an instruction does (the RTL's `kind` field).
enum class VecKind : uint8_t {
  kVV = 0,      ///< vector[dst] = op(vector[a], vector[b]), len elements
  kVS = 1,      ///< vector[dst] = op(vector[a], S[b])
  kSS = 2,      ///< S[dst] = op(S[a], S[b])
  kSum = 3,     ///< S[dst] = sum of vector[a] (lane order: kvec::sum)
  kMax = 4,     ///< S[dst] = max of vector[a] (lane order: kvec::max)
  kArgmax = 5,  ///< S[dst] = index of the first largest element of vector[a]
  kLoadS = 6,   ///< S[dst] = element len of vector[a]
  kStoreS = 7,  ///< element len of vector[dst] = S[a]
  kSetS = 8,    ///< S[dst] = imm
  /// Element t of vector[dst] = the dot product of row a + t and row b for t < len: lane
  /// products (lane l: +0 + a[l] * b[l]) summed as a lane tree (= kvec::dot(.., lanes, lanes)).
  /// Attention scores over a K history with one row per position.
  kDotRows = 9,
  /// Row dst, lane l = the sum over t < len, in order from +0, of element t of vector[b] times
  /// lane l of row a + t. The attention-weighted sum of a V history, one row per position.
  kAxpyRows = 10,
  /// vector[dst] = a x b + imm (op 0), b - a x imm (op 1), imm - a x b (op 2): the product and
  /// the sum each rounded, as the two instructions would (Horner steps, Cody-Waite reduction,
  /// Newton steps of a reciprocal in one pass).
  kMulAdd = 11,
};
inline constexpr int kVecKinds = 12;

/// One instruction. Vectors are addressed by row: element e of the vector at row `a` lives
/// in lane e % lanes of row a + e / lanes. Scalar registers are S[0..7].
struct VecInstr {
  VecKind kind = VecKind::kVV;
  kfp::AluOp op = kfp::AluOp::kAdd;
  uint16_t dst = 0, a = 0, b = 0;
  uint16_t len = 0;
  uint32_t imm = 0;
  bool swap_b = false;  ///< VV: operand b's lane l read from lane l ^ 1 (RoPE's pairs)
  bool b_imm = false;   ///< VS, SS: operand b is imm instead of S[b]
  bool hist_a = false;  ///< DOTROWS, AXPYROWS: rows a + t are rows of the history memory (bank HIST)
};

/// A program-memory entry (bank VPROG): words 1..4 of a VEC descriptor.
using VecEntry = std::array<uint32_t, 4>;

/// The entry for `in` (POS_LEN: LEN + the DECODE's pos when it runs).
VecEntry encode_entry(const VecInstr& in, bool pos_len = false);

/// The outcome of a VRUN.
struct VecRunResult {
  bool ok = true;
  uint32_t bad_index = 0;  ///< the first entry that failed (not executed), when !ok
  std::string why;         ///< what was wrong with it
};

class VectorUnitModel {
 public:
  static constexpr int kScalars = 8;

  VectorUnitModel(size_t lanes, size_t rows, size_t prog_depth = 0, size_t hist_rows = 0);

  /// Executes one instruction. Throws std::invalid_argument for an instruction the
  /// hardware does not define (rows out of range, dst overlapping a source at an offset).
  void execute(const VecInstr& in);

  /// Why the hardware would reject `in` (its BAD_VECTOR), or an empty string if it is valid.
  std::string check(const VecInstr& in) const;

  /// VRUN: entries start .. start + count - 1 of the program memory in order, LEN + pos where
  /// POS_LEN is set. The first entry with a reserved bit set, LEN + pos past 16 bits or an
  /// instruction check() rejects is not executed and ends the run. Entries past the memory
  /// are a caller error (the command processor's SRAM_RANGE): std::out_of_range.
  VecRunResult run(uint32_t start, uint32_t count, uint32_t pos);

  size_t prog_entries() const { return prog_.size(); }
  /// The program memory as bytes, entry i at 16 i, word j of it at 16 i + 4 j (little-endian).
  uint8_t* prog_bytes() { return reinterpret_cast<uint8_t*>(prog_.data()); }
  VecEntry& entry(size_t i) { return prog_.at(i); }

  size_t hist_rows() const { return hist_.size() / lanes_; }
  /// The history memory as bytes: element e (lane e % lanes of row e / lanes) at 4 e.
  uint8_t* hist_bytes() { return reinterpret_cast<uint8_t*>(hist_.data()); }
  kfp::Bits& hist(size_t row, size_t lane) { return hist_.at(row * lanes_ + lane); }

  size_t lanes() const { return lanes_; }
  size_t rows() const { return rows_; }
  kfp::Bits& element(size_t row, size_t e) { return mem_.at((row + e / lanes_) * lanes_ + e % lanes_); }
  kfp::Bits& scalar(int i) { return s_.at(static_cast<size_t>(i)); }
  /// Element e of the memory counted from row 0 (the DMA's and VMOVE's view: byte 4e).
  kfp::Bits& flat(size_t e) { return mem_.at(e); }
  size_t elements() const { return mem_.size(); }

 private:
  size_t lanes_, rows_;
  std::vector<kfp::Bits> mem_;
  std::vector<kfp::Bits> s_;
  std::vector<VecEntry> prog_;
  std::vector<kfp::Bits> hist_;
};

}  // namespace ks::golden
