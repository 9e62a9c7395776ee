// The real-board backend (docs/board_backend.md): registers through map 0 of a UIO
// device, the interrupt through the same UIO file descriptor, device memory through a
// u-dma-buf device or /dev/mem. Linux only.

// Physical addresses above 2 GiB need a 64-bit off_t for mmap on 32-bit hosts (Zynq-7000).
#ifndef _FILE_OFFSET_BITS
#define _FILE_OFFSET_BITS 64
#endif

#include "kestrel/driver/board.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include "core_identity.h"
#include "kestrel/regs.h"

namespace ks::drv {

namespace {

// ---- the register map ----------------------------------------------------------------------

constexpr bool is_mapped(uint32_t offset) {
  for (uint32_t o : regs::kMappedOffsets) {
    if (o == offset) return true;
  }
  return false;
}

// The registers the host may write: access rw, w1c or w1p in docs/registers.md (generated
// from rtl/cfg/registers.json). Every other mapped offset, the performance counters
// included, is read-only: the core answers a write with SLVERR (rtl/ctrl/ks_ctrl_regs.sv,
// w_ok). The generated header carries offsets and fields but no access types, so the set is
// listed here, by the header's names; the static_asserts keep it inside the map.
constexpr uint32_t kWritable[] = {
    regs::kCtrl,     regs::kIrqStatus, regs::kIrqEnable, regs::kRingBase, regs::kRingSize,
    regs::kRingTail, regs::kWinBase,   regs::kWinSize,   regs::kPerfCtrl,
};

constexpr bool all_writable_mapped() {
  for (uint32_t o : kWritable) {
    if (!is_mapped(o)) return false;
  }
  return true;
}
static_assert(all_writable_mapped(), "a writable register is missing from ks::regs::kMappedOffsets");
static_assert(!is_mapped(regs::kMapBytes), "the register map is 4 KiB");

constexpr bool is_writable(uint32_t offset) {
  for (uint32_t o : kWritable) {
    if (o == offset) return true;
  }
  return false;
}

/// The core's AXI4 master addresses are 32 bits wide (AddrW in rtl/core/ks_core.sv), and
/// WIN_BASE/WIN_SIZE are 32-bit registers.
constexpr uint64_t kAddressSpace = uint64_t{1} << 32;

// ---- helpers -------------------------------------------------------------------------------

std::string hex(uint64_t v, int digits = 0) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%0*llx", digits, static_cast<unsigned long long>(v));
  return buf;
}

[[noreturn]] void throw_os(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), "board device: " + what);
}

/// Ordering between host accesses to device memory and register accesses, as the kernel's
/// wmb()/rmb(): data written to device memory reaches the point the core reads from before
/// a register write (the doorbell) that tells it to look; a register read (a completion)
/// is complete before device memory is read after it.
inline void io_wmb() {
#if defined(__aarch64__)
  asm volatile("dsb st" ::: "memory");
#elif defined(__arm__)
  asm volatile("dsb st" ::: "memory");
#elif defined(__x86_64__) || defined(__i386__)
  asm volatile("sfence" ::: "memory");
#else
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

inline void io_rmb() {
#if defined(__aarch64__)
  asm volatile("dsb ld" ::: "memory");
#elif defined(__arm__)
  asm volatile("dsb sy" ::: "memory");
#elif defined(__x86_64__) || defined(__i386__)
  asm volatile("lfence" ::: "memory");
#else
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

// Copies to and from the uncached device-memory mapping with naturally aligned accesses
// only. memcpy may use unaligned accesses or cache-line zeroing (DC ZVA), which fault on
// the Device-type mappings arm64 gives /dev/mem and O_SYNC u-dma-buf; volatile keeps the
// compiler from turning these loops back into memcpy.
void copy_to_io(volatile uint8_t* dst, const uint8_t* src, size_t n) {
  while (n > 0 && (reinterpret_cast<uintptr_t>(dst) & 7) != 0) {
    *dst++ = *src++;
    --n;
  }
  auto* dst64 = reinterpret_cast<volatile uint64_t*>(dst);
  for (; n >= 8; n -= 8, src += 8) {
    uint64_t v;
    std::memcpy(&v, src, 8);
    *dst64++ = v;
  }
  dst = reinterpret_cast<volatile uint8_t*>(dst64);
  while (n > 0) {
    *dst++ = *src++;
    --n;
  }
}

void copy_from_io(uint8_t* dst, const volatile uint8_t* src, size_t n) {
  while (n > 0 && (reinterpret_cast<uintptr_t>(src) & 7) != 0) {
    *dst++ = *src++;
    --n;
  }
  auto* src64 = reinterpret_cast<const volatile uint64_t*>(src);
  for (; n >= 8; n -= 8, dst += 8) {
    const uint64_t v = *src64++;
    std::memcpy(dst, &v, 8);
  }
  src = reinterpret_cast<const volatile uint8_t*>(src64);
  while (n > 0) {
    *dst++ = *src++;
    --n;
  }
}

// ---- RAII handles --------------------------------------------------------------------------

/// An open file descriptor; closes it on destruction.
class Fd {
 public:
  Fd(std::string path, int flags, const std::string& purpose) : path_(std::move(path)) {
    fd_ = ::open(path_.c_str(), flags | O_CLOEXEC);
    if (fd_ < 0) throw_os(errno, "open " + path_ + " (" + purpose + ")");
  }
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)), path_(std::move(o.path_)) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd& operator=(Fd&&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }

  int get() const { return fd_; }
  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  std::string path_;
};

