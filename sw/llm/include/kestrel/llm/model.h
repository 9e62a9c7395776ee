// A llama2.c-architecture language model in float32, and its two loaders: llama2.c's legacy
// checkpoint (`.bin`) and GGUF. The in-memory layout is llama2.c's, whatever the file was,
// so the float reference, the quantizers and the hardware runtime see one layout.
//
// Loading is defensive: every header field, count, size and offset is checked against the
// file size and against the others before anything is allocated or read, so a truncated,
// corrupt or unsupported file ends in a ModelError naming the file, the field (or tensor)
// and the problem -- never a crash and never an allocation larger than the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace ks::llm {

/// A model file is truncated, corrupt, inconsistent or unsupported. what() is
/// "<file>: <field>: <problem>", e.g.
/// "stories260K.bin: tensor wq: needs 81920 bytes at offset 131100, file has 900 bytes".
class ModelError : public std::runtime_error {
 public:
  ModelError(std::string file, std::string field, std::string problem);
  const std::string& file() const { return file_; }
  const std::string& field() const { return field_; }
  const std::string& problem() const { return problem_; }

 private:
  std::string file_, field_, problem_;
};

/// The shape of a model; the names are llama2.c's header fields.
struct ModelConfig {
  int dim = 0;         ///< residual stream width
  int hidden_dim = 0;  ///< feed-forward width
  int n_layers = 0;
  int n_heads = 0;     ///< query heads
  int n_kv_heads = 0;  ///< key/value heads (grouped-query attention when < n_heads)
  int vocab_size = 0;  ///< tokens; always positive (llama2.c's sign is shared_classifier)
  int seq_len = 0;     ///< maximum context (positions 0 .. seq_len-1)
  bool shared_classifier = true;  ///< the classifier is the token embedding

  int head_size() const { return dim / n_heads; }
  /// llama2.c's dim * n_kv_heads / n_heads, computed without the intermediate product
  /// (equal, since the loaders require n_heads to divide dim).
  int kv_dim() const { return head_size() * n_kv_heads; }
};

/// Float32 weights in llama2.c's layouts: matrices row-major [out][in] (y = W x), the
/// per-layer tensors of all layers concatenated layer after layer.
struct ModelWeights {
  std::vector<float> token_embedding;  ///< [vocab][dim]
  std::vector<float> rms_att;          ///< [layers][dim]
  std::vector<float> wq;               ///< [layers][dim][dim]
  std::vector<float> wk;               ///< [layers][kv_dim][dim]
  std::vector<float> wv;               ///< [layers][kv_dim][dim]
  std::vector<float> wo;               ///< [layers][dim][dim]
  std::vector<float> rms_ffn;          ///< [layers][dim]
  std::vector<float> w1;               ///< [layers][hidden][dim]  (gate)
  std::vector<float> w2;               ///< [layers][dim][hidden]  (down)
  std::vector<float> w3;               ///< [layers][hidden][dim]  (up)
  std::vector<float> rms_final;        ///< [dim]
  /// [vocab][dim] when the model has its own classifier; empty when it is shared with the
  /// token embedding (ModelConfig::shared_classifier).
  std::vector<float> classifier;

  /// The classifier [vocab][dim]: the token embedding when shared.
  const float* wcls() const {
    return classifier.empty() ? token_embedding.data() : classifier.data();
  }
};

/// A loaded model. A GGUF file also carries its vocabulary (Tokenizer::from_model turns it
/// into a tokenizer); for a llama2.c checkpoint the vocabulary comes from a separate file.
struct Model {
  std::string source;  ///< the file it was loaded from (names it in errors)
  ModelConfig config;
  ModelWeights weights;
  std::vector<std::string> gguf_tokens;  ///< tokenizer.ggml.tokens as stored (GGUF only)
  std::vector<float> gguf_scores;        ///< tokenizer.ggml.scores (GGUF only; may be empty)
  std::string gguf_tokenizer_model;      ///< tokenizer.ggml.model, e.g. "llama" (GGUF only)
};

/// Loads a llama2.c legacy checkpoint: seven int32 (dim, hidden_dim, n_layers, n_heads,
/// n_kv_heads, vocab_size, seq_len; a negative vocab_size means a separate classifier at
/// the end), the float32 tensors in llama2.c's order, and the two unused RoPE tables, which
/// are skipped. The file must be exactly as long as its header says.
Model load_llama2c(const std::string& path);

/// Loads a GGUF (v2 or v3) file of architecture "llama": the config from the llama.*
/// metadata keys, the vocabulary from tokenizer.ggml.tokens/scores, tensors of type F32,
/// F16, BF16 or Q8_0 (converted to float32), mapped onto llama2.c's arrays.
Model load_gguf(const std::string& path);

/// load_gguf or load_llama2c by the file's first four bytes ("GGUF" or not).
Model load_model(const std::string& path);

/// The same loaders on bytes already in memory; `name` stands for the file in errors.
Model parse_llama2c(const std::string& name, const std::vector<uint8_t>& bytes);
Model parse_gguf_model(const std::string& name, const std::vector<uint8_t>& bytes);

/// Checks that every weight array has the size the config implies (the loaders guarantee
/// it; a Model assembled by hand may not). Throws ModelError naming the array.
void check_weights(const Model& model);

/// The whole file, or a ModelError naming it when it cannot be opened or read.
std::vector<uint8_t> read_model_file(const std::string& path);

}  // namespace ks::llm
