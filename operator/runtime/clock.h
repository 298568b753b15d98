// An injectable monotonic clock. Production code uses SystemClock; tests drive a FakeClock by
// hand (`clock.advance(2s)`), as kube-rs tests its scheduler on a paused clock.
//
// Code that waits for a deadline must wait through the clock (`wait_until`), never through
// std::this_thread or a condition variable's own timed wait, so that advancing a FakeClock wakes
// it.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>

namespace tracing::runtime {

class Clock {
 public:
  using duration = std::chrono::steady_clock::duration;
  using time_point = std::chrono::steady_clock::time_point;

  virtual ~Clock() = default;
  virtual time_point now() const = 0;
  // Blocks on `cv` (with `lock` held on entry and exit) until notified or until `deadline` by
  // this clock. Spurious wake-ups are allowed: callers re-check their condition in a loop.
  virtual void wait_until(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                          time_point deadline) = 0;
};

class SystemClock final : public Clock {
 public:
  time_point now() const override { return std::chrono::steady_clock::now(); }
  void wait_until(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                  time_point deadline) override {
    cv.wait_until(lock, deadline);
  }
  static SystemClock& instance() {
    static SystemClock clock;
    return clock;
  }
};

// A clock that moves only when told. Waiters registered through wait_until are woken by every
// advance(); they then re-check their deadline against now().
class FakeClock final : public Clock {
 public:
  explicit FakeClock(time_point start = time_point{} + std::chrono::hours(1)) : now_(start) {}

  time_point now() const override {
    std::lock_guard<std::mutex> g(mu_);
    return now_;
  }

  void advance(duration d) {
    {
      std::lock_guard<std::mutex> g(mu_);
      now_ += d;
    }
    wake_all();
  }

  void wait_until(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                  time_point deadline) override {
    if (now() >= deadline) return;
    {
      std::lock_guard<std::mutex> g(mu_);
      waiters_.insert(&cv);
    }
    // A real-time cap keeps a missed notification from hanging a test forever; callers loop.
    cv.wait_for(lock, std::chrono::milliseconds(50));
    std::lock_guard<std::mutex> g(mu_);
    waiters_.erase(&cv);
  }

 private:
  void wake_all() {
    std::set<std::condition_variable*> ws;
    {
      std::lock_guard<std::mutex> g(mu_);
      ws = waiters_;
    }
    for (auto* cv : ws) cv->notify_all();
  }

  mutable std::mutex mu_;
  time_point now_;
  std::set<std::condition_variable*> waiters_;
};

}  // namespace tracing::runtime
