// The client-side request rate limit (--qps / --burst): a token bucket shared by every request
// of one Client, as client-go's flowcontrol.NewTokenBucketRateLimiter. qps <= 0 turns it off
// (controller-runtime's default since v0.21, relying on API Priority and Fairness).
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace tracing::kube {

class TokenBucket {
 public:
  using clock = std::chrono::steady_clock;
  TokenBucket(double qps, int burst);
  // How long the caller must wait before its request may go, reserving its token. Zero when
  // unlimited or a token is available now.
  clock::duration reserve(clock::time_point now);
  // Blocks the calling thread until a token is available. False if close() was called (before
  // or while waiting): the caller must not send.
  bool acquire();
  // Blocks for `d`, or until close(). False if closed.
  bool sleep_for(clock::duration d);
  // Wakes every waiter; from now on acquire() and sleep_for() return false at once.
  void close();
  bool enabled() const { return qps_ > 0; }

 private:
  std::mutex mu_;
  std::condition_variable closed_cv_;
  bool closed_ = false;
  double qps_;
  double burst_;
  double tokens_;
  clock::time_point last_{};
};

}  // namespace tracing::kube
