// llama2.c's tokenizer (see tokenizer.h for the semantics reproduced).
#include "kestrel/llm/tokenizer.h"

#include <algorithm>
#include <climits>
#include <cstring>

#include "bytes.h"
#include "kestrel/llm/model.h"
#include "loader.h"

namespace ks::llm {

TokenizerError::TokenizerError(std::string file, std::string field, std::string problem)
    : std::runtime_error(file + ": " + field + ": " + problem),
      file_(std::move(file)),
      field_(std::move(field)),
      problem_(std::move(problem)) {}

Tokenizer::Tokenizer(const std::string& path, int vocab_size) : source_(path) {
  if (vocab_size <= 0) {
    throw TokenizerError(path, "vocab_size", std::to_string(vocab_size) + " must be positive");
  }
  std::vector<uint8_t> bytes;
  std::string problem;
  if (!detail::read_whole_file(path, &bytes, &problem)) throw TokenizerError(path, "file", problem);
  const uint64_t size = bytes.size();
  auto file_has = [&] { return ", file has " + std::to_string(size) + " bytes"; };
  if (size < 4)
    throw TokenizerError(path, "max_token_length", "needs 4 bytes at offset 0" + file_has());
  const auto max_len = detail::load_le<int32_t>(bytes.data());
  if (max_len <= 0 || static_cast<uint64_t>(max_len) > size) {
    throw TokenizerError(path, "max_token_length",
                         std::to_string(max_len) + " is not a length within the file" + file_has());
  }
  max_token_length_ = max_len;
  // Every token takes at least its score and length: bound the count before allocating.
  if (static_cast<uint64_t>(vocab_size) > (size - 4) / 8) {
    throw TokenizerError(path, "vocab_size",
                         std::to_string(vocab_size) + " tokens need at least " +
                             std::to_string(static_cast<uint64_t>(vocab_size) * 8 + 4) + " bytes" +
                             file_has());
  }
  pieces_.reserve(static_cast<size_t>(vocab_size));
  scores_.reserve(static_cast<size_t>(vocab_size));
  uint64_t off = 4;
  for (int i = 0; i < vocab_size; ++i) {
    const std::string field = "token " + std::to_string(i);
    if (!detail::fits(off, 8, size)) {
      throw TokenizerError(
          path, field,
          "score and length need 8 bytes at offset " + std::to_string(off) + file_has());
    }
    const auto score = detail::load_le<float>(bytes.data() + off);
    const auto len = detail::load_le<int32_t>(bytes.data() + off + 4);
    off += 8;
    if (len < 0)
      throw TokenizerError(path, field, "length " + std::to_string(len) + " is negative");
    if (len > max_len) {
      throw TokenizerError(
          path, field,
          "length " + std::to_string(len) + " exceeds max_token_length " + std::to_string(max_len));
    }
    if (!detail::fits(off, static_cast<uint64_t>(len), size)) {
      throw TokenizerError(path, field,
                           "piece of " + std::to_string(len) + " bytes at offset " +
                               std::to_string(off) + " runs past the end" + file_has());
    }
    pieces_.emplace_back(reinterpret_cast<const char*>(bytes.data() + off),
                         static_cast<size_t>(len));
    scores_.push_back(score);
    off += static_cast<uint64_t>(len);
  }
  if (off != size) {
    throw TokenizerError(
        path, "file size",
        std::to_string(size - off) + " bytes follow token " + std::to_string(vocab_size - 1) +
            " (a tokenizer for a larger vocabulary than " + std::to_string(vocab_size) + "?)");
  }
  index();
}

Tokenizer::Tokenizer(std::vector<std::string> pieces, std::vector<float> scores, std::string source)
    : source_(std::move(source)), pieces_(std::move(pieces)), scores_(std::move(scores)) {
  if (pieces_.empty() || pieces_.size() > static_cast<size_t>(INT_MAX)) {
    throw TokenizerError(source_, "pieces",
                         std::to_string(pieces_.size()) + " is not a vocabulary size");
  }
  if (scores_.size() != pieces_.size()) {
    throw TokenizerError(source_, "scores",
                         std::to_string(scores_.size()) + " scores for " +
                             std::to_string(pieces_.size()) + " pieces");
  }
  for (const std::string& p : pieces_) {
    max_token_length_ =
        std::max(max_token_length_, static_cast<int>(std::min<size_t>(p.size(), INT_MAX)));
  }
  index();
}

Tokenizer Tokenizer::from_gguf_vocab(const std::vector<std::string>& tokens,
                                     const std::vector<float>& scores, const std::string& source) {
  if (scores.size() != tokens.size()) {
    throw TokenizerError(source, "tokenizer.ggml.scores",
                         scores.empty() ? std::string("missing (merging needs scores)")
                                        : std::to_string(scores.size()) + " scores for " +
                                              std::to_string(tokens.size()) + " tokens");
  }
  // llama2.c's exporter writes SentencePiece's word-boundary mark U+2581 as a plain space
  // and brackets BOS and EOS in newlines; decode() and encode() depend on both.
  static const std::string kMark = "\xE2\x96\x81";
  std::vector<std::string> pieces;
  pieces.reserve(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (i == static_cast<size_t>(kBos)) {
      pieces.emplace_back("\n<s>\n");
    } else if (i == static_cast<size_t>(kEos)) {
      pieces.emplace_back("\n</s>\n");
    } else {
      std::string p;
      const std::string& t = tokens[i];
      for (size_t j = 0; j < t.size();) {
        if (t.compare(j, kMark.size(), kMark) == 0) {
          p += ' ';
          j += kMark.size();
        } else {
          p += t[j++];
        }
      }
      pieces.push_back(std::move(p));
    }
  }
  return Tokenizer(std::move(pieces), scores, source);
}

Tokenizer Tokenizer::from_model(const Model& model) {
  if (model.gguf_tokens.empty()) {
    throw TokenizerError(
        model.source, "tokenizer.ggml.tokens",
        "the model carries no vocabulary (load the tokenizer file of a llama2.c checkpoint)");
  }
  if (!model.gguf_tokenizer_model.empty() && model.gguf_tokenizer_model != "llama") {
    throw TokenizerError(
        model.source, "tokenizer.ggml.model",
        "'" + model.gguf_tokenizer_model + "' is not supported (only llama's SentencePiece)");
  }
  return from_gguf_vocab(model.gguf_tokens, model.gguf_scores, model.source);
}

void Tokenizer::index() {
  ids_.reserve(pieces_.size());
  for (size_t i = 0; i < pieces_.size(); ++i) ids_.emplace(pieces_[i], static_cast<int>(i));
}

int Tokenizer::lookup(const std::string& piece) const {
  const auto it = ids_.find(piece);
  return it == ids_.end() ? -1 : it->second;
}

std::vector<int> Tokenizer::encode(const std::string& text, bool bos, bool eos) const {
  auto byte_token = [&](unsigned char b) {
    // Byte pieces <0x00>..<0xFF> follow <unk>, <s>, </s>: id = byte + 3.
    const int id = b + 3;
    if (id >= vocab_size()) {
      throw TokenizerError(source_, "vocabulary",
                           "no byte token for byte " + std::to_string(b) + " in " +
                               std::to_string(vocab_size()) + " tokens");
    }
    return id;
  };
  std::vector<int> tokens;
  tokens.reserve(text.size() + 3);
  if (bos) tokens.push_back(kBos);
  // SentencePiece's dummy prefix: the text is treated as if it began with a space.
  if (!text.empty()) {
    const int space = lookup(" ");
    tokens.push_back(space >= 0 ? space : byte_token(' '));
  }

  // Codepoints: collect a start byte and its continuation bytes (at most 4 bytes, as
  // run.c does, however malformed the UTF-8), then look the group up whole.
  std::string group;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto b = static_cast<unsigned char>(text[i]);
    if ((b & 0xC0) != 0x80) group.clear();
    group.push_back(text[i]);
    const bool next_continues =
        i + 1 < text.size() && (static_cast<unsigned char>(text[i + 1]) & 0xC0) == 0x80;
    if (next_continues && group.size() < 4) continue;
    const int id = lookup(group);
    if (id >= 0) {
      tokens.push_back(id);
    } else {
      for (char c : group) tokens.push_back(byte_token(static_cast<unsigned char>(c)));
    }
    group.clear();
  }

