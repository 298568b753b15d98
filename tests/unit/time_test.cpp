#include "controllers/api/time.h"

#include <gtest/gtest.h>

#include <optional>

namespace tracing::controllers {
namespace {

using namespace std::chrono_literals;
using std::chrono::sys_days;

// ---- RFC 3339 --------------------------------------------------------------------------------

TEST(ParseRfc3339, ReadsUtc) {
  EXPECT_EQ(parse_rfc3339("2026-11-26T12:00:00Z"), WallTime(sys_days{2026y / 11 / 26} + 12h));
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00Z"), WallTime{});
  EXPECT_EQ(parse_rfc3339("2026-11-26t12:00:00z"), WallTime(sys_days{2026y / 11 / 26} + 12h));
}

TEST(ParseRfc3339, AppliesNumericOffsets) {
  const WallTime noon = sys_days{2026y / 11 / 26} + 12h;
  EXPECT_EQ(parse_rfc3339("2026-11-26T13:00:00+01:00"), noon);
  EXPECT_EQ(parse_rfc3339("2026-11-26T06:30:00-05:30"), noon);
  EXPECT_EQ(parse_rfc3339("2026-11-26T12:00:00+00:00"), noon);
  EXPECT_EQ(parse_rfc3339("2026-11-27T01:00:00+13:00"), noon);  // crosses the date line
}

TEST(ParseRfc3339, KeepsFractionalSeconds) {
  const WallTime noon = sys_days{2026y / 11 / 26} + 12h;
  EXPECT_EQ(parse_rfc3339("2026-11-26T12:00:00.5Z"), noon + 500ms);
  EXPECT_EQ(parse_rfc3339("2026-11-26T12:00:00.123456789Z"),
            noon + std::chrono::duration_cast<WallTime::duration>(123456789ns));
  EXPECT_EQ(parse_rfc3339("2026-11-26T12:00:00.000001+00:00"), noon + 1us);
}

TEST(ParseRfc3339, HandlesLeapYearsAndTimesBeforeTheEpoch) {
  EXPECT_EQ(parse_rfc3339("2024-02-29T00:00:00Z"), WallTime(sys_days{2024y / 2 / 29}));
  EXPECT_EQ(parse_rfc3339("2000-02-29T00:00:00Z"), WallTime(sys_days{2000y / 2 / 29}));
  EXPECT_EQ(parse_rfc3339("1969-12-31T23:59:59Z"), WallTime{} - 1s);
  EXPECT_EQ(parse_rfc3339("2023-02-29T00:00:00Z"), std::nullopt);
  EXPECT_EQ(parse_rfc3339("1900-02-29T00:00:00Z"), std::nullopt);
}

TEST(ParseRfc3339, RefusesMalformedText) {
  for (const char* bad :
       {"", "x", "2026-11-26", "2026-11-26 12:00:00Z", "2026-13-01T00:00:00Z",
        "2026-00-10T00:00:00Z", "2026-11-31T00:00:00Z", "2026-11-26T24:00:00Z",
        "2026-11-26T12:60:00Z", "2026-11-26T12:00:60Z", "2026-11-26T12:00:00",
        "2026-11-26T12:00:00+0100", "2026-11-26T12:00:00+01", "2026-11-26T12:00:00.Z",
        "2026-11-26T12:00:00ZZ", "26-11-26T12:00:00Z", "2026-11-26T12:00:00 Z",
        "9999-12-31T23:59:59Z"}) {  // the last one: beyond what the clock can represent
    EXPECT_EQ(parse_rfc3339(bad), std::nullopt) << bad;
  }
}

TEST(FormatRfc3339, WritesUtcWithSecondsPrecision) {
  EXPECT_EQ(format_rfc3339(sys_days{2026y / 11 / 26} + 12h), "2026-11-26T12:00:00Z");
  EXPECT_EQ(format_rfc3339(sys_days{2026y / 11 / 26} + 12h + 999ms), "2026-11-26T12:00:00Z");
  EXPECT_EQ(format_rfc3339(WallTime{}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339(WallTime{} - 500ms), "1969-12-31T23:59:59Z");
  EXPECT_EQ(format_rfc3339(sys_days{2024y / 2 / 29} + 23h + 59min + 59s), "2024-02-29T23:59:59Z");
}

TEST(FormatRfc3339, RoundTripsThroughParse) {
  for (const char* t : {"2026-11-26T12:00:00Z", "2000-01-01T00:00:00Z", "2100-12-31T23:59:59Z",
                        "1999-03-01T08:07:06Z"}) {
    auto parsed = parse_rfc3339(t);
    ASSERT_TRUE(parsed.has_value()) << t;
    EXPECT_EQ(format_rfc3339(*parsed), t);
  }
  EXPECT_EQ(format_rfc3339(*parse_rfc3339("2026-11-26T13:00:00.75+01:00")), "2026-11-26T12:00:00Z");
}

}  // namespace
}  // namespace tracing::controllers
