#include "kestrel/driver/queue.h"

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "kestrel/driver/model.h"
#include "kestrel/regs.h"

namespace ks::drv {

namespace {

void set_deps(desc::Words& w, Deps d) {
  desc::kPopPrev.set(w, d.pop_prev);
  desc::kPopNext.set(w, d.pop_next);
  desc::kPushPrev.set(w, d.push_prev);
  desc::kPushNext.set(w, d.push_next);
}

std::string hex(uint32_t v) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%x", v);
  return b;
}

}  // namespace

desc::Words make_nop() {
  desc::Words w{};
  desc::kOpcode.set(w, static_cast<uint32_t>(desc::Opcode::kNop));
  return w;
}

static desc::Words make_xfer(desc::Opcode op, const Xfer& x, Deps d) {
  desc::Words w{};
  desc::kOpcode.set(w, static_cast<uint32_t>(op));
  set_deps(w, d);
  // LOAD and STORE share their field layout.
  desc::kLoadBank.set(w, static_cast<uint32_t>(x.bank));
  desc::kLoadSramAddr.set(w, x.sram_addr);
  desc::kLoadHostAddr.set(w, x.host_addr);
  desc::kLoadRows.set(w, x.rows);
  desc::kLoadRowBytes.set(w, x.row_bytes);
  desc::kLoadHostStride.set(w, x.host_stride);
  desc::kLoadSramStride.set(w, x.sram_stride);
  desc::kLoadPosAddr.set(w, x.pos_addr);
  desc::kLoadTokenAddr.set(w, x.token_addr);
  desc::kLoadPosRows.set(w, x.pos_rows);
  if (op == desc::Opcode::kLoad) {
    desc::kLoadPushVec.set(w, x.push_vec);
    desc::kLoadPopVec.set(w, x.pop_vec);
  } else if (x.push_vec || x.pop_vec) {
    throw std::invalid_argument("make_store: PUSH_VEC and POP_VEC are LOAD's");
  }
  return w;
}

desc::Words make_load(const Xfer& x, Deps d) { return make_xfer(desc::Opcode::kLoad, x, d); }
desc::Words make_store(const Xfer& x, Deps d) { return make_xfer(desc::Opcode::kStore, x, d); }

desc::Words make_matmul(const MatmulArgs& a, Deps d) {
  desc::Words w{};
  desc::kOpcode.set(w, static_cast<uint32_t>(desc::Opcode::kMatmul));
  set_deps(w, d);
  desc::kMatmulInt4.set(w, a.int4);
  desc::kMatmulGroup.set(w, a.group);
  desc::kMatmulM.set(w, a.m);
  desc::kMatmulK.set(w, a.k);
  desc::kMatmulN.set(w, a.n);
  desc::kMatmulWgtAddr.set(w, a.wgt_addr);
  desc::kMatmulActAddr.set(w, a.act_addr);
  desc::kMatmulAccAddr.set(w, a.acc_addr);
  return w;
}

desc::Words make_vec(const golden::VecInstr& in, bool pos_len, Deps d) {
  desc::Words w{};
  desc::kOpcode.set(w, static_cast<uint32_t>(desc::Opcode::kVec));
  set_deps(w, d);
  const golden::VecEntry e = golden::encode_entry(in, pos_len);  // words 1..4
  for (size_t i = 0; i < e.size(); ++i) w[i + 1] = e[i];
  return w;
}

desc::Words make_vrun(uint32_t start, uint32_t count, Deps d) {
  desc::Words w{};
  desc::kOpcode.set(w, static_cast<uint32_t>(desc::Opcode::kVrun));
  set_deps(w, d);
  desc::kVrunStart.set(w, start);
  desc::kVrunCount.set(w, count);
  return w;
}

desc::Words make_vmove(const VmoveArgs& a) {
  desc::Words w{};
  desc::kOpcode.set(w, static_cast<uint32_t>(desc::Opcode::kVmove));
  desc::kVmoveDir.set(w, static_cast<uint32_t>(a.dir));
  desc::kVmoveVecElem.set(w, a.vec_elem);
  desc::kVmoveBankAddr.set(w, a.bank_addr);
  desc::kVmoveCount.set(w, a.count);
  desc::kVmoveGroups.set(w, a.groups);
  desc::kVmoveGstride.set(w, a.gstride);
  return w;
}

desc::Words make_decode(const DecodeArgs& a) {
  desc::Words w{};
  desc::kOpcode.set(w, static_cast<uint32_t>(desc::Opcode::kDecode));
  desc::kDecodeProgAddr.set(w, a.prog_addr);
  desc::kDecodeProgLen.set(w, a.prog_len);
  desc::kDecodeStopToken.set(w, a.stop_token);
  desc::kDecodePromptAddr.set(w, a.prompt_addr);
  desc::kDecodePromptLen.set(w, a.prompt_len);
  desc::kDecodeSteps.set(w, a.steps);
  desc::kDecodeStartPos.set(w, a.start_pos);
  desc::kDecodeSeqLen.set(w, a.seq_len);
  return w;
}

