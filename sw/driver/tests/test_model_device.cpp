// The golden-model backend through the host driver, in every configuration: the register
// map, transfers, matrix products against the golden model, every error class with its
// exact ERR_CODE / ERR_INDEX / ERR_INFO and the RTL's check priority, bus errors, tokens,
// queue depth, resume and queue reset. The expectations are the RTL's behaviour
// (rtl/ctrl/ks_cmdproc.sv, rtl/ctrl/ks_ctrl_regs.sv, rtl/engine/*.sv), so the same tests
// would pass on the emulated backend, except where a comment says the model differs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "kestrel/descriptors.h"
#include "kestrel/driver/layout.h"
#include "kestrel/driver/model.h"
#include "kestrel/driver/queue.h"
#include "kestrel/golden/matmul.h"
#include "kestrel/regs.h"

namespace {

using namespace ks;
using desc::Error;

uint64_t base_seed() {
  const char* s = std::getenv("KS_SEED");
  return s ? std::strtoull(s, nullptr, 0) : 1;
}

class ModelTest : public ::testing::TestWithParam<std::string> {
 protected:
  static constexpr uint32_t kRingEntries = 16;

  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    seed_ = base_seed() ^ std::hash<std::string>{}(std::string(info->test_suite_name()) + "." + info->name());
    rng_.seed(seed_);
    dev_ = drv::make_model_device(GetParam());
    base_ = static_cast<uint32_t>(dev_->mem_base());
    ring_ = base_;
    completion_ = base_ + 0x800;
    data_ = base_ + 0x1000;
    q_ = std::make_unique<drv::CommandQueue>(*dev_, ring_, kRingEntries, completion_);
    q_->start();
  }

  std::string seed_note() const {
    return "seed " + std::to_string(seed_) + " (KS_SEED=" + std::to_string(base_seed()) + ")";
  }

  const hw::HwConfig& cfg() const { return dev_->config(); }
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

  std::vector<uint8_t> read_mem(uint32_t addr, size_t n) {
    std::vector<uint8_t> v(n);
    dev_->mem_read(addr, v.data(), n);
    return v;
  }

  uint64_t counter(regs::Counter c) {
    const uint32_t lo = dev_->read32(regs::counter_lo(c));  // latches the high word
    return (uint64_t{dev_->read32(regs::counter_lo(c) + 4)} << 32) | lo;
  }

  /// Polls STATUS until BUSY drops (at once on the model; the hardware may still be
  /// finishing work handed out before a halt).
  void wait_not_busy() {
    for (int i = 0; i < 1000 && regs::kStatusBusy.get(dev_->read32(regs::kStatus)); ++i) {
    }
  }

  /// A LOAD/STORE of `rows` x 2 beats between KV offset 0 and `host`.
  drv::Xfer kv_xfer(uint32_t host, uint32_t rows = 2) const {
    return drv::Xfer{desc::Bank::kKv, 0, host, rows, 2 * axi(), 2 * axi(), 2 * axi()};
  }

  /// Runs LOAD(src) + NOP + STORE(dst) and checks dst == src: the queue works.
  void expect_good_list_runs() {
    const auto data = random_bytes(4 * axi());
    const uint32_t src = alloc(data.size()), dst = alloc(data.size());
    dev_->mem_write(src, data.data(), data.size());
    q_->run({drv::make_load(kv_xfer(src)), drv::make_nop(), drv::make_store(kv_xfer(dst))});
    EXPECT_EQ(read_mem(dst, data.size()), data) << "a good command list did not run correctly";
  }

  /// Runs `list` + COMPLETE and expects the queue to halt with exactly (code, info) at
  /// list[pos] (ERR_INDEX is its ring index).
  void expect_halt(const std::vector<desc::Words>& list, Error code, uint32_t pos, uint32_t info) {
    const uint32_t index = (q_->status().head + pos) % kRingEntries;
    const uint32_t seq = q_->submit_and_complete(list);
    try {
      q_->wait(seq);
      ADD_FAILURE() << "the queue did not halt";
    } catch (const drv::QueueError& e) {
      EXPECT_EQ(e.code(), code) << e.what();
      EXPECT_EQ(e.index(), index) << e.what();
      // A LOAD's or STORE's failing burst is known only to a build that keeps ERR_INFO's
      // detail; the driver works every other detail out (up5k).
      const bool known = cfg().err_info_detail || (code != Error::kReadBusError && code != Error::kWriteBusError) ||
                         desc::kOpcode.get(list.at(pos)) == static_cast<uint32_t>(desc::Opcode::kComplete);
      EXPECT_EQ(e.info(), known ? info : 0u) << e.what();
    }
    EXPECT_TRUE(q_->status().halted);
  }

  /// Submits [good LOAD, bad, good STORE] + COMPLETE; expects the queue to halt on the bad
  /// one with `code` and `info`, nothing after it consumed; then fixes it and resumes.
  void expect_rejected(const desc::Words& bad, Error code, uint32_t info) {
    SCOPED_TRACE(drv::describe(bad));
    const auto data = random_bytes(4 * axi());
    const uint32_t src = alloc(data.size()), dst = alloc(data.size());
    dev_->mem_write(src, data.data(), data.size());
    const uint32_t head0 = q_->status().head;
    const uint32_t seq = q_->submit_and_complete({drv::make_load(kv_xfer(src)), bad, drv::make_store(kv_xfer(dst))});
    const uint32_t bad_index = (head0 + 1) % kRingEntries;
    try {
      q_->wait(seq);
      ADD_FAILURE() << "the queue accepted a bad descriptor";
      return;
    } catch (const drv::QueueError& e) {
      EXPECT_EQ(e.code(), code) << e.what();
      EXPECT_EQ(e.index(), bad_index) << e.what();
      EXPECT_EQ(e.info(), info) << e.what();
    }
    wait_not_busy();
    const drv::QueueStatus st = q_->status();
    EXPECT_TRUE(st.halted);
    EXPECT_FALSE(st.busy) << "the LOAD handed out before the fault finishes";
    EXPECT_EQ(st.head, bad_index) << "the faulting descriptor must not be consumed";
    EXPECT_EQ(dev_->read32(regs::kLastSeq), seq - 1) << "nothing after the fault may run";
    EXPECT_NE(read_mem(dst, data.size()), data) << "the STORE after the faulting descriptor ran";
    // Fix the descriptor in place and resume: the rest of the list runs.
    q_->rewrite(bad_index, drv::make_nop());
    q_->resume();
    q_->wait(seq);
    EXPECT_EQ(read_mem(dst, data.size()), data);
    expect_good_list_runs();
  }

  std::unique_ptr<drv::Device> dev_;
  std::unique_ptr<drv::CommandQueue> q_;
  uint32_t base_ = 0, ring_ = 0, completion_ = 0, data_ = 0;
  uint64_t seed_ = 0;
  std::mt19937_64 rng_;
};

std::string config_name(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

// ---- construction -------------------------------------------------------------------------------

TEST(ModelDevice, UnknownConfigurationIsRefusedNamingTheKnownOnes) {
  try {
    drv::make_model_device("virtex");
    FAIL() << "an unknown configuration must throw";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("virtex"), std::string::npos) << what;
    for (const hw::HwConfig& c : hw::kConfigs) EXPECT_NE(what.find(std::string(c.name)), std::string::npos) << what;
  }
  EXPECT_THROW(drv::make_model_device("odd", drv::ModelOptions{0x1000, 0}), std::invalid_argument);
}

TEST(ModelDevice, DescribesItselfAndItsMemory) {
  const drv::ModelOptions opt{0x20000000, 1u << 20};
  auto dev = drv::make_model_device("odd", opt);
  EXPECT_EQ(dev->backend(), "model");
  EXPECT_EQ(dev->config().name, "odd");
  const uint64_t base = *opt.mem_base;
  const size_t size = *opt.mem_size;
  EXPECT_EQ(dev->mem_base(), base);
  EXPECT_EQ(dev->mem_size(), size);
  EXPECT_EQ(dev->cycles(), 0u);
  const uint32_t v = 0x12345678;
  dev->mem_write(base + size - 4, &v, 4);
  uint32_t back = 0;
  dev->mem_read(base + size - 4, &back, 4);
  EXPECT_EQ(back, v);
  EXPECT_THROW(dev->mem_write(base + size - 2, &v, 4), std::out_of_range);
  EXPECT_THROW(dev->mem_read(base - 1, &back, 4), std::out_of_range);
}

