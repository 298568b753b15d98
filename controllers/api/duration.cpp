// Go durations.
#include "controllers/api/duration.h"

#include <cstdint>
#include <string_view>

namespace tracing::controllers {
namespace {

using std::chrono::seconds;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

// Go's time.ParseDuration: [-+]?([0-9]*(\.[0-9]*)?[a-z]+)+, or "0". Truncated to seconds.
std::optional<std::chrono::seconds> parse_duration(const std::string& text) {
  constexpr uint64_t kMax = uint64_t{1} << 63;
  std::string_view s = text;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return seconds(0);
  if (s.empty()) return std::nullopt;
  uint64_t total = 0;  // nanoseconds
  while (!s.empty()) {
    if (!(s[0] == '.' || is_digit(s[0]))) return std::nullopt;
    // [0-9]*
    uint64_t v = 0;
    size_t i = 0;
    for (; i < s.size() && is_digit(s[i]); ++i) {
      if (v > (kMax - 1) / 10) return std::nullopt;
      v = v * 10 + static_cast<uint64_t>(s[i] - '0');
      if (v > kMax) return std::nullopt;
    }
    bool pre = i > 0;
    s.remove_prefix(i);
    // (\.[0-9]*)?
    uint64_t frac = 0;
    double scale = 1;
    bool post = false;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      bool overflow = false;
      size_t j = 0;
      for (; j < s.size() && is_digit(s[j]); ++j) {
        if (overflow) continue;
        if (frac > (kMax - 1) / 10) {
          overflow = true;  // further digits are below the precision kept
          continue;
        }
        uint64_t y = frac * 10 + static_cast<uint64_t>(s[j] - '0');
        if (y > kMax) {
          overflow = true;
          continue;
        }
        frac = y;
        scale *= 10;
      }
      post = j > 0;
      s.remove_prefix(j);
    }
    if (!pre && !post) return std::nullopt;
    // unit: everything up to the next digit or '.'
    size_t u = 0;
    while (u < s.size() && s[u] != '.' && !is_digit(s[u])) ++u;
    if (u == 0) return std::nullopt;
    std::string_view unit_name = s.substr(0, u);
    s.remove_prefix(u);
    uint64_t unit = 0;
    if (unit_name == "ns") {
      unit = 1;
    } else if (unit_name == "us" || unit_name == "\xC2\xB5s" || unit_name == "\xCE\xBCs") {
      unit = 1000;
    } else if (unit_name == "ms") {
      unit = 1000'000;
    } else if (unit_name == "s") {
      unit = 1000'000'000;
    } else if (unit_name == "m") {
      unit = 60 * uint64_t{1000'000'000};
    } else if (unit_name == "h") {
      unit = 3600 * uint64_t{1000'000'000};
    } else {
      return std::nullopt;
    }
    if (v > kMax / unit) return std::nullopt;
    v *= unit;
    if (frac > 0) {
      v += static_cast<uint64_t>(static_cast<double>(frac) * (static_cast<double>(unit) / scale));
      if (v > kMax) return std::nullopt;
    }
    total += v;
    if (total > kMax) return std::nullopt;
  }
  if (!neg && total > kMax - 1) return std::nullopt;
  constexpr uint64_t kNanosPerSecond = 1000'000'000;
  auto secs = static_cast<int64_t>(total / kNanosPerSecond);
  return seconds(neg ? -secs : secs);
}

}  // namespace tracing::controllers
