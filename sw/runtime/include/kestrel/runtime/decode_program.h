// The on-chip decode: a QuantModel compiled into a memory image and a DECODE step program
// (docs/decode.md). The step program is a list of ordinary descriptors -- LOAD, STORE,
// MATMUL, VMOVE, VEC -- that computes one token exactly as QuantModel::forward does, bit for
// bit, using the step's position and token through the POS_/TOKEN_ flags; the core repeats
// it for every token without the host (DECODE). OnChipDecoder runs it on any Device.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "kestrel/descriptors.h"
#include <memory>

#include "kestrel/driver/device.h"
#include "kestrel/driver/queue.h"
#include "kestrel/golden/vector_unit.h"
#include "kestrel/hw_config.h"
#include "kestrel/runtime/quant.h"

namespace ks::rt {

/// Where the weight matrices live during decoding.
enum class Placement {
  kAuto,      ///< resident when every matrix fits the WGT bank at once, else streamed
  kResident,  ///< loaded into WGT once, before decoding (error if they do not fit)
  kStreamed,  ///< each matrix loaded from memory in every step, double-buffered in WGT
};

const char* placement_name(Placement p);

struct DecodeBuildOptions {
  Placement placement = Placement::kAuto;
  /// Positions the program supports (its KV cache and the vector memory's attention rows);
  /// 0: as many as fit, at most the model's seq_len.
  uint32_t seq_len = 0;
  /// Each step also writes the logits (vocab_size KFP32) to memory, for sampling on the host.
  bool store_logits = false;
  /// Runs of vector instructions go into the vector program memory (bank VPROG, loaded by
  /// the setup list) and the step program holds one VRUN per run; identical runs (every
  /// layer's) share their entries. Runs that do not fit stay VEC descriptors. Off: every
  /// vector instruction is a VEC descriptor of the step program.
  bool vector_program = true;
};

/// A compiled model: what goes into device memory, and the descriptor lists.
class DecodeProgram {
 public:
  /// Compiles `model` for configuration `cfg`, with device memory [mem_base, mem_base +
  /// mem_size). Throws std::invalid_argument naming the limit when the model cannot run on
  /// the configuration (head size not equal to the vector lanes, group size not a multiple of
  /// the matrix unit's chunk, vector memory or device memory too small, ...).
  DecodeProgram(const QuantModel& model, const hw::HwConfig& cfg, uint64_t mem_base, size_t mem_size,
                const DecodeBuildOptions& opt = {});

  struct Chunk {
    uint32_t addr;
    std::vector<uint8_t> bytes;
  };
  /// Device memory contents: weights, scales, norm weights, RoPE tables, embedding table,
  /// the step program (the KV cache, prompt and logits areas need no initial contents).
  const std::vector<Chunk>& image() const { return image_; }
  /// Descriptors to run once before any DECODE (resident weights into WGT).
  const std::vector<desc::Words>& setup() const { return setup_; }
  /// The step program (also in image() at prog_addr()).
  const std::vector<desc::Words>& step() const { return step_; }

  uint32_t prog_addr() const { return prog_addr_; }
  uint32_t prompt_addr() const { return prompt_addr_; }
  uint32_t prompt_capacity() const { return prompt_cap_; }
  uint32_t logits_addr() const { return logits_addr_; }  ///< 0 unless store_logits
  uint32_t seq_len() const { return seq_len_; }
  bool resident() const { return resident_; }
  uint32_t mem_used() const { return mem_end_ - mem_base_; }
  uint32_t mem_base() const { return mem_base_; }
  uint32_t vocab_size() const { return vocab_; }

