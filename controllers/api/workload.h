// The typed view of a Deployment the decision code reads, and the informer's projection of a
// Deployment down to what that view needs. Reading is total: whatever is malformed is skipped,
// never thrown on.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "controllers/api/json.h"
#include "controllers/api/managed_fields.h"
#include "controllers/api/selector.h"

namespace tracing::controllers {

// What the operator reads of a Deployment's annotations (metadata and pod template): its own
// (tracing.rollout.dev/*) and Dapr's (dapr.io/*). Others (kubectl's last-applied configuration
// alone is kilobytes) are dropped when reading.
bool is_read_annotation(std::string_view key);
// Env entries whose value the operator reads: the OpenTelemetry variables (OTEL_*). Of the others
// only the name is kept (their order matters to an exact revert, their values never do).
bool is_read_env_value(std::string_view name);

struct EnvVar {
  std::string name;
  json entry;  // the whole env entry as in the pod template: {"name","value"} or
               // {"name","valueFrom"}; {"name"} alone when !is_read_env_value(name)
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
  Labels annotations;           // metadata.annotations (is_read_annotation keys)
  Labels template_labels;       // spec.template.metadata.labels
  Labels template_annotations;  // spec.template.metadata.annotations (is_read_annotation keys)
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
// uid, resourceVersion, generation, labels, the annotations is_read_annotation() keeps (metadata
// and pod template), template labels, container names with their env (entries reduced to their
// name unless is_read_env_value()), the ownership facts of managedFields the Workload view keeps
// (owners_from_managed_fields), the replica counts of status and its Progressing condition's
// type, status and reason. Keeps the result a valid partial Deployment.
json project_deployment(json&& deployment);
// Reads a (projected or full) Deployment. The operator's bookkeeping annotations are kept only
// when managedFields show the operator's field manager owns them: anyone who can edit the
// Deployment can write them, and the finalizer and the revert act on them. Server-side apply
// guarantees an owned value is the one the operator applied (an update that changes a value
// takes its ownership), so ownership is the proof.
Workload workload_from_deployment(const json& deployment);

}  // namespace tracing::controllers
