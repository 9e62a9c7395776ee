// The quantized decode: the exact computation the core performs for one token, in the
// golden model's arithmetic. Weight matrices are INT8 or INT4 with one KFP32 scale per
// group of `group` consecutive input elements; the matrix unit computes each group's
// INT32 partial sum, and everything else is KFP32 (kestrel/golden/kfp.h) in the vector
// unit's order (kestrel/golden/kvec.h). docs/vector_unit.md states the formats and the
// measured error against the float reference.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kestrel/golden/kfp.h"
#include "kestrel/golden/matmul.h"
#include "kestrel/llm/model.h"
#include "kestrel/runtime/calibrate.h"

namespace ks::rt {

using golden::Precision;
using golden::kfp::Bits;

/// A weight matrix [n][k] quantized group-wise along k.
struct QMatrix {
  int n = 0, k = 0, group = 0;
  Precision p = Precision::kInt8;
  std::vector<uint8_t> q;       ///< [n][k] INT8, or packed INT4 rows (golden::pack_int4 layout)
  std::vector<Bits> scales;     ///< [n][groups()]
  int groups() const { return (k + group - 1) / group; }
  int value(int row, int col) const { return golden::weight_at(p, q.data(), static_cast<size_t>(k), row, col); }
};

enum class ScaleSearch {
  kMaxAbs,  ///< scale = max|w| / qmax
  kMse,     ///< the clipping of max|w| (100% down to 50%) with the least squared error
};

/// Quantizes w [n][k] (float) group-wise. INT8 values in [-127, 127]; INT4 in [-8, 7].
QMatrix quantize(const float* w, int n, int k, int group, Precision p, ScaleSearch search);

struct GptqOptions {
  double damp = 0.01;     ///< added to the second moments' diagonal, times its mean
  int scale_steps = 32;   ///< scale candidates per group and sign (see quantize_gptq)
  int refit = 2;          ///< rounds of least-squares scales for the codes, then new codes
  /// INT4: also scales that put code -8 (the longer side of [-8, 7]) on the group's largest
  /// weight, negative when that weight is positive.
  bool negative_scales = true;
};

/// Error-compensating rounding (GPTQ, Frantar et al. 2022): minimizes the output error over
/// calibration inputs x, sum |(W - Wq) x|^2 = tr((W - Wq) H (W - Wq)^T), H = moments
/// (k x k, damped by opt.damp). Columns are quantized in order; each column's rounding error,
/// divided by the diagonal of the upper Cholesky factor U of H^-1, is pushed onto the columns
/// not yet quantized through U's row. A group's scale is chosen when its first column comes:
/// of scale_steps + 1 magnitudes from max|w| / qmax down to max|w| / (2 |qmin|), for INT4
/// with negative_scales each positive and negative, the one with the least loss over the
/// group. Then (opt.refit) the scales are refitted by least squares for the codes and the
/// codes recomputed, kept while the output error falls. The format is quantize()'s: codes in
/// [-127, 127] or [-8, 7], one KFP32 scale per group (possibly negative for INT4).
QMatrix quantize_gptq(const float* w, int n, int k, int group, Precision p, const InputMoments& moments,
                      const GptqOptions& opt);

/// The same with one set of moments per output row (row r's error weighted by its own
/// inputs' statistics).
QMatrix quantize_gptq(const float* w, int n, int k, int group, Precision p,
                      const std::vector<InputMoments>& row_moments, const GptqOptions& opt);

/// The float matrix a QMatrix stands for: value x scale.
std::vector<float> dequantize(const QMatrix& m);

/// The mean output error of m against w over the inputs of `moments`: tr(D H D^T) / count
/// with D = w - dequantize(m).
double output_error(const float* w, const QMatrix& m, const InputMoments& moments);

/// How weights are rounded to their codes.
enum class Rounding {
  kNearest,  ///< each weight to its nearest code (scales from `search`)
  kGptq,     ///< quantize_gptq, with calibration moments from the float model's own stories
};

/// Where the token embedding rows come from (one row per token, KFP32 in device memory).
enum class EmbeddingSource {
  kQuantized,  ///< the quantized table dequantized (the classifier's when shared)
  kFloat,      ///< the float weights rounded to KFP32, independent of the classifier
};

struct QuantOptions {
  Precision precision = Precision::kInt8;  ///< layer weights
  Precision classifier = Precision::kInt8; ///< the classifier (and a kQuantized embedding table)
  /// Layer matrices kept at INT8 whatever `precision` is (mixed precision per tensor): the
  /// names of the products the core runs, "qkv" (wq, wk, wv), "wo", "w13" (w1, w3) or "w2",
  /// for every layer, or with a layer prefix ("0.w2") for one. Other names are refused.
  std::vector<std::string> int8_tensors;
  int group = 32;                          ///< elements per weight scale; a multiple of the array's chunk
  ScaleSearch search = ScaleSearch::kMse;
  Rounding rounding = Rounding::kNearest;
  GptqOptions gptq;
  CalibrationOptions calibration;  ///< the text GPTQ calibrates on
  LayerwiseOptions layerwise;      ///< what GPTQ fits each matrix to
  EmbeddingSource embedding = EmbeddingSource::kQuantized;
  size_t lanes = 8;                        ///< vector-unit lanes (the order of reductions)
  bool act_per_group = true;               ///< one activation scale per weight group (else per vector)
  /// KV cache quantized with a scale per (position, head); else KFP32 values, as the core's
  /// on-chip decode keeps them (the default).
  bool kv_int8 = false;
  /// 8 or 16: the KV cache's integer width when quantized. 16 by default: at 8 bits, scores
  /// and weighted values lose enough that greedy decoding of stories260K flips near-ties.
  int kv_bits = 16;
  /// The classifier's input at 16 bits, as two INT8 passes (x = 128 hi + lo): the
  /// logits' ranks are what greedy decoding reads, and near-ties need the precision.
  bool classifier_a16 = true;

