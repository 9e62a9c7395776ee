#include <algorithm>
#include <stdexcept>
#include <string>

#include "kestrel/driver/queue.h"
#include "kestrel/regs.h"
#include "kestrel/runtime/decode_program.h"

namespace ks::rt {

namespace {

constexpr uint32_t kRingEntries = 64;

uint64_t read_counter(drv::Device& dev, regs::Counter c) {
  const uint32_t lo = dev.read32(regs::counter_lo(c));  // latches the high word
  return (uint64_t{dev.read32(regs::counter_lo(c) + 4)} << 32) | lo;
}

}  // namespace

OnChipDecoder::OnChipDecoder(drv::Device& dev, const DecodeProgram& prog) : dev_(dev), prog_(prog) {
  const hw::HwConfig& cfg = dev.config();
  if (!cfg.vector_unit) {
    throw std::invalid_argument("on-chip decode: configuration '" + std::string(cfg.name) +
                                "' has no vector unit (vector_unit = 0): DECODE and VEC are UNSUPPORTED there");
  }
  // The ring and its completion word after the program's memory.
  ring_addr_ = prog.mem_base() + ((prog.mem_used() + 63u) & ~63u);
  completion_addr_ = ring_addr_ + kRingEntries * desc::kBytes;
  if (uint64_t{completion_addr_} + 64 > dev.mem_base() + dev.mem_size() || prog.mem_base() < dev.mem_base()) {
    throw std::invalid_argument("on-chip decode: the program was compiled for other device memory");
  }
  for (const DecodeProgram::Chunk& c : prog.image()) dev.mem_write(c.addr, c.bytes.data(), c.bytes.size());
  q_ = std::make_unique<drv::CommandQueue>(dev, ring_addr_, kRingEntries, completion_addr_);
  q_->start();
  if (!prog.setup().empty()) {
    const uint32_t seq = q_->stream_and_complete(prog.setup());
    q_->wait(seq);
  }
}

void OnChipDecoder::abort() { dev_.write32(regs::kCtrl, regs::kCtrlEnable.put(1) | regs::kCtrlAbort.put(1)); }

std::vector<drv::StreamToken> OnChipDecoder::generate(const std::vector<int>& prompt, int steps, int stop_token,
                                                      const std::function<void(const drv::StreamToken&)>& on_token) {
  if (prompt.empty()) throw std::invalid_argument("on-chip decode: the prompt needs at least one token (BOS)");
  if (steps < 1) throw std::invalid_argument("on-chip decode: steps must be >= 1");
  for (size_t i = 0; i < prompt.size(); ++i) {
    if (prompt[i] < 0 || static_cast<uint32_t>(prompt[i]) >= prog_.vocab_size()) {
      throw std::invalid_argument("on-chip decode: prompt token " + std::to_string(prompt[i]) + " at " +
                                  std::to_string(i) + " is outside the vocabulary");
    }
  }
  // A DECODE of `steps` positions reads PROMPT[0 .. steps] at most: a longer prompt is cut
  // there (the tokens out are the same).
  const size_t used = std::min(prompt.size(), static_cast<size_t>(steps) + 1);
  if (used > prog_.prompt_capacity()) {
    throw std::invalid_argument("on-chip decode: prompt of " + std::to_string(used) +
                                " tokens, the program holds " + std::to_string(prog_.prompt_capacity()));
  }
  std::vector<uint8_t> words(4 * used);
  for (size_t i = 0; i < used; ++i) {
    for (int b = 0; b < 4; ++b) words[4 * i + b] = static_cast<uint8_t>(static_cast<uint32_t>(prompt[i]) >> (8 * b));
  }
  dev_.mem_write(prog_.prompt_addr(), words.data(), words.size());

  drv::DecodeArgs a;
  a.prog_addr = prog_.prog_addr();
  a.prog_len = static_cast<uint32_t>(prog_.step().size());
  a.stop_token = stop_token < 0 ? 0xFFFF : static_cast<uint32_t>(stop_token);
  a.prompt_addr = prog_.prompt_addr();
  a.prompt_len = static_cast<uint32_t>(used);
  a.steps = static_cast<uint32_t>(std::min<int>(steps, 0xFFFF));
  a.start_pos = 0;
  a.seq_len = prog_.seq_len();
  stats_ = {};
  return run_decode(a, on_token);
}

std::vector<float>& OnChipDecoder::forward(int token, int pos) {
  if (prog_.logits_addr() == 0) throw std::logic_error("on-chip decode: the program does not store logits");
  if (pos < 0 || static_cast<uint32_t>(pos) >= prog_.seq_len()) {
    throw std::out_of_range("on-chip decode: position " + std::to_string(pos) + " (the program holds " +
                            std::to_string(prog_.seq_len()) + ")");
  }
  if (token < 0 || static_cast<uint32_t>(token) >= prog_.vocab_size()) {
    throw std::out_of_range("on-chip decode: token " + std::to_string(token));
  }
  uint8_t w[4];
  for (int b = 0; b < 4; ++b) w[b] = static_cast<uint8_t>(static_cast<uint32_t>(token) >> (8 * b));
  dev_.mem_write(prog_.prompt_addr(), w, 4);
  drv::DecodeArgs a;
  a.prog_addr = prog_.prog_addr();
  a.prog_len = static_cast<uint32_t>(prog_.step().size());
  a.prompt_addr = prog_.prompt_addr();
  a.prompt_len = 1;
  a.steps = 1;
  a.start_pos = static_cast<uint32_t>(pos);
  a.seq_len = prog_.seq_len();
  run_decode(a, {});
  std::vector<uint8_t> raw(4 * size_t{prog_.vocab_size()});
  dev_.mem_read(prog_.logits_addr(), raw.data(), raw.size());
  logits_.resize(prog_.vocab_size());
  for (size_t i = 0; i < logits_.size(); ++i) {
    uint32_t v = 0;
    for (int b = 0; b < 4; ++b) v |= uint32_t{raw[4 * i + b]} << (8 * b);
    logits_[i] = golden::kfp::to_float(v);
  }
  return logits_;
}

std::vector<drv::StreamToken> OnChipDecoder::run_decode(const drv::DecodeArgs& a,
                                                        const std::function<void(const drv::StreamToken&)>& on_token) {
  using regs::Counter;
  const Counter ids[] = {Counter::kCycles,        Counter::kMacs,      Counter::kMuBusy,   Counter::kMuStallOperand,
                         Counter::kMuStallResult, Counter::kVecBusy,   Counter::kLoadBusy, Counter::kStoreBusy,
                         Counter::kBytesRead,     Counter::kBytesWritten, Counter::kDmaRdWait, Counter::kStreamWait,
                         Counter::kDescExecuted,  Counter::kCpFetch,   Counter::kCpFence,  Counter::kCpHeld,
                         Counter::kTokenWait};
  uint64_t before[std::size(ids)];
  for (size_t i = 0; i < std::size(ids); ++i) before[i] = read_counter(dev_, ids[i]);

  drv::CommandQueue& q = *q_;
  const uint32_t seq = q.submit_and_complete({drv::make_decode(a)});
  std::vector<drv::StreamToken> out;
  const uint64_t c0 = dev_.cycles();
  uint64_t prefill_end = c0;
  for (;;) {
    const std::vector<drv::StreamToken> got = dev_.read_tokens(200'000'000);
    if (got.empty()) {
      const drv::QueueStatus st = q.status();
      if (st.halted) throw q.error();
      throw std::runtime_error("on-chip decode: no token within the timeout");
    }
    for (const drv::StreamToken& t : got) {
      out.push_back(t);
      if (t.forced) {
        prefill_end = dev_.cycles();
        ++stats_.prefill_tokens;
      } else {
        ++stats_.decode_tokens;
      }
      if (on_token) on_token(t);
    }
    if (out.back().last) break;
  }
  q.wait(seq);
  uint64_t d[std::size(ids)];
  for (size_t i = 0; i < std::size(ids); ++i) d[i] = read_counter(dev_, ids[i]) - before[i];
  stats_.cycles += d[0];
  stats_.macs += d[1];
  stats_.mu_busy += d[2];
  stats_.mu_stall_operand += d[3];
  stats_.mu_stall_result += d[4];
  stats_.vec_busy += d[5];
  stats_.load_busy += d[6];
  stats_.store_busy += d[7];
  stats_.bytes_read += d[8];
  stats_.bytes_written += d[9];
  stats_.dma_rd_wait += d[10];
  stats_.stream_wait += d[11];
  stats_.descriptors += d[12];
  stats_.cp_fetch += d[13];
  stats_.cp_fence += d[14];
  stats_.cp_held += d[15];
  stats_.token_wait += d[16];
  stats_.prefill_cycles += prefill_end - c0;
  stats_.decode_cycles += dev_.cycles() - prefill_end;
  stats_.reason = regs::kDecStatusReason.get(dev_.read32(regs::kDecStatus));
  return out;
}

}  // namespace ks::rt
