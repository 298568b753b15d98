#include "controllers/api/duration.h"

#include <gtest/gtest.h>

#include <optional>

namespace tracing::controllers {
namespace {

using std::chrono::seconds;

// ---- parse_duration --------------------------------------------------------------------------

TEST(ParseDuration, ReadsGoStyleDurations) {
  EXPECT_EQ(parse_duration("15m"), seconds(900));
  EXPECT_EQ(parse_duration("1h30m"), seconds(5400));
  EXPECT_EQ(parse_duration("90s"), seconds(90));
  EXPECT_EQ(parse_duration("1.5h"), seconds(5400));
  EXPECT_EQ(parse_duration("2h45m30s"), seconds(9930));
  EXPECT_EQ(parse_duration("1h0m0s"), seconds(3600));
  EXPECT_EQ(parse_duration("0"), seconds(0));
  EXPECT_EQ(parse_duration("0s"), seconds(0));
  EXPECT_EQ(parse_duration(".5m"), seconds(30));
  EXPECT_EQ(parse_duration("1.m"), seconds(60));
  EXPECT_EQ(parse_duration("+5m"), seconds(300));
  EXPECT_EQ(parse_duration("-5m"), seconds(-300));
  EXPECT_EQ(parse_duration("1500ms"), seconds(1));
  EXPECT_EQ(parse_duration("3000000us"), seconds(3));
  EXPECT_EQ(parse_duration("2000000\xC2\xB5s"), seconds(2));  // U+00B5 micro sign
  EXPECT_EQ(parse_duration("2000000\xCE\xBCs"), seconds(2));  // U+03BC Greek mu
  EXPECT_EQ(parse_duration("4000000000ns"), seconds(4));
}

TEST(ParseDuration, TruncatesToWholeSeconds) {
  EXPECT_EQ(parse_duration("1m30.9s"), seconds(90));
  EXPECT_EQ(parse_duration("999ms"), seconds(0));
  EXPECT_EQ(parse_duration("59.999s"), seconds(59));
}

TEST(ParseDuration, RefusesMalformedText) {
  for (const char* bad : {"", "15", "m", "1x", "1.5.5h", ".h", "1 h", "1H", "h1", "1h 30m", "-",
                          "+", "1d", "15m ", "9999999999h", "99999999999999999999s"}) {
    EXPECT_EQ(parse_duration(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace tracing::controllers
