#include "operator/kube/rate_limiter.h"

#include <algorithm>

namespace tracing::kube {

TokenBucket::TokenBucket(double qps, int burst)
    : qps_(qps), burst_(std::max(1, burst)), tokens_(std::max(1, burst)) {}

TokenBucket::clock::duration TokenBucket::reserve(clock::time_point now) {
  if (qps_ <= 0) return clock::duration::zero();
  std::lock_guard<std::mutex> g(mu_);
  if (last_ != clock::time_point{} && now > last_) {
    tokens_ = std::min(burst_, tokens_ + std::chrono::duration<double>(now - last_).count() * qps_);
  }
  if (now > last_) last_ = now;
  tokens_ -= 1;  // may go negative: a reservation in the future
  if (tokens_ >= 0) return clock::duration::zero();
  return std::chrono::duration_cast<clock::duration>(
      std::chrono::duration<double>(-tokens_ / qps_));
}

bool TokenBucket::acquire() { return sleep_for(reserve(clock::now())); }

bool TokenBucket::sleep_for(clock::duration d) {
  std::unique_lock<std::mutex> g(mu_);
  if (d > clock::duration::zero()) {
    closed_cv_.wait_for(g, d, [this] { return closed_; });
  }
  return !closed_;
}

void TokenBucket::close() {
  {
    std::lock_guard<std::mutex> g(mu_);
    closed_ = true;
  }
  closed_cv_.notify_all();
}

}  // namespace tracing::kube
