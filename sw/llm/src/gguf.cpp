// The GGUF reader: structure validation and typed access (see gguf.h).
#include "kestrel/llm/gguf.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <unordered_set>

#include "bytes.h"
#include "loader.h"

namespace ks::llm {

using detail::add_u64;
using detail::fits;
using detail::load_le;
using detail::mul_u64;

std::string_view to_string(GgufValueType t) {
  switch (t) {
    case GgufValueType::kUint8: return "UINT8";
    case GgufValueType::kInt8: return "INT8";
    case GgufValueType::kUint16: return "UINT16";
    case GgufValueType::kInt16: return "INT16";
    case GgufValueType::kUint32: return "UINT32";
    case GgufValueType::kInt32: return "INT32";
    case GgufValueType::kFloat32: return "FLOAT32";
    case GgufValueType::kBool: return "BOOL";
    case GgufValueType::kString: return "STRING";
    case GgufValueType::kArray: return "ARRAY";
    case GgufValueType::kUint64: return "UINT64";
    case GgufValueType::kInt64: return "INT64";
    case GgufValueType::kFloat64: return "FLOAT64";
  }
  return "unknown";
}

namespace {

// Elements per block and bytes per block of the tensor types this reader can size.
struct TypeTraits {
  const char* name;
  uint64_t block;
  uint64_t block_bytes;
};

bool type_traits(uint32_t type, TypeTraits* out) {
  switch (static_cast<GgmlType>(type)) {
    case GgmlType::kF32: *out = {"F32", 1, 4}; return true;
    case GgmlType::kF16: *out = {"F16", 1, 2}; return true;
    case GgmlType::kQ4_0: *out = {"Q4_0", 32, 18}; return true;  // f16 scale + 16 bytes
    case GgmlType::kQ4_1: *out = {"Q4_1", 32, 20}; return true;  // f16 scale, min + 16
    case GgmlType::kQ5_0: *out = {"Q5_0", 32, 22}; return true;  // f16 + 4 high bits + 16
    case GgmlType::kQ5_1: *out = {"Q5_1", 32, 24}; return true;
    case GgmlType::kQ8_0: *out = {"Q8_0", 32, 34}; return true;  // f16 scale + 32 int8
    case GgmlType::kI8: *out = {"I8", 1, 1}; return true;
    case GgmlType::kI16: *out = {"I16", 1, 2}; return true;
    case GgmlType::kI32: *out = {"I32", 1, 4}; return true;
    case GgmlType::kI64: *out = {"I64", 1, 8}; return true;
    case GgmlType::kF64: *out = {"F64", 1, 8}; return true;
    case GgmlType::kBF16: *out = {"BF16", 1, 2}; return true;
  }
  return false;
}

// Bytes of a fixed-size value type; 0 for STRING, ARRAY and unknown types.
size_t fixed_size(GgufValueType t) {
  switch (t) {
    case GgufValueType::kUint8:
    case GgufValueType::kInt8:
    case GgufValueType::kBool: return 1;
    case GgufValueType::kUint16:
    case GgufValueType::kInt16: return 2;
    case GgufValueType::kUint32:
    case GgufValueType::kInt32:
    case GgufValueType::kFloat32: return 4;
    case GgufValueType::kUint64:
    case GgufValueType::kInt64:
    case GgufValueType::kFloat64: return 8;
    case GgufValueType::kString:
    case GgufValueType::kArray: return 0;
  }
  return 0;
}

bool known_value_type(uint32_t t) { return t <= static_cast<uint32_t>(GgufValueType::kFloat64); }

bool is_integer(GgufValueType t) {
  switch (t) {
    case GgufValueType::kUint8:
    case GgufValueType::kInt8:
    case GgufValueType::kUint16:
    case GgufValueType::kInt16:
    case GgufValueType::kUint32:
    case GgufValueType::kInt32:
    case GgufValueType::kUint64:
    case GgufValueType::kInt64: return true;
    default: return false;
  }
}

// The smallest encoding of a value of each type, to bound a count by the bytes left:
// a string is at least its u64 length, an array at least its element type and count.
uint64_t min_size(GgufValueType t) {
  if (t == GgufValueType::kString) return 8;
  if (t == GgufValueType::kArray) return 12;
  return fixed_size(t);
}

// Nested arrays are legal GGUF; no real file nests deeply, and bounding the depth bounds
// the recursion of a crafted one.
constexpr int kMaxArrayDepth = 8;
constexpr uint32_t kMaxDims = 4;  // GGML_MAX_DIMS

std::string hex_bytes(const uint8_t* p, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    if (i) s += ' ';
    s += digits[p[i] >> 4];
    s += digits[p[i] & 15];
  }
  return s;
}

// A read position in the file that refuses to move past its end.
class Cursor {
 public:
  Cursor(const std::string& file, const std::vector<uint8_t>& bytes) : file_(file), bytes_(bytes) {}

