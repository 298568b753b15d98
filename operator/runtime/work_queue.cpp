#include "operator/runtime/work_queue.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>

namespace tracing::runtime {
namespace {

// `now + d`, saturating at time_point::max() (which WorkQueue treats as "never").
Clock::time_point deadline_after(Clock::time_point now, Clock::duration d) {
  if (d >= Clock::time_point::max() - now) return Clock::time_point::max();
  return now + d;
}

// A non-negative duration given in (possibly huge) seconds, saturating at duration::max().
Clock::duration duration_from_seconds(double seconds) {
  const std::chrono::duration<double> as_double(seconds);
  const auto max_seconds = std::chrono::duration<double>(Clock::duration::max());
  if (!(as_double < max_seconds)) return Clock::duration::max();
  return std::chrono::duration_cast<Clock::duration>(as_double);
}

}  // namespace

// ---- ItemExponentialFailureRateLimiter ----

ItemExponentialFailureRateLimiter::ItemExponentialFailureRateLimiter(Clock::duration base,
                                                                     Clock::duration max)
    : base_(base), max_(max) {}

Clock::duration ItemExponentialFailureRateLimiter::when(const std::string& key) {
  int exponent;
  {
    std::lock_guard<std::mutex> lock(mu_);
    int& failures = failures_[key];
    exponent = failures;
    if (failures < INT_MAX) ++failures;
  }
  // Computed in floating point so that large exponents saturate instead of overflowing.
  const double backoff = std::ldexp(static_cast<double>(base_.count()), exponent);
  if (!(backoff < static_cast<double>(max_.count()))) return max_;
  return Clock::duration(static_cast<Clock::duration::rep>(backoff));
}

void ItemExponentialFailureRateLimiter::forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_.erase(key);
}

