// Error handling of the command queue, through the driver: every class of bad descriptor,
// bus errors on reads, writes and descriptor fetches, ring wrap-around, a full ring,
// doorbell misuse, interrupt masking and a queue reset in the middle of work. After each
// error: it is reported exactly (code, ring index, detail), and a following good command
// list runs correctly.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "core_fixture.h"
#include "kestrel/regs.h"

namespace {

using ks::tb::CoreTest;
using namespace ks;

class CoreErrorTest : public CoreTest {
 protected:
  /// A LOAD of `rows` x 2 beats into KV from `src`, and the STORE of the same to `dst`.
  drv::Xfer kv_xfer(uint32_t host, uint32_t rows = 2) const {
    return drv::Xfer{desc::Bank::kKv, 0, host, rows, 2 * axi(), 2 * axi(), 2 * axi()};
  }

  /// Runs LOAD(src) + NOP + STORE(dst) and checks dst == src: the queue works.
  void expect_good_list_runs() {
    const auto data = random_bytes(4 * axi());
    const uint32_t src = alloc(data.size()), dst = alloc(data.size());
    dev_->mem_write(src, data.data(), data.size());
    q_->run({drv::make_load(kv_xfer(src)), drv::make_nop(), drv::make_store(kv_xfer(dst))});
    std::vector<uint8_t> got(data.size());
    dev_->mem_read(dst, got.data(), got.size());
    EXPECT_EQ(got, data) << "a good command list after the error did not run correctly";
  }

  /// Submits [good LOAD, bad, good STORE] + COMPLETE; expects the queue to halt on the bad
  /// one with `code` and `info`, nothing after it consumed; then fixes it and resumes.
  void expect_rejected(const desc::Words& bad, desc::Error code, uint32_t info) {
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
      EXPECT_NE(std::string(e.what()).find(std::string(desc::name(code))), std::string::npos) << e.what();
    }
    const drv::QueueStatus st = q_->status();
    EXPECT_TRUE(st.halted);
    // The register itself: the detail, or 0 in a build that keeps none (up5k: the driver
    // worked e.info() out from the descriptor, checked above).
    EXPECT_EQ(st.err_info, cfg().err_info_detail ? info : 0u);
    EXPECT_EQ(st.head, bad_index) << "the faulting descriptor must not be consumed";
    EXPECT_EQ(dev_->read32(regs::kLastSeq), seq - 1) << "nothing after the fault may run";
    std::vector<uint8_t> got(data.size());
    dev_->mem_read(dst, got.data(), got.size());
    EXPECT_NE(got, data) << "the STORE after the faulting descriptor ran";
    // Fix the descriptor in place (a NOP) and resume: the rest of the list runs.
    q_->rewrite(bad_index, drv::make_nop());
    q_->resume();
    q_->wait(seq);
    dev_->mem_read(dst, got.data(), got.size());
    EXPECT_EQ(got, data);
    expect_good_list_runs();
  }
};

TEST_P(CoreErrorTest, UnknownOpcode) {
  desc::Words w = drv::make_nop();
  desc::kOpcode.set(w, 0x77);
  expect_rejected(w, desc::Error::kBadOpcode, 0x77);
}

// A core without the vector unit (up5k) has neither its descriptors nor its banks: each is
// refused with UNSUPPORTED, naming the opcode or the bank, before any other check (a VEC with
// reserved bits set or a DECODE with zero sizes is still UNSUPPORTED), a LOAD with tokens for
// the vector engine with BAD_DEPENDENCY, and the queue goes on once it is replaced.
TEST_P(CoreErrorTest, VectorDescriptorsWithoutTheVectorUnit) {
  if (cfg().vector_unit) GTEST_SKIP() << "configuration " << cfg().name << " has the vector unit";
  EXPECT_EQ(dev_->read32(regs::kHwVec), 0u) << "HW_VEC reads 0 without the vector unit";
  const auto op = [](desc::Opcode o) { return static_cast<uint32_t>(o); };
  desc::Words vec = drv::make_vec({});
  vec[5] = 1;  // reserved
  expect_rejected(vec, desc::Error::kUnsupported, op(desc::Opcode::kVec));
  expect_rejected(drv::make_vrun(0, 1), desc::Error::kUnsupported, op(desc::Opcode::kVrun));
  drv::VmoveArgs vm;
  vm.count = 1;
  vm.groups = 1;
  expect_rejected(drv::make_vmove(vm), desc::Error::kUnsupported, op(desc::Opcode::kVmove));
  expect_rejected(drv::make_decode({}), desc::Error::kUnsupported, op(desc::Opcode::kDecode));
  for (desc::Bank b : {desc::Bank::kVec, desc::Bank::kVprog, desc::Bank::kHist}) {
    drv::Xfer x = kv_xfer(data_);
    x.bank = b;
    expect_rejected(drv::make_load(x), desc::Error::kUnsupported, static_cast<uint32_t>(b));
    expect_rejected(drv::make_store(x), desc::Error::kUnsupported, static_cast<uint32_t>(b));
  }
  // A LOAD's tokens with the vector engine: there is none to wait for (it would hang) or feed.
  for (const bool push : {false, true}) {
    drv::Xfer x = kv_xfer(data_);
    (push ? x.push_vec : x.pop_vec) = true;
    const desc::Words w = drv::make_load(x);
    expect_rejected(w, desc::Error::kBadDependency, w[0]);
  }
}