  size_t pos() const { return pos_; }
  uint64_t remaining() const { return bytes_.size() - pos_; }

  void need(uint64_t n, const std::string& field) const {
    if (!fits(pos_, n, bytes_.size())) {
      throw ModelError(file_, field,
                       "needs " + std::to_string(n) + " bytes at offset " + std::to_string(pos_) +
                           ", file has " + std::to_string(bytes_.size()) + " bytes");
    }
  }
  void skip(uint64_t n, const std::string& field) {
    need(n, field);
    pos_ += static_cast<size_t>(n);
  }
  template <class T>
  T read(const std::string& field) {
    need(sizeof(T), field);
    const T v = load_le<T>(bytes_.data() + pos_);
    pos_ += sizeof(T);
    return v;
  }
  // A GGUF string: u64 length, then that many bytes.
  std::string read_string(const std::string& field) {
    const auto len = read<uint64_t>(field + " length");
    if (len > remaining()) {
      throw ModelError(file_, field,
                       "string length " + std::to_string(len) + " at offset " +
                           std::to_string(pos_ - 8) + " runs past the end of the file (" +
                           std::to_string(remaining()) + " bytes remain)");
    }
    std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), static_cast<size_t>(len));
    pos_ += static_cast<size_t>(len);
    return s;
  }

  // Steps over one value of type `t`, checking every length and count on the way.
  void skip_value(GgufValueType t, const std::string& field, int depth) {
    if (t == GgufValueType::kString) {
      const auto len = read<uint64_t>(field + " length");
      if (len > remaining()) {
        throw ModelError(file_, field,
                         "string length " + std::to_string(len) + " at offset " +
                             std::to_string(pos_ - 8) + " runs past the end of the file (" +
                             std::to_string(remaining()) + " bytes remain)");
      }
      pos_ += static_cast<size_t>(len);
      return;
    }
    if (t != GgufValueType::kArray) {
      skip(fixed_size(t), field);
      return;
    }
    if (depth >= kMaxArrayDepth) {
      throw ModelError(file_, field,
                       "arrays nested deeper than " + std::to_string(kMaxArrayDepth) + " levels");
    }
    const auto raw_type = read<uint32_t>(field + " element type");
    if (!known_value_type(raw_type)) {
      throw ModelError(file_, field, "unknown array element type " + std::to_string(raw_type));
    }
    const auto et = static_cast<GgufValueType>(raw_type);
    const auto count = read<uint64_t>(field + " count");
    uint64_t least = 0;
    const bool overflow = !mul_u64(count, min_size(et), &least);
    if (overflow || least > remaining()) {
      throw ModelError(file_, field,
                       "array of " + std::to_string(count) + " " + std::string(to_string(et)) +
                           " needs at least " + (overflow ? "2^64" : std::to_string(least)) +
                           " bytes at offset " + std::to_string(pos_) + ", " +
                           std::to_string(remaining()) + " bytes remain");
    }
    if (fixed_size(et) != 0) {
      pos_ += static_cast<size_t>(least);
      return;
    }
    for (uint64_t i = 0; i < count; ++i) {
      skip_value(et, field + "[" + std::to_string(i) + "]", depth + 1);
    }
  }

 private:
  const std::string& file_;
  const std::vector<uint8_t>& bytes_;
  size_t pos_ = 0;
};

}  // namespace

std::string ggml_type_name(uint32_t type) {
  TypeTraits t{};
  if (type_traits(type, &t)) return t.name;
  return "type " + std::to_string(type);
}

void GgufFile::fail(const std::string& field, const std::string& problem) const {
  throw ModelError(name_, field, problem);
}

GgufFile GgufFile::load(const std::string& path) { return parse(path, read_model_file(path)); }

