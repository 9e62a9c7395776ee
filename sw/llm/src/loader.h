// Internal to ks_llm: pieces shared by the two model loaders and the tokenizer loader.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kestrel/llm/model.h"

namespace ks::llm::detail {

/// Reads a whole regular file into `out`. On failure returns false and says why in
/// `problem` (e.g. "cannot open: No such file or directory").
bool read_whole_file(const std::string& path, std::vector<uint8_t>* out, std::string* problem);

/// The names a file format gives the config fields, for error messages.
struct ConfigFieldNames {
  const char* dim;
  const char* hidden_dim;
  const char* n_layers;
  const char* n_heads;
  const char* n_kv_heads;
  const char* vocab_size;
  const char* seq_len;
};

/// Checks what the forward pass relies on: every field positive, n_heads divides dim,
/// n_kv_heads divides n_heads, and the head size is even (RoPE rotates pairs). Throws
/// ModelError naming the field as the file calls it.
void check_config(const std::string& file, const ModelConfig& c, const ConfigFieldNames& names);

}  // namespace ks::llm::detail
