// Drives a Verilated matrix unit (any configuration) with beats from a generator, under
// optional random stalls on both streams, and collects the results. Shared by the tests,
// the benchmark and the demo, so that all three measure the same thing.
#pragma once

#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>

#include "kestrel/golden/matrix_unit.h"
#include "kestrel/emu/port_bits.h"
#include "sim_harness.h"

namespace ks::tb {

using emu::get_word;
using emu::put_bytes;

/// Probability, per cycle, that the producer has no beat ready (in_idle) and that the
/// consumer refuses a result (out_stall). Zero for both is "operands at full rate".
struct StallProfile {
  double in_idle = 0.0;
  double out_stall = 0.0;
};

struct RunStats {
  uint64_t cycles = 0;          ///< clock cycles from the first offered beat to the last result
  uint64_t beats = 0;           ///< beats accepted
  uint64_t results = 0;         ///< results received
  uint64_t throttled = 0;       ///< cycles a beat was offered but in_ready_o was low
  bool completed = false;       ///< false when stopped by stop_after_cycles
};

template <class Model>
class MatrixUnitDriver {
 public:
  MatrixUnitDriver(SimHarness<Model>& sim, golden::ArrayShape shape, uint64_t seed)
      : sim_(sim), shape_(shape), rng_(seed) {}

  /// Offers beats 0 .. n_beats-1 (filled by beat_fn(i, beat)) and passes each result to
  /// result_fn(index, result) until n_results have arrived. With stop_after_cycles > 0 the
  /// run ends early after that many cycles (to test reset in the middle of a stream).
  /// Throws std::runtime_error if the unit stops making progress.
  template <class BeatFn, class ResultFn>
  RunStats run(size_t n_beats, size_t n_results, BeatFn&& beat_fn, ResultFn&& result_fn,
               StallProfile stalls = {}, uint64_t stop_after_cycles = 0) {
    std::uniform_real_distribution<double> uni(0.0, 1.0);
    Model& top = sim_.top();
    RunStats st;
    golden::MatrixBeat beat;
    golden::MatrixResult result;
    result.data.resize(shape_.rows);
    bool have = false;
    uint64_t idle_cycles = 0;
    const uint64_t start = sim_.cycles();
    while (st.results < n_results || st.beats < n_beats) {
      if (!have && st.beats < n_beats && (stalls.in_idle == 0.0 || uni(rng_) >= stalls.in_idle)) {
        beat_fn(static_cast<size_t>(st.beats), beat);
        put_bytes(top.in_w_i, beat.w.data(), beat.w.size());
        put_bytes(top.in_x_i, beat.x.data(), beat.x.size());
        top.in_int4_i = beat.int4;
        top.in_first_i = beat.first;
        top.in_last_i = beat.last;
        top.in_addr_i = beat.addr;
        have = true;
      }
      top.in_valid_i = have;
      top.out_ready_i = stalls.out_stall == 0.0 || uni(rng_) >= stalls.out_stall;
      sim_.eval();
      const bool in_fire = have && top.in_ready_o;
      if (have && !top.in_ready_o) ++st.throttled;
      if (top.out_valid_o && top.out_ready_i) {
        for (size_t r = 0; r < shape_.rows; ++r) {
          result.data[r] = static_cast<int32_t>(get_word(top.out_data_o, r));
        }
        result.addr = static_cast<uint32_t>(top.out_addr_o);
        result_fn(static_cast<size_t>(st.results), result);
        ++st.results;
        idle_cycles = 0;
      }
      sim_.tick();
      if (in_fire) {
        have = false;
        ++st.beats;
        idle_cycles = 0;
      }
      st.cycles = sim_.cycles() - start;
      if (stop_after_cycles != 0 && st.cycles >= stop_after_cycles) return st;
      if (++idle_cycles > 10000) {
        throw std::runtime_error("matrix unit made no progress for 10000 cycles after " +
                                 std::to_string(st.beats) + " beats and " +
                                 std::to_string(st.results) + " results");
      }
    }
    top.in_valid_i = 0;
    top.out_ready_i = 0;
    st.completed = true;
    return st;
  }

 private:
  SimHarness<Model>& sim_;
  golden::ArrayShape shape_;
  std::mt19937_64 rng_;
};

}  // namespace ks::tb
