// Calibration for the weight quantizers: text the float model writes itself (sampled
// stories, deterministic seeds), and a layer-by-layer pass over that text that hands each
// weight matrix to a quantizer together with the statistics of its input. `make accuracy`
// evaluates on the float model's greedy text; calibration samples at a temperature from
// other seeds, so the two differ (docs/vector_unit.md).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "kestrel/llm/model.h"

namespace ks::rt {

struct CalibrationOptions {
  int sequences = 8;          ///< sampled stories
  int steps = 256;            ///< positions per story (fewer when the model ends it with BOS)
  float temperature = 1.0f;   ///< run.c's sampler
  float topp = 0.9f;
  uint64_t seed = 1000;       ///< story i samples with seed + i (never 0)
};

/// The float model's own stories: BOS, then tokens sampled by run.c's sampler (llm::Sampler)
/// until `steps` positions or BOS. The forward pass is a float one written for speed (its
/// sums in another order than run.c's, so the text is not run.c's for the seed, but it is
/// deterministic).
std::vector<std::vector<int>> calibration_texts(const llm::Model& model, const CalibrationOptions& opt);

/// H = sum over calibration inputs of x x^T for one matrix input of width k (k x k,
/// row-major, double), and the number of inputs summed.
struct InputMoments {
  int k = 0;
  long count = 0;
  std::vector<double> h;
  explicit InputMoments(int width = 0) : k(width), h(static_cast<size_t>(width) * width, 0.0) {}
  void add(const float* x);
};

/// The weight matrices of a llama2.c model, in the order the layer-wise pass meets them.
enum class Tensor { kWq, kWk, kWv, kWo, kW1, kW3, kW2, kClassifier };

/// What the layer-wise pass fits each matrix to.
enum class CalibrationTarget {
  /// The float weights on the float model's inputs: min |(W - Wq) x_f|^2 (plain GPTQ).
  kFloat,
  /// The float model's outputs from the quantized model's inputs: min |W x_f - Wq x_q|^2,
  /// so each matrix also compensates the error of the matrices before it.
  kFloatOutputs,
};

struct LayerwiseOptions {
  CalibrationTarget target = CalibrationTarget::kFloatOutputs;
  /// The quantized model's activations are quantized as the core does (INT8 per group, the
  /// classifier's input at 15 bits) before each product.
  bool quantize_activations = true;
  int group = 32;       ///< the activation groups
  double damp = 0.01;   ///< ridge of the least-squares targets, times the moments' mean diagonal
  /// The classifier's rows weighted by the float model's probabilities: row r's moments are
  /// sum_t (p_t(r) + floor / vocab) x_t x_t^T (the diagonal of the softmax's Fisher
  /// information, plus a floor), so each row is accurate where its token is likely; its
  /// target likewise. <= 0: the classifier like any matrix.
  double classifier_floor = 0.25;
};

/// Called once per matrix, in order: quantize `w` ([n][k], the weights to fit: the float
/// weights, or with kFloatOutputs the least-squares weights that map the quantized model's
/// inputs to the float model's outputs) for inputs with second moments `h`; return the
/// weights the quantized model will use (dequantized), which the pass then runs forward.
/// `rows`, when not null, holds one set of moments per output row (the classifier's rows
/// weighted by probability), to be used instead of `h`.
using QuantizeFn = std::function<std::vector<float>(Tensor t, int layer, const float* w, int n, int k,
                                                    const InputMoments& h, const std::vector<InputMoments>* rows)>;

/// Runs the float model and the model being quantized side by side, layer by layer, over
/// `texts` (each from position 0) and calls `quantize` for every matrix: wq, wk, wv, wo,
/// w1, w3, w2 of each layer, then the classifier (layer = n_layers). `embedding` is the
/// quantized model's token embedding table [vocab][dim].
void quantize_layerwise(const llm::Model& model, const std::vector<float>& embedding,
                        const std::vector<std::vector<int>>& texts, const LayerwiseOptions& opt,
                        const QuantizeFn& quantize);

}  // namespace ks::rt