/// A device of another backend, for the type checks of the model-only functions.
class OtherDevice : public drv::Device {
 public:
  std::string_view backend() const override { return "other"; }
  const hw::HwConfig& config() const override { return hw::kOdd; }
  uint32_t read32(uint32_t) override { return 0; }
  void write32(uint32_t, uint32_t) override {}
  uint64_t mem_base() const override { return 0; }
  size_t mem_size() const override { return 0; }
  void mem_write(uint64_t, const void*, size_t) override {}
  void mem_read(uint64_t, void*, size_t) override {}
  bool wait_irq(uint64_t) override { return false; }
  std::vector<drv::StreamToken> read_tokens(uint64_t) override { return {}; }
  uint64_t cycles() const override { return 0; }
};

TEST(ModelDevice, ErrorInjectionNeedsAModelDeviceAndARange) {
  OtherDevice other;
  EXPECT_THROW(drv::model_inject_error(other, 0, 64, true, true), std::invalid_argument);
  EXPECT_THROW(drv::model_clear_errors(other), std::invalid_argument);
  auto dev = drv::make_model_device("odd");
  EXPECT_THROW(drv::model_inject_error(*dev, 64, 64, true, true), std::invalid_argument);
  EXPECT_NO_THROW(drv::model_inject_error(*dev, 0, 64, true, true));
  EXPECT_NO_THROW(drv::model_clear_errors(*dev));
}

TEST(ModelDevice, RegistersStartAtTheirResetValues) {
  auto dev = drv::make_model_device("ecp5");
  for (uint32_t off : {regs::kCtrl, regs::kStatus, regs::kErrCode, regs::kErrIndex, regs::kErrInfo, regs::kIrqStatus,
                       regs::kIrqEnable, regs::kRingBase, regs::kRingSize, regs::kRingHead, regs::kRingTail,
                       regs::kWinBase, regs::kWinSize, regs::kCompletions, regs::kLastSeq, regs::kPerfCtrl}) {
    EXPECT_EQ(dev->read32(off), 0u) << "offset " << off;
  }
  for (uint32_t i = 0; i < regs::kNumCounters; ++i) {
    EXPECT_EQ(dev->read32(regs::kCounterBase + 8 * i), 0u);
    EXPECT_EQ(dev->read32(regs::kCounterBase + 8 * i + 4), 0u);
  }
  EXPECT_FALSE(dev->wait_irq(1000));
}

TEST(ModelDevice, RingShrunkBelowTheTailIsRefused) {
  // RING_SIZE made smaller than RING_TAIL while disabled: the head would wrap at the new size
  // and never meet the tail, so enabling refuses the ring (RING_CONFIG with the size).
  auto dev = drv::make_model_device("odd");
  const uint32_t base = static_cast<uint32_t>(dev->mem_base());
  drv::CommandQueue q(*dev, base, 16, base + 0x800);
  q.start();
  dev->write32(regs::kCtrl, 0);
  q.submit(std::vector<desc::Words>(10, drv::make_nop()));
  dev->write32(regs::kRingSize, 4);
  dev->write32(regs::kCtrl, regs::kCtrlEnable.mask());
  EXPECT_TRUE(regs::kStatusHalted.get(dev->read32(regs::kStatus)));
  EXPECT_FALSE(regs::kStatusBusy.get(dev->read32(regs::kStatus)));
  EXPECT_EQ(dev->read32(regs::kErrCode), static_cast<uint32_t>(desc::Error::kRingConfig));
  EXPECT_EQ(dev->read32(regs::kErrInfo), 4u);
  EXPECT_EQ(dev->read32(regs::kRingHead), 0u);
  dev->write32(regs::kCtrl, regs::kCtrlQueueReset.mask());
  EXPECT_EQ(dev->read32(regs::kStatus), 0u);
}

// ---- registers ----------------------------------------------------------------------------------

TEST_P(ModelTest, IdentificationRegistersDescribeTheBuild) {
  EXPECT_EQ(dev_->read32(regs::kId), 0x4B535452u);
  EXPECT_EQ(dev_->read32(regs::kVersion), regs::kVersionMajorValue << 16 | regs::kVersionMinorValue);
  EXPECT_EQ(dev_->read32(regs::kHwArray),
            cfg().array_rows | cfg().array_cols << 8 | cfg().axi_data_bytes << 16 | cfg().acc_addr_bits << 24);
  EXPECT_EQ(1u << regs::kHwArrayAccDepthLog2.get(dev_->read32(regs::kHwArray)), cfg().acc_depth);
  EXPECT_EQ(dev_->read32(regs::kHwWgtBytes), cfg().wgt_bank_bytes);
  EXPECT_EQ(dev_->read32(regs::kHwActBytes), cfg().act_bank_bytes);
  EXPECT_EQ(dev_->read32(regs::kHwAccBytes), cfg().acc_bank_bytes);
  EXPECT_EQ(dev_->read32(regs::kHwKvBytes), cfg().kv_bank_bytes);
  EXPECT_EQ(regs::kHwVecLanes.get(dev_->read32(regs::kHwVec)), cfg().vec_lanes) << "0 without the vector unit";
  EXPECT_EQ(dev_->read32(regs::kHwPerf), cfg().perf_counter_bits);
  // The slave decodes a word address from the low 12 bits.
  EXPECT_EQ(dev_->read32(regs::kId + 2), regs::kIdValueValue);
  EXPECT_EQ(dev_->read32(regs::kMapBytes + regs::kHwKvBytes), cfg().kv_bank_bytes);
}

TEST_P(ModelTest, EveryMappedOffsetReadsAndUnmappedOnesAnswerSlverr) {
  for (uint32_t off : regs::kMappedOffsets) EXPECT_NO_THROW(dev_->read32(off)) << "offset " << off;
  for (uint32_t off = 0; off < regs::kMapBytes; off += 4) {
    if (std::find(std::begin(regs::kMappedOffsets), std::end(regs::kMappedOffsets), off) !=
        std::end(regs::kMappedOffsets)) {
      continue;
    }
    EXPECT_THROW(dev_->read32(off), drv::BusError) << "read of unmapped offset " << off;
    EXPECT_THROW(dev_->write32(off, 0xFFFFFFFF), drv::BusError) << "write of unmapped offset " << off;
  }
  try {
    dev_->read32(0x0FC);
    ADD_FAILURE() << "no SLVERR";
  } catch (const drv::BusError& e) {
    EXPECT_EQ(e.offset(), 0x0FCu);
  }
  // Read-only registers (counters included) refuse writes and keep their value.
  const uint32_t before_head = dev_->read32(regs::kRingHead);
  for (uint32_t off : {regs::kId, regs::kVersion, regs::kHwArray, regs::kHwWgtBytes, regs::kHwActBytes,
                       regs::kHwAccBytes, regs::kHwKvBytes, regs::kStatus, regs::kErrCode, regs::kErrIndex,
                       regs::kErrInfo, regs::kRingHead, regs::kCompletions, regs::kLastSeq,
                       regs::counter_lo(regs::Counter::kMacs), regs::counter_lo(regs::Counter::kMacs) + 4}) {
    EXPECT_THROW(dev_->write32(off, 0x5), drv::BusError) << "write of read-only offset " << off;
  }
  EXPECT_EQ(dev_->read32(regs::kId), regs::kIdValueValue);
  EXPECT_EQ(dev_->read32(regs::kRingHead), before_head);
  EXPECT_EQ(dev_->read32(regs::kErrCode), 0u);
}

