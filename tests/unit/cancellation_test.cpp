#include "operator/kube/cancellation.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

namespace tracing::kube {
namespace {

using namespace std::chrono_literals;

TEST(Cancellation, RunsEachCallbackOnceOnCancel) {
  Cancellation c;
  int a = 0, b = 0;
  c.subscribe([&] { ++a; });
  c.subscribe([&] { ++b; });
  EXPECT_FALSE(c.cancelled());
  c.cancel();
  c.cancel();
  EXPECT_TRUE(c.cancelled());
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 1);
}

TEST(Cancellation, AnUnsubscribedCallbackNeverRuns) {
  Cancellation c;
  int a = 0;
  int id = c.subscribe([&] { ++a; });
  c.unsubscribe(id);
  c.cancel();
  EXPECT_EQ(a, 0);
}

TEST(Cancellation, SubscribingAfterCancelRunsAtOnce) {
  Cancellation c;
  c.cancel();
  int a = 0;
  EXPECT_EQ(c.subscribe([&] { ++a; }), -1);
  EXPECT_EQ(a, 1);
  c.unsubscribe(-1);  // harmless
}

// The shutdown crash: a stream saw the flag, returned and freed what its callback referenced
// while the cancelling thread was still about to run that callback. unsubscribe() must wait for
// a callback that is running.
TEST(Cancellation, UnsubscribeWaitsForARunningCallback) {
  Cancellation c;
  std::atomic<bool> started{false}, finished{false};
  int id = c.subscribe([&] {
    started = true;
    std::this_thread::sleep_for(100ms);
    finished = true;
  });
  auto canceller = std::async(std::launch::async, [&] { c.cancel(); });
  while (!started) std::this_thread::yield();
  EXPECT_TRUE(c.cancelled());
  c.unsubscribe(id);
  EXPECT_TRUE(finished.load()) << "unsubscribe() returned while its callback was running";
  canceller.get();
}

}  // namespace
}  // namespace tracing::kube
