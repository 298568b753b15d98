#include "operator/runtime/work_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "operator/runtime/clock.h"
#include "tests/unit/eventually.h"

namespace tracing::runtime {
namespace {

using namespace std::chrono_literals;

using testing::eventually;
using testing::kTimeout;

// A queue whose backoff is plain per-key exponential, so tests of the queue itself are not
// paced by the shared bucket.
std::unique_ptr<RateLimiter> exponential(Clock::duration base = 5ms, Clock::duration max = 1000s) {
  return std::make_unique<ItemExponentialFailureRateLimiter>(base, max);
}

template <typename T>
bool ready_within_timeout(std::future<T>& f) {
  return f.wait_for(kTimeout) == std::future_status::ready;
}

template <typename T>
bool still_running(std::future<T>& f) {
  return f.wait_for(0s) == std::future_status::timeout;
}

// Delegates to another clock, counting calls to wait_until, so that a test can tell that a
// getter is blocked on a deadline before it moves the clock.
class CountingClock final : public Clock {
 public:
  explicit CountingClock(Clock& inner) : inner_(inner) {}
  time_point now() const override { return inner_.now(); }
  void wait_until(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                  time_point deadline) override {
    ++waits_;
    inner_.wait_until(cv, lock, deadline);
  }
  int waits() const { return waits_.load(); }

