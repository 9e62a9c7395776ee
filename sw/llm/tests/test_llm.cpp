// ks_llm: the stories260K model files, the tokenizer, the float32 reference against
// llama2.c run.c's published outputs, and the loaders' refusal of corrupt files.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "kestrel/llm/gguf.h"
#include "kestrel/llm/model.h"
#include "kestrel/llm/reference.h"
#include "kestrel/llm/tokenizer.h"

namespace {

using namespace ks::llm;
namespace fs = std::filesystem;

const std::string kDir = KS_MODELS_DIR;
const std::string kBin = kDir + "/stories260K.bin";
const std::string kGguf = kDir + "/stories260K.gguf";
const std::string kTok = kDir + "/tok512.bin";

// llama2.c run.c's output for stories260K (models/stories260K/README.md), without the
// final newline run.c prints after the loop.
const std::string kStory =
    "Once upon a time, there was a little girl named Lily. She loved to play outside in the "
    "park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.\n"
    "Lily's mom said, \"Lily, let's go to the park.\" Lily was sad and didn't know what to do. "
    "She said, \"I want to play with your ball, but I can't find it.\"\n"
    "Lily was sad and didn't know what to do. She said, \"I'm sorry, Lily. I didn't know what "
    "to do.\"\n"
    "Lily didn't want to help her mom, so she said, \"I'm sorry, mom. I didn't know what to "
    "do.\" Her mom said, \"Don't worry, Lily. We can help you.";
const std::string kCat =
    "The cat and a boy were playing in the park. They liked to play with their toys and run "
    "around the park. They liked to play with their toys and seek.\n"
    "One day,";

// Loaded once: every test reads the same files.
const Model& bin_model() {
  static const Model m = load_llama2c(kBin);
  return m;
}
const Model& gguf_model() {
  static const Model m = load_gguf(kGguf);
  return m;
}
const Tokenizer& tok() {
  static const Tokenizer t(kTok, 512);
  return t;
}

std::vector<uint8_t> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

// A scratch directory for the corrupt files, removed with the fixture.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ =
        fs::temp_directory_path() / ("ks_llm_" + std::string(info->test_suite_name()) + "_" +
                                     info->name() + "_" + std::to_string(std::random_device{}()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string write(const std::string& name, const std::vector<uint8_t>& bytes) const {
    const std::string p = (path_ / name).string();
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    return p;
  }

 private:
  fs::path path_;
};

template <class T>
void put(std::vector<uint8_t>& b, size_t off, T v) {
  std::memcpy(b.data() + off, &v, sizeof v);
}
template <class T>
T get(const std::vector<uint8_t>& b, size_t off) {
  T v;
  std::memcpy(&v, b.data() + off, sizeof v);
  return v;
}
template <class T>
void append(std::vector<uint8_t>& b, T v) {
  const size_t at = b.size();
  b.resize(at + sizeof v);
  std::memcpy(b.data() + at, &v, sizeof v);
}
void append_str(std::vector<uint8_t>& b, const std::string& s) {
  append<uint64_t>(b, s.size());
  b.insert(b.end(), s.begin(), s.end());
}

// Expects `f` to throw E whose message starts with the file name and names `field`.
template <class E>
void expect_error(const std::function<void()>& f, const std::string& file, const std::string& field,
                  const std::string& problem_part = "") {
  try {
    f();
    ADD_FAILURE() << "no error; expected one naming " << field;
  } catch (const E& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind(file + ": ", 0), 0u) << what;
    EXPECT_EQ(e.field(), field) << what;
    EXPECT_NE(what.find(problem_part), std::string::npos)
        << what << "\n  expected: " << problem_part;
  }
}

// Greedy generation: the printed text and the tokens.
std::string generate_text(const Model& m, const Tokenizer& t, const std::string& prompt, int steps,
                          std::vector<int>* tokens = nullptr, float temperature = 0.0f,
                          float topp = 0.9f, uint64_t seed = 1) {
  std::string text;
  std::vector<int> toks = generate_reference(m, t, prompt, steps, temperature, topp, seed,
                                             [&](int, const std::string& piece) { text += piece; });
  if (tokens) *tokens = std::move(toks);
  return text;
}

// ---------------------------------------------------------------------------------------
// Model files and loaders

TEST(ModelFiles, Llama2cCheckpointLoads) {
  const Model& m = bin_model();
  const ModelConfig& c = m.config;
  EXPECT_EQ(c.dim, 64);
  EXPECT_EQ(c.hidden_dim, 172);
  EXPECT_EQ(c.n_layers, 5);
  EXPECT_EQ(c.n_heads, 8);
  EXPECT_EQ(c.n_kv_heads, 4);
  EXPECT_EQ(c.vocab_size, 512);
  EXPECT_EQ(c.seq_len, 512);
  EXPECT_TRUE(c.shared_classifier);
  EXPECT_EQ(c.head_size(), 8);
  EXPECT_EQ(c.kv_dim(), 32);
  const ModelWeights& w = m.weights;
  EXPECT_EQ(w.token_embedding.size(), 512u * 64);
  EXPECT_EQ(w.rms_att.size(), 5u * 64);
  EXPECT_EQ(w.wq.size(), 5u * 64 * 64);
  EXPECT_EQ(w.wk.size(), 5u * 32 * 64);
  EXPECT_EQ(w.wv.size(), 5u * 32 * 64);
  EXPECT_EQ(w.wo.size(), 5u * 64 * 64);
  EXPECT_EQ(w.rms_ffn.size(), 5u * 64);
  EXPECT_EQ(w.w1.size(), 5u * 172 * 64);
  EXPECT_EQ(w.w2.size(), 5u * 64 * 172);
  EXPECT_EQ(w.w3.size(), 5u * 172 * 64);
  EXPECT_EQ(w.rms_final.size(), 64u);
  EXPECT_TRUE(w.classifier.empty());
  EXPECT_EQ(w.wcls(), w.token_embedding.data());
  // The first embedding float is right after the 28-byte header.
  EXPECT_EQ(w.token_embedding[0], get<float>(file_bytes(kBin), 28));
  EXPECT_TRUE(m.gguf_tokens.empty());
}

TEST(ModelFiles, GgufHasTheSameWeightsAsTheCheckpoint) {
  const Model& g = gguf_model();
  const Model& b = bin_model();
  EXPECT_EQ(g.config.dim, b.config.dim);
  EXPECT_EQ(g.config.hidden_dim, b.config.hidden_dim);
  EXPECT_EQ(g.config.n_layers, b.config.n_layers);
  EXPECT_EQ(g.config.n_heads, b.config.n_heads);
  EXPECT_EQ(g.config.n_kv_heads, b.config.n_kv_heads);
  EXPECT_EQ(g.config.vocab_size, b.config.vocab_size);
  EXPECT_EQ(g.config.seq_len, 2048);        // llama.context_length; the checkpoint says 512
  EXPECT_TRUE(g.config.shared_classifier);  // output.weight equals token_embd.weight
  const ModelWeights& x = g.weights;
  const ModelWeights& y = b.weights;
  EXPECT_EQ(x.token_embedding, y.token_embedding);
  EXPECT_EQ(x.rms_att, y.rms_att);
  EXPECT_EQ(x.wq, y.wq);
  EXPECT_EQ(x.wk, y.wk);
  EXPECT_EQ(x.wv, y.wv);
  EXPECT_EQ(x.wo, y.wo);
  EXPECT_EQ(x.rms_ffn, y.rms_ffn);
  EXPECT_EQ(x.w1, y.w1);
  EXPECT_EQ(x.w2, y.w2);
  EXPECT_EQ(x.w3, y.w3);
  EXPECT_EQ(x.rms_final, y.rms_final);
  EXPECT_TRUE(x.classifier.empty());
  EXPECT_EQ(g.gguf_tokens.size(), 512u);
  EXPECT_EQ(g.gguf_scores.size(), 512u);
  EXPECT_EQ(g.gguf_tokenizer_model, "llama");
}

TEST(ModelFiles, LoadModelDispatchesOnTheMagic) {
  EXPECT_EQ(load_model(kGguf).config.seq_len, 2048);
  EXPECT_EQ(load_model(kBin).config.seq_len, 512);
}

TEST(Gguf, MetadataOfEveryKindIsReadable) {
  const GgufFile g = GgufFile::load(kGguf);
  EXPECT_EQ(g.version(), 3u);
  EXPECT_EQ(g.alignment(), 32u);
  EXPECT_EQ(g.metadata().size(), 19u);
  ASSERT_EQ(g.tensors().size(), 48u);
  EXPECT_EQ(g.data_offset() % 32, 0u);
  ASSERT_NE(g.find("general.architecture"), nullptr);
  EXPECT_EQ(g.get_string(*g.find("general.architecture")), "llama");
  EXPECT_EQ(g.get_int(*g.find("llama.block_count")), 5);
  EXPECT_EQ(g.get_uint(*g.find("tokenizer.ggml.padding_token_id")), 4294967295u);
  EXPECT_FLOAT_EQ(
      static_cast<float>(g.get_float(*g.find("llama.attention.layer_norm_rms_epsilon"))), 1e-5f);
  const std::vector<int64_t> types = g.get_int_array(*g.find("tokenizer.ggml.token_type"));
  ASSERT_EQ(types.size(), 512u);
  EXPECT_EQ(types[0], 2);  // <unk>: unknown
  EXPECT_EQ(types[3], 6);  // <0x00>: byte
  const std::vector<std::string> toks = g.get_string_array(*g.find("tokenizer.ggml.tokens"));
  EXPECT_EQ(toks[1], "<s>");
  EXPECT_EQ(toks[259], "\xE2\x96\x81t");
  const GgufTensorInfo* t = g.find_tensor("blk.0.attn_k.weight");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->dims, (std::vector<uint64_t>{64, 32}));
  EXPECT_EQ(t->type, 0u);
  EXPECT_EQ(t->n_bytes, 64u * 32 * 4);
  EXPECT_EQ(g.find("no.such.key"), nullptr);
  EXPECT_EQ(g.find_tensor("no.such.tensor"), nullptr);
  // A type mismatch names the key.
  expect_error<ModelError>([&] { g.get_string(*g.find("llama.block_count")); }, kGguf,
                           "llama.block_count", "UINT32");
  expect_error<ModelError>([&] { g.get_int(*g.find("general.name")); }, kGguf, "general.name",
                           "STRING");
}

