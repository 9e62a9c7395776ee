// The emulated backend: a Verilated ks_core_<config> clocked in-process, with its AXI4
// master wired to an AxiMemory model every cycle, its AXI4-Lite slave driven by register
// accesses, and its AXI4-Stream token output sampled every clock into a host FIFO (with a
// seeded random tready pattern for backpressure tests).
#include "kestrel/driver/emulated.h"

#include <verilated.h>
#if VM_TRACE
#include <verilated_fst_c.h>
#endif
#if VM_COVERAGE
#include <unistd.h>

#include <cstdlib>
#include <verilated_cov.h>
#endif

#include <deque>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "core_models.h"
#include "kestrel/emu/port_bits.h"
#include "kestrel/regs.h"

namespace ks::drv {

namespace {

/// What every emulated device exposes beyond Device, whatever its model class.
class EmulatedBase : public Device {
 public:
  virtual emu::AxiMemory& memory() = 0;
};

template <class Model>
class EmulatedDevice final : public EmulatedBase {
 public:
  EmulatedDevice(const hw::HwConfig& cfg, const EmulatedOptions& opt)
      : cfg_(cfg),
        ctx_(std::make_unique<VerilatedContext>()),
        mem_(make_mem_config(cfg, opt), opt.mem_base.value_or(cfg.default_mem_base),
             opt.mem_size.value_or(cfg.default_mem_bytes)),
        stall_(opt.stream_stall),
        stall_rng_(opt.stream_seed) {
    if (!(opt.stream_stall >= 0 && opt.stream_stall < 1)) {
      throw std::invalid_argument("emulated device: stream_stall must be in [0, 1), got " +
                                  std::to_string(opt.stream_stall));
    }
    ctx_->randReset(0);
#if VM_TRACE
    if (!opt.waveform.empty()) ctx_->traceEverOn(true);
#endif
    top_ = std::make_unique<Model>(ctx_.get(), "core");
    if (!opt.waveform.empty()) {
#if VM_TRACE
      trace_ = std::make_unique<VerilatedFstC>();
      top_->trace(trace_.get(), 99);
      trace_->open(opt.waveform.c_str());
#else
      throw std::runtime_error("waveform requested (" + opt.waveform +
                               ") but the core was built without tracing (configure with -DKS_TRACE=ON)");
#endif
    }
    top_->clk_i = 0;
    top_->rst_ni = 0;
    idle_lite();
    next_tready();
    for (int i = 0; i < 8; ++i) tick();
    top_->rst_ni = 1;
  }

  EmulatedDevice(const EmulatedDevice&) = delete;
  EmulatedDevice& operator=(const EmulatedDevice&) = delete;

  ~EmulatedDevice() override {
#if VM_TRACE
    if (trace_) trace_->close();
#endif
    top_->final();
#if VM_COVERAGE
    // make coverage: every emulated device leaves its line counts in KS_COVERAGE_DIR.
    if (const char* dir = std::getenv("KS_COVERAGE_DIR")) {
      static int serial = 0;
      const std::string path = std::string(dir) + "/core_" + std::to_string(::getpid()) + "_" +
                               std::to_string(serial++) + ".dat";
      ctx_->coveragep()->write(path.c_str());
    }
#endif
  }

  std::string_view backend() const override { return "emulated"; }
  const hw::HwConfig& config() const override { return cfg_; }
  emu::AxiMemory& memory() override { return mem_; }
  uint64_t cycles() const override { return cycles_; }
  /// Beats collected so far; with none, runs up to `timeout` cycles until one arrives.
  std::vector<StreamToken> read_tokens(uint64_t timeout) override {
    for (uint64_t i = 0; i < timeout && tokens_.empty(); ++i) tick();
    std::vector<StreamToken> out(tokens_.begin(), tokens_.end());
    tokens_.clear();
    return out;
  }
  uint64_t mem_base() const override { return mem_.base(); }
  size_t mem_size() const override { return mem_.size(); }
  void mem_write(uint64_t addr, const void* src, size_t n) override { mem_.write(addr, src, n); }
  void mem_read(uint64_t addr, void* dst, size_t n) override { mem_.read(addr, dst, n); }

