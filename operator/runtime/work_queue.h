// The controller's work queue: keys (namespace/name) waiting to be reconciled, with the semantics
// of client-go's util/workqueue rate-limiting delaying queue.
//
// Guarantees:
//   - A key is queued at most once: adding a key that is already queued is a no-op.
//   - A key is never handed to two workers at once. A key added while a worker holds it (between
//     get() and done()) is marked dirty and queued again when done() is called.
//   - Ready keys come out in FIFO order. A delayed key joins the back of the queue at its deadline,
//     as judged by the injected Clock; keys whose deadlines have passed join in deadline order.
//   - Every wait goes through Clock::wait_until, so advancing a FakeClock wakes a blocked get().
//   - All members are thread-safe.
//
// Caveats:
//   - After shut_down_discarding() the queue hands nothing out: only the keys already being
//     processed finish (a stopping process must not work through a long queue).
//   - After shut_down() the queue accepts nothing new and drops keys still waiting for a deadline,
//     but get() keeps handing out keys already queued (including dirty keys re-queued by done())
//     and returns nullopt once the queue is empty.
//   - Destroying a queue while a thread is inside one of its members is a bug: shut it down and
//     join the workers first. The clock must outlive the queue (and any BucketRateLimiter).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "operator/runtime/clock.h"

namespace tracing::runtime {

// Decides how long a key waits before it is retried. Implementations are thread-safe.
class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // The delay before `key` may be processed again; records one more requeue of it.
  virtual Clock::duration when(const std::string& key) = 0;
  // Stops tracking `key`: its next when() starts from a clean slate.
  virtual void forget(const std::string& key) = 0;
  // How many times `key` has been requeued since it was last forgotten.
  virtual int num_requeues(const std::string& key) = 0;
};

// Per-key exponential backoff: base * 2^failures, capped at max (client-go's
// ItemExponentialFailureRateLimiter).
class ItemExponentialFailureRateLimiter final : public RateLimiter {
 public:
  static constexpr Clock::duration kDefaultBase = std::chrono::milliseconds(5);
  static constexpr Clock::duration kDefaultMax = std::chrono::seconds(1000);

  explicit ItemExponentialFailureRateLimiter(Clock::duration base = kDefaultBase,
                                             Clock::duration max = kDefaultMax);

  Clock::duration when(const std::string& key) override;
  void forget(const std::string& key) override;
  int num_requeues(const std::string& key) override;

 private:
  const Clock::duration base_;
  const Clock::duration max_;
  std::mutex mu_;
  std::unordered_map<std::string, int> failures_;
};

// One token bucket shared by all keys (client-go's BucketRateLimiter over
// golang.org/x/time/rate). The bucket starts full with `burst` tokens and refills at `qps` tokens
// per second. Every when() reserves a token, even one not yet available, and returns the delay
// until it is. qps <= 0 never refills (burst calls pass, then the delay is Clock::duration::max(),
// i.e. never); burst < 1 always answers never. Keys are not tracked: forget() does nothing and
// num_requeues() is 0.
class BucketRateLimiter final : public RateLimiter {
 public:
  static constexpr double kDefaultQps = 10;
  static constexpr int kDefaultBurst = 100;

  BucketRateLimiter(double qps, int burst, Clock& clock);

  Clock::duration when(const std::string& key) override;
  void forget(const std::string& key) override;
  int num_requeues(const std::string& key) override;

 private:
  Clock& clock_;
  const double qps_;
  const int burst_;
  std::mutex mu_;
  double tokens_;
  Clock::time_point last_;
};

// The longest delay of its children (each child is asked, so each records the requeue);
// num_requeues() is the children's maximum and forget() forgets in every child.
class MaxOfRateLimiter final : public RateLimiter {
 public:
  explicit MaxOfRateLimiter(std::vector<std::unique_ptr<RateLimiter>> limiters);

  Clock::duration when(const std::string& key) override;
  void forget(const std::string& key) override;
  int num_requeues(const std::string& key) override;

 private:
  const std::vector<std::unique_ptr<RateLimiter>> limiters_;
};

// client-go's DefaultControllerRateLimiter: the max of a per-key exponential backoff (5 ms
// doubling, capped at 1000 s) and a shared bucket (10 qps, burst 100).
std::unique_ptr<RateLimiter> default_controller_rate_limiter(Clock& clock);