TEST(Gguf, HalfAndBfloat16Conversion) {
  EXPECT_EQ(half_to_float(0x3C00), 1.0f);
  EXPECT_EQ(half_to_float(0xC000), -2.0f);
  EXPECT_EQ(half_to_float(0x7BFF), 65504.0f);
  EXPECT_EQ(half_to_float(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(half_to_float(0x03FF), std::ldexp(1023.0f, -24));
  EXPECT_EQ(half_to_float(0x0400), std::ldexp(1.0f, -14));  // smallest normal
  EXPECT_TRUE(std::signbit(half_to_float(0x8000)));
  EXPECT_TRUE(std::isinf(half_to_float(0x7C00)));
  EXPECT_TRUE(std::isnan(half_to_float(0x7E00)));
  EXPECT_EQ(bf16_to_float(0x3F80), 1.0f);
  EXPECT_EQ(bf16_to_float(0xC040), -3.0f);
}

// ---------------------------------------------------------------------------------------
// A GGUF writer for the tests: re-encodes stories260K with other tensor types, and builds
// files the loaders must refuse.

uint16_t float_to_half(float f) {  // round to nearest even
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const int exp = static_cast<int>((x >> 23) & 0xFF) - 127 + 15;
  uint32_t mant = x & 0x7FFFFFu;
  if (((x >> 23) & 0xFF) == 0xFF)
    return static_cast<uint16_t>(sign | 0x7C00u | (mant ? 0x200u : 0));
  if (exp >= 31) return static_cast<uint16_t>(sign | 0x7C00u);
  if (exp <= 0) {
    if (exp < -10) return static_cast<uint16_t>(sign);
    mant |= 0x800000u;
    const int shift = 14 - exp;
    uint32_t h = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1))) ++h;
    return static_cast<uint16_t>(sign | h);
  }
  uint32_t h = (static_cast<uint32_t>(exp) << 10) | (mant >> 13);
  const uint32_t rem = mant & 0x1FFFu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) ++h;
  return static_cast<uint16_t>(sign | h);
}

struct BuiltTensor {
  std::string name;
  std::vector<uint64_t> dims;
  uint32_t type;
  std::vector<uint8_t> data;
};

struct GgufBuilder {
  uint32_t version = 3;
  uint64_t alignment = 32;
  std::vector<std::vector<uint8_t>> kvs;  // each: key, type, value
  std::vector<BuiltTensor> tensors;

  void kv_raw(const std::string& key, uint32_t type, const std::vector<uint8_t>& value) {
    std::vector<uint8_t> b;
    append_str(b, key);
    append<uint32_t>(b, type);
    b.insert(b.end(), value.begin(), value.end());
    kvs.push_back(std::move(b));
  }
  void kv_u32(const std::string& key, uint32_t v) {
    std::vector<uint8_t> b;
    append(b, v);
    kv_raw(key, 4, b);
  }
  void kv_string(const std::string& key, const std::string& s) {
    std::vector<uint8_t> b;
    append_str(b, s);
    kv_raw(key, 8, b);
  }

  std::vector<uint8_t> build() const {
    std::vector<uint8_t> b = {'G', 'G', 'U', 'F'};
    append(b, version);
    append<uint64_t>(b, tensors.size());
    append<uint64_t>(b, kvs.size());
    for (const auto& kv : kvs) b.insert(b.end(), kv.begin(), kv.end());
    uint64_t off = 0;
    std::vector<uint64_t> offsets;
    for (const BuiltTensor& t : tensors) {
      append_str(b, t.name);
      append<uint32_t>(b, static_cast<uint32_t>(t.dims.size()));
      for (uint64_t d : t.dims) append(b, d);
      append(b, t.type);
      append(b, off);
      offsets.push_back(off);
      off += (t.data.size() + alignment - 1) / alignment * alignment;
    }
    b.resize((b.size() + alignment - 1) / alignment * alignment, 0);
    const size_t data = b.size();
    b.resize(data + off, 0);
    for (size_t i = 0; i < tensors.size(); ++i) {
      std::copy(tensors[i].data.begin(), tensors[i].data.end(),
                b.begin() + static_cast<long>(data + offsets[i]));
    }
    return b;
  }
};

using Encoded = std::pair<uint32_t, std::vector<uint8_t>>;  // ggml type, bytes

// stories260K's metadata and tensors, each tensor re-encoded by `encode` (given its dims
// and float values).
GgufBuilder stories_builder(
    const std::function<Encoded(const std::vector<uint64_t>&, const std::vector<float>&)>& encode) {
  const GgufFile g = GgufFile::load(kGguf);
  const std::vector<uint8_t> raw = file_bytes(kGguf);
  GgufBuilder b;
  for (const GgufKeyValue& kv : g.metadata()) {
    const size_t start = kv.type == GgufValueType::kArray ? kv.offset - 12 : kv.offset;
    b.kv_raw(kv.key, static_cast<uint32_t>(kv.type),
             std::vector<uint8_t>(raw.begin() + static_cast<long>(start),
                                  raw.begin() + static_cast<long>(kv.offset + kv.size)));
  }
  for (const GgufTensorInfo& t : g.tensors()) {
    auto [type, data] = encode(t.dims, g.tensor_to_float(t));
    b.tensors.push_back({t.name, t.dims, type, std::move(data)});
  }
  return b;
}

