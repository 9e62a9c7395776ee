// The emulated core and the golden-model backend run the same random command lists on the
// same memory image: memory afterwards, completions and error reports must be identical.
// Lists mix LOAD/STORE of random 2-D shapes (bank VEC included), MATMULs with operands in the
// bank layouts, vector-unit instructions (VEC, every kind and flag), VMOVEs both ways, and,
// now and then, a descriptor with an error; they are race-free (see random_list). Each round
// ends by storing the scalar registers and the whole vector memory, so both are compared too.
//
// In a configuration without the vector unit (up5k) the lists hold no vector-unit work; now
// and then, in lists with errors, one of its descriptors, which both must refuse alike
// (UNSUPPORTED).
//
// Left out on purpose: VV with SWAP_B in place (B = DST), where the RTL reads each row before
// writing it and VectorUnitModel's element loop does not (tb/vector/test_vector_unit.cpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "kestrel/driver/emulated.h"
#include "kestrel/driver/layout.h"
#include "kestrel/driver/model.h"
#include "kestrel/driver/queue.h"
#include "kestrel/golden/matmul.h"
#include "kestrel/golden/vector_unit.h"
#include "kestrel/hw_config.h"
#include "kestrel/regs.h"
#include "test_seed.h"

namespace {

using namespace ks;

constexpr uint32_t kRing = 64;
constexpr size_t kMaxMem = 1u << 20;

struct Side {
  std::unique_ptr<drv::Device> dev;
  std::unique_ptr<drv::CommandQueue> q;
};

class ParityTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    seed_ = ks::tb::test_seed();
    rng_.seed(seed_);
    // 1 MiB of device memory, or what the configuration's address space holds above its
    // default base.
    kMem = std::min<size_t>(kMaxMem, hw::find_config(GetParam())->default_mem_bytes);
    drv::EmulatedOptions eo;
    eo.mem_size = kMem;
    drv::ModelOptions mo;
    mo.mem_size = kMem;
    sides_[0].dev = drv::make_emulated_device(GetParam(), eo);
    sides_[1].dev = drv::make_model_device(GetParam(), mo);
    base_ = static_cast<uint32_t>(sides_[0].dev->mem_base());
    // The same random memory image on both.
    std::vector<uint8_t> image(kMem);
    for (auto& b : image) b = static_cast<uint8_t>(rng_());
    for (Side& s : sides_) {
      s.dev->mem_write(base_, image.data(), image.size());
      s.q = std::make_unique<drv::CommandQueue>(*s.dev, base_, kRing, base_ + 0x800);
      s.q->start();
    }
  }

  const hw::HwConfig& cfg() const { return sides_[0].dev->config(); }
  bool has_vector() const { return cfg().vector_unit != 0; }

  /// A random 2-D transfer inside the data area and the given bank.
  drv::Xfer random_xfer(desc::Bank bank, uint32_t bank_bytes) {
    const uint32_t a = cfg().axi_data_bytes;
    std::uniform_int_distribution<uint32_t> beats(1, 4), rows(1, 4), gap(0, 2);
    drv::Xfer x;
    x.bank = bank;
    x.row_bytes = beats(rng_) * a;
    x.rows = rows(rng_);
    x.host_stride = x.row_bytes + gap(rng_) * a;
    x.sram_stride = x.row_bytes + gap(rng_) * a;
    const uint32_t span = (x.rows - 1) * x.sram_stride + x.row_bytes;
    x.sram_addr = span < bank_bytes ? (static_cast<uint32_t>(rng_()) % ((bank_bytes - span) / a + 1)) * a : 0;
    x.host_addr = at(0x1000) + (static_cast<uint32_t>(rng_()) % scaled(8192)) * a;
    return x;
  }

  /// A LOAD/STORE of bank VEC long enough to overlap the next descriptors' fetch: up to 16 rows
  /// of up to 4 beats, inside the vector memory.
  drv::Xfer long_vec_xfer() {
    const uint32_t a = cfg().axi_data_bytes;
    drv::Xfer x;
    x.bank = desc::Bank::kVec;
    x.row_bytes = (1 + static_cast<uint32_t>(rng_() % 4)) * a;
    x.rows = 1 + static_cast<uint32_t>(rng_() % std::min<uint32_t>(16, vec_bytes() / x.row_bytes));
    x.host_stride = x.row_bytes;
    x.sram_stride = x.row_bytes;
    const uint32_t span = x.rows * x.row_bytes;
    x.sram_addr = static_cast<uint32_t>(rng_() % ((vec_bytes() - span) / a + 1)) * a;
    x.host_addr = at(0x1000) + static_cast<uint32_t>(rng_() % scaled(4096)) * a;
    return x;
  }

  /// Engines run concurrently, so two descriptors that touch the same bank or memory without
  /// a token between them race, and then the hardware's result depends on timing. The lists
  /// here are race-free: a NOP fence separates every descriptor from the next, except
  /// consecutive LOADs (one engine, in order).
  std::vector<desc::Words> random_list() {
    std::vector<desc::Words> raw = random_descriptors();
    std::vector<desc::Words> list;
    for (size_t i = 0; i < raw.size(); ++i) {
      list.push_back(raw[i]);
      const bool load = desc::kOpcode.get(raw[i]) == static_cast<uint32_t>(desc::Opcode::kLoad);
      const bool next_load = i + 1 < raw.size() &&
                             desc::kOpcode.get(raw[i + 1]) == static_cast<uint32_t>(desc::Opcode::kLoad);
      if (!(load && next_load)) list.push_back(drv::make_nop());
    }
    return list;
  }

  uint32_t vec_bytes() const { return cfg().vec_lanes * cfg().vec_rows * 4; }
  uint32_t vec_row_bytes() const { return cfg().vec_lanes * 4; }

  /// A vector-unit instruction: mostly valid (random kind, operands inside the memory), now
  /// and then one the unit rejects (BAD_VECTOR).
  golden::VecInstr random_vec(bool valid, uint32_t max_len = 0) {
    const uint32_t lanes = cfg().vec_lanes, rows = cfg().vec_rows;
    const golden::VectorUnitModel probe(lanes, rows, 0, cfg().vec_hist_rows);
    for (;;) {
      golden::VecInstr in;
      in.kind = static_cast<golden::VecKind>(rng_() % (valid ? golden::kVecKinds : 16));
      in.op = static_cast<golden::kfp::AluOp>(rng_() % 16);
      in.imm = static_cast<uint32_t>(rng_());
      in.len = static_cast<uint16_t>(rng_() % ((max_len ? max_len : 3 * lanes) + 1));
      const uint32_t span = std::max<uint32_t>(in.len, (in.len + lanes - 1) / lanes);
      auto row = [&]() { return static_cast<uint16_t>(rng_() % (rows - span + 1)); };
      auto reg = [&]() { return static_cast<uint16_t>(rng_() % 8); };
      const bool scalar_dst = in.kind == golden::VecKind::kSS || in.kind == golden::VecKind::kSum ||
                              in.kind == golden::VecKind::kMax || in.kind == golden::VecKind::kArgmax ||
                              in.kind == golden::VecKind::kLoadS || in.kind == golden::VecKind::kSetS;
      in.dst = scalar_dst ? reg() : row();
      in.a = (in.kind == golden::VecKind::kSS || in.kind == golden::VecKind::kStoreS) ? reg() : row();
      in.b = (in.kind == golden::VecKind::kVS || in.kind == golden::VecKind::kSS) ? reg() : row();
      if (in.kind == golden::VecKind::kVV) in.swap_b = rng_() % 3 == 0;
      if (in.kind == golden::VecKind::kVS || in.kind == golden::VecKind::kSS) in.b_imm = rng_() % 3 == 0;
      if (rng_() % 4 == 0 && in.kind != golden::VecKind::kSS) in.dst = in.a;
      if ((in.kind == golden::VecKind::kDotRows || in.kind == golden::VecKind::kAxpyRows) && rng_() % 2 == 0) {
        in.hist_a = true;  // operand A from bank HIST
        in.a = static_cast<uint16_t>(rng_() % (cfg().vec_hist_rows - std::min<uint32_t>(in.len, cfg().vec_hist_rows) + 1));
      }
      if (!valid) {
        switch (rng_() % 4) {
          case 0: in.swap_b = !in.swap_b; break;
          case 1: in.dst = static_cast<uint16_t>(rows - rng_() % 2); break;
          case 2: in.a = static_cast<uint16_t>(8 + rng_() % 4); break;
          default: in.len = static_cast<uint16_t>(rng_()); break;
        }
      }
      if (in.kind == golden::VecKind::kVV && in.swap_b && in.b == in.dst) continue;  // file comment
      if (probe.check(in).empty() == valid) return in;
    }
  }

  /// A VMOVE inside its banks (ACC_TO_VEC: COUNT a multiple of GROUPS), now and then not.
  drv::VmoveArgs random_vmove(bool valid) {
    drv::VmoveArgs v;
    const uint32_t elems = cfg().vec_lanes * cfg().vec_rows;
    if (rng_() % 2 == 0) {
      v.dir = drv::VmoveDir::kAccToVec;
      const uint32_t words = cfg().acc_bank_bytes / cfg().acc_word_bytes;
      v.groups = 1 + static_cast<uint32_t>(rng_() % 3);
      v.count = v.groups * (1 + static_cast<uint32_t>(rng_() % 3));
      v.bank_addr = static_cast<uint32_t>(rng_() % (words - v.count + 1)) * cfg().acc_word_bytes;
      v.gstride = static_cast<uint32_t>(rng_() % 40);
      const uint32_t span = (v.groups - 1) * v.gstride + (v.count / v.groups) * cfg().array_rows;
      v.vec_elem = static_cast<uint32_t>(rng_() % (elems - span + 1));
    } else {
      v.dir = drv::VmoveDir::kVecToAct;
      v.count = 1 + static_cast<uint32_t>(rng_() % 70);
      const uint32_t padded = (v.count + cfg().act_word_bytes - 1) / cfg().act_word_bytes * cfg().act_word_bytes;
      v.bank_addr = static_cast<uint32_t>(rng_() % ((cfg().act_bank_bytes - padded) / cfg().act_word_bytes + 1)) *
                    cfg().act_word_bytes;
      v.vec_elem = static_cast<uint32_t>(rng_() % (elems - v.count + 1));
    }
    if (!valid) {
      switch (rng_() % 5) {
        case 0: v.dir = static_cast<drv::VmoveDir>(2 + rng_() % 3); break;       // BAD_VECTOR
        case 1: v.count = 0; break;                                            // ZERO_SIZE
        case 2: v.vec_elem = elems - static_cast<uint32_t>(rng_() % 4); break;  // BAD_VECTOR
        case 3: v.bank_addr += 4; break;                                       // MISALIGNED
        default:
          if (v.dir == drv::VmoveDir::kAccToVec && v.groups > 1) {
            v.count += 1;                                                      // COUNT % GROUPS
          } else {
            v.bank_addr = cfg().acc_bank_bytes + cfg().act_bank_bytes;          // SRAM_RANGE
          }
      }
    }
    return v;
  }

  /// The scalar registers into row 0 of the vector memory, then the whole memory out to
  /// memory, so the final memory compare covers the vector unit's state.
  void append_vec_dump(std::vector<desc::Words>& list) {
    if (!has_vector()) return;
    for (uint16_t i = 0; i < 8; ++i) {
      golden::VecInstr st;
      st.kind = golden::VecKind::kStoreS;
      st.a = i;
      st.dst = 0;
      st.len = i;
      list.push_back(drv::make_vec(st));
    }
    list.push_back(drv::make_nop());
    list.push_back(drv::make_store({desc::Bank::kVec, 0, at(0x80000), 1, vec_bytes(), 0, 0}));
  }

  /// A vector program in memory (mostly valid instructions; with errors, now and then one the
  /// unit rejects) and the LOAD that puts it into bank VPROG.
  desc::Words random_vprog() {
    const uint32_t entries = std::min<uint32_t>(cfg().vec_prog_depth, 48);
    std::vector<uint8_t> img(entries * 16);
    for (uint32_t i = 0; i < entries; ++i) {
      const golden::VecEntry e = golden::encode_entry(random_vec(!errors_ || rng_() % 10 != 0), rng_() % 6 == 0);
      for (uint32_t j = 0; j < 4; ++j) {
        for (int b = 0; b < 4; ++b) img[16 * i + 4 * j + b] = static_cast<uint8_t>(e[j] >> (8 * b));
      }
    }
    const uint32_t addr = at(0x90000);
    for (Side& side : sides_) side.dev->mem_write(addr, img.data(), img.size());
    vprog_entries_ = entries;
    return drv::make_load({desc::Bank::kVprog, 0, addr, 1, entries * 16, 0, 0});
  }

  /// A VRUN of a few entries of the program memory (with errors, now and then one past it).
  desc::Words random_vrun() {
    const uint32_t count = 1 + static_cast<uint32_t>(rng_() % 6);
    uint32_t start = static_cast<uint32_t>(rng_() % (vprog_entries_ - count + 1));
    if (errors_ && rng_() % 8 == 0) start = cfg().vec_prog_depth - count + 1;  // SRAM_RANGE
    return drv::make_vrun(start, count);
  }

  std::vector<desc::Words> random_descriptors() {
    std::vector<desc::Words> list;
    errors_ = rng_() % 3 == 0;  // a third of the lists may contain errors
    if (has_vector()) list.push_back(random_vprog());
    std::uniform_int_distribution<int> kind(0, 20);
    for (int i = 0; i < 8; ++i) {
      int k = kind(rng_);
      if (!has_vector() && k >= 10 && k != 17) k = 8;  // no vector-unit work: an error now and then
      switch (k) {
        case 18:
        case 19:
          list.push_back(random_vrun());
          break;
        case 20:
          list.push_back(drv::make_load(random_xfer(desc::Bank::kHist, cfg().vec_hist_rows * vec_row_bytes())));
          break;
        case 10:
        case 11:
        case 12:
          list.push_back(drv::make_vec(random_vec(!errors_ || rng_() % 6 != 0)));
          break;
        case 13:
          list.push_back(drv::make_load(random_xfer(desc::Bank::kVec, vec_bytes())));
          break;
        case 14:
          list.push_back(drv::make_store(random_xfer(desc::Bank::kVec, vec_bytes())));
          break;
        case 15:
        case 16:
          list.push_back(drv::make_vmove(random_vmove(!errors_ || rng_() % 4 != 0)));
          break;
        case 17:
          list.push_back(drv::make_load(random_xfer(desc::Bank::kAct, cfg().act_bank_bytes)));
          break;
        case 0:
        case 1:
          list.push_back(drv::make_load(random_xfer(desc::Bank::kKv, cfg().kv_bank_bytes)));
          break;
        case 2:
        case 3:
          list.push_back(drv::make_store(random_xfer(desc::Bank::kKv, cfg().kv_bank_bytes)));
          break;
        case 4:
          list.push_back(drv::make_store(random_xfer(desc::Bank::kAcc, cfg().acc_bank_bytes)));
          break;
        case 5:
        case 6: {
          append_matmul(list);
          break;
        }
        case 7:
          list.push_back(drv::make_nop());
          break;
        case 8: {  // an error now and then
          desc::Words w = drv::make_load(random_xfer(desc::Bank::kKv, cfg().kv_bank_bytes));
          switch (errors_ ? rng_() % (has_vector() ? 4 : 6) : 4) {
            case 4: break;
            case 5:  // without the vector unit: UNSUPPORTED
              w = rng_() % 2 ? drv::make_vec(golden::VecInstr{}) : drv::make_store(random_xfer(desc::Bank::kVec, 1024));
              break;
            case 0: w[1] |= 0x100; break;                                  // reserved bit
            case 1: desc::kLoadHostAddr.set(w, base_ - 4096); break;        // outside the window
            case 2: desc::kLoadBank.set(w, 2); break;                       // LOAD into ACC
            default: desc::kLoadRowBytes.set(w, cfg().axi_data_bytes + 4);  // misaligned
          }
          list.push_back(w);
          break;
        }
        default:
          list.push_back(drv::make_load(random_xfer(desc::Bank::kWgt, cfg().wgt_bank_bytes)));
          break;
      }
    }
    return list;
  }

  /// LOAD W and X (random values, bank layouts) then MATMUL, fenced by a NOP.
  void append_matmul(std::vector<desc::Words>& list) {
    const auto p = rng_() % 2 ? golden::Precision::kInt4 : golden::Precision::kInt8;
    const size_t m = 1 + rng_() % 3, k = 1 + rng_() % 40, n = 1 + rng_() % 12;
    const unsigned group = static_cast<unsigned>(rng_() % 4);
    const drv::MatmulLayout l = drv::matmul_layout(cfg(), p, m, k, n, group);
    if (l.wgt_bytes > cfg().wgt_bank_bytes || l.act_bytes > cfg().act_bank_bytes || l.acc_bytes > cfg().acc_bank_bytes) {
      return;
    }
    std::vector<int8_t> x(m * k), wv(n * k);
    for (auto& v : x) v = static_cast<int8_t>(rng_());
    for (auto& v : wv) v = static_cast<int8_t>(p == golden::Precision::kInt4 ? static_cast<int>(rng_() % 16) - 8
                                                                             : static_cast<int8_t>(rng_()));
    const std::vector<uint8_t> w = p == golden::Precision::kInt4 ? golden::pack_int4(wv, n, k)
                                                                : std::vector<uint8_t>(wv.begin(), wv.end());
    const auto wimg = drv::pack_weights(cfg(), p, w.data(), n, k);
    const auto ximg = drv::pack_activations(cfg(), x.data(), m, k);
    const uint32_t wa = at(0x60000), xa = at(0x70000);
    for (Side& s : sides_) {
      s.dev->mem_write(wa, wimg.data(), wimg.size());
      s.dev->mem_write(xa, ximg.data(), ximg.size());
    }
    list.push_back(drv::make_load({desc::Bank::kWgt, 0, wa, 1, static_cast<uint32_t>(wimg.size()), 0, 0}));
    list.push_back(drv::make_load({desc::Bank::kAct, 0, xa, 1, static_cast<uint32_t>(ximg.size()), 0, 0}));
    list.push_back(drv::make_matmul({p == golden::Precision::kInt4, static_cast<uint32_t>(m),
                                     static_cast<uint32_t>(k), static_cast<uint32_t>(n), 0, 0, 0, group}));
  }

  Side sides_[2];
  bool errors_ = false;
  uint32_t vprog_entries_ = 1;
  uint32_t base_ = 0;
  uint64_t seed_ = 0;
  std::mt19937_64 rng_;
  size_t kMem = kMaxMem;  // device memory bytes (SetUp)
  /// The test's areas, laid out for 1 MiB, scaled to a smaller device memory (up5k: 128 KiB).
  uint32_t scaled(uint32_t n) const { return static_cast<uint32_t>(uint64_t{n} * kMem / kMaxMem); }
  uint32_t at(uint32_t offset) const { return base_ + scaled(offset); }
};

