// The worked example of docs/programmers_guide.md: a host program that drives the core
// register by register, with only the Device interface and the generated headers. It runs
// on the emulated backend here; on a board, make_board_device() replaces the first line.
#include <cstdio>
#include <cstring>
#include <vector>

#include "kestrel/descriptors.h"
#include "kestrel/driver/emulated.h"
#include "kestrel/regs.h"

using namespace ks;

static int fail(const char* what) {
  std::fprintf(stderr, "guide example: %s\n", what);
  return 1;
}

int main(int argc, char** argv) {
  // 1. Open the device and check that it is a Kestrel core.
  auto dev = drv::make_emulated_device(argc > 1 ? argv[1] : "ecp5");
  if (dev->read32(regs::kId) != regs::kIdValueValue) return fail("no Kestrel core");
  const uint32_t axi = regs::kHwArrayAxiBytes.get(dev->read32(regs::kHwArray));

  // 2. Lay out device memory: the ring (16 descriptors), a completion word, data.
  const uint32_t base = static_cast<uint32_t>(dev->mem_base());
  const uint32_t ring = base, done = base + 0x400, src = base + 0x1000, dst = base + 0x2000;
  std::vector<uint8_t> data(8 * axi);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 13 + 5);
  dev->mem_write(src, data.data(), data.size());

  // 3. The DMA window, the ring, the interrupts; then enable the queue.
  dev->write32(regs::kWinBase, base);
  dev->write32(regs::kWinSize, static_cast<uint32_t>(dev->mem_size()));
  dev->write32(regs::kRingBase, ring);
  dev->write32(regs::kRingSize, 16);
  dev->write32(regs::kIrqEnable, regs::kIrqEnableCompletion.mask() | regs::kIrqEnableError.mask());
  dev->write32(regs::kCtrl, regs::kCtrlEnable.mask());

  // 4. Three descriptors: LOAD the data into the KV bank, STORE it back elsewhere (waiting
  //    for the load through a NOP fence), COMPLETE with sequence number 1.
  desc::Words load{}, nop{}, store{}, complete{};
  desc::kOpcode.set(load, static_cast<uint32_t>(desc::Opcode::kLoad));
  desc::kLoadBank.set(load, static_cast<uint32_t>(desc::Bank::kKv));
  desc::kLoadHostAddr.set(load, src);
  desc::kLoadRows.set(load, 2);
  desc::kLoadRowBytes.set(load, 4 * axi);
  desc::kLoadHostStride.set(load, 4 * axi);
  desc::kLoadSramStride.set(load, 4 * axi);
  store = load;
  desc::kOpcode.set(store, static_cast<uint32_t>(desc::Opcode::kStore));
  desc::kStoreHostAddr.set(store, dst);
  desc::kOpcode.set(nop, static_cast<uint32_t>(desc::Opcode::kNop));
  desc::kOpcode.set(complete, static_cast<uint32_t>(desc::Opcode::kComplete));
  desc::kCompleteSeq.set(complete, 1);
  desc::kCompleteIrq.set(complete, 1);
  desc::kCompleteHostAddr.set(complete, done);
  const desc::Words list[] = {load, nop, store, complete};
  for (uint32_t i = 0; i < 4; ++i) dev->mem_write(ring + i * desc::kBytes, list[i].data(), desc::kBytes);

  // 5. The doorbell: RING_TAIL is one past the last descriptor.
  dev->write32(regs::kRingTail, 4);

  // 6. Wait for the interrupt, find out why it came, acknowledge it.
  if (!dev->wait_irq(1000000)) return fail("no interrupt");
  const uint32_t cause = dev->read32(regs::kIrqStatus);
  if (regs::kIrqStatusError.get(cause)) return fail("the queue halted");
  dev->write32(regs::kIrqStatus, cause);

  // 7. The completion word and the data.
  uint32_t seq = 0;
  dev->mem_read(done, &seq, sizeof seq);
  std::vector<uint8_t> back(data.size());
  dev->mem_read(dst, back.data(), back.size());
  if (seq != 1 || dev->read32(regs::kLastSeq) != 1 || back != data) return fail("wrong results");

  // 8. An error on purpose: a LOAD from below the window. The queue halts on it and says
  //    what and where; RING_HEAD stays on it.
  desc::kLoadHostAddr.set(load, base - 4096);
  dev->mem_write(ring + 4 * desc::kBytes, load.data(), desc::kBytes);
  dev->write32(regs::kRingTail, 5);
  if (!dev->wait_irq(1000000)) return fail("no error interrupt");
  if (!regs::kIrqStatusError.get(dev->read32(regs::kIrqStatus))) return fail("no error cause");
  const auto code = static_cast<desc::Error>(dev->read32(regs::kErrCode));
  const uint32_t index = dev->read32(regs::kErrIndex);
  const uint32_t info = dev->read32(regs::kErrInfo);
  std::printf("halted as expected: %s at descriptor %u (0x%x): %s\n", desc::name(code).data(), index, info,
              desc::describe(code).data());
  if (code != desc::Error::kHostRange || index != 4 || dev->read32(regs::kRingHead) != 4) {
    return fail("unexpected error report");
  }

  // 9. Recover: fix the descriptor in the ring (a NOP here), then resume by setting ENABLE.
  dev->mem_write(ring + 4 * desc::kBytes, nop.data(), desc::kBytes);
  dev->write32(regs::kIrqStatus, 0xFFFFFFFF);
  dev->write32(regs::kCtrl, regs::kCtrlEnable.mask());
  for (int i = 0; i < 100 && dev->read32(regs::kRingHead) != 5; ++i) dev->wait_irq(100);
  if (dev->read32(regs::kRingHead) != 5 || regs::kStatusHalted.get(dev->read32(regs::kStatus))) {
    return fail("did not resume");
  }

  // 10. The performance counters: 64-bit, low word first (reading it latches the high word).
  const uint32_t lo = dev->read32(regs::counter_lo(regs::Counter::kBytesRead));
  const uint32_t hi = dev->read32(regs::counter_lo(regs::Counter::kBytesRead) + 4);
  std::printf("bytes read by the core so far: %llu\nguide example: ok\n",
              static_cast<unsigned long long>((static_cast<uint64_t>(hi) << 32) | lo));
  return 0;
}