int ItemExponentialFailureRateLimiter::num_requeues(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

// ---- BucketRateLimiter ----

BucketRateLimiter::BucketRateLimiter(double qps, int burst, Clock& clock)
    : clock_(clock),
      qps_(qps > 0 ? qps : 0),  // also maps NaN to 0
      burst_(burst),
      tokens_(burst),
      last_(clock.now()) {}

Clock::duration BucketRateLimiter::when(const std::string& /*key*/) {
  if (std::isinf(qps_)) return Clock::duration::zero();
  if (burst_ < 1) return Clock::duration::max();  // no reservation can ever be satisfied

  std::lock_guard<std::mutex> lock(mu_);
  const Clock::time_point now = clock_.now();
  const Clock::time_point last = std::min(last_, now);
  const double elapsed = std::chrono::duration<double>(now - last).count();
  const double tokens = std::min(tokens_ + elapsed * qps_, static_cast<double>(burst_)) - 1;

  Clock::duration wait = Clock::duration::zero();
  if (tokens < 0) {
    // Without refill the token never comes; as in x/time/rate, such a reservation is refused
    // and consumes nothing.
    if (qps_ == 0) return Clock::duration::max();
    wait = duration_from_seconds(-tokens / qps_);
  }
  tokens_ = tokens;
  last_ = now;
  return wait;
}

void BucketRateLimiter::forget(const std::string& /*key*/) {}

int BucketRateLimiter::num_requeues(const std::string& /*key*/) { return 0; }

// ---- MaxOfRateLimiter ----

MaxOfRateLimiter::MaxOfRateLimiter(std::vector<std::unique_ptr<RateLimiter>> limiters)
    : limiters_(std::move(limiters)) {}

Clock::duration MaxOfRateLimiter::when(const std::string& key) {
  Clock::duration longest = Clock::duration::zero();
  for (const auto& limiter : limiters_) longest = std::max(longest, limiter->when(key));
  return longest;
}

void MaxOfRateLimiter::forget(const std::string& key) {
  for (const auto& limiter : limiters_) limiter->forget(key);
}

int MaxOfRateLimiter::num_requeues(const std::string& key) {
  int most = 0;
  for (const auto& limiter : limiters_) most = std::max(most, limiter->num_requeues(key));
  return most;
}

std::unique_ptr<RateLimiter> default_controller_rate_limiter(Clock& clock) {
  std::vector<std::unique_ptr<RateLimiter>> limiters;
  limiters.push_back(std::make_unique<ItemExponentialFailureRateLimiter>(
      ItemExponentialFailureRateLimiter::kDefaultBase,
      ItemExponentialFailureRateLimiter::kDefaultMax));
  limiters.push_back(std::make_unique<BucketRateLimiter>(BucketRateLimiter::kDefaultQps,
                                                         BucketRateLimiter::kDefaultBurst, clock));
  return std::make_unique<MaxOfRateLimiter>(std::move(limiters));
}

// ---- WorkQueue ----

WorkQueue::WorkQueue(Clock& clock) : WorkQueue(clock, default_controller_rate_limiter(clock)) {}

WorkQueue::WorkQueue(Clock& clock, std::unique_ptr<RateLimiter> limiter)
    : clock_(clock),
      limiter_(limiter ? std::move(limiter) : default_controller_rate_limiter(clock)) {}

bool WorkQueue::add_locked(const std::string& key) {
  if (!dirty_.insert(key).second) return false;   // already queued, or already marked dirty
  if (processing_.count(key) != 0) return false;  // done() will queue it
  push_locked(key);
  return true;
}

bool WorkQueue::promote_ready_locked(Clock::time_point now) {
  bool queued = false;
  while (!waiting_.empty() && waiting_.begin()->first.first <= now) {
    auto node = waiting_.extract(waiting_.begin());
    waiting_slots_.erase(node.mapped());
    queued = add_locked(node.mapped()) || queued;
  }
  return queued;
}

void WorkQueue::push_locked(const std::string& key) {
  queue_.push_back(key);
  if (latency_observer_) queued_at_[key] = clock_.now();
}

std::optional<std::string> WorkQueue::pop_locked() {
  if (queue_.empty()) return std::nullopt;
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  if (auto it = queued_at_.find(key); it != queued_at_.end()) {
    latency_observer_(clock_.now() - it->second);
    queued_at_.erase(it);
  }
  dirty_.erase(key);
  processing_.insert(key);
  // Pass the wake-up on: add() wakes one getter per key, but a promotion may queue several.
  if (!queue_.empty()) getters_cv_.notify_one();
  return key;
}

void WorkQueue::add(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  if (shutting_down_) return;
  // Keys whose deadline has passed go first, as if they had been queued at their deadline.
  const bool promoted = promote_ready_locked(clock_.now());
  if (add_locked(key) || promoted) getters_cv_.notify_one();
}

void WorkQueue::add_after(const std::string& key, Clock::duration delay) {
  if (delay <= Clock::duration::zero()) {
    add(key);
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (shutting_down_) return;
  const Clock::time_point now = clock_.now();
  const bool promoted = promote_ready_locked(now);
  const Clock::time_point deadline = deadline_after(now, delay);

  bool earliest_moved = false;
  auto existing = waiting_slots_.find(key);
  if (existing == waiting_slots_.end() || deadline < existing->second.first) {
    if (existing != waiting_slots_.end()) waiting_.erase(existing->second);
    const WaitingSlot slot{deadline, next_arrival_++};
    waiting_.emplace(slot, key);
    waiting_slots_[key] = slot;
    earliest_moved = waiting_.begin()->first == slot;
  }
  // Getters wait until the earliest deadline; a new earliest one means they must re-arm.
  if (earliest_moved) {
    getters_cv_.notify_all();
  } else if (promoted) {
    getters_cv_.notify_one();
  }
}

void WorkQueue::add_rate_limited(const std::string& key, Clock::duration at_least) {
  add_after(key, std::max(limiter_->when(key), at_least));
}

void WorkQueue::drop_waiting(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto slot = waiting_slots_.find(key);
  if (slot == waiting_slots_.end()) return;
  // A getter armed for this deadline wakes then and finds nothing due: no need to wake it now.
  waiting_.erase(slot->second);
  waiting_slots_.erase(slot);
}

void WorkQueue::forget(const std::string& key) { limiter_->forget(key); }

void WorkQueue::set_latency_observer(std::function<void(Clock::duration)> observer) {
  std::lock_guard<std::mutex> lock(mu_);
  latency_observer_ = std::move(observer);
}

int WorkQueue::num_requeues(const std::string& key) { return limiter_->num_requeues(key); }

std::optional<std::string> WorkQueue::get() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    promote_ready_locked(clock_.now());
    if (auto key = pop_locked()) return key;
    if (shutting_down_) return std::nullopt;
    if (waiting_.empty() || waiting_.begin()->first.first == Clock::time_point::max()) {
      // No deadline to wait for: only add(), add_after() or shutdown can change anything.
      getters_cv_.wait(lock);
    } else {
      clock_.wait_until(getters_cv_, lock, waiting_.begin()->first.first);
    }
  }
}

