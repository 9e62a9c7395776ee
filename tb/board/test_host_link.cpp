// The board's host link on the simulated boards: the bridge's frames byte for byte
// (docs/host_link.md) and its error answers on the iCEBreaker (device memory in SPRAM) and the
// ULX3S (device memory in SDRAM, its model checking every command), and the serial backend's
// recovery from line faults.
#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <stdexcept>
#include <vector>

#include "board_sim.h"
#include "kestrel/driver/serial.h"
#include "kestrel/hw_config.h"
#include "kestrel/regs.h"

namespace {

using ks::tb::BoardSim;

constexpr uint32_t kSize = 131072;  // tb/board/ks_board_sim_up5k.sv

/// The device memory of a simulated board (tb/board/ks_board_sim_<config>.sv).
struct BoardMemory {
  uint32_t base;
  uint32_t size;
  uint8_t word;
};
BoardMemory board_memory(const std::string& config) {
  // up5k's core addresses 256 KiB (addr_bits 18): its memory sits at 128 KiB.
  return config == "ecp5" ? BoardMemory{0x10000000, 32u << 20, 16} : BoardMemory{0x00020000, kSize, 8};
}

uint8_t crc8(const std::vector<uint8_t>& v, size_t from = 0) {
  uint8_t c = 0;
  for (size_t i = from; i < v.size(); ++i) {
    c ^= v[i];
    for (int b = 0; b < 8; ++b) c = static_cast<uint8_t>((c & 0x80) ? (c << 1) ^ 0x07 : c << 1);
  }
  return c;
}

void le(std::vector<uint8_t>& v, uint64_t x, int n) {
  for (int i = 0; i < n; ++i) v.push_back(static_cast<uint8_t>(x >> (8 * i)));
}

/// Raw frames on the simulated board's serial device; the parameter names the board's
/// configuration.
class HostLinkTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    sim_ = ks::tb::make_board_sim(GetParam());
    size_ = board_memory(GetParam()).size;
    kBase = board_memory(GetParam()).base;
    fd_ = ::open(sim_->path().c_str(), O_RDWR | O_NOCTTY);
    ASSERT_GE(fd_, 0);
    termios t{};
    ::tcgetattr(fd_, &t);
    ::cfmakeraw(&t);
    ::tcsetattr(fd_, TCSANOW, &t);
    // The board is up once it answers (the ULX3S takes host bytes after its SDRAM's 200 us
    // initialisation): the tests' timing starts from a board that listens.
    send(frame(7, {}));
    ASSERT_EQ(answer(7, 0, 10).size(), 10u) << "the board does not answer INFO";
  }
  void TearDown() override {
    if (fd_ >= 0) ::close(fd_);
    const auto m = sim_->memory_violations();
    EXPECT_TRUE(m.empty()) << m.size() << " SDRAM rule violations, first: " << m.front();
  }

  /// A request frame: A5, op, header, CRC of op and header.
  static std::vector<uint8_t> frame(uint8_t op, const std::vector<uint8_t>& header) {
    std::vector<uint8_t> f = {0xA5, op};
    for (uint8_t b : header) f.push_back(b);
    f.push_back(crc8(f, 1));
    return f;
  }
  void send(const std::vector<uint8_t>& bytes) {
    ASSERT_EQ(::write(fd_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }
  /// Up to n bytes, waiting at most `ms` for each.
  std::vector<uint8_t> receive(size_t n, int ms = 2000) {
    std::vector<uint8_t> got;
    while (got.size() < n) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, ms) <= 0) break;
      uint8_t buf[512];
      const ssize_t r = ::read(fd_, buf, std::min(sizeof buf, n - got.size()));
      if (r <= 0) break;
      got.insert(got.end(), buf, buf + r);
    }
    return got;
  }
  /// Expects the answer 5A op status payload CRC and returns the payload.
  std::vector<uint8_t> answer(uint8_t op, uint8_t status, size_t payload) {
    const std::vector<uint8_t> a = receive(4 + payload);
    EXPECT_EQ(a.size(), 4 + payload) << "short answer";
    if (a.size() != 4 + payload) return {};
    EXPECT_EQ(a[0], 0x5A);
    EXPECT_EQ(a[1], op);
    EXPECT_EQ(a[2], status) << "status";
    std::vector<uint8_t> body(a.begin() + 1, a.end() - 1);
    EXPECT_EQ(a.back(), crc8(body)) << "answer CRC";
    return std::vector<uint8_t>(a.begin() + 3, a.end() - 1);
  }
  uint32_t reg_read(uint16_t off) {
    std::vector<uint8_t> h;
    le(h, off, 2);
    send(frame(2, h));
    const auto p = answer(2, 0, 4);
    return p.size() == 4 ? p[0] | p[1] << 8 | p[2] << 16 | static_cast<uint32_t>(p[3]) << 24 : 0;
  }

  /// MEM_WRITE of `data` at `addr`, answered OK.
  void mem_write(uint32_t addr, const std::vector<uint8_t>& data) {
    std::vector<uint8_t> h;
    le(h, addr, 4);
    le(h, data.size(), 2);
    auto f = frame(3, h);
    f.insert(f.end(), data.begin(), data.end());
    f.push_back(crc8(data));
    send(f);
    answer(3, 0, 0);
  }
  std::vector<uint8_t> mem_read(uint32_t addr, size_t n) {
    std::vector<uint8_t> h;
    le(h, addr, 4);
    le(h, n, 2);
    send(frame(4, h));
    return answer(4, 0, n);
  }

  std::unique_ptr<BoardSim> sim_;
  int fd_ = -1;
  uint32_t size_ = kSize;
  uint32_t kBase = 0;  // device memory base of the board (SetUp)
};

