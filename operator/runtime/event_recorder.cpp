#include "operator/runtime/event_recorder.h"

#include <spdlog/spdlog.h>

namespace tracing::runtime {

namespace {

// events.k8s.io/v1 takes notes of at most 1 kB (NoteLengthLimit).
constexpr size_t kNoteLimit = 1024;

}  // namespace

EventRecorder::EventRecorder(std::shared_ptr<kube::HttpTransport> transport,
                             EventRecorderOptions options, Clock& clock)
    : options_(std::move(options)),
      clock_(clock),
      client_(std::move(transport), options_.client),
      correlator_(options_.correlator),
      sender_([this] { run(); }) {}

EventRecorder::~EventRecorder() { stop(); }

void EventRecorder::emit(const nlohmann::json& regarding, const std::string& type,
                         const std::string& reason, const std::string& action,
                         const std::string& note) {
  stats_.emitted++;
  EventKey key{ObjectReference::of(regarding), type, reason, action};
  const std::string cut = truncate_utf8(note, kNoteLimit);
  const WallTime wall = options_.wall_now();
  EventCorrelator::Observation seen;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (stopping_) {
      stats_.dropped_shutdown++;
      return;
    }
    seen = correlator_.observe(key, cut, clock_.now(), wall);
  }
  if (seen.aggregated) stats_.aggregated++;
  switch (seen.outcome) {
    case EventCorrelator::Outcome::kQueued:
      stats_.queued++;
      wake_.notify_one();
      break;
    case EventCorrelator::Outcome::kCoalesced:
      stats_.coalesced++;
      break;
    case EventCorrelator::Outcome::kThrottled:
      stats_.dropped_spam++;
      spdlog::debug("event {} on {}/{}: the object's event budget is spent (count {} kept)", reason,
                    key.regarding.ns, key.regarding.name, seen.count);
      break;
    case EventCorrelator::Outcome::kQueueFull:
      stats_.dropped_queue_full++;
      spdlog::debug("event {} on {}/{}: the event queue is full", reason, key.regarding.ns,
                    key.regarding.name);
      break;
  }
}

void EventRecorder::run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    auto write = correlator_.next();
    if (!write) {
      if (stopping_) break;
      // Nothing to send: the Events whose series have finished are forgotten now rather than at
      // the next emit(), which may be hours away (up to 4,096 are tracked, ~0.8 KiB each).
      const auto forgotten = correlator_.forget_finished(clock_.now());
      stats_.forgotten += forgotten.count;
      if (forgotten.next) {
        clock_.wait_until(wake_, lock, *forgotten.next);
      } else {
        wake_.wait(lock);
      }
      continue;
    }
    sending_ = true;
    lock.unlock();
    const bool exists = send(*write);
    lock.lock();
    sending_ = false;
    correlator_.written(*write, exists);
  }
  finished_sending_ = true;
  finished_.notify_all();
}

bool EventRecorder::send(const EventCorrelator::Write& w) {
  const kube::Resource events = kube::resources::events();
  bool creating = w.create;
  kube::Result<nlohmann::json> r =
      creating ? client_.create(
                     events, w.ns,
                     event_object(w, options_.reporting_controller, options_.reporting_instance))
               : client_.patch(events, w.ns, w.name, series_patch(w), kube::PatchType::kMerge);
  if (!r && !creating && r.error().is_not_found()) {
    // Gone (the API server's event TTL, or someone deleted it): create it again, series and all,
    // under the same name, as client-go's recordEvent does.
    creating = true;
    r = client_.create(events, w.ns,
                       event_object(w, options_.reporting_controller, options_.reporting_instance));
  } else if (!r && creating && r.error().is_already_exists()) {
    // An earlier create of it whose answer was lost: it is there; only its series may be behind.
    if (w.count < 2) return true;
    creating = false;
    r = client_.patch(events, w.ns, w.name, series_patch(w), kube::PatchType::kMerge);
  }
  if (r) {
    (creating ? stats_.created : stats_.series_updated)++;
    return true;
  }
  if (r.error().is_shutting_down()) {
    stats_.dropped_shutdown++;
  } else {
    stats_.failed++;
    spdlog::warn("event {} on {}/{}: {}", w.key.reason, w.key.regarding.ns, w.key.regarding.name,
                 r.error().to_string());
  }
  // A failed create leaves no Event; a failed PATCH (but 404) leaves the one there was.
  return !creating;
}

void EventRecorder::stop() {
  std::lock_guard<std::mutex> once(stop_mu_);
  if (!sender_.joinable()) return;
  const auto deadline = std::chrono::steady_clock::now() + options_.drain;
  {
    std::unique_lock<std::mutex> lock(mu_);
    stopping_ = true;
    wake_.notify_all();
    if (!finished_.wait_until(lock, deadline, [this] { return finished_sending_; })) {
      const size_t left = correlator_.drop_queued();
      stats_.dropped_shutdown += left;
      if (left > 0) {
        spdlog::info("stopping: {} queued event writes dropped after {} ms", left,
                     options_.drain.count());
      }
    }
  }
  // The write in flight, if any, fails at once (it counts as dropped_shutdown).
  client_.shut_down();
  sender_.join();
}

size_t EventRecorder::pending() const {
  std::lock_guard<std::mutex> g(mu_);
  return correlator_.queued() + (sending_ ? 1 : 0);
}

void EventRecorder::write_metrics(MetricsWriter& w, const std::string& prefix) const {
  const std::string emitted = prefix + "events_emitted_total";
  w.family(emitted, "counter", "Events the operator emitted (occurrences, before aggregation).");
  w.sample(emitted, "", static_cast<double>(stats_.emitted.load()));
  const std::string aggregated = prefix + "events_aggregated_total";
  w.family(aggregated, "counter",
           "Occurrences that joined the series of an Event already started (same object, type, "
           "reason and action within 6 minutes) instead of starting a new Event.");
  w.sample(aggregated, "", static_cast<double>(stats_.aggregated.load()));
  const std::string sent = prefix + "events_sent_total";
  w.family(sent, "counter",
           "Event writes the API server accepted: Events created, and series updates (a PATCH of "
           "series.count of an existing Event).");
  w.sample(sent, "write=\"create\"", static_cast<double>(stats_.created.load()));
  w.sample(sent, "write=\"series\"", static_cast<double>(stats_.series_updated.load()));
  const std::string dropped = prefix + "events_dropped_total";
  w.family(dropped, "counter",
           "Event writes not made: the object's budget was spent (spam: 25, then 1 per 5 "
           "minutes), the queue was full, the API server refused or did not answer (failed), or "
           "the operator was stopping. Occurrences dropped for spam or a full queue still count "
           "in their Event's series.");
  w.sample(dropped, "reason=\"spam\"", static_cast<double>(stats_.dropped_spam.load()));
  w.sample(dropped, "reason=\"queue_full\"", static_cast<double>(stats_.dropped_queue_full.load()));
  w.sample(dropped, "reason=\"failed\"", static_cast<double>(stats_.failed.load()));
  w.sample(dropped, "reason=\"shutdown\"", static_cast<double>(stats_.dropped_shutdown.load()));
  const std::string forgotten = prefix + "events_forgotten_total";
  w.family(forgotten, "counter",
           "Events no longer remembered: their series ended (6 minutes without a repeat), so a "
           "repeat starts a new Event.");
  w.sample(forgotten, "", static_cast<double>(stats_.forgotten.load()));
  const std::string pending_family = prefix + "events_pending";
  w.family(pending_family, "gauge", "Event writes queued or being sent.");
  w.sample(pending_family, "", static_cast<double>(pending()));
}

}  // namespace tracing::runtime
