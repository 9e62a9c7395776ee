// The command queue as a host sees it: descriptor builders, the ring in device memory,
// submission with the doorbell, waiting for completions, and errors that say what failed
// and where.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "kestrel/descriptors.h"
#include "kestrel/driver/device.h"
#include "kestrel/golden/vector_unit.h"

namespace ks::drv {

/// Dependency-token flags of a descriptor (docs/descriptors.md).
struct Deps {
  bool pop_prev = false;
  bool pop_next = false;
  bool push_prev = false;
  bool push_next = false;
};

/// A 2-D transfer between memory and a bank: `rows` rows of `row_bytes`.
struct Xfer {
  desc::Bank bank = desc::Bank::kKv;
  uint32_t sram_addr = 0;
  uint32_t host_addr = 0;
  uint32_t rows = 1;
  uint32_t row_bytes = 0;
  uint32_t host_stride = 0;
  uint32_t sram_stride = 0;
  // Inside a DECODE step program only:
  bool pos_addr = false;    ///< host_addr + pos x row_bytes
  bool token_addr = false;  ///< host_addr + token x row_bytes
  bool pos_rows = false;    ///< rows + pos
  // LOAD only: tokens with the vector engine (a VEC or VRUN with POP_PREV / PUSH_PREV).
  bool push_vec = false;    ///< when done, give the vector engine a token
  bool pop_vec = false;     ///< first wait for, and take, a token from the vector engine
};

enum class VmoveDir : uint32_t { kAccToVec = 0, kVecToAct = 1 };

/// VMOVE: ACC -> vector memory (MATMUL GROUP results regrouped per group) or vector memory ->
/// ACT (INT8 activations).
struct VmoveArgs {
  VmoveDir dir = VmoveDir::kAccToVec;
  uint32_t vec_elem = 0;   ///< first element in the vector memory
  uint32_t bank_addr = 0;  ///< byte offset in ACC or ACT
  uint32_t count = 0;      ///< ACC words, or elements
  uint32_t groups = 1;     ///< ACC_TO_VEC: partial sums per output
  uint32_t gstride = 0;    ///< ACC_TO_VEC: elements from one group's vector to the next
};

struct DecodeArgs {
  uint32_t prog_addr = 0, prog_len = 0;
  uint32_t stop_token = 0xFFFF;  ///< 0xFFFF: none
  uint32_t prompt_addr = 0, prompt_len = 1;
  uint32_t steps = 1, start_pos = 0, seq_len = 1;
};

struct MatmulArgs {
  bool int4 = false;
  uint32_t m = 0, k = 0, n = 0;
  uint32_t wgt_addr = 0, act_addr = 0, acc_addr = 0;  ///< byte offsets in WGT, ACT, ACC
  uint32_t group = 0;  ///< GROUP: 0 one sum over K; g > 0 partial sums per 2^(g-1) chunks
};

desc::Words make_nop();
desc::Words make_load(const Xfer& x, Deps d = {});
desc::Words make_store(const Xfer& x, Deps d = {});
desc::Words make_matmul(const MatmulArgs& a, Deps d = {});
desc::Words make_complete(uint32_t seq, uint32_t host_addr, bool irq);
/// VEC; pos_len: LEN + pos inside a DECODE step program. Deps: pop_prev takes a token a LOAD
/// gave (push_vec), push_prev gives one to a LOAD (pop_vec).
desc::Words make_vec(const golden::VecInstr& in, bool pos_len = false, Deps d = {});
/// VRUN: entries start .. start + count - 1 of the vector program memory (bank VPROG).
desc::Words make_vrun(uint32_t start, uint32_t count, Deps d = {});
desc::Words make_vmove(const VmoveArgs& a);
desc::Words make_decode(const DecodeArgs& a);

/// One line describing a descriptor, for error messages and logs.
std::string describe(const desc::Words& w);

/// The queue halted. Carries the hardware's error registers and the descriptor they name.
class QueueError : public std::runtime_error {
 public:
  QueueError(desc::Error code, uint32_t index, uint32_t info, const std::string& what)
      : std::runtime_error(what), code_(code), index_(index), info_(info) {}
  desc::Error code() const { return code_; }
  uint32_t index() const { return index_; }
  uint32_t info() const { return info_; }

 private:
  desc::Error code_;
  uint32_t index_, info_;
};

/// The ring has no room for the descriptors offered.
class QueueFull : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct QueueStatus {
  bool busy = false, halted = false, resetting = false, enabled = false;
  desc::Error error = desc::Error::kNone;
  uint32_t err_index = 0, err_info = 0, head = 0, tail = 0, completions = 0, last_seq = 0;
};

class CommandQueue {
 public:
  /// The ring (entries x 32 bytes) and a 4-byte completion word live in device memory at
  /// ring_addr and completion_addr; the DMA window is the whole device memory.
  CommandQueue(Device& dev, uint32_t ring_addr, uint32_t entries, uint32_t completion_addr);

  /// Programs the window, the ring and the interrupt enables, and enables the queue.
  /// Throws QueueError if the hardware rejects the ring.
  void start();

  /// Free ring slots (the ring holds entries - 1 descriptors).
  uint32_t space();

  /// Writes descriptors into the ring and rings the doorbell. Throws QueueFull, leaving
  /// the ring untouched, when they do not fit.
  void submit(const std::vector<desc::Words>& list);

  /// Submits a list of any length: fills the free slots, rings the doorbell and waits for
  /// room as the core consumes descriptors. Throws QueueError if the queue halts meanwhile,
  /// std::runtime_error if no slot frees within `timeout`.
  void submit_stream(const std::vector<desc::Words>& list, uint64_t timeout = 50'000'000);

  /// submit(list + COMPLETE(seq, irq)); returns seq.
  uint32_t submit_and_complete(const std::vector<desc::Words>& list);

  /// Waits until the completion `seq` is written. Throws QueueError (with the failing
  /// descriptor described) if the queue halts, std::runtime_error on timeout.
  void wait(uint32_t seq, uint64_t timeout = 50'000'000);

  /// submit_stream(list + COMPLETE(seq, irq)); returns seq.
  uint32_t stream_and_complete(const std::vector<desc::Words>& list, uint64_t timeout = 50'000'000);

  /// Runs a list to completion: submit_and_complete + wait.
  void run(const std::vector<desc::Words>& list, uint64_t timeout = 50'000'000);

  /// Waits until STATUS.BUSY is 0: after a halt on a bad descriptor, the work handed out
  /// before it finishes. Throws std::runtime_error on timeout.
  void drain(uint64_t timeout = 50'000'000);

  /// CTRL.QUEUE_RESET, wait until done, then start() again. Work still running is
  /// aborted (drain() first to let it finish).
  void reset();

  /// Sets CTRL.ENABLE again after a halt (resumes at RING_HEAD).
  void resume();

  QueueStatus status();
  /// The descriptor in ring slot `index` as last written by this queue.
  const desc::Words& slot(uint32_t index) const { return shadow_.at(index); }
  /// Overwrites ring slot `index` (to fix a descriptor before resume()).
  void rewrite(uint32_t index, const desc::Words& w);

  /// The error the hardware reports, as an exception (code NONE if not halted).
  QueueError error();

  uint32_t entries() const { return entries_; }

 private:
  Device& dev_;
  uint32_t ring_addr_, entries_, completion_addr_;
  uint32_t tail_ = 0;
  uint32_t next_seq_ = 1;
  std::vector<desc::Words> shadow_;
};

}  // namespace ks::drv
