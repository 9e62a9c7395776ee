// A simulated board behind a pseudo-terminal: the Verilated board top (ks_board_sim_<config>:
// the core, device memory and UART bridge of a board) clocked in a thread of its own, its
// UART pins driven and sampled bit by bit, the bytes exchanged with the master side of a
// pseudo-terminal. path() names the slave side: a serial device the serial backend opens like
// a board's /dev/ttyUSB*. The ULX3S's device memory is its SDRAM: the SDRAM model
// (sdram_model.h) sits on the pins and checks every command and timing rule.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ks::tb {

class BoardSim {
 public:
  virtual ~BoardSim() = default;
  /// The serial device to open (e.g. /dev/pts/7).
  virtual const std::string& path() const = 0;
  /// Clock cycles simulated so far.
  virtual uint64_t cycles() const = 0;
  /// Line faults, for the link's error tests: the `n`-th byte from the host from now on
  /// (0: the next) goes out with bit 0 inverted, or with a low stop bit (a framing error).
  virtual void flip_host_byte(unsigned n) = 0;
  virtual void break_host_byte(unsigned n) = 0;
  /// The SDRAM model's rule violations so far (each also printed when it happens); always
  /// empty on a board without SDRAM.
  virtual std::vector<std::string> memory_violations() const = 0;
};

/// The board of configuration `config` ("up5k": iCEBreaker, "ecp5": ULX3S), running until
/// destroyed. Throws std::invalid_argument for a configuration without a board top,
/// std::system_error when no pseudo-terminal can be had.
std::unique_ptr<BoardSim> make_board_sim(std::string_view config);

}  // namespace ks::tb