Encoded encode_f32(const std::vector<uint64_t>&, const std::vector<float>& v) {
  std::vector<uint8_t> out(v.size() * 4);
  std::memcpy(out.data(), v.data(), out.size());
  return {0, out};
}

Encoded encode_f16(const std::vector<uint64_t>&, const std::vector<float>& v) {
  std::vector<uint8_t> out;
  for (float f : v) append(out, float_to_half(f));
  return {1, out};
}

Encoded encode_q8_0(const std::vector<float>& v) {
  std::vector<uint8_t> out;
  if (v.size() % 32 != 0) ADD_FAILURE() << "not whole Q8_0 blocks";
  for (size_t b = 0; b < v.size(); b += 32) {
    float amax = 0;
    for (size_t j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(v[b + j]));
    const uint16_t dh = float_to_half(amax / 127.0f);
    const float d = half_to_float(dh);
    append(out, dh);
    for (size_t j = 0; j < 32; ++j) {
      const float q = d == 0 ? 0.0f : std::round(v[b + j] / d);
      append(out, static_cast<int8_t>(std::clamp(q, -127.0f, 127.0f)));
    }
  }
  return {8, out};
}

// Fraction of positions where `m`'s top-1 token equals the next token of `tokens`
// (teacher forcing along the float reference's greedy story).
double top1_agreement(const Model& m, const std::vector<int>& tokens) {
  ReferenceModel rm(m);
  int agree = 0;
  for (size_t pos = 0; pos + 1 < tokens.size(); ++pos) {
    const std::vector<float>& logits = rm.forward(tokens[pos], static_cast<int>(pos));
    agree += sample_argmax(logits.data(), m.config.vocab_size) == tokens[pos + 1];
  }
  return static_cast<double>(agree) / static_cast<double>(tokens.size() - 1);
}

TEST(Gguf, F16TensorsLoadAsTheirExactValues) {
  TempDir dir;
  const std::string path = dir.write("stories260K_f16.gguf", stories_builder(encode_f16).build());
  const Model m = load_gguf(path);
  const std::vector<float>& ref = bin_model().weights.wq;
  ASSERT_EQ(m.weights.wq.size(), ref.size());
  for (size_t i = 0; i < ref.size(); ++i) {
    ASSERT_EQ(m.weights.wq[i], half_to_float(float_to_half(ref[i]))) << i;
  }
  std::vector<int> story;
  generate_text(bin_model(), tok(), "", 256, &story);
  const double agree = top1_agreement(m, story);
  std::printf("F16 weights: top-1 agreement with the float32 story %.3f\n", agree);
  EXPECT_GT(agree, 0.9);
}

TEST(Gguf, Bf16TensorsLoadAsTheirExactValues) {
  TempDir dir;
  auto bf16 = [](const std::vector<uint64_t>&, const std::vector<float>& v) {
    std::vector<uint8_t> out;
    for (float f : v) {
      uint32_t bits;
      std::memcpy(&bits, &f, 4);
      append(out, static_cast<uint16_t>(bits >> 16));  // truncated: exact test values
    }
    return Encoded{30, out};
  };
  const Model m = load_gguf(dir.write("stories260K_bf16.gguf", stories_builder(bf16).build()));
  const std::vector<float>& ref = bin_model().weights.w3;
  ASSERT_EQ(m.weights.w3.size(), ref.size());
  for (size_t i = 0; i < ref.size(); ++i) {
    uint32_t bits;
    std::memcpy(&bits, &ref[i], 4);
    ASSERT_EQ(m.weights.w3[i], bf16_to_float(static_cast<uint16_t>(bits >> 16))) << i;
  }
}

TEST(Gguf, Q8_0TensorsAreDequantized) {
  TempDir dir;
  // Q8_0 where rows split into blocks of 32; ffn_down's rows (172) and the norms stay F32:
  // types mix freely in one file.
  auto q8 = [](const std::vector<uint64_t>& dims, const std::vector<float>& v) {
    return dims[0] % 32 == 0 && dims.size() == 2 ? encode_q8_0(v) : encode_f32(dims, v);
  };
  const std::string path = dir.write("stories260K_q8_0.gguf", stories_builder(q8).build());
  const GgufFile g = GgufFile::load(path);
  const GgufTensorInfo* t = g.find_tensor("blk.1.ffn_gate.weight");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->type, 8u);
  EXPECT_EQ(t->n_bytes, 172u * 64 / 32 * 34);
  EXPECT_EQ(g.find_tensor("blk.1.ffn_down.weight")->type, 0u);
  const Model m = load_gguf(path);
  // Dequantized value = int8 * f16 scale, block by block.
  const std::vector<float>& ref = bin_model().weights.w1;
  const auto [type, q] = encode_q8_0(ref);
  ASSERT_EQ(m.weights.w1.size(), ref.size());
  for (size_t i = 0; i < ref.size(); ++i) {
    const size_t blk = i / 32 * 34;
    const float d = half_to_float(get<uint16_t>(q, blk));
    ASSERT_EQ(m.weights.w1[i], static_cast<float>(static_cast<int8_t>(q[blk + 2 + i % 32])) * d)
        << i;
  }
  EXPECT_EQ(m.weights.w2, bin_model().weights.w2);
  std::vector<int> story;
  generate_text(bin_model(), tok(), "", 256, &story);
  const double agree = top1_agreement(m, story);
  std::printf("Q8_0 weights: top-1 agreement with the float32 story %.3f\n", agree);
  EXPECT_GT(agree, 0.8);
}

// ---------------------------------------------------------------------------------------
// Tokenizer

TEST(Tokenizer, LoadsTok512) {
  const Tokenizer& t = tok();
  EXPECT_EQ(t.vocab_size(), 512);
  EXPECT_EQ(t.max_token_length(), 7);
  EXPECT_EQ(t.piece(0), "<unk>");
  EXPECT_EQ(t.piece(1), "\n<s>\n");
  EXPECT_EQ(t.piece(2), "\n</s>\n");
  EXPECT_EQ(t.piece(13), "<0x0A>");
  EXPECT_EQ(t.piece(291), " The");
  EXPECT_EQ(t.score(291), -32.0f);
  EXPECT_EQ(t.lookup(" The"), 291);
  EXPECT_EQ(t.lookup("no such piece"), -1);
}

TEST(Tokenizer, GgufVocabularyIsTok512) {
  const Tokenizer g = Tokenizer::from_model(gguf_model());
  const Tokenizer& t = tok();
  ASSERT_EQ(g.vocab_size(), t.vocab_size());
  for (int i = 0; i < t.vocab_size(); ++i) {
    EXPECT_EQ(g.piece(i), t.piece(i)) << i;
    float a = g.score(i), b = t.score(i);
    EXPECT_EQ(std::memcmp(&a, &b, sizeof a), 0) << i;  // bit for bit, -0.0 included
  }
  EXPECT_EQ(g.max_token_length(), t.max_token_length());
  expect_error<TokenizerError>([] { Tokenizer::from_model(bin_model()); }, kBin,
                               "tokenizer.ggml.tokens");
}

