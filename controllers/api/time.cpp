// RFC 3339 time on the proleptic Gregorian calendar (H. Hinnant's civil-date algorithms).
#include "controllers/api/time.h"

#include <cstdint>
#include <cstdio>
#include <string_view>

namespace tracing::controllers {
namespace {

using std::chrono::nanoseconds;
using std::chrono::seconds;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct Civil {
  int64_t y;
  unsigned m;
  unsigned d;
};

Civil civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

unsigned days_in_month(int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

// Reads exactly `n` digits at text[pos]; advances pos.
std::optional<unsigned> fixed_digits(std::string_view text, size_t& pos, size_t n) {
  if (pos + n > text.size()) return std::nullopt;
  unsigned v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = text[pos + i];
    if (!is_digit(c)) return std::nullopt;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  pos += n;
  return v;
}

bool expect(std::string_view text, size_t& pos, std::string_view chars) {
  if (pos >= text.size() || chars.find(text[pos]) == std::string_view::npos) return false;
  ++pos;
  return true;
}

}  // namespace

// RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM); 'T' and 'Z' in either case.
std::optional<WallTime> parse_rfc3339(const std::string& text) {
  std::string_view t = text;
  size_t pos = 0;
  auto year = fixed_digits(t, pos, 4);
  if (!year || !expect(t, pos, "-")) return std::nullopt;
  auto month = fixed_digits(t, pos, 2);
  if (!month || !expect(t, pos, "-")) return std::nullopt;
  auto day = fixed_digits(t, pos, 2);
  if (!day || !expect(t, pos, "Tt")) return std::nullopt;
  auto hour = fixed_digits(t, pos, 2);
  if (!hour || !expect(t, pos, ":")) return std::nullopt;
  auto minute = fixed_digits(t, pos, 2);
  if (!minute || !expect(t, pos, ":")) return std::nullopt;
  auto second = fixed_digits(t, pos, 2);
  if (!second) return std::nullopt;
  if (*month < 1 || *month > 12 || *day < 1 || *day > days_in_month(*year, *month) || *hour > 23 ||
      *minute > 59 || *second > 59) {
    return std::nullopt;
  }
  int64_t nanos = 0;
  if (pos < t.size() && t[pos] == '.') {
    ++pos;
    size_t digits = 0;
    int64_t scale = 100'000'000;
    for (; pos < t.size() && is_digit(t[pos]); ++pos, ++digits) {
      nanos += (t[pos] - '0') * scale;  // digits beyond nanoseconds add 0
      scale /= 10;
    }
    if (digits == 0) return std::nullopt;
  }
  int64_t offset = 0;  // seconds east of UTC
  if (pos < t.size() && (t[pos] == 'Z' || t[pos] == 'z')) {
    ++pos;
  } else if (pos < t.size() && (t[pos] == '+' || t[pos] == '-')) {
    int64_t sign = t[pos] == '-' ? -1 : 1;
    ++pos;
    auto oh = fixed_digits(t, pos, 2);
    if (!oh || !expect(t, pos, ":")) return std::nullopt;
    auto om = fixed_digits(t, pos, 2);
    if (!om || *oh > 23 || *om > 59) return std::nullopt;
    offset = sign * (*oh * 3600 + *om * 60);
  } else {
    return std::nullopt;
  }
  if (pos != t.size()) return std::nullopt;

  int64_t secs =
      days_from_civil(*year, *month, *day) * 86400 + *hour * 3600 + *minute * 60 + *second - offset;
  // Refuse instants the clock's representation cannot hold.
  using Dur = WallTime::duration;
  const int64_t limit = std::chrono::duration_cast<seconds>(Dur::max()).count() - 1;
  if (secs > limit || secs < -limit) return std::nullopt;
  return WallTime(std::chrono::duration_cast<Dur>(seconds(secs)) +
                  std::chrono::duration_cast<Dur>(nanoseconds(nanos)));
}

std::string format_rfc3339(WallTime t) {
  const int64_t secs = std::chrono::floor<seconds>(t.time_since_epoch()).count();
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    days -= 1;
  }
  Civil c = civil_from_days(days);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ",
                static_cast<long long>(c.y), c.m, c.d, static_cast<long long>(rem / 3600),
                static_cast<long long>(rem / 60 % 60), static_cast<long long>(rem % 60));
  return buf;
}

}  // namespace tracing::controllers
