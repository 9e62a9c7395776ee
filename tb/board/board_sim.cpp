// The simulated board: one thread owns the Verilated model and the master side of the
// pseudo-terminal. Bytes from the host become 8N1 frames on uart_rx_i at the board top's 4
// clocks per bit; frames on uart_tx_o are decoded the same way and written back. A board with
// SDRAM (the ULX3S) has the SDRAM model on its pins, clocked with the board.
#include "board_sim.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <vector>

#include <verilated.h>

#include "Vks_board_sim_ecp5.h"
#include "Vks_board_sim_up5k.h"
#include "sdram_model.h"

namespace ks::tb {

namespace {

constexpr int kClkPerBit = 4;             // ClkPerBit of tb/board/ks_board_sim_*.sv
constexpr uint64_t kSdramKhz = 150000;     // SdramClkKhz of tb/board/ks_board_sim_ecp5.sv

template <class Model, bool kSdram>
class Sim final : public BoardSim {
 public:
  Sim() {
    if constexpr (kSdram) {
      SdramTiming t;
      t.clk_khz = kSdramKhz;
      sdram_ = std::make_unique<SdramModel>(t);
    }
    int slave = -1;
    char name[256] = {};
    if (::openpty(&master_, &slave, name, nullptr, nullptr) != 0) {
      throw std::system_error(errno, std::generic_category(), "board sim: openpty");
    }
    termios t{};
    ::tcgetattr(slave, &t);
    ::cfmakeraw(&t);
    ::tcsetattr(slave, TCSANOW, &t);
    // Keep the slave open here too, so the line stays up between the backend's opens.
    slave_ = slave;
    path_ = name;
    ::fcntl(master_, F_SETFL, ::fcntl(master_, F_GETFL) | O_NONBLOCK);
    ctx_ = std::make_unique<VerilatedContext>();
    ctx_->randReset(0);
    top_ = std::make_unique<Model>(ctx_.get(), "board");
    thread_ = std::thread([this] { run(); });
  }
  Sim(const Sim&) = delete;
  Sim& operator=(const Sim&) = delete;
  ~Sim() override {
    stop_ = true;
    thread_.join();
    top_->final();
    ::close(slave_);
    ::close(master_);
  }
  const std::string& path() const override { return path_; }
  uint64_t cycles() const override { return cycles_; }
  void flip_host_byte(unsigned n) override { flip_at_ = static_cast<int64_t>(host_bytes_ + n); }
  void break_host_byte(unsigned n) override { break_at_ = static_cast<int64_t>(host_bytes_ + n); }
  std::vector<std::string> memory_violations() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return violations_;
  }