TEST(Tokenizer, EncodesLikeRunC) {
  const Tokenizer g = Tokenizer::from_model(gguf_model());
  for (const Tokenizer* t : std::vector<const Tokenizer*>{&tok(), &g}) {
    const Tokenizer& k = *t;
    EXPECT_EQ(k.encode("The cat", true, false), (std::vector<int>{1, 291, 280, 294}));
    EXPECT_EQ(k.encode("Once upon a time", true, false), (std::vector<int>{1, 403, 407, 261, 378}));
    EXPECT_EQ(k.encode("Once upon a time", false, true), (std::vector<int>{403, 407, 261, 378, 2}));
    EXPECT_EQ(k.encode("Lily's mom said, \"Hi\".", true, false),
              (std::vector<int>{1, 317, 439, 419, 357, 336, 432, 313, 440, 417, 436, 426}));
    // A two-byte codepoint in the vocabulary (é) and a newline through its byte token.
    EXPECT_EQ(k.encode("h\xC3\xA9llo\nworld", true, false),
              (std::vector<int>{1, 270, 485, 306, 414, 13, 424, 304, 341}));
  }
}

TEST(Tokenizer, EmptyTextHasNoDummyPrefix) {
  EXPECT_EQ(tok().encode("", true, false), (std::vector<int>{1}));
  EXPECT_EQ(tok().encode("", true, true), (std::vector<int>{1, 2}));
  EXPECT_EQ(tok().encode("", false, false), (std::vector<int>{}));
  EXPECT_EQ(tok().encode(" ", true, false), (std::vector<int>{1, 410, 410}));
}

TEST(Tokenizer, UnknownCharactersFallBackToByteTokens) {
  // U+65E5 (3 bytes) and U+1F642 (4 bytes) are not pieces: byte + 3 for each byte.
  EXPECT_EQ(tok().encode("\xE6\x97\xA5", true, false),
            (std::vector<int>{1, 410, 0xE6 + 3, 0x97 + 3, 0xA5 + 3}));
  EXPECT_EQ(tok().encode("\xF0\x9F\x99\x82", false, false),
            (std::vector<int>{410, 0xF0 + 3, 0x9F + 3, 0x99 + 3, 0x82 + 3}));
  EXPECT_EQ(tok().encode("\t", true, false), (std::vector<int>{1, 410, 12}));
  // A continuation byte with no start byte, and an over-long run of them (groups of 4).
  EXPECT_EQ(tok().encode("\x80", false, false), (std::vector<int>{410, 0x80 + 3}));
  EXPECT_EQ(tok().encode("a\x80\x80\x80\x80\x80", false, false).size(), 1u + 6u);
}

TEST(Tokenizer, DecodesLikeRunC) {
  const Tokenizer& t = tok();
  EXPECT_EQ(t.decode(1, 291), "The");  // the space after BOS is dropped
  EXPECT_EQ(t.decode(291, 280), " c");
  EXPECT_EQ(t.decode(280, 294), "at");
  EXPECT_EQ(t.decode(1, 410), "");     // the lone dummy-prefix space after BOS
  EXPECT_EQ(t.decode(426, 13), "\n");  // <0x0A>
  EXPECT_EQ(t.decode(0, 0xE6 + 3), std::string(1, '\xE6'));
  EXPECT_EQ(t.decode(0, 3), std::string(1, '\0'));
  EXPECT_EQ(t.decode(5, 2), "\n</s>\n");
  EXPECT_THROW(t.decode(0, 512), std::out_of_range);
  EXPECT_THROW(t.decode(0, -1), std::out_of_range);
  // What run.c's safe_printf prints.
  EXPECT_EQ(printable_piece("\xE6"), "");
  EXPECT_EQ(printable_piece(std::string(1, '\0')), "");
  EXPECT_EQ(printable_piece("\x07"), "");
  EXPECT_EQ(printable_piece("\n"), "\n");
  EXPECT_EQ(printable_piece("a"), "a");
  EXPECT_EQ(printable_piece(" the"), " the");
  EXPECT_EQ(printable_piece(""), "");
}

TEST(Tokenizer, RoundTrips) {
  const Tokenizer& t = tok();
  for (const std::string& text : std::vector<std::string>{
           "The cat", "Once upon a time, there was a little girl named Lily.",
           "Lily's mom said, \"Don't worry.\"\nShe smiled.",
           "h\xC3\xA9llo\tw\xC3\xB6rld \xE6\x97\xA5\xE6\x9C\xAC", "emoji \xF0\x9F\x99\x82!",
           "  two leading spaces", "x", "1234567890 + 42 = ?", std::string("nul\0byte", 8)}) {
    const std::vector<int> ids = t.encode(text, true, false);
    std::string back;
    for (size_t i = 1; i < ids.size(); ++i) back += t.decode(ids[i - 1], ids[i]);
    // After BOS the dummy prefix's space disappears, so the text comes back unchanged.
    EXPECT_EQ(back, text);
    for (int id : ids) EXPECT_TRUE(id >= 0 && id < t.vocab_size());
  }
}

// ---------------------------------------------------------------------------------------
// The float32 reference against run.c

TEST(Reference, GreedyStoryFromTheCheckpoint) {
  std::vector<int> tokens;
  EXPECT_EQ(generate_text(bin_model(), tok(), "", 256, &tokens), kStory);
  EXPECT_EQ(tokens.size(), 257u);  // BOS + one token per step: no early BOS
  EXPECT_EQ(tokens[0], 1);
  EXPECT_EQ(tokens[1], 403);  // " Once"
}

TEST(Reference, GreedyStoryFromTheGguf) {
  const Model& m = gguf_model();
  const Tokenizer t = Tokenizer::from_model(m);
  std::vector<int> from_gguf, from_bin;
  EXPECT_EQ(generate_text(m, t, "", 256, &from_gguf), kStory);
  generate_text(bin_model(), tok(), "", 256, &from_bin);
  EXPECT_EQ(from_gguf, from_bin);
}

TEST(Reference, GreedyWithAPrompt) {
  std::vector<int> a, b;
  EXPECT_EQ(generate_text(bin_model(), tok(), "The cat", 64, &a), kCat);
  EXPECT_EQ(generate_text(gguf_model(), Tokenizer::from_model(gguf_model()), "The cat", 64, &b),
            kCat);
  EXPECT_EQ(a, b);
  ASSERT_EQ(a.size(), 65u);
  EXPECT_EQ((std::vector<int>(a.begin(), a.begin() + 4)), (std::vector<int>{1, 291, 280, 294}));
}

TEST(Reference, GgufAndCheckpointGiveIdenticalLogits) {
  ReferenceModel a(bin_model()), b(gguf_model());
  const std::vector<int> toks =
      tok().encode("Once upon a time, there was a little girl named Lily.", true, false);
  for (size_t pos = 0; pos < toks.size(); ++pos) {
    const std::vector<float> la = a.forward(toks[pos], static_cast<int>(pos));
    const std::vector<float>& lb = b.forward(toks[pos], static_cast<int>(pos));
    ASSERT_EQ(la.size(), 512u);
    ASSERT_EQ(std::memcmp(la.data(), lb.data(), la.size() * sizeof(float)), 0)
        << "position " << pos;
  }
}

TEST(Reference, ForwardChecksItsArgumentsAndRewinds) {
  ReferenceModel rm(bin_model());
  EXPECT_THROW(rm.forward(512, 0), std::out_of_range);
  EXPECT_THROW(rm.forward(-1, 0), std::out_of_range);
  EXPECT_THROW(rm.forward(1, 1), std::out_of_range);  // position 0 not run yet
  const std::vector<float> first = rm.forward(1, 0);
  rm.forward(403, 1);
  EXPECT_THROW(rm.forward(1, 3), std::out_of_range);
  EXPECT_EQ(rm.forward(1, 0), first);  // running position 0 again gives the same logits
  EXPECT_THROW(rm.forward(1, 512), std::out_of_range);
  // Logits are finite and the greedy choice after BOS is " Once".
  for (float v : first) EXPECT_TRUE(std::isfinite(v));
  EXPECT_EQ(sample_argmax(first.data(), 512), 403);
}

