// The narrow device interface every backend implements: 32-bit register access, device
// memory, and waiting for the interrupt. Everything above it (queues, GEMM, models) is
// backend-independent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "kestrel/hw_config.h"

namespace ks::drv {

/// A register access answered with an error response (unmapped offset, read-only register).
class BusError : public std::runtime_error {
 public:
  BusError(const std::string& what, uint32_t offset) : std::runtime_error(what), offset_(offset) {}
  uint32_t offset() const { return offset_; }

 private:
  uint32_t offset_;
};

/// One beat of the core's token stream (AXI4-Stream, DECODE's output).
struct StreamToken {
  uint32_t token = 0;
  bool forced = false;  ///< tuser: a prompt token forced in place of the argmax
  bool last = false;    ///< tlast: the DECODE's final token
  bool operator==(const StreamToken& o) const { return token == o.token && forced == o.forced && last == o.last; }
};

class Device {
 public:
  virtual ~Device() = default;

  /// "emulated", "model", "board" or "serial".
  virtual std::string_view backend() const = 0;
  /// The hardware configuration the device was built for.
  virtual const hw::HwConfig& config() const = 0;

  /// Register access at a byte offset of the register map; throws BusError on SLVERR.
  virtual uint32_t read32(uint32_t offset) = 0;
  virtual void write32(uint32_t offset, uint32_t value) = 0;

  /// Device memory: what the core's DMA reaches, [mem_base(), mem_base() + mem_size()).
  virtual uint64_t mem_base() const = 0;
  virtual size_t mem_size() const = 0;
  /// Host access to device memory; throws std::out_of_range outside it.
  virtual void mem_write(uint64_t addr, const void* src, size_t n) = 0;
  virtual void mem_read(uint64_t addr, void* dst, size_t n) = 0;

  /// Waits until the interrupt line is high. The timeout is in core clock cycles for
  /// simulated backends and in microseconds for a board. Returns false on timeout.
  virtual bool wait_irq(uint64_t timeout) = 0;

  /// The token stream: every beat the core has sent since the last call, in order. When none
  /// is waiting, runs (simulated backends) or waits up to `timeout` (cycles, or microseconds on
  /// a board) for at least one; empty on timeout. Beats are collected while the core runs for
  /// any reason (wait_irq too), so none is lost between calls.
  virtual std::vector<StreamToken> read_tokens(uint64_t timeout) = 0;
  /// Clock cycles the device has run (0 where unknown).
  virtual uint64_t cycles() const = 0;
};

}  // namespace ks::drv
