#include "operator/runtime/controller.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "operator/runtime/clock.h"
#include "operator/runtime/work_queue.h"
#include "tests/unit/eventually.h"

namespace tracing::runtime {
namespace {

using namespace std::chrono_literals;

using testing::eventually;
using testing::kTimeout;

kube::ApiError error(int code) { return {code, "Reason", "message", {}, std::nullopt}; }

// One worker on a queue with plain 5 ms exponential backoff and a fake clock; each reconcile
// takes the next scripted outcome (a throw for "throw").
class ControllerTest : public ::testing::Test {
 protected:
  struct Step {
    Controller::Outcome outcome;
    bool throws = false;
  };
  static Step ok(std::optional<std::chrono::milliseconds> after = std::nullopt) {
    return {Controller::Outcome(Controller::Next{after})};
  }
  static Step gone() { return {Controller::Outcome(Controller::Next{std::nullopt, true})}; }
  static Step fail(int code) { return {Controller::Outcome(error(code))}; }
  static Step throwing() { return {Controller::Outcome(Controller::Next{}), true}; }

  void script(std::vector<Step> steps) {
    std::lock_guard<std::mutex> g(mu_);
    for (auto& s : steps) steps_.push_back(std::move(s));
  }
  void start(int workers = 1) {
    controller_ = std::make_unique<Controller>(
        "workload", queue_, workers,
        [this](const std::string& key) -> Controller::Outcome {
          std::unique_lock<std::mutex> g(mu_);
          seen_.push_back(key);
          times_.push_back(
              std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch())
                  .count());
          if (steps_.empty()) return Controller::Outcome(Controller::Next{});
          Step s = std::move(steps_.front());
          steps_.pop_front();
          if (s.throws) throw std::runtime_error("unexpected shape");
          return s.outcome;
        },
        std::chrono::minutes(1), clock_);
    for (int i = 0; i < workers; ++i)
      threads_.emplace_back([this, i] { controller_->run_worker(i); });
  }
  void TearDown() override {
    queue_.shut_down_discarding();
    for (auto& t : threads_) t.join();
  }
  size_t seen() {
    std::lock_guard<std::mutex> g(mu_);
    return seen_.size();
  }
  // The key has been reconciled `n` times and is back waiting for a deadline.
  bool reconciled_and_waiting(size_t n) {
    return seen() == n && controller_->in_flight() == 0 && queue_.waiting_len() == 1;
  }

