// DECODE, the token-streaming controller, on both backends with small synthetic step programs
// whose tokens are predictable: each step loads the token's row of a table (TOKEN_ADDR), reads
// pos from a ramp in the vector memory (LOADS with POS_LEN), computes S7 = table[token] + pos
// with scalar integer ops, writes S7 to a trace in memory (STORE with POS_ADDR) and pos + 1
// rows of the ramp to another area (STORE with POS_ROWS). Covered: prompt forcing, every stop
// condition (STOP_TOKEN, STEPS, SEQ_LEN, CTRL.ABORT), heavy backpressure on the token stream
// (nothing lost or repeated), errors inside the program (halt on the DECODE, DEC_PC, no tlast)
// with recovery by resume or QUEUE_RESET, a second DECODE after the first, the DECODE's field
// checks, patch overflows, DECODE inside a program, a prompt read bus error, and the step
// overhead in cycles. The same program with its VEC runs in the vector program memory
// (VRUN, POS_LEN applied there), VRUN's checks, and a bad program entry halting the queue.
//
// RTL choices the model is to follow (noted for the model backend):
//  - STOP_TOKEN 0xFFFF means "no stop token" (docs/descriptors.md); a token 0xFFFF does not stop.
//  - The core's token output has a one-entry register: the core runs the next step while its
//    last token waits for tready, and blocks before sending another.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "core_fixture.h"
#include "kestrel/golden/kvec.h"
#include "kestrel/golden/vector_unit.h"
#include "kestrel/regs.h"

namespace {

using namespace ks;
using drv::StreamToken;
using golden::VecInstr;
using golden::VecKind;
using golden::kfp::AluOp;

constexpr uint32_t kVocab = 97;      // table[t] = (7 t + 3) % kVocab
constexpr uint32_t kTable = 512;     // table entries (tokens grow by pos)
constexpr uint32_t kRamp = 64;       // ramp elements: positions a program supports

class DecodeTest : public tb::CoreTest {
 protected:
  void SetUp() override {
    tb::CoreTest::SetUp();
    if (!cfg().vector_unit) {
      GTEST_SKIP() << "configuration " << cfg().name
                   << " has no vector unit: DECODE, VEC, VRUN and VMOVE are UNSUPPORTED there (CoreErrorTest)";
    }
    const uint32_t a = axi();
    lanes_ = cfg().vec_lanes;
    row_bytes_ = lanes_ * 4;
    ramp_row_ = 2;
    // The areas below, as alloc() rounds them; a board's device memory may be smaller.
    const size_t need = kTable * a + kRamp * 4 + 256 * 4 + 64 * desc::kBytes + (2 * kRamp + 1) * a + 6 * 64;
    if (data_ - base_ + need > dev_->mem_size()) {
      GTEST_SKIP() << "the device memory (" << dev_->mem_size() << " bytes) is too small for the test's tables";
    }
    // Host memory: the table (one AXI beat per token, element 0 = the value), the ramp, the
    // prompt, the program, the trace areas.
    table_ = alloc(kTable * a);
    std::vector<uint8_t> t(kTable * a, 0);
    for (uint32_t i = 0; i < kTable; ++i) put32(t, i * a, table_value(i));
    dev_->mem_write(table_, t.data(), t.size());
    ramp_ = alloc(kRamp * 4);
    std::vector<uint8_t> r(kRamp * 4);
    for (uint32_t i = 0; i < kRamp; ++i) put32(r, 4 * i, i);
    dev_->mem_write(ramp_, r.data(), r.size());
    prompt_ = alloc(256 * 4);
    prog_ = alloc(64 * desc::kBytes);
    vprog_ = alloc(64 * 16);
    trace_ = alloc(kRamp * a);
    rows_area_ = alloc((kRamp + 1) * a);
    clear_traces();
    // The ramp into the vector memory, from row ramp_row_.
    q_->run({drv::make_load({desc::Bank::kVec, ramp_row_ * row_bytes_, ramp_, 1, kRamp * 4, 0, 0})});
  }

  static void put32(std::vector<uint8_t>& v, size_t at, uint32_t x) {
    for (int b = 0; b < 4; ++b) v[at + b] = static_cast<uint8_t>(x >> (8 * b));
  }
  uint32_t get32(uint32_t addr) {
    uint8_t b[4];
    dev_->mem_read(addr, b, 4);
    return uint32_t{b[0]} | uint32_t{b[1]} << 8 | uint32_t{b[2]} << 16 | uint32_t{b[3]} << 24;
  }
  static uint32_t table_value(uint32_t t) { return (7 * t + 3) % kVocab; }

  void clear_traces() {
    std::vector<uint8_t> ff(kRamp * axi(), 0xFF);
    dev_->mem_write(trace_, ff.data(), ff.size());
    std::vector<uint8_t> ff2((kRamp + 1) * axi(), 0xFF);
    dev_->mem_write(rows_area_, ff2.data(), ff2.size());
  }

  /// The step program; `bad_at` >= 0 replaces descriptor bad_at by `bad`.
  std::vector<desc::Words> step_program(int bad_at = -1, const desc::Words& bad = {}) {
    const uint32_t a = axi();
    std::vector<desc::Words> p;
    drv::Xfer tok{desc::Bank::kVec, 0, table_, 1, a, 0, 0};
    tok.token_addr = true;
    p.push_back(drv::make_load(tok));                                                   // row 0 <- table[token]
    p.push_back(drv::make_vec({VecKind::kLoadS, AluOp::kAdd, 0, 0, 0, 0, 0}));          // S0 = table[token]
    p.push_back(drv::make_vec({VecKind::kLoadS, AluOp::kAdd, 1, ramp_row_, 0, 0, 0}, true));  // S1 = pos
    p.push_back(drv::make_vec({VecKind::kSetS, AluOp::kAdd, 2, 0, 0, 0, 0}));           // S2 = 0
    p.push_back(drv::make_vec({VecKind::kSS, AluOp::kISub, 3, 1, 2, 0, 0}));            // S3 = -pos
    p.push_back(drv::make_nop());
    p.push_back(drv::make_vec({VecKind::kSS, AluOp::kISub, 7, 3, 0, 0, 0}));            // S7 = S0 + pos
    p.push_back(drv::make_vec({VecKind::kStoreS, AluOp::kAdd, 1, 7, 0, 0, 0}));         // row 1 <- S7
    drv::Xfer tr{desc::Bank::kVec, row_bytes_, trace_, 1, a, 0, 0};
    tr.pos_addr = true;
    p.push_back(drv::make_store(tr));                                                   // trace[pos] = S7
    drv::Xfer rw{desc::Bank::kVec, ramp_row_ * row_bytes_, rows_area_, 1, a, a, 0};
    rw.pos_rows = true;
    p.push_back(drv::make_store(rw));                                                   // pos + 1 beats
    if (bad_at >= 0) p[static_cast<size_t>(bad_at)] = bad;
    return p;
  }

