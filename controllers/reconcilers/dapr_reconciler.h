// Dapr tracing Configurations (§7), for every Dapr-enabled workload at once.
//
// Contract:
// - a workload that names its own Configuration (dapr.io/config) gets spec.tracing of that
//   Configuration taken over by a forced server-side apply of only those fields; what was there
//   before is recorded first (annotation tracing.rollout.dev/previous-tracing, carried on every
//   apply) and put back, owner and all, when no workload wants the takeover any more;
// - any other Dapr-enabled workload reads the operator's own Configuration (spec.dapr.
//   configurationName, default "tracing") in its namespace, created and updated here and
//   deleted when no workload uses it;
// - writes only what differs; without the Dapr API nothing is written (policies report
//   DaprUnavailable); a pass runs on every relevant change and at least once a minute, since
//   Configurations are not watched.
#pragma once

#include "controllers/reconcilers/context.h"
#include "controllers/reconcilers/workload_reconciler.h"

namespace tracing::controllers {

class DaprReconciler {
 public:
  DaprReconciler(Context& ctx, const WorkloadReconciler& workloads)
      : ctx_(ctx), workloads_(workloads) {}
  kube::Result<Action> reconcile(const std::string& key);

 private:
  Context& ctx_;
  const WorkloadReconciler& workloads_;
};

kube::Resource dapr_configurations();

}  // namespace tracing::controllers
