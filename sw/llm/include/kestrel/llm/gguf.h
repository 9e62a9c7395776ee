// A validating GGUF (v2, v3) reader: header, typed metadata (every value type, arrays and
// nested arrays included), tensor infos and the aligned tensor data. Parsing checks every
// count, length, size and offset against the bytes that remain, so nothing is allocated on
// the word of a corrupt count; a bad file throws ModelError naming file, field and problem.
//
// Metadata values stay in the file's bytes and are decoded on request (typed getters), so a
// large vocabulary costs nothing until it is asked for. Tensors can be read raw (for the
// quantized paths) or converted to float32 (F32, F16, BF16, Q8_0).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kestrel/llm/model.h"

namespace ks::llm {

/// GGUF metadata value types (the numbers are the file's).
enum class GgufValueType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};
std::string_view to_string(GgufValueType t);

/// The ggml tensor types this reader can size (and so bounds-check). Others are refused.
enum class GgmlType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kBF16 = 30,
};
/// "F32", "Q8_0", ... or "type <n>" for a number this reader does not know.
std::string ggml_type_name(uint32_t type);

/// One metadata entry. The value stays in the file: `offset` is where it starts (for an
/// array: its first element, after the element type and count) and `size` its bytes.
struct GgufKeyValue {
  std::string key;
  GgufValueType type = GgufValueType::kUint8;
  GgufValueType array_type = GgufValueType::kUint8;  ///< element type (arrays only)
  uint64_t array_count = 0;                          ///< elements (arrays only)
  size_t offset = 0;
  size_t size = 0;
};

struct GgufTensorInfo {
  std::string name;
  std::vector<uint64_t> dims;  ///< ggml order: dims[0] varies fastest (the row length)
  uint32_t type = 0;           ///< a GgmlType number
  uint64_t offset = 0;         ///< from the start of the data section
  uint64_t n_elements = 0;
  uint64_t n_bytes = 0;
};

class GgufFile {
 public:
  /// Reads and validates `path` (ModelError on any problem).
  static GgufFile load(const std::string& path);
  /// Validates `bytes`; `name` stands for the file in errors.
  static GgufFile parse(std::string name, std::vector<uint8_t> bytes);

  const std::string& name() const { return name_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  size_t data_offset() const { return data_offset_; }
  size_t file_size() const { return bytes_.size(); }
  const std::vector<GgufKeyValue>& metadata() const { return kvs_; }
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }

  /// nullptr when absent.
  const GgufKeyValue* find(std::string_view key) const;
  const GgufTensorInfo* find_tensor(std::string_view name) const;

  // Typed getters. Each throws ModelError naming the key when the value has another type
  // (integers of any width and signedness convert to each other when the value fits).
  int64_t get_int(const GgufKeyValue& kv) const;
  uint64_t get_uint(const GgufKeyValue& kv) const;
  double get_float(const GgufKeyValue& kv) const;  ///< FLOAT32/FLOAT64 (or an integer)
  bool get_bool(const GgufKeyValue& kv) const;
  std::string get_string(const GgufKeyValue& kv) const;
  std::vector<std::string> get_string_array(const GgufKeyValue& kv) const;
  std::vector<float> get_float_array(const GgufKeyValue& kv) const;  ///< numeric elements
  std::vector<int64_t> get_int_array(const GgufKeyValue& kv) const;  ///< integer elements

  /// The tensor's bytes in the file (n_bytes of them).
  const uint8_t* tensor_data(const GgufTensorInfo& t) const;
  /// The tensor as float32, row-major in ggml order (dims[0] fastest). F32, F16, BF16 and
  /// Q8_0 are converted; other types throw ModelError naming the tensor.
  std::vector<float> tensor_to_float(const GgufTensorInfo& t) const;

 private:
  GgufFile() = default;
  [[noreturn]] void fail(const std::string& field, const std::string& problem) const;
  int64_t scalar_int(const std::string& what, GgufValueType type, size_t offset) const;

  std::string name_;
  std::vector<uint8_t> bytes_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  size_t data_offset_ = 0;
  std::vector<GgufKeyValue> kvs_;
  std::vector<GgufTensorInfo> tensors_;
};

/// IEEE half and bfloat16 to float32 (exact: every value of both is a float32).
float half_to_float(uint16_t h);
float bf16_to_float(uint16_t b);

}  // namespace ks::llm
