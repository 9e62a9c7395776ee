// Reproducible randomness for tests: every test derives its seed from KS_SEED (default 1)
// and its own name, and reports both on failure so the exact run can be repeated with
//   KS_SEED=<seed> ctest -R <test>   or   <binary> --gtest_filter=<test>
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <string>

namespace ks::tb {

inline uint64_t base_seed() {
  const char* s = std::getenv("KS_SEED");
  return s ? std::strtoull(s, nullptr, 0) : 1;
}

inline uint64_t test_seed() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string name = std::string(info->test_suite_name()) + "." + info->name();
  return base_seed() ^ std::hash<std::string>{}(name);
}

inline std::string seed_note(uint64_t seed) {
  return "seed " + std::to_string(seed) + " (reproduce with KS_SEED=" + std::to_string(base_seed()) +
         " and the same test filter)";
}

}  // namespace ks::tb
