// The float32 reference: run.c's forward pass, sampler and generate loop. Every loop and
// expression below keeps run.c's order of float operations (see reference.h): changing an
// accumulation order or hoisting a division changes low bits, and over a few hundred
// greedy steps low bits can flip an argmax.
#include "kestrel/llm/reference.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace ks::llm {

void rmsnorm(float* out, const float* x, const float* weight, int size) {
  float ss = 0.0f;
  for (int j = 0; j < size; ++j) ss += x[j] * x[j];
  ss /= static_cast<float>(size);
  ss += 1e-5f;
  ss = 1.0f / std::sqrt(ss);
  for (int j = 0; j < size; ++j) out[j] = weight[j] * (ss * x[j]);
}

void softmax(float* x, int size) {
  float max_val = x[0];  // subtracted for numerical stability
  for (int i = 1; i < size; ++i) {
    if (x[i] > max_val) max_val = x[i];
  }
  float sum = 0.0f;
  for (int i = 0; i < size; ++i) {
    x[i] = std::exp(x[i] - max_val);
    sum += x[i];
  }
  for (int i = 0; i < size; ++i) x[i] /= sum;
}

void matmul(float* out, const float* x, const float* w, int n, int d) {
  for (int i = 0; i < d; ++i) {
    const float* row = w + static_cast<size_t>(i) * static_cast<size_t>(n);
    float val = 0.0f;
    for (int j = 0; j < n; ++j) val += row[j] * x[j];
    out[i] = val;
  }
}

ReferenceModel::ReferenceModel(const Model& model) : model_(model), cfg_(model.config) {
  check_weights(model);  // forward() indexes the arrays by the config without checks
  const auto n = [](int v) { return static_cast<size_t>(v); };
  x_.resize(n(cfg_.dim));
  xb_.resize(n(cfg_.dim));
  xb2_.resize(n(cfg_.dim));
  hb_.resize(n(cfg_.hidden_dim));
  hb2_.resize(n(cfg_.hidden_dim));
  q_.resize(n(cfg_.dim));
  logits_.resize(n(cfg_.vocab_size));
  key_cache_.resize(n(cfg_.n_layers));
  value_cache_.resize(n(cfg_.n_layers));
}