 private:
  Clock& inner_;
  std::atomic<int> waits_{0};
};

// Shuts the queue down when a test leaves scope, so that a failed expectation never leaves a
// thread blocked in get() (declare after the futures it must release).
struct ShutDownOnExit {
  WorkQueue& queue;
  ~ShutDownOnExit() { queue.shut_down(); }
};

// Takes every ready key, marking each done.
std::vector<std::string> drain_ready(WorkQueue& q) {
  std::vector<std::string> keys;
  while (auto key = q.try_get()) {
    keys.push_back(*key);
    q.done(*key);
  }
  return keys;
}

// ---- Queueing and de-duplication ----

TEST(WorkQueue, HandsOutReadyKeysInFifoOrder) {
  FakeClock clock;
  WorkQueue q(clock, exponential());
  q.add("c");
  q.add("a");
  q.add("b");
  EXPECT_EQ(q.len(), 3u);
  EXPECT_EQ(drain_ready(q), (std::vector<std::string>{"c", "a", "b"}));
  EXPECT_EQ(q.len(), 0u);
}

TEST(WorkQueue, TryGetOnAnEmptyQueueReturnsNothing) {
  FakeClock clock;
  WorkQueue q(clock, exponential());
  EXPECT_EQ(q.try_get(), std::nullopt);
}

TEST(WorkQueue, AddingAQueuedKeyIsANoOp) {
  FakeClock clock;
  WorkQueue q(clock, exponential());
  q.add("a");
  q.add("b");
  q.add("a");
  EXPECT_EQ(q.len(), 2u);
  // "a" keeps its original place.
  EXPECT_EQ(drain_ready(q), (std::vector<std::string>{"a", "b"}));
}

TEST(WorkQueue, KeyAddedWhileProcessingRunsAgainAfterDone) {
  FakeClock clock;
  WorkQueue q(clock, exponential());
  q.add("a");
  ASSERT_EQ(q.try_get(), "a");
  q.add("a");
  q.add("a");  // marked dirty once, however often it is added
  EXPECT_EQ(q.len(), 0u);
  EXPECT_EQ(q.try_get(), std::nullopt);

  q.done("a");
  EXPECT_EQ(q.len(), 1u);
  EXPECT_EQ(q.try_get(), "a");
  q.done("a");
  EXPECT_EQ(q.try_get(), std::nullopt);
}

TEST(WorkQueue, DoneWithoutAChangeDoesNotRequeue) {
  FakeClock clock;
  WorkQueue q(clock, exponential());
  q.add("a");
  ASSERT_EQ(q.try_get(), "a");
  q.done("a");
  EXPECT_EQ(q.len(), 0u);
  EXPECT_EQ(q.try_get(), std::nullopt);
}

TEST(WorkQueue, DoneForAKeyNotBeingProcessedIsIgnored) {
  FakeClock clock;
  WorkQueue q(clock, exponential());
  q.add("a");
  q.done("a");  // "a" is queued, not processing: must not be queued a second time
  q.done("never-added");
  EXPECT_EQ(q.len(), 1u);
  EXPECT_EQ(drain_ready(q), (std::vector<std::string>{"a"}));
}

TEST(WorkQueue, NeverHandsAKeyToTwoWorkers) {
  FakeClock clock;
  WorkQueue q(clock, exponential());
  std::future<std::optional<std::string>> first, second, third;
  ShutDownOnExit guard{q};
  q.add("a");
  first = std::async(std::launch::async, [&] { return q.get(); });
  ASSERT_TRUE(ready_within_timeout(first));
  ASSERT_EQ(first.get(), "a");

  // "a" changes while the first worker holds it; a second worker must not receive it, even
  // though it was added before "b".
  q.add("a");
  q.add("b");
  second = std::async(std::launch::async, [&] { return q.get(); });
  ASSERT_TRUE(ready_within_timeout(second));
  EXPECT_EQ(second.get(), "b");

  q.done("a");
  third = std::async(std::launch::async, [&] { return q.get(); });
  ASSERT_TRUE(ready_within_timeout(third));
  EXPECT_EQ(third.get(), "a");
}

TEST(WorkQueue, ConcurrentWorkersNeverProcessTheSameKeyAtOnce) {
  FakeClock clock;
  WorkQueue q(clock, exponential());
  const std::vector<std::string> keys = {"k0", "k1", "k2", "k3"};
  std::map<std::string, std::atomic<int>> in_flight;
  std::map<std::string, std::atomic<int>> processed;
  for (const auto& k : keys) {
    in_flight[k] = 0;
    processed[k] = 0;
  }
  std::atomic<int> overlaps{0};

  auto worker = [&] {
    while (auto key = q.get()) {
      if (in_flight.at(*key).fetch_add(1) != 0) ++overlaps;
      std::this_thread::yield();  // widen the window in which a second worker could overlap
      in_flight.at(*key).fetch_sub(1);
      ++processed.at(*key);
      q.done(*key);
    }
  };
  std::vector<std::thread> workers;
  for (int i = 0; i < 4; ++i) workers.emplace_back(worker);
  for (int i = 0; i < 2000; ++i) q.add(keys[i % keys.size()]);
  q.shut_down();  // workers still empty the queue, then get() ends them
  for (auto& t : workers) t.join();

  EXPECT_EQ(overlaps.load(), 0);
  for (const auto& k : keys) EXPECT_GE(processed.at(k).load(), 1) << k;
  EXPECT_EQ(q.len(), 0u);
}

// ---- Delayed keys ----

TEST(WorkQueue, AddAfterNonPositiveDelayAddsNow) {
  FakeClock clock;
  WorkQueue q(clock, exponential());
  q.add_after("zero", 0s);
  q.add_after("negative", -1s);
  EXPECT_EQ(q.len(), 2u);
  EXPECT_EQ(drain_ready(q), (std::vector<std::string>{"zero", "negative"}));
}

TEST(WorkQueue, DelayedKeyBecomesReadyWhenClockAdvances) {
  FakeClock clock;
  WorkQueue q(clock, exponential());
  q.add_after("a", 2s);
  EXPECT_EQ(q.len(), 0u);
  EXPECT_EQ(q.try_get(), std::nullopt);

  clock.advance(1999ms);
  EXPECT_EQ(q.len(), 0u);
  EXPECT_EQ(q.try_get(), std::nullopt);

  clock.advance(1ms);
  EXPECT_EQ(q.len(), 1u);
  EXPECT_EQ(q.try_get(), "a");
}

TEST(WorkQueue, AddAfterEarlierDeadlineWins) {
  FakeClock clock;
  WorkQueue q(clock, exponential());
  q.add_after("later-then-sooner", 5s);
  q.add_after("later-then-sooner", 1s);
  q.add_after("sooner-then-later", 1s);
  q.add_after("sooner-then-later", 5s);

  clock.advance(1s);
  EXPECT_EQ(drain_ready(q), (std::vector<std::string>{"later-then-sooner", "sooner-then-later"}));

  // Each key waited once: nothing is left to fire at the later deadline.
  clock.advance(4s);
  EXPECT_EQ(q.len(), 0u);
  EXPECT_EQ(q.try_get(), std::nullopt);
}

TEST(WorkQueue, DelayedKeysBecomeReadyInDeadlineOrder) {
  FakeClock clock;
  WorkQueue q(clock, exponential());
  q.add_after("three", 3s);
  q.add_after("one", 1s);
  q.add_after("two", 2s);
  q.add_after("also-two", 2s);
  clock.advance(3s);
  EXPECT_EQ(drain_ready(q), (std::vector<std::string>{"one", "two", "also-two", "three"}));
}

TEST(WorkQueue, DelayedKeyJoinsTheQueueAtItsDeadline) {
  FakeClock clock;
  WorkQueue q(clock, exponential());
  q.add("early");
  q.add_after("delayed", 1s);
  clock.advance(1s);
  q.add("late");  // added after "delayed" became ready, so it queues behind it
  EXPECT_EQ(drain_ready(q), (std::vector<std::string>{"early", "delayed", "late"}));
}

TEST(WorkQueue, DelayedKeyAlreadyQueuedIsNotDuplicated) {
  FakeClock clock;
  WorkQueue q(clock, exponential());
  q.add("a");
  q.add_after("a", 1s);
  clock.advance(1s);
  EXPECT_EQ(q.len(), 1u);
  EXPECT_EQ(drain_ready(q), (std::vector<std::string>{"a"}));
}

TEST(WorkQueue, DropWaitingRemovesOnlyThatKeysDeadline) {
  FakeClock clock;
  WorkQueue q(clock, exponential());
  q.add_after("gone", 1s);
  q.add_after("kept", 2s);
  q.add("ready");
  q.drop_waiting("gone");
  q.drop_waiting("ready");    // queued, not waiting: stays queued
  q.drop_waiting("unknown");  // nothing to drop
  EXPECT_EQ(q.waiting_len(), 1u);
  EXPECT_EQ(q.len(), 1u);
  clock.advance(2s);
  EXPECT_EQ(drain_ready(q), (std::vector<std::string>{"ready", "kept"}));
  EXPECT_EQ(q.waiting_len(), 0u);
}

TEST(WorkQueue, DropWaitingLeavesAKeyBeingProcessedAndItsDirtyMark) {
  FakeClock clock;
  WorkQueue q(clock, exponential());
  q.add("a");
  ASSERT_EQ(q.try_get(), "a");
  q.add_after("a", 1s);
  q.add("a");  // changed while processed: runs again after done
  q.drop_waiting("a");
  EXPECT_EQ(q.waiting_len(), 0u);
  q.done("a");
  EXPECT_EQ(q.try_get(), "a");
  q.done("a");
  clock.advance(1s);
  EXPECT_EQ(q.try_get(), std::nullopt);  // the dropped deadline does not fire
}

TEST(WorkQueue, DelayedKeyReadyWhileProcessingRunsAgainAfterDone) {
  FakeClock clock;
  WorkQueue q(clock, exponential());
  q.add("a");
  ASSERT_EQ(q.try_get(), "a");
  q.add_after("a", 1s);
  clock.advance(1s);
  EXPECT_EQ(q.len(), 0u);
  EXPECT_EQ(q.try_get(), std::nullopt);
  q.done("a");
  EXPECT_EQ(q.try_get(), "a");
}

TEST(WorkQueue, BlockedGetWakesOnAdd) {
  FakeClock clock;
  WorkQueue q(clock, exponential());
  auto getter = std::async(std::launch::async, [&] { return q.get(); });
  ShutDownOnExit guard{q};
  q.add("a");
  ASSERT_TRUE(ready_within_timeout(getter));
  EXPECT_EQ(getter.get(), "a");
}

TEST(WorkQueue, BlockedGetWakesOnAdvance) {
  FakeClock fake;
  CountingClock clock(fake);
  const auto deadline = clock.now() + 1s;
  WorkQueue q(clock, exponential());
  q.add_after("a", 1s);
  auto getter = std::async(std::launch::async, [&] {
    auto key = q.get();
    return std::make_pair(key, clock.now());
  });
  ShutDownOnExit guard{q};
  ASSERT_TRUE(eventually([&] { return clock.waits() >= 1; }));  // blocked on the deadline
  EXPECT_TRUE(still_running(getter));

  fake.advance(1s);
  ASSERT_TRUE(ready_within_timeout(getter));
  const auto [key, returned_at] = getter.get();
  EXPECT_EQ(key, "a");
  EXPECT_GE(returned_at, deadline);  // not handed out before the clock reached the deadline
}

// On the system clock nothing but a notification wakes a getter before its deadline.
TEST(WorkQueue, BlockedGetRearmsForANewEarlierDeadline) {
  CountingClock clock(SystemClock::instance());
  WorkQueue q(clock, exponential());
  q.add_after("late", 1h);
  auto getter = std::async(std::launch::async, [&] { return q.get(); });
  ShutDownOnExit guard{q};
  ASSERT_TRUE(eventually([&] { return clock.waits() >= 1; }));  // waiting for "late"

  q.add_after("soon", 1ms);
  ASSERT_TRUE(ready_within_timeout(getter));
  EXPECT_EQ(getter.get(), "soon");
}

TEST(WorkQueue, ReadyKeysReachEveryBlockedGetter) {
  FakeClock clock;
  WorkQueue q(clock, exponential());
  q.add_after("a", 1s);
  q.add_after("b", 1s);
  auto g1 = std::async(std::launch::async, [&] { return q.get(); });
  auto g2 = std::async(std::launch::async, [&] { return q.get(); });
  ShutDownOnExit guard{q};
  clock.advance(1s);
  ASSERT_TRUE(ready_within_timeout(g1));
  ASSERT_TRUE(ready_within_timeout(g2));
  auto k1 = g1.get();
  auto k2 = g2.get();
  ASSERT_TRUE(k1 && k2);
  EXPECT_NE(*k1, *k2);
}

// ---- Rate-limited requeues through the queue ----

TEST(WorkQueue, AddRateLimitedWaitsForTheBackoff) {
  FakeClock clock;
  WorkQueue q(clock, exponential());
  q.add_rate_limited("a");
  EXPECT_EQ(q.num_requeues("a"), 1);
  clock.advance(4ms);
  EXPECT_EQ(q.try_get(), std::nullopt);
  clock.advance(1ms);
  ASSERT_EQ(q.try_get(), "a");
  q.done("a");

  q.add_rate_limited("a");  // second failure: 10 ms
  EXPECT_EQ(q.num_requeues("a"), 2);
  clock.advance(9ms);
  EXPECT_EQ(q.try_get(), std::nullopt);
  clock.advance(1ms);
  EXPECT_EQ(q.try_get(), "a");
}

TEST(WorkQueue, AddRateLimitedWaitsAtLeastTheFloorAndStillCountsTheFailure) {
  FakeClock clock;
  WorkQueue q(clock, exponential());
  q.add_rate_limited("a", 1min);  // the backoff says 5 ms; a terminal error waits a minute
  EXPECT_EQ(q.num_requeues("a"), 1);
  clock.advance(59s);
  EXPECT_EQ(q.try_get(), std::nullopt);
  clock.advance(1s);
  ASSERT_EQ(q.try_get(), "a");
  q.done("a");
}

TEST(WorkQueue, ADeadlineThatPassesWhileTheKeyIsProcessedQueuesItOnceAtDone) {
  FakeClock clock;
  WorkQueue q(clock, exponential());
  q.add("a");
  ASSERT_EQ(q.try_get(), "a");
  // Requeued with a delay while processing (a worker's error path), the deadline passes before
  // done(): the key is queued exactly once, never handed to two workers.
  q.add_after("a", 5ms);
  clock.advance(5ms);
  q.done("a");
  EXPECT_EQ(q.len(), 1u);
  ASSERT_EQ(q.try_get(), "a");
  EXPECT_EQ(q.try_get(), std::nullopt) << "queued twice";
  q.done("a");
  EXPECT_EQ(q.try_get(), std::nullopt);
}

TEST(WorkQueue, ForgetResetsBackoff) {
  FakeClock clock;
  WorkQueue q(clock, exponential());
  for (int i = 0; i < 5; ++i) q.add_rate_limited("a");  // next backoff would be 160 ms
  EXPECT_EQ(q.num_requeues("a"), 5);
  q.forget("a");
  EXPECT_EQ(q.num_requeues("a"), 0);

  clock.advance(5ms);  // the earliest deadline (5 ms) fires; drop that run
  ASSERT_EQ(drain_ready(q), (std::vector<std::string>{"a"}));
  q.add_rate_limited("a");
  clock.advance(5ms);
  EXPECT_EQ(q.try_get(), "a");
}

TEST(WorkQueue, DefaultQueueUsesTheControllerRateLimiter) {
  FakeClock clock;
  WorkQueue q(clock);
  q.add_rate_limited("a");
  clock.advance(4ms);
  EXPECT_EQ(q.try_get(), std::nullopt);
  clock.advance(1ms);
  EXPECT_EQ(q.try_get(), "a");
  EXPECT_EQ(q.num_requeues("a"), 1);
}

// ---- Shutdown ----

TEST(WorkQueue, ShutDownWakesGetters) {
  FakeClock clock;
  WorkQueue q(clock, exponential());
  auto g1 = std::async(std::launch::async, [&] { return q.get(); });
  auto g2 = std::async(std::launch::async, [&] { return q.get(); });
  q.shut_down();
  EXPECT_TRUE(q.shutting_down());
  ASSERT_TRUE(ready_within_timeout(g1));
  ASSERT_TRUE(ready_within_timeout(g2));
  EXPECT_EQ(g1.get(), std::nullopt);
  EXPECT_EQ(g2.get(), std::nullopt);
}

// On the system clock only the shutdown's notification can end a wait for a distant deadline.
TEST(WorkQueue, ShutDownWakesGettersWaitingForADeadline) {
  CountingClock clock(SystemClock::instance());
  WorkQueue q(clock, exponential());
  q.add_after("distant", 1h);
  auto g1 = std::async(std::launch::async, [&] { return q.get(); });
  auto g2 = std::async(std::launch::async, [&] { return q.get(); });
  ShutDownOnExit guard{q};
  ASSERT_TRUE(eventually([&] { return clock.waits() >= 2; }));
  q.shut_down();
  ASSERT_TRUE(ready_within_timeout(g1));
  ASSERT_TRUE(ready_within_timeout(g2));
  EXPECT_EQ(g1.get(), std::nullopt);
  EXPECT_EQ(g2.get(), std::nullopt);
}

TEST(WorkQueue, GetHandsOutQueuedKeysAfterShutDownThenNothing) {
  FakeClock clock;
  WorkQueue q(clock, exponential());
  q.add("a");
  q.add("b");
  q.shut_down();
  EXPECT_EQ(q.get(), "a");
  EXPECT_EQ(q.get(), "b");
  EXPECT_EQ(q.get(), std::nullopt);
}

TEST(WorkQueue, AddsAreIgnoredAfterShutDown) {
  FakeClock clock;
  WorkQueue q(clock, exponential());
  q.shut_down();
  q.add("a");
  q.add_after("b", 1s);
  q.add_rate_limited("c");
  clock.advance(1h);
  EXPECT_EQ(q.len(), 0u);
  EXPECT_EQ(q.get(), std::nullopt);
}

TEST(WorkQueue, ShutDownDropsDelayedKeys) {
  FakeClock clock;
  WorkQueue q(clock, exponential());
  q.add_after("a", 1s);
  q.shut_down();
  clock.advance(1s);
  EXPECT_EQ(q.len(), 0u);
  EXPECT_EQ(q.get(), std::nullopt);
}

TEST(WorkQueue, ChangeSeenDuringProcessingSurvivesShutDown) {
  FakeClock clock;
  WorkQueue q(clock, exponential());
  q.add("a");
  ASSERT_EQ(q.try_get(), "a");
  q.add("a");
  q.shut_down();
  q.done("a");
  EXPECT_EQ(q.get(), "a");
  q.done("a");
  EXPECT_EQ(q.get(), std::nullopt);
}

TEST(WorkQueue, ShutDownDiscardingHandsOutNothingMore) {
  FakeClock clock;
  WorkQueue q(clock, exponential());
  q.add("a");
  q.add("b");
  q.add_after("c", 1s);
  ASSERT_EQ(q.try_get(), "a");

  q.shut_down_discarding();
  EXPECT_TRUE(q.shutting_down());
  EXPECT_EQ(q.len(), 0u);
  EXPECT_EQ(q.waiting_len(), 0u);
  EXPECT_EQ(q.get(), std::nullopt) << "a queued key is dropped, not handed out";
  q.add("a");  // a change seen while "a" is processed is not queued again either
  q.add("d");
  q.done("a");
  clock.advance(2s);
  EXPECT_EQ(q.get(), std::nullopt);
  EXPECT_EQ(q.len(), 0u);
}

TEST(WorkQueue, WaitDrainedWaitsForKeysBeingProcessed) {
  FakeClock fake;
  CountingClock clock(fake);
  WorkQueue q(clock, exponential());
  q.add("a");
  q.add("b");
  ASSERT_EQ(q.try_get(), "a");
  q.shut_down_discarding();

  auto drained = std::async(std::launch::async, [&] { return q.wait_drained(1h); });
  ASSERT_TRUE(eventually([&] { return clock.waits() >= 1; }));  // blocked on "a"
  EXPECT_TRUE(still_running(drained));
  q.done("a");
  ASSERT_TRUE(ready_within_timeout(drained));
  EXPECT_TRUE(drained.get());
}

TEST(WorkQueue, WaitDrainedGivesUpAtItsTimeout) {
  FakeClock fake;
  CountingClock clock(fake);
  WorkQueue q(clock, exponential());
  q.add("a");
  ASSERT_EQ(q.try_get(), "a");
  q.shut_down_discarding();

  auto drained = std::async(std::launch::async, [&] { return q.wait_drained(5s); });
  ASSERT_TRUE(eventually([&] { return clock.waits() >= 1; }));  // its deadline is set
  fake.advance(4s);
  EXPECT_TRUE(still_running(drained));
  fake.advance(1s);
  ASSERT_TRUE(ready_within_timeout(drained));
  EXPECT_FALSE(drained.get()) << "\"a\" is still being processed";
  q.done("a");
  EXPECT_TRUE(q.wait_drained(0s));
}

TEST(WorkQueue, WaitDrainedIsTrueAtOnceWhenNothingIsProcessed) {
  FakeClock clock;
  WorkQueue q(clock, exponential());
  q.add("queued-but-not-taken");
  q.shut_down_discarding();
  EXPECT_TRUE(q.wait_drained(0s));
}

// ---- Rate limiters ----

TEST(WorkQueueRateLimiter, RateLimitedBackoffDoublesFrom5msAndCapsAt1000s) {
  ItemExponentialFailureRateLimiter limiter;  // client-go defaults: 5 ms, 1000 s
  Clock::duration expected = 5ms;
  for (int failure = 0; failure < 18; ++failure) {  // 5 ms * 2^17 = 655.36 s
    EXPECT_EQ(limiter.when("a"), expected) << "failure " << failure;
    expected *= 2;
  }
  // 5 ms * 2^18 = 1310.72 s is past the cap, and so is every later one, however large.
  for (int failure = 18; failure < 200; ++failure) {
    EXPECT_EQ(limiter.when("a"), 1000s) << "failure " << failure;
  }
  EXPECT_EQ(limiter.num_requeues("a"), 200);
}

TEST(WorkQueueRateLimiter, ExponentialBackoffIsPerKey) {
  ItemExponentialFailureRateLimiter limiter(1ms, 1s);
  EXPECT_EQ(limiter.when("a"), 1ms);
  EXPECT_EQ(limiter.when("a"), 2ms);
  EXPECT_EQ(limiter.when("b"), 1ms);
  EXPECT_EQ(limiter.num_requeues("a"), 2);
  EXPECT_EQ(limiter.num_requeues("b"), 1);
  EXPECT_EQ(limiter.num_requeues("c"), 0);
}

TEST(WorkQueueRateLimiter, ForgetResetsBackoff) {
  ItemExponentialFailureRateLimiter limiter(1ms, 1s);
  limiter.when("a");
  limiter.when("a");
  limiter.when("b");
  limiter.forget("a");
  EXPECT_EQ(limiter.num_requeues("a"), 0);
  EXPECT_EQ(limiter.when("a"), 1ms);
  EXPECT_EQ(limiter.when("b"), 2ms);  // other keys keep their backoff
}

TEST(WorkQueueRateLimiter, BucketLimitsBurstThenPacesAtQps) {
  FakeClock clock;
  BucketRateLimiter bucket(10, 100, clock);
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(bucket.when("k" + std::to_string(i)), Clock::duration::zero()) << "call " << i;
  }
  // Each further call reserves the next token, 100 ms after the previous one.
  EXPECT_EQ(bucket.when("x"), 100ms);
  EXPECT_EQ(bucket.when("x"), 200ms);
  EXPECT_EQ(bucket.when("y"), 300ms);