TEST_P(CoreErrorTest, ReservedBitsSet) {
  desc::Words w = drv::make_load(kv_xfer(data_));
  w[4] |= 1u << 20;  // ROWS is [15:0] of word 4
  expect_rejected(w, desc::Error::kReservedBits, 4);
  desc::Words c = drv::make_complete(5, completion_, true);
  c[6] = 1;
  expect_rejected(c, desc::Error::kReservedBits, 6);
}

TEST_P(CoreErrorTest, TokenFlagTheEngineDoesNotHave) {
  const desc::Words w = drv::make_load(kv_xfer(data_), {true, false, false, false});  // LOAD has no previous engine
  expect_rejected(w, desc::Error::kBadDependency, w[0]);
  const desc::Words s = drv::make_store({desc::Bank::kAcc, 0, data_, 1, axi(), axi(), axi()}, {false, true, false, false});
  expect_rejected(s, desc::Error::kBadDependency, s[0]);
}

TEST_P(CoreErrorTest, BankThatCannotBeUsedThatWay) {
  drv::Xfer x = kv_xfer(data_);
  x.bank = desc::Bank::kAcc;  // LOAD cannot write ACC
  expect_rejected(drv::make_load(x), desc::Error::kBadBank, 2);
  x.bank = desc::Bank::kWgt;  // STORE cannot read WGT
  expect_rejected(drv::make_store(x), desc::Error::kBadBank, 0);
  desc::Words w = drv::make_load(kv_xfer(data_));
  desc::kLoadBank.set(w, 9);
  expect_rejected(w, desc::Error::kBadBank, 9);
}

TEST_P(CoreErrorTest, ZeroSizes) {
  drv::Xfer x = kv_xfer(data_);
  x.rows = 0;
  expect_rejected(drv::make_load(x), desc::Error::kZeroSize, 0);
  expect_rejected(drv::make_matmul({false, 1, 0, 1, 0, 0, 0}), desc::Error::kZeroSize, 0);
}

TEST_P(CoreErrorTest, Misalignment) {
  drv::Xfer x = kv_xfer(data_ + 4);
  expect_rejected(drv::make_load(x), desc::Error::kMisaligned, data_ + 4);
  x = kv_xfer(data_);
  x.row_bytes = axi() + 1;
  expect_rejected(drv::make_store(x), desc::Error::kMisaligned, axi() + 1);
  expect_rejected(drv::make_matmul({false, 1, 1, 1, cfg().wgt_word_bytes + 1, 0, 0}), desc::Error::kMisaligned,
                  cfg().wgt_word_bytes + 1);
  expect_rejected(drv::make_complete(9, completion_ + 2, true), desc::Error::kMisaligned, completion_ + 2);
}

TEST_P(CoreErrorTest, AddressOutsideTheWindow) {
  const uint32_t end = base_ + static_cast<uint32_t>(dev_->mem_size());
  expect_rejected(drv::make_load(kv_xfer(base_ - 64 * axi())), desc::Error::kHostRange, base_ - 64 * axi());
  // Starts inside, ends past the window.
  drv::Xfer x = kv_xfer(end - 2 * axi(), 3);
  expect_rejected(drv::make_store(x), desc::Error::kHostRange, end - 2 * axi());
  expect_rejected(drv::make_complete(3, end, false), desc::Error::kHostRange, end);
}

