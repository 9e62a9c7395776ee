// ModelError, file reading, the shape checks shared by both loaders, and the llama2.c
// legacy checkpoint loader.
#include "kestrel/llm/model.h"

#include <climits>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <tuple>

#include "bytes.h"
#include "loader.h"

namespace ks::llm {

using detail::fits;
using detail::mul_u64;

ModelError::ModelError(std::string file, std::string field, std::string problem)
    : std::runtime_error(file + ": " + field + ": " + problem),
      file_(std::move(file)),
      field_(std::move(field)),
      problem_(std::move(problem)) {}

namespace detail {

bool read_whole_file(const std::string& path, std::vector<uint8_t>* out, std::string* problem) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec) {
    *problem = "cannot open: " + ec.message();
    return false;
  }
  // A directory or a device (/dev/zero) has no meaningful size to bound the reads by.
  if (!fs::is_regular_file(st)) {
    *problem = "not a regular file";
    return false;
  }
  const uintmax_t size = fs::file_size(path, ec);
  if (ec) {
    *problem = "cannot read its size: " + ec.message();
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *problem = "cannot open for reading";
    return false;
  }
  out->assign(static_cast<size_t>(size), 0);
  if (size != 0 &&
      !in.read(reinterpret_cast<char*>(out->data()), static_cast<std::streamsize>(size))) {
    *problem = "read " + std::to_string(in.gcount()) + " of " + std::to_string(size) + " bytes";
    return false;
  }
  return true;
}

void check_config(const std::string& file, const ModelConfig& c, const ConfigFieldNames& n) {
  const std::pair<const char*, int> fields[] = {
      {n.dim, c.dim},         {n.hidden_dim, c.hidden_dim}, {n.n_layers, c.n_layers},
      {n.n_heads, c.n_heads}, {n.n_kv_heads, c.n_kv_heads}, {n.vocab_size, c.vocab_size},
      {n.seq_len, c.seq_len}};
  for (const auto& [field, value] : fields) {
    if (value <= 0) throw ModelError(file, field, std::to_string(value) + " must be positive");
  }
  if (c.dim % c.n_heads != 0) {
    throw ModelError(
        file, n.n_heads,
        std::to_string(c.n_heads) + " does not divide " + n.dim + " " + std::to_string(c.dim));
  }
  if (c.n_kv_heads > c.n_heads || c.n_heads % c.n_kv_heads != 0) {
    throw ModelError(file, n.n_kv_heads,
                     std::to_string(c.n_kv_heads) + " does not divide " + n.n_heads + " " +
                         std::to_string(c.n_heads));
  }
  if (c.head_size() % 2 != 0) {
    throw ModelError(file, n.n_heads,
                     "head size " + std::to_string(c.dim) + " / " + std::to_string(c.n_heads) +
                         " = " + std::to_string(c.head_size()) + " is odd (RoPE rotates pairs)");
  }
}

}  // namespace detail

std::vector<uint8_t> read_model_file(const std::string& path) {
  std::vector<uint8_t> bytes;
  std::string problem;
  if (!detail::read_whole_file(path, &bytes, &problem)) throw ModelError(path, "file", problem);
  return bytes;
}

namespace {

constexpr size_t kHeaderBytes = 7 * sizeof(int32_t);

// One float32 array of the checkpoint: where it is and where it goes (nullptr: skipped).
struct Extent {
  const char* name;
  std::vector<float>* dest;
  uint64_t offset;
  uint64_t count;
};

// A dimension of a tensor's shape, with the header field it comes from (for messages).
struct Dim {
  const char* field;
  uint64_t value;
};

}  // namespace

