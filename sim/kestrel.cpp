// kestrel: run a language model the way llama2.c's run.c does, on one of the backends.
//
//   kestrel <checkpoint> [-z tokenizer] [-t temperature] [-p topp] [-s seed] [-n steps]
//           [-i prompt] [--backend ref|model|rtl] [--precision fp32|int8|int4] [--config name]
//           [--placement auto|resident|streamed] [--waveform file.fst] [--report json]
//           [--dump-program file.txt]
//
// Flags as in run.c (greedy at -t 0, top-p sampling otherwise). Backends: `ref`, the float32
// reference (identical to run.c token for token); `rtl`, the Verilated core (the emulated
// device) running the model on-chip: the compiled step program under DECODE, tokens streamed
// out of the core; `model`, the same program on the golden model of the core (bit-exact with
// rtl, no cycles). At -t 0 the core decodes greedily on its own; otherwise each step is one
// DECODE position whose logits the host samples. The checkpoint is a llama2.c .bin or a GGUF
// file (a GGUF carries its own tokenizer). Tokens are printed as they are produced, then a
// short report (stderr; with --report json also a JSON line on stdout).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "kestrel/llm/model.h"
#include "kestrel/llm/reference.h"
#include "kestrel/llm/tokenizer.h"
#include "kestrel/driver/emulated.h"
#include "kestrel/driver/model.h"
#include "kestrel/runtime/decode_program.h"
#include "kestrel/runtime/quant.h"