GgufFile GgufFile::parse(std::string name, std::vector<uint8_t> bytes) {
  GgufFile f;
  f.name_ = std::move(name);
  f.bytes_ = std::move(bytes);
  const uint64_t size = f.bytes_.size();
  Cursor c(f.name_, f.bytes_);

  c.need(4, "header.magic");
  if (std::memcmp(f.bytes_.data(), "GGUF", 4) != 0) {
    f.fail("header.magic",
           "bytes " + hex_bytes(f.bytes_.data(), 4) + " are not \"GGUF\" (47 47 55 46)");
  }
  c.skip(4, "header.magic");
  f.version_ = c.read<uint32_t>("header.version");
  if (f.version_ != 2 && f.version_ != 3) {
    // Version 1 used 32-bit counts; a big-endian file shows up here as a huge version.
    f.fail("header.version",
           "unsupported version " + std::to_string(f.version_) + " (supported: 2, 3)");
  }
  const auto n_tensors = c.read<uint64_t>("header.tensor_count");
  const auto n_kv = c.read<uint64_t>("header.metadata_kv_count");

  // Each entry takes at least a key length, a type and a one-byte value.
  constexpr uint64_t kMinKv = 8 + 4 + 1;
  if (n_kv > c.remaining() / kMinKv) {
    f.fail("header.metadata_kv_count", std::to_string(n_kv) + " entries need at least " +
                                           std::to_string(kMinKv) + " bytes each, " +
                                           std::to_string(c.remaining()) + " bytes remain");
  }
  f.kvs_.reserve(static_cast<size_t>(n_kv));
  std::unordered_set<std::string> keys;
  for (uint64_t i = 0; i < n_kv; ++i) {
    const std::string where = "metadata[" + std::to_string(i) + "]";
    GgufKeyValue kv;
    kv.key = c.read_string(where + ".key");
    const std::string field = "metadata " + kv.key;
    if (!keys.insert(kv.key).second) f.fail(field, "duplicate key");
    const auto raw_type = c.read<uint32_t>(field + " type");
    if (!known_value_type(raw_type))
      f.fail(field, "unknown value type " + std::to_string(raw_type));
    kv.type = static_cast<GgufValueType>(raw_type);
    const size_t start = c.pos();
    c.skip_value(kv.type, field, 0);
    kv.offset = start;
    kv.size = c.pos() - start;
    if (kv.type == GgufValueType::kArray) {
      kv.array_type = static_cast<GgufValueType>(load_le<uint32_t>(f.bytes_.data() + start));
      kv.array_count = load_le<uint64_t>(f.bytes_.data() + start + 4);
      kv.offset = start + 12;
      kv.size -= 12;
    }
    f.kvs_.push_back(std::move(kv));
  }

  if (const GgufKeyValue* a = f.find("general.alignment")) {
    const uint64_t al = f.get_uint(*a);
    // Alignment must be a power of two; beyond 2^30 it could only be corruption.
    if (al == 0 || (al & (al - 1)) != 0 || al > (uint64_t{1} << 30)) {
      f.fail("general.alignment", std::to_string(al) + " is not a power of two up to 2^30");
    }
    f.alignment_ = al;
  }

  // A tensor info is at least a name length, n_dims, one dim, a type and an offset.
  constexpr uint64_t kMinTensorInfo = 8 + 4 + 8 + 4 + 8;
  if (n_tensors > c.remaining() / kMinTensorInfo) {
    f.fail("header.tensor_count", std::to_string(n_tensors) + " tensor infos need at least " +
                                      std::to_string(kMinTensorInfo) + " bytes each, " +
                                      std::to_string(c.remaining()) +
                                      " bytes remain after the metadata");
  }
  f.tensors_.reserve(static_cast<size_t>(n_tensors));
  std::unordered_set<std::string> names;
  for (uint64_t i = 0; i < n_tensors; ++i) {
    GgufTensorInfo t;
    t.name = c.read_string("tensor_info[" + std::to_string(i) + "].name");
    const std::string field = "tensor " + t.name;
    if (!names.insert(t.name).second) f.fail(field, "duplicate tensor name");
    const auto n_dims = c.read<uint32_t>(field + " n_dims");
    if (n_dims == 0 || n_dims > kMaxDims) {
      f.fail(field,
             "n_dims " + std::to_string(n_dims) + " is outside 1.." + std::to_string(kMaxDims));
    }
    for (uint32_t d = 0; d < n_dims; ++d) {
      t.dims.push_back(c.read<uint64_t>(field + " dims[" + std::to_string(d) + "]"));
    }
    t.type = c.read<uint32_t>(field + " type");
    t.offset = c.read<uint64_t>(field + " offset");
    f.tensors_.push_back(std::move(t));
  }

  // The data section starts at the next multiple of the alignment.
  const uint64_t header_end = c.pos();
  const uint64_t pad = (f.alignment_ - header_end % f.alignment_) % f.alignment_;
  f.data_offset_ = static_cast<size_t>(header_end + pad);
  if (!f.tensors_.empty() && f.data_offset_ > size) {
    f.fail("data section", "starts at offset " + std::to_string(f.data_offset_) + " (alignment " +
                               std::to_string(f.alignment_) + "), file has " +
                               std::to_string(size) + " bytes");
  }
  const uint64_t data_size = f.data_offset_ <= size ? size - f.data_offset_ : 0;

  for (GgufTensorInfo& t : f.tensors_) {
    const std::string field = "tensor " + t.name;
    TypeTraits tt{};
    if (!type_traits(t.type, &tt)) {
      f.fail(field, "unsupported ggml type " + std::to_string(t.type));
    }
    uint64_t n = 1;
    std::string shape;
    for (size_t d = 0; d < t.dims.size(); ++d) {
      shape += (d ? " x " : "") + std::to_string(t.dims[d]);
      if (t.dims[d] == 0) f.fail(field, "dims[" + std::to_string(d) + "] is 0");
      if (!mul_u64(n, t.dims[d], &n)) f.fail(field, "dims " + shape + "... overflow 64 bits");
    }
    if (t.dims[0] % tt.block != 0) {
      f.fail(field, "row length " + std::to_string(t.dims[0]) + " is not a multiple of the " +
                        tt.name + " block of " + std::to_string(tt.block));
    }
    t.n_elements = n;
    if (!mul_u64(n / tt.block, tt.block_bytes, &t.n_bytes)) {
      f.fail(field, "dims " + shape + " of " + tt.name + " need more than 2^64 bytes");
    }
    if (t.offset % f.alignment_ != 0) {
      f.fail(field, "data offset " + std::to_string(t.offset) +
                        " is not a multiple of the alignment " + std::to_string(f.alignment_));
    }
    if (!fits(t.offset, t.n_bytes, data_size)) {
      uint64_t file_offset = 0;
      const bool ok = add_u64(f.data_offset_, t.offset, &file_offset);
      f.fail(field, std::string(tt.name) + " [" + shape + "] needs " + std::to_string(t.n_bytes) +
                        " bytes at offset " + (ok ? std::to_string(file_offset) : "past 2^64") +
                        ", file has " + std::to_string(size) + " bytes");
    }
  }

  // Tensors must not share bytes: overlapping data means corrupt offsets.
  std::vector<const GgufTensorInfo*> by_offset;
  by_offset.reserve(f.tensors_.size());
  for (const GgufTensorInfo& t : f.tensors_) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const GgufTensorInfo* a, const GgufTensorInfo* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const GgufTensorInfo& a = *by_offset[i - 1];
    const GgufTensorInfo& b = *by_offset[i];
    if (a.offset + a.n_bytes > b.offset) {
      f.fail("tensor " + b.name,
             "data at offset " + std::to_string(b.offset) + " overlaps tensor " + a.name + " (" +
                 std::to_string(a.offset) + " + " + std::to_string(a.n_bytes) + " bytes)");
    }
  }
  return f;
}

