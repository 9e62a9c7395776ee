// The on-chip decode (DECODE + the compiled step program) against QuantModel::forward, bit for
// bit, on the golden-model backend and -- where built -- the Verilated core: whole greedy
// decodes of stories260K (INT8 and INT4) and of small random models of other shapes. Built
// with KS_SERIAL_BACKEND (test_decode_serial), the same through the serial backend on the
// simulated ULX3S: the core on its board, its device memory the SDRAM under the SDRAM model;
// there the small models only (stories260K's image takes a few minutes through the
// simulated UART).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "kestrel/driver/emulated.h"
#include "kestrel/driver/model.h"
#include "kestrel/llm/model.h"
#include "kestrel/runtime/decode_program.h"
#include "kestrel/runtime/quant.h"
#include "test_seed.h"
#ifdef KS_SERIAL_BACKEND
#include "board_sim.h"
#include "kestrel/driver/serial.h"
#endif

namespace {

using ks::golden::Precision;
using ks::rt::DecodeProgram;
using ks::rt::OnChipDecoder;
using ks::rt::QuantModel;
using ks::rt::QuantOptions;

constexpr uint64_t kMemBase = 0x10000000;
constexpr size_t kMemSize = 8u << 20;

std::unique_ptr<ks::drv::Device> make_device(const std::string& backend) {
  if (backend == "model") {
    ks::drv::ModelOptions o;
    o.mem_base = kMemBase;
    o.mem_size = kMemSize;
    return ks::drv::make_model_device("ecp5", o);
  }
  ks::drv::EmulatedOptions o;
  o.mem_base = kMemBase;
  o.mem_size = kMemSize;
  return ks::drv::make_emulated_device("ecp5", o);
}

/// Greedy tokens from QuantModel: prompt forced, then argmax, `steps` positions.
std::vector<int> reference_tokens(QuantModel& qm, const std::vector<int>& prompt, int steps) {
  std::vector<int> out;
  int token = prompt[0];
  for (int pos = 0; pos < steps; ++pos) {
    const std::vector<ks::golden::kfp::Bits>& logits = qm.forward(token, pos);
    const int next = pos + 1 < static_cast<int>(prompt.size()) ? prompt[pos + 1] : QuantModel::argmax(logits);
    out.push_back(next);
    token = next;
  }
  return out;
}

/// A random llama2.c-shaped model (weights ~ N(0, 1/sqrt(in)), norm weights near 1).
ks::llm::Model random_model(const ks::llm::ModelConfig& c, uint32_t seed) {
  std::mt19937 rng(seed);
  ks::llm::Model m;
  m.source = "random";
  m.config = c;
  auto fill = [&](std::vector<float>& v, size_t n, float scale) {
    std::normal_distribution<float> d(0.0f, scale);
    v.resize(n);
    for (float& f : v) f = d(rng);
  };
  auto fill_norm = [&](std::vector<float>& v, size_t n) {
    std::uniform_real_distribution<float> d(0.5f, 1.5f);
    v.resize(n);
    for (float& f : v) f = d(rng);
  };
  const size_t dim = c.dim, kv = c.kv_dim(), hid = c.hidden_dim, nl = c.n_layers, voc = c.vocab_size;
  ks::llm::ModelWeights& w = m.weights;
  fill(w.token_embedding, voc * dim, 1.0f);
  fill_norm(w.rms_att, nl * dim);
  fill(w.wq, nl * dim * dim, 1.0f / std::sqrt(float(dim)));
  fill(w.wk, nl * kv * dim, 1.0f / std::sqrt(float(dim)));
  fill(w.wv, nl * kv * dim, 1.0f / std::sqrt(float(dim)));
  fill(w.wo, nl * dim * dim, 1.0f / std::sqrt(float(dim)));
  fill_norm(w.rms_ffn, nl * dim);
  fill(w.w1, nl * hid * dim, 1.0f / std::sqrt(float(dim)));
  fill(w.w2, nl * dim * hid, 1.0f / std::sqrt(float(hid)));
  fill(w.w3, nl * hid * dim, 1.0f / std::sqrt(float(dim)));
  fill_norm(w.rms_final, dim);
  if (!c.shared_classifier) fill(w.classifier, voc * dim, 1.0f / std::sqrt(float(dim)));
  return m;
}

struct Case {
  std::string backend;
  std::string name;
};

class DecodeTest : public ::testing::TestWithParam<std::string> {
 protected:
  bool is_serial() const { return GetParam() == "serial"; }
  /// The device of the test's backend; "serial": a simulated ULX3S behind the serial backend.
  std::unique_ptr<ks::drv::Device> device() {
#ifdef KS_SERIAL_BACKEND
    if (is_serial()) {
      sim_ = ks::tb::make_board_sim("ecp5");
      return ks::drv::make_serial_device("ecp5", sim_->path());
    }
#endif
    return make_device(GetParam());
  }
#ifdef KS_SERIAL_BACKEND
  void TearDown() override {
    if (!sim_) return;
    std::printf("  simulated board: %.1f M cycles\n", static_cast<double>(sim_->cycles()) / 1e6);
    const auto m = sim_->memory_violations();
    EXPECT_TRUE(m.empty()) << m.size() << " SDRAM rule violations on the simulated board, first: " << m.front();
  }
  std::unique_ptr<ks::tb::BoardSim> sim_;  // outlives the device that talks to it
#endif