  /// Per token: multiply-accumulates of the weight matrices (padding excluded), weight bytes
  /// the matrix unit reads, and bytes LOADed from memory by the step program apart from the KV
  /// cache history (weights when streamed, scales, norm weights, RoPE rows, embedding row).
  uint64_t weight_macs() const { return weight_macs_; }
  uint64_t weight_bytes() const { return weight_bytes_; }
  uint64_t fixed_load_bytes() const { return fixed_load_bytes_; }
  /// Vector-memory rows the program uses, of the configuration's.
  uint32_t vec_rows_used() const { return vec_rows_used_; }
  /// The vector program memory's contents (entries, loaded by setup()), and the vector
  /// instructions one step executes (through VRUN or as VEC descriptors).
  const std::vector<golden::VecEntry>& vector_program() const { return vprog_; }
  uint64_t vector_instructions() const { return vec_instrs_; }

 private:
  friend class DecodeCompiler;
  std::vector<Chunk> image_;
  std::vector<desc::Words> setup_, step_;
  uint32_t mem_base_ = 0, mem_end_ = 0;
  uint32_t prog_addr_ = 0, prompt_addr_ = 0, prompt_cap_ = 0, logits_addr_ = 0, seq_len_ = 0;
  bool resident_ = false;
  uint64_t weight_macs_ = 0, weight_bytes_ = 0, fixed_load_bytes_ = 0;
  uint32_t vec_rows_used_ = 0;
  uint32_t vocab_ = 0;
  std::vector<golden::VecEntry> vprog_;
  uint64_t vec_instrs_ = 0;
};

/// What a decode run measured (from the performance counters; cycle figures are 0 on the
/// model backend, which has no clock).
struct DecodeStats {
  uint64_t cycles = 0, prefill_cycles = 0, decode_cycles = 0;
  uint32_t prefill_tokens = 0, decode_tokens = 0;
  uint64_t macs = 0, mu_busy = 0, mu_stall_operand = 0, mu_stall_result = 0, vec_busy = 0;
  uint64_t load_busy = 0, store_busy = 0, bytes_read = 0, bytes_written = 0, dma_rd_wait = 0, stream_wait = 0;
  /// The command processor's waits: for descriptor fetches, at fences, to dispatch.
  uint64_t cp_fetch = 0, cp_fence = 0, cp_held = 0, token_wait = 0;
  uint64_t descriptors = 0;
  uint32_t reason = 0;  ///< DEC_STATUS.REASON: 1 steps, 2 seq_len, 3 stop token, 4 abort
};

/// Runs a DecodeProgram on a device: loads the image, runs the setup, then DECODEs.
class OnChipDecoder {
 public:
  /// Loads the image and runs the setup list; `dev` must outlive the decoder.
  OnChipDecoder(drv::Device& dev, const DecodeProgram& prog);

  /// One DECODE: the prompt's first token at position 0 (prompt non-empty, e.g. BOS first),
  /// prompt tokens forced while they last, then greedy (the argmax the core computes), at most
  /// `steps` positions, stopping after `stop_token` (-1: none). `on_token` gets each token the
  /// moment the stream delivers it. Returns every streamed token. Throws drv::QueueError if the
  /// core halts, std::runtime_error on a timeout.
  std::vector<drv::StreamToken> generate(const std::vector<int>& prompt, int steps, int stop_token,
                                         const std::function<void(const drv::StreamToken&)>& on_token = {});

  /// One step on the core for host-side sampling (the program must store logits): a DECODE
  /// of one position with `token` at `pos`; returns the logits as floats.
  std::vector<float>& forward(int token, int pos);

  /// The statistics of the last generate(), or accumulated over forward() calls since the last
  /// reset_stats().
  void reset_stats() { stats_ = {}; }
  const DecodeStats& stats() const { return stats_; }
  /// Requests CTRL.ABORT (from on_token, for example).
  void abort();

 private:
  drv::Device& dev_;
  const DecodeProgram& prog_;
  uint32_t ring_addr_ = 0, completion_addr_ = 0;
  std::unique_ptr<drv::CommandQueue> q_;
  std::vector<float> logits_;

  /// Submits one DECODE and collects its stream; accumulates the counters into stats_.
  std::vector<drv::StreamToken> run_decode(const drv::DecodeArgs& a,
                                           const std::function<void(const drv::StreamToken&)>& on_token);
  DecodeStats stats_;
};

}  // namespace ks::rt