namespace {

[[noreturn]] void usage(const std::string& msg) {
  std::fprintf(stderr,
               "kestrel: %s\n"
               "usage: kestrel <checkpoint> [-z tokenizer] [-t temperature] [-p topp] [-s seed] [-n steps]\n"
               "               [-i prompt] [--backend ref|model|rtl] [--precision fp32|int8|int4] [--config name]\n"
               "               [--placement auto|resident|streamed] [--waveform file.fst] [--report json]\n"
               "               [--dump-program file.txt]\n",
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
  std::string config(ks::hw::kDefaultConfig), placement = "auto", waveform, dump;
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
    else if (a == "--config") config = v;
    else if (a == "--placement") placement = v;
    else if (a == "--waveform") waveform = v;
    else if (a == "--dump-program") dump = v;
    else usage("unknown flag " + a);
  }
  if (backend != "ref" && backend != "model" && backend != "rtl") usage("unknown backend '" + backend + "' (ref, model, rtl)");
  if (precision.empty()) precision = backend == "ref" ? "fp32" : "int8";
  if ((backend == "ref") != (precision == "fp32") || (precision != "fp32" && precision != "int8" && precision != "int4")) {
    usage("precision '" + precision + "' does not go with backend '" + backend + "' (ref: fp32; model, rtl: int8, int4)");
  }
  ks::rt::Placement place = ks::rt::Placement::kAuto;
  if (placement == "resident") place = ks::rt::Placement::kResident;
  else if (placement == "streamed") place = ks::rt::Placement::kStreamed;
  else if (placement != "auto") usage("--placement takes auto, resident or streamed");
  if (ks::hw::find_config(config) == nullptr) usage("unknown configuration '" + config + "'");
  if (backend != "ref" && !ks::hw::find_config(config)->vector_unit) {
    usage("configuration '" + config + "' has no vector unit (vector_unit = 0 in rtl/cfg/hw_configs.json): the " +
          backend + " backend decodes on the core, which needs it for RMSNorm, attention and the other float work; "
          "use a configuration with one (--config ecp5 or odd) or --backend ref");
  }
  if (!waveform.empty() && backend != "rtl") usage("--waveform needs --backend rtl");
  if (!dump.empty() && backend == "ref") usage("--dump-program needs --backend rtl or model");
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
    std::unique_ptr<ks::drv::Device> dev;
    std::unique_ptr<ks::rt::DecodeProgram> prog;
    std::unique_ptr<ks::rt::OnChipDecoder> chip;
    ks::llm::ForwardFn forward;
    if (steps <= 0 || steps > model.config.seq_len) steps = model.config.seq_len;  // run.c
    const bool greedy = temperature <= 0.0f;
    if (backend == "ref") {
      ref = std::make_unique<ks::llm::ReferenceModel>(model);
      forward = [&](int token, int pos) -> std::vector<float>& { return ref->forward(token, pos); };
    } else {
      ks::rt::QuantOptions o =
          ks::rt::QuantOptions::preset(precision == "int4" ? ks::rt::Precision::kInt4 : ks::rt::Precision::kInt8);
      const ks::hw::HwConfig& hw = *ks::hw::find_config(config);
      o.lanes = hw.vec_lanes;
      qm = std::make_unique<ks::rt::QuantModel>(model, o);
      constexpr uint64_t kBase = 0x10000000;
      constexpr size_t kSize = 32u << 20;
      if (backend == "rtl") {
        ks::drv::EmulatedOptions eo;
        eo.mem_base = kBase;
        eo.mem_size = kSize;
        eo.waveform = waveform;
        dev = ks::drv::make_emulated_device(config, eo);
      } else {
        ks::drv::ModelOptions mo;
        mo.mem_base = kBase;
        mo.mem_size = kSize;
        dev = ks::drv::make_model_device(config, mo);
      }
      ks::rt::DecodeBuildOptions bo;
      bo.placement = place;
      bo.seq_len = static_cast<uint32_t>(steps);
      bo.store_logits = !greedy;
      prog = std::make_unique<ks::rt::DecodeProgram>(*qm, dev->config(), dev->mem_base(), dev->mem_size() - 65536, bo);
      if (!dump.empty()) {
        // The compiled program as text: the setup list, the step program, the program memory.
        std::FILE* f = std::fopen(dump.c_str(), "w");
        if (f == nullptr) throw std::runtime_error("cannot write " + dump);
        for (const ks::desc::Words& w : prog->setup()) std::fprintf(f, "setup %s\n", ks::drv::describe(w).c_str());
        for (size_t i = 0; i < prog->step().size(); ++i) {
          std::fprintf(f, "step %zu %s\n", i, ks::drv::describe(prog->step()[i]).c_str());
        }
        for (size_t i = 0; i < prog->vector_program().size(); ++i) {
          ks::desc::Words w = ks::drv::make_vec({});
          for (size_t j = 0; j < 4; ++j) w[j + 1] = prog->vector_program()[i][j];
          std::fprintf(f, "vprog %zu %s\n", i, ks::drv::describe(w).c_str());
        }
        std::fclose(f);
      }
      chip = std::make_unique<ks::rt::OnChipDecoder>(*dev, *prog);
      forward = [&](int token, int pos) -> std::vector<float>& { return chip->forward(token, pos); };
    }
    const std::vector<int> prompt_tokens = tok->encode(prompt, true, false);
    int generated = 0;
    std::vector<int> tokens;
    const auto t0 = std::chrono::steady_clock::now();
    if (chip && greedy) {
      // The core's own loop: the prompt forced, argmax after it, BOS ends the story.
      tokens.push_back(prompt_tokens[0]);
      int prev = prompt_tokens[0];
      chip->generate(prompt_tokens, steps, ks::llm::Tokenizer::kBos, [&](const ks::drv::StreamToken& t) {
        const int next = static_cast<int>(t.token);
        if (next == ks::llm::Tokenizer::kBos) return;
        tokens.push_back(next);
        std::fputs(ks::llm::printable_piece(tok->decode(prev, next)).c_str(), stdout);
        std::fflush(stdout);
        ++generated;
        prev = next;
      });
    } else {
      tokens = ks::llm::generate(forward, model.config, *tok, prompt, steps, temperature, topp, seed,
                                 [&](int, const std::string& piece) {
                                   std::fputs(piece.c_str(), stdout);
                                   std::fflush(stdout);
                                   ++generated;
                                 });
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("\n");
    std::fflush(stdout);
    std::fprintf(stderr, "kestrel: %s backend, %s, %d tokens in %.3f s (%.1f tokens/s on the host)\n", backend.c_str(),
                 precision.c_str(), generated, secs, generated / (secs > 0 ? secs : 1));
    // Performance figures from the core's counters (cycles: rtl only).
    std::string perf;
    if (chip) {
      const ks::rt::DecodeStats& st = chip->stats();
      const ks::hw::HwConfig& hw = dev->config();
      const uint32_t toks = st.prefill_tokens + st.decode_tokens;
      const double peak = static_cast<double>(hw.array_rows) * hw.array_cols * (precision == "int4" ? 2 : 1);
      const double cyc = static_cast<double>(st.cycles);
      const double per_tok = toks ? cyc / toks : 0;
      const double dec_per_tok = st.decode_tokens ? static_cast<double>(st.decode_cycles) / st.decode_tokens : 0;
      const double pre_per_tok = st.prefill_tokens ? static_cast<double>(st.prefill_cycles) / st.prefill_tokens : 0;
      const double bytes = static_cast<double>(st.bytes_read + st.bytes_written);
      const double bw = cyc > 0 ? bytes / (cyc * hw.mem_bytes_per_cycle) : 0;
      const double ideal = static_cast<double>(prog->weight_macs()) / peak;  // weight MACs / peak per token
      char b[4096];
      std::snprintf(b, sizeof b,
                    "\"config\":\"%s\",\"placement\":\"%s\",\"weights_resident\":%s,\"step_descriptors\":%zu,"
                    "\"vector_instructions_per_step\":%llu,\"vector_program_entries\":%zu,"
                    "\"tokens_streamed\":%u,\"prefill_tokens\":%u,\"decode_tokens\":%u,\"cycles\":%llu,"
                    "\"cycles_per_token\":%.1f,\"prefill_cycles_per_token\":%.1f,\"decode_cycles_per_token\":%.1f,"
                    "\"ideal_cycles_per_token\":%.1f,\"cycles_vs_ideal\":%.3f,\"macs\":%llu,\"mu_utilization\":%.4f,"
                    "\"mu_busy\":%llu,\"mu_stall_operand\":%llu,\"mu_stall_result\":%llu,\"vec_busy\":%llu,"
                    "\"load_busy\":%llu,\"store_busy\":%llu,\"dma_rd_wait\":%llu,\"stream_wait\":%llu,"
                    "\"cp_fetch_wait\":%llu,\"cp_fence_wait\":%llu,\"cp_dispatch_wait\":%llu,\"token_wait\":%llu,"
                    "\"bytes_read\":%llu,\"bytes_written\":%llu,\"bytes_per_token\":%.1f,"
                    "\"bandwidth_utilization\":%.4f,\"target_mhz\":%u,\"tokens_per_s_at_target\":%.2f,"
                    "\"sim_cycles_per_s\":%.0f,\"stop_reason\":%u,",
                    hw.name.data(), placement.c_str(), prog->resident() ? "true" : "false", prog->step().size(),
                    static_cast<unsigned long long>(prog->vector_instructions()), prog->vector_program().size(), toks,
                    st.prefill_tokens, st.decode_tokens, static_cast<unsigned long long>(st.cycles), per_tok,
                    pre_per_tok, dec_per_tok, ideal, ideal > 0 ? dec_per_tok / ideal : 0,
                    static_cast<unsigned long long>(st.macs), cyc > 0 ? st.macs / (cyc * peak) : 0,
                    static_cast<unsigned long long>(st.mu_busy), static_cast<unsigned long long>(st.mu_stall_operand),
                    static_cast<unsigned long long>(st.mu_stall_result), static_cast<unsigned long long>(st.vec_busy),
                    static_cast<unsigned long long>(st.load_busy), static_cast<unsigned long long>(st.store_busy),
                    static_cast<unsigned long long>(st.dma_rd_wait), static_cast<unsigned long long>(st.stream_wait),
                    static_cast<unsigned long long>(st.cp_fetch), static_cast<unsigned long long>(st.cp_fence),
                    static_cast<unsigned long long>(st.cp_held), static_cast<unsigned long long>(st.token_wait),
                    static_cast<unsigned long long>(st.bytes_read), static_cast<unsigned long long>(st.bytes_written),
                    toks ? bytes / toks : 0, bw, hw.target_mhz, per_tok > 0 ? hw.target_mhz * 1e6 / per_tok : 0,
                    secs > 0 ? cyc / secs : 0, st.reason);
      perf = b;
      if (st.cycles > 0) {
        std::fprintf(stderr,
                     "kestrel: %s on %s (%s weights): %.0f cycles/token (prefill %.0f, decode %.0f; ideal %.0f), "
                     "matrix unit %.1f%%, memory %.0f bytes/token (%.1f%% of the bandwidth), %.1f tokens/s at %u MHz, "
                     "simulated %.2f M cycles/s\n",
                     backend.c_str(), hw.name.data(), prog->resident() ? "resident" : "streamed/mixed", per_tok,
                     pre_per_tok, dec_per_tok, ideal, 100.0 * st.macs / (cyc * peak), toks ? bytes / toks : 0,
                     100.0 * bw, per_tok > 0 ? hw.target_mhz * 1e6 / per_tok : 0, hw.target_mhz, cyc / secs / 1e6);
      }
    }
    if (report == "json") {
      std::printf("{\"backend\":\"%s\",\"precision\":\"%s\",\"steps\":%d,\"temperature\":%g,\"topp\":%g,\"seed\":%llu,",
                  backend.c_str(), precision.c_str(), steps, temperature, topp, static_cast<unsigned long long>(seed));
      std::printf("%s", perf.c_str());
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
