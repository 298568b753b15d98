// The bookkeeping the operator reads back from Deployments: the input is a Deployment as JSON,
// read as the informer does (record_workload) and as a full object, then everything that
// acts on its bookkeeping annotations (policies, overridden-env, original-env-order) and
// managedFields: read_workload, trusted_overrides, restore_patches, reorder_patch,
// rollout_state. Checks: nothing throws or crashes; the record reads what the full object says,
// also when parsed with the informer's field filter.
//
// Inputs are held to what the API server guarantees of an apps/v1 Deployment (every field the
// operator reads has its schema's type: kDeploymentSchema); within that, anything goes — the
// bookkeeping annotations are free text anyone who can edit the Deployment can write, and
// managedFields entries are whatever other managers' writes left.
#include "controllers/api/workload.h"
#include "controllers/apply_intent.h"
#include "controllers/decision.h"
#include "controllers/naming.h"
#include "operator/kube/json_filter.h"
#include "tests/fuzz/fuzz_json.h"

namespace {

using namespace tracing::controllers;

const json& deployment_schema() {
  static const json schema = [] {
    json s = json::parse(R"({
      "apiVersion": "string", "kind": "string",
      "spec": {
        "replicas": "integer", "progressDeadlineSeconds": "integer", "paused": "boolean",
        "template": {
          "metadata": {"labels": {"*": "string"}, "annotations": {"*": "string"}},
          "spec": {"containers": [{"name": "string", "image": "string", "env": [
            {"name": "string", "value": "string", "valueFrom": "object"}]}]}}},
      "status": {
        "observedGeneration": "integer", "replicas": "integer", "updatedReplicas": "integer",
        "readyReplicas": "integer", "availableReplicas": "integer",
        "unavailableReplicas": "integer",
        "conditions": [{"type": "string", "status": "string", "reason": "string",
                        "message": "string"}]}})");
    s["metadata"] = tracing::fuzz::object_meta_schema();
    return s;
  }();
  return schema;
}

void read_bookkeeping(const json& deployment) {
  const Workload w = read_workload(deployment);
  std::vector<std::string> refused;
  (void)trusted_overrides(w, &refused).dump();
  for (const RestorePatch& p : restore_patches(w, &refused)) (void)p.patch.dump();
  (void)touched_by_operator(w);
  (void)rollout_state(deployment);
  if (auto it = w.annotations.find(tracing::naming::kOriginalOrderAnnotation);
      it != w.annotations.end()) {
    if (auto patch = reorder_patch(deployment, it->second)) (void)patch->dump();
  }
}

// Env names in order, per container: what a record keeps of every entry.
std::vector<std::pair<std::string, std::vector<std::string>>> env_names(const Workload& w) {
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (const Container& c : w.containers) {
    out.emplace_back(c.name, std::vector<std::string>{});
    for (const EnvVar& v : c.env) out.back().second.push_back(v.name);
  }
  return out;
}

// As a full object, and as the informer's record of it, which must read the same (an independent
// oracle: read_workload reads the whole object, the record only what it keeps).
void read_all(const json& deployment) {
  read_bookkeeping(deployment);
  const WorkloadRecord r = record_workload(deployment);
  const Workload full = read_workload(deployment);
  const Workload w = r.workload();
  FUZZ_CHECK(w.key() == full.key() && w.uid == full.uid);
  FUZZ_CHECK(w.labels == full.labels && w.annotations == full.annotations);
  FUZZ_CHECK(w.template_labels == full.template_labels);
  FUZZ_CHECK(w.template_annotations == full.template_annotations);
  FUZZ_CHECK(w.env_owners == full.env_owners && w.untrusted == full.untrusted);
  FUZZ_CHECK(env_names(w) == env_names(full));
  FUZZ_CHECK(rollout_state(r) == rollout_state(deployment));
  FUZZ_CHECK(r.same_but_status(r) && r.same_but_env(r));
  // Parsed as the informer parses it (only what is_read_workload_field keeps), the record is
  // the same: the filter drops nothing the record reads.
  const WorkloadRecord f = record_workload(
      tracing::kube::parse_filtered(deployment.dump(), {{}, is_read_workload_field, nullptr}));
  FUZZ_CHECK(f.same_but_status(r) && f.status == r.status);
  FUZZ_CHECK(f.resource_version == r.resource_version && f.generation == r.generation);
  FUZZ_CHECK(f.workload().untrusted == full.untrusted);
  // Read as each kind (list items do not say theirs), the record keeps the same view.
  for (WorkloadKind kind : kWorkloadKinds) {
    const WorkloadRecord k = record_workload(deployment, kind);
    const Workload kw = k.workload();
    FUZZ_CHECK(kw.kind == kind && kw.key() == read_workload(deployment, kind).key());
    FUZZ_CHECK(rollout_state(k) == rollout_state(deployment, kind));
    const WorkloadRecord kf = record_workload(
        tracing::kube::parse_filtered(deployment.dump(), {{}, is_read_workload_field, nullptr}),
        kind);
    FUZZ_CHECK(kf.same_but_status(k) && kf.status == k.status);
    FUZZ_CHECK(kf.on_delete == k.on_delete && kf.partition == k.partition);
  }
  std::vector<std::string> refused;
  (void)trusted_overrides(w, &refused).dump();
  for (const RestorePatch& p : restore_patches(w, &refused)) (void)p.patch.dump();
  (void)touched_by_operator(w);
  (void)r.annotation(tracing::naming::kPoliciesAnnotation);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto deployment = tracing::fuzz::parse_json(data, size);
  if (!deployment || !tracing::fuzz::matches(*deployment, deployment_schema())) return 0;
  read_all(*deployment);
  // The same object with one field of another type, where the schema allows it.
  const size_t hash = tracing::fuzz::input_hash(data, size);
  auto variant = tracing::fuzz::type_variant(*deployment, hash);
  if (variant && tracing::fuzz::matches(*variant, deployment_schema())) read_all(*variant);
  // And the JSON records of the bookkeeping annotations, one field of another type.
  if (deployment->contains("metadata") && (*deployment)["metadata"].contains("annotations")) {
    for (const char* key :
         {tracing::naming::kOverriddenAnnotation, tracing::naming::kOriginalOrderAnnotation}) {
      const json& annotations = (*deployment)["metadata"]["annotations"];
      auto it = annotations.find(key);
      if (it == annotations.end()) continue;
      auto record = json::parse(it->get<std::string>(), nullptr, /*allow_exceptions=*/false);
      if (auto r = tracing::fuzz::type_variant(record, hash)) {
        json copy = *deployment;
        copy["metadata"]["annotations"][key] = r->dump();
        read_all(copy);
      }
    }
  }
  return 0;
}