const GgufKeyValue* GgufFile::find(std::string_view key) const {
  for (const GgufKeyValue& kv : kvs_) {
    if (kv.key == key) return &kv;
  }
  return nullptr;
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  for (const GgufTensorInfo& t : tensors_) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

namespace {

// An integer value of any GGUF integer type, as sign and magnitude (so that UINT64 values
// above INT64_MAX and INT64 values below 0 are both representable).
struct AnyInt {
  bool negative;
  uint64_t magnitude;
};

bool read_any_int(GgufValueType t, const uint8_t* p, AnyInt* out) {
  auto from_signed = [](int64_t v) {
    return AnyInt{v < 0, v < 0 ? uint64_t{0} - static_cast<uint64_t>(v) : static_cast<uint64_t>(v)};
  };
  switch (t) {
    case GgufValueType::kUint8: *out = {false, load_le<uint8_t>(p)}; return true;
    case GgufValueType::kUint16: *out = {false, load_le<uint16_t>(p)}; return true;
    case GgufValueType::kUint32: *out = {false, load_le<uint32_t>(p)}; return true;
    case GgufValueType::kUint64: *out = {false, load_le<uint64_t>(p)}; return true;
    case GgufValueType::kInt8: *out = from_signed(load_le<int8_t>(p)); return true;
    case GgufValueType::kInt16: *out = from_signed(load_le<int16_t>(p)); return true;
    case GgufValueType::kInt32: *out = from_signed(load_le<int32_t>(p)); return true;
    case GgufValueType::kInt64: *out = from_signed(load_le<int64_t>(p)); return true;
    default: return false;
  }
}

bool read_any_number(GgufValueType t, const uint8_t* p, double* out) {
  if (t == GgufValueType::kFloat32) {
    *out = load_le<float>(p);
    return true;
  }
  if (t == GgufValueType::kFloat64) {
    *out = load_le<double>(p);
    return true;
  }
  AnyInt v{};
  if (!read_any_int(t, p, &v)) return false;
  *out = v.negative ? -static_cast<double>(v.magnitude) : static_cast<double>(v.magnitude);
  return true;
}

std::string int_text(const AnyInt& v) {
  return (v.negative ? "-" : "") + std::to_string(v.magnitude);
}

}  // namespace

int64_t GgufFile::get_int(const GgufKeyValue& kv) const {
  AnyInt v{};
  if (!read_any_int(kv.type, bytes_.data() + kv.offset, &v)) {
    fail(kv.key, std::string(to_string(kv.type)) + " value where an integer is expected");
  }
  const uint64_t limit = v.negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  if (v.magnitude > limit) fail(kv.key, int_text(v) + " does not fit INT64");
  return v.negative ? static_cast<int64_t>(uint64_t{0} - v.magnitude)
                    : static_cast<int64_t>(v.magnitude);
}

uint64_t GgufFile::get_uint(const GgufKeyValue& kv) const {
  AnyInt v{};
  if (!read_any_int(kv.type, bytes_.data() + kv.offset, &v)) {
    fail(kv.key, std::string(to_string(kv.type)) + " value where an integer is expected");
  }
  if (v.negative) fail(kv.key, int_text(v) + " is negative");
  return v.magnitude;
}

double GgufFile::get_float(const GgufKeyValue& kv) const {
  double d = 0;
  if (!read_any_number(kv.type, bytes_.data() + kv.offset, &d)) {
    fail(kv.key, std::string(to_string(kv.type)) + " value where a number is expected");
  }
  return d;
}

bool GgufFile::get_bool(const GgufKeyValue& kv) const {
  if (kv.type != GgufValueType::kBool) {
    fail(kv.key, std::string(to_string(kv.type)) + " value where a BOOL is expected");
  }
  return bytes_[kv.offset] != 0;
}

std::string GgufFile::get_string(const GgufKeyValue& kv) const {
  if (kv.type != GgufValueType::kString) {
    fail(kv.key, std::string(to_string(kv.type)) + " value where a STRING is expected");
  }
  // Validated by parse(): u64 length, then the bytes.
  return std::string(reinterpret_cast<const char*>(bytes_.data() + kv.offset + 8), kv.size - 8);
}

std::vector<std::string> GgufFile::get_string_array(const GgufKeyValue& kv) const {
  if (kv.type != GgufValueType::kArray || kv.array_type != GgufValueType::kString) {
    fail(kv.key,
         std::string(to_string(kv.type)) +
             (kv.type == GgufValueType::kArray ? " of " + std::string(to_string(kv.array_type))
                                               : "") +
             " where an ARRAY of STRING is expected");
  }
  std::vector<std::string> out;
  out.reserve(static_cast<size_t>(kv.array_count));  // bounded: parse() saw 8 bytes each
  size_t p = kv.offset;
  for (uint64_t i = 0; i < kv.array_count; ++i) {
    const auto len = static_cast<size_t>(load_le<uint64_t>(bytes_.data() + p));
    out.emplace_back(reinterpret_cast<const char*>(bytes_.data() + p + 8), len);
    p += 8 + len;
  }
  return out;
}

std::vector<float> GgufFile::get_float_array(const GgufKeyValue& kv) const {
  const size_t es = kv.type == GgufValueType::kArray ? fixed_size(kv.array_type) : 0;
  if (es == 0 || kv.array_type == GgufValueType::kBool) {
    fail(kv.key,
         std::string(to_string(kv.type)) +
             (kv.type == GgufValueType::kArray ? " of " + std::string(to_string(kv.array_type))
                                               : "") +
             " where an ARRAY of numbers is expected");
  }
  std::vector<float> out(static_cast<size_t>(kv.array_count));
  for (size_t i = 0; i < out.size(); ++i) {
    double d = 0;
    read_any_number(kv.array_type, bytes_.data() + kv.offset + i * es, &d);
    out[i] = static_cast<float>(d);  // FLOAT32 elements round-trip exactly
  }
  return out;
}

std::vector<int64_t> GgufFile::get_int_array(const GgufKeyValue& kv) const {
  if (kv.type != GgufValueType::kArray || !is_integer(kv.array_type)) {
    fail(kv.key,
         std::string(to_string(kv.type)) +
             (kv.type == GgufValueType::kArray ? " of " + std::string(to_string(kv.array_type))
                                               : "") +
             " where an ARRAY of integers is expected");
  }
  const size_t es = fixed_size(kv.array_type);
  std::vector<int64_t> out(static_cast<size_t>(kv.array_count));
  for (size_t i = 0; i < out.size(); ++i) {
    AnyInt v{};
    read_any_int(kv.array_type, bytes_.data() + kv.offset + i * es, &v);
    if (v.magnitude > (v.negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1)) {
      fail(kv.key, "element " + std::to_string(i) + " = " + int_text(v) + " does not fit INT64");
    }
    out[i] = v.negative ? static_cast<int64_t>(uint64_t{0} - v.magnitude)
                        : static_cast<int64_t>(v.magnitude);
  }
  return out;
}

const uint8_t* GgufFile::tensor_data(const GgufTensorInfo& t) const {
  return bytes_.data() + data_offset_ + t.offset;
}

float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1Fu;
  const uint32_t mant = h & 0x3FFu;
  uint32_t bits;
  if (exp == 0) {
    // Zero or subnormal: mant * 2^-24, exact in float32.
    const float mag = std::ldexp(static_cast<float>(mant), -24);
    return sign ? -mag : mag;
  } else if (exp == 31) {
    bits = sign | 0x7F800000u | (mant << 13);  // infinity or NaN (payload kept)
  } else {
    bits = sign | ((exp + (127 - 15)) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

float bf16_to_float(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

std::vector<float> GgufFile::tensor_to_float(const GgufTensorInfo& t) const {
  const uint8_t* p = tensor_data(t);
  const auto n = static_cast<size_t>(t.n_elements);
  switch (static_cast<GgmlType>(t.type)) {
    case GgmlType::kF32: return detail::load_floats(p, n);
    case GgmlType::kF16: {
      std::vector<float> out(n);
      for (size_t i = 0; i < n; ++i) out[i] = half_to_float(load_le<uint16_t>(p + 2 * i));
      return out;
    }
    case GgmlType::kBF16: {
      std::vector<float> out(n);
      for (size_t i = 0; i < n; ++i) out[i] = bf16_to_float(load_le<uint16_t>(p + 2 * i));
      return out;
    }
    case GgmlType::kQ8_0: {
      // Blocks of 32: an f16 scale d, then 32 int8 q; the value is q * d (as ggml does it).
      std::vector<float> out(n);
      for (size_t b = 0; b < n / 32; ++b) {
        const uint8_t* blk = p + b * 34;
        const float d = half_to_float(load_le<uint16_t>(blk));
        for (size_t j = 0; j < 32; ++j) {
          out[b * 32 + j] = static_cast<float>(static_cast<int8_t>(blk[2 + j])) * d;
        }
      }
      return out;
    }
    default: break;
  }
  fail("tensor " + t.name, "type " + ggml_type_name(t.type) +
                               " cannot be converted to float (supported: F32, F16, BF16, Q8_0)");
}

}  // namespace ks::llm
