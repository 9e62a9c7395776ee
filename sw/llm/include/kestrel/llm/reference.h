// The float32 reference: llama2.c run.c's forward pass, sampler and generation loop,
// operation for operation, so that its greedy output is token for token run.c's. It is the
// oracle the quantized software paths and the hardware runtime are measured against.
//
// Exactness: float addition is not associative, so every sum here is accumulated in
// run.c's order (a single float accumulator, index ascending) and every expression keeps
// run.c's operation order and float/int conversions; the library is compiled with
// -ffp-contract=off so no multiply-add is fused on targets that have FMA. The
// transcendental functions (expf, sqrtf, powf, sinf, cosf) are the C library's, as in
// run.c.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "kestrel/llm/model.h"
#include "kestrel/llm/tokenizer.h"

namespace ks::llm {

/// One model's decode state: activations and the key/value cache. Keeps a reference to
/// the model, which must outlive it.
class ReferenceModel {
 public:
  /// Throws ModelError when the weights do not match the config (check_weights).
  explicit ReferenceModel(const Model& model);
  ReferenceModel(Model&&) = delete;  // it would dangle: the model must outlive this

  /// Runs token `token` at position `pos` and returns the logits (vocab_size floats; the
  /// buffer is reused by the next call). Positions 0 .. pos-1 must have been run before
  /// (in any earlier calls; running an earlier position again rewinds the context to it).
  /// Throws std::out_of_range for a token outside the vocabulary, a position outside
  /// [0, seq_len) or one past the cached context.
  std::vector<float>& forward(int token, int pos);

  const ModelConfig& config() const { return cfg_; }

 private:
  const Model& model_;
  const ModelConfig cfg_;
  int cached_ = 0;  // positions whose keys and values are in the cache
  std::vector<float> x_, xb_, xb2_, hb_, hb2_, q_, att_, logits_;
  // Per layer [pos][kv_dim]; grown as positions are reached rather than allocated for
  // seq_len up front (a GGUF may claim a context far longer than any run uses).
  std::vector<std::vector<float>> key_cache_, value_cache_;
};

/// run.c's sampler. Temperature 0: argmax (the first maximum). Otherwise the logits are
/// divided by the temperature and softmaxed, one random float is drawn, and with
/// 0 < topp < 1 nucleus (top-p) sampling picks from the smallest set of most probable
/// tokens whose probability exceeds topp; with topp <= 0 or >= 1 plain multinomial
/// sampling over all tokens.
class Sampler {
 public:
  /// `seed` is run.c's rng state after `-s` (run.c replaces 0 with the time; here 0 is
  /// refused with std::invalid_argument when sampling is random, as xorshift stays at 0).
  Sampler(int vocab_size, float temperature, float topp, uint64_t seed);

  /// Samples a token; like run.c it scales and softmaxes `logits` in place.
  int sample(std::vector<float>& logits);

  /// run.c's xorshift64* generator.
  uint32_t random_u32();
  float random_f32();  ///< in [0, 1), 24 random bits

  uint64_t state() const { return state_; }

 private:
  struct ProbIndex {
    float prob;
    int index;
  };
  int vocab_size_;
  float temperature_;
  float topp_;
  uint64_t state_;
  std::vector<ProbIndex> candidates_;
};

// run.c's building blocks, exposed for tests and for the quantized paths.
void rmsnorm(float* out, const float* x, const float* weight, int size);  ///< eps 1e-5
void softmax(float* x, int size);  ///< in place, max-subtracted
void matmul(float* out, const float* x, const float* w, int n, int d);  ///< out[d] = W[d][n] x
int sample_argmax(const float* probs, int n);
int sample_mult(const float* probs, int n, float coin);

/// run.c's generate loop: the prompt is encoded with BOS (no EOS); positions run from 0
/// while pos < steps; while the prompt lasts its next token is forced, after that the
/// sampler picks; generation stops early when the next token is BOS (1). Each token after
/// the first is reported as on_token(token, piece) with piece what run.c prints for it
/// (printable_piece(decode(prev, token))); concatenating the pieces gives run.c's output
/// without its final newline. steps <= 0 or > seq_len means seq_len, temperature < 0
/// means 0 and topp outside [0, 1] means 0.9, as in run.c's main.
/// Returns the token sequence: BOS, then every token reported.
/// One decode step of any backend: the logits for `token` at position `pos` (it may scale
/// or overwrite them; the generator samples from them once).
using ForwardFn = std::function<std::vector<float>&(int token, int pos)>;

/// run.c's generate loop over any backend's forward step: the prompt (with BOS) is forced
/// token by token, then tokens are sampled; stops after `steps` positions or when BOS comes.
/// Returns BOS, the prompt and the generated tokens; on_token sees each token after the
/// first as run.c prints it.
std::vector<int> generate(const ForwardFn& forward, const ModelConfig& cfg, const Tokenizer& tokenizer,
                          const std::string& prompt, int steps, float temperature, float topp, uint64_t seed,
                          const std::function<void(int token, const std::string& piece)>& on_token = nullptr);

std::vector<int> generate_reference(
    const Model& model, const Tokenizer& tokenizer, const std::string& prompt, int steps,
    float temperature, float topp, uint64_t seed,
    const std::function<void(int token, const std::string& piece)>& on_token = nullptr);

}  // namespace ks::llm
