#include "kestrel/runtime/accuracy.h"

#include <cmath>
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

AccuracyReport evaluate_accuracy(const llm::Model& model, const QuantOptions& opt, int steps) {
  // The float model's greedy text and its log probabilities.
  llm::ReferenceModel ref(model);
  std::vector<int> text{kBos};
  double float_nll = 0;
  std::vector<std::vector<double>> float_logits;
  for (int pos = 0; pos + 1 < steps; ++pos) {
    const std::vector<double> lg = widen(ref.forward(text.back(), pos));
    const int next = argmax(lg);
    if (next == kBos) break;
    float_nll -= log_prob(lg, next);
    text.push_back(next);
  }
  AccuracyReport r;
  r.tokens = static_cast<int>(text.size()) - 1;
  // Teacher forcing: the quantized model reads the float text.
  QuantModel qm(model, opt);
  int agree = 0;
  double nll = 0;
  for (int pos = 0; pos < r.tokens; ++pos) {
    const std::vector<Bits>& bits = qm.forward(text[pos], pos);
    const std::vector<double> lg = widen(bits);
    const int want = text[pos + 1];
    if (QuantModel::argmax(bits) == want) ++agree;
    nll -= log_prob(lg, want);
  }
  r.top1 = r.tokens ? static_cast<double>(agree) / r.tokens : 0;
  r.perplexity = r.tokens ? std::exp(nll / r.tokens) : 0;
  r.float_perplexity = r.tokens ? std::exp(float_nll / r.tokens) : 0;
  // Free-running greedy: where does the quantized text leave the float one?
  QuantModel free(model, opt);
  int token = kBos;
  for (int pos = 0; pos < r.tokens; ++pos) {
    token = QuantModel::argmax(free.forward(token, pos));
    if (token != text[pos + 1]) {
      r.first_difference = pos + 1;
      break;
    }
  }
  return r;
}

}  // namespace ks::rt