TEST_P(ParityTest, RandomListsGiveIdenticalMemoryCompletionsAndErrors) {
  SCOPED_TRACE(ks::tb::seed_note(seed_));
  for (int round = 0; round < 40; ++round) {
    std::vector<desc::Words> list = random_list();
    append_vec_dump(list);
    std::string outcome[2];
    for (int s = 0; s < 2; ++s) {
      try {
        sides_[s].q->run(list, 2'000'000);
        outcome[s] = "completed";
      } catch (const drv::QueueError& e) {
        outcome[s] = e.what();
      }
    }
    if (outcome[0] != "completed") {
      for (Side& s : sides_) s.q->drain();  // the work before the error finishes first
    }
    std::string listing;
    for (const auto& w : list) listing += "  " + drv::describe(w) + "\n";
    SCOPED_TRACE("round " + std::to_string(round) + ", outcome " + outcome[0] + ", list:\n" + listing);
    ASSERT_EQ(outcome[0], outcome[1]);
    if (std::getenv("KS_PARITY_VERBOSE")) {
      std::vector<uint8_t> dump(vec_bytes());
      sides_[0].dev->mem_read(at(0x80000), dump.data(), dump.size());
      uint64_t h = 0;
      for (uint8_t v : dump) h = h * 131 + v;
      std::printf("round %d: %s (%zu descriptors), vector memory hash %016llx\n", round, outcome[0].c_str(), list.size(),
                  static_cast<unsigned long long>(h));
    }
    const uint32_t regs_to_compare[] = {regs::kRingHead, regs::kRingTail, regs::kErrCode, regs::kErrIndex,
                                        regs::kErrInfo, regs::kCompletions, regs::kLastSeq, regs::kIrqStatus};
    for (uint32_t r : regs_to_compare) {
      ASSERT_EQ(sides_[0].dev->read32(r), sides_[1].dev->read32(r)) << "register " << r << ", round " << round;
    }
    std::vector<uint8_t> a(kMem), b(kMem);
    sides_[0].dev->mem_read(base_, a.data(), kMem);
    sides_[1].dev->mem_read(base_, b.data(), kMem);
    for (size_t i = 0; i < kMem; ++i) {
      ASSERT_EQ(a[i], b[i]) << "memory differs at " << std::hex << base_ + i << ", round " << std::dec << round;
    }
    if (outcome[0] != "completed") {
      for (Side& s : sides_) s.q->reset();
    }
  }
  EXPECT_TRUE(drv::emulated_violations(*sides_[0].dev).empty());
}