desc::Words make_complete(uint32_t seq, uint32_t host_addr, bool irq) {
  desc::Words w{};
  desc::kOpcode.set(w, static_cast<uint32_t>(desc::Opcode::kComplete));
  desc::kCompleteSeq.set(w, seq);
  desc::kCompleteIrq.set(w, irq);
  desc::kCompleteHostAddr.set(w, host_addr);
  return w;
}

std::string describe(const desc::Words& w) {
  std::ostringstream s;
  const uint32_t op = desc::kOpcode.get(w);
  if (!desc::is_opcode(op)) {
    s << "opcode " << op << " (unknown)";
  } else {
    const auto opc = static_cast<desc::Opcode>(op);
    s << desc::name(opc);
    switch (opc) {
      case desc::Opcode::kLoad:
      case desc::Opcode::kStore: {
        const uint32_t bank = desc::kLoadBank.get(w);
        s << " bank=" << (bank < desc::kNumBanks ? desc::name(static_cast<desc::Bank>(bank)) : "?") << "("
          << bank << ") sram=" << hex(desc::kLoadSramAddr.get(w)) << " host=" << hex(desc::kLoadHostAddr.get(w))
          << " rows=" << desc::kLoadRows.get(w) << " row_bytes=" << desc::kLoadRowBytes.get(w)
          << " host_stride=" << desc::kLoadHostStride.get(w) << " sram_stride=" << desc::kLoadSramStride.get(w);
        if (desc::kLoadPosAddr.get(w)) s << " +pos_addr";
        if (desc::kLoadTokenAddr.get(w)) s << " +token_addr";
        if (desc::kLoadPosRows.get(w)) s << " +pos_rows";
        if (opc == desc::Opcode::kLoad && desc::kLoadPushVec.get(w)) s << " push_vec";
        if (opc == desc::Opcode::kLoad && desc::kLoadPopVec.get(w)) s << " pop_vec";
        break;
      }
      case desc::Opcode::kVec:
        s << " kind=" << desc::kVecKind.get(w) << " op=" << desc::kVecOp.get(w) << " dst=" << desc::kVecDst.get(w)
          << " a=" << desc::kVecA.get(w) << " b=" << desc::kVecB.get(w) << " len=" << desc::kVecLen.get(w)
          << " imm=" << hex(desc::kVecImm.get(w));
        if (desc::kVecSwapB.get(w)) s << " swap_b";
        if (desc::kVecBImm.get(w)) s << " b_imm";
        if (desc::kVecPosLen.get(w)) s << " +pos_len";
        if (desc::kVecHistA.get(w)) s << " hist_a";
        break;
      case desc::Opcode::kVrun:
        s << " start=" << desc::kVrunStart.get(w) << " count=" << desc::kVrunCount.get(w);
        break;
      case desc::Opcode::kVmove:
        s << (desc::kVmoveDir.get(w) == 0 ? " acc_to_vec" : desc::kVmoveDir.get(w) == 1 ? " vec_to_act" : " dir=?")
          << " elem=" << desc::kVmoveVecElem.get(w) << " bank=" << hex(desc::kVmoveBankAddr.get(w))
          << " count=" << desc::kVmoveCount.get(w) << " groups=" << desc::kVmoveGroups.get(w)
          << " gstride=" << desc::kVmoveGstride.get(w);
        break;
      case desc::Opcode::kDecode:
        s << " prog=" << hex(desc::kDecodeProgAddr.get(w)) << " len=" << desc::kDecodeProgLen.get(w)
          << " prompt=" << hex(desc::kDecodePromptAddr.get(w)) << " prompt_len=" << desc::kDecodePromptLen.get(w)
          << " steps=" << desc::kDecodeSteps.get(w) << " start=" << desc::kDecodeStartPos.get(w)
          << " seq_len=" << desc::kDecodeSeqLen.get(w) << " stop=" << desc::kDecodeStopToken.get(w);
        break;
      case desc::Opcode::kMatmul:
        s << (desc::kMatmulInt4.get(w) ? " int4" : " int8");
        if (desc::kMatmulGroup.get(w)) s << " group=" << desc::kMatmulGroup.get(w);
        s << " M=" << desc::kMatmulM.get(w)
          << " K=" << desc::kMatmulK.get(w) << " N=" << desc::kMatmulN.get(w)
          << " wgt=" << hex(desc::kMatmulWgtAddr.get(w)) << " act=" << hex(desc::kMatmulActAddr.get(w))
          << " acc=" << hex(desc::kMatmulAccAddr.get(w));
        break;
      case desc::Opcode::kComplete:
        s << " seq=" << desc::kCompleteSeq.get(w) << " host=" << hex(desc::kCompleteHostAddr.get(w))
          << (desc::kCompleteIrq.get(w) ? " irq" : "");
        break;
      case desc::Opcode::kNop:
        break;
    }
  }
  const char* flags[] = {" pop_prev", " pop_next", " push_prev", " push_next"};
  const desc::Field fs[] = {desc::kPopPrev, desc::kPopNext, desc::kPushPrev, desc::kPushNext};
  for (int i = 0; i < 4; ++i) {
    if (fs[i].get(w)) s << flags[i];
  }
  return s.str();
}