TEST_P(ModelTest, RingGeometryIsFrozenWhileEnabled) {
  EXPECT_EQ(dev_->read32(regs::kCtrl), regs::kCtrlEnable.mask());
  EXPECT_THROW(dev_->write32(regs::kRingSize, 64), drv::BusError);
  EXPECT_THROW(dev_->write32(regs::kRingBase, ring_ + 4096), drv::BusError);
  EXPECT_EQ(dev_->read32(regs::kRingSize), kRingEntries);
  EXPECT_EQ(dev_->read32(regs::kRingBase), ring_);
  // The window is not frozen.
  dev_->write32(regs::kWinSize, 4096);
  EXPECT_EQ(dev_->read32(regs::kWinSize), 4096u);
  dev_->write32(regs::kCtrl, 0);
  EXPECT_EQ(dev_->read32(regs::kStatus) & regs::kStatusEnabled.mask(), 0u);
  dev_->write32(regs::kRingSize, 64);
  EXPECT_EQ(dev_->read32(regs::kRingSize), 64u);
}

TEST_P(ModelTest, InterruptStatusIsWriteOneToClearAndTheLineFollowsTheEnables) {
  dev_->write32(regs::kIrqEnable, 0);
  q_->submit({drv::make_complete(77, completion_, true)});
  EXPECT_FALSE(dev_->wait_irq(3000)) << "a masked interrupt must not reach the line";
  EXPECT_EQ(dev_->read32(regs::kLastSeq), 77u);
  EXPECT_EQ(dev_->read32(regs::kIrqStatus), regs::kIrqStatusCompletion.mask());
  dev_->write32(regs::kIrqEnable, regs::kIrqEnableError.mask());
  EXPECT_FALSE(dev_->wait_irq(1)) << "the error enable does not pass a completion";
  dev_->write32(regs::kIrqEnable, 0xFFFFFFFF);
  EXPECT_EQ(dev_->read32(regs::kIrqEnable), 3u) << "two enable bits";
  EXPECT_TRUE(dev_->wait_irq(1)) << "unmasking a pending cause raises the line";
  dev_->write32(regs::kIrqStatus, regs::kIrqStatusError.mask());
  EXPECT_TRUE(dev_->wait_irq(1)) << "only the written bits clear";
  dev_->write32(regs::kIrqStatus, regs::kIrqStatusCompletion.mask());
  EXPECT_FALSE(dev_->wait_irq(1));
  EXPECT_EQ(dev_->read32(regs::kIrqStatus), 0u);
  // A completion without its IRQ flag never sets the cause.
  q_->submit({drv::make_complete(78, completion_, false)});
  EXPECT_FALSE(dev_->wait_irq(3000));
  EXPECT_EQ(dev_->read32(regs::kLastSeq), 78u);
  uint32_t word = 0;
  dev_->mem_read(completion_, &word, 4);
  EXPECT_EQ(word, 78u);
  EXPECT_EQ(dev_->read32(regs::kCompletions), 2u);
}

TEST_P(ModelTest, PerformanceCountersCountFreezeAndClear) {
  const uint32_t desc_beats = desc::kBytes / axi();
  const auto data = random_bytes(6 * axi());
  const uint32_t src = alloc(data.size()), dst = alloc(data.size());
  dev_->mem_write(src, data.data(), data.size());
  const drv::Xfer x{desc::Bank::kKv, 0, src, 3, 2 * axi(), 2 * axi(), 2 * axi()};
  drv::Xfer y = x;
  y.host_addr = dst;
  q_->run({drv::make_load(x), drv::make_nop(), drv::make_store(y)});  // + COMPLETE
  if (dev_->backend() == "model") {
    EXPECT_EQ(counter(regs::Counter::kCycles), 0u) << "the model has no cycles";
  }
  EXPECT_EQ(counter(regs::Counter::kDescExecuted), 4u);
  // (A counter the configuration leaves out reads 0: up5k counts bytes, not beats.)
  auto kept = [&](regs::Counter c, uint64_t v) {
    return (cfg().perf_counter_mask >> static_cast<uint32_t>(c) & 1u) != 0 ? v : uint64_t{0};
  };
  EXPECT_EQ(counter(regs::Counter::kDmaRdBeats), kept(regs::Counter::kDmaRdBeats, 4u * desc_beats + 6));
  EXPECT_EQ(counter(regs::Counter::kBytesRead), 4u * desc::kBytes + 6 * axi());
  EXPECT_EQ(counter(regs::Counter::kDmaWrBeats), kept(regs::Counter::kDmaWrBeats, 6u + 1));
  EXPECT_EQ(counter(regs::Counter::kBytesWritten), 6u * axi() + 4) << "the completion enables 4 bytes";
  EXPECT_EQ(counter(regs::Counter::kMacs), 0u);

  dev_->write32(regs::kPerfCtrl, regs::kPerfCtrlFreeze.mask());
  EXPECT_EQ(dev_->read32(regs::kPerfCtrl), regs::kPerfCtrlFreeze.mask());
  q_->run({drv::make_nop()});
  EXPECT_EQ(counter(regs::Counter::kDescExecuted), 4u) << "frozen";
  // CLEAR zeroes; FREEZE takes the written bit with it. (On the hardware the cycle counters
  // start counting again at once; the model has none.)
  dev_->write32(regs::kPerfCtrl, regs::kPerfCtrlClear.mask());
  EXPECT_EQ(dev_->read32(regs::kPerfCtrl), 0u);
  for (auto c : {regs::Counter::kDescExecuted, regs::Counter::kMacs, regs::Counter::kDmaRdBeats,
                 regs::Counter::kDmaWrBeats, regs::Counter::kBytesRead, regs::Counter::kBytesWritten}) {
    EXPECT_EQ(counter(c), 0u);
  }
  if (dev_->backend() == "model") {
    for (uint32_t i = 0; i < regs::kNumCounters; ++i) EXPECT_EQ(counter(static_cast<regs::Counter>(i)), 0u);
  }
  q_->run({drv::make_nop()});
  EXPECT_EQ(counter(regs::Counter::kDescExecuted), 2u);
}

// ---- transfers ----------------------------------------------------------------------------------

TEST_P(ModelTest, LoadAndStoreRoundTripThroughTheKvBankWithStrides) {
  std::uniform_int_distribution<uint32_t> beats(1, 6), rows(1, 5), gap(0, 3);
  int done = 0;
  for (int round = 0; round < 40 && done < 12; ++round) {
    const uint32_t row_bytes = beats(rng_) * axi();
    const uint32_t n_rows = rows(rng_);
    const uint32_t hstride = row_bytes + gap(rng_) * axi();
    const uint32_t sstride = row_bytes + gap(rng_) * axi();
    const uint32_t sram = axi() * gap(rng_);
    if (sram + (n_rows - 1) * sstride + row_bytes > cfg().kv_bank_bytes) continue;
    const auto src = random_bytes(n_rows * hstride);
    const uint32_t in = alloc(src.size()), out = alloc(src.size());
    dev_->mem_write(in, src.data(), src.size());
    q_->run({drv::make_load({desc::Bank::kKv, sram, in, n_rows, row_bytes, hstride, sstride}), drv::make_nop(),
             drv::make_store({desc::Bank::kKv, sram, out, n_rows, row_bytes, hstride, sstride})});
    const auto got = read_mem(out, src.size());
    for (uint32_t r = 0; r < n_rows; ++r) {
      for (uint32_t b = 0; b < hstride; ++b) {
        const uint8_t want = b < row_bytes ? src[r * hstride + b] : 0;
        ASSERT_EQ(got[r * hstride + b], want) << "row " << r << " byte " << b << ", " << seed_note();
      }
    }
    ++done;
  }
  EXPECT_EQ(done, 12);
}

TEST_P(ModelTest, TransfersAcrossPageBoundariesAndLongerThanABurst) {
  // One row of the whole KV bank (many bursts), starting just before a 4 KiB boundary.
  const uint32_t bytes = std::min<uint32_t>(cfg().kv_bank_bytes, 8192);
  const uint32_t src = (alloc(bytes + 8192) + 4095) / 4096 * 4096 + 4096 - 3 * axi();
  const uint32_t dst = alloc(bytes + 4096) + axi();
  const auto data = random_bytes(bytes);
  dev_->mem_write(src, data.data(), data.size());
  q_->run({drv::make_load({desc::Bank::kKv, 0, src, 1, bytes, 0, 0}), drv::make_nop(),
           drv::make_store({desc::Bank::kKv, 0, dst, 1, bytes, 0, 0})});
  EXPECT_EQ(read_mem(dst, bytes), data);
}

