// The serial backend: frames of the board's host link (docs/host_link.md) over a serial
// device, one request at a time, each answered before the next is sent. Link errors (a CRC
// mismatch, a garbled or missing answer) are retried; errors of the request itself (a
// register access the core refuses, a memory range outside the board's device memory) are
// not.
#include "kestrel/driver/serial.h"

#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "core_identity.h"

namespace ks::drv {

namespace {

enum Op : uint8_t { kRegWrite = 1, kRegRead = 2, kMemWrite = 3, kMemRead = 4, kTokens = 5, kStatus = 6, kInfo = 7 };
enum Status : uint8_t { kOk = 0, kBusErr = 1, kBadCrc = 2, kBadData = 3, kBadOp = 4, kBadRange = 5, kLineErr = 6 };
constexpr uint8_t kSyncReq = 0xA5, kSyncRsp = 0x5A, kProtocolVersion = 1;

const char* status_name(uint8_t s) {
  switch (s) {
    case kOk: return "OK";
    case kBusErr: return "BUS_ERR (the core answered SLVERR)";
    case kBadCrc: return "BAD_CRC (request header corrupted on the line)";
    case kBadData: return "BAD_DATA (memory-write data corrupted on the line)";
    case kBadOp: return "BAD_OP (unknown request)";
    case kBadRange: return "BAD_RANGE (outside the board's device memory)";
    case kLineErr: return "LINE_ERR (UART framing error or overrun)";
    default: return "unknown status";
  }
}

uint8_t crc8(uint8_t crc, uint8_t data) {
  crc ^= data;
  for (int i = 0; i < 8; ++i) crc = static_cast<uint8_t>((crc & 0x80) ? (crc << 1) ^ 0x07 : crc << 1);
  return crc;
}
uint8_t crc8(const uint8_t* p, size_t n, uint8_t crc = 0) {
  for (size_t i = 0; i < n; ++i) crc = crc8(crc, p[i]);
  return crc;
}

void put_le(std::vector<uint8_t>& v, uint64_t x, int bytes) {
  for (int i = 0; i < bytes; ++i) v.push_back(static_cast<uint8_t>(x >> (8 * i)));
}
uint32_t get_le32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
         static_cast<uint32_t>(p[3]) << 24;
}

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

speed_t speed_of(uint32_t baud) {
  switch (baud) {
    case 9600: return B9600;
    case 19200: return B19200;
    case 38400: return B38400;
    case 57600: return B57600;
    case 115200: return B115200;
    case 230400: return B230400;
    case 460800: return B460800;
    case 921600: return B921600;
    case 1000000: return B1000000;
    case 2000000: return B2000000;
    case 3000000: return B3000000;
    default: throw std::invalid_argument("serial device: unsupported baud rate " + std::to_string(baud));
  }
}

/// A request whose answer was lost or garbled: worth sending again.
struct LinkError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The answer to one request: its status and payload.
struct Answer {
  uint8_t status = 0;
  std::vector<uint8_t> payload;
};

class SerialDevice final : public Device {
 public:
  SerialDevice(const hw::HwConfig& cfg, std::string path, const SerialOptions& opt)
      : cfg_(cfg), path_(std::move(path)), opt_(opt) {
    fd_ = ::open(path_.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "serial device: open " + path_);
    try {
      configure_line();
      const Answer info = request(kInfo, {}, 10);
      mem_base_ = get_le32(&info.payload[0]);
      mem_size_ = get_le32(&info.payload[4]);
      if (info.payload[9] != kProtocolVersion) {
        throw std::runtime_error("serial device " + path_ + ": the board speaks host-link version " +
                                 std::to_string(info.payload[9]) + ", this driver version " +
                                 std::to_string(kProtocolVersion));
      }
      if (info.payload[8] != cfg.axi_data_bytes) {
        throw std::runtime_error("serial device " + path_ + ": the board's memory words are " +
                                 std::to_string(info.payload[8]) + " bytes, configuration '" + std::string(cfg.name) +
                                 "' has a " + std::to_string(cfg.axi_data_bytes) + "-byte DMA beat (wrong bitstream?)");
      }
      detail::check_core_identity(*this, cfg_, "serial device " + path_);
    } catch (...) {
      ::close(fd_);
      throw;
    }
  }
  SerialDevice(const SerialDevice&) = delete;
  SerialDevice& operator=(const SerialDevice&) = delete;
  ~SerialDevice() override { ::close(fd_); }

  std::string_view backend() const override { return "serial"; }
  const hw::HwConfig& config() const override { return cfg_; }
  uint64_t cycles() const override { return 0; }
  uint64_t mem_base() const override { return mem_base_; }
  size_t mem_size() const override { return mem_size_; }

  uint32_t read32(uint32_t offset) override {
    std::vector<uint8_t> h;
    put_le(h, offset, 2);
    check_offset(offset, "read");
    const Answer a = request(kRegRead, h, 4);
    if (a.status == kBusErr) {
      throw BusError("register read at offset " + hex(offset) + " answered SLVERR (over " + path_ + ")", offset);
    }
    return get_le32(a.payload.data());
  }