// Every bit of a valid descriptor of each kind the core without the vector unit has (NOP,
// LOAD, STORE, MATMUL, COMPLETE), set or cleared one at a time: the outcome (done, or which
// error, where, with which detail), the queue registers and the memory are the model's. This
// covers the checks bit by bit, and the compact descriptor register of a build without the
// vector unit and ERR_INFO detail (up5k), which keeps each word's high bits as one.
TEST_P(ParityTest, EveryDescriptorBitFlippedGivesTheModelsOutcome) {
  const uint32_t a = cfg().axi_data_bytes;
  const uint32_t kv = cfg().kv_bank_bytes;
  // The KV bank filled from memory on both sides first: STOREs read it.
  for (Side& side : sides_) side.q->run({drv::make_load({desc::Bank::kKv, 0, at(0x1000), 1, kv, 0, 0})}, 2'000'000);
  const drv::MatmulLayout l = drv::matmul_layout(cfg(), golden::Precision::kInt8, 2, cfg().array_cols + 1,
                                                 cfg().array_rows + 1, 0);
  ASSERT_LE(l.wgt_bytes, cfg().wgt_bank_bytes);
  const drv::Xfer x{desc::Bank::kKv, 2 * a, at(0x2000), 2, 2 * a, 4 * a, 3 * a};
  const std::pair<const char*, desc::Words> kinds[] = {
      {"NOP", drv::make_nop()},
      {"LOAD", drv::make_load(x)},
      {"STORE", drv::make_store(x)},
      {"MATMUL", drv::make_matmul({false, 2, cfg().array_cols + 1, cfg().array_rows + 1, 0, 0, 0, 0})},
      {"COMPLETE", drv::make_complete(0x5EED, at(0x3000) + 4, false)},
  };
  for (const auto& [name, valid] : kinds) {
    for (uint32_t bit = 8; bit < 32 * desc::kWords; ++bit) {   // (not the opcode: other kinds)
      // Not the tokens either (a POP nobody pushes waits for ever; tokens have their own tests).
      if (bit < 12 || (has_vector() && std::string(name) == "LOAD" && bit == 16)) continue;
      desc::Words w = valid;
      w[bit / 32] ^= 1u << (bit % 32);
      std::string outcome[2];
      for (int s = 0; s < 2; ++s) {
        try {
          sides_[s].q->run({w}, 2'000'000);
          outcome[s] = "completed";
        } catch (const drv::QueueError& e) {
          outcome[s] = e.what();
          sides_[s].q->drain();
        }
      }
      SCOPED_TRACE(std::string(name) + ", bit " + std::to_string(bit) + ": " + drv::describe(w));
      ASSERT_EQ(outcome[0], outcome[1]);
      for (uint32_t r : {regs::kRingHead, regs::kErrCode, regs::kErrIndex, regs::kErrInfo, regs::kCompletions,
                         regs::kLastSeq}) {
        ASSERT_EQ(sides_[0].dev->read32(r), sides_[1].dev->read32(r)) << "register " << r;
      }
      if (outcome[0] != "completed") {
        for (Side& side : sides_) side.q->reset();
      }
    }
    std::vector<uint8_t> m0(kMem), m1(kMem);
    sides_[0].dev->mem_read(base_, m0.data(), kMem);
    sides_[1].dev->mem_read(base_, m1.data(), kMem);
    ASSERT_TRUE(m0 == m1) << "memory differs after the " << name << " flips";
  }
  EXPECT_TRUE(drv::emulated_violations(*sides_[0].dev).empty());
}

