// Internal helpers of the loaders: overflow-checked size arithmetic and little-endian
// scalar reads from a byte buffer whose bounds the caller has already checked.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

namespace ks::llm::detail {

// The loaders copy float32/int32 straight out of little-endian files.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the model loaders assume a little-endian host");

/// a * b, false when it overflows 64 bits (a corrupt count must not wrap into a small size).
inline bool mul_u64(uint64_t a, uint64_t b, uint64_t* out) {
  return !__builtin_mul_overflow(a, b, out);
}
inline bool add_u64(uint64_t a, uint64_t b, uint64_t* out) {
  return !__builtin_add_overflow(a, b, out);
}

/// True when [offset, offset + n) lies within a buffer of `size` bytes (no overflow).
inline bool fits(uint64_t offset, uint64_t n, uint64_t size) {
  return offset <= size && n <= size - offset;
}

template <class T>
T load_le(const uint8_t* p) {
  static_assert(std::is_trivially_copyable_v<T>);
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

/// Copies `count` float32 from `p` (bounds checked by the caller).
inline std::vector<float> load_floats(const uint8_t* p, size_t count) {
  std::vector<float> v(count);
  if (count != 0) std::memcpy(v.data(), p, count * sizeof(float));
  return v;
}

}  // namespace ks::llm::detail