CommandQueue::CommandQueue(Device& dev, uint32_t ring_addr, uint32_t entries, uint32_t completion_addr)
    : dev_(dev), ring_addr_(ring_addr), entries_(entries), completion_addr_(completion_addr),
      shadow_(entries, desc::Words{}) {}

void CommandQueue::start() {
  dev_.write32(regs::kWinBase, static_cast<uint32_t>(dev_.mem_base()));
  dev_.write32(regs::kWinSize, static_cast<uint32_t>(dev_.mem_size()));
  dev_.write32(regs::kRingBase, ring_addr_);
  dev_.write32(regs::kRingSize, entries_);
  dev_.write32(regs::kIrqEnable, regs::kIrqEnableCompletion.mask() | regs::kIrqEnableError.mask());
  dev_.write32(regs::kCtrl, regs::kCtrlEnable.mask());
  tail_ = dev_.read32(regs::kRingTail);
  const QueueStatus st = status();
  if (st.halted) throw error();
}

uint32_t CommandQueue::space() {
  const uint32_t head = dev_.read32(regs::kRingHead);
  return (head + entries_ - tail_ - 1) % entries_;
}

void CommandQueue::submit(const std::vector<desc::Words>& list) {
  if (list.size() > space()) {
    throw QueueFull("command queue: " + std::to_string(list.size()) + " descriptors offered, " +
                    std::to_string(space()) + " ring slots free (ring of " + std::to_string(entries_) + ")");
  }
  for (const desc::Words& w : list) {
    dev_.mem_write(ring_addr_ + tail_ * desc::kBytes, w.data(), desc::kBytes);
    shadow_[tail_] = w;
    tail_ = (tail_ + 1) % entries_;
  }
  dev_.write32(regs::kRingTail, tail_);
}

void CommandQueue::submit_stream(const std::vector<desc::Words>& list, uint64_t timeout) {
  size_t next = 0;
  uint64_t waited = 0;
  while (next < list.size()) {
    const uint32_t free_slots = space();
    if (free_slots == 0) {
      if (status().halted) throw error();
      if (waited >= timeout) {
        throw std::runtime_error("command queue: no ring slot freed in " + std::to_string(waited) + " device time units");
      }
      dev_.wait_irq(64);  // let the core consume (time passes on simulated backends)
      waited += 64;
      continue;
    }
    const size_t take = std::min<size_t>(free_slots, list.size() - next);
    submit(std::vector<desc::Words>(list.begin() + static_cast<std::ptrdiff_t>(next),
                                    list.begin() + static_cast<std::ptrdiff_t>(next + take)));
    next += take;
    waited = 0;
  }
}

uint32_t CommandQueue::stream_and_complete(const std::vector<desc::Words>& list, uint64_t timeout) {
  std::vector<desc::Words> all = list;
  const uint32_t seq = next_seq_++;
  all.push_back(make_complete(seq, completion_addr_, true));
  submit_stream(all, timeout);
  return seq;
}

uint32_t CommandQueue::submit_and_complete(const std::vector<desc::Words>& list) {
  std::vector<desc::Words> all = list;
  const uint32_t seq = next_seq_++;
  all.push_back(make_complete(seq, completion_addr_, true));
  submit(all);
  return seq;
}