TEST_P(CoreErrorTest, WindowEndsWithTheCoresAddressSpace) {
  // WIN_BASE + WIN_SIZE past the end of the core's address space (2^addr_bits: 2^32, or 2^18
  // on up5k): the window ends there, and a transfer that crosses it is HOST_RANGE although it
  // is inside WIN_BASE + WIN_SIZE.
  const uint64_t space = uint64_t{1} << dev_->config().addr_bits;
  dev_->write32(regs::kCtrl, 0);
  dev_->write32(regs::kWinSize, 0xFFFFFFFFu - base_);
  dev_->write32(regs::kCtrl, regs::kCtrlEnable.mask());
  ASSERT_FALSE(q_->status().halted);
  const uint32_t last = static_cast<uint32_t>(space - axi());  // its row ends one beat past
  expect_rejected(drv::make_load(kv_xfer(last, 1)), desc::Error::kHostRange, last);
  if (space < (uint64_t{1} << 32)) {
    // Wholly past it, with the address bits the core does not have set.
    const uint32_t past = static_cast<uint32_t>(space + 0x1000);
    expect_rejected(drv::make_store(kv_xfer(past, 1)), desc::Error::kHostRange, past);
    // A ring there is refused.
    dev_->write32(regs::kCtrl, 0);
    dev_->write32(regs::kRingBase, past);
    // RING_BASE keeps an address past the space as its end (ks_ctrl_regs), still refused.
    EXPECT_EQ(dev_->read32(regs::kRingBase), static_cast<uint32_t>(space));
    dev_->write32(regs::kCtrl, regs::kCtrlEnable.mask());
    EXPECT_EQ(q_->error().code(), desc::Error::kRingConfig);
    EXPECT_EQ(q_->error().info(), static_cast<uint32_t>(space));
    // So do WIN_BASE and WIN_SIZE; RING_SIZE keeps 2^17 or more as 2^17, a doorbell there is
    // out of range.
    q_->reset();
    dev_->write32(regs::kCtrl, 0);
    dev_->write32(regs::kWinBase, 0xFFFFF000u);
    EXPECT_EQ(dev_->read32(regs::kWinBase), static_cast<uint32_t>(space));
    dev_->write32(regs::kWinSize, 0x80000000u);
    EXPECT_EQ(dev_->read32(regs::kWinSize), static_cast<uint32_t>(space));
    dev_->write32(regs::kRingSize, 0x12345678u);
    EXPECT_EQ(dev_->read32(regs::kRingSize), 1u << 17);
    dev_->write32(regs::kRingTail, 0x30000u);
    EXPECT_EQ(q_->error().code(), desc::Error::kDoorbellRange);
    EXPECT_EQ(q_->error().info(), cfg().err_info_detail ? 0x30000u : 0u);
  }
  q_->reset();  // reprograms the window and a good ring
  expect_good_list_runs();
}

TEST_P(CoreErrorTest, TransferOrOperandOutsideItsBank) {
  drv::Xfer x = kv_xfer(data_);
  x.sram_addr = cfg().kv_bank_bytes - axi();
  expect_rejected(drv::make_load(x), desc::Error::kSramRange, cfg().kv_bank_bytes - axi());
  // A MATMUL whose results would not fit the ACC bank.
  const uint32_t m = cfg().acc_bank_bytes / cfg().acc_word_bytes + 1;
  expect_rejected(drv::make_matmul({false, m, 1, 1, 0, 0, 0}), desc::Error::kSramRange, 0);
}

TEST_P(CoreErrorTest, ReadBusErrorDuringLoad) {
  if (!can_inject()) GTEST_SKIP() << "no bus-error injection into a board's memory";
  const uint32_t src = alloc(8 * axi());
  inject(src + 2 * axi(), src + 3 * axi(), true, false);  // the second row's first beat
  const uint32_t seq = q_->submit_and_complete({drv::make_load(kv_xfer(src, 3))});
  try {
    q_->wait(seq);
    ADD_FAILURE() << "bus error not reported";
  } catch (const drv::QueueError& e) {
    EXPECT_EQ(e.code(), desc::Error::kReadBusError) << e.what();
    if (cfg().err_info_detail) {
      EXPECT_EQ(e.info(), src + 2 * axi()) << e.what();
    } else {  // the failing burst is known only to the hardware, which keeps no detail
      EXPECT_EQ(e.info(), 0u) << e.what();
      EXPECT_NE(std::string(e.what()).find("not known"), std::string::npos) << e.what();
    }
    EXPECT_EQ(e.index(), 0u);
  }
  clear_injected();
  q_->reset();
  expect_good_list_runs();
}

