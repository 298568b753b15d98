// The server-side-apply intent for a workload, and whether the workload already carries it.
// Pure: the reconciler sends what this builds, and sends nothing when up_to_date() holds.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "controllers/decision.h"

namespace tracing::controllers {

// The partial Deployment the operator applies with field manager tracing-operator: the env
// entries it owns in each configured container, and its bookkeeping annotations (the candidate
// policies; the originals `override` replaced). Everything the operator owned before and is not
// in here is released by the apply — that is how entries are removed.
json apply_intent(const Workload& w, const DesiredEnv& desired,
                  const std::vector<std::string>& policies);

// The intent that releases everything: applied after originals are restored, it removes every
// env entry only the operator owned and its annotations.
json release_intent(const Workload& w);

// Whether the workload already is exactly what apply_intent() would make it: the operator owns
// exactly the desired entries in each container, with the desired values, and its annotations
// match. When true, no request is needed.
bool up_to_date(const Workload& w, const DesiredEnv& desired,
                const std::vector<std::string>& policies);

// The pod-template half of up_to_date(): the env entries and template annotations. A workload
// that is not template_up_to_date() rolls its pods when the intent is applied (§9 paces that).
bool template_up_to_date(const Workload& w, const DesiredEnv& desired);

// A workload's rollout as `kubectl rollout status` judges its kind (k8s.io/kubectl
// polymorphichelpers/rollout_status.go): a Deployment by its updated, old and available
// replicas and its progress deadline; a StatefulSet by its ready replicas and, with a
// rollingUpdate, the updated replicas above its partition, else its revisions; a DaemonSet by its
// updated and available pods against the desired. Each waits for observedGeneration first. An
// OnDelete StatefulSet or DaemonSet is complete (kubectl: "only available for RollingUpdate",
// done): a template change restarts none of its pods.
enum class RolloutState { kComplete, kRolling, kFailed /* ProgressDeadlineExceeded */ };
RolloutState rollout_state(const WorkloadRecord& workload);
RolloutState rollout_state(const json& workload, WorkloadKind kind = WorkloadKind::kDeployment);

// Whether the operator owns anything in the workload (env entries or annotations): a workload
// that no policy selects needs a revert only then.
bool touched_by_operator(const Workload& w);

// Strategic-merge patches that put back the entries `override` replaced, one per original
// manager (so each value returns to the manager that owned it). From the workload's
// overridden-env annotation, as trusted_overrides() validates it (what it refuses is added to
// `refused` and not restored). An entry the operator no longer owns is not restored either:
// someone set it since, and their value stays.
struct RestorePatch {
  std::string manager;  // "" when the owner was unknown
  json patch;
};
std::vector<RestorePatch> restore_patches(const Workload& w,
                                          std::vector<std::string>* refused = nullptr);

// After a revert: a JSON Patch that puts the env entries of `deployment` (a full Deployment, as
// the last write returned it) back in the order recorded in its original-env-order annotation,
// guarded by a test of its resourceVersion. nullopt when the order is already right.
std::optional<json> reorder_patch(const json& deployment, const std::string& recorded_order);

// Whether every field `desired` sets has the same value in `live` (objects: key by key,
// recursively; arrays: same length, element by element; scalars: equal). Fields the API server
// added (defaults, status, metadata) do not matter. An object the operator applies whole is
// current — no write needed — exactly when its intent is a subset of the live object.
bool json_subset(const json& desired, const json& live);

// The candidate policies as written in the policies annotation.
std::string join_policies(const std::vector<std::string>& policies);

}  // namespace tracing::controllers