TEST(Reference, RefusesWeightsThatDoNotMatchTheConfig) {
  Model m = bin_model();
  m.weights.wq.pop_back();
  expect_error<ModelError>([&] { ReferenceModel rm(m); }, kBin, "tensor wq",
                           "has 20479 floats, the config implies 20480");
  m = bin_model();
  m.config.shared_classifier = false;
  expect_error<ModelError>([&] { ReferenceModel rm(m); }, kBin, "tensor classifier",
                           "has 0 floats");
  m = bin_model();
  m.config.n_layers = 1 << 30;
  expect_error<ModelError>([&] { ReferenceModel rm(m); }, kBin, "tensor rms_att");
}

TEST(Sampler, XorshiftMatchesRunC) {
  // run.c's random_u32 from state 42 (computed independently from its definition).
  Sampler s(512, 1.0f, 0.9f, 42);
  EXPECT_EQ(s.random_u32(), 1456360119u);
  EXPECT_EQ(s.random_u32(), 3359763283u);
  EXPECT_EQ(s.random_u32(), 3393612768u);
  EXPECT_EQ(s.random_u32(), 4054632243u);
  Sampler r(512, 1.0f, 0.9f, 42);
  EXPECT_EQ(r.random_f32(), static_cast<float>(1456360119u >> 8) / 16777216.0f);
  EXPECT_THROW(Sampler(512, 1.0f, 0.9f, 0), std::invalid_argument);
  EXPECT_NO_THROW(Sampler(512, 0.0f, 0.9f, 0));  // greedy never draws
}

TEST(Sampler, ArgmaxMultinomialAndTopP) {
  const float probs[] = {0.1f, 0.4f, 0.4f, 0.1f};
  EXPECT_EQ(sample_argmax(probs, 4), 1);  // the first maximum
  EXPECT_EQ(sample_mult(probs, 4, 0.05f), 0);
  EXPECT_EQ(sample_mult(probs, 4, 0.1f), 1);  // coin < cdf, strictly
  EXPECT_EQ(sample_mult(probs, 4, 0.95f), 3);
  EXPECT_EQ(sample_mult(probs, 4, 1.0f), 3);  // past the cdf: the last token
  // Top-p 0.5 over {0.05, 0.9, 0.05}: the nucleus is token 1 alone, whatever the coin.
  Sampler s(3, 1.0f, 0.5f, 7);
  for (int i = 0; i < 50; ++i) {
    std::vector<float> logits = {std::log(0.05f), std::log(0.9f), std::log(0.05f)};
    EXPECT_EQ(s.sample(logits), 1);
  }
  // Top-p 0.99 over a uniform distribution keeps all tokens: every one comes up.
  Sampler u(4, 1.0f, 0.99f, 99);
  std::vector<int> seen(4, 0);
  for (int i = 0; i < 400; ++i) {
    std::vector<float> logits(4, 0.0f);
    ++seen[static_cast<size_t>(u.sample(logits))];
  }
  for (int c : seen) EXPECT_GT(c, 50);
}

TEST(Sampler, GenerationIsDeterministicForASeed) {
  std::vector<int> a, b, c, d, e;
  const std::string ta = generate_text(bin_model(), tok(), "The cat", 96, &a, 1.0f, 0.9f, 42);
  const std::string tb = generate_text(bin_model(), tok(), "The cat", 96, &b, 1.0f, 0.9f, 42);
  generate_text(bin_model(), tok(), "The cat", 96, &c, 1.0f, 0.9f, 43);
  EXPECT_EQ(a, b);
  EXPECT_EQ(ta, tb);
  EXPECT_NE(a, c);
  EXPECT_EQ(ta.rfind("The cat", 0), 0u);
  // Plain multinomial (topp 0 and 1), and the same seed through the GGUF.
  generate_text(bin_model(), tok(), "", 64, &d, 0.8f, 0.0f, 1234);
  generate_text(gguf_model(), tok(), "", 64, &e, 0.8f, 0.0f, 1234);
  EXPECT_EQ(d, e);
  std::vector<int> f, g;
  generate_text(bin_model(), tok(), "", 64, &f, 0.8f, 1.0f, 1234);
  EXPECT_EQ(d, f);  // topp >= 1 is multinomial too
  generate_text(bin_model(), tok(), "", 64, &g, 0.8f, 0.5f, 1234);
  EXPECT_NE(d, g);
}

TEST(Reference, StepsAndPromptLimits) {
  std::vector<int> t;
  const std::string one = generate_text(bin_model(), tok(), "The cat", 2, &t);
  // Two positions: BOS -> " The" (forced), " The" -> " c" (forced).
  EXPECT_EQ(t, (std::vector<int>{1, 291, 280}));
  EXPECT_EQ(one, "The c");
  EXPECT_THROW(generate_reference(
                   bin_model(),
                   Tokenizer(std::vector<std::string>{"a", "b", "c"}, std::vector<float>{0, 0, 0}),
                   "", 4, 0.0f, 0.9f, 1),
               std::invalid_argument);
}

// ---------------------------------------------------------------------------------------
// Corrupt and truncated files

std::vector<uint8_t> truncated(const std::vector<uint8_t>& b, size_t n) {
  return std::vector<uint8_t>(b.begin(), b.begin() + static_cast<long>(n));
}

TEST(CorruptCheckpoint, TruncationsAreRefusedNamingTheTensor) {
  TempDir dir;
  const std::vector<uint8_t> good = file_bytes(kBin);
  // Tensor boundaries of stories260K.bin (floats), to cut right at and around each one.
  const uint64_t sizes[] = {512 * 64,    5 * 64,  5 * 64 * 64,  5 * 32 * 64,  5 * 32 * 64,
                            5 * 64 * 64, 5 * 64,  5 * 172 * 64, 5 * 64 * 172, 5 * 172 * 64,
                            64,          512 * 4, 512 * 4};
  std::vector<size_t> cuts = {0, 1, 3, 4, 27, 28, 29, good.size() - 1};
  size_t off = 28;
  for (uint64_t s : sizes) {
    off += s * 4;
    for (long d : {-1L, 0L, 1L}) cuts.push_back(static_cast<size_t>(static_cast<long>(off) + d));
  }
  for (size_t c = 5; c < good.size(); c += 9973) cuts.push_back(c);
  int n = 0;
  for (size_t cut : cuts) {
    if (cut >= good.size()) continue;
    const std::string path = dir.write("cut_" + std::to_string(cut) + ".bin", truncated(good, cut));
    try {
      load_llama2c(path);
      ADD_FAILURE() << "a file cut at " << cut << " loaded";
    } catch (const ModelError& e) {
      ++n;
      const std::string what = e.what();
      EXPECT_EQ(what.rfind(path + ": ", 0), 0u) << what;
      if (cut < 28) {
        EXPECT_EQ(e.field(), "header") << what;
      } else {
        EXPECT_EQ(e.field().rfind("tensor ", 0), 0u) << what;
        EXPECT_NE(what.find("file has " + std::to_string(cut) + " bytes"), std::string::npos)
            << what;
      }
    }
  }
  EXPECT_GT(n, 40);
  // The example of the brief, exactly.
  const std::string p = dir.write("stories260K.bin", truncated(good, 1000));
  expect_error<ModelError>(
      [&] { load_llama2c(p); }, p, "tensor token_embedding",
      "vocab_size x dim = 512 x 64 floats need 131072 bytes at offset 28, file has 1000 bytes");
}

