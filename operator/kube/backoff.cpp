#include "operator/kube/backoff.h"

#include <algorithm>

namespace tracing::kube {

Backoff::duration Backoff::next(time_point now) {
  if (current_ != duration::zero() && now - last_failure_ > opts_.reset_after) {
    current_ = duration::zero();
  }
  last_failure_ = now;
  if (current_ == duration::zero()) {
    current_ = opts_.initial;
  } else {
    current_ = std::min(opts_.max, duration(static_cast<int64_t>(current_.count() * opts_.factor)));
  }
  double stretch = 0;
  if (opts_.jitter > 0) {
    stretch = std::uniform_real_distribution<double>(0.0, opts_.jitter)(rng_);
  }
  // Unlike client-go (whose jitter may double the cap), the jittered delay never exceeds max.
  return std::min(opts_.max, duration(static_cast<int64_t>(current_.count() * (1.0 + stretch))));
}

}  // namespace tracing::kube