  /// The default recipe of a precision (docs/vector_unit.md measures both):
  /// INT8: every matrix INT8 rounded to nearest with MSE-clipped scales, the embedding rows
  /// from the (shared) INT8 classifier -- a default-constructed QuantOptions.
  /// INT4: every matrix INT4, the classifier too, by GPTQ (Rounding::kGptq) calibrated on
  /// the model's own stories, fitted to the float model's outputs; the embedding from the
  /// float weights (EmbeddingSource::kFloat).
  static QuantOptions preset(Precision p);
};

/// One model's quantized decode state.
class QuantModel {
 public:
  QuantModel(const llm::Model& model, const QuantOptions& opt);

  /// Runs token at pos (positions 0..pos-1 run before) and returns the logits (KFP32 bits).
  const std::vector<Bits>& forward(int token, int pos);
  /// The index of the largest logit (the first on ties), as the hardware's argmax.
  static int argmax(const std::vector<Bits>& logits);

  const llm::ModelConfig& config() const { return cfg_; }
  const QuantOptions& options() const { return opt_; }

  /// y = W x for an INT8-quantized input (xq, sx): per output row, the groups' INT32
  /// partial sums scaled and added in order, times sx.
  /// sx holds one scale per group of `group` inputs (or a single scale for the whole vector).
  static void matvec(const QMatrix& w, const std::vector<int8_t>& xq, const std::vector<Bits>& sx,
                     std::vector<Bits>& y);
  /// Dynamic quantization of x[begin, end): s = max|x| / 127, xq = round(x / s) in [-127, 127].
  Bits quantize_act(const std::vector<Bits>& x, std::vector<int8_t>& xq, size_t begin, size_t end);
  /// The same with integers in [-qmax, qmax] (the KV cache's 8- or 16-bit values).
  Bits quantize_wide(const std::vector<Bits>& x, std::vector<int32_t>& xq, size_t begin, size_t end,
                            int32_t qmax);
  /// y = W x with x quantized to 15 bits per group (s = max|x| / 16256, 127 x 128) and split into
  /// hi = round(x16 / 128), lo = x16 - 128 hi (both INT8): two INT8 matrix passes whose
  /// partial sums combine exactly as 128 P_hi + P_lo.
  void matvec_a16(const QMatrix& w, const std::vector<Bits>& x, std::vector<Bits>& y);
  /// Whole-vector or per-group quantization (one scale per `group` elements), into sx.
  void quantize_groups(const std::vector<Bits>& x, int group, std::vector<int8_t>& xq,
                              std::vector<Bits>& sx);
  /// llama2.c's RMSNorm in KFP32: x * rsqrt(mean(x^2) + 1e-5) * weight.
  static void rmsnorm(const std::vector<Bits>& x, const std::vector<Bits>& weight, size_t lanes,
                      std::vector<Bits>& out);

 public:
  // The quantized model's parts, for programs that run it elsewhere (the core's decode).
  enum class Mat { kWq, kWk, kWv, kWo, kW1, kW2, kW3 };
  const QMatrix& matrix(int layer, Mat m) const;
  const QMatrix& classifier() const { return cls_; }
  /// The token embedding table [vocab][dim] in KFP32, as forward() reads it.
  const std::vector<Bits>& embedding() const { return emb_table_; }
  const std::vector<Bits>& rms_att(int layer) const { return layers_.at(static_cast<size_t>(layer)).rms_att; }
  const std::vector<Bits>& rms_ffn(int layer) const { return layers_.at(static_cast<size_t>(layer)).rms_ffn; }
  const std::vector<Bits>& rms_final() const { return rms_final_; }
  /// RoPE's cos and sin, [seq_len][head_size / 2].
  const std::vector<Bits>& rope_cos() const { return rope_cos_; }
  const std::vector<Bits>& rope_sin() const { return rope_sin_; }
  Bits inv_sqrt_head() const { return inv_sqrt_head_; }

 private:
  struct Layer {
    std::vector<Bits> rms_att, rms_ffn;
    QMatrix wq, wk, wv, wo, w1, w2, w3;
  };

  llm::ModelConfig cfg_;
  QuantOptions opt_;
  std::vector<Layer> layers_;
  QMatrix cls_;                 // classifier
  std::vector<Bits> emb_table_; // the token embedding [vocab][dim], KFP32
  std::vector<Bits> rms_final_;
  std::vector<Bits> rope_cos_, rope_sin_;  // [seq_len][head_size / 2]
  Bits inv_sqrt_head_ = 0;
  // KV cache: per layer [pos][kv_dim] INT8, one scale per (pos, kv head).
  std::vector<std::vector<int16_t>> kq_, vq_;
  std::vector<std::vector<Bits>> ks_, vs_;
  std::vector<std::vector<Bits>> kf_, vf_;  // KFP32 cache (kv_int8 off)
  std::vector<Bits> x_, xb_, xb2_, q_, k_, v_, hb_, hb2_, att_, logits_;
  std::vector<int8_t> xq_;
  std::vector<Bits> sx_;
};

}  // namespace ks::rt