  /// Runs `steps` greedy positions on the device and on QuantModel; the streams must agree.
  void check(const ks::llm::Model& model, const QuantOptions& qo, const std::vector<int>& prompt, int steps,
             ks::rt::Placement placement = ks::rt::Placement::kAuto) {
    QuantModel qm(model, qo);
    const std::vector<int> want = reference_tokens(qm, prompt, steps);
    auto dev = device();
    ks::rt::DecodeBuildOptions bo;
    bo.placement = placement;
    bo.seq_len = static_cast<uint32_t>(std::min(steps + 4, model.config.seq_len));
    DecodeProgram prog(qm, dev->config(), dev->mem_base(), dev->mem_size() - 65536, bo);
    OnChipDecoder dec(*dev, prog);
    const std::vector<ks::drv::StreamToken> got = dec.generate(prompt, steps, -1);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(static_cast<int>(got[i].token), want[i]) << "position " << i;
      EXPECT_EQ(got[i].forced, i + 1 < prompt.size()) << "position " << i;
      EXPECT_EQ(got[i].last, i + 1 == got.size()) << "position " << i;
    }
    EXPECT_EQ(dec.stats().reason, 1u);  // STEPS
  }
};

TEST_P(DecodeTest, Stories260KInt8GreedyEqualsQuantModel) {
  if (is_serial()) GTEST_SKIP() << "stories260K's image (about 1 MB) takes minutes through the simulated UART";
  const ks::llm::Model model = ks::llm::load_model(std::string(KS_MODELS_DIR) + "/stories260K.bin");
  check(model, QuantOptions{}, {1}, 40);
}

TEST_P(DecodeTest, Stories260KInt4GreedyEqualsQuantModel) {
  if (is_serial()) GTEST_SKIP() << "stories260K's image (about 1 MB) takes minutes through the simulated UART";
  const ks::llm::Model model = ks::llm::load_model(std::string(KS_MODELS_DIR) + "/stories260K.bin");
  check(model, QuantOptions::preset(Precision::kInt4), {1, 403, 407}, 36);  // a short prompt forced first
}

ks::llm::ModelConfig shape(int dim, int hidden, int layers, int heads, int kv_heads, int vocab, bool shared) {
  ks::llm::ModelConfig c;
  c.dim = dim;
  c.hidden_dim = hidden;
  c.n_layers = layers;
  c.n_heads = heads;
  c.n_kv_heads = kv_heads;
  c.vocab_size = vocab;
  c.seq_len = 64;
  c.shared_classifier = shared;
  return c;
}

// Head size 8 (the vector lanes); dimensions that are not multiples of the array (8 x 16) or
// of the group (32): 40 = 5 heads, hidden 100 (groups of 32, 32, 32, 4).
TEST_P(DecodeTest, RandomModelAsManyKvHeadsAsHeads) {
  check(random_model(shape(40, 100, 2, 5, 5, 300, true), static_cast<uint32_t>(ks::tb::base_seed() * 1000 + 11)), QuantOptions{}, {7, 3}, 33);
}

TEST_P(DecodeTest, RandomModelOneKvHeadSeparateClassifierInt4) {
  const QuantOptions qo = QuantOptions::preset(Precision::kInt4);
  check(random_model(shape(48, 72, 2, 6, 1, 97, false), static_cast<uint32_t>(ks::tb::base_seed() * 1000 + 12)), qo, {5}, 32);
}