  FakeClock clock_;
  WorkQueue queue_{clock_, std::make_unique<ItemExponentialFailureRateLimiter>(5ms, 1000s)};
  std::unique_ptr<Controller> controller_;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::deque<Step> steps_;
  std::vector<std::string> seen_;
  std::vector<long> times_;
};

TEST_F(ControllerTest, ASuccessAskingForALaterLookRequeuesTheKeyAfterThatDelayOnly) {
  script({ok(500ms), ok()});
  start();
  queue_.add("ns/a");
  ASSERT_TRUE(eventually([&] { return reconciled_and_waiting(1); }));
  clock_.advance(499ms);
  EXPECT_EQ(queue_.waiting_len(), 1u);
  EXPECT_EQ(queue_.len(), 0u);
  clock_.advance(1ms);
  ASSERT_TRUE(eventually([&] { return seen() == 2 && controller_->in_flight() == 0; }));
  // Asked for nothing more: the key waits for a change.
  EXPECT_TRUE(eventually([&] { return queue_.waiting_len() == 0 && queue_.len() == 0; }));
  EXPECT_EQ(controller_->reconciles(), 2u);
  EXPECT_EQ(controller_->errors(), 0u);
}

TEST_F(ControllerTest, AnObjectFoundGoneDropsTheLookScheduledForItEarlier) {
  script({ok(10s), gone(), ok(10s)});
  start();
  queue_.add("ns/a");
  ASSERT_TRUE(eventually([&] { return reconciled_and_waiting(1); }));
  queue_.add("ns/a");  // its deletion, before the 10 s are up
  ASSERT_TRUE(eventually([&] { return seen() == 2 && controller_->in_flight() == 0; }));
  EXPECT_TRUE(eventually([&] { return queue_.waiting_len() == 0; }));
  clock_.advance(10s);
  EXPECT_EQ(queue_.len(), 0u);
  EXPECT_EQ(seen(), 2u);
  // Only that key's: another key's timer still fires.
  queue_.add("ns/b");
  ASSERT_TRUE(eventually([&] { return reconciled_and_waiting(3); }));
  clock_.advance(10s);
  EXPECT_TRUE(eventually([&] { return seen() == 4; }));
}

TEST_F(ControllerTest, ARetryableErrorIsRetriedWithTheQueuesBackoff) {
  script({fail(503), fail(409), ok()});
  start();
  queue_.add("ns/a");
  ASSERT_TRUE(eventually([&] { return reconciled_and_waiting(1); }));
  clock_.advance(4ms);
  EXPECT_EQ(queue_.len(), 0u);  // 5 ms, the first step of the exponential backoff
  clock_.advance(1ms);
  ASSERT_TRUE(eventually([&] { return reconciled_and_waiting(2); }));
  clock_.advance(9ms);
  EXPECT_EQ(queue_.len(), 0u);  // then 10 ms
  clock_.advance(1ms);
  ASSERT_TRUE(eventually([&] { return seen() == 3 && queue_.waiting_len() == 0; }));
  EXPECT_EQ(controller_->errors(), 2u);
}

TEST_F(ControllerTest, AForbiddenIsLookedAtAgainAfterOneSecondDoublingUpToTheTerminalRetry) {
  std::vector<Step> steps;
  for (int i = 0; i < 8; ++i) steps.push_back(fail(403));
  script(std::move(steps));
  start();
  queue_.add("ns/a");
  // 1 s, 2 s, 4 s, … (not the queue's 5 ms backoff), capped at the terminal retry of a minute.
  const std::vector<std::chrono::milliseconds> waits = {1s, 2s, 4s, 8s, 16s, 32s, 60s};
  for (size_t i = 0; i < waits.size(); ++i) {
    ASSERT_TRUE(eventually([&] { return reconciled_and_waiting(i + 1); }))
        << i << " seen " << seen() << " in flight " << controller_->in_flight() << " waiting "
        << queue_.waiting_len() << " ready " << queue_.len() << " times "
        << ::testing::PrintToString(times_);
    clock_.advance(waits[i] - 1ms);
    EXPECT_EQ(queue_.len(), 0u) << "retried before " << waits[i].count() << " ms";
    clock_.advance(1ms);
  }
  ASSERT_TRUE(eventually([&] { return seen() == 8; }));
}

TEST_F(ControllerTest, AnyOtherErrorIsLookedAtAgainAfterTheTerminalRetry) {
  script({fail(422)});
  start();
  queue_.add("ns/a");
  ASSERT_TRUE(eventually([&] { return reconciled_and_waiting(1); }));
  clock_.advance(59s);
  EXPECT_EQ(queue_.len(), 0u);
  clock_.advance(1s);
  ASSERT_TRUE(eventually([&] { return seen() == 2; }));
  EXPECT_EQ(controller_->errors(), 1u);
}

TEST_F(ControllerTest, AReconcileThatThrowsIsAnErrorRetriedAndTheWorkerGoesOn) {
  script({throwing()});
  start();
  queue_.add("ns/a");
  ASSERT_TRUE(eventually([&] { return reconciled_and_waiting(1); }));
  EXPECT_EQ(controller_->errors(), 1u);
  queue_.add("ns/b");  // the same worker still takes keys
  ASSERT_TRUE(eventually([&] { return seen() == 2; }));
  clock_.advance(5ms);
  ASSERT_TRUE(eventually([&] { return seen() == 3; }));
}

TEST_F(ControllerTest, LongestRunningNamesTheWorkerAndHowLongOnTheClock) {
  std::mutex gate_mu;
  std::condition_variable gate_cv;
  bool open = false;
  controller_ = std::make_unique<Controller>(
      "policy", queue_, 2,
      [&](const std::string&) -> Controller::Outcome {
        std::unique_lock<std::mutex> g(gate_mu);
        gate_cv.wait(g, [&] { return open; });
        return Controller::Outcome(Controller::Next{});
      },
      std::chrono::minutes(1), clock_);
  EXPECT_FALSE(controller_->longest_running());
  threads_.emplace_back([this] { controller_->run_worker(1); });
  queue_.add("a");
  ASSERT_TRUE(eventually([&] { return controller_->in_flight() == 1; }));
  clock_.advance(90s);
  auto running = controller_->longest_running();
  ASSERT_TRUE(running);
  EXPECT_EQ(running->slot, 1);
  EXPECT_EQ(running->for_, 90s);
  {
    std::lock_guard<std::mutex> g(gate_mu);
    open = true;
  }
  gate_cv.notify_all();
  ASSERT_TRUE(eventually([&] { return controller_->in_flight() == 0; }));
  EXPECT_FALSE(controller_->longest_running());
}

TEST_F(ControllerTest, MetricsGiveEachControllersCountsUnderItsName) {
  script({fail(500), ok()});
  start();
  FakeClock other_clock;
  WorkQueue other_queue{other_clock};
  Controller idle(
      "cluster", other_queue, 1,
      [](const std::string&) { return Controller::Outcome(Controller::Next{}); },
      std::chrono::minutes(1), other_clock);
  other_queue.add("jaeger");
  queue_.add("ns/a");
  ASSERT_TRUE(eventually([&] { return reconciled_and_waiting(1); }));
  MetricsWriter w;
  Controller::write_metrics(w, "x_", {controller_.get(), &idle});
  const std::string& text = w.text();
  for (const char* line : {
           "x_reconciles_total{controller=\"workload\"} 1\n",
           "x_reconciles_total{controller=\"cluster\"} 0\n",
           "x_reconcile_errors_total{controller=\"workload\"} 1\n",
           "x_reconcile_duration_seconds_count{controller=\"workload\",result=\"error\"} 1\n",
           "x_reconcile_duration_seconds_count{controller=\"workload\",result=\"success\"} 0\n",
           "x_reconciles_in_flight 0\n",
           "x_workqueue_depth{queue=\"cluster\"} 1\n",
           "x_workqueue_waiting{queue=\"workload\"} 1\n",
           "x_workqueue_queue_duration_seconds_count{queue=\"workload\"} 1\n",
       }) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "in:\n" << text;
  }
  // One # TYPE line per family, however many controllers.
  size_t types = 0;
  for (size_t at = 0; (at = text.find("# TYPE x_reconciles_total", at)) != std::string::npos; ++at)
    ++types;
  EXPECT_EQ(types, 1u);
}

}  // namespace
}  // namespace tracing::runtime
