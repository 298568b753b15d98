// Exponential backoff with jitter, as client-go's reflector uses between failed list/watch
// attempts: 800 ms doubling to 30 s, each delay stretched by up to `jitter` × itself, reset after
// a quiet period without failures. The jittered delay is capped at `max`.
#pragma once

#include <chrono>
#include <functional>
#include <random>

namespace tracing::kube {

class Backoff {
 public:
  using duration = std::chrono::milliseconds;
  using time_point = std::chrono::steady_clock::time_point;

  struct Options {
    duration initial{800};
    duration max{30'000};
    double factor = 2.0;
    double jitter = 1.0;                    // delay in [d, min(max, d·(1+jitter)))
    std::chrono::seconds reset_after{120};  // no failure for this long → start over
  };

  // Seeded at random, so that many clients failing together do not retry in step.
  explicit Backoff(Options o) : Backoff(o, std::random_device{}()) {}
  Backoff(Options o, uint64_t seed) : opts_(o), rng_(seed) {}

  // The delay to wait after a failure observed at `now`.
  duration next(time_point now);
  void reset() { current_ = duration::zero(); }

 private:
  Options opts_;
  std::mt19937_64 rng_;
  duration current_{0};
  time_point last_failure_{};
};

}  // namespace tracing::kube
