// The harness every testbench, benchmark and demo builds on: owns the Verilator context and
// the model, drives the clock and the active-low reset, and optionally writes an FST
// waveform and line coverage.
#pragma once

#include <verilated.h>
#if VM_TRACE
#include <verilated_fst_c.h>
#endif
#if VM_COVERAGE
#include <verilated_cov.h>
#endif

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>

namespace ks::tb {

template <class Model>
class SimHarness {
 public:
  explicit SimHarness(const std::string& name = "top") : ctx_(std::make_unique<VerilatedContext>()) {
    ctx_->debug(0);
    ctx_->randReset(0);
#if VM_TRACE
    ctx_->traceEverOn(true);
#endif
    top_ = std::make_unique<Model>(ctx_.get(), name.c_str());
    top_->clk_i = 0;
    top_->rst_ni = 0;
    top_->eval();
  }

  SimHarness(const SimHarness&) = delete;
  SimHarness& operator=(const SimHarness&) = delete;

  ~SimHarness() {
#if VM_TRACE
    if (trace_) trace_->close();
#endif
    top_->final();
#if VM_COVERAGE
    if (const char* dir = std::getenv("KS_COVERAGE_DIR")) {
      static int serial = 0;
      const std::string path = std::string(dir) + "/" + std::to_string(::getpid()) + "_" +
                               std::to_string(serial++) + ".dat";
      ctx_->coveragep()->write(path.c_str());
    }
#endif
  }

  Model& top() { return *top_; }
  Model* operator->() { return top_.get(); }
  uint64_t cycles() const { return cycles_; }

  /// Starts an FST waveform (requires a build with tracing; throws otherwise).
  void trace(const std::string& path) {
#if VM_TRACE
    trace_ = std::make_unique<VerilatedFstC>();
    top_->trace(trace_.get(), 99);
    trace_->open(path.c_str());
#else
    throw std::runtime_error("waveform requested (" + path + ") but this model was built without --trace-fst");
#endif
  }

  /// Settles combinational logic for the inputs set since the last edge.
  void eval() { top_->eval(); }

  /// One full clock cycle: the rising edge samples the inputs set before the call.
  void tick() {
    top_->clk_i = 0;
    top_->eval();
    dump();
    ctx_->timeInc(5);
    top_->clk_i = 1;
    top_->eval();
    dump();
    ctx_->timeInc(5);
    ++cycles_;
  }

  /// Holds rst_ni low for `n` rising edges, then releases it.
  void reset(int n = 4) {
    top_->rst_ni = 0;
    for (int i = 0; i < n; ++i) tick();
    top_->rst_ni = 1;
    top_->eval();
  }

 private:
  void dump() {
#if VM_TRACE
    if (trace_) trace_->dump(ctx_->time());
#endif
  }

  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<Model> top_;
#if VM_TRACE
  std::unique_ptr<VerilatedFstC> trace_;
#endif
  uint64_t cycles_ = 0;
};

}  // namespace ks::tb
