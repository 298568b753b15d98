// Wires the operator together: informers (TracingPolicies; Deployments, StatefulSets and
// DaemonSets projected to what the decision reads; Namespaces' labels; the operator's own
// objects), the work queues (workloads, policies, cluster passes), the reconcilers and their
// workers.
//
// Contract: start() returns once every informer has synced, so the first decisions see the
// whole cluster; stop() drops the queued work, lets in-flight reconciles finish (for at most
// shutdown_grace), lets queued Events go out (for at most a second), then shuts the client down
// for good and stops the informers (SIGTERM: finish in-flight work, exit 0, within seconds
// however long the queues).
#pragma once

#include <memory>
#include <thread>
#include <vector>

#include "controllers/reconcilers/context.h"
#include "controllers/reconcilers/dapr_reconciler.h"
#include "controllers/reconcilers/jaeger_reconciler.h"
#include "controllers/reconcilers/policy_reconciler.h"
#include "controllers/reconcilers/workload_reconciler.h"
#include "operator/runtime/controller.h"
#include "operator/runtime/metrics.h"

namespace tracing::controllers {

struct ManagerOptions {
  std::string root_namespace = "tracing-system";
  int workers = 4;
  std::string instance = "tracing-operator";
  std::function<WallTime()> now = [] { return std::chrono::system_clock::now(); };
  // How long stop() lets running reconciles finish before abandoning their requests.
  std::chrono::milliseconds shutdown_grace{5000};
  // /healthz fails when a reconcile or an informer loop is stuck this long.
  std::chrono::milliseconds health_stall_after{std::chrono::minutes(15)};
  // Every this often, everything is queued again (0: never).
  std::chrono::milliseconds resync_period{std::chrono::minutes(10)};
  // Context::max_concurrent_reverts (--max-concurrent-reverts).
  int max_concurrent_reverts = 25;
  // The first back-off of an override fight (--override-backoff, override_guard.h).
  std::chrono::milliseconds override_backoff = std::chrono::seconds(30);
  // Each status pass also counts every workload afresh and logs "status tally mismatch" when
  // that differs from the tally it keeps (status_tally.h; the tests set it).
  bool verify_status_tally = false;
};

class Manager {
 public:
  Manager(kube::Client& client, ManagerOptions options);
  ~Manager();
  // Starts informers and waits for their first list (retrying while the API server or the CRD
  // is missing, until `timeout`, or until `cancelled` says so), then, unless `with_workers` is
  // false (a standby: caches warm, no writes), starts the workers.
  kube::Status start(
      std::chrono::seconds timeout = std::chrono::seconds(120), bool with_workers = true,
      const std::function<bool()>& cancelled = [] { return false; });
  // Starts the workers: from now on this process writes (the leader). Once only; ignored after
  // stop().
  void start_workers();
  void stop();

  uint64_t reconciles() const {
    return workload_controller_.reconciles() + policy_controller_.reconciles() +
           cluster_controller_.reconciles();
  }
  // A counter of all the operator does: reconciles, the informers' lists and watch events, the
  // Event writes and the Events forgotten (what main's HeapTrimmer waits to stand still). Not the
  // watches' bookmarks: the API server sends each watch one a minute while anything writes to its
  // resource, and counted as work they had an idle operator trim its heap up to several times a
  // minute (README, Benchmarks: "the heap trimmed").
  uint64_t activity() const;
  // /readyz: every informer synced and its last list or watch succeeded.
  bool ready() const;
  // /healthz: "" when healthy, else what is wedged: a reconcile running, or an informer loop
  // without progress, for longer than health_stall_after (its watches end within two thirds of
  // that, + 15 s idle timeout at most, so a live loop always moves in time).
  std::string unhealthy() const;
  // The least delay before a reconcile that failed with a non-retryable error runs again.
  static constexpr std::chrono::minutes kTerminalRetry{1};
  // Prometheus text exposition (/metrics).
  std::string metrics() const;

 private:
  void enqueue_workloads_of(const json& policy);
  void enqueue_policies_for_namespace(const std::string& ns);
  void enqueue_cluster();
  void enqueue_dapr();
  // Every informer, by the name /metrics and /healthz give it (managed-deployments: the
  // operator's own Deployments; configmaps and services are only the operator's own too).
  // The Dapr Configurations' ("dapr-configurations") only while Dapr's API is served.
  std::vector<std::pair<std::string, std::shared_ptr<const runtime::InformerBase>>> informers()
      const;
  // Asks whether Dapr's API is served, and on a change starts or stops the Configurations'
  // informer and brings back every workload, policy and pass (their decisions read it).
  void check_dapr_api();

  kube::Client& client_;
  ManagerOptions options_;
  runtime::EventRecorder events_;  // its own client, over client_'s transport
  PolicyCache cache_;
  // Every workload but the operator's own, as records: one informer per kind.
  WorkloadInformer deployments_;
  WorkloadInformer stateful_sets_;
  WorkloadInformer daemon_sets_;
  Workloads workloads_;
  runtime::Informer managed_deployments_;  // only the operator's own (managed Jaeger), whole
  runtime::Informer policies_;
  runtime::Informer namespaces_;
  runtime::Informer config_maps_;  // only the operator's own (managed Jaeger)
  runtime::Informer services_;     // only the operator's own (managed Jaeger)
  runtime::WorkQueue workload_queue_;
  runtime::WorkQueue policy_queue_;
  // Passes over the whole cluster: key "jaeger" (every managed Jaeger), key "dapr" (every Dapr
  // Configuration).
  runtime::WorkQueue cluster_queue_;
  DaprDiscovery dapr_discovery_;
  // Dapr Configurations, watched while Dapr's API is served (asked every 10 s by dapr_api_).
  DaprConfigurations dapr_configs_;
  Context ctx_;
  WorkloadReconciler workload_reconciler_;
  PolicyReconciler policy_reconciler_;
  JaegerReconciler jaeger_reconciler_;
  DaprReconciler dapr_reconciler_;
  // The worker loops of the three queues: `workers` workload reconciles at once, one policy
  // reconcile, one cluster pass.
  runtime::Controller workload_controller_;
  runtime::Controller policy_controller_;
  runtime::Controller cluster_controller_;
  std::vector<std::thread> workers_;
  std::mutex lifecycle_mu_;  // start_workers() against stop()
  std::thread resync_;
  std::thread dapr_api_;  // check_dapr_api() every 10 s, from start() to stop()
  std::mutex resync_mu_;
  std::condition_variable resync_cv_;
  bool resync_stop_ = false;
  bool stopped_ = false;
};

}  // namespace tracing::controllers
