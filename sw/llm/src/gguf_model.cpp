// A llama-architecture GGUF file as a Model in llama2.c's layout.
#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>

#include "kestrel/llm/gguf.h"
#include "kestrel/llm/model.h"
#include "loader.h"

namespace ks::llm {

namespace {

// A config value: an integer key in [1, INT_MAX] (or `fallback` when absent and >= 0).
int config_int(const GgufFile& g, const char* key, int fallback = -1) {
  const GgufKeyValue* kv = g.find(key);
  if (!kv) {
    if (fallback >= 0) return fallback;
    throw ModelError(g.name(), key, "missing");
  }
  const int64_t v = g.get_int(*kv);
  if (v <= 0) throw ModelError(g.name(), key, std::to_string(v) + " must be positive");
  if (v > INT_MAX) throw ModelError(g.name(), key, std::to_string(v) + " is too large");
  return static_cast<int>(v);
}

// The tensor `name` with ggml dims `dims` (row length first); ModelError when it is
// missing or shaped otherwise.
const GgufTensorInfo& tensor(const GgufFile& g, const std::string& name,
                             const std::vector<uint64_t>& dims) {
  const GgufTensorInfo* t = g.find_tensor(name);
  if (!t) throw ModelError(g.name(), "tensor " + name, "missing");
  auto text = [](auto begin, auto end) {
    std::string s = "[";
    for (auto it = begin; it != end; ++it) s += (it == begin ? "" : ", ") + std::to_string(*it);
    return s + "]";
  };
  if (!std::equal(t->dims.begin(), t->dims.end(), dims.begin(), dims.end())) {
    throw ModelError(g.name(), "tensor " + name,
                     "dims " + text(t->dims.begin(), t->dims.end()) + ", the metadata implies " +
                         text(dims.begin(), dims.end()));
  }
  // Refuse types the float loader cannot convert now, before anything is allocated.
  const auto type = static_cast<GgmlType>(t->type);
  if (type != GgmlType::kF32 && type != GgmlType::kF16 && type != GgmlType::kBF16 &&
      type != GgmlType::kQ8_0) {
    throw ModelError(g.name(), "tensor " + name,
                     "type " + ggml_type_name(t->type) +
                         " cannot be converted to float (supported: F32, F16, BF16, Q8_0)");
  }
  return *t;
}

void append(std::vector<float>* dest, const std::vector<float>& v) {
  dest->insert(dest->end(), v.begin(), v.end());
}

Model model_from_gguf(const GgufFile& g) {
  const std::string& name = g.name();

  const GgufKeyValue* arch = g.find("general.architecture");
  if (!arch) throw ModelError(name, "general.architecture", "missing");
  const std::string arch_name = g.get_string(*arch);
  if (arch_name != "llama") {
    throw ModelError(name, "general.architecture",
                     "'" + arch_name + "' is not supported (only llama)");
  }

  Model m;
  m.source = name;
  ModelConfig& c = m.config;
  c.dim = config_int(g, "llama.embedding_length");
  c.hidden_dim = config_int(g, "llama.feed_forward_length");
  c.n_layers = config_int(g, "llama.block_count");
  c.n_heads = config_int(g, "llama.attention.head_count");
  c.n_kv_heads = config_int(g, "llama.attention.head_count_kv", c.n_heads);  // optional: MHA
  c.seq_len = config_int(g, "llama.context_length");

  // The vocabulary: its size is the model's, and a GGUF carries its own tokenizer.
  const GgufKeyValue* tokens = g.find("tokenizer.ggml.tokens");
  if (!tokens)
    throw ModelError(name, "tokenizer.ggml.tokens", "missing (it gives the vocabulary size)");
  m.gguf_tokens = g.get_string_array(*tokens);
  if (m.gguf_tokens.empty() || m.gguf_tokens.size() > static_cast<size_t>(INT_MAX)) {
    throw ModelError(name, "tokenizer.ggml.tokens",
                     std::to_string(m.gguf_tokens.size()) + " tokens is not a vocabulary size");
  }
  c.vocab_size = static_cast<int>(m.gguf_tokens.size());
  if (const GgufKeyValue* scores = g.find("tokenizer.ggml.scores")) {
    m.gguf_scores = g.get_float_array(*scores);
    if (m.gguf_scores.size() != m.gguf_tokens.size()) {
      throw ModelError(name, "tokenizer.ggml.scores",
                       std::to_string(m.gguf_scores.size()) + " scores for " +
                           std::to_string(m.gguf_tokens.size()) + " tokens");
    }
  }
  if (const GgufKeyValue* tm = g.find("tokenizer.ggml.model"))
    m.gguf_tokenizer_model = g.get_string(*tm);

  detail::check_config(name, c,
                       {"llama.embedding_length", "llama.feed_forward_length", "llama.block_count",
                        "llama.attention.head_count", "llama.attention.head_count_kv",
                        "tokenizer.ggml.tokens", "llama.context_length"});

  // What the reference implements is llama2.c's arithmetic; refuse files that need more.
  if (const GgufKeyValue* kv = g.find("llama.rope.dimension_count")) {
    const int64_t rd = g.get_int(*kv);
    if (rd != c.head_size()) {
      throw ModelError(name, kv->key,
                       std::to_string(rd) + " differs from the head size " +
                           std::to_string(c.head_size()) + " (only full-width RoPE is supported)");
    }
  }
  if (const GgufKeyValue* kv = g.find("llama.rope.freq_base")) {
    const double base = g.get_float(*kv);
    if (base != 10000.0) {
      throw ModelError(name, kv->key,
                       std::to_string(base) + " is not supported (llama2.c uses 10000)");
    }
  }
  if (const GgufKeyValue* kv = g.find("llama.attention.layer_norm_rms_epsilon")) {
    const double eps = g.get_float(*kv);
    if (static_cast<float>(eps) != 1e-5f) {
      throw ModelError(name, kv->key,
                       std::to_string(eps) + " is not supported (llama2.c uses 1e-5)");
    }
  }
  // Each block has nine tensors: a corrupt block count is caught before any lookup.
  if (static_cast<uint64_t>(c.n_layers) * 9 + 2 > g.tensors().size()) {
    throw ModelError(name, "llama.block_count",
                     std::to_string(c.n_layers) + " blocks need " +
                         std::to_string(static_cast<uint64_t>(c.n_layers) * 9 + 2) +
                         " tensors, the file has " + std::to_string(g.tensors().size()));
  }

  // Check every tensor's presence, shape and type before converting any.
  const auto D = static_cast<uint64_t>(c.dim), H = static_cast<uint64_t>(c.hidden_dim),
             KV = static_cast<uint64_t>(c.kv_dim()), V = static_cast<uint64_t>(c.vocab_size);
  struct Slot {
    const GgufTensorInfo* t;
    std::vector<float>* dest;
  };
  ModelWeights& w = m.weights;
  std::vector<Slot> slots;
  slots.push_back({&tensor(g, "token_embd.weight", {D, V}), &w.token_embedding});
  // Per-layer arrays are concatenated layer after layer, so fill them array by array.
  const std::pair<const char*, std::vector<float>*> per_layer[] = {
      {"attn_norm", &w.rms_att}, {"attn_q", &w.wq},      {"attn_k", &w.wk},
      {"attn_v", &w.wv},         {"attn_output", &w.wo}, {"ffn_norm", &w.rms_ffn},
      {"ffn_gate", &w.w1},       {"ffn_down", &w.w2},    {"ffn_up", &w.w3}};
  for (const auto& [suffix, dest] : per_layer) {
    const std::string s = suffix;
    for (int l = 0; l < c.n_layers; ++l) {
      const std::string tn = "blk." + std::to_string(l) + "." + s + ".weight";
      std::vector<uint64_t> dims = {D};
      if (s == "attn_q" || s == "attn_output") dims = {D, D};
      if (s == "attn_k" || s == "attn_v") dims = {D, KV};
      if (s == "ffn_gate" || s == "ffn_up") dims = {D, H};
      if (s == "ffn_down") dims = {H, D};
      slots.push_back({&tensor(g, tn, dims), dest});
    }
  }
  slots.push_back({&tensor(g, "output_norm.weight", {D}), &w.rms_final});
  const GgufTensorInfo* output = g.find_tensor("output.weight");
  if (output) tensor(g, "output.weight", {D, V});

  for (const Slot& s : slots) {
    if (s.dest->empty()) {
      // Reserve the whole array once; bounded, as every part was checked against the file.
      uint64_t total = 0;
      for (const Slot& o : slots) {
        if (o.dest == s.dest) total += o.t->n_elements;
      }
      s.dest->reserve(static_cast<size_t>(total));
    }
    append(s.dest, g.tensor_to_float(*s.t));
  }
  // A separate classifier equal to the embedding (as in stories260K) is stored as shared,
  // the way llama2.c's checkpoint stores it.
  if (output) {
    std::vector<float> cls = g.tensor_to_float(*output);
    const bool same =
        cls.size() == w.token_embedding.size() &&
        std::memcmp(cls.data(), w.token_embedding.data(), cls.size() * sizeof(float)) == 0;
    if (!same) w.classifier = std::move(cls);
  }
  c.shared_classifier = w.classifier.empty();
  return m;
}

}  // namespace

Model parse_gguf_model(const std::string& name, const std::vector<uint8_t>& bytes) {
  return model_from_gguf(GgufFile::parse(name, bytes));
}

Model load_gguf(const std::string& path) { return model_from_gguf(GgufFile::load(path)); }

}  // namespace ks::llm