TEST_P(CoreErrorTest, WriteBusErrorDuringStoreAndCompletion) {
  if (!can_inject()) GTEST_SKIP() << "no bus-error injection into a board's memory";
  const uint32_t dst = alloc(8 * axi());
  inject(dst, dst + axi(), false, true);
  const uint32_t seq = q_->submit_and_complete({drv::make_store(kv_xfer(dst))});
  try {
    q_->wait(seq);
    ADD_FAILURE() << "bus error not reported";
  } catch (const drv::QueueError& e) {
    EXPECT_EQ(e.code(), desc::Error::kWriteBusError) << e.what();
    EXPECT_EQ(e.info(), cfg().err_info_detail ? dst : 0u) << e.what();
  }
  clear_injected();
  q_->reset();
  // The completion write itself fails.
  inject(completion_, completion_ + 4, false, true);
  try {
    q_->run({drv::make_nop()}, 200000);
    ADD_FAILURE() << "completion bus error not reported";
  } catch (const drv::QueueError& e) {
    EXPECT_EQ(e.code(), desc::Error::kWriteBusError) << e.what();
    EXPECT_EQ(e.index(), 1u);
    EXPECT_EQ(e.info(), completion_) << e.what() << " (a COMPLETE's HOST_ADDR, kept or worked out)";
  }
  clear_injected();
  q_->reset();
  expect_good_list_runs();
}

TEST_P(CoreErrorTest, BusErrorWhileFetchingADescriptor) {
  if (!can_inject()) GTEST_SKIP() << "no bus-error injection into a board's memory";
  inject(ring_ + 2 * desc::kBytes, ring_ + 3 * desc::kBytes, true, false);
  try {
    q_->run({drv::make_nop(), drv::make_nop()});
    ADD_FAILURE() << "fetch bus error not reported";
  } catch (const drv::QueueError& e) {
    EXPECT_EQ(e.code(), desc::Error::kFetchBusError) << e.what();
    EXPECT_EQ(e.index(), 2u);
    EXPECT_EQ(e.info(), ring_ + 2 * desc::kBytes);
  }
  EXPECT_EQ(q_->status().head, 2u);
  clear_injected();
  q_->resume();  // the same descriptor, fetched again, now succeeds
  q_->wait(1);
  expect_good_list_runs();
}

TEST_P(CoreErrorTest, RingWrapsAroundManyTimes) {
  for (int i = 0; i < 12; ++i) expect_good_list_runs();  // 4 descriptors each, 16-entry ring
  EXPECT_EQ(dev_->read32(regs::kCompletions), 12u);
}

TEST_P(CoreErrorTest, FullRingIsRefusedWithoutDamage) {
  std::vector<desc::Words> too_many(kRingEntries, drv::make_nop());
  const uint32_t tail0 = dev_->read32(regs::kRingTail);
  EXPECT_THROW(q_->submit(too_many), drv::QueueFull);
  EXPECT_EQ(dev_->read32(regs::kRingTail), tail0);
  // Exactly full (entries - 1 pending) is fine.
  too_many.resize(kRingEntries - 2);
  q_->run(too_many);
  expect_good_list_runs();
}

TEST_P(CoreErrorTest, DoorbellOutOfRangeHaltsAndIsIgnored) {
  const uint32_t tail0 = dev_->read32(regs::kRingTail);
  dev_->write32(regs::kRingTail, kRingEntries + 3);
  EXPECT_EQ(dev_->read32(regs::kRingTail), tail0);
  const drv::QueueError e = q_->error();
  EXPECT_EQ(e.code(), desc::Error::kDoorbellRange);
  // (A build whose ERR_INFO keeps no detail: whoever wrote RING_TAIL knows the value.)
  EXPECT_EQ(e.info(), cfg().err_info_detail ? kRingEntries + 3 : 0u) << e.what();
  EXPECT_TRUE(regs::kIrqStatusError.get(dev_->read32(regs::kIrqStatus)));
  EXPECT_TRUE(dev_->wait_irq(1)) << "the error interrupt is enabled";
  q_->reset();
  expect_good_list_runs();
}