 private:
  void tick() {
    top_->clk_i = 0;
    top_->eval();
    top_->clk_i = 1;
    top_->eval();
    if constexpr (kSdram) sdram_edge();
    cycles_.store(cycles_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  bool board_up() const {
    if constexpr (kSdram) return sdram_->initialised();
    return true;
  }

  /// The SDRAM's clock edge half a cycle after the board's: it takes the pins and answers on DQ.
  void sdram_edge() {
    SdramPins p;
    p.cke = top_->sdram_cke_o;
    p.cs_n = top_->sdram_cs_n_o;
    p.ras_n = top_->sdram_ras_n_o;
    p.cas_n = top_->sdram_cas_n_o;
    p.we_n = top_->sdram_we_n_o;
    p.ba = top_->sdram_ba_o;
    p.a = top_->sdram_a_o;
    p.dqm = top_->sdram_dqm_o;
    p.dq = top_->sdram_dq_o;
    p.dq_oe = top_->sdram_dq_oe_o;
    top_->sdram_dq_i = sdram_->edge(p);
    const auto& v = sdram_->violations();
    if (v.size() != reported_) {
      std::lock_guard<std::mutex> lock(mu_);
      for (; reported_ < v.size(); ++reported_) {
        std::fprintf(stderr, "board sim: %s\n", v[reported_].c_str());
        violations_.push_back(v[reported_]);
      }
    }
  }

  void run() {
    top_->uart_rx_i = 1;
    top_->rst_ni = 0;
    for (int i = 0; i < 8; ++i) tick();
    top_->rst_ni = 1;
    std::deque<uint8_t> in;     // from the host, not yet on the line
    std::vector<uint8_t> out;   // from the board, not yet written to the host
    int rx_bit = -1, rx_cnt = 0;  // host -> board: bit of the frame being sent (-1: idle)
    uint16_t rx_frame = 0;
    int tx_bit = -1, tx_cnt = 0;  // board -> host: bit being sampled (-1: waiting for a start)
    uint8_t tx_byte = 0;
    uint64_t n = 0;
    while (!stop_) {
      if ((++n & 63) == 0) exchange(in, out);
      // Host -> board: start bit, 8 data bits LSB first, stop bit. A board with SDRAM is up
      // once the SDRAM is initialised (200 us after reset): a real host speaks much later, and
      // until then the bridge's memory writes would wait longer than the UART's FIFO lasts.
      if (rx_bit < 0 && !in.empty() && board_up()) {
        const int64_t index = static_cast<int64_t>(host_bytes_++);
        uint8_t b = in.front();
        in.pop_front();
        if (index == flip_at_) b ^= 1;
        rx_frame = static_cast<uint16_t>((index == break_at_ ? 0 : 0x200) | (b << 1));
        rx_bit = 0;
        rx_cnt = 0;
      }
      if (rx_bit >= 0) {
        top_->uart_rx_i = (rx_frame >> rx_bit) & 1;
        if (++rx_cnt == kClkPerBit) {
          rx_cnt = 0;
          if (++rx_bit == 10) rx_bit = -1;
        }
      } else {
        top_->uart_rx_i = 1;
      }
      tick();
      // Board -> host: sample each bit in its middle.
      const int line = top_->uart_tx_o;
      if (tx_bit < 0) {
        if (!line) {
          tx_bit = 0;
          tx_cnt = kClkPerBit / 2;
        }
      } else if (++tx_cnt == kClkPerBit) {
        tx_cnt = 0;
        if (tx_bit >= 1 && tx_bit <= 8) tx_byte = static_cast<uint8_t>(tx_byte >> 1 | (line ? 0x80 : 0));
        if (tx_bit == 9) {
          if (line) out.push_back(tx_byte);  // a low stop bit is a framing error: dropped
          tx_bit = -1;
        } else {
          ++tx_bit;
        }
      }
    }
  }

  /// Moves bytes between the line buffers and the pseudo-terminal without blocking.
  void exchange(std::deque<uint8_t>& in, std::vector<uint8_t>& out) {
    if (in.size() < 64) {
      uint8_t buf[256];
      const ssize_t r = ::read(master_, buf, sizeof buf);
      if (r > 0) in.insert(in.end(), buf, buf + r);
    }
    if (!out.empty()) {
      const ssize_t w = ::write(master_, out.data(), out.size());
      if (w > 0) out.erase(out.begin(), out.begin() + w);
    }
  }

  int master_ = -1, slave_ = -1;
  std::string path_;
  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<Model> top_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> cycles_{0};
  std::atomic<uint64_t> host_bytes_{0};      // bytes from the host put on the line so far
  std::atomic<int64_t> flip_at_{-1}, break_at_{-1};
  std::unique_ptr<SdramModel> sdram_;        // boards with SDRAM only; the sim thread's
  size_t reported_ = 0;
  mutable std::mutex mu_;
  std::vector<std::string> violations_;      // the SDRAM model's, copied for other threads
  std::thread thread_;
};

}  // namespace

std::unique_ptr<BoardSim> make_board_sim(std::string_view config) {
  if (config == "up5k") return std::make_unique<Sim<Vks_board_sim_up5k, false>>();
  if (config == "ecp5") return std::make_unique<Sim<Vks_board_sim_ecp5, true>>();
  throw std::invalid_argument("board sim: no board top for configuration '" + std::string(config) +
                              "' (up5k: iCEBreaker, ecp5: ULX3S)");
}

}  // namespace ks::tb
