// make accuracy: the quantized decode (the core's exact arithmetic, from the golden model)
// against the float reference on stories260K. The evaluation text is the float model's greedy
// text from BOS; per variant: the first differing greedy token, per-token top-1 agreement and
// perplexity on it; for the main rows also held-out texts the quantizers never saw (greedy
// continuations of other prompts, and a sampled story), the weight bytes and the time to
// quantize. The headline rows keep the KV cache in KFP32, as the core's on-chip decode does;
// the last rows are the golden model's quantized-KV options.
//
//   accuracy [--model FILE] [--tokenizer FILE] [--steps N]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "kestrel/llm/model.h"
#include "kestrel/llm/reference.h"
#include "kestrel/llm/tokenizer.h"
#include "kestrel/runtime/accuracy.h"

namespace {

using ks::rt::Precision;
using ks::rt::QuantOptions;

struct Variant {
  std::string name;
  QuantOptions opt;
  bool held_out = false;  // also the held-out texts (slower)
};

/// Weight bytes as the core stores them: the codes (INT4 packed two per byte) and a 4-byte
/// scale per group, of every matrix and the classifier.
size_t weight_bytes(const ks::rt::QuantModel& qm) {
  size_t b = 0;
  auto add = [&](const ks::rt::QMatrix& m) { b += m.q.size() + 4 * m.scales.size(); };
  using M = ks::rt::QuantModel::Mat;
  for (int l = 0; l < qm.config().n_layers; ++l) {
    for (M m : {M::kWq, M::kWk, M::kWv, M::kWo, M::kW1, M::kW2, M::kW3}) add(qm.matrix(l, m));
  }
  add(qm.classifier());
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  std::string path = KS_DEFAULT_MODEL, tok_path = KS_DEFAULT_TOKENIZER;
  int steps = 256;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--model" && i + 1 < argc) path = argv[++i];
    else if (a == "--tokenizer" && i + 1 < argc) tok_path = argv[++i];
    else if (a == "--steps" && i + 1 < argc) steps = std::atoi(argv[++i]);
    else {
      std::fprintf(stderr, "usage: accuracy [--model FILE] [--tokenizer FILE] [--steps N]\n");
      return 2;
    }
  }
  try {
    const ks::llm::Model model = ks::llm::load_model(path);
    const ks::llm::Tokenizer tok = model.gguf_tokens.empty()
                                       ? ks::llm::Tokenizer(tok_path, model.config.vocab_size)
                                       : ks::llm::Tokenizer::from_model(model);
    // The evaluation text and the held-out ones: greedy continuations of prompts, and one
    // story sampled at temperature 1 with a seed the calibration does not use.
    const std::vector<int> main_text = ks::rt::float_greedy_text(model, {}, steps);
    struct Text {
      std::string name;
      std::vector<int> tokens;
      int prompt;
    };
    std::vector<Text> held_out;
    for (const char* p : {"Tom and Sue", "The little dog", "Once upon a time, a bird", "Mom said"}) {
      const std::vector<int> enc = tok.encode(p, false, false);
      held_out.push_back({p, ks::rt::float_greedy_text(model, enc, steps), static_cast<int>(enc.size())});
    }
    {
      ks::llm::ReferenceModel ref(model);
      ks::llm::Sampler sampler(model.config.vocab_size, 1.0f, 0.9f, 987654321);
      std::vector<int> t{1};
      for (int pos = 0; pos + 1 < steps; ++pos) {
        const int next = sampler.sample(ref.forward(t.back(), pos));
        if (next == 1) break;
        t.push_back(next);
      }
      held_out.push_back({"sampled story (seed 987654321)", t, 0});
    }

    auto make = [](Precision p) { return QuantOptions::preset(p); };
    std::vector<Variant> v;
    v.push_back({"int8 (default)", make(Precision::kInt8), true});
    {
      QuantOptions o = make(Precision::kInt8);
      o.embedding = ks::rt::EmbeddingSource::kFloat;
      v.push_back({"int8, float embedding", o, true});
      o.rounding = ks::rt::Rounding::kGptq;
      v.push_back({"int8 gptq, float embedding", o, true});
      o.embedding = ks::rt::EmbeddingSource::kQuantized;
      v.push_back({"int8 gptq", o, true});
    }
    v.push_back({"int4 (default): gptq, int4 classifier", make(Precision::kInt4), true});
    for (uint64_t seed : {2000u, 3000u}) {
      QuantOptions o = make(Precision::kInt4);
      o.calibration.seed = seed;
      v.push_back({"int4 default, calibration seed " + std::to_string(seed), o, true});
    }
    {
      QuantOptions o = make(Precision::kInt4);
      o.classifier = Precision::kInt8;
      v.push_back({"int4 gptq, int8 classifier", o, true});
      o = make(Precision::kInt4);
      o.int8_tensors = {"qkv"};
      v.push_back({"int4 gptq, qkv int8", o, true});
      o.int8_tensors = {"qkv", "w2"};
      v.push_back({"int4 gptq, qkv and w2 int8", o, true});
      o = make(Precision::kInt4);
      o.calibration.sequences = 16;
      v.push_back({"int4 gptq, 16 calibration stories", o, true});
      o = make(Precision::kInt4);
      o.layerwise.target = ks::rt::CalibrationTarget::kFloat;
      v.push_back({"int4 gptq on float inputs (plain)", o, false});
      o = make(Precision::kInt4);
      o.gptq.negative_scales = false;
      v.push_back({"int4 gptq, positive scales only", o, false});
      o = make(Precision::kInt4);
      o.layerwise.classifier_floor = 0;
      v.push_back({"int4 gptq, classifier unweighted", o, false});
      o = make(Precision::kInt4);
      o.embedding = ks::rt::EmbeddingSource::kQuantized;
      v.push_back({"int4 gptq, embedding = int4 classifier", o, false});
      o = QuantOptions{};
      o.precision = o.classifier = Precision::kInt4;
      o.search = ks::rt::ScaleSearch::kMaxAbs;
      v.push_back({"int4 round-to-nearest, int4 classifier", o, false});
      o.classifier = Precision::kInt8;
      v.push_back({"int4 round-to-nearest, int8 classifier", o, false});
      o.search = ks::rt::ScaleSearch::kMse;
      v.push_back({"int4 mse scales, int8 classifier", o, false});
    }
    // The golden model's quantized KV cache (the core keeps KFP32).
    for (int bits : {16, 8}) {
      QuantOptions o = make(Precision::kInt8);
      o.kv_int8 = true;
      o.kv_bits = bits;
      v.push_back({"int8, kv int" + std::to_string(bits), o, false});
    }
    {
      QuantOptions o = make(Precision::kInt8);
      o.kv_int8 = true;
      o.act_per_group = false;
      v.push_back({"int8, kv int16, act per vector", o, false});
    }

    std::printf("evaluation: the float model's greedy text from BOS, %zu predictions; KV cache KFP32 unless named\n",
                main_text.size() - 1);
    std::printf("held-out: greedy continuations of \"Tom and Sue\", \"The little dog\", \"Once upon a time, a bird\",\n"
                "\"Mom said\" (top-1 and perplexity ratio over all four), and a sampled story (top-1)\n\n");
    std::printf("%-40s %7s %6s %5s %7s %8s | %8s %6s %8s\n", "variant", "KiB", "quant", "diff", "top-1", "ppl",
                "held-out", "ppl x", "sampled");
    double float_ppl = 0;
    for (const Variant& var : v) {
      const auto t0 = std::chrono::steady_clock::now();
      ks::rt::QuantModel qm(model, var.opt);
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const ks::rt::AccuracyReport r = ks::rt::evaluate_accuracy(model, qm, main_text, 0);
      float_ppl = r.float_perplexity;
      std::printf("%-40s %7.1f %5.2fs %5d %6.2f%% %8.4f |", var.name.c_str(), weight_bytes(qm) / 1024.0, secs,
                  r.first_difference, 100 * r.top1, r.perplexity);
      double ho_top1 = 0, ho_ratio = 0, sampled = 0;
      if (var.held_out) {
        int agree = 0, n = 0;
        double log_ratio = 0;
        for (size_t i = 0; i < held_out.size(); ++i) {
          const ks::rt::AccuracyReport h = ks::rt::evaluate_accuracy(model, qm, held_out[i].tokens, held_out[i].prompt, false);
          if (i + 1 == held_out.size()) {
            sampled = h.top1;
            continue;
          }
          agree += static_cast<int>(h.top1 * h.tokens + 0.5);
          n += h.tokens;
          log_ratio += h.tokens * std::log(h.perplexity / h.float_perplexity);
        }
        ho_top1 = static_cast<double>(agree) / n;
        ho_ratio = std::exp(log_ratio / n);
        std::printf(" %7.2f%% %6.3f %7.2f%%\n", 100 * ho_top1, ho_ratio, 100 * sampled);
      } else {
        std::printf(" %8s %6s %8s\n", "-", "-", "-");
      }
      std::fprintf(stderr,
                   "{\"accuracy\":\"%s\",\"weight_bytes\":%zu,\"quantize_s\":%.3f,\"tokens\":%d,\"first_difference\":%d,"
                   "\"top1\":%.4f,\"perplexity\":%.4f,\"float_perplexity\":%.4f,\"held_out_top1\":%.4f,"
                   "\"held_out_perplexity_ratio\":%.4f,\"sampled_top1\":%.4f}\n",
                   var.name.c_str(), weight_bytes(qm), secs, r.tokens, r.first_difference, r.top1, r.perplexity,
                   r.float_perplexity, ho_top1, ho_ratio, sampled);
      std::fflush(stdout);
    }
    std::printf("\nfloat perplexity of the evaluation text: %.4f\n", float_ppl);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "accuracy: %s\n", e.what());
    return 1;
  }
}
