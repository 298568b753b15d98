// The typed view of a Deployment the decision code reads, and the informer's projection of a
// Deployment down to what that view needs. Reading is total: whatever is malformed is skipped,
// never thrown on.
#pragma once

#include <string>
#include <vector>

#include "controllers/api/json.h"
#include "controllers/api/managed_fields.h"
#include "controllers/api/selector.h"

namespace tracing::controllers {

struct EnvVar {
  std::string name;
  json entry;  // the whole env entry as in the pod template: {"name","value"} or
               // {"name","valueFrom"}
  bool operator==(const EnvVar& o) const { return name == o.name && entry == o.entry; }
};

struct Container {
  std::string name;
  std::vector<EnvVar> env;  // in the template's order
};

// Bookkeeping annotation on a workload that workload_from_deployment() did not trust: present,
// but not (or no longer) owned by the operator's field manager, so someone else wrote its value.
struct UntrustedAnnotation {
  std::string key;                    // e.g. tracing.rollout.dev/policies
  std::vector<std::string> managers;  // who owns it now ("" when managedFields name nobody)
};

// The typed view of a Deployment: exactly what the decision reads.
struct Workload {
  std::string ns;
  std::string name;
  std::string uid;
  Labels labels;                // metadata.labels
  Labels annotations;           // metadata.annotations
  Labels template_labels;       // spec.template.metadata.labels
  Labels template_annotations;  // spec.template.metadata.annotations
  std::vector<Container> containers;
  // From managedFields: for each container and env variable, the managers owning the entry's
  // value (f:value or f:valueFrom), e.g. {"app": {"LOG_LEVEL": {"kubectl-edit"}}}.
  // Also the owners of pod-template annotations (kTemplateAnnotationOwners) and of
  // metadata.annotations (kAnnotationOwners).
  EnvOwners env_owners;
  // The operator's bookkeeping annotations (policies, overridden-env, original-env-order) that
  // were present but not owned by the operator: they are left out of `annotations`, so nothing
  // acts on them (SPEC §4: tampered bookkeeping is reported, never replayed).
  std::vector<UntrustedAnnotation> untrusted;

  std::string key() const { return ns + "/" + name; }
};

// Reduces a Deployment to what the operator reads (the informer's projection): name, namespace,
// uid, resourceVersion, generation, labels, annotations, template labels and annotations,
// container names with their env, each manager's env ownership (not the rest of managedFields),
// the replica counts and conditions of status. Keeps the result a valid partial Deployment.
json project_deployment(json&& deployment);
// Reads a (projected or full) Deployment. The operator's bookkeeping annotations are kept only
// when managedFields show the operator's field manager owns them: anyone who can edit the
// Deployment can write them, and the finalizer and the revert act on them. Server-side apply
// guarantees an owned value is the one the operator applied (an update that changes a value
// takes its ownership), so ownership is the proof.
Workload workload_from_deployment(const json& deployment);

}  // namespace tracing::controllers