Model parse_llama2c(const std::string& name, const std::vector<uint8_t>& bytes) {
  const uint64_t size = bytes.size();
  if (size < kHeaderBytes) {
    throw ModelError(name, "header",
                     "needs 28 bytes (seven int32), file has " + std::to_string(size) + " bytes");
  }
  if (std::memcmp(bytes.data(), "GGUF", 4) == 0) {
    throw ModelError(name, "header", "this is a GGUF file, not a llama2.c checkpoint");
  }
  // llama2.c's newer export versions start with the magic "ak42" (0x616b3432) and a
  // version; only the legacy (version 0) layout, which has no magic, is read here.
  if (detail::load_le<uint32_t>(bytes.data()) == 0x616b3432u) {
    throw ModelError(name, "header",
                     "llama2.c export version " +
                         std::to_string(detail::load_le<int32_t>(bytes.data() + 4)) +
                         " (magic ak42) is not supported, only the legacy layout");
  }
  int32_t h[7];
  std::memcpy(h, bytes.data(), sizeof h);

  Model m;
  m.source = name;
  ModelConfig& c = m.config;
  c.dim = h[0];
  c.hidden_dim = h[1];
  c.n_layers = h[2];
  c.n_heads = h[3];
  c.n_kv_heads = h[4];
  // llama2.c's convention: a negative vocab_size flags a separate classifier at the end.
  if (h[5] == INT32_MIN) {
    throw ModelError(name, "vocab_size", std::to_string(h[5]) + " is not a vocabulary size");
  }
  c.vocab_size = h[5] < 0 ? -h[5] : h[5];
  c.shared_classifier = h[5] > 0;
  c.seq_len = h[6];
  detail::check_config(
      name, c, {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"});

  // Walk the arrays in file order, checking each against the file before any allocation.
  const uint64_t L = static_cast<uint64_t>(c.n_layers);
  const Dim layers{"n_layers", L}, dim{"dim", static_cast<uint64_t>(c.dim)},
      kv{"kv_dim", static_cast<uint64_t>(c.kv_dim())},
      hidden{"hidden_dim", static_cast<uint64_t>(c.hidden_dim)},
      vocab{"vocab_size", static_cast<uint64_t>(c.vocab_size)},
      seq{"seq_len", static_cast<uint64_t>(c.seq_len)},
      half_head{"head_size/2", static_cast<uint64_t>(c.head_size() / 2)};
  ModelWeights& w = m.weights;
  std::vector<Extent> extents;
  uint64_t offset = kHeaderBytes;
  auto add = [&](const char* tensor, std::vector<float>* dest, std::initializer_list<Dim> dims) {
    uint64_t count = 1;
    bool overflow = false;
    std::string fields, values;
    for (const Dim& d : dims) {
      overflow = overflow || !mul_u64(count, d.value, &count);
      fields += std::string(fields.empty() ? "" : " x ") + d.field;
      values += (values.empty() ? "" : " x ") + std::to_string(d.value);
    }
    uint64_t nbytes = 0;
    overflow = overflow || !mul_u64(count, sizeof(float), &nbytes);
    const std::string shape = fields + " = " + values + " floats";
    if (overflow) {
      throw ModelError(
          name, std::string("tensor ") + tensor,
          shape + " need more than 2^64 bytes, file has " + std::to_string(size) + " bytes");
    }
    if (!fits(offset, nbytes, size)) {
      throw ModelError(name, std::string("tensor ") + tensor,
                       shape + " need " + std::to_string(nbytes) + " bytes at offset " +
                           std::to_string(offset) + ", file has " + std::to_string(size) +
                           " bytes");
    }
    extents.push_back({tensor, dest, offset, count});
    offset += nbytes;
  };
  add("token_embedding", &w.token_embedding, {vocab, dim});
  add("rms_att", &w.rms_att, {layers, dim});
  add("wq", &w.wq, {layers, dim, dim});
  add("wk", &w.wk, {layers, kv, dim});
  add("wv", &w.wv, {layers, kv, dim});
  add("wo", &w.wo, {layers, dim, dim});
  add("rms_ffn", &w.rms_ffn, {layers, dim});
  add("w1", &w.w1, {layers, hidden, dim});
  add("w2", &w.w2, {layers, dim, hidden});
  add("w3", &w.w3, {layers, hidden, dim});
  add("rms_final", &w.rms_final, {dim});
  add("freq_cis_real", nullptr, {seq, half_head});  // legacy RoPE tables, unused
  add("freq_cis_imag", nullptr, {seq, half_head});
  if (!c.shared_classifier) add("classifier", &w.classifier, {vocab, dim});
  if (offset != size) {
    // Extra bytes mean the header does not describe this file (or it is two files).
    throw ModelError(name, "file size",
                     std::to_string(size) + " bytes, but the header (dim " + std::to_string(c.dim) +
                         ", hidden_dim " + std::to_string(c.hidden_dim) + ", n_layers " +
                         std::to_string(c.n_layers) + ", n_heads " + std::to_string(c.n_heads) +
                         ", n_kv_heads " + std::to_string(c.n_kv_heads) + ", vocab_size " +
                         std::to_string(h[5]) + ", seq_len " + std::to_string(c.seq_len) +
                         ") describes " + std::to_string(offset));
  }
  for (const Extent& e : extents) {
    if (e.dest) *e.dest = detail::load_floats(bytes.data() + e.offset, e.count);
  }
  return m;
}

void check_weights(const Model& m) {
  const ModelConfig& c = m.config;
  detail::check_config(
      m.source, c,
      {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"});
  const ModelWeights& w = m.weights;
  const auto L = static_cast<uint64_t>(c.n_layers), D = static_cast<uint64_t>(c.dim),
             KV = static_cast<uint64_t>(c.kv_dim()), H = static_cast<uint64_t>(c.hidden_dim),
             V = static_cast<uint64_t>(c.vocab_size);
  // Products saturate instead of wrapping, so an absurd config cannot match by accident.
  const auto n = [](std::initializer_list<uint64_t> dims) {
    uint64_t p = 1;
    for (uint64_t d : dims) {
      if (!mul_u64(p, d, &p)) return UINT64_MAX;
    }
    return p;
  };
  const std::tuple<const char*, const std::vector<float>*, uint64_t> arrays[] = {
      {"token_embedding", &w.token_embedding, n({V, D})},
      {"rms_att", &w.rms_att, n({L, D})},
      {"wq", &w.wq, n({L, D, D})},
      {"wk", &w.wk, n({L, KV, D})},
      {"wv", &w.wv, n({L, KV, D})},
      {"wo", &w.wo, n({L, D, D})},
      {"rms_ffn", &w.rms_ffn, n({L, D})},
      {"w1", &w.w1, n({L, H, D})},
      {"w2", &w.w2, n({L, D, H})},
      {"w3", &w.w3, n({L, H, D})},
      {"rms_final", &w.rms_final, D},
      {"classifier", &w.classifier, c.shared_classifier ? 0 : n({V, D})}};
  for (const auto& [name, v, count] : arrays) {
    if (v->size() != count) {
      throw ModelError(m.source, std::string("tensor ") + name,
                       "has " + std::to_string(v->size()) + " floats, the config implies " +
                           std::to_string(count));
    }
  }
}

Model load_llama2c(const std::string& path) { return parse_llama2c(path, read_model_file(path)); }

Model load_model(const std::string& path) {
  const std::vector<uint8_t> bytes = read_model_file(path);
  if (bytes.size() >= 4 && std::memcmp(bytes.data(), "GGUF", 4) == 0) {
    return parse_gguf_model(path, bytes);
  }
  return parse_llama2c(path, bytes);
}

}  // namespace ks::llm