TEST_P(ModelTest, OverlappingRowsLandInRowOrder) {
  // SRAM stride 0: every row goes to the same place, the last one stays. Host stride 0 on
  // the way out: every row is written to the same place, the last one stays.
  const auto data = random_bytes(3 * 2 * axi());
  const uint32_t src = alloc(data.size()), dst = alloc(data.size());
  dev_->mem_write(src, data.data(), data.size());
  q_->run({drv::make_load({desc::Bank::kKv, 0, src, 3, 2 * axi(), 2 * axi(), 0}), drv::make_nop(),
           drv::make_store({desc::Bank::kKv, 0, dst, 2, 2 * axi(), 0, 0})});
  const auto got = read_mem(dst, 2 * axi());
  EXPECT_TRUE(std::equal(got.begin(), got.end(), data.begin() + 4 * axi()));
}

// ---- matrix products ----------------------------------------------------------------------------

/// LOAD W and X, MATMUL, STORE the results: equal to matmul_ref bit for bit. Returns
/// false (and does nothing) when the operands do not fit the banks.
class ModelMatmulTest : public ModelTest {
 protected:
  bool run_matmul(golden::Precision p, size_t m, size_t k, size_t n) {
    const drv::MatmulLayout l = drv::matmul_layout(cfg(), p, m, k, n);
    if (l.wgt_bytes > cfg().wgt_bank_bytes || l.act_bytes > cfg().act_bank_bytes ||
        l.acc_bytes > cfg().acc_bank_bytes) {
      return false;
    }
    SCOPED_TRACE(std::string(golden::to_string(p)) + " M=" + std::to_string(m) + " K=" + std::to_string(k) +
                 " N=" + std::to_string(n) + ", " + seed_note());
    std::uniform_int_distribution<int> b8(-128, 127), b4(-8, 7);
    std::vector<int8_t> x(m * k), wv(n * k);
    for (auto& v : x) v = static_cast<int8_t>(b8(rng_));
    for (auto& v : wv) v = static_cast<int8_t>(p == golden::Precision::kInt4 ? b4(rng_) : b8(rng_));
    const std::vector<uint8_t> w = p == golden::Precision::kInt4 ? golden::pack_int4(wv, n, k)
                                                                : std::vector<uint8_t>(wv.begin(), wv.end());
    const auto wimg = drv::pack_weights(cfg(), p, w.data(), n, k);
    const auto ximg = drv::pack_activations(cfg(), x.data(), m, k);
    const uint32_t wa = alloc(wimg.size()), xa = alloc(ximg.size()), ya = alloc(l.acc_bytes);
    dev_->mem_write(wa, wimg.data(), wimg.size());
    dev_->mem_write(xa, ximg.data(), ximg.size());
    const uint64_t macs0 = counter(regs::Counter::kMacs);
    q_->run({drv::make_load({desc::Bank::kWgt, 0, wa, 1, static_cast<uint32_t>(wimg.size()), 0, 0}),
             drv::make_load({desc::Bank::kAct, 0, xa, 1, static_cast<uint32_t>(ximg.size()), 0, 0},
                            {false, false, false, true}),
             drv::make_matmul({p == golden::Precision::kInt4, static_cast<uint32_t>(m), static_cast<uint32_t>(k),
                               static_cast<uint32_t>(n), 0, 0, 0},
                              {true, false, false, true}),
             drv::make_store({desc::Bank::kAcc, 0, ya, 1, static_cast<uint32_t>(l.acc_bytes), 0, 0},
                             {true, false, false, false})});
    const auto yimg = read_mem(ya, l.acc_bytes);
    EXPECT_EQ(drv::unpack_results(cfg(), yimg.data(), m, n), golden::matmul_ref(p, x.data(), w.data(), m, n, k));
    EXPECT_EQ(counter(regs::Counter::kMacs) - macs0, uint64_t{m} * k * n) << "useful MACs, padding excluded";
    // ACC words wider than Rows x 4 bytes hold zeros above the results.
    for (size_t word = 0; word < l.acc_bytes / cfg().acc_word_bytes; ++word) {
      for (size_t b = 4 * cfg().array_rows; b < cfg().acc_word_bytes; ++b) {
        EXPECT_EQ(yimg[word * cfg().acc_word_bytes + b], 0) << "word " << word << " byte " << b;
      }
    }
    return true;
  }
};

TEST_P(ModelMatmulTest, RandomShapesInBothPrecisions) {
  std::uniform_int_distribution<size_t> dm(1, 9), dk(1, 4 * cfg().array_cols + 7), dn(1, 3 * cfg().array_rows + 2);
  int done[2] = {0, 0};
  for (int round = 0; done[0] + done[1] < 30 && round < 400 && !HasFailure(); ++round) {
    const auto p = round % 2 ? golden::Precision::kInt4 : golden::Precision::kInt8;
    if (run_matmul(p, dm(rng_), dk(rng_), dn(rng_))) ++done[p == golden::Precision::kInt4];
  }
  EXPECT_GE(done[0], 10);
  EXPECT_GE(done[1], 10);
}

