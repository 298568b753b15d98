#include "operator/kube/backoff.h"

#include <gtest/gtest.h>

namespace tracing::kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using time_point = Backoff::time_point;

TEST(Backoff, StartsAt800msAndStaysWithinJitteredBounds) {
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    Backoff b(Backoff::Options{}, seed);
    time_point now{};
    auto first = b.next(now);
    EXPECT_GE(first, milliseconds(800));
    EXPECT_LT(first, milliseconds(1600));
  }
}

TEST(Backoff, DoublesUntilTheCapAndNeverExceedsIt) {
  Backoff::Options o;
  o.jitter = 0;
  Backoff b(o, 1);
  time_point now{};
  std::vector<long> got;
  for (int i = 0; i < 10; ++i) got.push_back(b.next(now += seconds(1)).count());
  EXPECT_EQ(got,
            (std::vector<long>{800, 1600, 3200, 6400, 12800, 25600, 30000, 30000, 30000, 30000}));
}

TEST(Backoff, JitteredDelaysNeverExceedTheCap) {
  Backoff b(Backoff::Options{}, 7);
  time_point now{};
  for (int i = 0; i < 1000; ++i) {
    auto d = b.next(now += milliseconds(10));
    EXPECT_GE(d, milliseconds(800));
    EXPECT_LE(d, seconds(30));
  }
}

TEST(Backoff, ResetsAfterTwoMinutesWithoutFailure) {
  Backoff::Options o;
  o.jitter = 0;
  Backoff b(o, 1);
  time_point now{};
  b.next(now);
  b.next(now += seconds(1));
  EXPECT_EQ(b.next(now += seconds(1)), milliseconds(3200));
  EXPECT_EQ(b.next(now += seconds(121)), milliseconds(800));
}

TEST(Backoff, ExplicitResetStartsOver) {
  Backoff::Options o;
  o.jitter = 0;
  Backoff b(o, 1);
  time_point now{};
  b.next(now);
  b.next(now);
  b.reset();
  EXPECT_EQ(b.next(now), milliseconds(800));
}

}  // namespace
}  // namespace tracing::kube
