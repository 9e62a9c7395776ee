// Accuracy of a quantized model against the float reference on a text: where free-running
// greedy decoding first differs from it, per-token top-1 agreement with the float model under
// teacher forcing, and the text's perplexity under each model.
#pragma once

#include <vector>

#include "kestrel/llm/model.h"
#include "kestrel/runtime/quant.h"

namespace ks::rt {

struct AccuracyReport {
  int tokens = 0;               ///< predictions compared (the text's positions after the prompt)
  int first_difference = -1;    ///< position of the first differing greedy token (-1: none)
  double top1 = 0;              ///< fraction of predictions where the quantized argmax is the float's
  double perplexity = 0;        ///< of the scored tokens under the quantized model
  double float_perplexity = 0;  ///< of the same tokens under the float model
};

/// The float model's greedy text as run.c writes it: BOS and `prompt` forced, then the argmax
/// until `steps` positions or BOS. Returns BOS, the prompt and the generated tokens.
std::vector<int> float_greedy_text(const llm::Model& model, const std::vector<int>& prompt, int steps);

/// `qm` against the float model on `text` (text[0] is BOS): the predictions of
/// text[prompt + 1 ..] are scored (prompt = the number of forced tokens after BOS). top-1
/// compares the argmaxes; first_difference is where free-running greedy decoding of `qm`, the
/// prompt forced, first leaves `text` (meaningful for a greedy text; not run without
/// `free_run`).
AccuracyReport evaluate_accuracy(const llm::Model& model, QuantModel& qm, const std::vector<int>& text, int prompt = 0,
                                 bool free_run = true);

/// The model quantized with `opt` on the float model's greedy text of `steps` positions from
/// BOS (run.c's generate with no prompt).
AccuracyReport evaluate_accuracy(const llm::Model& model, const QuantOptions& opt, int steps);

}  // namespace ks::rt
