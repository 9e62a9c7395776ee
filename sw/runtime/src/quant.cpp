#include "kestrel/runtime/quant.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "kestrel/golden/kvec.h"

namespace ks::rt {

namespace kfp = golden::kfp;
namespace kvec = golden::kvec;

namespace {

constexpr Bits kSignMask = 0x80000000u;

std::vector<Bits> to_bits(const float* f, size_t n) {
  std::vector<Bits> b(n);
  for (size_t i = 0; i < n; ++i) b[i] = kfp::from_float(f[i]);
  return b;
}

/// Compares by value like kfp::max: true when a is strictly greater than b.
bool greater(Bits a, Bits b) { return kfp::max(b, a) == a && kfp::max(a, b) != b; }

}  // namespace

QuantOptions QuantOptions::preset(Precision p) {
  QuantOptions o;
  if (p == Precision::kInt4) {
    o.precision = Precision::kInt4;
    o.classifier = Precision::kInt4;
    o.rounding = Rounding::kGptq;
    o.embedding = EmbeddingSource::kFloat;
  }
  return o;
}

QMatrix quantize(const float* w, int n, int k, int group, Precision p, ScaleSearch search) {
  if (n <= 0 || k <= 0 || group <= 0) throw std::invalid_argument("quantize: empty matrix or group");
  QMatrix m;
  m.n = n;
  m.k = k;
  m.group = group;
  m.p = p;
  const int qmax = p == Precision::kInt4 ? 7 : 127, qmin = p == Precision::kInt4 ? -8 : -127;
  std::vector<int8_t> values(static_cast<size_t>(n) * k, 0);
  m.scales.assign(static_cast<size_t>(n) * m.groups(), 0);
  for (int r = 0; r < n; ++r) {
    for (int g = 0; g < m.groups(); ++g) {
      const int k0 = g * group, k1 = std::min(k, k0 + group);
      float amax = 0;
      for (int c = k0; c < k1; ++c) amax = std::max(amax, std::fabs(w[static_cast<size_t>(r) * k + c]));
      if (amax == 0) continue;
      auto err_of = [&](float s) {
        double e = 0;
        for (int c = k0; c < k1; ++c) {
          const float x = w[static_cast<size_t>(r) * k + c];
          const float q = std::clamp(std::nearbyint(x / s), static_cast<float>(qmin), static_cast<float>(qmax));
          e += static_cast<double>(x - q * s) * (x - q * s);
        }
        return e;
      };
      float best = amax / qmax;
      if (search == ScaleSearch::kMse) {
        double best_err = err_of(best);
        for (int step = 1; step <= 50; ++step) {
          const float s = amax * (1.0f - 0.01f * step) / qmax;
          const double e = err_of(s);
          if (e < best_err) {
            best_err = e;
            best = s;
          }
        }
      }
      m.scales[static_cast<size_t>(r) * m.groups() + g] = kfp::from_float(best);
      for (int c = k0; c < k1; ++c) {
        const float x = w[static_cast<size_t>(r) * k + c];
        values[static_cast<size_t>(r) * k + c] = static_cast<int8_t>(
            std::clamp(std::nearbyint(x / best), static_cast<float>(qmin), static_cast<float>(qmax)));
      }
    }
  }
  if (p == Precision::kInt4) {
    m.q = golden::pack_int4(values, static_cast<size_t>(n), static_cast<size_t>(k));
  } else {
    m.q.assign(values.begin(), values.end());
  }
  return m;
}

void QuantModel::matvec(const QMatrix& w, const std::vector<int8_t>& xq, const std::vector<Bits>& sx,
                        std::vector<Bits>& y) {
  y.assign(static_cast<size_t>(w.n), 0);
  const bool per_group = sx.size() > 1;
  for (int r = 0; r < w.n; ++r) {
    Bits acc = 0;
    for (int g = 0; g < w.groups(); ++g) {
      int32_t part = 0;  // the matrix unit's INT32 partial sum of one group
      for (int c = g * w.group; c < std::min(w.k, (g + 1) * w.group); ++c) part += w.value(r, c) * xq[c];
      Bits term = kfp::mul(kfp::from_int(part), w.scales[static_cast<size_t>(r) * w.groups() + g]);
      if (per_group) term = kfp::mul(term, sx[g]);
      acc = kfp::add(acc, term);
    }
    y[r] = per_group ? acc : kfp::mul(acc, sx[0]);
  }
}

Bits QuantModel::quantize_act(const std::vector<Bits>& x, std::vector<int8_t>& xq, size_t begin, size_t end) {
  std::vector<int32_t> wide(xq.size());
  const Bits s = quantize_wide(x, wide, begin, end, 127);
  for (size_t i = begin; i < end; ++i) xq[i] = static_cast<int8_t>(wide[i]);
  return s;
}

Bits QuantModel::quantize_wide(const std::vector<Bits>& x, std::vector<int32_t>& xq, size_t begin, size_t end,
                               int32_t qmax) {
  // max|x| in the vector unit's order (ABS, then its lane-order MAX). An all-zero group needs
  // no special case: 0 x recip(0) is 0, and so is the scale.
  std::vector<Bits> mag(end - begin);
  for (size_t i = begin; i < end; ++i) mag[i - begin] = kfp::alu(kfp::AluOp::kAbs, x[i], 0);
  const Bits m = kvec::max(mag.data(), mag.size(), opt_.lanes);
  const Bits inv = kfp::mul(kvec::recip(m), kfp::from_int(qmax));
  for (size_t i = begin; i < end; ++i) xq[i] = kfp::to_int(kfp::mul(x[i], inv), -qmax, qmax);
  return kfp::mul(m, kvec::recip(kfp::from_int(qmax)));
}

void QuantModel::matvec_a16(const QMatrix& w, const std::vector<Bits>& x, std::vector<Bits>& y) {
  // 16-bit quantization per group, then the split into two INT8 vectors.
  std::vector<int8_t> hi(x.size()), lo(x.size());
  std::vector<Bits> sx;
  for (size_t b = 0; b < x.size(); b += static_cast<size_t>(w.group)) {
    const size_t e = std::min(x.size(), b + static_cast<size_t>(w.group));
    std::vector<Bits> mag(e - b);
    for (size_t i = b; i < e; ++i) mag[i - b] = kfp::alu(kfp::AluOp::kAbs, x[i], 0);
    const Bits m = kvec::max(mag.data(), mag.size(), opt_.lanes);
    const Bits inv = kfp::mul(kvec::recip(m), kvec::constant(16256.0f));
    for (size_t i = b; i < e; ++i) {
      // v = 128 hi + lo exactly, hi rounded to nearest even (|lo| <= 64), all in KFP32 as the
      // vector unit computes it.
      const int32_t v = kfp::to_int(kfp::mul(x[i], inv), -16256, 16256);
      const Bits vf = kfp::from_int(v);
      const int32_t h = kfp::to_int(kfp::mul(vf, kvec::constant(1.0f / 128)), -127, 127);
      const int32_t l = kfp::to_int(kfp::sub(vf, kfp::mul(kfp::from_int(h), kvec::constant(128.0f))), -127, 127);
      hi[i] = static_cast<int8_t>(h);
      lo[i] = static_cast<int8_t>(l);
    }
    sx.push_back(kfp::mul(m, kvec::constant(1.0f / 16256.0f)));
  }
  y.assign(static_cast<size_t>(w.n), 0);
  for (int r = 0; r < w.n; ++r) {
    Bits acc = 0;
    for (int g = 0; g < w.groups(); ++g) {
      int32_t ph = 0, pl = 0;  // the two passes' INT32 partial sums
      for (int c = g * w.group; c < std::min(w.k, (g + 1) * w.group); ++c) {
        ph += w.value(r, c) * hi[c];
        pl += w.value(r, c) * lo[c];
      }
      const Bits part = kfp::add(kfp::mul(kfp::from_int(ph), kvec::constant(128.0f)), kfp::from_int(pl));
      const Bits term = kfp::mul(kfp::mul(part, w.scales[static_cast<size_t>(r) * w.groups() + g]), sx[g]);
      acc = kfp::add(acc, term);
    }
    y[r] = acc;
  }
}

void QuantModel::quantize_groups(const std::vector<Bits>& x, int group, std::vector<int8_t>& xq,
                                 std::vector<Bits>& sx) {
  xq.assign(x.size(), 0);
  sx.clear();
  if (group <= 0) {
    sx.push_back(quantize_act(x, xq, 0, x.size()));
    return;
  }
  for (size_t b = 0; b < x.size(); b += static_cast<size_t>(group)) {
    sx.push_back(quantize_act(x, xq, b, std::min(x.size(), b + static_cast<size_t>(group))));
  }
}

void QuantModel::rmsnorm(const std::vector<Bits>& x, const std::vector<Bits>& weight, size_t lanes,
                         std::vector<Bits>& out) {
  std::vector<Bits> sq(x.size());
  for (size_t i = 0; i < x.size(); ++i) sq[i] = kfp::mul(x[i], x[i]);
  Bits ms = kfp::mul(kvec::sum(sq.data(), sq.size(), lanes), kvec::constant(1.0f / static_cast<float>(x.size())));
  ms = kfp::add(ms, kvec::constant(1e-5f));
  const Bits r = kvec::rsqrt(ms);
  out.resize(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = kfp::mul(weight[i], kfp::mul(r, x[i]));
}

QuantModel::QuantModel(const llm::Model& model, const QuantOptions& opt) : cfg_(model.config), opt_(opt) {
  const llm::ModelConfig& c = cfg_;
  const llm::ModelWeights& w = model.weights;
  const int dim = c.dim, kv = c.kv_dim(), hid = c.hidden_dim;
  // Mixed precision: the products named in int8_tensors ("qkv", "wo", "w13", "w2", each
  // optionally "<layer>."-prefixed) stay INT8.
  auto product = [](Tensor t) {
    switch (t) {
      case Tensor::kWq:
      case Tensor::kWk:
      case Tensor::kWv: return "qkv";
      case Tensor::kWo: return "wo";
      case Tensor::kW1:
      case Tensor::kW3: return "w13";
      default: return "w2";
    }
  };
  for (const std::string& name : opt.int8_tensors) {
    const size_t dot = name.find('.');
    const std::string base = dot == std::string::npos ? name : name.substr(dot + 1);
    bool layer_ok = dot == std::string::npos;
    if (!layer_ok) {
      const std::string layer = name.substr(0, dot);
      layer_ok = !layer.empty() && layer.size() < 4 && layer.find_first_not_of("0123456789") == std::string::npos &&
                 std::stoi(layer) < c.n_layers;
    }
    if (!layer_ok || (base != "qkv" && base != "wo" && base != "w13" && base != "w2")) {
      throw std::invalid_argument("QuantOptions::int8_tensors: '" + name + "' names no product (qkv, wo, w13, w2, optionally <layer>.)");
    }
  }
  auto precision_of = [&](Tensor t, int l) {
    if (t == Tensor::kClassifier) return opt.classifier;
    for (const std::string& name : opt.int8_tensors) {
      if (name == product(t) || name == std::to_string(l) + "." + product(t)) return Precision::kInt8;
    }
    return opt.precision;
  };
  layers_.resize(static_cast<size_t>(c.n_layers));
  for (int l = 0; l < c.n_layers; ++l) {
    layers_[l].rms_att = to_bits(&w.rms_att[static_cast<size_t>(l) * dim], dim);
    layers_[l].rms_ffn = to_bits(&w.rms_ffn[static_cast<size_t>(l) * dim], dim);
  }
  auto slot = [&](Tensor t, int l) -> QMatrix& {
    if (t == Tensor::kClassifier) return cls_;
    Layer& L = layers_.at(static_cast<size_t>(l));
    switch (t) {
      case Tensor::kWq: return L.wq;
      case Tensor::kWk: return L.wk;
      case Tensor::kWv: return L.wv;
      case Tensor::kWo: return L.wo;
      case Tensor::kW1: return L.w1;
      case Tensor::kW3: return L.w3;
      default: return L.w2;
    }
  };
  if (opt.embedding == EmbeddingSource::kFloat) emb_table_ = to_bits(w.token_embedding.data(), w.token_embedding.size());
  if (opt.rounding == Rounding::kGptq) {
    // The layer-wise pass over the model's own stories; the quantized model's embedding in
    // it is the float one (exact with kFloat; with a quantized table, an approximation).
    const std::vector<std::vector<int>> texts = calibration_texts(model, opt.calibration);
    LayerwiseOptions lo = opt.layerwise;
    lo.group = opt.group;
    quantize_layerwise(model, w.token_embedding, texts, lo,
                       [&](Tensor t, int l, const float* wt, int n, int k, const InputMoments& h,
                           const std::vector<InputMoments>* rows) {
                         QMatrix& m = slot(t, l);
                         m = rows ? quantize_gptq(wt, n, k, opt.group, precision_of(t, l), *rows, opt.gptq)
                                  : quantize_gptq(wt, n, k, opt.group, precision_of(t, l), h, opt.gptq);
                         return dequantize(m);
                       });
  } else {
    for (int l = 0; l < c.n_layers; ++l) {
      auto q = [&](const std::vector<float>& t, int n, int k, Tensor id) {
        slot(id, l) = quantize(&t[static_cast<size_t>(l) * n * k], n, k, opt.group, precision_of(id, l), opt.search);
      };
      q(w.wq, dim, dim, Tensor::kWq);
      q(w.wk, kv, dim, Tensor::kWk);
      q(w.wv, kv, dim, Tensor::kWv);
      q(w.wo, dim, dim, Tensor::kWo);
      q(w.w1, hid, dim, Tensor::kW1);
      q(w.w2, dim, hid, Tensor::kW2);
      q(w.w3, hid, dim, Tensor::kW3);
    }
    cls_ = quantize(w.wcls(), c.vocab_size, dim, opt.group, opt.classifier, opt.search);
  }
  if (opt.embedding == EmbeddingSource::kQuantized) {
    // The quantized table's rows dequantized: the classifier's when shared, else the
    // embedding quantized like the classifier.
    const QMatrix emb = c.shared_classifier
                            ? cls_
                            : quantize(w.token_embedding.data(), c.vocab_size, dim, opt.group, opt.classifier, opt.search);
    emb_table_.resize(static_cast<size_t>(c.vocab_size) * dim);
    for (int t = 0; t < c.vocab_size; ++t) {
      for (int i = 0; i < dim; ++i) {
        emb_table_[static_cast<size_t>(t) * dim + i] =
            kfp::mul(kfp::from_int(emb.value(t, i)), emb.scales[static_cast<size_t>(t) * emb.groups() + i / emb.group]);
      }
    }
  }
  rms_final_ = to_bits(w.rms_final.data(), dim);
  // RoPE tables exactly as run.c computes its angles, in float, once.
  const int hs = c.head_size();
  rope_cos_.resize(static_cast<size_t>(c.seq_len) * hs / 2);
  rope_sin_.resize(rope_cos_.size());
  for (int pos = 0; pos < c.seq_len; ++pos) {
    for (int i = 0; i < hs; i += 2) {
      const float freq = 1.0f / std::pow(10000.0f, static_cast<float>(i) / static_cast<float>(hs));
      const float val = static_cast<float>(pos) * freq;
      rope_cos_[static_cast<size_t>(pos) * hs / 2 + i / 2] = kfp::from_float(std::cos(val));
      rope_sin_[static_cast<size_t>(pos) * hs / 2 + i / 2] = kfp::from_float(std::sin(val));
    }
  }
  inv_sqrt_head_ = kvec::constant(1.0f / std::sqrt(static_cast<float>(hs)));
  kq_.assign(c.n_layers, {});
  vq_.assign(c.n_layers, {});
  ks_.assign(c.n_layers, {});
  vs_.assign(c.n_layers, {});
  kf_.assign(c.n_layers, {});
  vf_.assign(c.n_layers, {});
}

const QMatrix& QuantModel::matrix(int layer, Mat m) const {
  const Layer& L = layers_.at(static_cast<size_t>(layer));
  switch (m) {
    case Mat::kWq: return L.wq;
    case Mat::kWk: return L.wk;
    case Mat::kWv: return L.wv;
    case Mat::kWo: return L.wo;
    case Mat::kW1: return L.w1;
    case Mat::kW2: return L.w2;
    case Mat::kW3: return L.w3;
  }
  return L.wq;
}

int QuantModel::argmax(const std::vector<Bits>& logits) {
  int best = 0;
  for (size_t i = 1; i < logits.size(); ++i) {
    if (greater(logits[i], logits[best])) best = static_cast<int>(i);
  }
  return best;
}

const std::vector<Bits>& QuantModel::forward(int token, int pos) {
  const llm::ModelConfig& c = cfg_;
  if (token < 0 || token >= c.vocab_size) throw std::out_of_range("token " + std::to_string(token));
  if (pos < 0 || pos >= c.seq_len) throw std::out_of_range("position " + std::to_string(pos));
  const int dim = c.dim, kv = c.kv_dim(), hs = c.head_size(), hid = c.hidden_dim;
  const int group_heads = c.n_heads / c.n_kv_heads;
  const size_t lanes = opt_.lanes;

  // Embedding: one row of the KFP32 table.
  x_.assign(emb_table_.begin() + static_cast<std::ptrdiff_t>(token) * dim,
            emb_table_.begin() + static_cast<std::ptrdiff_t>(token + 1) * dim);

  for (int l = 0; l < c.n_layers; ++l) {
    const Layer& L = layers_[l];
    rmsnorm(x_, L.rms_att, lanes, xb_);
    const int ag = opt_.act_per_group ? opt_.group : 0;
    quantize_groups(xb_, ag, xq_, sx_);
    matvec(L.wq, xq_, sx_, q_);
    matvec(L.wk, xq_, sx_, k_);
    matvec(L.wv, xq_, sx_, v_);

    // RoPE on q (all heads) and k (kv heads), pairs (i, i+1) of each head.
    for (int i = 0; i < dim; i += 2) {
      const int hd = i % hs;
      const Bits fcr = rope_cos_[static_cast<size_t>(pos) * hs / 2 + hd / 2];
      const Bits fci = rope_sin_[static_cast<size_t>(pos) * hs / 2 + hd / 2];
      for (int vi = 0; vi < (i < kv ? 2 : 1); ++vi) {
        std::vector<Bits>& vec = vi == 0 ? q_ : k_;
        const Bits v0 = vec[i], v1 = vec[i + 1];
        vec[i] = kfp::sub(kfp::mul(v0, fcr), kfp::mul(v1, fci));
        vec[i + 1] = kfp::add(kfp::mul(v0, fci), kfp::mul(v1, fcr));
      }
    }

    // KV cache: INT8 with one scale per (position, kv head).
    auto& kq = kq_[l];
    auto& vq = vq_[l];
    auto& kscale = ks_[l];
    auto& vscale = vs_[l];
    kq.resize(static_cast<size_t>(pos + 1) * kv);
    vq.resize(kq.size());
    kscale.resize(static_cast<size_t>(pos + 1) * c.n_kv_heads);
    vscale.resize(kscale.size());
    kf_[l].resize(kq.size());
    vf_[l].resize(kq.size());
    std::vector<Bits> head(hs);
    std::vector<int32_t> hq(hs);
    const int32_t kv_max = opt_.kv_bits == 16 ? 32767 : 127;
    for (int h = 0; h < c.n_kv_heads; ++h) {
      for (int which = 0; which < 2; ++which) {
        const std::vector<Bits>& src = which == 0 ? k_ : v_;
        std::copy(src.begin() + h * hs, src.begin() + (h + 1) * hs, head.begin());
        const Bits s = quantize_wide(head, hq, 0, hs, kv_max);
        std::copy(hq.begin(), hq.end(), (which == 0 ? kq : vq).begin() + static_cast<size_t>(pos) * kv + h * hs);
        (which == 0 ? kscale : vscale)[static_cast<size_t>(pos) * c.n_kv_heads + h] = s;
        if (!opt_.kv_int8) {  // keep the exact values: store them in the float cache instead
          std::copy(head.begin(), head.end(), (which == 0 ? kf_ : vf_)[l].begin() + static_cast<size_t>(pos) * kv + h * hs);
        }
      }
    }

    // Attention per head over positions 0..pos.
    xb_.assign(dim, 0);
    att_.resize(pos + 1);
    std::vector<Bits> kf(hs);
    for (int h = 0; h < c.n_heads; ++h) {
      const int kvh = h / group_heads;
      for (int t = 0; t <= pos; ++t) {
        const size_t at = static_cast<size_t>(t) * kv + kvh * hs;
        for (int i = 0; i < hs; ++i) kf[i] = opt_.kv_int8 ? kfp::from_int(kq[at + i]) : kf_[l][at + i];
        Bits d = kvec::dot(&q_[h * hs], kf.data(), hs, lanes);
        if (opt_.kv_int8) d = kfp::mul(d, kscale[static_cast<size_t>(t) * c.n_kv_heads + kvh]);
        att_[t] = kfp::mul(d, inv_sqrt_head_);
      }
      const Bits mx = kvec::max(att_.data(), pos + 1, lanes);
      for (int t = 0; t <= pos; ++t) att_[t] = kvec::exp(kfp::sub(att_[t], mx));
      const Bits inv = kvec::recip(kvec::sum(att_.data(), pos + 1, lanes));
      for (int t = 0; t <= pos; ++t) {
        Bits wt = kfp::mul(att_[t], inv);
        if (opt_.kv_int8) wt = kfp::mul(wt, vscale[static_cast<size_t>(t) * c.n_kv_heads + kvh]);
        const size_t at = static_cast<size_t>(t) * kv + kvh * hs;
        for (int i = 0; i < hs; ++i) {
          Bits& o = xb_[h * hs + i];
          o = kfp::add(o, kfp::mul(wt, opt_.kv_int8 ? kfp::from_int(vq[at + i]) : vf_[l][at + i]));
        }
      }
    }
    quantize_groups(xb_, ag, xq_, sx_);
    matvec(L.wo, xq_, sx_, xb2_);
    for (int i = 0; i < dim; ++i) x_[i] = kfp::add(x_[i], xb2_[i]);

    // Feed-forward: SwiGLU.
    rmsnorm(x_, L.rms_ffn, lanes, xb_);
    quantize_groups(xb_, ag, xq_, sx_);
    matvec(L.w1, xq_, sx_, hb_);
    matvec(L.w3, xq_, sx_, hb2_);
    for (int i = 0; i < hid; ++i) hb_[i] = kfp::mul(kvec::silu(hb_[i]), hb2_[i]);
    quantize_groups(hb_, ag, xq_, sx_);
    matvec(L.w2, xq_, sx_, xb_);
    for (int i = 0; i < dim; ++i) x_[i] = kfp::add(x_[i], xb_[i]);
  }

  rmsnorm(x_, rms_final_, lanes, xb_);
  if (opt_.classifier_a16) {
    matvec_a16(cls_, xb_, logits_);
  } else {
    quantize_groups(xb_, opt_.act_per_group ? opt_.group : 0, xq_, sx_);
    matvec(cls_, xq_, sx_, logits_);
  }
  return logits_;
}

}  // namespace ks::rt