  uint32_t read32(uint32_t offset) override {
    top_->s_axil_arvalid_i = 1;
    top_->s_axil_araddr_i = static_cast<uint16_t>(offset);
    run_until([&] { return top_->s_axil_arready_o != 0; }, "AR", offset);
    top_->s_axil_arvalid_i = 0;
    top_->s_axil_rready_i = 1;
    run_until([&] { return top_->s_axil_rvalid_o != 0; }, "R", offset);
    const uint32_t data = top_->s_axil_rdata_o;
    const uint32_t resp = top_->s_axil_rresp_o;
    top_->s_axil_rready_i = 0;
    if (resp != 0) throw BusError("register read at offset " + hex(offset) + " answered SLVERR", offset);
    return data;
  }

  void write32(uint32_t offset, uint32_t value) override {
    top_->s_axil_awvalid_i = 1;
    top_->s_axil_awaddr_i = static_cast<uint16_t>(offset);
    top_->s_axil_wvalid_i = 1;
    top_->s_axil_wdata_i = value;
    top_->s_axil_wstrb_i = 0xF;
    run_until([&] { return top_->s_axil_awready_o != 0; }, "AW", offset);
    top_->s_axil_awvalid_i = 0;
    top_->s_axil_wvalid_i = 0;
    top_->s_axil_bready_i = 1;
    run_until([&] { return top_->s_axil_bvalid_o != 0; }, "B", offset);
    const uint32_t resp = top_->s_axil_bresp_o;
    top_->s_axil_bready_i = 0;
    if (resp != 0) throw BusError("register write at offset " + hex(offset) + " answered SLVERR", offset);
  }

  bool wait_irq(uint64_t timeout) override {
    for (uint64_t i = 0; i < timeout; ++i) {
      settle();
      if (top_->irq_o) return true;
      tick();
    }
    settle();
    return top_->irq_o != 0;
  }

 private:
  static emu::AxiMemoryConfig make_mem_config(const hw::HwConfig& cfg, const EmulatedOptions& opt) {
    emu::AxiMemoryConfig m;
    m.data_bytes = cfg.axi_data_bytes;
    m.read_latency = opt.read_latency;
    m.write_latency = opt.write_latency;
    m.max_outstanding_reads = opt.max_outstanding;
    m.max_outstanding_writes = opt.max_outstanding;
    m.bytes_per_cycle = opt.bytes_per_cycle > 0 ? opt.bytes_per_cycle : cfg.mem_bytes_per_cycle;
    return m;
  }

  static std::string hex(uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%03x", v);
    return buf;
  }

  void idle_lite() {
    top_->s_axil_awvalid_i = 0;
    top_->s_axil_wvalid_i = 0;
    top_->s_axil_bready_i = 0;
    top_->s_axil_arvalid_i = 0;
    top_->s_axil_rready_i = 0;
  }

  /// Ticks until `cond` holds before an edge (the handshake happens at that edge).
  template <class Cond>
  void run_until(Cond&& cond, const char* channel, uint32_t offset) {
    for (int i = 0; i < 1000; ++i) {
      settle();
      const bool done = cond();
      tick();
      if (done) return;
    }
    throw std::runtime_error(std::string("register access at ") + hex(offset) + ": no " + channel +
                             " handshake in 1000 cycles");
  }

