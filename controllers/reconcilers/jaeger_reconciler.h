// The managed Jaegers (§8) and their remote-sampling strategies (§6).
//
// Contract:
// - one reconcile covers every managed Jaeger: the instances wanted are those the workloads'
//   effective configs report to (jaeger mode managed) plus those a policy asks for explicitly
//   (spec.jaeger.mode: managed);
// - each wanted instance gets its ConfigMaps, Deployment and Services by server-side apply,
//   written only when the live object differs from the intent (so it is repaired after drift or
//   deletion, and a converged cluster sees no write); instances no longer wanted are deleted;
// - the strategies ConfigMap carries, per service in remote mode, its effective ratio (debug
//   bumps included; two workloads with one service name and different ratios: the higher wins,
//   reported); ratio changes and bumps in remote mode change only this ConfigMap;
// - requeues itself at the next bump expiry that changes a strategy.
#pragma once

#include "controllers/reconcilers/context.h"
#include "controllers/reconcilers/workload_reconciler.h"

namespace tracing::controllers {

// Objects the operator manages carry this label (selects the informers' content).
inline constexpr const char* kManagedBySelector = "app.kubernetes.io/managed-by=tracing-operator";

class JaegerReconciler {
 public:
  JaegerReconciler(Context& ctx, const WorkloadReconciler& workloads,
                   runtime::Informer& config_maps, runtime::Informer& services)
      : ctx_(ctx), workloads_(workloads), config_maps_(config_maps), services_(services) {}
  kube::Result<Action> reconcile(const std::string& key);

 private:
  Context& ctx_;
  const WorkloadReconciler& workloads_;
  runtime::Informer& config_maps_;
  runtime::Informer& services_;
};

// Whether a Deployment is one of the operator's own (a managed Jaeger): never a workload.
bool managed_by_operator(const json& object);

}  // namespace tracing::controllers