  /// The program with each run of VEC descriptors moved into the vector program memory (bank
  /// VPROG, loaded here with a LOAD from `vprog_`) and replaced by one VRUN.
  std::vector<desc::Words> vrun_program(const std::vector<desc::Words>& p, uint32_t first_entry = 0) {
    std::vector<desc::Words> out;
    std::vector<uint8_t> img;
    uint32_t entry = first_entry, run_start = first_entry;
    auto close_run = [&]() {
      if (entry > run_start) out.push_back(drv::make_vrun(run_start, entry - run_start));
      run_start = entry;
    };
    for (const desc::Words& w : p) {
      if (desc::kOpcode.get(w) == static_cast<uint32_t>(desc::Opcode::kVec)) {
        for (uint32_t j = 1; j <= 4; ++j) {
          img.resize(img.size() + 4);
          put32(img, img.size() - 4, w[j]);
        }
        ++entry;
      } else {
        close_run();
        out.push_back(w);
      }
    }
    close_run();
    dev_->mem_write(vprog_, img.data(), img.size());
    const auto bytes = static_cast<uint32_t>(img.size());
    q_->run({drv::make_load({desc::Bank::kVprog, first_entry * 16, vprog_, 1, bytes, 0, 0})});
    return out;
  }

  void write_program(const std::vector<desc::Words>& p, uint32_t at) {
    std::vector<uint8_t> raw(p.size() * desc::kBytes);
    for (size_t i = 0; i < p.size(); ++i) {
      for (uint32_t w = 0; w < desc::kWords; ++w) put32(raw, i * desc::kBytes + 4 * w, p[i][w]);
    }
    dev_->mem_write(at, raw.data(), raw.size());
  }

  void write_prompt(const std::vector<uint32_t>& prompt) {
    std::vector<uint8_t> raw(prompt.size() * 4);
    for (size_t i = 0; i < prompt.size(); ++i) put32(raw, 4 * i, prompt[i]);
    dev_->mem_write(prompt_, raw.data(), raw.size());
  }

  drv::DecodeArgs args(const std::vector<uint32_t>& prompt, uint32_t steps, uint32_t start, uint32_t seq_len,
                       uint32_t stop = 0xFFFF, uint32_t prog_len = 0) {
    drv::DecodeArgs d;
    d.prog_addr = prog_;
    d.prog_len = prog_len ? prog_len : static_cast<uint32_t>(step_program().size());
    d.stop_token = stop;
    d.prompt_addr = prompt_;
    d.prompt_len = static_cast<uint32_t>(prompt.size());
    d.steps = steps;
    d.start_pos = start;
    d.seq_len = seq_len;
    return d;
  }

  struct Expect {
    std::vector<StreamToken> tokens;
    uint32_t reason = 0, last_pos = 0;
  };

  /// What the DECODE must send.
  static Expect expect(const std::vector<uint32_t>& prompt, const drv::DecodeArgs& d) {
    Expect e;
    uint32_t token = prompt[0];
    for (uint32_t i = 0;; ++i) {
      const uint32_t pos = d.start_pos + i;
      const bool forced = i + 1 < prompt.size();
      const uint32_t next = forced ? prompt[i + 1] : table_value(token) + pos;
      uint32_t reason = 0;
      if (d.stop_token != 0xFFFF && next == d.stop_token) {
        reason = 3;
      } else if (i + 1 == d.steps) {
        reason = 1;
      } else if (pos + 1 == d.seq_len) {
        reason = 2;
      }
      e.tokens.push_back(StreamToken{next, forced, reason != 0});
      e.last_pos = pos;
      if (reason) {
        e.reason = reason;
        return e;
      }
      token = next;
    }
  }

  /// Tokens until `lasts` of them had tlast, or until none comes within the timeout.
  std::vector<StreamToken> collect(uint64_t timeout = 2'000'000, int lasts = 1) {
    std::vector<StreamToken> all;
    int seen = 0;
    for (;;) {
      const std::vector<StreamToken> got = dev_->read_tokens(timeout);
      if (got.empty()) return all;
      for (const StreamToken& t : got) seen += t.last;
      all.insert(all.end(), got.begin(), got.end());
      if (seen >= lasts) return all;
    }
  }

  static std::string show(const std::vector<StreamToken>& v) {
    std::string s;
    for (const StreamToken& t : v) {
      s += std::to_string(t.token) + (t.forced ? "f" : "") + (t.last ? "L" : "") + " ";
    }
    return s;
  }

  void expect_tokens(const std::vector<StreamToken>& got, const std::vector<StreamToken>& want) {
    EXPECT_EQ(show(got), show(want));
  }

  /// The trace (S7 of every step: table[input token] + pos) and the POS_ROWS area after the
  /// steps at positions start, start + 1, ... that sent `tokens`.
  void expect_traces(const std::vector<uint32_t>& prompt, const std::vector<StreamToken>& tokens, uint32_t start) {
    uint32_t token = prompt[0];
    for (size_t i = 0; i < tokens.size(); ++i) {
      const uint32_t pos = start + static_cast<uint32_t>(i);
      EXPECT_EQ(get32(trace_ + pos * axi()), table_value(token) + pos) << "trace at pos " << pos;
      token = tokens[i].token;
    }
    const uint32_t last_pos = start + static_cast<uint32_t>(tokens.size()) - 1;
    for (uint32_t r = 0; r <= last_pos + 1 && r <= kRamp; ++r) {
      const uint32_t want = r <= last_pos ? 0u : 0xFFFFFFFFu;  // element 0 of the ramp, or untouched
      EXPECT_EQ(get32(rows_area_ + r * axi()), want) << "POS_ROWS area beat " << r;
    }
  }

