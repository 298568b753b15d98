// Dapr tracing Configurations (§7), for every Dapr-enabled workload at once.
//
// Contract:
// - a workload that names its own Configuration (dapr.io/config) gets spec.tracing of that
//   Configuration taken over by a forced server-side apply of only those fields; what was there
//   before is recorded first (annotation tracing.rollout.dev/previous-tracing, carried on every
//   apply) and put back, owner and all, when no workload wants the takeover any more;
// - the previous settings are replayed (or carried into later applies) only when the record is
//   the operator's own, written by its field manager and of the recorded shape; otherwise nothing
//   is written to that Configuration and the policies report UntrustedRecord;
// - any other Dapr-enabled workload reads the operator's own Configuration (spec.dapr.
//   configurationName, default "tracing") in its namespace, created here (only where the name is
//   free), updated while it carries the operator's proof of creation (controllers/ownership.h),
//   and deleted when no workload uses it; a user's Configuration of that name is never written or
//   deleted, nor are workloads pointed at it (Context::dapr_names, published by every pass): the
//   policies report NameConflict until the user's goes (its watch event). Policies listed as
//   its owners hold the finalizer tracing.rollout.dev/dapr-configuration until none of the
//   operator's Configurations lists them;
// - reads the Configurations from their informer's store (Context::dapr_configs), never by a
//   LIST; decides nothing on a Configuration whose write by the operator the store does not show
//   yet, and releases no finalizer meanwhile (it looks again in 200 ms);
// - writes only what differs; without the Dapr API nothing is written (policies report
//   DaprUnavailable); a pass runs on every change of what it reads (a workload's decision, a
//   Configuration's tracing, proof or record — the operator's own writes coming back excepted),
//   when a debug bump changes a samplingRate, on Dapr's API appearing or going, and on the
//   operator's --resync-period.
#pragma once

#include "controllers/reconcilers/context.h"
#include "controllers/reconcilers/workload_reconciler.h"

namespace tracing::controllers {

class DaprReconciler {
 public:
  DaprReconciler(Context& ctx, const WorkloadReconciler& workloads)
      : ctx_(ctx), workloads_(workloads) {}
  kube::Result<Action> reconcile(const std::string& key);
  // Publishes the names taken (Context::dapr_names) from the Configurations' store, so that the
  // workload decisions know them from their first reconcile: called once, before the workers
  // start. When the store has not synced they stay unknown until the first pass (a workload keeps
  // what it has).
  void publish_taken_names();

 private:
  Context& ctx_;
  const WorkloadReconciler& workloads_;
  // Referenced Configurations taken over → the policies that governed the workloads naming them,
  // to report an untrusted record to when giving back (this process's memory only).
  std::map<std::string, std::set<std::string>> took_over_;
  // Untrusted records already told in an Event ("ns/name: why"), so each is told once.
  std::set<std::string> untrusted_;
  // Reports logged in the last pass: each is logged when it appears, not on every pass.
  std::set<std::string> logged_;
  // Context::dapr_names as this pass last published it, and whether it has since this process
  // started.
  std::set<std::string> taken_;
  bool published_ = false;
};

}  // namespace tracing::controllers