/// A shared read/write mapping of `len` bytes of `fd` at `offset`; unmaps on destruction.
class Mapping {
 public:
  Mapping(const Fd& fd, size_t len, uint64_t offset, const std::string& purpose) : len_(len) {
    void* p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), static_cast<off_t>(offset));
    if (p == MAP_FAILED) {
      throw_os(errno, "mmap " + fd.path() + " (" + purpose + ": " + std::to_string(len) + " bytes at offset " +
                          hex(offset) + ")");
    }
    addr_ = static_cast<uint8_t*>(p);
  }
  Mapping(Mapping&& o) noexcept : addr_(std::exchange(o.addr_, nullptr)), len_(std::exchange(o.len_, 0)) {}
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  Mapping& operator=(Mapping&&) = delete;
  ~Mapping() {
    if (addr_ != nullptr) ::munmap(addr_, len_);
  }

  uint8_t* data() const { return addr_; }
  size_t size() const { return len_; }

 private:
  uint8_t* addr_ = nullptr;
  size_t len_ = 0;
};

// ---- sysfs ---------------------------------------------------------------------------------

std::string read_text(const std::string& path) {
  Fd fd(path, O_RDONLY, "sysfs attribute");
  std::string text;
  char buf[256];
  while (true) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_os(errno, "read " + path);
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

/// A number in a sysfs attribute, decimal or 0x-prefixed hexadecimal.
uint64_t read_number(const std::string& path) {
  const std::string text = read_text(path);
  errno = 0;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text.c_str(), &end, 0);
  if (text.empty() || errno != 0 || end == nullptr || *end != '\0' || text[0] == '-') {
    throw std::runtime_error("board device: " + path + " reads '" + text + "', not a number");
  }
  return v;
}

/// /sys/class/<cls>/<name> of the character device open as `fd`, checking that it belongs
/// to class `cls` (found through /sys/dev/char/<major>:<minor>, so udev symlinks work).
std::string sysfs_class_dir(const Fd& fd, const std::string& cls) {
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw_os(errno, "fstat " + fd.path());
  if (!S_ISCHR(st.st_mode)) {
    throw std::runtime_error("board device: " + fd.path() + " is not a character device (expected a " + cls +
                             " device)");
  }
  const std::string link =
      "/sys/dev/char/" + std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev));
  char buf[4096];
  const ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
  if (n < 0) throw_os(errno, "readlink " + link + " (sysfs entry of " + fd.path() + ")");
  const std::string target(buf, static_cast<size_t>(n));
  const size_t slash = target.rfind('/');
  const std::string name = target.substr(slash + 1);
  const size_t prev = slash == std::string::npos || slash == 0 ? std::string::npos : target.rfind('/', slash - 1);
  const std::string parent =
      slash == std::string::npos ? "" : target.substr(prev == std::string::npos ? 0 : prev + 1, slash - (prev + 1));
  if (parent != cls || name.empty()) {
    throw std::runtime_error("board device: " + fd.path() + " is not a " + cls + " device (its sysfs entry is " +
                             target + ")");
  }
  return "/sys/class/" + cls + "/" + name;
}

