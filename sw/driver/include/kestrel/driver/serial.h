// The serial backend: the core on an FPGA board (iCEBreaker, ULX3S) driven over the board's
// USB serial port, through the UART bridge of the board top (rtl/board/ks_uart_bridge.sv).
// Register accesses, device-memory transfers, the token stream and the interrupt line all
// travel as CRC-checked frames (docs/host_link.md).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "kestrel/driver/device.h"

namespace ks::drv {

struct SerialOptions {
  uint32_t baud = 115200;        ///< line speed (the bitstream's; ignored by a pseudo-terminal)
  uint32_t timeout_ms = 2000;    ///< waiting for one answer, after which a request is retried
  uint32_t retries = 3;          ///< retries of a request answered with a link error or not at all
  uint32_t chunk = 1024;         ///< bytes per memory-transfer frame (1..65535)
};

/// Opens the core in hardware configuration `config` behind the serial device `path`
/// (e.g. /dev/ttyUSB1, or a pseudo-terminal). Throws std::invalid_argument for an unknown
/// configuration or bad options, std::system_error naming the path when the OS refuses,
/// std::runtime_error when nothing answers, the link reports an error after every retry, or
/// the core is not `config` (ID, VERSION.MAJOR, HW_* registers). wait_irq and read_tokens
/// take microseconds; cycles() returns 0.
std::unique_ptr<Device> make_serial_device(std::string_view config, const std::string& path,
                                           const SerialOptions& opt = {});

}  // namespace ks::drv
