// The real-board backend: the core on an FPGA reachable from a Linux host (a Zynq/ZynqMP
// SoC, or a PCIe card exposing BARs), through the standard UIO framework. The register
// window is map 0 of a UIO device, the interrupt is that device's UIO interrupt, and
// device memory is a physically contiguous buffer the core's AXI4 master can address: a
// u-dma-buf device or a region of /dev/mem. See docs/board_backend.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "kestrel/driver/device.h"

namespace ks::drv {

struct BoardOptions {
  /// UIO device whose map 0 is the core's 4 KiB register window and whose interrupt is
  /// the core's interrupt line.
  std::string uio = "/dev/uio0";
  /// Device memory, source (a): a u-dma-buf device, e.g. "/dev/udmabuf0". Its physical
  /// address and size come from /sys/class/u-dma-buf/<name>/{phys_addr,size}.
  std::string udmabuf;
  /// Device memory, source (b), used when `udmabuf` is empty: `mem_size` bytes at
  /// physical address `mem_phys` through `devmem` (e.g. a reserved-memory region).
  std::string devmem = "/dev/mem";
  uint64_t mem_phys = 0;
  size_t mem_size = 0;
};

/// Opens the core in hardware configuration `config` (a name from kestrel/hw_config.h) on
/// a board. Throws std::invalid_argument for an unknown configuration or inconsistent
/// options (no memory source, both sources, zero size, memory beyond the core's 32-bit
/// address space); std::system_error naming the path and operation when the OS refuses
/// (open, mmap, read of sysfs); std::runtime_error when the device found is not the
/// expected core (ID, VERSION.MAJOR or HW_* registers differ from the configuration).
///
/// The wait_irq timeout of the returned device is in microseconds; cycles() returns 0
/// (read the CYCLES performance counter for the core's own count).
std::unique_ptr<Device> make_board_device(std::string_view config, const BoardOptions& opt);

}  // namespace ks::drv