  // 1 s refills 10 tokens: 3 repay the reservations, 7 are free.
  clock.advance(1s);
  for (int i = 0; i < 7; ++i) EXPECT_EQ(bucket.when("z"), Clock::duration::zero()) << i;
  EXPECT_EQ(bucket.when("z"), 100ms);
}

TEST(WorkQueueRateLimiter, BucketRefillsNoFurtherThanBurst) {
  FakeClock clock;
  BucketRateLimiter bucket(10, 3, clock);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(bucket.when("k"), Clock::duration::zero());
  clock.advance(1h);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(bucket.when("k"), Clock::duration::zero());
  EXPECT_EQ(bucket.when("k"), 100ms);
}

TEST(WorkQueueRateLimiter, BucketDoesNotTrackKeys) {
  FakeClock clock;
  BucketRateLimiter bucket(10, 1, clock);
  bucket.when("a");
  EXPECT_EQ(bucket.when("a"), 100ms);
  bucket.forget("a");
  EXPECT_EQ(bucket.num_requeues("a"), 0);
  EXPECT_EQ(bucket.when("a"), 200ms);  // forget does not give tokens back
}

TEST(WorkQueueRateLimiter, BucketWithoutRefillAllowsBurstThenNever) {
  FakeClock clock;
  BucketRateLimiter bucket(0, 2, clock);
  EXPECT_EQ(bucket.when("a"), Clock::duration::zero());
  EXPECT_EQ(bucket.when("a"), Clock::duration::zero());
  EXPECT_EQ(bucket.when("a"), Clock::duration::max());
  clock.advance(1h);
  EXPECT_EQ(bucket.when("a"), Clock::duration::max());
}

TEST(WorkQueueRateLimiter, NeverReadyKeyStaysOutOfTheQueue) {
  FakeClock clock;
  WorkQueue q(clock, std::make_unique<BucketRateLimiter>(0, 0, clock));
  q.add_rate_limited("a");  // delay duration::max(): the deadline saturates instead of wrapping
  clock.advance(24h * 365 * 100);
  EXPECT_EQ(q.len(), 0u);
  EXPECT_EQ(q.try_get(), std::nullopt);
}

TEST(WorkQueueRateLimiter, MaxOfTakesTheLongestDelayAndDelegates) {
  FakeClock clock;
  std::vector<std::unique_ptr<RateLimiter>> children;
  children.push_back(std::make_unique<ItemExponentialFailureRateLimiter>(1ms, 1s));
  children.push_back(std::make_unique<BucketRateLimiter>(10, 1, clock));
  MaxOfRateLimiter limiter(std::move(children));

  EXPECT_EQ(limiter.when("a"), 1ms);    // exponential 1 ms, bucket 0
  EXPECT_EQ(limiter.when("a"), 100ms);  // exponential 2 ms, bucket 100 ms
  EXPECT_EQ(limiter.num_requeues("a"), 2);
  limiter.forget("a");
  EXPECT_EQ(limiter.num_requeues("a"), 0);

  clock.advance(1h);
  EXPECT_EQ(limiter.when("a"), 1ms);  // both children start over
}

TEST(WorkQueueRateLimiter, DefaultControllerLimiterIsMaxOfBackoffAndBucket) {
  FakeClock clock;
  auto limiter = default_controller_rate_limiter(clock);
  // 100 first failures of distinct keys: the bucket's burst absorbs them, the backoff is 5 ms.
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(limiter->when("k" + std::to_string(i)), 5ms) << i;
  }
  // The 101st waits for the bucket (10 qps) although its own backoff is only 5 ms.
  EXPECT_EQ(limiter->when("k100"), 100ms);
  EXPECT_EQ(limiter->num_requeues("k100"), 1);
}

}  // namespace
}  // namespace tracing::runtime
