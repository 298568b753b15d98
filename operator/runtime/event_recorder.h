// Events (events.k8s.io/v1) off the hot path: emit() records an occurrence in memory and returns;
// one background thread writes them, through a client of its own.
//
// Guarantees:
// - emit() never waits for the network or for a rate limit: it takes a mutex held only for
//   in-memory bookkeeping, and when the queue is full the write is dropped (and counted);
// - occurrences are aggregated and filtered as EventCorrelator says (client-go's series and
//   per-object spam filter): one Event per object, type, reason and action in a 6-minute window,
//   with series.count, and at most 25 writes per object, then one per 5 minutes;
// - Events have their own request budget: the recorder's kube::Client, over the caller's
//   transport, has its own rate limit, so Events never take write capacity from the writes that
//   converge the cluster (controller-runtime does the same: its recorder builds an events/v1
//   client of its own over the manager's http.Client, pkg/internal/recorder);
// - best effort: a failed write is logged and counted, not retried; the Event's next occurrence
//   writes its whole count again;
// - stop() drains the queue for at most `drain`, then drops what is left and abandons the write
//   in flight: it returns within about `drain` whatever the API server does.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "operator/kube/client.h"
#include "operator/runtime/clock.h"
#include "operator/runtime/event_correlator.h"
#include "operator/runtime/metrics.h"

namespace tracing::runtime {

struct EventRecorderOptions {
  // events.k8s.io/v1 reportingController (a qualified name, "example.com/name") and
  // reportingInstance (at most 128 characters).
  std::string reporting_controller;
  std::string reporting_instance;
  // The Events' own request budget. 10 per second, bursts of 25: half the reconcile writes'
  // default (--qps 20), so Events add at most half to the operator's request rate; a burst of 25
  // sends one object's whole spam budget, or the first Events of 25 objects, at once. A rollout
  // over 1,000 workloads at the default 20 writes per second raises about 20 Events per second:
  // the queue (1,000) then peaks near 500 and nothing is dropped. Each request ends within 10 s.
  kube::ClientOptions client{10, 25, std::chrono::seconds(10)};
  EventCorrelatorOptions correlator;
  // How long stop() lets queued writes go out (SIGTERM must not wait for Events: best effort,
  // like every Event).
  std::chrono::milliseconds drain{250};
  // The Events' times (eventTime, series.lastObservedTime).
  std::function<WallTime()> wall_now = [] { return std::chrono::system_clock::now(); };
};

class EventRecorder {
 public:
  // Counters since start. Every emit() is one of: queued, coalesced (joined a queued write),
  // dropped_spam, dropped_queue_full, or (after stop()) part of dropped_shutdown.
  struct Stats {
    std::atomic<uint64_t> emitted{0};
    std::atomic<uint64_t> aggregated{0};  // joined an Event's series instead of starting one
    std::atomic<uint64_t> queued{0};      // writes accepted into the queue
    std::atomic<uint64_t> coalesced{0};
    std::atomic<uint64_t> dropped_spam{0};
    std::atomic<uint64_t> dropped_queue_full{0};
    std::atomic<uint64_t> dropped_shutdown{0};  // emitted after stop(), or queued at its deadline
    std::atomic<uint64_t> failed{0};            // writes the API server refused or never answered
    std::atomic<uint64_t> created{0};           // Events created
    std::atomic<uint64_t> series_updated{0};    // series PATCHes (a 404 fallback counts as created)
    std::atomic<uint64_t> forgotten{0};  // Events whose series finished, forgotten while idle
  };

  // `transport`: the one the caller's own client uses; the recorder builds its client over it.
  EventRecorder(std::shared_ptr<kube::HttpTransport> transport, EventRecorderOptions options,
                Clock& clock = SystemClock::instance());
  ~EventRecorder();
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  // `regarding` is the object (its apiVersion, kind, metadata.name/namespace/uid are used).
  // type: "Normal" | "Warning". The note is cut to 1 kB.
  void emit(const nlohmann::json& regarding, const std::string& type, const std::string& reason,
            const std::string& action, const std::string& note);
  // Stops for good (see the guarantees); emit() drops from now on. Idempotent.
  void stop();

  const Stats& stats() const { return stats_; }
  // Writes queued or being sent.
  size_t pending() const;
  // The recorder's families, named `prefix` + events_...: emitted, aggregated, sent, dropped,
  // pending.
  void write_metrics(MetricsWriter& w, const std::string& prefix) const;

 private:
  void run();
  // Sends one write; whether its Event exists on the server afterwards.
  bool send(const EventCorrelator::Write& write);

  EventRecorderOptions options_;
  Clock& clock_;
  kube::Client client_;
  Stats stats_;
  std::mutex stop_mu_;  // one stop() at a time
  mutable std::mutex mu_;
  std::condition_variable wake_;      // the sender: a write queued, or stop()
  std::condition_variable finished_;  // stop(): the sender is done
  EventCorrelator correlator_;
  bool sending_ = false;  // the sender holds a write taken from the correlator
  bool stopping_ = false;
  bool finished_sending_ = false;
  std::thread sender_;
};

}  // namespace tracing::runtime