std::vector<float>& ReferenceModel::forward(int token, int pos) {
  if (token < 0 || token >= cfg_.vocab_size) {
    throw std::out_of_range("ReferenceModel::forward: token " + std::to_string(token) +
                            " outside the vocabulary of " + std::to_string(cfg_.vocab_size));
  }
  if (pos < 0 || pos >= cfg_.seq_len || pos > cached_) {
    throw std::out_of_range("ReferenceModel::forward: position " + std::to_string(pos) +
                            " (seq_len " + std::to_string(cfg_.seq_len) + ", " +
                            std::to_string(cached_) + " positions cached)");
  }
  const ModelWeights& w = model_.weights;
  const int dim = cfg_.dim;
  const int kv_dim = cfg_.kv_dim();
  const int kv_mul = cfg_.n_heads / cfg_.n_kv_heads;  // query heads per key/value head
  const int hidden_dim = cfg_.hidden_dim;
  const int head_size = cfg_.head_size();
  const auto sz = [](int v) { return static_cast<size_t>(v); };
  float* x = x_.data();
  float* xb = xb_.data();
  float* q = q_.data();

  std::memcpy(x, w.token_embedding.data() + sz(token) * sz(dim), sz(dim) * sizeof(float));
  att_.resize(sz(pos) + 1);

  for (int l = 0; l < cfg_.n_layers; ++l) {
    const size_t lz = sz(l);
    std::vector<float>& kc = key_cache_[lz];
    std::vector<float>& vc = value_cache_[lz];
    if (kc.size() < (sz(pos) + 1) * sz(kv_dim)) {
      kc.resize((sz(pos) + 1) * sz(kv_dim));
      vc.resize((sz(pos) + 1) * sz(kv_dim));
    }
    rmsnorm(xb, x, w.rms_att.data() + lz * sz(dim), dim);

    // q, and this position's k and v written straight into the cache.
    float* k = kc.data() + sz(pos) * sz(kv_dim);
    float* v = vc.data() + sz(pos) * sz(kv_dim);
    matmul(q, xb, w.wq.data() + lz * sz(dim) * sz(dim), dim, dim);
    matmul(k, xb, w.wk.data() + lz * sz(dim) * sz(kv_dim), dim, kv_dim);
    matmul(v, xb, w.wv.data() + lz * sz(dim) * sz(kv_dim), dim, kv_dim);

    // RoPE as run.c applies it: adjacent pairs (i, i+1) rotated by pos * freq, with the
    // frequency from i's index within its head; k has only kv_dim entries.
    for (int i = 0; i < dim; i += 2) {
      const int head_dim = i % head_size;
      const float freq =
          1.0f / std::pow(10000.0f, static_cast<float>(head_dim) / static_cast<float>(head_size));
      const float val = static_cast<float>(pos) * freq;
      const float fcr = std::cos(val);
      const float fci = std::sin(val);
      const int rotn = i < kv_dim ? 2 : 1;  // rotate q and k, or q only
      for (int r = 0; r < rotn; ++r) {
        float* vec = r == 0 ? q : k;
        const float v0 = vec[i];
        const float v1 = vec[i + 1];
        vec[i] = v0 * fcr - v1 * fci;
        vec[i + 1] = v0 * fci + v1 * fcr;
      }
    }

    // Multi-head attention over positions 0..pos; query head h reads key/value head
    // h / kv_mul (grouped-query attention).
    const float scale = std::sqrt(static_cast<float>(head_size));
    for (int h = 0; h < cfg_.n_heads; ++h) {
      const float* qh = q + sz(h) * sz(head_size);
      const size_t kv_off = sz(h / kv_mul) * sz(head_size);
      float* att = att_.data();
      for (int t = 0; t <= pos; ++t) {
        const float* kt = kc.data() + sz(t) * sz(kv_dim) + kv_off;
        float score = 0.0f;
        for (int i = 0; i < head_size; ++i) score += qh[i] * kt[i];
        score /= scale;  // a division, as in run.c (not a multiplication by 1/scale)
        att[t] = score;
      }
      softmax(att, pos + 1);
      float* xbh = xb + sz(h) * sz(head_size);
      std::fill(xbh, xbh + head_size, 0.0f);
      for (int t = 0; t <= pos; ++t) {
        const float* vt = vc.data() + sz(t) * sz(kv_dim) + kv_off;
        const float a = att[t];
        for (int i = 0; i < head_size; ++i) xbh[i] += a * vt[i];
      }
    }

    matmul(xb2_.data(), xb, w.wo.data() + lz * sz(dim) * sz(dim), dim, dim);
    for (int i = 0; i < dim; ++i) x[i] += xb2_[sz(i)];

    // Feed-forward: w2(silu(w1 x) * w3 x).
    rmsnorm(xb, x, w.rms_ffn.data() + lz * sz(dim), dim);
    matmul(hb_.data(), xb, w.w1.data() + lz * sz(dim) * sz(hidden_dim), dim, hidden_dim);
    matmul(hb2_.data(), xb, w.w3.data() + lz * sz(dim) * sz(hidden_dim), dim, hidden_dim);
    for (int i = 0; i < hidden_dim; ++i) {
      float val = hb_[sz(i)];
      val *= (1.0f / (1.0f + std::exp(-val)));
      val *= hb2_[sz(i)];
      hb_[sz(i)] = val;
    }
    matmul(xb, hb_.data(), w.w2.data() + lz * sz(dim) * sz(hidden_dim), hidden_dim, dim);
    for (int i = 0; i < dim; ++i) x[i] += xb[i];
  }

  rmsnorm(x, x, w.rms_final.data(), dim);
  matmul(logits_.data(), x, w.wcls(), dim, cfg_.vocab_size);
  cached_ = pos + 1;
  return logits_;
}

int sample_argmax(const float* probs, int n) {
  int max_i = 0;
  float max_p = probs[0];
  for (int i = 1; i < n; ++i) {
    if (probs[i] > max_p) {  // strictly: the first maximum wins
      max_i = i;
      max_p = probs[i];
    }
  }
  return max_i;
}

int sample_mult(const float* probs, int n, float coin) {
  float cdf = 0.0f;
  for (int i = 0; i < n; ++i) {
    cdf += probs[i];
    if (coin < cdf) return i;
  }
  return n - 1;  // rounding left the cdf below coin
}

Sampler::Sampler(int vocab_size, float temperature, float topp, uint64_t seed)
    : vocab_size_(vocab_size), temperature_(temperature), topp_(topp), state_(seed) {
  if (vocab_size <= 0) throw std::invalid_argument("Sampler: vocab_size must be positive");
  if (temperature != 0.0f && seed == 0) {
    throw std::invalid_argument(
        "Sampler: seed 0 would keep xorshift at 0 (run.c replaces it with the time)");
  }
}

uint32_t Sampler::random_u32() {
  state_ ^= state_ >> 12;
  state_ ^= state_ << 25;
  state_ ^= state_ >> 27;
  return static_cast<uint32_t>((state_ * 0x2545F4914F6CDD1Dull) >> 32);
}