TEST(CorruptCheckpoint, HeaderFieldsAreChecked) {
  TempDir dir;
  const std::vector<uint8_t> good = file_bytes(kBin);
  auto with = [&](int field, int32_t v) {
    std::vector<uint8_t> b = good;
    put<int32_t>(b, static_cast<size_t>(field) * 4, v);
    return dir.write("h" + std::to_string(field) + "_" + std::to_string(v) + ".bin", b);
  };
  std::string p = with(2, 1000000000);
  expect_error<ModelError>([&] { load_llama2c(p); }, p, "tensor rms_att",
                           "n_layers x dim = 1000000000 x 64 floats need 256000000000 bytes");
  p = with(0, -64);
  expect_error<ModelError>([&] { load_llama2c(p); }, p, "dim", "-64 must be positive");
  p = with(1, 0);
  expect_error<ModelError>([&] { load_llama2c(p); }, p, "hidden_dim", "0 must be positive");
  p = with(3, 7);
  expect_error<ModelError>([&] { load_llama2c(p); }, p, "n_heads", "7 does not divide dim 64");
  p = with(3, 64);
  expect_error<ModelError>([&] { load_llama2c(p); }, p, "n_heads", "is odd");
  p = with(4, 3);
  expect_error<ModelError>([&] { load_llama2c(p); }, p, "n_kv_heads", "does not divide n_heads 8");
  p = with(4, -4);
  expect_error<ModelError>([&] { load_llama2c(p); }, p, "n_kv_heads", "must be positive");
  p = with(5, INT32_MIN);
  expect_error<ModelError>([&] { load_llama2c(p); }, p, "vocab_size");
  p = with(5, 0);
  expect_error<ModelError>([&] { load_llama2c(p); }, p, "vocab_size", "must be positive");
  // Negative vocab_size: a separate classifier that the file does not have.
  p = with(5, -512);
  expect_error<ModelError>([&] { load_llama2c(p); }, p, "tensor classifier",
                           "need 131072 bytes at offset 1056540");
  p = with(6, INT32_MAX);
  expect_error<ModelError>([&] { load_llama2c(p); }, p, "tensor freq_cis_real",
                           "seq_len x head_size/2");
  p = with(6, 256);  // smaller RoPE tables: the file is longer than the header says
  expect_error<ModelError>([&] { load_llama2c(p); }, p, "file size", "describes 1048348");
  p = with(0, INT32_MAX);  // odd: n_heads 8 does not divide it
  expect_error<ModelError>([&] { load_llama2c(p); }, p, "n_heads");
  p = with(0, 1 << 30);
  expect_error<ModelError>([&] { load_llama2c(p); }, p, "tensor token_embedding");
  std::vector<uint8_t> longer = good;
  longer.push_back(0);
  p = dir.write("longer.bin", longer);
  expect_error<ModelError>([&] { load_llama2c(p); }, p, "file size", "1056541 bytes");
  expect_error<ModelError>([&] { load_llama2c(kGguf); }, kGguf, "header", "GGUF");
  const std::string missing = kDir + "/no_such_file.bin";
  expect_error<ModelError>([&] { load_llama2c(missing); }, missing, "file", "cannot open");
  expect_error<ModelError>([&] { load_model(kDir); }, kDir, "file", "not a regular file");
}

TEST(CorruptTokenizer, FileErrorsNameTheField) {
  TempDir dir;
  const std::vector<uint8_t> good = file_bytes(kTok);
  for (size_t cut = 0; cut < good.size(); cut += (cut < 64 ? 1 : 97)) {
    const std::string p = dir.write("t" + std::to_string(cut) + ".bin", truncated(good, cut));
    try {
      Tokenizer t(p, 512);
      ADD_FAILURE() << "a tokenizer cut at " << cut << " loaded";
    } catch (const TokenizerError& e) {
      const std::string what = e.what();
      EXPECT_EQ(what.rfind(p + ": ", 0), 0u) << what;
      EXPECT_FALSE(e.field().empty());
    }
  }
  std::string p = dir.write("cut.bin", truncated(good, 3000));
  expect_error<TokenizerError>([&] { Tokenizer(p, 512); }, p, "vocab_size");  // 512 x 8 > 2996
  p = dir.write("cut2.bin", truncated(good, 6000));
  expect_error<TokenizerError>([&] { Tokenizer(p, 512); }, p, "token 487", "file has 6000 bytes");
  expect_error<TokenizerError>([&] { Tokenizer(kTok, 32000); }, kTok, "vocab_size", "32000 tokens");
  expect_error<TokenizerError>([&] { Tokenizer(kTok, 511); }, kTok, "file size",
                               "follow token 510");
  expect_error<TokenizerError>([&] { Tokenizer(kTok, 0); }, kTok, "vocab_size");
  std::vector<uint8_t> b = good;
  put<int32_t>(b, 0, -7);
  p = dir.write("maxlen.bin", b);
  expect_error<TokenizerError>([&] { Tokenizer(p, 512); }, p, "max_token_length", "-7");
  b = good;
  put<int32_t>(b, 4 + 4, -5);  // token 0's length
  p = dir.write("neglen.bin", b);
  expect_error<TokenizerError>([&] { Tokenizer(p, 512); }, p, "token 0", "length -5 is negative");
  b = good;
  put<int32_t>(b, 4 + 4, 9);
  p = dir.write("longlen.bin", b);
  expect_error<TokenizerError>([&] { Tokenizer(p, 512); }, p, "token 0",
                               "exceeds max_token_length 7");
  b = good;
  put<int32_t>(b, 4 + 4, 0x7FFFFFFF);
  put<int32_t>(b, 0, 0x7FFFFFFF);
  p = dir.write("hugelen.bin", b);
  expect_error<TokenizerError>([&] { Tokenizer(p, 512); }, p, "max_token_length");
  const std::string missing = kDir + "/no_such_tokenizer.bin";
  expect_error<TokenizerError>([&] { Tokenizer(missing, 512); }, missing, "file", "cannot open");
  expect_error<TokenizerError>([] { Tokenizer({"a"}, {0.0f, 1.0f}, "mine"); }, "mine", "scores");
}

// Offsets of the fields of a GGUF file, found by a walker independent of the library's.
struct GgufLayout {
  struct Kv {
    std::string key;
    size_t key_len, type, value;
  };
  struct Ti {
    std::string name;
    size_t name_len, n_dims, dims, type, offset;
  };
  std::vector<Kv> kvs;
  std::vector<Ti> tensors;
  size_t end = 0;

