#include "operator/kube/rate_limiter.h"

#include <gtest/gtest.h>

#include <future>

namespace tracing::kube {
namespace {

using namespace std::chrono_literals;
using clock = TokenBucket::clock;

TEST(TokenBucket, AllowsTheBurstThenPacesAtQps) {
  TokenBucket b(10, 3);
  clock::time_point t0{};
  t0 += 1h;
  EXPECT_EQ(b.reserve(t0), clock::duration::zero());
  EXPECT_EQ(b.reserve(t0), clock::duration::zero());
  EXPECT_EQ(b.reserve(t0), clock::duration::zero());
  // Fourth and fifth requests at the same instant wait 100 ms and 200 ms.
  EXPECT_NEAR(std::chrono::duration<double>(b.reserve(t0)).count(), 0.1, 1e-6);
  EXPECT_NEAR(std::chrono::duration<double>(b.reserve(t0)).count(), 0.2, 1e-6);
}

TEST(TokenBucket, RefillsOverTimeUpToTheBurst) {
  TokenBucket b(10, 2);
  clock::time_point t{};
  t += 1h;
  b.reserve(t);
  b.reserve(t);
  t += 10s;  // would refill 100 tokens, capped at 2
  EXPECT_EQ(b.reserve(t), clock::duration::zero());
  EXPECT_EQ(b.reserve(t), clock::duration::zero());
  EXPECT_GT(b.reserve(t), clock::duration::zero());
}

TEST(TokenBucket, ZeroQpsTurnsTheLimitOff) {
  TokenBucket b(0, 1);
  EXPECT_FALSE(b.enabled());
  clock::time_point t{};
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(b.reserve(t), clock::duration::zero());
}

TEST(TokenBucket, CloseEndsAWaitAndRefusesLaterAcquires) {
  TokenBucket b(0.001, 1);  // one token, then the next one in 1000 s
  ASSERT_TRUE(b.acquire());
  auto waiter = std::async(std::launch::async, [&] { return b.acquire(); });
  EXPECT_EQ(waiter.wait_for(50ms), std::future_status::timeout);
  b.close();
  ASSERT_EQ(waiter.wait_for(10s), std::future_status::ready);
  EXPECT_FALSE(waiter.get());
  EXPECT_FALSE(b.acquire());
  EXPECT_FALSE(b.sleep_for(1h));
}

}  // namespace
}  // namespace tracing::kube
