// A fixture that brings up the core on the emulated backend in one configuration (the
// test parameter) with a command queue, plus helpers to stage data in device memory.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "kestrel/driver/emulated.h"
#include "kestrel/driver/model.h"
#include "kestrel/driver/queue.h"
#include "kestrel/hw_config.h"
#include "test_seed.h"
#ifdef KS_SERIAL_BACKEND
#include "board_sim.h"
#include "kestrel/driver/serial.h"
#endif

namespace ks::tb {

/// The test parameter is "<backend>/<config>": backend "emulated" (the Verilated core),
/// "model" (the golden model executing the same descriptors) or, in builds with
/// KS_SERIAL_BACKEND, "serial" (the serial backend talking to a simulated board through a
/// pseudo-terminal and the board's UART bridge).
class CoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  static constexpr uint32_t kRingEntries = 16;

  std::string backend() const { return GetParam().substr(0, GetParam().find('/')); }
  std::string config_name() const { return GetParam().substr(GetParam().find('/') + 1); }
  bool is_model() const { return backend() == "model"; }
  bool is_serial() const { return backend() == "serial"; }
  /// Bus errors can be injected into the memory of the simulated backends only.
  bool can_inject() const { return !is_serial(); }
  /// Clock cycles the core has run so far (emulated: the device's count; serial: the
  /// simulated board's, which runs on its own between requests).
  uint64_t clock_cycles() const {
#ifdef KS_SERIAL_BACKEND
    if (is_serial()) return sim_->cycles();
#endif
    return dev_->cycles();
  }

  void SetUp() override {
    seed_ = test_seed();
    rng_.seed(seed_);
    if (is_model()) {
      dev_ = drv::make_model_device(config_name());
#ifdef KS_SERIAL_BACKEND
    } else if (is_serial()) {
      sim_ = make_board_sim(config_name());
      dev_ = drv::make_serial_device(config_name(), sim_->path());
#endif
    } else {
      dev_ = drv::make_emulated_device(config_name(), options());
    }
    base_ = static_cast<uint32_t>(dev_->mem_base());
    ring_ = base_;
    completion_ = base_ + 0x800;
    data_ = base_ + 0x1000;
    q_ = std::make_unique<drv::CommandQueue>(*dev_, ring_, kRingEntries, completion_);
    q_->start();
  }

  void TearDown() override {
#ifdef KS_SERIAL_BACKEND
    if (sim_) {
      const auto m = sim_->memory_violations();
      EXPECT_TRUE(m.empty()) << m.size() << " SDRAM rule violations on the simulated board, first: " << m.front();
    }
#endif
    if (!dev_) return;
    const auto v = drv::emulated_violations(*dev_);
    EXPECT_TRUE(v.empty()) << "AXI protocol violations, first: " << (v.empty() ? "" : v.front());
  }

  virtual drv::EmulatedOptions options() const { return {}; }

  const hw::HwConfig& cfg() const { return dev_->config(); }

  /// Bus errors (SLVERR) on accesses touching [lo, hi), on either backend.
  void inject(uint64_t lo, uint64_t hi, bool reads, bool writes) {
    if (!can_inject()) throw std::logic_error("bus-error injection needs a simulated memory (check can_inject())");
    if (is_model()) {
      drv::model_inject_error(*dev_, lo, hi, reads, writes);
    } else {
      drv::emulated_memory(*dev_)->inject_error(lo, hi, emu::AxiResp::kSlvErr, reads, writes);
    }
  }
  void clear_injected() {
    if (!can_inject()) return;
    if (is_model()) {
      drv::model_clear_errors(*dev_);
    } else {
      drv::emulated_memory(*dev_)->clear_errors();
    }
  }
  uint32_t axi() const { return cfg().axi_data_bytes; }

  /// Bump allocation in device memory, aligned to 64 bytes.
  uint32_t alloc(size_t bytes) {
    const uint32_t a = data_;
    data_ += static_cast<uint32_t>((bytes + 63) / 64 * 64);
    return a;
  }

  std::vector<uint8_t> random_bytes(size_t n) {
    std::vector<uint8_t> v(n);
    std::uniform_int_distribution<int> b(0, 255);
    for (auto& x : v) x = static_cast<uint8_t>(b(rng_));
    return v;
  }

#ifdef KS_SERIAL_BACKEND
  std::unique_ptr<BoardSim> sim_;  // outlives the device that talks to it
#endif
  std::unique_ptr<drv::Device> dev_;
  std::unique_ptr<drv::CommandQueue> q_;
  uint32_t base_ = 0, ring_ = 0, completion_ = 0, data_ = 0;
  uint64_t seed_ = 0;
  std::mt19937_64 rng_;
};

/// "emulated/ecp5" -> "emulated_ecp5" (test names allow no slash).
inline std::string config_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string s = info.param;
  for (char& c : s) {
    if (c == '/') c = '_';
  }
  return s;
}

/// Every backend in every configuration (a KS_SERIAL_BACKEND build: the serial backend on
/// each board's simulation).
inline std::vector<std::string> all_backends() {
#ifdef KS_SERIAL_BACKEND
  return {"serial/up5k", "serial/ecp5"};
#else
  return {"emulated/odd", "emulated/up5k", "emulated/ecp5", "model/odd", "model/up5k", "model/ecp5"};
#endif
}

}  // namespace ks::tb