  uint64_t counter(regs::Counter c) {
    const uint32_t lo = dev_->read32(regs::counter_lo(c));
    return (uint64_t{dev_->read32(regs::counter_lo(c) + 4)} << 32) | lo;
  }

  uint32_t dec_reason() { return regs::kDecStatusReason.get(dev_->read32(regs::kDecStatus)); }
  bool dec_running() { return regs::kDecStatusRunning.get(dev_->read32(regs::kDecStatus)) != 0; }

  /// Runs one DECODE to its end; returns the tokens.
  std::vector<StreamToken> run_decode(const std::vector<uint32_t>& prompt, const drv::DecodeArgs& d) {
    write_prompt(prompt);
    const uint32_t seq = q_->submit_and_complete({drv::make_decode(d)});
    std::vector<StreamToken> got = collect();
    q_->wait(seq);
    std::vector<StreamToken> rest = dev_->read_tokens(1);  // nothing may follow tlast
    got.insert(got.end(), rest.begin(), rest.end());
    return got;
  }

  uint32_t lanes_ = 0, row_bytes_ = 0;
  uint16_t ramp_row_ = 0;
  uint32_t table_ = 0, ramp_ = 0, prompt_ = 0, prog_ = 0, trace_ = 0, rows_area_ = 0, vprog_ = 0;
};

TEST_P(DecodeTest, PromptIsForcedThenTokensAreGenerated) {
  write_program(step_program(), prog_);
  const std::vector<uint32_t> prompt{1, 40, 7, 12};
  const drv::DecodeArgs d = args(prompt, 10, 0, kRamp);
  const Expect e = expect(prompt, d);
  const std::vector<StreamToken> got = run_decode(prompt, d);
  expect_tokens(got, e.tokens);
  expect_traces(prompt, got, 0);
  EXPECT_EQ(dec_reason(), 1u);  // STEPS
  EXPECT_FALSE(dec_running());
  EXPECT_EQ(dev_->read32(regs::kDecTokens), 10u);
  EXPECT_EQ(dev_->read32(regs::kDecLastToken), e.tokens.back().token);
  EXPECT_EQ(dev_->read32(regs::kDecPos), e.last_pos);
  EXPECT_EQ(dev_->read32(regs::kDecPc), static_cast<uint32_t>(step_program().size()));
  if (!is_model()) {
    EXPECT_EQ(counter(regs::Counter::kDecSteps), 10u);
  }
}

// A prompt longer than STEPS: only forced tokens go out, the last with tlast (STEPS).
TEST_P(DecodeTest, PromptLongerThanTheSteps) {
  write_program(step_program(), prog_);
  const std::vector<uint32_t> prompt{1, 40, 7, 12, 9, 33, 2, 17};
  const drv::DecodeArgs d = args(prompt, 4, 0, kRamp);
  const Expect e = expect(prompt, d);
  ASSERT_EQ(e.tokens.size(), 4u);
  const std::vector<StreamToken> got = run_decode(prompt, d);
  expect_tokens(got, e.tokens);
  for (const StreamToken& t : got) EXPECT_TRUE(t.forced);
  EXPECT_EQ(dec_reason(), 1u);
  expect_traces(prompt, got, 0);
}

TEST_P(DecodeTest, StopTokenEndsTheStream) {
  write_program(step_program(), prog_);
  const std::vector<uint32_t> prompt{5};
  drv::DecodeArgs d = args(prompt, 40, 3, kRamp);
  const Expect free_run = expect(prompt, d);
  d.stop_token = free_run.tokens[6].token;  // the 7th token (generated) stops it
  const Expect e = expect(prompt, d);
  ASSERT_LE(e.tokens.size(), 7u);
  const std::vector<StreamToken> got = run_decode(prompt, d);
  expect_tokens(got, e.tokens);
  EXPECT_EQ(dec_reason(), 3u);
  expect_traces(prompt, got, 3);
}

TEST_P(DecodeTest, ForcedStopTokenAlsoEndsTheStream) {
  write_program(step_program(), prog_);
  const std::vector<uint32_t> prompt{5, 9, 2, 30};
  const drv::DecodeArgs d = args(prompt, 40, 0, kRamp, 2);
  const Expect e = expect(prompt, d);
  ASSERT_EQ(e.tokens.size(), 2u);
  expect_tokens(run_decode(prompt, d), e.tokens);
  EXPECT_EQ(dec_reason(), 3u);
}

TEST_P(DecodeTest, SeqLenEndsTheStream) {
  write_program(step_program(), prog_);
  const std::vector<uint32_t> prompt{3, 4};
  const drv::DecodeArgs d = args(prompt, 100, 5, 9);
  const Expect e = expect(prompt, d);
  ASSERT_EQ(e.tokens.size(), 4u);
  const std::vector<StreamToken> got = run_decode(prompt, d);
  expect_tokens(got, e.tokens);
  EXPECT_EQ(dec_reason(), 2u);
  EXPECT_EQ(dev_->read32(regs::kDecPos), 8u);
  expect_traces(prompt, got, 5);
}

TEST_P(DecodeTest, AbortEndsAfterTheCurrentStep) {
  write_program(step_program(), prog_);
  const std::vector<uint32_t> prompt{1};
  const drv::DecodeArgs d = args(prompt, 1000, 0, kRamp);
  const Expect full = expect(prompt, d);  // ends on SEQ_LEN (64 steps) without the abort
  write_prompt(prompt);
  const uint32_t seq = q_->submit_and_complete({drv::make_decode(d)});
  std::vector<StreamToken> got;
  while (got.size() < 3) {
    const auto t = dev_->read_tokens(2'000'000);
    ASSERT_FALSE(t.empty());
    got.insert(got.end(), t.begin(), t.end());
  }
  // ABORT with ENABLE kept set (a CTRL write sets ENABLE to its bit).
  dev_->write32(regs::kCtrl, regs::kCtrlEnable.put(1) | regs::kCtrlAbort.put(1));
  const auto rest = collect();
  got.insert(got.end(), rest.begin(), rest.end());
  q_->wait(seq);
  ASSERT_FALSE(got.empty());
  ASSERT_LT(got.size(), full.tokens.size());
  EXPECT_TRUE(got.back().last);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].token, full.tokens[i].token) << "token " << i;
    EXPECT_EQ(got[i].last, i + 1 == got.size()) << "token " << i;
  }
  EXPECT_EQ(dec_reason(), 4u);
  EXPECT_EQ(dev_->read32(regs::kDecTokens), got.size());
  // ABORT when no DECODE runs does nothing; the next DECODE runs to its end.
  dev_->write32(regs::kCtrl, regs::kCtrlEnable.put(1) | regs::kCtrlAbort.put(1));
  const drv::DecodeArgs d2 = args(prompt, 5, 0, kRamp);
  expect_tokens(run_decode(prompt, d2), expect(prompt, d2).tokens);
  EXPECT_EQ(dec_reason(), 1u);
}