TEST_P(CoreErrorTest, BadRingConfigurationIsRefused) {
  q_->reset();
  dev_->write32(regs::kCtrl, 0);
  dev_->write32(regs::kRingSize, 12);  // not a power of two
  dev_->write32(regs::kCtrl, regs::kCtrlEnable.mask());
  EXPECT_EQ(q_->error().code(), desc::Error::kRingConfig);
  EXPECT_EQ(q_->error().info(), 12u);
  // RING_SIZE holds 18 bits: 2^17 or more reads back as 2^17, refused all the same.
  q_->reset();
  dev_->write32(regs::kCtrl, 0);
  dev_->write32(regs::kRingSize, 0x12345678u);
  EXPECT_EQ(dev_->read32(regs::kRingSize), 1u << 17);
  dev_->write32(regs::kCtrl, regs::kCtrlEnable.mask());
  EXPECT_EQ(q_->error().code(), desc::Error::kRingConfig);
  EXPECT_EQ(q_->error().info(), 1u << 17);
  q_->reset();  // reprograms a good ring
  expect_good_list_runs();
}

// The ring index registers hold 16 bits, or addr_bits - 5 (up5k: 13): a ring of more entries
// cannot lie in the address space. A doorbell below a RING_SIZE that large is kept modulo
// 2^those bits, and the ring is refused when enabled.
TEST_P(CoreErrorTest, RingIndicesAreAsWideAsTheLargestRingTheSpaceHolds) {
  const uint32_t bits = std::min(16u, cfg().addr_bits - 5);
  q_->reset();
  dev_->write32(regs::kCtrl, 0);
  dev_->write32(regs::kRingSize, 1u << 16);
  const uint32_t tail = (1u << 16) - 3;
  dev_->write32(regs::kRingTail, tail);
  EXPECT_FALSE(q_->status().halted) << "in range of RING_SIZE";
  EXPECT_EQ(dev_->read32(regs::kRingTail), tail & ((1u << bits) - 1));
  if (bits < 16) {
    dev_->write32(regs::kCtrl, regs::kCtrlEnable.mask());
    EXPECT_EQ(q_->error().code(), desc::Error::kRingConfig) << "2^16 descriptors do not fit 2^" << cfg().addr_bits;
  }
  q_->reset();
  expect_good_list_runs();
}

TEST_P(CoreErrorTest, InterruptMasking) {
  dev_->write32(regs::kIrqEnable, 0);
  q_->submit({drv::make_complete(77, completion_, true)});
  EXPECT_FALSE(dev_->wait_irq(3000)) << "a masked interrupt must not reach the line";
  EXPECT_EQ(dev_->read32(regs::kLastSeq), 77u);
  EXPECT_TRUE(regs::kIrqStatusCompletion.get(dev_->read32(regs::kIrqStatus)));
  dev_->write32(regs::kIrqEnable, regs::kIrqEnableCompletion.mask());
  EXPECT_TRUE(dev_->wait_irq(1)) << "unmasking a pending cause raises the line";
  dev_->write32(regs::kIrqStatus, regs::kIrqStatusCompletion.mask());
  EXPECT_FALSE(dev_->wait_irq(1)) << "write-1-to-clear";
  // A completion without its IRQ flag never sets the cause.
  q_->submit({drv::make_complete(78, completion_, false)});
  EXPECT_FALSE(dev_->wait_irq(3000));
  EXPECT_EQ(dev_->read32(regs::kLastSeq), 78u);
  q_->reset();
  expect_good_list_runs();
}

TEST_P(CoreErrorTest, QueueResetInTheMiddleOfWork) {
  const uint32_t big = std::min<uint32_t>(cfg().kv_bank_bytes, 64 * axi());
  const uint32_t src = alloc(big), dst = alloc(big);
  std::vector<desc::Words> list;
  for (int i = 0; i < 6; ++i) {
    list.push_back(drv::make_load({desc::Bank::kKv, 0, src, 1, big, big, big}));
    list.push_back(drv::make_store({desc::Bank::kKv, 0, dst, 1, big, big, big}));
  }
  q_->submit(list);
  dev_->wait_irq(150);  // let it get going
  if (!is_model() && !is_serial()) {
    EXPECT_TRUE(q_->status().busy);  // the model backend runs to the end at once; over a serial link it may finish
  }
  q_->reset();
  const drv::QueueStatus st = q_->status();
  EXPECT_FALSE(st.halted);
  EXPECT_EQ(st.head, 0u);
  EXPECT_EQ(st.tail, 0u);
  expect_good_list_runs();
}

INSTANTIATE_TEST_SUITE_P(Backends, CoreErrorTest, ::testing::ValuesIn(ks::tb::all_backends()), ks::tb::config_name);

}  // namespace