  // Merge the best-scoring adjacent pair until no adjacent pair forms a piece. Strictly
  // greater keeps the leftmost pair on equal scores, as run.c does.
  std::string pair;
  for (;;) {
    float best_score = -1e10f;
    int best_id = -1;
    size_t best_idx = 0;
    for (size_t i = 0; i + 1 < tokens.size(); ++i) {
      pair = pieces_[static_cast<size_t>(tokens[i])];
      pair += pieces_[static_cast<size_t>(tokens[i + 1])];
      const int id = lookup(pair);
      if (id != -1 && scores_[static_cast<size_t>(id)] > best_score) {
        best_score = scores_[static_cast<size_t>(id)];
        best_id = id;
        best_idx = i;
      }
    }
    if (best_id == -1) break;
    tokens[best_idx] = best_id;
    tokens.erase(tokens.begin() + static_cast<std::ptrdiff_t>(best_idx) + 1);
  }
  if (eos) tokens.push_back(kEos);
  return tokens;
}

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

std::string Tokenizer::decode(int prev, int token) const {
  if (token < 0 || token >= vocab_size()) {
    throw std::out_of_range("Tokenizer::decode: token " + std::to_string(token) +
                            " outside the vocabulary of " + std::to_string(vocab_size()));
  }
  const std::string& p = pieces_[static_cast<size_t>(token)];
  // After BOS, SentencePiece's dummy-prefix space is not part of the text.
  const size_t start = (prev == kBos && !p.empty() && p[0] == ' ') ? 1 : 0;
  if (p.size() - start == 6 && p.compare(start, 3, "<0x") == 0 && p[start + 5] == '>') {
    const int hi = hex_digit(p[start + 3]), lo = hex_digit(p[start + 4]);
    if (hi >= 0 && lo >= 0) return std::string(1, static_cast<char>(hi * 16 + lo));
  }
  return p.substr(start);
}

std::string printable_piece(const std::string& piece) {
  // run.c prints with printf("%s"), so the piece ends at its first NUL byte.
  std::string s = piece.substr(0, piece.find('\0'));
  if (s.size() == 1) {
    const auto b = static_cast<unsigned char>(s[0]);
    // isprint / isspace in the C locale (run.c never calls setlocale).
    const bool printable = b >= 0x20 && b <= 0x7E;
    const bool space = b == ' ' || (b >= '\t' && b <= '\r');
    if (!printable && !space) return "";
  }
  return s;
}

}  // namespace ks::llm