std::optional<std::string> WorkQueue::try_get() {
  std::lock_guard<std::mutex> lock(mu_);
  promote_ready_locked(clock_.now());
  return pop_locked();
}

void WorkQueue::done(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  if (processing_.erase(key) == 0) return;
  if (discard_) {
    dirty_.erase(key);
    if (processing_.empty()) drain_cv_.notify_all();
    return;
  }
  // Whether the key was added while it was processed, asked before the promotion below: a
  // deadline of its own that has passed is promoted (and marked dirty) there, and must not
  // queue it a second time here.
  const bool added_meanwhile = dirty_.count(key) != 0;
  bool queued = promote_ready_locked(clock_.now());
  if (added_meanwhile) {
    // Even while shutting down, as client-go does: a change seen during processing is not lost.
    push_locked(key);
    queued = true;
  }
  if (queued) getters_cv_.notify_one();
  if (processing_.empty()) drain_cv_.notify_all();
}

void WorkQueue::shut_down() {
  std::lock_guard<std::mutex> lock(mu_);
  shutting_down_ = true;
  waiting_.clear();
  waiting_slots_.clear();
  getters_cv_.notify_all();
}

void WorkQueue::shut_down_discarding() {
  std::lock_guard<std::mutex> lock(mu_);
  shutting_down_ = true;
  discard_ = true;
  queue_.clear();
  queued_at_.clear();
  dirty_.clear();
  waiting_.clear();
  waiting_slots_.clear();
  getters_cv_.notify_all();
}

bool WorkQueue::wait_drained(Clock::duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  const Clock::time_point deadline = deadline_after(clock_.now(), timeout);
  while (!processing_.empty()) {
    if (clock_.now() >= deadline) return false;
    clock_.wait_until(drain_cv_, lock, deadline);
  }
  return true;
}

std::size_t WorkQueue::len() const {
  std::lock_guard<std::mutex> lock(mu_);
  // Waiting keys whose deadline has passed count as queued, unless adding them would be a no-op
  // (already dirty) or only mark them dirty (being processed).
  std::size_t ready = queue_.size();
  const Clock::time_point now = clock_.now();
  for (auto it = waiting_.begin(); it != waiting_.end() && it->first.first <= now; ++it) {
    if (dirty_.count(it->second) == 0 && processing_.count(it->second) == 0) ++ready;
  }
  return ready;
}

std::size_t WorkQueue::waiting_len() const {
  std::lock_guard<std::mutex> lock(mu_);
  const Clock::time_point now = clock_.now();
  std::size_t n = 0;
  for (auto it = waiting_.rbegin(); it != waiting_.rend() && it->first.first > now; ++it) ++n;
  return n;
}

bool WorkQueue::shutting_down() const {
  std::lock_guard<std::mutex> lock(mu_);
  return shutting_down_;
}

}  // namespace tracing::runtime
