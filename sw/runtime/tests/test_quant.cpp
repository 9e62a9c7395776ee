// The weight quantizers (round-to-nearest, GPTQ), the calibration pass, QuantModel's recipes
// and the accuracy of the default INT8 and INT4 recipes on stories260K.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "kestrel/llm/model.h"
#include "kestrel/runtime/accuracy.h"
#include "kestrel/runtime/calibrate.h"
#include "kestrel/runtime/quant.h"

namespace {

using ks::rt::InputMoments;
using ks::rt::Precision;
using ks::rt::QMatrix;
using ks::rt::QuantModel;
using ks::rt::QuantOptions;
namespace kfp = ks::golden::kfp;

const ks::llm::Model& stories() {
  static const ks::llm::Model m = ks::llm::load_model(std::string(KS_MODELS_DIR) + "/stories260K.bin");
  return m;
}

std::vector<float> gaussian(size_t n, float sigma, std::mt19937& rng) {
  std::normal_distribution<float> d(0.0f, sigma);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

/// Moments of `count` inputs x = A z (z standard normal, A random k x k with a few strong
/// directions), so the inputs are strongly correlated.
InputMoments correlated_moments(int k, int count, std::mt19937& rng) {
  std::vector<float> a = gaussian(static_cast<size_t>(k) * k, 1.0f / std::sqrt(static_cast<float>(k)), rng);
  for (int i = 0; i < k; ++i) a[static_cast<size_t>(i) * k + (i % 4)] += 2.0f;  // shared directions
  InputMoments m(k);
  std::vector<float> x(k);
  for (int t = 0; t < count; ++t) {
    const std::vector<float> z = gaussian(k, 1.0f, rng);
    for (int i = 0; i < k; ++i) {
      float s = 0;
      for (int j = 0; j < k; ++j) s += a[static_cast<size_t>(i) * k + j] * z[j];
      x[i] = s;
    }
    m.add(x.data());
  }
  return m;
}

InputMoments identity_moments(int k) {
  InputMoments m(k);
  for (int i = 0; i < k; ++i) m.h[static_cast<size_t>(i) * k + i] = 1.0;
  m.count = 1;
  return m;
}

TEST(Gptq, CodesInRangeWithAPartialLastGroup) {
  std::mt19937 rng(1);
  const int n = 12, k = 172;  // 172 = 5 x 32 + 12
  const std::vector<float> w = gaussian(static_cast<size_t>(n) * k, 0.1f, rng);
  const InputMoments h = correlated_moments(k, 400, rng);
  for (Precision p : {Precision::kInt4, Precision::kInt8}) {
    const QMatrix m = ks::rt::quantize_gptq(w.data(), n, k, 32, p, h, ks::rt::GptqOptions{});
    ASSERT_EQ(m.groups(), 6);
    ASSERT_EQ(m.scales.size(), static_cast<size_t>(n) * 6);
    const int lo = p == Precision::kInt4 ? -8 : -127, hi = p == Precision::kInt4 ? 7 : 127;
    int extremes = 0;
    for (int r = 0; r < n; ++r) {
      for (int c = 0; c < k; ++c) {
        ASSERT_GE(m.value(r, c), lo);
        ASSERT_LE(m.value(r, c), hi);
        extremes += m.value(r, c) == lo || m.value(r, c) == hi;
      }
    }
    EXPECT_GT(extremes, 0);  // the range is used, not just its middle
    // The partial group is quantized too: its dequantized weights follow the float ones.
    const std::vector<float> d = ks::rt::dequantize(m);
    double err = 0, sig = 0;
    for (int r = 0; r < n; ++r) {
      for (int c = 160; c < k; ++c) {
        const size_t i = static_cast<size_t>(r) * k + c;
        err += (d[i] - w[i]) * (d[i] - w[i]);
        sig += w[i] * w[i];
      }
    }
    EXPECT_LT(err, (p == Precision::kInt4 ? 0.1 : 0.001) * sig);
  }
}

TEST(Gptq, AllZeroGroupsGiveZeroCodesAndScales) {
  std::mt19937 rng(2);
  const int n = 6, k = 80;  // groups 32, 32, 16
  std::vector<float> w = gaussian(static_cast<size_t>(n) * k, 0.5f, rng);
  for (int c = 32; c < 64; ++c) w[static_cast<size_t>(1) * k + c] = 0.0f;  // row 1, group 1
  for (int c = 0; c < k; ++c) w[static_cast<size_t>(4) * k + c] = 0.0f;   // row 4 entirely
  const InputMoments h = correlated_moments(k, 300, rng);
  for (Precision p : {Precision::kInt4, Precision::kInt8}) {
    const QMatrix m = ks::rt::quantize_gptq(w.data(), n, k, 32, p, h, ks::rt::GptqOptions{});
    for (int c = 0; c < k; ++c) EXPECT_EQ(m.value(4, c), 0) << c;
    for (int g = 0; g < 3; ++g) EXPECT_EQ(m.scales[static_cast<size_t>(4) * 3 + g], 0u);
    // Row 1's zero group may take over errors of group 0 (that is the compensation), but its
    // values stay finite and in range; the other groups have scales.
    for (int c = 32; c < 64; ++c) EXPECT_TRUE(std::isfinite(ks::rt::dequantize(m)[static_cast<size_t>(1) * k + c]));
    EXPECT_NE(m.scales[static_cast<size_t>(1) * 3 + 0], 0u);
    EXPECT_NE(m.scales[static_cast<size_t>(1) * 3 + 2], 0u);
  }
  // With the identity as moments nothing is pushed between columns: zero stays zero.
  const QMatrix m = ks::rt::quantize_gptq(w.data(), n, k, 32, Precision::kInt4, identity_moments(k), ks::rt::GptqOptions{});
  for (int c = 32; c < 64; ++c) EXPECT_EQ(m.value(1, c), 0);
  EXPECT_EQ(m.scales[static_cast<size_t>(1) * 3 + 1], 0u);
}

TEST(Gptq, IsDeterministic) {
  std::mt19937 rng(3);
  const int n = 20, k = 64;
  const std::vector<float> w = gaussian(static_cast<size_t>(n) * k, 0.2f, rng);
  const InputMoments h = correlated_moments(k, 200, rng);
  const QMatrix a = ks::rt::quantize_gptq(w.data(), n, k, 32, Precision::kInt4, h, ks::rt::GptqOptions{});
  const QMatrix b = ks::rt::quantize_gptq(w.data(), n, k, 32, Precision::kInt4, h, ks::rt::GptqOptions{});
  EXPECT_EQ(a.q, b.q);
  EXPECT_EQ(a.scales, b.scales);
  // One set of moments per row, all the same, is the same quantization.
  const QMatrix c = ks::rt::quantize_gptq(w.data(), n, k, 32, Precision::kInt4, std::vector<InputMoments>(n, h),
                                          ks::rt::GptqOptions{});
  EXPECT_EQ(a.q, c.q);
  EXPECT_EQ(a.scales, c.scales);
}

// The point of GPTQ: with correlated inputs, pushing each rounding error onto the columns
// still to come cuts the output error well below rounding each weight to nearest.
TEST(Gptq, OutputErrorBelowRoundToNearestOnCorrelatedInputs) {
  std::mt19937 rng(4);
  for (int k : {64, 172}) {
    const int n = 48;
    const std::vector<float> w = gaussian(static_cast<size_t>(n) * k, 0.1f, rng);
    const InputMoments h = correlated_moments(k, 1000, rng);
    for (Precision p : {Precision::kInt4, Precision::kInt8}) {
      const double nearest = ks::rt::output_error(w.data(), ks::rt::quantize(w.data(), n, k, 32, p, ks::rt::ScaleSearch::kMaxAbs), h);
      const double mse = ks::rt::output_error(w.data(), ks::rt::quantize(w.data(), n, k, 32, p, ks::rt::ScaleSearch::kMse), h);
      const double gptq = ks::rt::output_error(w.data(), ks::rt::quantize_gptq(w.data(), n, k, 32, p, h, ks::rt::GptqOptions{}), h);
      EXPECT_LT(gptq, 0.8 * std::min(nearest, mse)) << "k " << k << (p == Precision::kInt4 ? " int4" : " int8");
    }
  }
}

TEST(Gptq, NegativeScalesPutTheLongSideOnTheLargestWeight) {
  // One large positive weight, the rest small: code -8 on it (a negative scale) gives a
  // step of max/8 instead of max/7.
  const int k = 32;
  std::vector<float> w(k);
  for (int c = 0; c < k; ++c) w[c] = 0.05f * static_cast<float>((c * 7) % 11 - 5);
  w[9] = 1.0f;
  ks::rt::GptqOptions o;
  const QMatrix neg = ks::rt::quantize_gptq(w.data(), 1, k, 32, Precision::kInt4, identity_moments(k), o);
  EXPECT_LT(kfp::to_float(neg.scales[0]), 0.0f);
  EXPECT_EQ(neg.value(0, 9), -8);
  o.negative_scales = false;
  const QMatrix pos = ks::rt::quantize_gptq(w.data(), 1, k, 32, Precision::kInt4, identity_moments(k), o);
  EXPECT_GT(kfp::to_float(pos.scales[0]), 0.0f);
  EXPECT_LT(ks::rt::output_error(w.data(), neg, identity_moments(k)), ks::rt::output_error(w.data(), pos, identity_moments(k)));
  // INT8's range is symmetric: never a negative scale.
  const QMatrix i8 = ks::rt::quantize_gptq(w.data(), 1, k, 32, Precision::kInt8, identity_moments(k), ks::rt::GptqOptions{});
  EXPECT_GT(kfp::to_float(i8.scales[0]), 0.0f);
}

TEST(Gptq, RefusesBadArguments) {
  const std::vector<float> w(64, 0.5f);
  EXPECT_THROW(ks::rt::quantize_gptq(w.data(), 2, 32, 32, Precision::kInt4, InputMoments(16), ks::rt::GptqOptions{}),
               std::invalid_argument);
  EXPECT_THROW(ks::rt::quantize_gptq(w.data(), 0, 32, 32, Precision::kInt4, InputMoments(32), ks::rt::GptqOptions{}),
               std::invalid_argument);
  EXPECT_THROW(ks::rt::quantize_gptq(w.data(), 2, 32, 32, Precision::kInt4, std::vector<InputMoments>(1, InputMoments(32)),
                                     ks::rt::GptqOptions{}),
               std::invalid_argument);
}

TEST(Calibration, TextsAreTheModelsOwnDeterministicStoriesNotTheEvaluationText) {
  const ks::llm::Model& m = stories();
  ks::rt::CalibrationOptions o;
  o.sequences = 3;
  o.steps = 128;
  const auto a = ks::rt::calibration_texts(m, o);
  const auto b = ks::rt::calibration_texts(m, o);
  EXPECT_EQ(a, b);
  ASSERT_EQ(a.size(), 3u);
  // The evaluation text of make accuracy: the float model's greedy story from BOS. The
  // sampled stories may open like it (the model's stock phrases) but are other text: few of
  // their 8-token sequences occur in it.
  const std::vector<int> greedy = ks::rt::float_greedy_text(m, {}, 256);
  std::set<std::vector<int>> grams;
  for (size_t i = 0; i + 8 <= greedy.size(); ++i) grams.insert(std::vector<int>(greedy.begin() + i, greedy.begin() + i + 8));
  size_t shared = 0, total = 0;
  for (const std::vector<int>& t : a) {
    ASSERT_GE(t.size(), 2u);
    EXPECT_LE(t.size(), 128u);
    EXPECT_EQ(t[0], 1);
    for (int tok : t) {
      EXPECT_GE(tok, 0);
      EXPECT_LT(tok, m.config.vocab_size);
    }
    for (size_t i = 0; i + 8 <= t.size(); ++i) {
      ++total;
      shared += grams.count(std::vector<int>(t.begin() + i, t.begin() + i + 8));
    }
  }
  EXPECT_LT(shared * 10, total);
  EXPECT_NE(a[0], a[1]);
  o.seed = 77;
  EXPECT_NE(ks::rt::calibration_texts(m, o)[0], a[0]);
}

// The layer-wise pass calls the quantizer for every matrix in the model's order with the
// right shapes; when nothing is quantized (activations left alone, the quantizer returns
// what it gets), the float-output targets are the float weights themselves.
TEST(Calibration, LayerwisePassVisitsEveryMatrixAndFitsTheFloatOutputs) {
  const ks::llm::Model& m = stories();
  const ks::llm::ModelConfig& c = m.config;
  ks::rt::CalibrationOptions co;
  co.sequences = 2;
  co.steps = 48;
  const auto texts = ks::rt::calibration_texts(m, co);
  size_t rows = 0;
  for (const auto& t : texts) rows += t.size();
  ks::rt::LayerwiseOptions lo;
  lo.quantize_activations = false;
  using T = ks::rt::Tensor;
  std::vector<std::pair<T, int>> seen;
  double worst = 0;
  ks::rt::quantize_layerwise(
      m, m.weights.token_embedding, texts, lo,
      [&](T t, int layer, const float* w, int n, int k, const InputMoments& h, const std::vector<InputMoments>* per_row) {
        seen.emplace_back(t, layer);
        const int dim = c.dim, kv = c.kv_dim(), hid = c.hidden_dim;
        const std::vector<float>* src = nullptr;
        int want_n = dim, want_k = dim;
        switch (t) {
          case T::kWq: src = &m.weights.wq; break;
          case T::kWk: src = &m.weights.wk; want_n = kv; break;
          case T::kWv: src = &m.weights.wv; want_n = kv; break;
          case T::kWo: src = &m.weights.wo; break;
          case T::kW1: src = &m.weights.w1; want_n = hid; break;
          case T::kW3: src = &m.weights.w3; want_n = hid; break;
          case T::kW2: src = &m.weights.w2; want_k = hid; break;
          case T::kClassifier: want_n = c.vocab_size; break;
        }
        EXPECT_EQ(n, want_n);
        EXPECT_EQ(k, want_k);
        EXPECT_EQ(h.k, k);
        EXPECT_EQ(h.count, static_cast<long>(rows));
        EXPECT_EQ(per_row != nullptr, t == T::kClassifier);
        const float* f = src ? &(*src)[static_cast<size_t>(layer) * n * k] : m.weights.wcls();
        for (size_t i = 0; i < static_cast<size_t>(n) * k; ++i) {
          worst = std::max(worst, static_cast<double>(std::fabs(w[i] - f[i])) / (std::fabs(f[i]) + 0.05));
        }
        return std::vector<float>(w, w + static_cast<size_t>(n) * k);
      });
  ASSERT_EQ(seen.size(), static_cast<size_t>(7 * c.n_layers + 1));
  const T order[] = {T::kWq, T::kWk, T::kWv, T::kWo, T::kW1, T::kW3, T::kW2};
  for (int l = 0; l < c.n_layers; ++l) {
    for (int i = 0; i < 7; ++i) EXPECT_EQ(seen[static_cast<size_t>(7 * l + i)], std::make_pair(order[i], l));
  }
  EXPECT_EQ(seen.back(), std::make_pair(T::kClassifier, c.n_layers));
  EXPECT_LT(worst, 2e-3);
}

TEST(QuantModelRecipes, Int4PresetQuantizesEverythingToInt4AndKeepsTheFloatEmbedding) {
  const ks::llm::Model& m = stories();
  const QuantOptions o = QuantOptions::preset(Precision::kInt4);
  EXPECT_EQ(o.rounding, ks::rt::Rounding::kGptq);
  const QuantModel qm(m, o);
  using M = QuantModel::Mat;
  for (int l = 0; l < m.config.n_layers; ++l) {
    for (M mat : {M::kWq, M::kWk, M::kWv, M::kWo, M::kW1, M::kW2, M::kW3}) EXPECT_EQ(qm.matrix(l, mat).p, Precision::kInt4);
  }
  EXPECT_EQ(qm.classifier().p, Precision::kInt4);
  ASSERT_EQ(qm.embedding().size(), m.weights.token_embedding.size());
  for (size_t i = 0; i < qm.embedding().size(); ++i) {
    ASSERT_EQ(qm.embedding()[i], kfp::from_float(m.weights.token_embedding[i])) << i;
  }
  // The INT8 preset is the default options; its embedding is the classifier's rows.
  const QuantModel q8(m, QuantOptions::preset(Precision::kInt8));
  const QMatrix& cls = q8.classifier();
  for (int t : {0, 1, 300, 511}) {
    for (int i = 0; i < m.config.dim; ++i) {
      ASSERT_EQ(q8.embedding()[static_cast<size_t>(t) * m.config.dim + i],
                kfp::mul(kfp::from_int(cls.value(t, i)), cls.scales[static_cast<size_t>(t) * cls.groups() + i / cls.group]));
    }
  }
}

TEST(QuantModelRecipes, MixedPrecisionPerProduct) {
  const ks::llm::Model& m = stories();
  QuantOptions o;
  o.precision = Precision::kInt4;
  o.classifier = Precision::kInt4;
  o.int8_tensors = {"qkv", "2.w2"};
  const QuantModel qm(m, o);
  using M = QuantModel::Mat;
  for (int l = 0; l < m.config.n_layers; ++l) {
    for (M mat : {M::kWq, M::kWk, M::kWv}) EXPECT_EQ(qm.matrix(l, mat).p, Precision::kInt8);
    for (M mat : {M::kWo, M::kW1, M::kW3}) EXPECT_EQ(qm.matrix(l, mat).p, Precision::kInt4);
    EXPECT_EQ(qm.matrix(l, M::kW2).p, l == 2 ? Precision::kInt8 : Precision::kInt4);
  }
  for (const char* bad : {"qk", "w13x", "9.w2", "x.qkv", ".wo", "1234.wo"}) {
    o.int8_tensors = {bad};
    EXPECT_THROW(QuantModel(m, o), std::invalid_argument) << bad;
  }
}

// The INT8 recipe's accuracy on the float model's greedy text from BOS (docs/vector_unit.md).
TEST(Accuracy, Int8DefaultOnStories260K) {
  const ks::llm::Model& m = stories();
  QuantModel qm(m, QuantOptions::preset(Precision::kInt8));
  const ks::rt::AccuracyReport r =
      ks::rt::evaluate_accuracy(m, qm, ks::rt::float_greedy_text(m, {}, 256), 0, false);
  EXPECT_EQ(r.tokens, 255);
  EXPECT_GE(r.top1, 0.985);
  EXPECT_LT(r.perplexity, 1.005 * r.float_perplexity);
}

// The INT4 recipe (GPTQ, classifier INT4) on the same text: well above round-to-nearest and
// within 5% of the float perplexity (docs/vector_unit.md has the numbers and the goal).
TEST(Accuracy, Int4DefaultOnStories260K) {
  const ks::llm::Model& m = stories();
  const std::vector<int> text = ks::rt::float_greedy_text(m, {}, 256);
  QuantModel qm(m, QuantOptions::preset(Precision::kInt4));
  const ks::rt::AccuracyReport r = ks::rt::evaluate_accuracy(m, qm, text, 0, false);
  QuantOptions rtn;
  rtn.precision = rtn.classifier = Precision::kInt4;
  rtn.search = ks::rt::ScaleSearch::kMaxAbs;
  QuantModel q_rtn(m, rtn);
  const ks::rt::AccuracyReport base = ks::rt::evaluate_accuracy(m, q_rtn, text, 0, false);
  EXPECT_GE(r.top1, 0.925);  // 93.7% measured (docs/vector_unit.md); the goal is 95%
  EXPECT_GE(r.top1, base.top1 + 0.05);
  EXPECT_LT(r.perplexity, 1.05 * r.float_perplexity);
  EXPECT_LT(r.perplexity, base.perplexity);
}

}  // namespace
