// The per-Deployment reconcile: the unit of desired state is the workload.
//
// Contract:
// - level-triggered: reads the Deployment, every policy and its namespace's labels from the
//   informers, computes the desired env (pure), and server-side-applies it with field manager
//   tracing-operator; when the Deployment already carries it, sends nothing;
// - a workload no policy selects (or opted out) that the operator has touched is reverted: the
//   entries `override` replaced are restored to their original values and owners first, then an
//   empty apply releases (and so removes) every entry only the operator owned. The pod template
//   ends up with the env it had before: same entries, values and order;
// - while a debug bump is active it asks to be requeued at the bump's expiry.
#pragma once

#include "controllers/reconcilers/context.h"

namespace tracing::controllers {

class WorkloadReconciler {
 public:
  explicit WorkloadReconciler(Context& ctx) : ctx_(ctx) {}
  kube::Result<Action> reconcile(const std::string& key);

  // The decision for one workload as this reconciler would make it now (for status).
  struct Decision {
    bool opted_out = false;                 // annotation tracing.rollout.dev/inject: "false"
    std::optional<EffectiveConfig> config;  // what the candidates say (also when opted out)
    DesiredEnv desired;                     // empty when opted out
  };
  Decision decide(const Workload& w) const;

 private:
  kube::Status revert(const Workload& w);
  Context& ctx_;
};

}  // namespace tracing::controllers