  void write32(uint32_t offset, uint32_t value) override {
    std::vector<uint8_t> h;
    put_le(h, offset, 2);
    put_le(h, value, 4);
    check_offset(offset, "write");
    const Answer a = request(kRegWrite, h, 0);
    if (a.status == kBusErr) {
      throw BusError("register write at offset " + hex(offset) + " answered SLVERR (over " + path_ + ")", offset);
    }
  }

  void mem_write(uint64_t addr, const void* src, size_t n) override {
    check_range(addr, n, "write");
    const auto* p = static_cast<const uint8_t*>(src);
    for (size_t done = 0; done < n;) {
      const size_t len = std::min<size_t>(n - done, opt_.chunk);
      std::vector<uint8_t> h;
      put_le(h, addr + done, 4);
      put_le(h, len, 2);
      std::vector<uint8_t> data(p + done, p + done + len);
      data.push_back(crc8(data.data(), len));
      request(kMemWrite, h, 0, data);
      done += len;
    }
  }

  void mem_read(uint64_t addr, void* dst, size_t n) override {
    check_range(addr, n, "read");
    auto* p = static_cast<uint8_t*>(dst);
    for (size_t done = 0; done < n;) {
      const size_t len = std::min<size_t>(n - done, opt_.chunk);
      std::vector<uint8_t> h;
      put_le(h, addr + done, 4);
      put_le(h, len, 2);
      const Answer a = request(kMemRead, h, len);
      std::memcpy(p + done, a.payload.data(), len);
      done += len;
    }
  }

  /// Polls the board's STATUS (the line, and tokens waiting, which are drained so a DECODE
  /// never stalls on a full token FIFO while the host waits) until the line is high.
  bool wait_irq(uint64_t timeout_us) override {
    const auto deadline = deadline_after(timeout_us);
    while (true) {
      const auto [irq, waiting] = status();
      if (waiting > 0) drain_tokens(waiting);
      if (irq) return true;
      if (Clock::now() >= deadline) return false;
    }
  }

  std::vector<StreamToken> read_tokens(uint64_t timeout_us) override {
    const auto deadline = deadline_after(timeout_us);
    while (tokens_.empty()) {
      const auto [irq, waiting] = status();
      (void)irq;
      if (waiting > 0) {
        drain_tokens(waiting);
      } else if (Clock::now() >= deadline) {
        break;
      }
    }
    std::vector<StreamToken> out(tokens_.begin(), tokens_.end());
    tokens_.clear();
    return out;
  }

 private:
  using Clock = std::chrono::steady_clock;

  static Clock::time_point deadline_after(uint64_t us) {
    constexpr uint64_t kForever = uint64_t{1} << 50;
    return Clock::now() + std::chrono::microseconds(static_cast<int64_t>(std::min(us, kForever)));
  }

  void configure_line() {
    termios t{};
    if (::tcgetattr(fd_, &t) != 0) {
      throw std::system_error(errno, std::generic_category(), "serial device: tcgetattr " + path_ + " (not a tty?)");
    }
    ::cfmakeraw(&t);
    t.c_cflag |= CLOCAL | CREAD;
    t.c_cflag &= ~static_cast<tcflag_t>(CSTOPB | PARENB | CRTSCTS);
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    const speed_t sp = speed_of(opt_.baud);
    ::cfsetispeed(&t, sp);
    ::cfsetospeed(&t, sp);
    if (::tcsetattr(fd_, TCSANOW, &t) != 0) {
      throw std::system_error(errno, std::generic_category(), "serial device: tcsetattr " + path_);
    }
  }

  void check_offset(uint32_t offset, const char* what) const {
    if (offset > 0xFFFF) {
      throw BusError("register " + std::string(what) + " at offset " + hex(offset) + ": beyond the host link's 16-bit offsets", offset);
    }
  }

  void check_range(uint64_t addr, size_t n, const char* what) const {
    if (addr < mem_base_ || addr - mem_base_ > mem_size_ || n > mem_size_ - (addr - mem_base_)) {
      throw std::out_of_range("serial device memory: " + std::string(what) + " of " + std::to_string(n) +
                              " bytes at " + hex(addr) + " outside [" + hex(mem_base_) + ", " +
                              hex(mem_base_ + mem_size_) + ")");
    }
  }

  std::pair<bool, uint32_t> status() {
    const Answer a = request(kStatus, {}, 2);
    return {(a.payload[0] & 1) != 0, a.payload[1]};
  }

  void drain_tokens(uint32_t waiting) {
    const std::vector<uint8_t> h = {static_cast<uint8_t>(std::min<uint32_t>(waiting, 255))};
    const Answer a = request(kTokens, h, 0);  // payload length comes with the answer
    for (size_t i = 0; i < a.payload[0]; ++i) {
      const uint8_t* t = &a.payload[1 + 5 * i];
      tokens_.push_back(StreamToken{get_le32(t), (t[4] & 1) != 0, (t[4] & 2) != 0});
    }
  }