TEST_P(DecodeTest, SecondDecodeAfterTheFirst) {
  write_program(step_program(), prog_);
  const std::vector<uint32_t> prompt{8, 2};
  const drv::DecodeArgs d1 = args(prompt, 6, 0, kRamp), d2 = args(prompt, 5, 20, kRamp);
  write_prompt(prompt);
  const uint32_t seq = q_->submit_and_complete({drv::make_decode(d1), drv::make_decode(d2)});
  const std::vector<StreamToken> got = collect(2'000'000, 2);
  q_->wait(seq);
  std::vector<StreamToken> want = expect(prompt, d1).tokens;
  const auto w2 = expect(prompt, d2).tokens;
  want.insert(want.end(), w2.begin(), w2.end());
  expect_tokens(got, want);
  EXPECT_EQ(dev_->read32(regs::kDecTokens), 5u);
  EXPECT_EQ(dev_->read32(regs::kDecPos), 24u);
}

// An error at step 3 (a LOADS past the vector memory once pos >= 3): the tokens of steps 0..2
// go out, none with tlast; the queue halts on the DECODE with DEC_PC on the failing descriptor.
// Resuming after fixing the program runs the DECODE again from its start; so does a fresh
// DECODE after QUEUE_RESET.
TEST_P(DecodeTest, ErrorInTheProgramHaltsOnTheDecodeAndRecovers) {
  // Element 2 lanes - 3 + pos of the vector at the second-last row: past the memory from pos 3.
  const uint16_t row = static_cast<uint16_t>(cfg().vec_rows - 2);
  const desc::Words bad =
      drv::make_vec({VecKind::kLoadS, AluOp::kAdd, 4, row, 0, static_cast<uint16_t>(2 * lanes_ - 3), 0}, true);
  write_program(step_program(5, bad), prog_);
  const std::vector<uint32_t> prompt{1};
  const drv::DecodeArgs d = args(prompt, 10, 0, kRamp);
  write_prompt(prompt);
  const uint32_t head0 = dev_->read32(regs::kRingHead);
  q_->submit({drv::make_nop(), drv::make_decode(d)});
  const std::vector<StreamToken> got = collect(200'000);
  const Expect e = expect(prompt, d);
  expect_tokens(got, std::vector<StreamToken>(e.tokens.begin(), e.tokens.begin() + 3));
  const drv::QueueStatus st = q_->status();
  EXPECT_TRUE(st.halted);
  const drv::QueueError err = q_->error();
  EXPECT_EQ(err.code(), desc::Error::kBadVector);
  EXPECT_EQ(err.index(), head0 + 1);  // the DECODE's ring index
  EXPECT_EQ(err.info(), bad[1]);
  EXPECT_EQ(dev_->read32(regs::kRingHead), head0 + 1);
  EXPECT_EQ(dev_->read32(regs::kDecPc), 5u);
  EXPECT_EQ(dev_->read32(regs::kDecPos), 3u);
  EXPECT_FALSE(dec_running());
  EXPECT_EQ(dec_reason(), 0u);

  // Resume with the program fixed: the DECODE starts over.
  write_program(step_program(), prog_);
  q_->resume();
  const std::vector<StreamToken> again = collect();
  expect_tokens(again, e.tokens);
  q_->drain();
  EXPECT_EQ(dev_->read32(regs::kRingHead), head0 + 2);

  // Break it again, then QUEUE_RESET mid-way and run a good DECODE.
  write_program(step_program(5, bad), prog_);
  const uint32_t seq_bad = q_->submit_and_complete({drv::make_decode(d)});
  (void)seq_bad;
  collect(200'000);
  EXPECT_TRUE(q_->status().halted);
  q_->reset();
  write_program(step_program(), prog_);
  const drv::DecodeArgs d2 = args(prompt, 4, 2, kRamp);
  expect_tokens(run_decode(prompt, d2), expect(prompt, d2).tokens);
}

// The step-program cache: a program that fits it is read from memory in the first step only,
// so once the first token is out the program's memory can fail reads without effect; without
// a cache (or a program too long for it) the next step's fetch is a FETCH_BUS_ERROR.
TEST_P(DecodeTest, StepProgramCacheServesTheLaterSteps) {
  if (!can_inject()) GTEST_SKIP() << "no bus-error injection into a board's memory";
  write_program(step_program(), prog_);
  const std::vector<uint32_t> prompt{1, 5};
  const drv::DecodeArgs d = args(prompt, 12, 0, kRamp);
  write_prompt(prompt);
  q_->submit({drv::make_decode(d)});
  std::vector<StreamToken> got = dev_->read_tokens(2'000'000);
  ASSERT_FALSE(got.empty());
  inject(prog_, prog_ + d.prog_len * desc::kBytes, true, false);
  const std::vector<StreamToken> rest = collect(200'000);
  got.insert(got.end(), rest.begin(), rest.end());
  const bool cached = cfg().dec_prog_cache >= d.prog_len;
  if (cached) {
    expect_tokens(got, expect(prompt, d).tokens);
    q_->drain();
    EXPECT_FALSE(q_->status().halted);
  } else {
    EXPECT_LT(got.size(), expect(prompt, d).tokens.size());
    EXPECT_EQ(q_->error().code(), desc::Error::kFetchBusError);
  }
  clear_injected();
  q_->reset();
}

// Bus errors on the prompt read: FETCH_BUS_ERROR with the token's address.
TEST_P(DecodeTest, PromptReadBusErrorIsReported) {
  if (!can_inject()) GTEST_SKIP() << "no bus-error injection into a board's memory";
  write_program(step_program(), prog_);
  // PROMPT[8] (its own AXI beat for any width up to 32 bytes) is read at the end of step 7.
  const std::vector<uint32_t> prompt{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  write_prompt(prompt);
  inject(prompt_ + 32, prompt_ + 36, true, false);
  const uint32_t head0 = dev_->read32(regs::kRingHead);
  q_->submit({drv::make_decode(args(prompt, 20, 0, kRamp))});
  const std::vector<StreamToken> got = collect(200'000);
  std::vector<StreamToken> want;
  for (uint32_t i = 1; i < 8; ++i) want.push_back(StreamToken{prompt[i], true, false});
  EXPECT_EQ(show(got), show(want));
  const drv::QueueError err = q_->error();
  EXPECT_EQ(err.code(), desc::Error::kFetchBusError);
  EXPECT_EQ(err.info(), prompt_ + 32);
  EXPECT_EQ(err.index(), head0);
  clear_injected();
  q_->reset();
}

// The DECODE's own checks, DECODE inside a program, and POS_/TOKEN_ patches that overflow.
TEST_P(DecodeTest, FieldChecksAndPatchOverflows) {
  write_program(step_program(), prog_);
  const std::vector<uint32_t> prompt{1};
  write_prompt(prompt);
  struct Case {
    const char* what;
    drv::DecodeArgs d;
    desc::Error code;
    uint32_t info;
  };
  std::vector<Case> cases;
  auto base = [&]() { return args(prompt, 4, 0, kRamp); };
  {
    auto d = base(); d.prog_len = 0; cases.push_back({"PROG_LEN 0", d, desc::Error::kZeroSize, 0});
  }
  {
    auto d = base(); d.steps = 0; cases.push_back({"STEPS 0", d, desc::Error::kZeroSize, 0});
  }
  {
    auto d = base(); d.prompt_len = 0; cases.push_back({"PROMPT_LEN 0", d, desc::Error::kZeroSize, 0});
  }
  {
    auto d = base(); d.seq_len = 0; cases.push_back({"SEQ_LEN 0", d, desc::Error::kZeroSize, 0});
  }
  {
    auto d = base(); d.prog_addr += 16; cases.push_back({"PROG_ADDR % 32", d, desc::Error::kMisaligned, d.prog_addr});
  }
  {
    auto d = base(); d.prompt_addr += 2; cases.push_back({"PROMPT_ADDR % 4", d, desc::Error::kMisaligned, d.prompt_addr});
  }
  {
    auto d = base(); d.prog_addr = base_ - 64; cases.push_back({"program outside", d, desc::Error::kHostRange, d.prog_addr});
  }
  {
    auto d = base(); d.prompt_addr = base_ + static_cast<uint32_t>(dev_->mem_size()) - 4; d.prompt_len = 2;
    cases.push_back({"prompt outside", d, desc::Error::kHostRange, d.prompt_addr});
  }
  {
    auto d = base(); d.start_pos = 9; d.seq_len = 9; cases.push_back({"START_POS", d, desc::Error::kDecodeRange, 9});
  }
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    q_->submit({drv::make_decode(c.d)});
    q_->drain();
    const drv::QueueError err = q_->error();
    EXPECT_EQ(err.code(), c.code);
    EXPECT_EQ(err.info(), c.info);
    EXPECT_TRUE(dev_->read_tokens(1).empty());
    q_->reset();
  }
  // Inside a step program: DECODE is BAD_OPCODE; patches past their fields.
  struct ProgCase {
    const char* what;
    desc::Words w;
    std::vector<uint32_t> prompt;
    desc::Error code;
    uint32_t info;
  };
  drv::Xfer far{desc::Bank::kVec, 0, 0xFFFFFF00u, 1, axi(), 0, 0};
  far.token_addr = true;
  const uint32_t big = 0x01000000u;  // a token far past any table
  drv::Xfer rows{desc::Bank::kKv, 0, base_, 0xFFFF, axi(), 0, 0};
  rows.pos_rows = true;
  const std::vector<ProgCase> pcs = {
      {"DECODE in a program", drv::make_decode(base()), {1}, desc::Error::kBadOpcode, 7},
      {"TOKEN_ADDR past 32 bits", drv::make_load(far), {big}, desc::Error::kHostRange,
       static_cast<uint32_t>(0xFFFFFF00ull + uint64_t{big} * axi())},
      {"POS_ROWS past 16 bits", drv::make_store(rows), {1}, desc::Error::kSramRange, 0},
      {"POS_LEN past 16 bits", drv::make_vec({VecKind::kSum, AluOp::kAdd, 0, 0, 0, 0xFFFF, 0}, true), {1},
       desc::Error::kBadVector, 0},
  };
  for (const ProgCase& c : pcs) {
    SCOPED_TRACE(c.what);
    // The bad descriptor is descriptor 1 of the program (after a NOP); pos is 1.
    std::vector<desc::Words> p = step_program();
    p[0] = drv::make_nop();
    p[1] = c.w;
    write_program(p, prog_);
    write_prompt(c.prompt);
    drv::DecodeArgs d = args(c.prompt, 4, 1, kRamp);
    q_->submit({drv::make_decode(d)});
    q_->drain();
    const drv::QueueError err = q_->error();
    EXPECT_EQ(err.code(), c.code);
    if (c.code == desc::Error::kBadVector) {
      EXPECT_EQ(err.info(), c.w[1]);
    } else {
      EXPECT_EQ(err.info(), c.info);
    }
    EXPECT_EQ(dev_->read32(regs::kDecPc), 1u);
    q_->reset();
  }
}

// The step program with its VEC runs in the vector program memory: the same tokens and
// traces (POS_LEN in a program entry adds the step's pos); fewer descriptors per step.
TEST_P(DecodeTest, VrunProgramGivesTheSameTokens) {
  const std::vector<desc::Words> p = vrun_program(step_program(), 3);
  ASSERT_LT(p.size(), step_program().size());
  write_program(p, prog_);
  const std::vector<uint32_t> prompt{1, 40, 7};
  drv::DecodeArgs d = args(prompt, 12, 2, kRamp);
  d.prog_len = static_cast<uint32_t>(p.size());
  const std::vector<StreamToken> got = run_decode(prompt, d);
  expect_tokens(got, expect(prompt, d).tokens);
  expect_traces(prompt, got, 2);
  EXPECT_EQ(dev_->read32(regs::kDecPc), static_cast<uint32_t>(p.size()));
}

// VRUN's own checks (the descriptor is not consumed), STORE cannot read bank VPROG, a LOAD
// must fit it; HW_VEC reports the program memory's size.
TEST_P(DecodeTest, VrunChecks) {
  const uint32_t depth = cfg().vec_prog_depth;
  EXPECT_EQ(regs::kHwVecProgLog2.get(dev_->read32(regs::kHwVec)), static_cast<uint32_t>(__builtin_ctz(depth)));
  desc::Words reserved = drv::make_vrun(0, 1);
  reserved[2] = 1;
  struct Case {
    const char* what;
    desc::Words w;
    desc::Error code;
    uint32_t info;
  } cases[] = {
      {"COUNT 0", drv::make_vrun(0, 0), desc::Error::kZeroSize, 0},
      {"past the memory", drv::make_vrun(depth - 2, 3), desc::Error::kSramRange, depth - 2},
      {"reserved bits", reserved, desc::Error::kReservedBits, 2},
      {"STORE from VPROG", drv::make_store({desc::Bank::kVprog, 0, vprog_, 1, axi(), 0, 0}), desc::Error::kBadBank, 5},
      {"LOAD past VPROG", drv::make_load({desc::Bank::kVprog, depth * 16 - axi(), vprog_, 1, 2 * axi(), 0, 0}),
       desc::Error::kSramRange, depth * 16 - axi()},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const uint32_t head0 = dev_->read32(regs::kRingHead);
    q_->submit({c.w});
    q_->drain();
    const drv::QueueError err = q_->error();
    EXPECT_EQ(err.code(), c.code);
    EXPECT_EQ(err.info(), c.info);
    EXPECT_EQ(err.index(), head0);
    EXPECT_EQ(dev_->read32(regs::kRingHead), head0);  // not consumed
    q_->reset();
  }
  // The last entry of the memory runs.
  vrun_program({drv::make_vec({VecKind::kSetS, AluOp::kAdd, 6, 0, 0, 0, 0x1234}),
                drv::make_vec({VecKind::kStoreS, AluOp::kAdd, 1, 6, 0, 0, 0})}, depth - 2);
  q_->run({drv::make_vrun(depth - 2, 2), drv::make_store({desc::Bank::kVec, row_bytes_, trace_, 1, axi(), 0, 0})});
  EXPECT_EQ(get32(trace_), 0x1234u);
}

// A program entry that fails its checks halts the queue with BAD_VECTOR, ERR_INFO its index
// and ERR_INDEX the VRUN; the entries before it ran, none after it; QUEUE_RESET recovers. In a
// DECODE the halt names the DECODE and the stream ends without tlast.
TEST_P(DecodeTest, BadProgramEntryHaltsWithItsIndex) {
  const uint16_t past = static_cast<uint16_t>(cfg().vec_rows);
  const std::vector<desc::Words> entries = {
      drv::make_vec({VecKind::kSetS, AluOp::kAdd, 6, 0, 0, 0, 0x77}),
      drv::make_vec({VecKind::kStoreS, AluOp::kAdd, 1, 6, 0, 0, 0}),
      drv::make_vec({VecKind::kSum, AluOp::kAdd, 0, past, 0, 8, 0}),  // rows past the memory
      drv::make_vec({VecKind::kSetS, AluOp::kAdd, 6, 0, 0, 0, 0x99}),
      drv::make_vec({VecKind::kStoreS, AluOp::kAdd, 1, 6, 0, 0, 0}),
  };
  vrun_program(entries, 5);
  const uint32_t head0 = dev_->read32(regs::kRingHead);
  q_->submit({drv::make_nop(), drv::make_vrun(5, 5)});
  q_->drain();
  drv::QueueError err = q_->error();
  EXPECT_EQ(err.code(), desc::Error::kBadVector);
  EXPECT_EQ(err.info(), 7u);
  EXPECT_EQ(err.index(), head0 + 1);
  q_->reset();
  q_->run({drv::make_store({desc::Bank::kVec, row_bytes_, trace_, 1, axi(), 0, 0})});
  EXPECT_EQ(get32(trace_), 0x77u);  // entry 6 ran, entry 9 did not

  // Inside a DECODE: the good step program with the bad run after its first descriptor.
  std::vector<desc::Words> p = vrun_program(step_program(), 20);
  p.insert(p.begin() + 1, drv::make_vrun(5, 5));
  write_program(p, prog_);
  const std::vector<uint32_t> prompt{1};
  drv::DecodeArgs d = args(prompt, 10, 0, kRamp);
  d.prog_len = static_cast<uint32_t>(p.size());
  write_prompt(prompt);
  const uint32_t head1 = dev_->read32(regs::kRingHead);
  q_->submit({drv::make_decode(d)});
  const std::vector<StreamToken> got = collect(200'000);
  EXPECT_TRUE(got.empty());
  err = q_->error();
  EXPECT_EQ(err.code(), desc::Error::kBadVector);
  EXPECT_EQ(err.info(), 7u);
  EXPECT_EQ(err.index(), head1);
  EXPECT_FALSE(dec_running());
  q_->reset();
  p.erase(p.begin() + 1);
  write_program(p, prog_);
  d.prog_len = static_cast<uint32_t>(p.size());
  expect_tokens(run_decode(prompt, d), expect(prompt, d).tokens);
}

// Bank HIST: loaded by DMA while the vector unit works (not ordered with it), read by
// DOTROWS/AXPYROWS with HIST_A; tokens between LOAD (PUSH_VEC / POP_VEC) and the vector
// engine (POP_PREV / PUSH_PREV) order them. Results equal the direct computation on both
// backends; on the core the LOAD overlaps a long VRUN; the bank's checks; token overflow.
TEST_P(DecodeTest, HistoryBankLoadsOverlapTheVectorUnitAndTokensOrderThem) {
  const uint32_t rows = cfg().vec_hist_rows, n = std::min<uint32_t>(rows / 2, 12);
  EXPECT_EQ(regs::kHwVecHistRows.get(dev_->read32(regs::kHwVecHist)), rows);
  // Host: K rows (n of them) and the query; the query into vector row 1.
  std::vector<golden::kfp::Bits> k(n * lanes_), q(lanes_);
  std::vector<uint8_t> kb(k.size() * 4), qb(lanes_ * 4);
  for (size_t i = 0; i < k.size(); ++i) {
    k[i] = golden::kfp::from_float(static_cast<float>(static_cast<int>(i % 13) - 6) / 4.0f);
    put32(kb, 4 * i, k[i]);
  }
  for (uint32_t i = 0; i < lanes_; ++i) {
    q[i] = golden::kfp::from_float(0.5f + static_cast<float>(i));
    put32(qb, 4 * i, q[i]);
  }
  const uint32_t khost = trace_, qhost = rows_area_;
  dev_->mem_write(khost, kb.data(), kb.size());
  dev_->mem_write(qhost, qb.data(), qb.size());
  q_->run({drv::make_load({desc::Bank::kVec, row_bytes_, qhost, 1, row_bytes_, 0, 0})});
  // A long VRUN (busy work on other rows), then the LOAD of the K rows into HIST row n (it
  // does not wait for the VRUN), then DOTROWS with HIST_A, which waits for the LOAD's token
  // and gives one back, which the last LOAD (of row 0, unused) takes.
  const uint16_t busy_len = static_cast<uint16_t>(std::min<uint32_t>(cfg().vec_rows / 4, 64) * lanes_);
  std::vector<desc::Words> busy(std::min<uint32_t>(cfg().vec_prog_depth, 16),
                                drv::make_vec({VecKind::kVV, AluOp::kMul, 8, 8, 8, busy_len, 0}));
  vrun_program(busy, 0);
  drv::Xfer kx{desc::Bank::kHist, n * row_bytes_, khost, n, row_bytes_, row_bytes_, row_bytes_};
  kx.push_vec = true;
  golden::VecInstr dot{VecKind::kDotRows, AluOp::kAdd, 2, static_cast<uint16_t>(n), 1, static_cast<uint16_t>(n), 0};
  dot.hist_a = true;
  drv::Xfer last{desc::Bank::kHist, 0, khost, 1, row_bytes_, 0, 0};
  last.pop_vec = true;
  const uint64_t c0 = dev_->cycles();
  q_->run({drv::make_vrun(0, static_cast<uint32_t>(busy.size())), drv::make_load(kx),
           drv::make_vec(dot, false, drv::Deps{true, false, true, false}), drv::make_load(last),
           drv::make_store({desc::Bank::kVec, 2 * row_bytes_, trace_, (n + lanes_ - 1) / lanes_, row_bytes_, row_bytes_,
                            row_bytes_})});
  for (uint32_t t = 0; t < n; ++t) {
    EXPECT_EQ(get32(trace_ + 4 * t), golden::kvec::dot(&k[t * lanes_], q.data(), lanes_, lanes_)) << "score " << t;
  }
  if (!is_model() && !is_serial()) {
    // The LOAD ran beside the VRUN: the list took about as long as the VRUN alone.
    const uint64_t total = dev_->cycles() - c0;
    const uint64_t c1 = dev_->cycles();
    q_->run({drv::make_vrun(0, static_cast<uint32_t>(busy.size()))});
    const uint64_t vrun_alone = dev_->cycles() - c1;
    std::printf("  %s: VRUN alone %llu cycles; VRUN + overlapped HIST LOAD + DOTROWS + LOAD + STORE %llu\n",
                config_name().c_str(), static_cast<unsigned long long>(vrun_alone),
                static_cast<unsigned long long>(total));
    EXPECT_LT(total, vrun_alone + 150 + 2 * n);
  }
  // Checks: STORE cannot read HIST; a LOAD must fit it; HIST_A only on the row kinds.
  struct Case {
    const char* what;
    desc::Words w;
    desc::Error code;
  } cases[] = {
      {"STORE from HIST", drv::make_store({desc::Bank::kHist, 0, trace_, 1, axi(), 0, 0}), desc::Error::kBadBank},
      {"LOAD past HIST", drv::make_load({desc::Bank::kHist, rows * row_bytes_ - axi(), trace_, 1, 2 * axi(), 0, 0}),
       desc::Error::kSramRange},
      {"HIST_A on SUM", [] {
         golden::VecInstr in{VecKind::kSum, AluOp::kAdd, 0, 0, 0, 8, 0};
         in.hist_a = true;
         return drv::make_vec(in);
       }(), desc::Error::kBadVector},
      {"DOTROWS past HIST", [&] {
         golden::VecInstr in = dot;
         in.a = static_cast<uint16_t>(rows - n + 1);
         return drv::make_vec(in);
       }(), desc::Error::kBadVector},
      {"POP_PREV on STORE's engine flag misuse", [&] {
         desc::Words w = drv::make_vrun(0, 1);
         desc::kPopNext.set(w, 1);
         return w;
       }(), desc::Error::kBadDependency},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    q_->submit({c.w});
    q_->drain();
    EXPECT_EQ(q_->error().code(), c.code);
    q_->reset();
  }
  // 256 tokens to the vector engine that nobody takes: TOKEN_OVERFLOW on the 256th LOAD.
  std::vector<desc::Words> many(256, drv::make_load([&] {
    drv::Xfer x{desc::Bank::kHist, 0, trace_, 1, axi(), 0, 0};
    x.push_vec = true;
    return x;
  }()));
  const uint32_t head0 = dev_->read32(regs::kRingHead);
  try {
    q_->submit_stream(many);  // the halt may come before the last of them is in the ring
  } catch (const drv::QueueError&) {
  }
  q_->drain();
  EXPECT_EQ(q_->error().code(), desc::Error::kTokenOverflow);
  EXPECT_EQ(q_->error().index(), (head0 + 255) % q_->entries());
  q_->reset();
}

INSTANTIATE_TEST_SUITE_P(Backends, DecodeTest, ::testing::ValuesIn(tb::all_backends()), tb::config_name);

// The emulated core under heavy backpressure on the token stream: every token arrives once,
// in order; STREAM_WAIT counts the stalls. Also reports the step overhead.
class DecodeBackpressureTest : public DecodeTest {
 protected:
  drv::EmulatedOptions options() const override {
    drv::EmulatedOptions o;
    o.stream_stall = 0.97;
    o.stream_seed = 7;
    return o;
  }
};

TEST_P(DecodeBackpressureTest, NoTokenIsLostOrRepeated) {
  if (is_model()) GTEST_SKIP() << "the model has no stream timing";
  write_program(step_program(), prog_);
  const std::vector<uint32_t> prompt{1, 17, 23};
  const drv::DecodeArgs d = args(prompt, 60, 2, kRamp);
  const std::vector<StreamToken> got = run_decode(prompt, d);
  expect_tokens(got, expect(prompt, d).tokens);
  EXPECT_GT(counter(regs::Counter::kStreamWait), 100u);
  EXPECT_EQ(counter(regs::Counter::kDecSteps), 60u);
}

TEST_P(DecodeTest, StepOverheadInCycles) {
  if (is_model() || is_serial()) GTEST_SKIP() << "cycles are measured on the emulated core";
  // Programs of one and of two NOPs, 1 and 33 steps: the cost of a step beyond its descriptors
  // (fence, S7, the token, the next step's start) and of a program descriptor.
  const std::vector<uint32_t> prompt{1};
  write_prompt(prompt);
  uint64_t c[2][2];
  for (uint32_t len : {1u, 2u}) {
    write_program(std::vector<desc::Words>(len, drv::make_nop()), prog_);
    for (uint32_t steps : {1u, 33u}) {
      const uint64_t c0 = dev_->cycles();
      run_decode(prompt, args(prompt, steps, 0, kRamp, 0xFFFF, len));
      c[len - 1][steps == 33] = dev_->cycles() - c0;
    }
  }
  const double per_step[2] = {(c[0][1] - c[0][0]) / 32.0, (c[1][1] - c[1][0]) / 32.0};
  const double per_desc = per_step[1] - per_step[0];
  std::printf("  %s: cycles per step: %.1f (1-NOP program), %.1f (2 NOPs); a NOP in the program %.1f, "
              "the step itself %.1f (memory read latency %u)\n",
              config_name().c_str(), per_step[0], per_step[1], per_desc, per_step[0] - per_desc,
              options().read_latency);
  EXPECT_LT(per_step[0] - per_desc, 16.0);
}

/// VMOVE's cycles: one run per cycle -- the values left in the source beat, the destination
/// beat and the word (ACC_TO_VEC) or the count (VEC_TO_ACT) -- plus one (ks_vmove).
uint64_t vmove_cycles(const hw::HwConfig& c, const drv::VmoveArgs& a) {
  const uint32_t elems = c.axi_data_bytes / 4;
  uint64_t n = 1;
  if (a.dir == drv::VmoveDir::kAccToVec) {
    for (uint32_t i = 0; i < a.count; ++i) {
      const uint32_t dst = a.vec_elem + (i % a.groups) * a.gstride + (i / a.groups) * c.array_rows;
      for (uint32_t r = 0; r < c.array_rows; ++n) {
        r += std::min({elems - r % elems, elems - (dst + r) % elems, c.array_rows - r});
      }
    }
  } else {
    const uint32_t total = (a.count + c.act_word_bytes - 1) / c.act_word_bytes * c.act_word_bytes;
    for (uint32_t e = 0; e < total; ++n) {
      const uint32_t beat_left = c.axi_data_bytes - e % c.axi_data_bytes;
      e += e < a.count ? std::min({elems - (a.vec_elem + e) % elems, a.count - e, beat_left}) : beat_left;
    }
  }
  return n;
}

// VEC_BUSY per instruction on the core: VMOVE moves a run of values per cycle (a whole beat
// when aligned), plus one cycle; DOTROWS streams a row per cycle through log2(lanes) tree
// levels.
TEST_P(DecodeTest, VectorBusyCyclesPerInstruction) {
  if (is_model()) GTEST_SKIP() << "cycles are measured on the emulated core";
  const uint32_t rows = cfg().array_rows, actw = cfg().act_word_bytes, elems = axi() / 4;
  const uint32_t levels = static_cast<uint32_t>(__builtin_ctz(lanes_));
  drv::VmoveArgs a2v;
  a2v.dir = drv::VmoveDir::kAccToVec;
  a2v.count = 4;
  a2v.groups = 2;
  a2v.gstride = 32;
  a2v.vec_elem = 16;
  drv::VmoveArgs a2v_odd = a2v;  // destinations off the beat: runs split
  a2v_odd.vec_elem = 17;
  a2v_odd.gstride = 35;
  drv::VmoveArgs v2a;
  v2a.dir = drv::VmoveDir::kVecToAct;
  v2a.count = 3 * actw - 1;
  drv::VmoveArgs v2a_odd = v2a;
  v2a_odd.vec_elem = 3;
  const uint16_t n = 16;
  struct Case {
    const char* what;
    desc::Words w;
    uint64_t want;
  } cases[] = {
      {"VMOVE ACC_TO_VEC", drv::make_vmove(a2v), vmove_cycles(cfg(), a2v)},
      {"VMOVE ACC_TO_VEC, unaligned", drv::make_vmove(a2v_odd), vmove_cycles(cfg(), a2v_odd)},
      {"VMOVE VEC_TO_ACT", drv::make_vmove(v2a), vmove_cycles(cfg(), v2a)},
      {"VMOVE VEC_TO_ACT, unaligned", drv::make_vmove(v2a_odd), vmove_cycles(cfg(), v2a_odd)},
      {"VEC DOTROWS", drv::make_vec({VecKind::kDotRows, AluOp::kAdd, 0, 16, 12, n, 0}), n + 2u + levels},
      {"VEC AXPYROWS", drv::make_vec({VecKind::kAxpyRows, AluOp::kAdd, 0, 16, 8, n, 0}), n + 3u},
  };
  // Aligned moves take a beat per cycle.
  if (rows % elems == 0) {
    EXPECT_EQ(cases[0].want, 4u * rows / elems + 1);
  }
  EXPECT_EQ(cases[2].want, (3u * actw - 1 + elems - 1) / elems + 1 + 1);
  for (const Case& c : cases) {
    const uint64_t before = counter(regs::Counter::kVecBusy);
    q_->run({c.w});
    const uint64_t busy = counter(regs::Counter::kVecBusy) - before;
    std::printf("  %s: %s: VEC_BUSY %llu cycles\n", config_name().c_str(), c.what, static_cast<unsigned long long>(busy));
    EXPECT_EQ(busy, c.want) << c.what;
  }
}

#ifndef KS_SERIAL_BACKEND  // the serial build runs DecodeTest only: these need the emulated sink
INSTANTIATE_TEST_SUITE_P(Backends, DecodeBackpressureTest,
                         ::testing::Values("emulated/odd", "emulated/up5k", "emulated/ecp5"), tb::config_name);
#else
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(DecodeBackpressureTest);
#endif

}  // namespace