TEST_P(ModelMatmulTest, EdgesOfTheArrayAndOfTheAccumulator) {
  const size_t r = cfg().array_rows, c = cfg().array_cols;
  for (const auto p : {golden::Precision::kInt8, golden::Precision::kInt4}) {
    for (size_t k : {size_t{1}, c - 1, c, c + 1, 2 * c, 2 * c + 1}) {
      for (size_t n : {size_t{1}, r - 1, r, r + 1}) EXPECT_TRUE(run_matmul(p, 2, k, n));
    }
    // More tokens than accumulator entries: the product runs in token chunks. Only the
    // small configurations' banks hold that many X rows.
    const size_t m = 2 * cfg().acc_depth + 1;
    if (m * cfg().act_word_bytes <= cfg().act_bank_bytes) {
      EXPECT_TRUE(run_matmul(p, m, c, r + 1));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Configs, ModelMatmulTest, ::testing::Values("odd", "ecp5", "up5k"), config_name);

/// A double-buffered pipeline ordered only by tokens: LOAD X_i (push) -> MATMUL (pop, push)
/// -> STORE Y_i (pop, push back) -> the MATMUL two steps later waits for that buffer.
TEST_P(ModelTest, TokenPipelineRunsBackToBackProducts) {
  const auto p = golden::Precision::kInt8;
  const size_t m = 2, k = 2 * cfg().array_cols + 3, n = cfg().array_rows + 1;
  const drv::MatmulLayout l = drv::matmul_layout(cfg(), p, m, k, n);
  ASSERT_LE(2 * l.act_bytes, cfg().act_bank_bytes);
  ASSERT_LE(2 * l.acc_bytes, cfg().acc_bank_bytes);
  std::uniform_int_distribution<int> b8(-128, 127);
  std::vector<int8_t> wv(n * k);
  for (auto& v : wv) v = static_cast<int8_t>(b8(rng_));
  const std::vector<uint8_t> w(wv.begin(), wv.end());
  const auto wimg = drv::pack_weights(cfg(), p, w.data(), n, k);
  const uint32_t wa = alloc(wimg.size());
  dev_->mem_write(wa, wimg.data(), wimg.size());
  q_->run({drv::make_load({desc::Bank::kWgt, 0, wa, 1, static_cast<uint32_t>(wimg.size()), 0, 0})});

  const int kSteps = 6;
  std::vector<std::vector<int8_t>> xs(kSteps);
  std::vector<uint32_t> ys(kSteps);
  std::vector<desc::Words> list;
  const auto act_slot = [&](int i) { return static_cast<uint32_t>((i % 2) * l.act_bytes); };
  const auto acc_slot = [&](int i) { return static_cast<uint32_t>((i % 2) * l.acc_bytes); };
  for (int i = 0; i < kSteps; ++i) {
    xs[i].resize(m * k);
    for (auto& v : xs[i]) v = static_cast<int8_t>(b8(rng_));
    const auto ximg = drv::pack_activations(cfg(), xs[i].data(), m, k);
    const uint32_t xa = alloc(ximg.size());
    ys[i] = alloc(l.acc_bytes);
    dev_->mem_write(xa, ximg.data(), ximg.size());
    list.push_back(drv::make_load({desc::Bank::kAct, act_slot(i), xa, 1, static_cast<uint32_t>(ximg.size()), 0, 0},
                                  {false, i >= 2, false, true}));
    list.push_back(drv::make_matmul({false, static_cast<uint32_t>(m), static_cast<uint32_t>(k),
                                     static_cast<uint32_t>(n), 0, act_slot(i), acc_slot(i)},
                                    {true, i >= 2, true, true}));
    list.push_back(drv::make_store({desc::Bank::kAcc, acc_slot(i), ys[i], 1, static_cast<uint32_t>(l.acc_bytes), 0, 0},
                                   {true, false, true, false}));
  }
  // The tokens the pipeline leaves behind are consumed before the final fence.
  list.push_back(drv::make_load({desc::Bank::kKv, 0, wa, 1, axi(), 0, 0}, {false, true, false, false}));
  list.push_back(drv::make_load({desc::Bank::kKv, 0, wa, 1, axi(), 0, 0}, {false, true, false, false}));
  list.push_back(drv::make_matmul({false, 1, 1, 1, 0, 0, 0}, {false, true, false, false}));
  list.push_back(drv::make_matmul({false, 1, 1, 1, 0, 0, 0}, {false, true, false, false}));
  // All of it in one go, so the engines overlap: a 64-entry ring (it ends where the
  // completion word starts).
  dev_->write32(regs::kCtrl, regs::kCtrlQueueReset.mask());
  drv::CommandQueue big(*dev_, ring_, 64, completion_);
  big.start();
  big.run(list);
  for (int i = 0; i < kSteps; ++i) {
    const auto yimg = read_mem(ys[i], l.acc_bytes);
    EXPECT_EQ(drv::unpack_results(cfg(), yimg.data(), m, n), golden::matmul_ref(p, xs[i].data(), w.data(), m, n, k))
        << "step " << i << ", " << seed_note();
  }
  EXPECT_FALSE(big.status().busy);
  EXPECT_EQ(counter(regs::Counter::kDescExecuted), 1u + 1 + list.size() + 1);
}

// ---- descriptor checks: every class, its detail value, and the priority between them -------

TEST_P(ModelTest, UnknownOpcode) {
  desc::Words w = drv::make_nop();
  desc::kOpcode.set(w, 0x77);
  w[5] = 0xFFFFFFFF;  // opcode is checked before everything else
  expect_rejected(w, Error::kBadOpcode, 0x77);
}

TEST_P(ModelTest, ReservedBitsReportTheLowestWord) {
  desc::Words w = drv::make_load(kv_xfer(data_));
  w[4] |= 1u << 20;  // ROWS is [15:0] of word 4
  expect_rejected(w, Error::kReservedBits, 4);
  w[7] |= 1u << 31;
  w[1] |= 1u << 4;  // BANK is [3:0] of word 1
  expect_rejected(w, Error::kReservedBits, 1);
  desc::Words c = drv::make_complete(5, completion_, true);
  c[6] = 1;
  expect_rejected(c, Error::kReservedBits, 6);
  desc::Words n = drv::make_nop();
  n[0] |= 1u << 12;
  n[3] = 8;
  expect_rejected(n, Error::kReservedBits, 0);
  // Reserved bits come before token flags.
  desc::Words l = drv::make_load(kv_xfer(data_), {true, false, false, false});
  l[5] |= 1u << 24;
  expect_rejected(l, Error::kReservedBits, 5);
}

TEST_P(ModelTest, TokenFlagTheEngineDoesNotHave) {
  for (const drv::Deps d : {drv::Deps{true, false, false, false}, drv::Deps{false, false, true, false}}) {
    const desc::Words w = drv::make_load(kv_xfer(data_), d);
    expect_rejected(w, Error::kBadDependency, w[0]);
  }
  for (const drv::Deps d : {drv::Deps{false, true, false, false}, drv::Deps{false, false, false, true}}) {
    const desc::Words s = drv::make_store({desc::Bank::kAcc, 0, data_, 1, axi(), axi(), axi()}, d);
    expect_rejected(s, Error::kBadDependency, s[0]);
  }
  desc::Words n = drv::make_nop();
  desc::kPushNext.set(n, 1);
  expect_rejected(n, Error::kBadDependency, n[0]);
  desc::Words c = drv::make_complete(4, completion_, false);
  desc::kPopPrev.set(c, 1);
  expect_rejected(c, Error::kBadDependency, c[0]);
  // Token flags come before the bank.
  drv::Xfer x = kv_xfer(data_);
  x.bank = desc::Bank::kAcc;
  const desc::Words b = drv::make_load(x, {true, false, false, false});
  expect_rejected(b, Error::kBadDependency, b[0]);
}

TEST_P(ModelTest, BankThatCannotBeUsedThatWay) {
  drv::Xfer x = kv_xfer(data_);
  x.bank = desc::Bank::kAcc;  // LOAD cannot write ACC
  expect_rejected(drv::make_load(x), Error::kBadBank, 2);
  x.bank = desc::Bank::kWgt;  // STORE cannot read WGT or ACT
  expect_rejected(drv::make_store(x), Error::kBadBank, 0);
  x.bank = desc::Bank::kAct;
  expect_rejected(drv::make_store(x), Error::kBadBank, 1);
  desc::Words w = drv::make_load(kv_xfer(data_));
  desc::kLoadBank.set(w, 9);
  expect_rejected(w, Error::kBadBank, 9);
  // The bank comes before sizes and alignment.
  x = kv_xfer(data_ + 1);
  x.rows = 0;
  x.bank = desc::Bank::kAcc;
  expect_rejected(drv::make_load(x), Error::kBadBank, 2);
}

TEST_P(ModelTest, ZeroSizes) {
  drv::Xfer x = kv_xfer(data_ + 4);  // misaligned too: sizes come first
  x.rows = 0;
  expect_rejected(drv::make_load(x), Error::kZeroSize, 0);
  x = kv_xfer(data_);
  x.row_bytes = 0;
  expect_rejected(drv::make_store(x), Error::kZeroSize, 0);
  expect_rejected(drv::make_matmul({false, 0, 1, 1, 0, 0, 0}), Error::kZeroSize, 0);
  expect_rejected(drv::make_matmul({false, 1, 0, 1, 1, 0, 0}), Error::kZeroSize, 0);
  expect_rejected(drv::make_matmul({true, 1, 1, 0, 0, 0, 0}), Error::kZeroSize, 0);
}

TEST_P(ModelTest, MisalignmentInCheckOrder) {
  // LOAD/STORE: HOST_ADDR, HOST_STRIDE, SRAM_ADDR, SRAM_STRIDE, ROW_BYTES.
  drv::Xfer x{desc::Bank::kKv, 8 * axi() + 1, data_ + 4, 2, axi() + 3, axi() + 2, axi() + 5};
  expect_rejected(drv::make_load(x), Error::kMisaligned, data_ + 4);
  x.host_addr = data_;
  expect_rejected(drv::make_store(x), Error::kMisaligned, axi() + 2);
  x.host_stride = axi();
  expect_rejected(drv::make_load(x), Error::kMisaligned, 8 * axi() + 1);
  x.sram_addr = 0;
  expect_rejected(drv::make_load(x), Error::kMisaligned, axi() + 5);
  x.sram_stride = axi();
  expect_rejected(drv::make_store(x), Error::kMisaligned, axi() + 3);
  // MATMUL: WGT_ADDR, ACT_ADDR, ACC_ADDR against their word sizes.
  const uint32_t ww = cfg().wgt_word_bytes, aw = cfg().act_word_bytes, cw = cfg().acc_word_bytes;
  expect_rejected(drv::make_matmul({false, 1, 1, 1, ww + 1, aw + 1, cw + 1}), Error::kMisaligned, ww + 1);
  // An ACT address aligned to the AXI width but not to the ACT word, where they differ.
  const uint32_t bad_act = aw > axi() ? aw + axi() : aw + 1;
  expect_rejected(drv::make_matmul({false, 1, 1, 1, ww, bad_act, cw + 1}), Error::kMisaligned, bad_act);
  expect_rejected(drv::make_matmul({true, 1, 1, 1, 0, aw, cw / 2}), Error::kMisaligned, cw / 2);
  // COMPLETE: HOST_ADDR a multiple of 4, even outside the window (alignment comes first).
  expect_rejected(drv::make_complete(9, completion_ + 2, true), Error::kMisaligned, completion_ + 2);
  expect_rejected(drv::make_complete(9, base_ - 2, true), Error::kMisaligned, base_ - 2);
}

TEST_P(ModelTest, AddressOutsideTheWindow) {
  const uint32_t end = base_ + static_cast<uint32_t>(dev_->mem_size());
  expect_rejected(drv::make_load(kv_xfer(base_ - 64 * axi())), Error::kHostRange, base_ - 64 * axi());
  // Starts inside, ends past the window (the last row's end counts).
  expect_rejected(drv::make_store(kv_xfer(end - 2 * axi(), 3)), Error::kHostRange, end - 2 * axi());
  expect_rejected(drv::make_complete(3, end, false), Error::kHostRange, end);
  expect_rejected(drv::make_complete(3, end - 2, false), Error::kMisaligned, end - 2);
  // The host range comes before the bank range.
  drv::Xfer x = kv_xfer(end - axi());
  x.sram_addr = cfg().kv_bank_bytes;
  expect_rejected(drv::make_load(x), Error::kHostRange, end - axi());
  // Exactly up to the end of the window is fine.
  q_->run({drv::make_load(kv_xfer(end - 6 * axi(), 3)), drv::make_complete(1234, end - 4, false)});
  uint32_t word = 0;
  dev_->mem_read(end - 4, &word, 4);
  EXPECT_EQ(word, 1234u);
}

TEST_P(ModelTest, TransferOrOperandOutsideItsBank) {
  drv::Xfer x = kv_xfer(data_);
  x.sram_addr = cfg().kv_bank_bytes - axi();
  expect_rejected(drv::make_load(x), Error::kSramRange, cfg().kv_bank_bytes - axi());
  x = drv::Xfer{desc::Bank::kWgt, 0, data_, 2, axi(), axi(), cfg().wgt_bank_bytes};
  expect_rejected(drv::make_load(x), Error::kSramRange, 0);
  x.sram_stride = cfg().wgt_bank_bytes - 2 * axi();
  q_->run({drv::make_load(x)});  // the last row ends exactly at the end of the bank
  // MATMUL operands, checked WGT, ACT, ACC.
  const uint32_t wgt_words = cfg().wgt_bank_bytes / cfg().wgt_word_bytes;
  const uint32_t act_words = cfg().act_bank_bytes / cfg().act_word_bytes;
  const uint32_t acc_words = cfg().acc_bank_bytes / cfg().acc_word_bytes;
  const uint32_t last_wgt = (wgt_words - 1) * cfg().wgt_word_bytes;
  const uint32_t last_act = (act_words - 1) * cfg().act_word_bytes;
  const uint32_t last_acc = (acc_words - 1) * cfg().acc_word_bytes;
  // N = Rows + 1 needs two weight tiles, M = 2 two ACT rows and 2 x 2 ACC words.
  const uint32_t n2 = cfg().array_rows + 1;
  expect_rejected(drv::make_matmul({false, 2, 1, n2, last_wgt, last_act, last_acc}), Error::kSramRange, last_wgt);
  expect_rejected(drv::make_matmul({false, 2, 1, n2, 0, last_act, last_acc}), Error::kSramRange, last_act);
  expect_rejected(drv::make_matmul({false, 2, 1, n2, 0, 0, last_acc}), Error::kSramRange, last_acc);
  const uint32_t m = acc_words + 1;
  expect_rejected(drv::make_matmul({false, m, 1, 1, 0, 0, 0}), Error::kSramRange, 0);
  // A one-beat product in the last word of every bank is fine.
  q_->run({drv::make_matmul({false, 1, 1, 1, last_wgt, last_act, last_acc})});
}

TEST_P(ModelTest, WindowEndsWithTheCoresAddressSpace) {
  // As the RTL (test_core_errors): a window past 2^addr_bits ends there.
  const uint64_t space = uint64_t{1} << cfg().addr_bits;
  dev_->write32(regs::kCtrl, 0);
  dev_->write32(regs::kWinSize, 0xFFFFFFFFu - base_);
  dev_->write32(regs::kCtrl, regs::kCtrlEnable.mask());
  ASSERT_FALSE(q_->status().halted);
  const uint32_t last = static_cast<uint32_t>(space - axi());
  expect_rejected(drv::make_load(kv_xfer(last, 1)), Error::kHostRange, last);
  if (space < (uint64_t{1} << 32)) {
    const uint32_t past = static_cast<uint32_t>(space + 0x1000);
    expect_rejected(drv::make_store(kv_xfer(past, 1)), Error::kHostRange, past);
    dev_->write32(regs::kCtrl, 0);
    dev_->write32(regs::kRingBase, past);
    // RING_BASE keeps an address past the space as its end (ks_ctrl_regs), still refused.
    EXPECT_EQ(dev_->read32(regs::kRingBase), static_cast<uint32_t>(space));
    dev_->write32(regs::kCtrl, regs::kCtrlEnable.mask());
    EXPECT_EQ(q_->error().code(), Error::kRingConfig);
    EXPECT_EQ(q_->error().info(), static_cast<uint32_t>(space));
  }
  q_->reset();
  expect_good_list_runs();
}

TEST_P(ModelTest, BadRingConfigurationIsRefused) {
  const auto enable_with = [&](uint32_t base, uint32_t size) {
    q_->reset();
    dev_->write32(regs::kCtrl, 0);
    dev_->write32(regs::kIrqStatus, 0xFFFFFFFF);
    dev_->write32(regs::kRingBase, base);
    dev_->write32(regs::kRingSize, size);
    dev_->write32(regs::kCtrl, regs::kCtrlEnable.mask());
  };
  const std::vector<std::pair<uint32_t, uint32_t>> bad_sizes = {{ring_, 12}, {ring_, 1}, {ring_, 0}, {ring_, 131072}};
  for (const auto& [base, size] : bad_sizes) {
    enable_with(base, size);
    const drv::QueueError e = q_->error();
    EXPECT_EQ(e.code(), Error::kRingConfig) << "size " << size;
    EXPECT_EQ(e.info(), size);
    EXPECT_EQ(e.index(), 0u);
    EXPECT_TRUE(dev_->wait_irq(1));
    EXPECT_EQ(dev_->read32(regs::kCtrl), regs::kCtrlEnable.mask()) << "ENABLE stays set; the queue is halted";
  }
  const uint32_t end = base_ + static_cast<uint32_t>(dev_->mem_size());
  const std::vector<uint32_t> bad_bases = {ring_ + 16, base_ - 4096, end - 15 * 32};
  for (uint32_t base : bad_bases) {
    enable_with(base, 16);
    EXPECT_EQ(q_->error().code(), Error::kRingConfig) << "base " << base;
    EXPECT_EQ(q_->error().info(), base);
  }
  enable_with(end - 16 * 32, 16);  // the ring may end at the window's end
  EXPECT_FALSE(q_->status().halted);
  q_->reset();  // reprograms the good ring
  expect_good_list_runs();
}

TEST_P(ModelTest, DoorbellOutOfRangeHaltsAndIsIgnored) {
  const uint32_t tail0 = dev_->read32(regs::kRingTail);
  const uint32_t head0 = dev_->read32(regs::kRingHead);
  dev_->write32(regs::kRingTail, kRingEntries + 3);
  EXPECT_EQ(dev_->read32(regs::kRingTail), tail0);
  drv::QueueError e = q_->error();
  EXPECT_EQ(e.code(), Error::kDoorbellRange);
  const uint32_t value = cfg().err_info_detail ? kRingEntries + 3 : 0u;  // up5k: ERR_INFO reads 0
  EXPECT_EQ(e.info(), value);
  EXPECT_EQ(e.index(), head0);
  EXPECT_TRUE(regs::kIrqStatusError.get(dev_->read32(regs::kIrqStatus)));
  EXPECT_TRUE(dev_->wait_irq(1)) << "the error interrupt is enabled";
  // While halted, the first error sticks: another bad doorbell changes nothing.
  dev_->write32(regs::kRingTail, 1000);
  e = q_->error();
  EXPECT_EQ(e.code(), Error::kDoorbellRange);
  EXPECT_EQ(e.info(), value);
  q_->reset();
  expect_good_list_runs();
}

// ---- bus errors ---------------------------------------------------------------------------------

TEST_P(ModelTest, BusErrorWhileFetchingADescriptor) {
  drv::model_inject_error(*dev_, ring_ + 2 * desc::kBytes + 5, ring_ + 2 * desc::kBytes + 6, true, false);
  expect_halt({drv::make_nop(), drv::make_nop()}, Error::kFetchBusError, 2, ring_ + 2 * desc::kBytes);
  EXPECT_EQ(q_->status().head, 2u);
  EXPECT_EQ(dev_->read32(regs::kCompletions), 0u);
  drv::model_clear_errors(*dev_);
  q_->resume();  // the same descriptor, fetched again, now succeeds
  q_->wait(1);
  expect_good_list_runs();
}

TEST_P(ModelTest, ReadBusErrorReportsTheRowAndSkipsOnlyTheFailingBeats) {
  // Fill KV with a known pattern first.
  const uint32_t row = 2 * axi(), rows = 3;
  const auto old = random_bytes(rows * row);
  const uint32_t old_src = alloc(old.size());
  dev_->mem_write(old_src, old.data(), old.size());
  q_->run({drv::make_load({desc::Bank::kKv, 0, old_src, 1, rows * row, 0, 0})});
  // A LOAD of 3 rows whose second row's second beat fails.
  const auto data = random_bytes(rows * row);
  const uint32_t src = alloc(data.size());
  dev_->mem_write(src, data.data(), data.size());
  drv::model_inject_error(*dev_, src + row + axi(), src + row + axi() + 1, true, false);
  expect_halt({drv::make_load(kv_xfer(src, rows))}, Error::kReadBusError, 0, src + row);
  wait_not_busy();
  EXPECT_FALSE(q_->status().busy);
  drv::model_clear_errors(*dev_);
  q_->reset();
  // Rows 0 and 2 arrived; row 1's burst did not (bursts of max_burst_beats: the whole row
  // is one burst here).
  const uint32_t dst = alloc(data.size());
  q_->run({drv::make_store({desc::Bank::kKv, 0, dst, 1, rows * row, 0, 0})});
  std::vector<uint8_t> want = data;
  std::copy(old.begin() + row, old.begin() + 2 * row, want.begin() + row);
  EXPECT_EQ(read_mem(dst, want.size()), want);
  expect_good_list_runs();
}

TEST_P(ModelTest, WriteBusErrorReportsTheFirstFailingBurstAndLeavesItUnwritten) {
  // One row that crosses a 4 KiB boundary: the DMA cuts a burst there. An error injected
  // just after the boundary fails exactly the burst that starts at it.
  const uint32_t bytes = std::min<uint32_t>(cfg().kv_bank_bytes, 2 * cfg().max_burst_beats * axi() + 8 * axi());
  const uint32_t page = (alloc(bytes + 8192) + 4095) / 4096 * 4096 + 4096;
  const uint32_t dst = page - 2 * axi();
  const auto data = random_bytes(bytes);
  const uint32_t src = alloc(bytes);
  dev_->mem_write(src, data.data(), data.size());
  const std::vector<uint8_t> zeros(bytes, 0);
  dev_->mem_write(dst, zeros.data(), zeros.size());
  q_->run({drv::make_load({desc::Bank::kKv, 0, src, 1, bytes, 0, 0})});
  drv::model_inject_error(*dev_, page + axi(), page + axi() + 4, false, true);
  const uint64_t written0 = counter(regs::Counter::kBytesWritten);
  expect_halt({drv::make_store({desc::Bank::kKv, 0, dst, 1, bytes, 0, 0})}, Error::kWriteBusError, 0, page);
  EXPECT_EQ(counter(regs::Counter::kBytesWritten) - written0, uint64_t{bytes})
      << "the failing burst's beats still go out with every strobe on; the completion never does";
  // Before the boundary: written. The failing burst [page, page + burst): untouched. After it: written.
  const uint32_t burst = std::min(cfg().max_burst_beats * axi(), dst + bytes - page);
  std::vector<uint8_t> want = data;
  std::fill(want.begin() + (page - dst), want.begin() + (page - dst) + burst, 0);
  EXPECT_EQ(read_mem(dst, bytes), want);
  drv::model_clear_errors(*dev_);
  q_->reset();
  expect_good_list_runs();
}

TEST_P(ModelTest, CompletionWriteErrorLeavesTheCompleteUnconsumed) {
  drv::model_inject_error(*dev_, completion_, completion_ + 4, false, true);
  // The error detail is HOST_ADDR itself (not the AXI-aligned burst address).
  const uint32_t seq = q_->submit_and_complete({drv::make_nop()});
  try {
    q_->wait(seq);
    ADD_FAILURE() << "completion bus error not reported";
  } catch (const drv::QueueError& e) {
    EXPECT_EQ(e.code(), Error::kWriteBusError) << e.what();
    EXPECT_EQ(e.index(), 1u);
    EXPECT_EQ(e.info(), completion_);
  }
  EXPECT_EQ(q_->status().head, 1u);
  EXPECT_EQ(dev_->read32(regs::kCompletions), 0u);
  EXPECT_EQ(dev_->read32(regs::kLastSeq), 0u);
  // Resume retries the completion.
  drv::model_clear_errors(*dev_);
  q_->resume();
  q_->wait(seq);
  EXPECT_EQ(dev_->read32(regs::kCompletions), 1u);
  // A COMPLETE to the second word of a failing AXI beat: the detail is its own address.
  drv::model_inject_error(*dev_, completion_, completion_ + 1, false, true);
  expect_halt({drv::make_complete(55, completion_ + 4, false)}, Error::kWriteBusError, 0, completion_ + 4);
  drv::model_clear_errors(*dev_);
  q_->reset();
  // An address the window allows but memory does not have answers DECERR: past the memory's
  // end, or below its base where the memory reaches the end of the core's address space
  // (up5k's default memory).
  const uint32_t end = base_ + static_cast<uint32_t>(dev_->mem_size());
  if (uint64_t{end} + 4096 <= (uint64_t{1} << cfg().addr_bits)) {
    dev_->write32(regs::kWinSize, static_cast<uint32_t>(dev_->mem_size()) + 4096);
    expect_halt({drv::make_load(kv_xfer(end))}, Error::kReadBusError, 0, end);
  } else {
    dev_->write32(regs::kWinBase, base_ - 4096);
    dev_->write32(regs::kWinSize, static_cast<uint32_t>(dev_->mem_size()) + 4096);
    expect_halt({drv::make_load(kv_xfer(base_ - 4096))}, Error::kReadBusError, 0, base_ - 4096);
  }
  q_->reset();
  expect_good_list_runs();
}

TEST_P(ModelTest, BusErrorDropsTheQueuedWork) {
  const auto data = random_bytes(4 * axi());
  const uint32_t good = alloc(data.size()), bad = alloc(data.size()), dst = alloc(data.size());
  dev_->mem_write(good, data.data(), data.size());
  drv::model_inject_error(*dev_, bad, bad + 1, true, false);
  // The failing LOAD is running; the LOADs behind it wait in (or for room in) the load queue;
  // the STORE waits for a token from compute that never comes; the MATMUL waits for the LOAD.
  expect_halt({drv::make_load(kv_xfer(bad), {false, false, false, true}), drv::make_load(kv_xfer(good)),
               drv::make_load(kv_xfer(good)), drv::make_matmul({false, 1, 1, 1, 0, 0, 0}, {true, false, false, true}),
               drv::make_store(kv_xfer(dst), {true, false, false, false})},
              Error::kReadBusError, 0, bad);
  wait_not_busy();
  const drv::QueueStatus st = q_->status();
  EXPECT_FALSE(st.busy) << "the queued work was dropped";
  EXPECT_EQ(counter(regs::Counter::kDescExecuted), 0u) << "nothing but the failing LOAD ran";
  EXPECT_NE(read_mem(dst, data.size()), data);
  // How far the command processor got before the error is a matter of timing on the
  // hardware (it fetches while the LOAD runs). The model lets it run ahead until it blocks:
  // with room for two LOADs in the load queue everything up to the COMPLETE fence had been
  // dispatched; with room for one (cmd_queue_depth 1) it waits to dispatch the third LOAD;
  // without queues (0) the second LOAD waits for the load engine.
  EXPECT_GE(st.head, 1u);
  EXPECT_LE(st.head, 5u);
  if (dev_->backend() == "model") {
    const uint32_t depth = cfg().cmd_queue_depth;
    EXPECT_EQ(st.head, depth >= 2 ? 5u : depth == 1 ? 2u : 1u);
  }
  drv::model_clear_errors(*dev_);
  q_->reset();
  expect_good_list_runs();
}

TEST_P(ModelTest, TokenCountPastTwoFiftyFiveOverflows) {
  // 255 LOADs that each give a token to compute, which never takes one: the 256th overflows.
  const uint32_t src = alloc(axi());
  const desc::Words load = drv::make_load({desc::Bank::kKv, 0, src, 1, axi(), 0, 0}, {false, false, false, true});
  int submitted = 0;
  while (submitted < 255) {
    const int n = std::min(255 - submitted, static_cast<int>(kRingEntries) - 2);
    q_->run(std::vector<desc::Words>(n, load));
    submitted += n;
  }
  EXPECT_FALSE(q_->status().halted);
  expect_halt({load}, Error::kTokenOverflow, 0, 0);
  q_->reset();
  expect_good_list_runs();
}

// ---- queue depth, deadlock, resume and reset -----------------------------------------------------

TEST_P(ModelTest, DispatchBlocksOnAFullEngineQueue) {
  const uint32_t src = alloc(axi());
  const desc::Words mat = drv::make_matmul({false, 1, 1, 1, 0, 0, 0}, {true, false, false, false});
  const desc::Words load = drv::make_load({desc::Bank::kKv, 0, src, 1, axi(), 0, 0}, {false, false, false, true});
  // As many MATMULs waiting for tokens as the compute queue holds (cmd_queue_depth) fit; the
  // LOADs behind them give the tokens.
  const uint32_t depth = cfg().cmd_queue_depth;
  std::vector<desc::Words> list(depth, mat);
  list.insert(list.end(), depth, load);
  if (depth > 0) q_->run(list);
  // One more does not: it cannot be dispatched, so the LOADs are never fetched. The
  // hardware hangs; the model stays busy.
  const uint32_t head0 = q_->status().head;
  list.assign(depth + 1, mat);
  list.insert(list.end(), depth + 1, load);
  q_->submit(list);
  EXPECT_FALSE(dev_->wait_irq(100000));
  drv::QueueStatus st = q_->status();
  EXPECT_TRUE(st.busy);
  EXPECT_FALSE(st.halted);
  EXPECT_EQ(st.head, (head0 + depth) % kRingEntries);
  q_->reset();
  st = q_->status();
  EXPECT_FALSE(st.busy);
  EXPECT_EQ(st.head, 0u);
  expect_good_list_runs();
}

TEST_P(ModelTest, QueueResetClearsStateTokensAndEnable) {
  // Leave a token behind (l2c = 1), a completion and an error.
  const uint32_t src = alloc(axi());
  q_->run({drv::make_load({desc::Bank::kKv, 0, src, 1, axi(), 0, 0}, {false, false, false, true})});
  EXPECT_EQ(dev_->read32(regs::kCompletions), 1u);
  dev_->write32(regs::kRingTail, 99);
  EXPECT_TRUE(q_->status().halted);
  // QUEUE_RESET together with ENABLE: ENABLE still ends cleared.
  dev_->write32(regs::kCtrl, regs::kCtrlQueueReset.mask() | regs::kCtrlEnable.mask());
  EXPECT_EQ(dev_->read32(regs::kCtrl), 0u);
  EXPECT_EQ(dev_->read32(regs::kStatus), 0u);
  for (uint32_t off : {regs::kErrCode, regs::kErrIndex, regs::kErrInfo, regs::kRingHead, regs::kRingTail,
                       regs::kCompletions, regs::kLastSeq}) {
    EXPECT_EQ(dev_->read32(off), 0u) << "offset " << off;
  }
  // Configuration survives.
  EXPECT_EQ(dev_->read32(regs::kRingSize), kRingEntries);
  EXPECT_NE(dev_->read32(regs::kIrqEnable), 0u);
  dev_->write32(regs::kIrqStatus, 0xFFFFFFFF);
  uint32_t zero = 0;
  dev_->mem_write(completion_, &zero, 4);
  q_->start();
  // The token is gone: a MATMUL that pops one waits (and the queue stays busy).
  q_->submit({drv::make_matmul({false, 1, 1, 1, 0, 0, 0}, {true, false, false, false})});
  EXPECT_FALSE(dev_->wait_irq(1000));
  EXPECT_TRUE(q_->status().busy);
  q_->reset();
  EXPECT_FALSE(q_->status().busy);
  expect_good_list_runs();
}

TEST_P(ModelTest, ResumeClearsTheErrorAndABadRingIsReportedAnew) {
  desc::Words bad = drv::make_nop();
  desc::kOpcode.set(bad, 9);
  expect_halt({drv::make_nop(), bad}, Error::kBadOpcode, 1, 9);
  q_->rewrite(1, drv::make_nop());
  q_->resume();
  q_->wait(1);
  EXPECT_EQ(dev_->read32(regs::kErrCode), 0u);
  EXPECT_EQ(dev_->read32(regs::kErrInfo), 0u);
  EXPECT_EQ(dev_->read32(regs::kErrIndex), 0u) << "a resume clears the whole error report";
  EXPECT_EQ(dev_->read32(regs::kCompletions), 1u);
  // Resuming with a ring that went bad meanwhile: still halted, now RING_CONFIG, reported
  // with a new error interrupt.
  expect_halt({bad}, Error::kBadOpcode, 0, 9);
  dev_->write32(regs::kIrqStatus, 0xFFFFFFFF);
  dev_->write32(regs::kCtrl, 0);
  dev_->write32(regs::kRingSize, 3);
  dev_->write32(regs::kCtrl, regs::kCtrlEnable.mask());
  const drv::QueueStatus st = q_->status();
  EXPECT_TRUE(st.halted);
  EXPECT_EQ(st.error, Error::kRingConfig);
  EXPECT_EQ(st.err_info, cfg().err_info_detail ? 3u : 0u) << "up5k's ERR_INFO keeps no detail";
  EXPECT_EQ(q_->error().info(), 3u) << "the driver works it out";
  EXPECT_EQ(st.err_index, 3u);
  EXPECT_EQ(dev_->read32(regs::kIrqStatus), regs::kIrqStatusError.mask());
  q_->reset();
  expect_good_list_runs();
}

TEST_P(ModelTest, RingWrapsAroundManyTimes) {
  for (int i = 0; i < 12; ++i) expect_good_list_runs();  // 4 descriptors each, 16-entry ring
  EXPECT_EQ(dev_->read32(regs::kCompletions), 12u);
}

TEST_P(ModelTest, FullRingIsRefusedWithoutDamage) {
  std::vector<desc::Words> too_many(kRingEntries, drv::make_nop());
  const uint32_t tail0 = dev_->read32(regs::kRingTail);
  EXPECT_THROW(q_->submit(too_many), drv::QueueFull);
  EXPECT_EQ(dev_->read32(regs::kRingTail), tail0);
  too_many.resize(kRingEntries - 2);  // + COMPLETE: exactly full
  q_->run(too_many);
  expect_good_list_runs();
}

TEST_P(ModelTest, DisabledQueueFetchesNothingUntilEnabled) {
  dev_->write32(regs::kCtrl, 0);
  const uint32_t seq = q_->submit_and_complete({drv::make_nop()});
  EXPECT_EQ(dev_->read32(regs::kRingHead), 0u);
  EXPECT_EQ(dev_->read32(regs::kRingTail), 2u) << "the doorbell is taken while disabled";
  EXPECT_FALSE(q_->status().busy);
  dev_->write32(regs::kCtrl, regs::kCtrlEnable.mask());
  q_->wait(seq);
  EXPECT_EQ(dev_->read32(regs::kRingHead), 2u);
}

INSTANTIATE_TEST_SUITE_P(Configs, ModelTest, ::testing::Values("odd", "up5k", "ecp5"), config_name);

}  // namespace
