// Calibration text and the layer-wise calibration pass (calibrate.h). Both run a float
// forward written for speed rather than for run.c's exact rounding: sums in whatever order
// vectorizes (products as axpy over transposed weights), since the quantizers only need text
// and statistics.
#include "kestrel/runtime/calibrate.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "kestrel/llm/reference.h"
#include "linalg.h"

namespace ks::rt {

namespace {

constexpr int kBos = 1;

/// Rows of width `w` stored back to back.
struct Rows {
  int w = 0;
  std::vector<float> v;
  Rows() = default;
  Rows(size_t n, int width) : w(width), v(n * static_cast<size_t>(width), 0.0f) {}
  float* operator[](size_t r) { return &v[r * static_cast<size_t>(w)]; }
  const float* operator[](size_t r) const { return &v[r * static_cast<size_t>(w)]; }
  size_t n() const { return w ? v.size() / static_cast<size_t>(w) : 0; }
};

/// W [n][k] transposed to [k][n], so products are axpys over contiguous rows.
std::vector<float> transpose(const float* w, int n, int k) {
  std::vector<float> t(static_cast<size_t>(k) * n);
  for (int r = 0; r < n; ++r) {
    for (int c = 0; c < k; ++c) t[static_cast<size_t>(c) * n + r] = w[static_cast<size_t>(r) * k + c];
  }
  return t;
}

/// out[n] = W x with W given transposed (wt [k][n]).
void matvec_t(const float* wt, int n, int k, const float* x, float* out) {
  std::fill(out, out + n, 0.0f);
  for (int c = 0; c < k; ++c) {
    const float xc = x[c];
    if (xc == 0.0f) continue;
    const float* col = wt + static_cast<size_t>(c) * n;
    for (int r = 0; r < n; ++r) out[r] += xc * col[r];
  }
}

/// y = x W^T for every row of x (W [n][k]).
Rows matmul(const Rows& x, const float* w, int n, int k) {
  const std::vector<float> wt = transpose(w, n, k);
  Rows y(x.n(), n);
  for (size_t t = 0; t < x.n(); ++t) matvec_t(wt.data(), n, k, x[t], y[t]);
  return y;
}

void rmsnorm(const float* x, const float* weight, int n, float* out) {
  double ss = 0;
  for (int i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
  const float r = static_cast<float>(1.0 / std::sqrt(ss / n + 1e-5));
  for (int i = 0; i < n; ++i) out[i] = weight[i] * (r * x[i]);
}

Rows rmsnorm(const Rows& x, const float* weight) {
  Rows y(x.n(), x.w);
  for (size_t t = 0; t < x.n(); ++t) rmsnorm(x[t], weight, x.w, y[t]);
  return y;
}

float silu(float x) { return x / (1.0f + std::exp(-x)); }

/// RoPE's cos and sin for one position, [head_size / 2], as run.c computes the angles.
void rope_table(int pos, int hs, float* cs, float* sn) {
  for (int i = 0; i < hs; i += 2) {
    const float freq = 1.0f / std::pow(10000.0f, static_cast<float>(i) / static_cast<float>(hs));
    const float val = static_cast<float>(pos) * freq;
    cs[i / 2] = std::cos(val);
    sn[i / 2] = std::sin(val);
  }
}

/// Rotates the pairs of v[0..n) (heads of hs) by the position's table.
void rope(float* v, int n, int hs, const float* cs, const float* sn) {
  for (int i = 0; i < n; i += 2) {
    const float c = cs[(i % hs) / 2], s = sn[(i % hs) / 2];
    const float v0 = v[i], v1 = v[i + 1];
    v[i] = v0 * c - v1 * s;
    v[i + 1] = v0 * s + v1 * c;
  }
}

/// One query's attention over `len` cached positions. Keys and values transposed,
/// kt[j * cap + u] for element j of kv_dim at position u, so both the scores and the
/// weighted sums run along positions. out[dim].
void attend(const float* q, const float* kt, const float* vt, size_t cap, size_t len, const llm::ModelConfig& c,
            std::vector<float>& att, float* out) {
  const int hs = c.head_size(), kv_mul = c.n_heads / c.n_kv_heads;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
  att.resize(len);
  for (int h = 0; h < c.n_heads; ++h) {
    const float* qh = q + h * hs;
    const size_t base = static_cast<size_t>(h / kv_mul) * hs;
    std::fill(att.begin(), att.end(), 0.0f);
    for (int i = 0; i < hs; ++i) {
      const float qi = qh[i] * scale;
      const float* row = kt + (base + i) * cap;
      for (size_t u = 0; u < len; ++u) att[u] += qi * row[u];
    }
    const float mx = *std::max_element(att.begin(), att.end());
    float sum = 0;
    for (size_t u = 0; u < len; ++u) sum += (att[u] = std::exp(att[u] - mx));
    const float inv = 1.0f / sum;
    for (int i = 0; i < hs; ++i) {
      // Eight partial sums, so the loop runs in vector registers.
      const float* row = vt + (base + i) * cap;
      float part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      size_t u = 0;
      for (; u + 8 <= len; u += 8) {
        for (int j = 0; j < 8; ++j) part[j] += att[u + j] * row[u + j];
      }
      float total = 0;
      for (; u < len; ++u) total += att[u] * row[u];
      for (float p : part) total += p;
      out[h * hs + i] = total * inv;
    }
  }
}

/// Writes position u of k[kv_dim] into the transposed layout of attend().
void put_column(const float* k, int kv, size_t cap, size_t u, float* kt) {
  for (int j = 0; j < kv; ++j) kt[static_cast<size_t>(j) * cap + u] = k[j];
}

/// The float model decoding several sequences side by side, one position per step.
class Decoder {
 public:
  Decoder(const llm::Model& model, int batch, int steps)
      : m_(model), c_(model.config), batch_(batch), cap_(static_cast<size_t>(steps)) {
    const llm::ModelWeights& w = model.weights;
    const int dim = c_.dim, kv = c_.kv_dim(), hid = c_.hidden_dim;
    for (int l = 0; l < c_.n_layers; ++l) {
      auto at = [&](const std::vector<float>& t, int n, int k) { return &t[static_cast<size_t>(l) * n * k]; };
      Layer L;
      L.wq = transpose(at(w.wq, dim, dim), dim, dim);
      L.wk = transpose(at(w.wk, kv, dim), kv, dim);
      L.wv = transpose(at(w.wv, kv, dim), kv, dim);
      L.wo = transpose(at(w.wo, dim, dim), dim, dim);
      L.w1 = transpose(at(w.w1, hid, dim), hid, dim);
      L.w2 = transpose(at(w.w2, dim, hid), dim, hid);
      L.w3 = transpose(at(w.w3, hid, dim), hid, dim);
      layers_.push_back(std::move(L));
    }
    wcls_ = transpose(w.wcls(), c_.vocab_size, dim);
    kt_.assign(static_cast<size_t>(c_.n_layers) * batch, std::vector<float>(static_cast<size_t>(c_.kv_dim()) * cap_, 0.0f));
    vt_.assign(kt_.size(), std::vector<float>(static_cast<size_t>(c_.kv_dim()) * cap_, 0.0f));
  }

  /// Runs tokens[b] at `pos` (< steps) for every sequence b (positions before it ran
  /// earlier) and fills logits[b] [vocab].
  void step(const std::vector<int>& tokens, int pos, std::vector<std::vector<float>>& logits) {
    const llm::ModelWeights& w = m_.weights;
    const int dim = c_.dim, kv = c_.kv_dim(), hid = c_.hidden_dim, hs = c_.head_size();
    std::vector<float> cs(static_cast<size_t>(hs / 2)), sn(cs.size());
    rope_table(pos, hs, cs.data(), sn.data());
    std::vector<float> x(dim), a(dim), q(dim), k(kv), v(kv), o(dim), d(dim), h1(hid), h3(hid), att;
    logits.resize(batch_);
    for (int b = 0; b < batch_; ++b) {
      std::copy_n(&w.token_embedding[static_cast<size_t>(tokens[b]) * dim], dim, x.begin());
      for (int l = 0; l < c_.n_layers; ++l) {
        const Layer& L = layers_[l];
        std::vector<float>& kt = kt_[static_cast<size_t>(l) * batch_ + b];
        std::vector<float>& vt = vt_[static_cast<size_t>(l) * batch_ + b];
        rmsnorm(x.data(), &w.rms_att[static_cast<size_t>(l) * dim], dim, a.data());
        matvec_t(L.wq.data(), dim, dim, a.data(), q.data());
        matvec_t(L.wk.data(), kv, dim, a.data(), k.data());
        matvec_t(L.wv.data(), kv, dim, a.data(), v.data());
        rope(q.data(), dim, hs, cs.data(), sn.data());
        rope(k.data(), kv, hs, cs.data(), sn.data());
        put_column(k.data(), kv, cap_, static_cast<size_t>(pos), kt.data());
        put_column(v.data(), kv, cap_, static_cast<size_t>(pos), vt.data());
        attend(q.data(), kt.data(), vt.data(), cap_, static_cast<size_t>(pos) + 1, c_, att, o.data());
        matvec_t(L.wo.data(), dim, dim, o.data(), d.data());
        for (int i = 0; i < dim; ++i) x[i] += d[i];
        rmsnorm(x.data(), &w.rms_ffn[static_cast<size_t>(l) * dim], dim, a.data());
        matvec_t(L.w1.data(), hid, dim, a.data(), h1.data());
        matvec_t(L.w3.data(), hid, dim, a.data(), h3.data());
        for (int i = 0; i < hid; ++i) h1[i] = silu(h1[i]) * h3[i];
        matvec_t(L.w2.data(), dim, hid, h1.data(), d.data());
        for (int i = 0; i < dim; ++i) x[i] += d[i];
      }
      rmsnorm(x.data(), w.rms_final.data(), dim, a.data());
      logits[b].resize(static_cast<size_t>(c_.vocab_size));
      matvec_t(wcls_.data(), c_.vocab_size, dim, a.data(), logits[b].data());
    }
  }

 private:
  struct Layer {
    std::vector<float> wq, wk, wv, wo, w1, w2, w3;  // transposed
  };
  const llm::Model& m_;
  const llm::ModelConfig& c_;
  int batch_;
  size_t cap_;  // positions
  std::vector<Layer> layers_;
  std::vector<float> wcls_;
  std::vector<std::vector<float>> kt_, vt_;  // [layer][sequence]: keys and values, transposed
};

/// m += sum over rows t of a_t b_t^T ([a.w][b.w], double). Summed in float over blocks of
/// rows (vectorized), each block added in double. With `symmetric` (a is b) only the upper
/// triangle is summed, then mirrored.
void accumulate(std::vector<double>& m, const Rows& a, const Rows& b, bool symmetric = false) {
  const int ka = a.w, kb = b.w;
  constexpr size_t kBlock = 256;
  std::vector<float> acc(static_cast<size_t>(ka) * kb);
  for (size_t t0 = 0; t0 < a.n(); t0 += kBlock) {
    std::fill(acc.begin(), acc.end(), 0.0f);
    for (size_t t = t0; t < std::min(a.n(), t0 + kBlock); ++t) {
      const float* at = a[t];
      const float* bt = b[t];
      for (int i = 0; i < ka; ++i) {
        const float ai = at[i];
        if (ai == 0.0f) continue;
        float* row = &acc[static_cast<size_t>(i) * kb];
        for (int j = symmetric ? i : 0; j < kb; ++j) row[j] += ai * bt[j];
      }
    }
    for (size_t i = 0; i < acc.size(); ++i) m[i] += acc[i];
  }
  if (symmetric) {
    for (int i = 0; i < ka; ++i) {
      for (int j = 0; j < i; ++j) m[static_cast<size_t>(i) * kb + j] = m[static_cast<size_t>(j) * kb + i];
    }
  }
}

using linalg::cholesky;
using linalg::cholesky_solve;

/// The ridge-regularized least-squares rows: for each r, w_t = (H + ridge I)^-1 (rhs_r +
/// ridge w_r), the ridge `damp` times H's mean diagonal, pulling the fit towards the float
/// weights. An input never seen (zero diagonal) keeps its float weight.
std::vector<float> solve_rows(const float* w, int n, int k, const std::vector<double>& h,
                              const std::vector<std::vector<double>>& rhs, double damp) {
  std::vector<double> l(h);
  double mean = 0;
  for (int i = 0; i < k; ++i) mean += l[static_cast<size_t>(i) * k + i];
  mean = mean > 0 ? mean / k : 1.0;
  std::vector<bool> dead(k);
  for (int i = 0; i < k; ++i) {
    dead[i] = !(h[static_cast<size_t>(i) * k + i] > 0);
    if (dead[i]) l[static_cast<size_t>(i) * k + i] = mean;
    l[static_cast<size_t>(i) * k + i] += damp * mean;
  }
  if (!cholesky(l, k)) throw std::runtime_error("calibration: input moments not positive definite");
  std::vector<float> out(static_cast<size_t>(n) * k);
  std::vector<double> x(k);
  for (int r = 0; r < n; ++r) {
    const float* wr = w + static_cast<size_t>(r) * k;
    for (int j = 0; j < k; ++j) x[j] = (dead[j] ? mean * wr[j] : rhs[r][j]) + damp * mean * wr[j];
    cholesky_solve(l, k, x.data());
    for (int j = 0; j < k; ++j) out[static_cast<size_t>(r) * k + j] = static_cast<float>(x[j]);
  }
  return out;
}

/// The core's dynamic quantization of a vector, per group: s = max|x| / qmax, x = round(x/s) s.
void fake_quantize(Rows& x, int group, float qmax) {
  for (size_t t = 0; t < x.n(); ++t) {
    float* row = x[t];
    for (int b = 0; b < x.w; b += group) {
      const int e = std::min(x.w, b + group);
      float m = 0;
      for (int i = b; i < e; ++i) m = std::max(m, std::fabs(row[i]));
      if (m == 0) continue;
      const float s = m / qmax, inv = qmax / m;
      for (int i = b; i < e; ++i) row[i] = std::nearbyint(row[i] * inv) * s;
    }
  }
}

}  // namespace

std::vector<std::vector<int>> calibration_texts(const llm::Model& model, const CalibrationOptions& opt) {
  if (opt.sequences <= 0 || opt.steps < 2) throw std::invalid_argument("calibration: no text");
  llm::check_weights(model);
  const int steps = std::min(opt.steps, model.config.seq_len);
  std::vector<llm::Sampler> samplers;
  std::vector<std::vector<int>> texts(static_cast<size_t>(opt.sequences), std::vector<int>{kBos});
  for (int s = 0; s < opt.sequences; ++s) {
    samplers.emplace_back(model.config.vocab_size, opt.temperature, opt.topp, opt.seed + static_cast<uint64_t>(s));
  }
  Decoder dec(model, opt.sequences, steps);
  std::vector<bool> done(static_cast<size_t>(opt.sequences), false);
  std::vector<int> tokens(static_cast<size_t>(opt.sequences));
  std::vector<std::vector<float>> logits;
  for (int pos = 0; pos + 1 < steps; ++pos) {
    for (int s = 0; s < opt.sequences; ++s) tokens[s] = texts[s].back();
    dec.step(tokens, pos, logits);  // a finished story keeps running; its text is not extended
    bool all_done = true;
    for (int s = 0; s < opt.sequences; ++s) {
      if (done[s]) continue;
      const int next = samplers[s].sample(logits[s]);
      if (next == kBos) {
        done[s] = true;
      } else {
        texts[s].push_back(next);
        all_done = false;
      }
    }
    if (all_done) break;
  }
  return texts;
}

void InputMoments::add(const float* x) {
  for (int i = 0; i < k; ++i) {
    const double xi = x[i];
    if (xi == 0) continue;
    double* row = &h[static_cast<size_t>(i) * k];
    for (int j = 0; j < k; ++j) row[j] += xi * x[j];
  }
  ++count;
}

void quantize_layerwise(const llm::Model& model, const std::vector<float>& embedding,
                        const std::vector<std::vector<int>>& texts, const LayerwiseOptions& opt,
                        const QuantizeFn& quantize) {
  llm::check_weights(model);
  const llm::ModelConfig& c = model.config;
  const llm::ModelWeights& w = model.weights;
  const int dim = c.dim, kv = c.kv_dim(), hid = c.hidden_dim, hs = c.head_size(), voc = c.vocab_size;
  if (embedding.size() != static_cast<size_t>(voc) * dim) {
    throw std::invalid_argument("quantize_layerwise: embedding of " + std::to_string(embedding.size()) + " values");
  }
  // All texts back to back: row t is token tokens[t] at position pos_of[t] of the sequence
  // that starts at row seq_start[t].
  std::vector<size_t> seq_start;
  std::vector<int> pos_of, tokens;
  for (const std::vector<int>& text : texts) {
    const size_t start = tokens.size();
    for (size_t p = 0; p < text.size() && p < static_cast<size_t>(c.seq_len); ++p) {
      if (text[p] < 0 || text[p] >= voc) throw std::out_of_range("calibration: token " + std::to_string(text[p]));
      tokens.push_back(text[p]);
      pos_of.push_back(static_cast<int>(p));
      seq_start.push_back(start);
    }
  }
  const size_t n_rows = tokens.size();
  if (n_rows == 0) throw std::invalid_argument("quantize_layerwise: no calibration text");
  const bool outputs = opt.target == CalibrationTarget::kFloatOutputs;

  // The residual streams of the float model (f) and of the model being quantized (q).
  Rows xf(n_rows, dim), xq(n_rows, dim);
  for (size_t t = 0; t < n_rows; ++t) {
    std::copy_n(&w.token_embedding[static_cast<size_t>(tokens[t]) * dim], dim, xf[t]);
    std::copy_n(&embedding[static_cast<size_t>(tokens[t]) * dim], dim, xq[t]);
  }

  // One shared input: its moments (and with kFloatOutputs the cross moments with the float
  // input), then each matrix fitted and quantized in turn. Returns, per matrix, the float
  // model's outputs and the quantized model's.
  struct Mat {
    Tensor t;
    const float* w;
    int n;
  };
  auto stage = [&](const Rows& in_f, const Rows& in_q, int layer, std::initializer_list<Mat> mats) {
    const int k = in_f.w;
    const Rows& fit_in = outputs ? in_q : in_f;
    InputMoments h(k);
    accumulate(h.h, fit_in, fit_in, true);
    h.count = static_cast<long>(n_rows);
    std::vector<double> cross;  // sum x_f x_q^T
    if (outputs) {
      cross.assign(static_cast<size_t>(k) * k, 0.0);
      accumulate(cross, in_f, in_q);
    }
    std::vector<std::pair<Rows, Rows>> out;
    for (const Mat& m : mats) {
      std::vector<float> target(m.w, m.w + static_cast<size_t>(m.n) * k);
      if (outputs) {
        // min |W x_f - W_t x_q|^2: (H + ridge) w_t = C^T w + ridge w, row by row.
        std::vector<std::vector<double>> rhs(static_cast<size_t>(m.n), std::vector<double>(k, 0.0));
        for (int r = 0; r < m.n; ++r) {
          for (int i = 0; i < k; ++i) {
            const double wi = m.w[static_cast<size_t>(r) * k + i];
            const double* crow = &cross[static_cast<size_t>(i) * k];
            for (int j = 0; j < k; ++j) rhs[r][j] += wi * crow[j];
          }
        }
        target = solve_rows(m.w, m.n, k, h.h, rhs, opt.damp);
      }
      const std::vector<float> wq = quantize(m.t, layer, target.data(), m.n, k, h, nullptr);
      if (wq.size() != static_cast<size_t>(m.n) * k) throw std::logic_error("quantize_layerwise: quantizer returned a wrong size");
      out.emplace_back(matmul(in_f, m.w, m.n, k), matmul(in_q, wq.data(), m.n, k));
    }
    return out;
  };
  auto act = [&](Rows& x, float qmax) {
    if (opt.quantize_activations) fake_quantize(x, opt.group, qmax);
  };
  std::vector<float> rope_c(static_cast<size_t>(c.seq_len) * hs / 2), rope_s(rope_c.size());
  for (int p = 0; p < c.seq_len; ++p) rope_table(p, hs, &rope_c[static_cast<size_t>(p) * hs / 2], &rope_s[static_cast<size_t>(p) * hs / 2]);
  // Causal attention of every row over its sequence's rows up to it (q and k roped here).
  auto attention = [&](Rows& q, Rows& k, const Rows& v) {
    for (size_t t = 0; t < n_rows; ++t) {
      const size_t p = static_cast<size_t>(pos_of[t]) * hs / 2;
      rope(q[t], dim, hs, &rope_c[p], &rope_s[p]);
      rope(k[t], kv, hs, &rope_c[p], &rope_s[p]);
    }
    Rows o(n_rows, dim);
    std::vector<float> att, kt, vt;
    for (size_t s0 = 0; s0 < n_rows;) {
      size_t s1 = s0;
      while (s1 < n_rows && seq_start[s1] == s0) ++s1;
      const size_t len = s1 - s0;
      kt.assign(static_cast<size_t>(kv) * len, 0.0f);
      vt.assign(kt.size(), 0.0f);
      for (size_t u = 0; u < len; ++u) {
        put_column(k[s0 + u], kv, len, u, kt.data());
        put_column(v[s0 + u], kv, len, u, vt.data());
      }
      for (size_t t = s0; t < s1; ++t) attend(q[t], kt.data(), vt.data(), len, t - s0 + 1, c, att, o[t]);
      s0 = s1;
    }
    return o;
  };
  auto add = [](Rows& x, const Rows& d) {
    for (size_t i = 0; i < x.v.size(); ++i) x.v[i] += d.v[i];
  };
  auto at = [](const std::vector<float>& t, int l, int n, int k) { return &t[static_cast<size_t>(l) * n * k]; };

  for (int l = 0; l < c.n_layers; ++l) {
    const Rows af = rmsnorm(xf, &w.rms_att[static_cast<size_t>(l) * dim]);
    Rows aq = rmsnorm(xq, &w.rms_att[static_cast<size_t>(l) * dim]);
    act(aq, 127.0f);
    auto qkv = stage(af, aq, l,
                     {{Tensor::kWq, at(w.wq, l, dim, dim), dim},
                      {Tensor::kWk, at(w.wk, l, kv, dim), kv},
                      {Tensor::kWv, at(w.wv, l, kv, dim), kv}});
    const Rows of = attention(qkv[0].first, qkv[1].first, qkv[2].first);
    Rows oq = attention(qkv[0].second, qkv[1].second, qkv[2].second);
    act(oq, 127.0f);
    const auto wo = stage(of, oq, l, {{Tensor::kWo, at(w.wo, l, dim, dim), dim}});
    add(xf, wo[0].first);
    add(xq, wo[0].second);

    const Rows bf = rmsnorm(xf, &w.rms_ffn[static_cast<size_t>(l) * dim]);
    Rows bq = rmsnorm(xq, &w.rms_ffn[static_cast<size_t>(l) * dim]);
    act(bq, 127.0f);
    auto w13 = stage(bf, bq, l, {{Tensor::kW1, at(w.w1, l, hid, dim), hid}, {Tensor::kW3, at(w.w3, l, hid, dim), hid}});
    for (int s = 0; s < 2; ++s) {
      Rows& h1 = s == 0 ? w13[0].first : w13[0].second;
      const Rows& h3 = s == 0 ? w13[1].first : w13[1].second;
      for (size_t i = 0; i < h1.v.size(); ++i) h1.v[i] = silu(h1.v[i]) * h3.v[i];
    }
    act(w13[0].second, 127.0f);
    const auto w2 = stage(w13[0].first, w13[0].second, l, {{Tensor::kW2, at(w.w2, l, dim, hid), dim}});
    add(xf, w2[0].first);
    add(xq, w2[0].second);
  }
  const Rows nf = rmsnorm(xf, w.rms_final.data());
  Rows nq = rmsnorm(xq, w.rms_final.data());
  act(nq, 16256.0f);
  if (opt.classifier_floor <= 0) {
    stage(nf, nq, c.n_layers, {{Tensor::kClassifier, w.wcls(), voc}});
    return;
  }

  // The classifier row by row: row r's moments weighted by the float model's probability of
  // token r (plus the floor), and its target the weighted least-squares fit of the float
  // logits z_r.
  const Rows& in = outputs ? nq : nf;
  const Rows zf = matmul(nf, w.wcls(), voc, dim);
  InputMoments all(dim);
  accumulate(all.h, in, in, true);
  all.count = static_cast<long>(n_rows);
  const double floor = opt.classifier_floor / voc;
  // Upper triangles summed in float per row, as accumulate() does.
  std::vector<float> hp(static_cast<size_t>(voc) * dim * dim, 0.0f);
  // The targets' right-hand sides: sum_t (p_t(r) + floor) z_t(r) x_t, the floor's part as
  // one product (float, vectorized), the probabilities' part per row.
  Rows zx(static_cast<size_t>(voc), dim);
  for (size_t t = 0; t < n_rows; ++t) {
    const float* z = zf[t];
    const float* x = in[t];
    for (int r = 0; r < voc; ++r) {
      const float zr = z[r];
      float* row = zx[static_cast<size_t>(r)];
      for (int d = 0; d < dim; ++d) row[d] += zr * x[d];
    }
  }
  std::vector<std::vector<double>> rhs(static_cast<size_t>(voc), std::vector<double>(dim, 0.0));
  for (int r = 0; r < voc; ++r) {
    for (int d = 0; d < dim; ++d) rhs[r][d] = floor * zx[static_cast<size_t>(r)][d];
  }
  std::vector<double> prob(voc);
  for (size_t t = 0; t < n_rows; ++t) {
    const float* z = zf[t];
    const float* x = in[t];
    const double mx = *std::max_element(z, z + voc);
    double sum = 0;
    for (int r = 0; r < voc; ++r) sum += (prob[r] = std::exp(z[r] - mx));
    for (int r = 0; r < voc; ++r) {
      // Probabilities below 1e-3 are left to the floor (in the moments and the target alike).
      const double p = prob[r] / sum;
      if (p < 1e-3) continue;
      for (int d = 0; d < dim; ++d) rhs[r][d] += p * z[r] * x[d];
      const float pf = static_cast<float>(p);
      float* hr = &hp[static_cast<size_t>(r) * dim * dim];
      for (int i = 0; i < dim; ++i) {
        const float pi = pf * x[i];
        float* row = hr + static_cast<size_t>(i) * dim;
        for (int j = i; j < dim; ++j) row[j] += pi * x[j];
      }
    }
  }
  std::vector<InputMoments> rows(static_cast<size_t>(voc), InputMoments(dim));
  std::vector<float> target(static_cast<size_t>(voc) * dim);
  for (int r = 0; r < voc; ++r) {
    InputMoments& m = rows[r];
    m.count = static_cast<long>(n_rows);
    const float* hr = &hp[static_cast<size_t>(r) * dim * dim];
    for (int i = 0; i < dim; ++i) {
      for (int j = 0; j < dim; ++j) {
        const size_t ij = static_cast<size_t>(i) * dim + j;
        m.h[ij] = (j >= i ? hr[ij] : hr[static_cast<size_t>(j) * dim + i]) + floor * all.h[ij];
      }
    }
    const float* wr = w.wcls() + static_cast<size_t>(r) * dim;
    if (outputs) {
      const std::vector<float> t = solve_rows(wr, 1, dim, m.h, {rhs[r]}, opt.damp);
      std::copy(t.begin(), t.end(), target.begin() + static_cast<std::ptrdiff_t>(r) * dim);
    } else {
      std::copy(wr, wr + dim, target.begin() + static_cast<std::ptrdiff_t>(r) * dim);
    }
  }
  quantize(Tensor::kClassifier, c.n_layers, target.data(), voc, dim, all, &rows);
}

}  // namespace ks::rt