TEST_P(HostLinkTest, InfoDescribesTheDeviceMemory) {
  send(frame(7, {}));
  const auto p = answer(7, 0, 10);
  ASSERT_EQ(p.size(), 10u);
  EXPECT_EQ(p[0] | p[1] << 8 | p[2] << 16 | static_cast<uint32_t>(p[3]) << 24, kBase);
  EXPECT_EQ(p[4] | p[5] << 8 | p[6] << 16 | static_cast<uint32_t>(p[7]) << 24, size_);
  EXPECT_EQ(p[8], board_memory(GetParam()).word) << "memory word of the configuration";
  EXPECT_EQ(p[9], 1) << "protocol version";
}

TEST_P(HostLinkTest, RegisterReadAndWriteReachTheCore) {
  EXPECT_EQ(reg_read(ks::regs::kId), ks::regs::kIdValueValue);
  std::vector<uint8_t> h;
  // (WIN_BASE holds the core's address bits: 18 on up5k, whose value here is 0x5678.)
  const uint32_t v = static_cast<uint32_t>(0x12345678ull & ((uint64_t{1} << ks::hw::find_config(GetParam())->addr_bits) - 1));
  le(h, ks::regs::kWinBase, 2);
  le(h, v, 4);
  send(frame(1, h));
  answer(1, 0, 0);
  EXPECT_EQ(reg_read(ks::regs::kWinBase), v);
}

TEST_P(HostLinkTest, CoreSlverrAndOffsetsBeyondTheMapAnswerBusErr) {
  std::vector<uint8_t> h;
  le(h, ks::regs::kId, 2);
  le(h, 0, 4);
  send(frame(1, h));  // ID is read-only: SLVERR
  answer(1, 1, 0);
  h.clear();
  le(h, 0x1000, 2);  // past the 4 KiB map
  send(frame(2, h));
  answer(2, 1, 0);
}

TEST_P(HostLinkTest, MemoryWriteThenReadAtUnalignedAddresses) {
  std::vector<uint8_t> data(37);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7 + 3);
  std::vector<uint8_t> h;
  le(h, kBase + 5, 4);
  le(h, data.size(), 2);
  auto f = frame(3, h);
  f.insert(f.end(), data.begin(), data.end());
  f.push_back(crc8(data));
  send(f);
  answer(3, 0, 0);
  h.clear();
  le(h, kBase + 4, 4);
  le(h, data.size() + 2, 2);
  send(frame(4, h));
  const auto p = answer(4, 0, data.size() + 2);
  ASSERT_EQ(p.size(), data.size() + 2);
  EXPECT_EQ(std::vector<uint8_t>(p.begin() + 1, p.end() - 1), data);
}

TEST_P(HostLinkTest, RangesOutsideTheMemoryAreRefused) {
  std::vector<uint8_t> h;
  le(h, kBase + size_ - 4, 4);
  le(h, 8, 2);  // runs past the end
  send(frame(4, h));
  answer(4, 5, 0);
  h.clear();
  le(h, kBase - 1, 4);
  le(h, 2, 2);  // starts below the base; its data follows and is discarded
  auto f = frame(3, h);
  f.insert(f.end(), {0xAA, 0xBB, crc8({0xAA, 0xBB})});
  send(f);
  answer(3, 5, 0);
  h.clear();
  le(h, kBase, 4);
  le(h, 0, 2);  // zero length
  send(frame(4, h));
  answer(4, 5, 0);
  EXPECT_EQ(reg_read(ks::regs::kId), ks::regs::kIdValueValue) << "the link still works";
}

TEST_P(HostLinkTest, CorruptedHeaderIsAnsweredBadCrcAfterTheLineGoesQuiet) {
  std::vector<uint8_t> h;
  le(h, ks::regs::kId, 2);
  auto f = frame(2, h);
  f[2] ^= 0x40;
  send(f);
  answer(2, 2, 0);
  EXPECT_EQ(reg_read(ks::regs::kId), ks::regs::kIdValueValue);
}

TEST_P(HostLinkTest, CorruptedDataIsAnsweredBadData) {
  std::vector<uint8_t> h;
  le(h, kBase, 4);
  le(h, 3, 2);
  auto f = frame(3, h);
  f.insert(f.end(), {1, 2, 3, static_cast<uint8_t>(crc8({1, 2, 3}) ^ 1)});
  send(f);
  answer(3, 3, 0);
}

