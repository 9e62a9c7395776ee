// The UART transmitter and receiver (the host link of the board tops) in loopback: every
// byte arrives in order under random producer gaps and consumer stalls; a corrupted stop
// bit is a framing error and the byte is dropped; a short glitch on an idle line is no
// byte; bytes arriving at a full FIFO are counted as overruns.
#include <gtest/gtest.h>

#include <deque>
#include <random>
#include <vector>

#include "Vks_uart_loopback.h"
#include "sim_harness.h"
#include "test_seed.h"

namespace {

constexpr int kClkPerBit = 8;  // the test top's parameter

class UartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rng_.seed(ks::tb::test_seed());
    sim_->line_i = 1;
    sim_.reset();
  }

  /// One cycle: the line is the transmitter's unless `force` says otherwise.
  void cycle(int force = -1) {
    sim_.eval();
    sim_->line_i = force < 0 ? sim_->line_o : static_cast<uint8_t>(force);
    sim_.eval();
    if (sim_->out_valid_o && sim_->out_ready_i) got_.push_back(sim_->out_data_o);
    frame_errors_ += sim_->frame_err_o;
    overruns_ += sim_->overrun_o;
    sim_.tick();
  }

  /// Sends bytes (with random gaps) and runs until the line has been idle for a while.
  void send(const std::vector<uint8_t>& bytes, double out_stall = 0.0) {
    std::uniform_real_distribution<double> u(0, 1);
    size_t next = 0;
    int idle = 0;
    while (next < bytes.size() || idle < 20 * kClkPerBit) {
      sim_->in_valid_i = next < bytes.size() && u(rng_) < 0.7;
      if (sim_->in_valid_i) sim_->in_data_i = bytes[next];
      sim_->out_ready_i = u(rng_) >= out_stall;
      sim_.eval();
      const bool fire = sim_->in_valid_i && sim_->in_ready_o;
      idle = (sim_->line_o && sim_->in_ready_o && next >= bytes.size()) ? idle + 1 : 0;
      cycle();
      if (fire) ++next;
    }
    sim_->in_valid_i = 0;
    sim_->out_ready_i = 1;
    for (int i = 0; i < 8; ++i) cycle();
  }

  ks::tb::SimHarness<Vks_uart_loopback> sim_;
  std::mt19937_64 rng_;
  std::vector<uint8_t> got_;
  int frame_errors_ = 0, overruns_ = 0;
};

TEST_F(UartTest, BytesArriveInOrderUnderGapsAndStalls) {
  std::vector<uint8_t> bytes(600);
  for (auto& b : bytes) b = static_cast<uint8_t>(rng_());
  bytes[0] = 0x00;
  bytes[1] = 0xFF;
  bytes[2] = 0x55;
  send(bytes, 0.3);
  EXPECT_EQ(got_, bytes);
  EXPECT_EQ(frame_errors_, 0);
  EXPECT_EQ(overruns_, 0);
}

TEST_F(UartTest, CorruptStopBitIsAFramingErrorAndTheByteIsDropped) {
  sim_->out_ready_i = 1;
  sim_->in_valid_i = 1;
  sim_->in_data_i = 0xA5;
  sim_.eval();
  cycle();  // accepted: the start bit begins
  sim_->in_valid_i = 0;
  // Start + 8 data bits pass normally, then hold the line low through the stop bit.
  for (int i = 1; i < 9 * kClkPerBit; ++i) cycle();
  for (int i = 0; i < kClkPerBit; ++i) cycle(0);
  for (int i = 0; i < 4 * kClkPerBit; ++i) cycle(1);
  EXPECT_EQ(frame_errors_, 1);
  EXPECT_TRUE(got_.empty());
  send({0x3C, 0xC3});  // and the link still works
  EXPECT_EQ(got_, (std::vector<uint8_t>{0x3C, 0xC3}));
}

TEST_F(UartTest, AGlitchOnAnIdleLineIsNoByte) {
  sim_->out_ready_i = 1;
  for (int i = 0; i < 2 * kClkPerBit; ++i) cycle(1);
  for (int i = 0; i < kClkPerBit / 2 - 2; ++i) cycle(0);  // shorter than half a bit
  for (int i = 0; i < 12 * kClkPerBit; ++i) cycle(1);
  EXPECT_TRUE(got_.empty());
  EXPECT_EQ(frame_errors_, 0);
}

TEST_F(UartTest, BytesIntoAFullFifoAreCountedAsOverruns) {
  std::vector<uint8_t> bytes(10);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i + 1);
  send(bytes, 1.0);  // the consumer never takes a byte while they arrive
  // The FIFO (4 entries) keeps the first four; the other six are lost, each counted.
  EXPECT_EQ(got_, (std::vector<uint8_t>{1, 2, 3, 4}));
  EXPECT_EQ(overruns_, 6);
}

}  // namespace