// ---- device memory -------------------------------------------------------------------------

/// The DMA buffer: its mapping and the physical (bus) address range the core sees.
struct DeviceMemory {
  Fd fd;
  Mapping map;
  uint8_t* base;  ///< host address of `phys`
  uint64_t phys;
  size_t size;
};

void check_core_range(uint64_t phys, uint64_t size, const std::string& source) {
  if (size >= kAddressSpace || phys > kAddressSpace - size) {
    throw std::runtime_error("board device: " + source + " spans [" + hex(phys) + ", " + hex(phys + size) +
                             "), beyond the core's 32-bit address space: it must lie below 4 GiB");
  }
}

DeviceMemory open_udmabuf(const std::string& path, const hw::HwConfig& cfg) {
  // O_SYNC: an uncached mapping, so no cache maintenance is needed on SoCs where the
  // core's memory port is not coherent with the CPU caches.
  Fd fd(path, O_RDWR | O_SYNC, "u-dma-buf device memory");
  const std::string dir = sysfs_class_dir(fd, "u-dma-buf");
  const uint64_t phys = read_number(dir + "/phys_addr");
  const uint64_t size = read_number(dir + "/size");
  if (size == 0) throw std::runtime_error("board device: " + dir + "/size is 0");
  check_core_range(phys, size, path);
  if (phys % cfg.axi_data_bytes != 0) {
    throw std::runtime_error("board device: " + path + " starts at " + hex(phys) + ", not a multiple of the " +
                             std::to_string(cfg.axi_data_bytes) + "-byte DMA beat");
  }
  Mapping map(fd, static_cast<size_t>(size), 0, "u-dma-buf device memory");
  uint8_t* base = map.data();
  return DeviceMemory{std::move(fd), std::move(map), base, phys, static_cast<size_t>(size)};
}

DeviceMemory open_devmem(const std::string& path, uint64_t phys, size_t size) {
  Fd fd(path, O_RDWR | O_SYNC, "device memory at " + hex(phys));
  const long page = ::sysconf(_SC_PAGESIZE);
  const uint64_t lead = page > 0 ? phys % static_cast<uint64_t>(page) : 0;  // mmap offsets are page-aligned
  Mapping map(fd, size + static_cast<size_t>(lead), phys - lead, "device memory");
  uint8_t* base = map.data() + lead;
  return DeviceMemory{std::move(fd), std::move(map), base, phys, size};
}

// ---- the device ----------------------------------------------------------------------------

class BoardDevice final : public Device {
 public:
  BoardDevice(const hw::HwConfig& cfg, Fd uio, Mapping window, DeviceMemory mem)
      : cfg_(cfg), uio_(std::move(uio)), regs_(std::move(window)), mem_(std::move(mem)) {
    check_core();
  }

  std::string_view backend() const override { return "board"; }
  const hw::HwConfig& config() const override { return cfg_; }
  uint64_t cycles() const override { return 0; }
  /// The token stream is an AXI4-Stream port of the core; a UIO mapping reaches registers
  /// and memory only, so a board top must route the stream to the host first.
  std::vector<StreamToken> read_tokens(uint64_t /*timeout*/) override {
    throw std::runtime_error("board device: the core's token stream is not reachable through UIO on this board "
                             "top; poll DEC_TOKENS and DEC_LAST_TOKEN, or run one DECODE step at a time");
  }
  uint64_t mem_base() const override { return mem_.phys; }
  size_t mem_size() const override { return mem_.size; }

  uint32_t read32(uint32_t offset) override {
    if (!is_mapped(offset)) {
      throw BusError("register read at offset " + hex(offset, 3) + ": unmapped offset (the core answers SLVERR)",
                     offset);
    }
    const uint32_t v = reg(offset);
    io_rmb();
    return v;
  }