TEST_P(HostLinkTest, UnknownOpAndFramingErrorsAreAnswered) {
  send({0xA5, 0x42, 0x00, 0x11});
  answer(0x42, 4, 0);
  sim_->break_host_byte(2);  // the first header byte
  std::vector<uint8_t> h;
  le(h, ks::regs::kId, 2);
  send(frame(2, h));
  answer(2, 6, 0);
  EXPECT_EQ(reg_read(ks::regs::kId), ks::regs::kIdValueValue);
}

TEST_P(HostLinkTest, IncompleteRequestIsDroppedWithoutAnswer) {
  const uint64_t sent = sim_->cycles();
  send({0xA5, 0x02, 0x00});  // offset's second byte and the CRC never come
  EXPECT_TRUE(receive(1, 300).empty());
  // The next request after the quiet period (20000 cycles in the simulated boards), counted
  // in board cycles: a loaded machine may simulate fewer in 300 ms.
  while (sim_->cycles() < sent + 30000) ::usleep(1000);
  EXPECT_EQ(reg_read(ks::regs::kId), ks::regs::kIdValueValue);
}

TEST_P(HostLinkTest, StatusAndTokensWhenIdle) {
  send(frame(6, {}));
  const auto s = answer(6, 0, 2);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0], 0) << "interrupt line low";
  EXPECT_EQ(s[1], 0) << "no token waiting";
  send(frame(5, {16}));
  const auto t = answer(5, 0, 1);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0], 0);
}

TEST_P(HostLinkTest, MemoryAtTheTopAndAcrossRowsAndBanks) {
  // The last bytes of the memory, and bytes across the ULX3S SDRAM's 1 KiB bank rows and
  // 4 KiB rows (plain addresses on the iCEBreaker).
  for (const uint32_t at : {kBase + size_ - 21, kBase + 1024 - 9, kBase + 3 * 4096 - 13}) {
    std::vector<uint8_t> data(21);
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(at + 31 * i);
    mem_write(at, data);
    EXPECT_EQ(mem_read(at, data.size()), data) << "at 0x" << std::hex << at;
  }
}

INSTANTIATE_TEST_SUITE_P(Boards, HostLinkTest, ::testing::Values("up5k", "ecp5"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

// The serial backend recovers from faults on the line by retrying.
TEST(SerialBackend, RetriesThroughCorruptedAndBrokenBytes) {
  auto sim = ks::tb::make_board_sim("up5k");
  ks::drv::SerialOptions opt;
  opt.timeout_ms = 500;
  auto dev = ks::drv::make_serial_device("up5k", sim->path(), opt);
  const uint32_t kBase = board_memory("up5k").base;
  sim->flip_host_byte(3);  // a header byte of the REG_WRITE: BAD_CRC, retried
  dev->write32(ks::regs::kWinSize, 0x3BCD0);
  EXPECT_EQ(dev->read32(ks::regs::kWinSize), 0x3BCD0u);
  sim->break_host_byte(12);  // inside MEM_WRITE data: LINE_ERR, retried
  std::vector<uint8_t> data(64), back(64);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(255 - i);
  dev->mem_write(kBase + 64, data.data(), data.size());
  dev->mem_read(kBase + 64, back.data(), back.size());
  EXPECT_EQ(back, data);
  EXPECT_THROW(dev->mem_read(kBase + kSize - 2, back.data(), 4), std::out_of_range);
}

TEST(SerialBackend, WithoutRetriesALineFaultIsReportedNamingTheDevice) {
  auto sim = ks::tb::make_board_sim("up5k");
  ks::drv::SerialOptions opt;
  opt.retries = 0;
  auto dev = ks::drv::make_serial_device("up5k", sim->path(), opt);
  sim->flip_host_byte(2);
  try {
    dev->read32(ks::regs::kId);
    FAIL() << "a corrupted request went through";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("BAD_CRC"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(sim->path()), std::string::npos) << e.what();
  }
  EXPECT_EQ(dev->read32(ks::regs::kId), ks::regs::kIdValueValue) << "and the link recovers";
}

TEST(SerialBackend, RefusesAWrongConfigurationAndAMissingDevice) {
  auto sim = ks::tb::make_board_sim("up5k");
  try {
    ks::drv::make_serial_device("ecp5", sim->path());
    FAIL() << "opened the up5k board as ecp5";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("8 bytes"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ks::drv::make_serial_device("up5k", "/nonexistent/ttyUSB9"), std::system_error);
  EXPECT_THROW(ks::drv::make_serial_device("nope", sim->path()), std::invalid_argument);
  ks::drv::SerialOptions bad;
  bad.chunk = 0;
  EXPECT_THROW(ks::drv::make_serial_device("up5k", sim->path(), bad), std::invalid_argument);
}

}  // namespace