  explicit GgufLayout(const std::vector<uint8_t>& b) {
    size_t p = 24;
    std::function<void(uint32_t)> skip = [&](uint32_t t) {
      static const size_t fixed[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
      if (t == 8) {
        p += 8 + get<uint64_t>(b, p);
      } else if (t == 9) {
        const uint32_t et = get<uint32_t>(b, p);
        const uint64_t n = get<uint64_t>(b, p + 4);
        p += 12;
        for (uint64_t i = 0; i < n; ++i) skip(et);
      } else {
        p += fixed[t];
      }
    };
    for (uint64_t i = 0, n = get<uint64_t>(b, 16); i < n; ++i) {
      Kv kv;
      kv.key_len = p;
      kv.key.assign(reinterpret_cast<const char*>(&b[p + 8]), get<uint64_t>(b, p));
      p += 8 + kv.key.size();
      kv.type = p;
      p += 4;
      kv.value = p;
      skip(get<uint32_t>(b, kv.type));
      kvs.push_back(kv);
    }
    for (uint64_t i = 0, n = get<uint64_t>(b, 8); i < n; ++i) {
      Ti t;
      t.name_len = p;
      t.name.assign(reinterpret_cast<const char*>(&b[p + 8]), get<uint64_t>(b, p));
      p += 8 + t.name.size();
      t.n_dims = p;
      t.dims = p + 4;
      p += 4 + 8 * get<uint32_t>(b, p);
      t.type = p;
      t.offset = p + 4;
      p += 12;
      tensors.push_back(t);
    }
    end = p;
  }
  const Kv& kv(const std::string& key) const {
    for (const Kv& k : kvs) {
      if (k.key == key) return k;
    }
    throw std::runtime_error("no key " + key);
  }
  const Ti& tensor(const std::string& name) const {
    for (const Ti& t : tensors) {
      if (t.name == name) return t;
    }
    throw std::runtime_error("no tensor " + name);
  }
};

TEST(CorruptGguf, EveryTruncationIsRefused) {
  const std::vector<uint8_t> good = file_bytes(kGguf);
  const GgufLayout layout(good);
  ASSERT_EQ(layout.end, 14152u);
  // Every cut through the header, metadata and tensor infos (in memory: 14k parses), ...
  for (size_t cut = 0; cut < layout.end + 40; ++cut) {
    try {
      parse_gguf_model("stories260K.gguf", truncated(good, cut));
      ADD_FAILURE() << "cut at " << cut << " loaded";
    } catch (const ModelError& e) {
      const std::string what = e.what();
      ASSERT_EQ(what.rfind("stories260K.gguf: ", 0), 0u) << what;
      ASSERT_FALSE(e.field().empty()) << what;
    }
  }
  // ... and cuts through the tensor data, as files.
  TempDir dir;
  for (size_t cut = layout.end + 40; cut < good.size(); cut += 7919) {
    const std::string p = dir.write("cut_" + std::to_string(cut) + ".gguf", truncated(good, cut));
    try {
      load_gguf(p);
      ADD_FAILURE() << "cut at " << cut << " loaded";
    } catch (const ModelError& e) {
      const std::string what = e.what();
      EXPECT_EQ(what.rfind(p + ": ", 0), 0u) << what;
      EXPECT_EQ(e.field().rfind("tensor ", 0), 0u) << what;
      EXPECT_NE(what.find("file has " + std::to_string(cut) + " bytes"), std::string::npos) << what;
    }
  }
  const std::string p = dir.write("short.gguf", truncated(good, good.size() - 1));
  expect_error<ModelError>([&] { load_gguf(p); }, p, "tensor blk.4.ffn_norm.weight",
                           "F32 [64] needs 256 bytes");
}

TEST(CorruptGguf, HeaderAndMetadataErrorsNameTheField) {
  TempDir dir;
  const std::vector<uint8_t> good = file_bytes(kGguf);
  const GgufLayout L(good);
  int n = 0;
  auto check = [&](const std::function<void(std::vector<uint8_t>&)>& edit, const std::string& field,
                   const std::string& problem) {
    std::vector<uint8_t> b = good;
    edit(b);
    const std::string p = dir.write("case" + std::to_string(n++) + ".gguf", b);
    expect_error<ModelError>([&] { load_gguf(p); }, p, field, problem);
  };
  check([](auto& b) { b[0] = 'X'; }, "header.magic", "58 47 55 46");
  check([](auto& b) { put<uint32_t>(b, 4, 1); }, "header.version", "unsupported version 1");
  check([](auto& b) { put<uint32_t>(b, 4, 0x03000000); }, "header.version", "50331648");
  check([](auto& b) { put<uint64_t>(b, 8, uint64_t{1} << 40); }, "header.tensor_count",
        "1099511627776 tensor infos need at least 32 bytes each");
  check([](auto& b) { put<uint64_t>(b, 16, uint64_t{1} << 40); }, "header.metadata_kv_count",
        "1099511627776 entries");
  // A string length past the end of the file: a key, and a string inside an array.
  check([&](auto& b) { put<uint64_t>(b, L.kvs[0].key_len, uint64_t{1} << 62); }, "metadata[0].key",
        "string length 4611686018427387904 at offset 24 runs past the end of the file");
  const size_t first_token = L.kv("tokenizer.ggml.tokens").value + 12;
  check([&](auto& b) { put<uint64_t>(b, first_token, 5000000); },
        "metadata tokenizer.ggml.tokens[0]", "string length 5000000");
  check(
      [&](auto& b) {
        put<uint64_t>(b, L.kv("tokenizer.ggml.scores").value + 4, uint64_t{1} << 62);
      },
      "metadata tokenizer.ggml.scores", "array of 4611686018427387904 FLOAT32 needs at least 2^64");
  check([&](auto& b) { put<uint64_t>(b, L.kv("tokenizer.ggml.tokens").value + 4, 1000000); },
        "metadata tokenizer.ggml.tokens", "array of 1000000 STRING needs at least 8000000 bytes");
  check([&](auto& b) { put<uint32_t>(b, L.kv("general.name").type, 13); }, "metadata general.name",
        "unknown value type 13");
  check([&](auto& b) { put<uint32_t>(b, L.kv("tokenizer.ggml.scores").value, 77); },
        "metadata tokenizer.ggml.scores", "unknown array element type 77");
  // Config values: negative, absurd, of the wrong type.
  check(
      [&](auto& b) {
        put<uint32_t>(b, L.kv("llama.embedding_length").type, 5);  // INT32
        put<int32_t>(b, L.kv("llama.embedding_length").value, -64);
      },
      "llama.embedding_length", "-64 must be positive");
  check([&](auto& b) { put<uint32_t>(b, L.kv("llama.block_count").value, 1000000000); },
        "llama.block_count", "1000000000 blocks need 9000000002 tensors, the file has 48");
  check([&](auto& b) { put<uint32_t>(b, L.kv("llama.attention.head_count").value, 7); },
        "llama.attention.head_count", "7 does not divide llama.embedding_length 64");
  check([&](auto& b) { put<uint32_t>(b, L.kv("llama.feed_forward_length").value, 173); },
        "tensor blk.0.ffn_gate.weight", "dims [64, 172], the metadata implies [64, 173]");
  check([&](auto& b) { put<uint32_t>(b, L.kv("llama.block_count").type, 8); },
        "metadata llama.block_count",
        "runs past the end");  // reinterpreted as a string: its "length" is 5 + the next bytes
  check([&](auto& b) { put<uint32_t>(b, L.kv("llama.block_count").type, 6); }, "llama.block_count",
        "FLOAT32 value where an integer is expected");
  check([&](auto& b) { b[L.kv("general.architecture").value + 8] = 'x'; }, "general.architecture",
        "'xlama' is not supported");
  check([&](auto& b) { put<uint32_t>(b, L.kv("llama.rope.dimension_count").value, 4); },
        "llama.rope.dimension_count", "differs from the head size 8");
  check(
      [&](auto& b) { put<float>(b, L.kv("llama.attention.layer_norm_rms_epsilon").value, 1e-6f); },
      "llama.attention.layer_norm_rms_epsilon", "not supported");
  // A duplicate key: tokenizer.ggml.bos_token_id renamed to its neighbour (same length).
  check(
      [&](auto& b) {
        std::memcpy(&b[L.kv("tokenizer.ggml.bos_token_id").key_len + 8],
                    "tokenizer.ggml.eos_token_id", 27);
      },
      "metadata tokenizer.ggml.eos_token_id", "duplicate key");
}

TEST(CorruptGguf, TensorInfoErrorsNameTheTensor) {
  TempDir dir;
  const std::vector<uint8_t> good = file_bytes(kGguf);
  const GgufLayout L(good);
  int n = 0;
  auto check = [&](const std::function<void(std::vector<uint8_t>&)>& edit, const std::string& field,
                   const std::string& problem) {
    std::vector<uint8_t> b = good;
    edit(b);
    const std::string p = dir.write("case" + std::to_string(n++) + ".gguf", b);
    expect_error<ModelError>([&] { load_gguf(p); }, p, field, problem);
  };
  const auto& emb = L.tensor("token_embd.weight");
  check([&](auto& b) { put<uint32_t>(b, emb.type, 12); }, "tensor token_embd.weight",
        "unsupported ggml type 12");
  check([&](auto& b) { put<uint32_t>(b, emb.type, 2); }, "tensor token_embd.weight",
        "type Q4_0 cannot be converted to float");
  check([&](auto& b) { put<uint32_t>(b, emb.type, 28); }, "tensor output_norm.weight",
        "overlaps tensor token_embd.weight");  // F64: twice the bytes
  check([&](auto& b) { put<uint64_t>(b, emb.dims + 8, ~uint64_t{63}); }, "tensor token_embd.weight",
        "dims 64 x 18446744073709551552... overflow 64 bits");  // a "negative" dimension
  check([&](auto& b) { put<uint64_t>(b, emb.dims + 8, uint64_t{1} << 40); },
        "tensor token_embd.weight", "F32 [64 x 1099511627776] needs 281474976710656 bytes");
  check([&](auto& b) { put<uint64_t>(b, emb.dims, 0); }, "tensor token_embd.weight",
        "dims[0] is 0");
  check([&](auto& b) { put<uint32_t>(b, emb.n_dims, 5); }, "tensor token_embd.weight",
        "n_dims 5 is outside 1..4");
  check([&](auto& b) { put<uint32_t>(b, emb.n_dims, 1000000); }, "tensor token_embd.weight",
        "n_dims 1000000");
  check([&](auto& b) { put<uint64_t>(b, emb.offset, 8); }, "tensor token_embd.weight",
        "data offset 8 is not a multiple of the alignment 32");
  check([&](auto& b) { put<uint64_t>(b, emb.offset, ~uint64_t{31}); }, "tensor token_embd.weight",
        "needs 131072 bytes at offset past 2^64");
  check([&](auto& b) { put<uint64_t>(b, L.tensor("output.weight").offset, 131072); },
        "tensor output.weight", "overlaps tensor output_norm.weight");
  check(
      [&](auto& b) {
        put<uint64_t>(b, L.tensor("output_norm.weight").name_len, uint64_t{1} << 50);
      },
      "tensor_info[1].name", "runs past the end");
  check([&](auto& b) { b[L.tensor("output_norm.weight").name_len + 8 + 10] = 'x'; },
        "tensor output_norm.weight", "missing");
  check([&](auto& b) { b[L.tensor("blk.0.attn_q.weight").name_len + 8 + 11] = 'k'; },
        "tensor blk.0.attn_k.weight", "duplicate tensor name");
  check([&](auto& b) { put<uint64_t>(b, L.tensor("blk.0.attn_k.weight").dims, 32); },
        "tensor blk.0.attn_k.weight", "dims [32, 32], the metadata implies [64, 32]");
}

TEST(CorruptGguf, BuiltFilesWithBadStructure) {
  TempDir dir;
  // general.alignment must be a power of two.
  GgufBuilder b = stories_builder(encode_f32);
  GgufBuilder bad = b;
  bad.kv_u32("general.alignment", 48);
  bad.alignment = 48;
  std::string p = dir.write("align48.gguf", bad.build());
  expect_error<ModelError>([&] { load_gguf(p); }, p, "general.alignment",
                           "48 is not a power of two");
  // A larger power of two is honoured.
  GgufBuilder al = b;
  al.kv_u32("general.alignment", 64);
  al.alignment = 64;
  p = dir.write("align64.gguf", al.build());
  const Model m = load_gguf(p);
  EXPECT_EQ(m.weights.wq, bin_model().weights.wq);
  // Deeply nested arrays are bounded.
  GgufBuilder nest = b;
  std::vector<uint8_t> v;
  for (int i = 0; i < 20; ++i) {
    append<uint32_t>(v, 9);
    append<uint64_t>(v, 1);
  }
  append<uint32_t>(v, 4);
  append<uint64_t>(v, 1);
  append<uint32_t>(v, 7);
  nest.kv_raw("test.nested", 9, v);  // an ARRAY value: element type, count, elements
  p = dir.write("nested.gguf", nest.build());
  expect_error<ModelError>([&] { load_gguf(p); }, p, "metadata test.nested[0][0][0][0][0][0][0][0]",
                           "nested deeper than 8");
  // Every value type parses; architecture other than llama is refused.
  GgufBuilder all = b;
  std::vector<uint8_t> val;
  for (uint32_t t : {0u, 1u, 2u, 3u, 4u, 5u, 6u, 7u, 10u, 11u, 12u}) {
    val.assign({1, 0, 0, 0, 0, 0, 0, 0});
    static const size_t sz[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    val.resize(sz[t]);
    all.kv_raw("test.type" + std::to_string(t), t, val);
  }
  p = dir.write("all.gguf", all.build());
  const GgufFile g = GgufFile::load(p);
  EXPECT_EQ(g.get_int(*g.find("test.type11")), 1);
  EXPECT_EQ(g.get_uint(*g.find("test.type2")), 1u);
  EXPECT_TRUE(g.get_bool(*g.find("test.type7")));
  EXPECT_GT(g.get_float(*g.find("test.type12")), 0.0);
  EXPECT_NO_THROW(load_gguf(p));
  // No scores: the model loads, its tokenizer cannot merge.
  GgufBuilder noscores;
  for (const auto& kv : b.kvs) {
    if (std::string(kv.begin() + 8, kv.begin() + 8 + 21) != "tokenizer.ggml.scores")
      noscores.kvs.push_back(kv);
  }
  noscores.tensors = b.tensors;
  p = dir.write("noscores.gguf", noscores.build());
  const Model ns = load_gguf(p);
  expect_error<TokenizerError>([&] { Tokenizer::from_model(ns); }, p, "tokenizer.ggml.scores",
                               "missing");
  // A distinct classifier is kept (not shared).
  GgufBuilder sep = b;
  for (BuiltTensor& t : sep.tensors) {
    if (t.name == "output.weight") put<float>(t.data, 0, 123.0f);
  }
  p = dir.write("separate.gguf", sep.build());
  const Model sm = load_gguf(p);
  EXPECT_FALSE(sm.config.shared_classifier);
  ASSERT_EQ(sm.weights.classifier.size(), 512u * 64);
  EXPECT_EQ(sm.weights.wcls()[0], 123.0f);
}

TEST(CorruptGguf, RandomCorruptionNeverCrashes) {
  // Random byte edits in the header, metadata and tensor infos: the loader either loads
  // or throws ModelError (a crash or another exception fails the test).
  const std::vector<uint8_t> good = file_bytes(kGguf);
  std::mt19937_64 rng(20240601);
  int refused = 0, loaded = 0;
  for (int i = 0; i < 3000; ++i) {
    std::vector<uint8_t> b = good;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % 14152;
      b[at] = static_cast<uint8_t>(rng() % 3 == 0 ? 0xFF : rng());
    }
    try {
      const Model m = parse_gguf_model("fuzz.gguf", b);
      ++loaded;
      EXPECT_EQ(m.weights.token_embedding.size(),
                static_cast<size_t>(m.config.vocab_size) * m.config.dim);
    } catch (const ModelError& e) {
      ++refused;
      EXPECT_EQ(std::string(e.what()).rfind("fuzz.gguf: ", 0), 0u);
    }
  }
  EXPECT_GT(refused, 100);
  std::printf("random corruption: %d refused, %d loaded (edits in strings)\n", refused, loaded);
}

TEST(CorruptCheckpoint, RandomHeadersNeverCrash) {
  const std::vector<uint8_t> good = file_bytes(kBin);
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::vector<uint8_t> b(good.begin(), good.begin() + 4096);
    for (int f = 0; f < 7; ++f) {
      if (rng() % 2) put<int32_t>(b, static_cast<size_t>(f) * 4, static_cast<int32_t>(rng()));
      if (rng() % 4 == 0)
        put<int32_t>(b, static_cast<size_t>(f) * 4, static_cast<int32_t>(rng() % 9) - 1);
    }
    try {
      parse_llama2c("fuzz.bin", b);
    } catch (const ModelError& e) {
      EXPECT_EQ(std::string(e.what()).rfind("fuzz.bin: ", 0), 0u);
    }
  }
}

}  // namespace