  void write32(uint32_t offset, uint32_t value) override {
    if (!is_mapped(offset)) {
      throw BusError("register write at offset " + hex(offset, 3) + ": unmapped offset (the core answers SLVERR)",
                     offset);
    }
    if (!is_writable(offset)) {
      throw BusError("register write at offset " + hex(offset, 3) +
                         ": read-only register (the core answers SLVERR; docs/registers.md)",
                     offset);
    }
    // The ring geometry is frozen while the queue runs: the core answers SLVERR. CTRL.ENABLE
    // is only ever cleared by the core, so a 0 read here stays 0 until the host sets it.
    if ((offset == regs::kRingBase || offset == regs::kRingSize) && regs::kCtrlEnable.get(read32(regs::kCtrl))) {
      throw BusError("register write at offset " + hex(offset, 3) +
                         ": RING_BASE/RING_SIZE while CTRL.ENABLE is 1 (the core answers SLVERR)",
                     offset);
    }
    io_wmb();
    reg(offset) = value;
  }

  void mem_write(uint64_t addr, const void* src, size_t n) override {
    check_range(addr, n, "write");
    io_rmb();  // reads of device memory and registers before this write stay before it
    copy_to_io(mem_.base + (addr - mem_.phys), static_cast<const uint8_t*>(src), n);
  }

  void mem_read(uint64_t addr, void* dst, size_t n) override {
    check_range(addr, n, "read");
    copy_from_io(static_cast<uint8_t*>(dst), mem_.base + (addr - mem_.phys), n);
    io_rmb();
  }

  /// UIO: writing 1 (a uint32) unmasks the interrupt; the fd becomes readable, with the
  /// event count to read, when it fires. The line is re-checked in the registers each time
  /// round, so a stale event or an edge missed while masked cannot mislead the caller.
  bool wait_irq(uint64_t timeout_us) override {
    using Clock = std::chrono::steady_clock;
    constexpr uint64_t kForever = uint64_t{1} << 50;  // ~35 years in microseconds
    const Clock::time_point deadline =
        Clock::now() + std::chrono::microseconds(static_cast<int64_t>(std::min(timeout_us, kForever)));
    while (true) {
      unmask_irq();
      if (line_high()) return true;
      const Clock::time_point now = Clock::now();
      if (now >= deadline) return false;
      const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - now).count();
      timespec ts{};
      ts.tv_sec = static_cast<time_t>(left / 1000000000);
      ts.tv_nsec = static_cast<long>(left % 1000000000);
      pollfd p{uio_.get(), POLLIN, 0};
      const int r = ::ppoll(&p, 1, &ts, nullptr);
      if (r < 0) {
        if (errno == EINTR) continue;
        throw_os(errno, "poll " + uio_.path() + " (interrupt)");
      }
      if (r == 0) continue;  // timed out: one last look at the line
      if ((p.revents & POLLIN) == 0) {
        throw std::runtime_error("board device: poll " + uio_.path() + " (interrupt) reported revents " +
                                 hex(static_cast<uint16_t>(p.revents)) + ": the UIO device has no interrupt?");
      }
      uint32_t count = 0;
      const ssize_t n = ::read(uio_.get(), &count, sizeof count);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw_os(errno, "read " + uio_.path() + " (interrupt count)");
      }
      if (n != sizeof count) {
        throw std::runtime_error("board device: read " + uio_.path() + " (interrupt count) returned " +
                                 std::to_string(n) + " bytes, expected 4");
      }
    }
  }

 private:
  volatile uint32_t& reg(uint32_t offset) { return *reinterpret_cast<volatile uint32_t*>(regs_.data() + offset); }

  bool line_high() { return (read32(regs::kIrqStatus) & read32(regs::kIrqEnable)) != 0; }

  void unmask_irq() {
    const uint32_t one = 1;
    while (true) {
      const ssize_t n = ::write(uio_.get(), &one, sizeof one);
      if (n == sizeof one) return;
      if (n < 0 && errno == EINTR) continue;
      throw_os(n < 0 ? errno : EIO, "write " + uio_.path() + " (unmask the interrupt)");
    }
  }

  void check_range(uint64_t addr, size_t n, const char* what) const {
    if (addr < mem_.phys || addr - mem_.phys > mem_.size || n > mem_.size - (addr - mem_.phys)) {
      throw std::out_of_range("board device memory: " + std::string(what) + " of " + std::to_string(n) + " bytes at " +
                              hex(addr) + " outside [" + hex(mem_.phys) + ", " + hex(mem_.phys + mem_.size) + ")");
    }
  }

  /// The core behind the UIO device is Kestrel, speaks this register-map version and was
  /// built in configuration cfg_.
  void check_core() { detail::check_core_identity(*this, cfg_, "board device " + uio_.path()); }

  const hw::HwConfig& cfg_;
  Fd uio_;
  Mapping regs_;
  DeviceMemory mem_;
};

