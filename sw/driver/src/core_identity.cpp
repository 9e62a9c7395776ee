// The identity check shared by the hardware backends (board, serial).
#include "core_identity.h"

#include <array>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "kestrel/regs.h"

namespace ks::drv::detail {

namespace {
std::string hex8(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}
}  // namespace

void check_core_identity(Device& dev, const hw::HwConfig& cfg, const std::string& where) {
  const uint32_t id = dev.read32(regs::kId);
  if (id != regs::kIdValueValue) {
    throw std::runtime_error(where + ": no Kestrel core there: ID reads " + hex8(id) + ", expected " +
                             hex8(regs::kIdValueValue) +
                             " ('KSTR'). Wrong device, bitstream not loaded, or the core at another address");
  }
  const uint32_t version = dev.read32(regs::kVersion);
  if (regs::kVersionMajor.get(version) != regs::kVersionMajorValue) {
    throw std::runtime_error(where + ": register-map version " + std::to_string(regs::kVersionMajor.get(version)) +
                             "." + std::to_string(regs::kVersionMinor.get(version)) +
                             ", this driver speaks major version " + std::to_string(regs::kVersionMajorValue));
  }
  const uint32_t array = dev.read32(regs::kHwArray);
  const std::array<uint32_t, 10> got = {regs::kHwArrayRows.get(array),
                                        regs::kHwArrayCols.get(array),
                                        regs::kHwArrayAxiBytes.get(array),
                                        regs::kHwArrayAccDepthLog2.get(array),
                                        dev.read32(regs::kHwWgtBytes),
                                        dev.read32(regs::kHwActBytes),
                                        dev.read32(regs::kHwAccBytes),
                                        dev.read32(regs::kHwKvBytes),
                                        regs::kHwVecLanes.get(dev.read32(regs::kHwVec)),
                                        regs::kHwPerfCounterBits.get(dev.read32(regs::kHwPerf))};
  static constexpr const char* kNames[] = {
      "HW_ARRAY.ROWS", "HW_ARRAY.COLS", "HW_ARRAY.AXI_BYTES", "HW_ARRAY.ACC_DEPTH_LOG2", "HW_WGT_BYTES",
      "HW_ACT_BYTES",  "HW_ACC_BYTES",  "HW_KV_BYTES",        "HW_VEC.LANES",            "HW_PERF.COUNTER_BITS"};
  auto expected = [](const hw::HwConfig& c) {
    return std::array<uint32_t, 10>{c.array_rows,     c.array_cols,     c.axi_data_bytes, c.acc_addr_bits,
                                    c.wgt_bank_bytes, c.act_bank_bytes, c.acc_bank_bytes, c.kv_bank_bytes,
                                    c.vec_lanes,      c.perf_counter_bits};
  };
  const std::array<uint32_t, 10> want = expected(cfg);
  if (got == want) return;
  std::string diff;
  for (size_t i = 0; i < want.size(); ++i) {
    if (got[i] != want[i]) {
      diff += std::string(diff.empty() ? "" : ", ") + kNames[i] + " " + std::to_string(got[i]) + " (expected " +
              std::to_string(want[i]) + ")";
    }
  }
  std::string hint = "; the registers match no known configuration";
  for (const hw::HwConfig& c : hw::kConfigs) {
    if (expected(c) == got) hint = "; the registers match configuration '" + std::string(c.name) + "'";
  }
  throw std::runtime_error(where + ": the core is not configuration '" + std::string(cfg.name) +
                           "' (wrong bitstream?): " + diff + hint);
}

}  // namespace ks::drv::detail
