// Accuracy of a quantized model against the float reference on the float model's own
// greedy text: where free-running greedy decoding first differs, per-token top-1 agreement
// under teacher forcing, and perplexity of that text under each model.
#pragma once

#include "kestrel/llm/model.h"
#include "kestrel/runtime/quant.h"

namespace ks::rt {

struct AccuracyReport {
  int tokens = 0;               ///< predictions compared (positions of the float greedy text)
  int first_difference = -1;    ///< position of the first differing greedy token (-1: none)
  double top1 = 0;              ///< fraction of positions where the quantized argmax is the float's
  double perplexity = 0;        ///< of the float greedy text under the quantized model
  double float_perplexity = 0;  ///< of the same text under the float model
};

/// `steps` positions from BOS, as run.c's generate with no prompt (stops early at BOS).
AccuracyReport evaluate_accuracy(const llm::Model& model, const QuantOptions& opt, int steps);

}  // namespace ks::rt