  /// Drives the memory model's registered outputs into the core and settles its logic.
  void settle() {
    const emu::AxiSlaveSignals& s = mem_.outputs();
    top_->m_axi_arready_i = s.arready;
    top_->m_axi_rvalid_i = s.rvalid;
    top_->m_axi_rresp_i = static_cast<uint8_t>(s.rresp);
    top_->m_axi_rlast_i = s.rlast;
    if (s.rvalid) emu::put_bytes(top_->m_axi_rdata_i, s.rdata.data(), cfg_.axi_data_bytes);
    top_->m_axi_awready_i = s.awready;
    top_->m_axi_wready_i = s.wready;
    top_->m_axi_bvalid_i = s.bvalid;
    top_->m_axi_bresp_i = static_cast<uint8_t>(s.bresp);
    top_->clk_i = 0;
    top_->eval();
  }

  /// tready for the next cycle: low with probability stall_.
  void next_tready() {
    top_->m_axis_tready_i = !(stall_ > 0 && std::uniform_real_distribution<double>(0, 1)(stall_rng_) < stall_);
  }

  /// One clock edge for the core, the memory model and the token sink.
  void tick() {
    settle();
    if (top_->m_axis_tvalid_o && top_->m_axis_tready_i) {
      tokens_.push_back(StreamToken{static_cast<uint32_t>(top_->m_axis_tdata_o), top_->m_axis_tuser_o != 0,
                                    top_->m_axis_tlast_o != 0});
    }
#if VM_TRACE
    if (trace_) trace_->dump(ctx_->time());
#endif
    ctx_->timeInc(5);
    emu::AxiMasterSignals& m = master_;
    m.arvalid = top_->m_axi_arvalid_o;
    m.araddr = top_->m_axi_araddr_o;
    m.arlen = top_->m_axi_arlen_o;
    m.arsize = top_->m_axi_arsize_o;
    m.arburst = top_->m_axi_arburst_o;
    m.arid = 0;
    m.rready = top_->m_axi_rready_o;
    m.awvalid = top_->m_axi_awvalid_o;
    m.awaddr = top_->m_axi_awaddr_o;
    m.awlen = top_->m_axi_awlen_o;
    m.awsize = top_->m_axi_awsize_o;
    m.awburst = top_->m_axi_awburst_o;
    m.awid = 0;
    m.wvalid = top_->m_axi_wvalid_o;
    m.wdata.resize(cfg_.axi_data_bytes);
    emu::get_bytes(top_->m_axi_wdata_o, m.wdata.data(), cfg_.axi_data_bytes);
    m.wstrb = static_cast<uint64_t>(top_->m_axi_wstrb_o);
    m.wlast = top_->m_axi_wlast_o;
    m.bready = top_->m_axi_bready_o;
    mem_.tick(m);
    top_->clk_i = 1;
    top_->eval();
#if VM_TRACE
    if (trace_) trace_->dump(ctx_->time());
#endif
    ctx_->timeInc(5);
    ++cycles_;
    next_tready();
  }

  const hw::HwConfig& cfg_;
  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<Model> top_;
  emu::AxiMemory mem_;
  emu::AxiMasterSignals master_;
#if VM_TRACE
  std::unique_ptr<VerilatedFstC> trace_;
#endif
  uint64_t cycles_ = 0;
  double stall_;
  std::mt19937_64 stall_rng_;
  std::deque<StreamToken> tokens_;  ///< beats taken from the stream, not yet read
};

}  // namespace

std::unique_ptr<Device> make_emulated_device(std::string_view config, const EmulatedOptions& opt) {
  return detail::with_core_model(config, [&](auto tag, const hw::HwConfig& cfg) -> std::unique_ptr<Device> {
    using Model = typename decltype(tag)::type;
    return std::make_unique<EmulatedDevice<Model>>(cfg, opt);
  });
}

emu::AxiMemory* emulated_memory(Device& dev) {
  auto* e = dynamic_cast<EmulatedBase*>(&dev);
  return e ? &e->memory() : nullptr;
}

std::vector<std::string> emulated_violations(Device& dev) {
  emu::AxiMemory* m = emulated_memory(dev);
  return m ? m->violations() : std::vector<std::string>{};
}

}  // namespace ks::drv
