#include "operator/kube/rate_limiter.h"

#include <algorithm>
#include <thread>

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

void TokenBucket::acquire() {
  auto wait = reserve(clock::now());
  if (wait > clock::duration::zero()) std::this_thread::sleep_for(wait);
}

}  // namespace tracing::kube