float Sampler::random_f32() { return static_cast<float>(random_u32() >> 8) / 16777216.0f; }

int Sampler::sample(std::vector<float>& logits) {
  if (logits.size() < static_cast<size_t>(vocab_size_)) {
    throw std::invalid_argument("Sampler::sample: " + std::to_string(logits.size()) +
                                " logits for a vocabulary of " + std::to_string(vocab_size_));
  }
  const int n = vocab_size_;
  float* probs = logits.data();
  if (temperature_ == 0.0f) return sample_argmax(probs, n);
  for (int i = 0; i < n; ++i) probs[i] /= temperature_;
  softmax(probs, n);
  const float coin = random_f32();
  if (topp_ <= 0.0f || topp_ >= 1.0f) return sample_mult(probs, n, coin);

  // Top-p. Tokens below (1 - topp) / (n - 1) cannot be in the nucleus (if all of the
  // rest were at that bound they would still not reach topp), so they are dropped
  // before sorting, as run.c does.
  if (n == 1) return 0;  // run.c would divide by zero here
  const float cutoff = (1.0f - topp_) / static_cast<float>(n - 1);
  candidates_.clear();
  for (int i = 0; i < n; ++i) {
    if (probs[i] >= cutoff) candidates_.push_back({probs[i], i});
  }
  // run.c sorts with qsort, descending by probability. glibc's qsort is a merge sort
  // (stable) for arrays this size, so equal probabilities keep index order: stable_sort
  // reproduces it.
  std::stable_sort(candidates_.begin(), candidates_.end(),
                   [](const ProbIndex& a, const ProbIndex& b) { return a.prob > b.prob; });
  const int n0 = static_cast<int>(candidates_.size());
  float cumulative_prob = 0.0f;
  int last_idx = n0 - 1;  // if rounding keeps the total at or below topp: all of them
  for (int i = 0; i < n0; ++i) {
    cumulative_prob += candidates_[static_cast<size_t>(i)].prob;
    if (cumulative_prob > topp_) {
      last_idx = i;
      break;
    }
  }
  const float r = coin * cumulative_prob;
  float cdf = 0.0f;
  for (int i = 0; i <= last_idx; ++i) {
    cdf += candidates_[static_cast<size_t>(i)].prob;
    if (r < cdf) return candidates_[static_cast<size_t>(i)].index;
  }
  return candidates_[static_cast<size_t>(last_idx)].index;
}

std::vector<int> generate(const ForwardFn& forward, const ModelConfig& cfg, const Tokenizer& tokenizer,
                          const std::string& prompt, int steps, float temperature, float topp, uint64_t seed,
                          const std::function<void(int, const std::string&)>& on_token) {
  if (tokenizer.vocab_size() != cfg.vocab_size) {
    throw std::invalid_argument("generate: a tokenizer of " + std::to_string(tokenizer.vocab_size()) +
                                " tokens for a model of " + std::to_string(cfg.vocab_size));
  }
  // run.c main()'s parameter overrides.
  if (temperature < 0.0f) temperature = 0.0f;
  if (topp < 0.0f || 1.0f < topp) topp = 0.9f;
  if (steps <= 0 || steps > cfg.seq_len) steps = cfg.seq_len;

  const std::vector<int> prompt_tokens = tokenizer.encode(prompt, true, false);
  const int n_prompt = static_cast<int>(prompt_tokens.size());
  Sampler sampler(cfg.vocab_size, temperature, topp, seed);

  std::vector<int> out{prompt_tokens[0]};
  int token = prompt_tokens[0];
  int pos = 0;
  while (pos < steps) {
    std::vector<float>& logits = forward(token, pos);
    // While the prompt lasts its next token is forced; the logits are then unused.
    const int next =
        pos < n_prompt - 1 ? prompt_tokens[static_cast<size_t>(pos) + 1] : sampler.sample(logits);
    ++pos;
    if (next == Tokenizer::kBos) break;  // BOS delimits sequences: the story is over
    out.push_back(next);
    if (on_token) on_token(next, printable_piece(tokenizer.decode(token, next)));
    token = next;
  }
  return out;
}

std::vector<int> generate_reference(const Model& model, const Tokenizer& tokenizer,
                                    const std::string& prompt, int steps, float temperature,
                                    float topp, uint64_t seed,
                                    const std::function<void(int, const std::string&)>& on_token) {
  ReferenceModel rm(model);
  return generate([&](int token, int pos) -> std::vector<float>& { return rm.forward(token, pos); },
                  model.config, tokenizer, prompt, steps, temperature, topp, seed, on_token);
}

}  // namespace ks::llm