QueueError CommandQueue::error() {
  const QueueStatus st = status();
  // A build without err_info_detail keeps none in ERR_INFO: the driver works it out as the
  // golden model's checks do, from the registers and its copy of the ring.
  uint32_t info = st.err_info;
  std::string detail = hex(info);
  if (dev_.config().err_info_detail == 0 && st.error != desc::Error::kNone) {
    ErrorContext ctx;
    ctx.code = st.error;
    ctx.index = st.err_index;
    ctx.ring_base = dev_.read32(regs::kRingBase);
    ctx.ring_size = dev_.read32(regs::kRingSize);
    ctx.ring_head = st.head;
    ctx.ring_tail = st.tail;
    ctx.win_base = dev_.read32(regs::kWinBase);
    ctx.win_size = dev_.read32(regs::kWinSize);
    if (st.error != desc::Error::kRingConfig) ctx.descriptor = shadow_.at(st.err_index % entries_);
    if (const auto d = model_error_detail(dev_.config(), ctx)) {
      info = *d;
      detail = hex(info) + " (worked out by the driver: this build's ERR_INFO keeps no detail)";
    } else {
      detail = st.error == desc::Error::kDoorbellRange
                   ? "not known (this build's ERR_INFO keeps no detail: the value written to RING_TAIL)"
                   : "not known (this build's ERR_INFO keeps no detail; the failing burst lies in the descriptor's "
                     "host range)";
    }
  }
  std::string what = "command queue halted: " + std::string(desc::name(st.error)) + " (" +
                     std::string(desc::describe(st.error)) + ")";
  if (st.error == desc::Error::kRingConfig || st.error == desc::Error::kDoorbellRange) {
    what += "; offending value " + detail;
  } else {
    what += " at ring index " + std::to_string(st.err_index) + ": " +
            describe(shadow_.at(st.err_index % entries_)) + "; detail " + detail;
  }
  return QueueError(st.error, st.err_index, info, what);
}

void CommandQueue::wait(uint32_t seq, uint64_t timeout) {
  uint64_t waited = 0;
  const uint64_t step = 1000;
  while (true) {
    const bool irq = dev_.wait_irq(step);
    waited += step;
    if (irq) {
      const uint32_t cause = dev_.read32(regs::kIrqStatus);
      if (regs::kIrqStatusError.get(cause)) throw error();
      dev_.write32(regs::kIrqStatus, cause);
    }
    uint32_t done = 0;
    dev_.mem_read(completion_addr_, &done, sizeof done);
    if (static_cast<int32_t>(done - seq) >= 0 && dev_.read32(regs::kLastSeq) == done) return;
    if (waited >= timeout) {
      const QueueStatus st = status();
      throw std::runtime_error("command queue: completion " + std::to_string(seq) + " not seen after " +
                               std::to_string(waited) + " time units of the device (cycles simulated, microseconds on a board; head " + std::to_string(st.head) + ", tail " +
                               std::to_string(st.tail) + (st.busy ? ", busy)" : ", idle)"));
    }
  }
}

void CommandQueue::run(const std::vector<desc::Words>& list, uint64_t timeout) {
  wait(submit_and_complete(list), timeout);
}

void CommandQueue::drain(uint64_t timeout) {
  for (uint64_t waited = 0; regs::kStatusBusy.get(dev_.read32(regs::kStatus)); waited += 64) {
    if (waited >= timeout) throw std::runtime_error("command queue: still busy after " + std::to_string(waited) + " device time units");
    dev_.wait_irq(64);
  }
}

void CommandQueue::reset() {
  dev_.write32(regs::kCtrl, regs::kCtrlQueueReset.mask());
  for (int i = 0; i < 10000; ++i) {
    const uint32_t st = dev_.read32(regs::kStatus);
    if (!regs::kStatusResetting.get(st)) break;
    dev_.wait_irq(10);
  }
  dev_.write32(regs::kIrqStatus, 0xFFFFFFFFu);
  uint32_t zero = 0;
  dev_.mem_write(completion_addr_, &zero, sizeof zero);
  next_seq_ = 1;
  start();
}

void CommandQueue::resume() {
  dev_.write32(regs::kIrqStatus, 0xFFFFFFFFu);
  dev_.write32(regs::kCtrl, regs::kCtrlEnable.mask());
  const QueueStatus st = status();
  if (st.halted) throw error();
}

void CommandQueue::rewrite(uint32_t index, const desc::Words& w) {
  dev_.mem_write(ring_addr_ + index * desc::kBytes, w.data(), desc::kBytes);
  shadow_.at(index) = w;
}

QueueStatus CommandQueue::status() {
  QueueStatus s;
  const uint32_t st = dev_.read32(regs::kStatus);
  s.busy = regs::kStatusBusy.get(st);
  s.halted = regs::kStatusHalted.get(st);
  s.resetting = regs::kStatusResetting.get(st);
  s.enabled = regs::kStatusEnabled.get(st);
  s.error = static_cast<desc::Error>(dev_.read32(regs::kErrCode));
  s.err_index = dev_.read32(regs::kErrIndex);
  s.err_info = dev_.read32(regs::kErrInfo);
  s.head = dev_.read32(regs::kRingHead);
  s.tail = dev_.read32(regs::kRingTail);
  s.completions = dev_.read32(regs::kCompletions);
  s.last_seq = dev_.read32(regs::kLastSeq);
  return s;
}

}  // namespace ks::drv