void check_options(const BoardOptions& opt, const hw::HwConfig& cfg) {
  if (opt.uio.empty()) throw std::invalid_argument("board device: no UIO device given (BoardOptions::uio)");
  if (!opt.udmabuf.empty()) {
    if (opt.mem_phys != 0 || opt.mem_size != 0) {
      throw std::invalid_argument("board device: both a u-dma-buf device (" + opt.udmabuf +
                                  ") and a physical region (mem_phys/mem_size) given; choose one");
    }
    return;
  }
  if (opt.mem_size == 0) {
    if (opt.mem_phys != 0) {
      throw std::invalid_argument("board device: mem_size is 0 for the region at mem_phys " + hex(opt.mem_phys));
    }
    throw std::invalid_argument(
        "board device: no device memory given: set BoardOptions::udmabuf, or mem_phys and mem_size (with devmem)");
  }
  if (opt.devmem.empty()) {
    throw std::invalid_argument("board device: mem_phys/mem_size given but no devmem path");
  }
  if (opt.mem_size >= kAddressSpace || opt.mem_phys > kAddressSpace - opt.mem_size) {
    throw std::invalid_argument("board device: device memory [" + hex(opt.mem_phys) + ", " +
                                hex(opt.mem_phys + opt.mem_size) +
                                ") is beyond the core's 32-bit address space: it must lie below 4 GiB");
  }
  if (opt.mem_phys % cfg.axi_data_bytes != 0) {
    throw std::invalid_argument("board device: mem_phys " + hex(opt.mem_phys) + " is not a multiple of the " +
                                std::to_string(cfg.axi_data_bytes) + "-byte DMA beat of configuration '" +
                                std::string(cfg.name) + "'");
  }
}

}  // namespace

std::unique_ptr<Device> make_board_device(std::string_view config, const BoardOptions& opt) {
  const hw::HwConfig* cfg = hw::find_config(config);
  if (cfg == nullptr) {
    std::string known;
    for (const hw::HwConfig& c : hw::kConfigs) known += (known.empty() ? "" : ", ") + std::string(c.name);
    throw std::invalid_argument("unknown hardware configuration '" + std::string(config) + "' (known: " + known + ")");
  }
  check_options(opt, *cfg);

  Fd uio(opt.uio, O_RDWR | O_SYNC, "UIO registers and interrupt");
  const std::string dir = sysfs_class_dir(uio, "uio");
  const uint64_t map_size = read_number(dir + "/maps/map0/size");
  if (map_size < regs::kMapBytes) {
    throw std::runtime_error("board device: " + opt.uio + " map 0 is " + std::to_string(map_size) +
                             " bytes; the core's register window needs " + std::to_string(regs::kMapBytes));
  }
  // UIO selects map N with mmap offset N * page size: map 0 is offset 0.
  Mapping window(uio, static_cast<size_t>(map_size), 0, "register window, UIO map 0");

  DeviceMemory mem =
      opt.udmabuf.empty() ? open_devmem(opt.devmem, opt.mem_phys, opt.mem_size) : open_udmabuf(opt.udmabuf, *cfg);
  return std::make_unique<BoardDevice>(*cfg, std::move(uio), std::move(window), std::move(mem));
}

}  // namespace ks::drv
