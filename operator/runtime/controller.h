// A named work queue and the loop its workers run (controller-runtime's Controller): take a key,
// reconcile it, requeue it by the outcome, and keep the counts /metrics and /healthz report.
//
// Contract: run_worker(slot) returns once the queue is shut down and hands out nothing more.
// Outcomes, per key:
//   success                 forget its backoff; requeue after the delay asked for, if any;
//                           for an object that is gone, drop any deadline it still waits for
//   retryable error, or a   requeue with the queue's rate limiter (exponential backoff)
//   reconcile that threw
//   403                     requeue after 1 s doubling per failure, at most terminal_retry: a
//                           (re)started API server answers 403 until its authorizer has synced
//   any other error         requeue after terminal_retry or more (400/404/422 fail the same way
//                           until someone changes what the operator may not see)
// A reconcile that throws is a bug; it must not take the process down with every other key.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "operator/kube/error.h"
#include "operator/runtime/clock.h"
#include "operator/runtime/metrics.h"
#include "operator/runtime/work_queue.h"

namespace tracing::runtime {

class Controller {
 public:
  // What a successful reconcile asks of the queue.
  struct Next {
    // When to look at the key again; nullopt: when something changes.
    std::optional<std::chrono::milliseconds> after;
    // The object is gone: a look scheduled for it earlier (a timer of its own, a retry) has
    // nothing left to look at, and is dropped rather than left to fire.
    bool gone = false;
  };
  using Outcome = kube::Result<Next>;
  using Reconcile = std::function<Outcome(const std::string& key)>;

  // `queue` must outlive the controller. `workers`: how many run_worker slots the caller runs.
  Controller(std::string name, WorkQueue& queue, int workers, Reconcile reconcile,
             std::chrono::milliseconds terminal_retry, Clock& clock = SystemClock::instance());
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // The loop of worker `slot` (0 <= slot < workers): until the queue is shut down.
  void run_worker(int slot);

  const std::string& name() const { return name_; }
  int workers() const { return workers_; }
  uint64_t reconciles() const { return reconciles_.load(); }
  uint64_t errors() const { return errors_.load(); }
  int in_flight() const { return in_flight_.load(); }
  // The worker whose reconcile has been running the longest, and for how long; nullopt when
  // none is running.
  struct Running {
    int slot;
    Clock::duration for_;
  };
  std::optional<Running> longest_running() const;

  // The controller families of /metrics, one sample per controller in each:
  // <prefix>reconciles_total, _reconcile_errors_total, _reconcile_duration_seconds,
  // _reconciles_in_flight (summed), _workqueue_depth, _workqueue_waiting,
  // _workqueue_queue_duration_seconds.
  static void write_metrics(MetricsWriter& w, const std::string& prefix,
                            const std::vector<const Controller*>& controllers);

 private:
  std::string name_;
  WorkQueue& queue_;
  int workers_;
  Reconcile reconcile_;
  std::chrono::milliseconds terminal_retry_;
  Clock& clock_;
  std::atomic<uint64_t> reconciles_{0};
  std::atomic<uint64_t> errors_{0};
  std::atomic<int> in_flight_{0};
  // Per worker: when its running reconcile started (clock ticks), 0 when idle.
  std::unique_ptr<std::atomic<int64_t>[]> busy_since_;
  Histogram reconcile_seconds_[2];  // success, error
  Histogram queue_seconds_;
};

}  // namespace tracing::runtime
