// What the reconcilers share: the client, the informers' stores, the parsed policies, the work
// queues, and the injected wall clock.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <vector>

#include "controllers/api/policy.h"
#include "controllers/decision.h"
#include "controllers/override_guard.h"
#include "controllers/reconcilers/reports.h"
#include "operator/kube/client.h"
#include "operator/runtime/event_recorder.h"
#include "operator/runtime/informer.h"
#include "operator/runtime/work_queue.h"

namespace tracing::controllers {

// The outcome of one reconcile (kube-rs Action): done until something changes, or look again
// after a delay (a debug bump's expiry). Errors are returned separately and requeued with
// backoff.
struct Action {
  std::optional<std::chrono::milliseconds> requeue_after;
  // The object is gone: whatever look was scheduled for it earlier is dropped.
  bool gone = false;
  static Action await_change() { return {}; }
  static Action requeue(std::chrono::milliseconds d) { return {d}; }
  static Action object_gone() { return {std::nullopt, true}; }
};

// The TracingPolicies in force, kept in step with the policy informer (parsed once per change,
// not once per reconcile).
//
// Last known good (§4): an update whose spec the operator cannot use keeps the spec in force
// that the previous version of the same object (same uid) had, with Policy::spec_error saying
// why; nothing is reverted because of it. Without one (the first version this cache sees is
// invalid, e.g. right after the operator started) the policy is kept with spec_known false: it
// configures nothing new and holds the workloads it configured as they are (see candidates()).
// What is in force is known to this process only: a restart during an invalid spec starts
// from spec_known false.
class PolicyCache {
 public:
  void upsert(const json& object);
  void erase(const std::string& key);
  // Changes whenever the policies in force may have (what decisions read), not on a status
  // update that leaves them as they were.
  uint64_t version() const { return version_.load(); }
  // The policies that take part in decisions: carrying the operator's finalizer (a policy the
  // operator has not yet claimed with it configures nothing, so that every workload it
  // configures is reverted before it can disappear), including those without a spec in force.
  std::vector<std::shared_ptr<const Policy>> all() const;
  // The policy in force for `key` (nullptr when unknown or not a TracingPolicy at all).
  std::shared_ptr<const Policy> get(const std::string& key) const;
  // Why the current version of `key` cannot be used ("" if it can): its spec's parse error, or
  // why the object is no TracingPolicy at all.
  std::string error(const std::string& key) const;
  // A policy the operator has claimed but whose spec it has never been able to read (invalid
  // since this process started, no earlier spec kept): what it wants is unknown, so passes that
  // delete must not take its objects for unwanted. "" when there is none.
  std::string unknown_spec() const;

 private:
  std::atomic<uint64_t> version_{0};
  mutable std::shared_mutex mu_;
  std::map<std::string, std::shared_ptr<const Policy>> policies_;
  std::map<std::string, std::string> unreadable_;  // objects that are no TracingPolicy at all
  std::set<std::string> finalized_;
};

// Whether the API server serves Dapr's Configuration API, asked at most every 30 s (Dapr may be
// installed or removed while the operator runs; Manager asks again every 10 s).
class DaprDiscovery {
 public:
  explicit DaprDiscovery(kube::Client& client) : client_(client) {}
  bool served();
  // Asks now (on an error keeps the last answer).
  bool refresh();

 private:
  kube::Client& client_;
  std::mutex mu_;
  std::chrono::steady_clock::time_point checked_{};
  bool served_ = false;
};

// The Dapr Configurations, watched while the API server serves them: an informer whose store
// holds each one's configuration_view() (controllers/dapr.h), started when DaprDiscovery says
// served and stopped (its store dropped) when it says not. The Dapr pass reads the store instead
// of listing, and any change of what it reads brings the pass back (`on_change`), except the
// echo of the operator's own write.
//
// Echoes: after a create, apply, patch or delete the store shows the version written from until
// the write's watch event arrives. writing() before each write and wrote() (or not_written())
// after it record it; an event that arrives while the write is in flight is held back and
// counted as the echo if its version is the one written, else it brings the pass back. unechoed()
// names the objects whose write the store does not show yet, so that the pass decides nothing on
// them (it would create again, take its own object for someone else's, or release a finalizer an
// object still lists) and looks again shortly. An expectation the store never meets as written (a
// relist skipped the version) ends when the store moves past the version written from, or after
// 30 s.
class DaprConfigurations {
 public:
  DaprConfigurations(kube::Client& client, runtime::InformerOptions options,
                     std::function<void()> on_change);
  ~DaprConfigurations();
  // Starts the informer (served) or stops it and drops its store (not served). Idempotent,
  // thread-safe. Returns whether it changed anything.
  bool follow(bool served);
  // The informer while it runs (nullptr otherwise): its store, sync state and counters.
  std::shared_ptr<const runtime::Informer> informer() const;
  // The operator is about to write `key`, whose version is `from` ("": to create it) ...
  void writing(const std::string& key, const std::string& from);
  // ... and wrote it, to version `to` ("": it deleted it); or did not change it.
  void wrote(const std::string& key, const std::string& to);
  void not_written(const std::string& key);
  std::set<std::string> unechoed() const;

