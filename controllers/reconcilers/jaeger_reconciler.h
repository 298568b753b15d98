// The managed Jaegers (§8) and their remote-sampling strategies (§6).
//
// Contract:
// - one reconcile covers every managed Jaeger: the instances wanted are those the workloads'
//   effective configs report to (jaeger mode managed) plus those a policy asks for explicitly
//   (spec.jaeger.mode: managed);
// - each wanted instance gets its ConfigMaps, Deployment and Services: created (POST) where the
//   name is free, updated by server-side apply only when the live object differs from the intent
//   (so it is repaired after drift or deletion, and a converged cluster sees no write);
//   instances no longer wanted are deleted;
// - ownership (SPEC §8, controllers/ownership.h): it writes and deletes only objects that carry
//   the operator's proof of creation; a name held by any other object is left untouched and
//   reported to the owning policies as NameConflict (PolicyReports, source "jaeger"). Owning
//   policies hold the finalizer tracing.rollout.dev/managed-jaeger until nothing lists them;
// - the strategies ConfigMap carries, per service in remote mode, its effective ratio (debug
//   bumps included), as served_ratios() (controllers/strategies.h) rules per instance: a ratio
//   decided by a policy outside the root namespace counts only while every workload of that
//   service name on the instance is in that policy's namespace, otherwise the workload
//   contributes what its root policies alone give it and the policy is reported
//   SharedServiceName (PolicyReports, source "jaeger"); among what counts the higher ratio wins
//   (logged). Ratio changes and bumps in remote mode change only this ConfigMap;
// - requeues itself at the next bump expiry that changes a strategy.
#pragma once

#include "controllers/reconcilers/context.h"
#include "controllers/reconcilers/workload_reconciler.h"

namespace tracing::controllers {

// Objects the operator manages carry this label (selects the informers' content).
inline constexpr const char* kManagedBySelector = "app.kubernetes.io/managed-by=tracing-operator";
// Every other Deployment (a label selector `!=` also matches objects without the label): the
// workloads.
inline constexpr const char* kNotManagedBySelector =
    "app.kubernetes.io/managed-by!=tracing-operator";

class JaegerReconciler {
 public:
  JaegerReconciler(Context& ctx, const WorkloadReconciler& workloads,
                   runtime::Informer& config_maps, runtime::Informer& services,
                   runtime::Informer& deployments)
      : ctx_(ctx),
        workloads_(workloads),
        config_maps_(config_maps),
        services_(services),
        deployments_(deployments) {}
  kube::Result<Action> reconcile(const std::string& key);

 private:
  // The policy uids listed by managed Jaeger objects that carry the proof, read from the API
  // server (not the stores, which may not show this pass's deletions or creations yet).
  kube::Result<std::set<std::string>> owners_listed(const std::set<std::string>& uids);

  Context& ctx_;
  const WorkloadReconciler& workloads_;
  runtime::Informer& config_maps_;
  runtime::Informer& services_;
  runtime::Informer& deployments_;  // only the operator's own (managed-by label), whole
  // Objects with the operator's label but without its proof, already logged (once each).
  std::set<std::string> not_ours_;
  // NameConflicts and SharedServiceName refusals logged in the last pass: each is logged when it
  // appears, not on every pass.
  std::set<std::string> logged_;
};

// Whether an object carries the operator's managed-by label (a Deployment that does is never a
// workload). A label is not proof of creation: see ownership_of().
bool managed_by_operator(const json& object);

}  // namespace tracing::controllers
