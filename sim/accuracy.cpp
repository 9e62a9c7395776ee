// make accuracy: the quantized decode (the core's exact arithmetic, from the golden model)
// against the float reference on stories260K: first differing greedy token, per-token top-1
// agreement and perplexity on the float model's greedy text, for INT8 and INT4 variants.
//
//   accuracy [--model FILE] [--steps N] [--json]
#include <cstdio>
#include <cstdlib>
#include <string>

#include "kestrel/llm/model.h"
#include "kestrel/runtime/accuracy.h"

int main(int argc, char** argv) {
  std::string path = KS_DEFAULT_MODEL;
  int steps = 256;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--model" && i + 1 < argc) path = argv[++i];
    else if (a == "--steps" && i + 1 < argc) steps = std::atoi(argv[++i]);
    else {
      std::fprintf(stderr, "usage: accuracy [--model FILE] [--steps N]\n");
      return 2;
    }
  }
  try {
    const ks::llm::Model model = ks::llm::load_model(path);
    using ks::rt::Precision;
    using ks::rt::ScaleSearch;
    struct Variant {
      const char* name;
      ks::rt::QuantOptions opt;
    };
    auto make = [](Precision layers, Precision cls, ScaleSearch s, int group, bool apg = true, bool kv8 = true,
                   int kv_bits = 16) {
      ks::rt::QuantOptions o;
      o.precision = layers;
      o.classifier = cls;
      o.search = s;
      o.group = group;
      o.act_per_group = apg;
      o.kv_int8 = kv8;
      o.kv_bits = kv_bits;
      return o;
    };
    const Variant variants[] = {
        {"int8 g32, kv int8", make(Precision::kInt8, Precision::kInt8, ScaleSearch::kMse, 32, true, true, 8)},
        {"int8 g32, kv int16 (default)", make(Precision::kInt8, Precision::kInt8, ScaleSearch::kMse, 32)},
        {"int8 g32, kv int16, act per vector", make(Precision::kInt8, Precision::kInt8, ScaleSearch::kMse, 32, false)},
        {"int4 g32 rtn, int4 classifier", make(Precision::kInt4, Precision::kInt4, ScaleSearch::kMaxAbs, 32)},
        {"int4 g32 rtn, int8 classifier", make(Precision::kInt4, Precision::kInt8, ScaleSearch::kMaxAbs, 32)},
        {"int4 g32 mse, int8 classifier", make(Precision::kInt4, Precision::kInt8, ScaleSearch::kMse, 32)},
    };
    std::printf("%-36s %8s %10s %8s %12s %12s\n", "variant", "tokens", "first diff", "top-1", "perplexity",
                "float ppl");
    for (const Variant& v : variants) {
      const ks::rt::AccuracyReport r = ks::rt::evaluate_accuracy(model, v.opt, steps);
      std::printf("%-36s %8d %10d %7.2f%% %12.4f %12.4f\n", v.name, r.tokens, r.first_difference, 100 * r.top1,
                  r.perplexity, r.float_perplexity);
      std::fprintf(stderr,
                   "{\"accuracy\":\"%s\",\"tokens\":%d,\"first_difference\":%d,\"top1\":%.4f,\"perplexity\":%.4f,"
                   "\"float_perplexity\":%.4f}\n",
                   v.name, r.tokens, r.first_difference, r.top1, r.perplexity, r.float_perplexity);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "accuracy: %s\n", e.what());
    return 1;
  }
}