// No NOP fences: VEC, LOAD and STORE of bank VEC and VMOVE are ordered by their own rules
// (a VEC waits for earlier LOAD/STORE of bank VEC, those wait for the vector unit, VMOVE is a
// fence). Between a LOAD and a STORE of bank VEC -- different engines, not ordered by those
// rules -- there is always a VEC. LOADs read an area no STORE writes.
TEST_P(ParityTest, VectorOrderingRulesAloneGiveIdenticalResults) {
  if (!has_vector()) GTEST_SKIP() << "configuration " << cfg().name << " has no vector unit";
  SCOPED_TRACE(ks::tb::seed_note(seed_));
  errors_ = false;
  for (int round = 0; round < 30; ++round) {
    std::vector<desc::Words> list;
    uint32_t store_at = at(0xA0000);
    bool last_xfer = false;
    for (int i = 0; i < 24; ++i) {
      const int k = static_cast<int>(rng_() % 11);
      if (k == 10 && !last_xfer) {
        // A long AXPYROWS, then at once a STORE and a LOAD of its destination row.
        const uint16_t n = static_cast<uint16_t>(std::min<uint32_t>(cfg().vec_rows / 2, 100));
        const uint16_t dst = static_cast<uint16_t>(cfg().vec_rows - 1);
        list.push_back(drv::make_vec({golden::VecKind::kAxpyRows, golden::kfp::AluOp::kAdd, dst, 0, n, n, 0}));
        const uint32_t row = cfg().vec_lanes * 4;
        list.push_back(drv::make_store({desc::Bank::kVec, dst * row, store_at, 1, row, 0, 0}));
        store_at += row;
        last_xfer = true;
      } else if (k < 5 || last_xfer) {
        list.push_back(drv::make_vec(random_vec(true, std::min<uint32_t>(cfg().vec_rows / 3, 64))));
        last_xfer = false;
      } else if (k < 7) {
        list.push_back(drv::make_load(long_vec_xfer()));
        last_xfer = true;
      } else if (k < 9) {
        drv::Xfer x = long_vec_xfer();
        x.host_addr = store_at;
        store_at += (x.rows - 1) * x.host_stride + x.row_bytes;
        list.push_back(drv::make_store(x));
        last_xfer = true;
      } else {
        list.push_back(drv::make_vmove(random_vmove(true)));
        last_xfer = false;
      }
    }
    append_vec_dump(list);
    for (Side& s : sides_) s.q->run(list, 2'000'000);
    std::string listing;
    for (const auto& w : list) listing += "  " + drv::describe(w) + "\n";
    SCOPED_TRACE("round " + std::to_string(round) + ", list:\n" + listing);
    std::vector<uint8_t> a(kMem), b(kMem);
    sides_[0].dev->mem_read(base_, a.data(), kMem);
    sides_[1].dev->mem_read(base_, b.data(), kMem);
    for (size_t i = 0; i < kMem; ++i) {
      ASSERT_EQ(a[i], b[i]) << "memory differs at " << std::hex << base_ + i << ", round " << std::dec << round;
    }
  }
  EXPECT_TRUE(drv::emulated_violations(*sides_[0].dev).empty());
}

INSTANTIATE_TEST_SUITE_P(Configs, ParityTest, ::testing::Values("odd", "up5k", "ecp5"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

}  // namespace
