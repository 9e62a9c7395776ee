// kestrel: run a language model the way llama2.c's run.c does, on one of the backends.
//
//   kestrel <checkpoint> [-z tokenizer] [-t temperature] [-p topp] [-s seed] [-n steps]
//           [-i prompt] [--backend ref|model] [--precision fp32|int8|int4] [--report json]
//
// Flags as in run.c (greedy at -t 0, top-p sampling otherwise). Backends: `ref`, the float32
// reference (identical to run.c token for token); `model`, the golden model of the core's
// quantized decode (INT8 or INT4 weights, KFP32 vector math: bit-exact with the hardware's
// arithmetic). The checkpoint is a llama2.c .bin or a GGUF file (a GGUF carries its own
// tokenizer). Tokens are printed as they are produced, then a short report.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "kestrel/llm/model.h"
#include "kestrel/llm/reference.h"
#include "kestrel/llm/tokenizer.h"
#include "kestrel/runtime/quant.h"

namespace {

[[noreturn]] void usage(const std::string& msg) {
  std::fprintf(stderr,
               "kestrel: %s\n"
               "usage: kestrel <checkpoint> [-z tokenizer] [-t temperature] [-p topp] [-s seed] [-n steps]\n"
               "               [-i prompt] [--backend ref|model] [--precision fp32|int8|int4] [--report json]\n",
               msg.c_str());
  std::exit(2);
}

float to_float(const std::string& flag, const std::string& v) {
  char* end = nullptr;
  const float f = std::strtof(v.c_str(), &end);
  if (v.empty() || *end) usage(flag + " wants a number, got '" + v + "'");
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) usage("no checkpoint given");
  std::string checkpoint = argv[1], tokenizer_path, prompt, backend = "ref", precision, report;
  float temperature = 1.0f, topp = 0.9f;
  uint64_t seed = 0;
  int steps = 256;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) usage("missing value after " + a);
    const std::string v = argv[++i];
    if (a == "-z") tokenizer_path = v;
    else if (a == "-t") temperature = to_float(a, v);
    else if (a == "-p") topp = to_float(a, v);
    else if (a == "-s") seed = std::strtoull(v.c_str(), nullptr, 10);
    else if (a == "-n") steps = std::atoi(v.c_str());
    else if (a == "-i") prompt = v;
    else if (a == "--backend") backend = v;
    else if (a == "--precision") precision = v;
    else if (a == "--report") report = v;
    else usage("unknown flag " + a);
  }
  if (backend != "ref" && backend != "model") usage("unknown backend '" + backend + "' (ref, model)");
  if (precision.empty()) precision = backend == "ref" ? "fp32" : "int8";
  if ((backend == "ref") != (precision == "fp32") || (precision != "fp32" && precision != "int8" && precision != "int4")) {
    usage("precision '" + precision + "' does not go with backend '" + backend + "' (ref: fp32; model: int8, int4)");
  }
  if (!report.empty() && report != "json") usage("--report takes json");
  if (seed == 0) seed = static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  try {
    const ks::llm::Model model = ks::llm::load_model(checkpoint);
    std::unique_ptr<ks::llm::Tokenizer> tok;
    if (!tokenizer_path.empty()) {
      tok = std::make_unique<ks::llm::Tokenizer>(tokenizer_path, model.config.vocab_size);
    } else if (!model.gguf_tokens.empty()) {
      tok = std::make_unique<ks::llm::Tokenizer>(ks::llm::Tokenizer::from_model(model));
    } else {
      usage("a llama2.c checkpoint needs its tokenizer: -z tokenizer.bin");
    }

    std::unique_ptr<ks::llm::ReferenceModel> ref;
    std::unique_ptr<ks::rt::QuantModel> qm;
    std::vector<float> logits;
    ks::llm::ForwardFn forward;
    if (backend == "ref") {
      ref = std::make_unique<ks::llm::ReferenceModel>(model);
      forward = [&](int token, int pos) -> std::vector<float>& { return ref->forward(token, pos); };
    } else {
      ks::rt::QuantOptions o;
      o.precision = precision == "int4" ? ks::rt::Precision::kInt4 : ks::rt::Precision::kInt8;
      qm = std::make_unique<ks::rt::QuantModel>(model, o);
      forward = [&](int token, int pos) -> std::vector<float>& {
        const auto& bits = qm->forward(token, pos);
        logits.resize(bits.size());
        for (size_t i = 0; i < bits.size(); ++i) logits[i] = ks::golden::kfp::to_float(bits[i]);
        return logits;
      };
    }
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<int> prompt_tokens = tok->encode(prompt, true, false);
    int generated = 0;
    const std::vector<int> tokens = ks::llm::generate(
        forward, model.config, *tok, prompt, steps, temperature, topp, seed, [&](int, const std::string& piece) {
          std::fputs(piece.c_str(), stdout);
          std::fflush(stdout);
          ++generated;
        });
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("\n");
    std::fflush(stdout);
    std::fprintf(stderr, "kestrel: %s backend, %s, %d tokens in %.3f s (%.1f tokens/s on the host)\n", backend.c_str(),
                 precision.c_str(), generated, secs, generated / (secs > 0 ? secs : 1));
    if (report == "json") {
      std::printf("{\"backend\":\"%s\",\"precision\":\"%s\",\"steps\":%d,\"temperature\":%g,\"topp\":%g,\"seed\":%llu,",
                  backend.c_str(), precision.c_str(), steps, temperature, topp, static_cast<unsigned long long>(seed));
      std::printf("\"prompt_tokens\":[");
      for (size_t i = 0; i < prompt_tokens.size(); ++i) std::printf("%s%d", i ? "," : "", prompt_tokens[i]);
      std::printf("],\"tokens\":[");
      for (size_t i = 0; i < tokens.size(); ++i) std::printf("%s%d", i ? "," : "", tokens[i]);
      std::printf("],\"host_seconds\":%.4f}\n", secs);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kestrel: %s\n", e.what());
    return 1;
  }
}