  /// Sends one request and returns its answer, retrying link errors. `payload` is the
  /// answer's payload length when the status is OK (TOKENS: read from the answer).
  Answer request(uint8_t op, const std::vector<uint8_t>& header, size_t payload,
                 const std::vector<uint8_t>& data = {}) {
    std::vector<uint8_t> frame = {kSyncReq, op};
    frame.insert(frame.end(), header.begin(), header.end());
    frame.push_back(crc8(frame.data() + 1, frame.size() - 1));
    frame.insert(frame.end(), data.begin(), data.end());
    std::string last;
    for (uint32_t attempt = 0; attempt <= opt_.retries; ++attempt) {
      try {
        ::tcflush(fd_, TCIFLUSH);  // nothing stale from an earlier, abandoned answer
        send(frame);
        Answer a = receive(op, payload);
        if (a.status == kOk || a.status == kBusErr) return a;
        if (a.status == kBadRange || a.status == kBadOp) {
          throw std::runtime_error("serial device " + path_ + ": request " + std::to_string(op) + " answered " +
                                   status_name(a.status));
        }
        last = std::string("answered ") + status_name(a.status);
      } catch (const LinkError& e) {
        last = e.what();
      }
    }
    throw std::runtime_error("serial device " + path_ + ": request " + std::to_string(op) + " failed " +
                             std::to_string(opt_.retries + 1) + " times; last: " + last);
  }

  void send(const std::vector<uint8_t>& frame) {
    size_t off = 0;
    while (off < frame.size()) {
      const ssize_t n = ::write(fd_, frame.data() + off, frame.size() - off);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) {
          pollfd p{fd_, POLLOUT, 0};
          ::poll(&p, 1, 100);
          continue;
        }
        throw std::system_error(errno, std::generic_category(), "serial device: write " + path_);
      }
      off += static_cast<size_t>(n);
    }
  }

  /// Reads exactly n bytes, or throws LinkError when the answer stops for timeout_ms.
  void read_exact(uint8_t* dst, size_t n) {
    while (n > 0) {
      pollfd p{fd_, POLLIN, 0};
      const int r = ::poll(&p, 1, static_cast<int>(opt_.timeout_ms));
      if (r < 0) {
        if (errno == EINTR) continue;
        throw std::system_error(errno, std::generic_category(), "serial device: poll " + path_);
      }
      if (r == 0) throw LinkError("no answer within " + std::to_string(opt_.timeout_ms) + " ms");
      const ssize_t got = ::read(fd_, dst, n);
      if (got < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        throw std::system_error(errno, std::generic_category(), "serial device: read " + path_);
      }
      if (got == 0 && (p.revents & POLLHUP)) throw LinkError("the line hung up");
      dst += got;
      n -= static_cast<size_t>(got);
    }
  }

  Answer receive(uint8_t op, size_t payload) {
    uint8_t b = 0;
    do {
      read_exact(&b, 1);
    } while (b != kSyncRsp);
    uint8_t head[2];
    read_exact(head, 2);
    if (head[0] != op) throw LinkError("answer to request " + std::to_string(head[0]) + " instead of " + std::to_string(op));
    Answer a;
    a.status = head[1];
    size_t len = a.status == kOk ? payload : 0;
    a.payload.resize(len);
    if (a.status == kOk && op == kTokens) {
      a.payload.resize(1);
      read_exact(a.payload.data(), 1);
      len = 1 + 5 * size_t{a.payload[0]};
      a.payload.resize(len);
      read_exact(a.payload.data() + 1, len - 1);
    } else {
      read_exact(a.payload.data(), len);
    }
    uint8_t crc = 0;
    read_exact(&crc, 1);
    if (crc8(a.payload.data(), a.payload.size(), crc8(head, 2)) != crc) throw LinkError("answer CRC mismatch");
    return a;
  }

  const hw::HwConfig& cfg_;
  std::string path_;
  SerialOptions opt_;
  int fd_ = -1;
  uint64_t mem_base_ = 0;
  size_t mem_size_ = 0;
  std::deque<StreamToken> tokens_;  ///< drained from the board, not yet read
};

}  // namespace

std::unique_ptr<Device> make_serial_device(std::string_view config, const std::string& path,
                                           const SerialOptions& opt) {
  const hw::HwConfig* cfg = hw::find_config(config);
  if (cfg == nullptr) {
    std::string known;
    for (const hw::HwConfig& c : hw::kConfigs) known += (known.empty() ? "" : ", ") + std::string(c.name);
    throw std::invalid_argument("unknown hardware configuration '" + std::string(config) + "' (known: " + known + ")");
  }
  if (opt.chunk == 0 || opt.chunk > 65535) {
    throw std::invalid_argument("serial device: chunk must be 1..65535 bytes, got " + std::to_string(opt.chunk));
  }
  if (opt.timeout_ms == 0) throw std::invalid_argument("serial device: timeout_ms must not be 0");
  speed_of(opt.baud);
  return std::make_unique<SerialDevice>(*cfg, path, opt);
}

}  // namespace ks::drv
