// llama2.c's tokenizer: a SentencePiece-style vocabulary of pieces with merge scores,
// encoded the way llama2.c's run.c encodes (so token ids match it exactly) and decoded the
// way it prints.
#pragma once

#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

namespace ks::llm {

struct Model;

/// A tokenizer file (or vocabulary) is truncated, corrupt or inconsistent. what() is
/// "<file>: <field>: <problem>", as for ModelError.
class TokenizerError : public std::runtime_error {
 public:
  TokenizerError(std::string file, std::string field, std::string problem);
  const std::string& file() const { return file_; }
  const std::string& field() const { return field_; }
  const std::string& problem() const { return problem_; }

 private:
  std::string file_, field_, problem_;
};

class Tokenizer {
 public:
  static constexpr int kBos = 1;  ///< llama2.c hard-codes these two ids
  static constexpr int kEos = 2;

  /// Loads llama2.c's tokenizer file: int32 max_token_length, then per token float32 score,
  /// int32 length and the bytes. The file does not say how many tokens it holds: that is
  /// the model's vocab_size, and the file must hold exactly that many.
  Tokenizer(const std::string& path, int vocab_size);

  /// A vocabulary already in llama2.c's form (pieces with plain spaces, BOS "\n<s>\n").
  /// `source` names it in errors.
  Tokenizer(std::vector<std::string> pieces, std::vector<float> scores,
            std::string source = "vocabulary");

  /// From a GGUF vocabulary (tokenizer.ggml.tokens/scores), converted as llama2.c's
  /// exporter converts a SentencePiece model: U+2581 becomes a space, BOS becomes
  /// "\n<s>\n" and EOS "\n</s>\n". For stories260K this gives tok512.bin exactly.
  static Tokenizer from_gguf_vocab(const std::vector<std::string>& tokens,
                                   const std::vector<float>& scores, const std::string& source);
  /// The vocabulary a GGUF model carries (TokenizerError when it has none, or one of
  /// another tokenizer model than "llama", or no scores to merge by).
  static Tokenizer from_model(const Model& model);

  int vocab_size() const { return static_cast<int>(pieces_.size()); }
  const std::string& piece(int id) const { return pieces_.at(static_cast<size_t>(id)); }
  float score(int id) const { return scores_.at(static_cast<size_t>(id)); }
  /// Longest piece in bytes (the file's field, or computed for a vocabulary).
  int max_token_length() const { return max_token_length_; }
  const std::string& source() const { return source_; }

  /// Token ids of `text`, as run.c's encode: optional BOS; the dummy-prefix token " " when
  /// the text is not empty; each UTF-8 codepoint (at most 4 bytes) looked up as a piece, or
  /// else its bytes as byte tokens <0xXX> (id byte + 3); then repeatedly merge the adjacent
  /// pair whose concatenation is the piece of highest score (leftmost on ties) until no
  /// pair is a piece; optional EOS. (run.c stops at a NUL byte because it takes a C string;
  /// here a NUL byte is encoded like any other byte.)
  std::vector<int> encode(const std::string& text, bool bos, bool eos) const;

  /// The text of `token` following `prev`, as run.c's decode: after BOS a leading space is
  /// dropped; a byte piece <0xXX> is that one raw byte. Throws std::out_of_range for a token
  /// outside the vocabulary.
  std::string decode(int prev, int token) const;

  /// Piece id of exactly `piece`, or -1. With duplicate pieces, the lowest id.
  int lookup(const std::string& piece) const;

 private:
  void index();

  std::string source_;
  std::vector<std::string> pieces_;
  std::vector<float> scores_;
  std::unordered_map<std::string, int> ids_;
  int max_token_length_ = 0;
};

/// What run.c's safe_printf prints of a decoded piece: nothing for an empty piece or a
/// single byte that is neither printable nor whitespace (a lone byte of a multi-byte UTF-8
/// character, a control byte); otherwise the piece up to its first NUL byte.
std::string printable_piece(const std::string& piece);

}  // namespace ks::llm
