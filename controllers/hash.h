// A hash that is the same in every build and on every machine (std::hash is not): FNV-1a 64,
// as 16 lower-case hex digits. For annotations that must not change unless their input does.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tracing::controllers {

inline std::string stable_hash_hex(std::string_view data) {
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[static_cast<size_t>(i)] = kHex[h & 0xF];
    h >>= 4;
  }
  return out;
}

}  // namespace tracing::controllers