// The INT4 recipe (GPTQ calibrated on the random model's own text) with mixed precision per
// product -- attention INT8 everywhere, one layer's w2 INT8 -- and weights streamed.
TEST_P(DecodeTest, RandomModelInt4MixedPrecisionStreamed) {
  QuantOptions qo = QuantOptions::preset(Precision::kInt4);
  qo.int8_tensors = {"qkv", "1.w2"};
  check(random_model(shape(40, 100, 2, 5, 5, 300, true), static_cast<uint32_t>(ks::tb::base_seed() * 1000 + 14)), qo, {7, 3}, 33,
        ks::rt::Placement::kStreamed);
}

TEST_P(DecodeTest, RandomModelStreamedWeights) {
  check(random_model(shape(64, 176, 1, 8, 2, 130, true), static_cast<uint32_t>(ks::tb::base_seed() * 1000 + 13)), QuantOptions{}, {1, 2, 3, 4}, 33,
        ks::rt::Placement::kStreamed);
}

// A prompt longer than the steps: every token out is a forced prompt token, the last with
// tlast (STEPS); an empty prompt and a token outside the vocabulary are refused.
TEST_P(DecodeTest, PromptLongerThanTheStepsAndBadPrompts) {
  if (is_serial()) GTEST_SKIP() << "stories260K's image (about 1 MB) takes minutes through the simulated UART";
  const ks::llm::Model model = ks::llm::load_model(std::string(KS_MODELS_DIR) + "/stories260K.bin");
  QuantModel qm(model, QuantOptions{});
  auto dev = device();
  ks::rt::DecodeBuildOptions bo;
  bo.seq_len = 16;
  DecodeProgram prog(qm, dev->config(), dev->mem_base(), dev->mem_size() - 65536, bo);
  OnChipDecoder dec(*dev, prog);
  const std::vector<int> prompt{1, 403, 407, 261, 378, 432, 383, 286, 261};
  const std::vector<ks::drv::StreamToken> got = dec.generate(prompt, 5, -1);
  ASSERT_EQ(got.size(), 5u);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(static_cast<int>(got[i].token), prompt[i + 1]) << "position " << i;
    EXPECT_TRUE(got[i].forced) << "position " << i;
    EXPECT_EQ(got[i].last, i + 1 == got.size()) << "position " << i;
  }
  EXPECT_EQ(dec.stats().reason, 1u);  // STEPS
  EXPECT_THROW(dec.generate({}, 5, -1), std::invalid_argument);
  EXPECT_THROW(dec.generate({1, 512}, 5, -1), std::invalid_argument);
  EXPECT_THROW(dec.generate(std::vector<int>(18, 1), 17, -1), std::invalid_argument);  // 17 positions > 16
  // The decoder still works after the refusals.
  EXPECT_EQ(dec.generate({1, 403}, 2, -1).size(), 2u);
}

#ifndef KS_SERIAL_BACKEND
// A configuration without the vector unit (up5k): the decode compiler and the on-chip decoder
// say so instead of failing later on the device (its DECODE and VEC are UNSUPPORTED).
TEST(DecodeWithoutVectorUnit, CompilerAndDecoderSaySo) {
  const ks::hw::HwConfig* up5k = ks::hw::find_config("up5k");
  ASSERT_NE(up5k, nullptr);
  ASSERT_EQ(up5k->vector_unit, 0u);
  const ks::llm::Model model = ks::llm::load_model(std::string(KS_MODELS_DIR) + "/stories260K.bin");
  QuantModel qm(model, QuantOptions{});
  try {
    DecodeProgram prog(qm, *up5k, kMemBase, kMemSize - 65536, ks::rt::DecodeBuildOptions{});
    ADD_FAILURE() << "compiled a step program for a core without the vector unit";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'up5k' has no vector unit"), std::string::npos) << e.what();
  }
  // A program compiled for ecp5, run on an up5k device.
  ks::drv::ModelOptions o;
  o.mem_base = kMemBase;
  o.mem_size = kMemSize;
  auto dev = ks::drv::make_model_device("up5k", o);
  DecodeProgram prog(qm, ks::hw::kEcp5, kMemBase, kMemSize - 65536, ks::rt::DecodeBuildOptions{});
  try {
    OnChipDecoder dec(*dev, prog);
    ADD_FAILURE() << "an on-chip decoder on a core without the vector unit";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'up5k' has no vector unit"), std::string::npos) << e.what();
  }
}

#endif

#ifdef KS_SERIAL_BACKEND
INSTANTIATE_TEST_SUITE_P(Backends, DecodeTest, ::testing::Values("serial"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });
#else
INSTANTIATE_TEST_SUITE_P(Backends, DecodeTest, ::testing::Values("model", "emulated"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });
#endif

}  // namespace