 private:
  struct Expectation {
    std::string from;
    std::optional<std::string> to;  // unknown while the write is in flight
    std::vector<std::string> held;  // versions of the events held back meanwhile
    std::chrono::steady_clock::time_point at;
  };
  // Ends the write of `key`; brings the pass back for events held back that were not its echo.
  void settle(const std::string& key, const std::optional<std::string>& to);
  // Whether the event leaving `now` (nullptr: deleted) in the store is the echo of the
  // operator's write of `key`; forgets expectations met or passed.
  bool is_echo(const std::string& key, const runtime::ObjectPtr& now);

  kube::Client& client_;
  runtime::InformerOptions options_;
  std::function<void()> on_change_;
  mutable std::mutex mu_;
  std::shared_ptr<runtime::Informer> informer_;
  mutable std::map<std::string, Expectation> expected_;
};

// Which Dapr Configuration names ("ns/name") are taken by someone else's Configuration — one
// without the operator's proof of creation (controllers/ownership.h) — as the Dapr pass last
// read them in DaprConfigurations' store; a name the user freed stays taken until the operator's
// own is created there. The operator points no workload at a taken name (§8): the decision reads
// this for every workload, so it is a lookup, not a request. Configurations are watched: a user
// freeing or taking a name brings the Dapr pass back at once.
class TakenDaprNames {
 public:
  enum class State {
    kUnknown,  // the Dapr pass has not read the Configurations yet (since this process started)
    kFree,     // absent, or the operator's own
    kTaken,    // someone else's
  };
  State state(const std::string& ns, const std::string& name) const;
  // Written by the Dapr pass only: the names taken now. Returns the names whose state changed
  // (every taken one on the first call).
  std::set<std::string> replace(std::set<std::string> taken);
  // Changes whenever a state() answer may have.
  uint64_t version() const { return version_.load(); }

 private:
  std::atomic<uint64_t> version_{0};
  mutable std::shared_mutex mu_;
  bool known_ = false;
  std::set<std::string> taken_;
};

using WorkloadInformer = runtime::BasicInformer<WorkloadRecord>;
using RecordPtr = runtime::Ptr<WorkloadRecord>;

// The workloads of every kind (one informer each) read as one store, by workload_key(). Lists
// hold Deployments, then StatefulSets, then DaemonSets, each kind in its store's key order.
class Workloads {
 public:
  Workloads(WorkloadInformer& deployments, WorkloadInformer& stateful_sets,
            WorkloadInformer& daemon_sets)
      : informers_{&deployments, &stateful_sets, &daemon_sets} {}
  WorkloadInformer& informer(WorkloadKind k) const { return *informers_[static_cast<int>(k)]; }
  RecordPtr get(const std::string& key) const;
  std::vector<RecordPtr> list() const;
  std::vector<RecordPtr> list_namespace(const std::string& ns) const;
  std::vector<std::string> keys() const;
  size_t size() const;

 private:
  WorkloadInformer* informers_[3];
};

struct Context {
  kube::Client& client;
  std::string root_namespace;
  std::function<WallTime()> now;
  runtime::EventRecorder& events;
  // Every workload but the operator's own (a managed Jaeger's Deployment), as records.
  const Workloads& workloads;
  runtime::Informer& policies;
  runtime::Informer& namespaces;
  PolicyCache& policy_cache;
  runtime::WorkQueue& workload_queue;
  runtime::WorkQueue& policy_queue;
  DaprDiscovery& dapr;
  DaprConfigurations& dapr_configs;
  // Written by the Jaeger and Dapr passes, read for the policies' status. Last, with defaults,
  // so that Context's aggregate initialization need not name them.
  PolicyReports reports{};
  // Written by the Dapr pass, read by the workload decisions.
  TakenDaprNames dapr_names{};
  // --max-concurrent-reverts: the revert budget of workloads whose governing policy sets no
  // rollout.maxConcurrent or is gone (0: no bound).
  int max_concurrent_reverts = 25;
  // Changes whenever a namespace's labels do (decisions read them).
  std::atomic<uint64_t> namespace_labels_version{0};
  // override fights backed off (--override-backoff is its base), read by the workload decisions.
  OverrideGuard overrides{};

  Labels namespace_labels(const std::string& ns) const;
  // A namespace being deleted takes no new objects: passes that create skip it.
  bool namespace_terminating(const std::string& ns) const;
  // Workloads a policy can reach: every one for a root policy, else its namespace's (of every
  // kind: the decision applies spec.kinds).
  std::vector<RecordPtr> workloads_in_scope(const Policy& p) const;
};

kube::Resource tracing_policies();
// apps/v1 deployments, statefulsets or daemonsets.
kube::Resource workload_resource(WorkloadKind kind);
// dapr.io/v1alpha1 configurations.
kube::Resource dapr_configurations();

}  // namespace tracing::controllers

namespace tracing::runtime {
extern template class BasicStore<controllers::WorkloadRecord>;
extern template class BasicInformer<controllers::WorkloadRecord>;
}  // namespace tracing::runtime

namespace tracing::controllers {}  // namespace tracing::controllers