class WorkQueue {
 public:
  // Both use default_controller_rate_limiter(clock) when no (or a null) limiter is given.
  explicit WorkQueue(Clock& clock);
  WorkQueue(Clock& clock, std::unique_ptr<RateLimiter> limiter);

  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // Queues `key` now, unless it is already queued (no-op) or being processed (marked dirty, and
  // queued again by done()). Ignored once shutting down.
  void add(const std::string& key);
  // Queues `key` once `delay` has passed on the clock; delay <= 0 is add(). If `key` is already
  // waiting, the earlier deadline wins. Ignored once shutting down.
  void add_after(const std::string& key, Clock::duration delay);
  // add_after(key, max(limiter.when(key), at_least)).
  void add_rate_limited(const std::string& key, Clock::duration at_least = Clock::duration::zero());
  // Drops the deadline `key` waits for (add_after, add_rate_limited), if any: for an object that
  // no longer exists. A key that is queued or being processed stays so.
  void drop_waiting(const std::string& key);
  // Resets the key's backoff in the rate limiter (call after a successful reconcile).
  void forget(const std::string& key);
  int num_requeues(const std::string& key);
  // Called (under the queue's lock: keep it quick) with how long each key handed out by get()
  // waited in the ready queue (client-go's workqueue_queue_duration_seconds).
  void set_latency_observer(std::function<void(Clock::duration)> observer);

  // Blocks until a key is ready and hands it to the caller, who must call done(key) when
  // finished with it. Returns nullopt once shutting down and no key is queued.
  std::optional<std::string> get();
  // As get(), but returns nullopt instead of blocking when no key is ready.
  std::optional<std::string> try_get();
  // Marks `key` as no longer being processed; if it was added meanwhile, queues it again. A key
  // that is not being processed is ignored.
  void done(const std::string& key);

  // Stops accepting keys, drops keys waiting for a deadline and wakes every blocked get().
  void shut_down();
  // Stops handing out work, for a process that is stopping: accepts nothing new, drops every
  // queued and waiting key, get() returns nullopt from now on, and done() queues nothing again.
  // Returns at once; wait_drained() waits for the keys already handed out.
  void shut_down_discarding();
  // Blocks until every key handed out by get() is done(), or `timeout` passed (returns false).
  bool wait_drained(Clock::duration timeout);

  // Keys ready to be handed out (neither waiting for a deadline nor being processed).
  std::size_t len() const;
  // Keys waiting for a deadline still in the future (add_after, add_rate_limited).
  std::size_t waiting_len() const;
  bool shutting_down() const;

 private:
  // Position in waiting_: deadline, then arrival order for equal deadlines.
  using WaitingSlot = std::pair<Clock::time_point, std::uint64_t>;

  // All *_locked members require mu_ held.
  bool add_locked(const std::string& key);           // true if the key was queued
  bool promote_ready_locked(Clock::time_point now);  // true if any key was queued
  std::optional<std::string> pop_locked();
  void push_locked(const std::string& key);  // onto the ready queue

  Clock& clock_;
  const std::unique_ptr<RateLimiter> limiter_;

  mutable std::mutex mu_;
  std::condition_variable getters_cv_;     // get(): a key was queued, a deadline moved, shutdown
  std::condition_variable drain_cv_;       // wait_drained(): processing emptied
  std::deque<std::string> queue_;          // ready keys in FIFO order; each also in dirty_
  std::unordered_set<std::string> dirty_;  // keys needing processing (queued or pending done)
  std::unordered_set<std::string> processing_;  // keys handed out by get(), not yet done()
  std::map<WaitingSlot, std::string> waiting_;  // keys waiting for a deadline, earliest first
  std::unordered_map<std::string, WaitingSlot> waiting_slots_;  // key -> its slot in waiting_
  std::uint64_t next_arrival_ = 0;
  bool shutting_down_ = false;
  bool discard_ = false;
  std::function<void(Clock::duration)> latency_observer_;
  std::unordered_map<std::string, Clock::time_point> queued_at_;  // ready keys, when observed
};

}  // namespace tracing::runtime
