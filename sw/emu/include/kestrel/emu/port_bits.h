// Moving byte arrays in and out of Verilated ports of any width: ports up to 64 bits are
// plain integers, wider ones are VlWide word arrays (little-endian words).
#pragma once

#include <verilated.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace ks::emu {

template <size_t Words>
void put_bytes(VlWide<Words>& port, const uint8_t* bytes, size_t n) {
  for (size_t w = 0; w < Words; ++w) port[w] = 0;
  for (size_t i = 0; i < n; ++i) port[i / 4] |= static_cast<uint32_t>(bytes[i]) << (8 * (i % 4));
}

template <class T, std::enable_if_t<std::is_integral_v<T>, int> = 0>
void put_bytes(T& port, const uint8_t* bytes, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(bytes[i]) << (8 * i);
  port = static_cast<T>(v);
}

template <size_t Words>
uint32_t get_word(const VlWide<Words>& port, size_t i) {
  return port[i];
}

template <class T, std::enable_if_t<std::is_integral_v<T>, int> = 0>
uint32_t get_word(const T& port, size_t i) {
  return static_cast<uint32_t>(static_cast<uint64_t>(port) >> (32 * i));
}

/// Copies the low n bytes of a port into bytes[0..n).
template <size_t Words>
void get_bytes(const VlWide<Words>& port, uint8_t* bytes, size_t n) {
  for (size_t i = 0; i < n; ++i) bytes[i] = static_cast<uint8_t>(port[i / 4] >> (8 * (i % 4)));
}

template <class T, std::enable_if_t<std::is_integral_v<T>, int> = 0>
void get_bytes(const T& port, uint8_t* bytes, size_t n) {
  const auto v = static_cast<uint64_t>(port);
  for (size_t i = 0; i < n; ++i) bytes[i] = static_cast<uint8_t>(v >> (8 * i));
}

}  // namespace ks::emu
