#include "kestrel/runtime/accuracy.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "kestrel/llm/reference.h"

namespace ks::rt {

namespace {

constexpr int kBos = 1;

int argmax(const std::vector<double>& v) {
  int best = 0;
  for (size_t i = 1; i < v.size(); ++i) {
    if (v[i] > v[best]) best = static_cast<int>(i);
  }
  return best;
}

/// log softmax(v)[i], in double.
double log_prob(const std::vector<double>& v, int i) {
  double mx = v[0];
  for (double x : v) mx = std::max(mx, x);
  double s = 0;
  for (double x : v) s += std::exp(x - mx);
  return v[i] - mx - std::log(s);
}

std::vector<double> widen(const std::vector<float>& f) { return {f.begin(), f.end()}; }
std::vector<double> widen(const std::vector<Bits>& b) {
  std::vector<double> d(b.size());
  for (size_t i = 0; i < b.size(); ++i) d[i] = golden::kfp::to_float(b[i]);
  return d;
}

}  // namespace

std::vector<int> float_greedy_text(const llm::Model& model, const std::vector<int>& prompt, int steps) {
  llm::ReferenceModel ref(model);
  std::vector<int> text{kBos};
  text.insert(text.end(), prompt.begin(), prompt.end());
  for (int pos = 0; pos + 1 < steps && pos + 1 < static_cast<int>(text.size()); ++pos) ref.forward(text[pos], pos);
  for (int pos = static_cast<int>(text.size()) - 1; pos + 1 < steps; ++pos) {
    const int next = argmax(widen(ref.forward(text.back(), pos)));
    if (next == kBos) break;
    text.push_back(next);
  }
  return text;
}

AccuracyReport evaluate_accuracy(const llm::Model& model, QuantModel& qm, const std::vector<int>& text, int prompt,
                                 bool free_run) {
  if (text.empty() || text[0] != kBos) throw std::invalid_argument("evaluate_accuracy: the text must start with BOS");
  if (prompt < 0 || prompt + 1 >= static_cast<int>(text.size())) {
    throw std::invalid_argument("evaluate_accuracy: nothing to score after the prompt");
  }
  AccuracyReport r;
  r.tokens = static_cast<int>(text.size()) - 1 - prompt;
  // Teacher forcing: both models read the text.
  llm::ReferenceModel ref(model);
  int agree = 0;
  double nll = 0, float_nll = 0;
  for (int pos = 0; pos + 1 < static_cast<int>(text.size()); ++pos) {
    const std::vector<double> fl = widen(ref.forward(text[pos], pos));
    const std::vector<Bits>& bits = qm.forward(text[pos], pos);
    if (pos < prompt) continue;
    const int want = text[pos + 1];
    if (QuantModel::argmax(bits) == argmax(fl)) ++agree;
    nll -= log_prob(widen(bits), want);
    float_nll -= log_prob(fl, want);
  }
  r.top1 = static_cast<double>(agree) / r.tokens;
  r.perplexity = std::exp(nll / r.tokens);
  r.float_perplexity = std::exp(float_nll / r.tokens);
  // Free-running greedy after the prompt: where does the quantized text leave this one?
  int token = kBos;
  for (int pos = 0; free_run && pos + 1 < static_cast<int>(text.size()); ++pos) {
    const int next = QuantModel::argmax(qm.forward(token, pos));
    token = pos < prompt ? text[pos + 1] : next;
    if (token != text[pos + 1]) {
      r.first_difference = pos + 1;
      break;
    }
  }
  return r;
}

AccuracyReport evaluate_accuracy(const llm::Model& model, const QuantOptions& opt, int steps) {
  const std::vector<int> text = float_greedy_text(model, {}, steps);
  QuantModel qm(model, opt);
  return evaluate_accuracy(model, qm, text, 0);
}

}  // namespace ks::rt
