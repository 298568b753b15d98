#include "operator/runtime/controller.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>

namespace tracing::runtime {

Controller::Controller(std::string name, WorkQueue& queue, int workers, Reconcile reconcile,
                       std::chrono::milliseconds terminal_retry, Clock& clock)
    : name_(std::move(name)),
      queue_(queue),
      workers_(workers),
      reconcile_(std::move(reconcile)),
      terminal_retry_(terminal_retry),
      clock_(clock),
      busy_since_(new std::atomic<int64_t>[workers]()) {
  queue_.set_latency_observer([this](Clock::duration d) { queue_seconds_.observe(d); });
}

void Controller::run_worker(int slot) {
  while (auto key = queue_.get()) {
    reconciles_++;
    in_flight_++;
    const auto started = clock_.now();
    busy_since_[slot] = started.time_since_epoch().count();
    Outcome result = kube::ApiError{0, "InternalError", "not run", {}, std::nullopt};
    try {
      result = reconcile_(*key);
    } catch (const std::exception& e) {
      result = kube::ApiError{
          500, "InternalError", std::string("reconcile threw: ") + e.what(), {}, std::nullopt};
    }
    in_flight_--;
    busy_since_[slot] = 0;
    reconcile_seconds_[result ? 0 : 1].observe(clock_.now() - started);
    if (!result) {
      errors_++;
      const auto& e = result.error();
      if (e.retryable() || e.code == 0) {
        spdlog::warn("{} {}: {} (retrying)", name_, *key, e.to_string());
        queue_.add_rate_limited(*key);
      } else if (e.code == 403) {
        const int n = std::min(queue_.num_requeues(*key), 6);
        const auto wait = std::min<Clock::duration>(std::chrono::seconds(1 << n), terminal_retry_);
        spdlog::error("{} {}: {} (retrying in {} s or more)", name_, *key, e.to_string(),
                      std::chrono::duration_cast<std::chrono::seconds>(wait).count());
        queue_.add_rate_limited(*key, wait);
      } else {
        spdlog::error("{} {}: {} (retrying in {} s or more)", name_, *key, e.to_string(),
                      std::chrono::duration_cast<std::chrono::seconds>(terminal_retry_).count());
        queue_.add_rate_limited(*key, terminal_retry_);
      }
    } else {
      queue_.forget(*key);
      if (result->gone) queue_.drop_waiting(*key);
      if (result->after) queue_.add_after(*key, *result->after);
    }
    queue_.done(*key);
  }
}

std::optional<Controller::Running> Controller::longest_running() const {
  std::optional<Running> longest;
  const auto now = clock_.now();
  for (int slot = 0; slot < workers_; ++slot) {
    const int64_t since = busy_since_[slot];
    if (since == 0) continue;
    const auto running = now - Clock::time_point(Clock::duration(since));
    if (!longest || running > longest->for_) longest = Running{slot, running};
  }
  return longest;
}

void Controller::write_metrics(MetricsWriter& w, const std::string& prefix,
                               const std::vector<const Controller*>& controllers) {
  auto controller = [](const Controller* c) { return "controller=\"" + c->name_ + "\""; };
  auto queue = [](const Controller* c) { return "queue=\"" + c->name_ + "\""; };
  const std::string reconciles = prefix + "reconciles_total";
  w.family(reconciles, "counter", "Reconciles run, by controller.");
  for (const auto* c : controllers) w.sample(reconciles, controller(c), c->reconciles());
  const std::string errors = prefix + "reconcile_errors_total";
  w.family(errors, "counter", "Reconciles that failed, by controller.");
  for (const auto* c : controllers) w.sample(errors, controller(c), c->errors());
  const std::string duration = prefix + "reconcile_duration_seconds";
  w.family(duration, "histogram",
           "How long reconciles took, by controller and result (success or error).");
  for (const auto* c : controllers) {
    w.histogram(duration, controller(c) + ",result=\"success\"", c->reconcile_seconds_[0]);
    w.histogram(duration, controller(c) + ",result=\"error\"", c->reconcile_seconds_[1]);
  }
  const std::string in_flight = prefix + "reconciles_in_flight";
  w.family(in_flight, "gauge", "Reconciles running now.");
  int running = 0;
  for (const auto* c : controllers) running += c->in_flight();
  w.sample(in_flight, "", running);
  const std::string depth = prefix + "workqueue_depth";
  w.family(depth, "gauge", "Keys ready in a work queue.");
  for (const auto* c : controllers) w.sample(depth, queue(c), static_cast<double>(c->queue_.len()));
  const std::string waiting = prefix + "workqueue_waiting";
  w.family(waiting, "gauge",
           "Keys waiting for a requeue deadline (backoff, debug expiry, pacing).");
  for (const auto* c : controllers) {
    w.sample(waiting, queue(c), static_cast<double>(c->queue_.waiting_len()));
  }
  const std::string queued = prefix + "workqueue_queue_duration_seconds";
  w.family(queued, "histogram", "How long a key waited in a work queue before a worker took it.");
  for (const auto* c : controllers) w.histogram(queued, queue(c), c->queue_seconds_);
}

}  // namespace tracing::runtime
