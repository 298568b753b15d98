// The typed view of a Deployment the decision code reads (Workload), and the compact record the
// Deployment informer keeps of each Deployment, from which that view is made (DeploymentRecord).
// Reading is total: whatever is malformed is skipped, never thrown on.
#pragma once

#include <memory>
#include <span>
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
  bool operator==(const UntrustedAnnotation&) const = default;
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

// What the status of a Deployment says of its rollout (rollout_state() reads it).
struct DeploymentStatus {
  int64_t observed_generation = 0;
  int64_t replicas = 0;
  int64_t updated_replicas = 0;
  int64_t available_replicas = 0;
  bool progress_deadline_exceeded = false;  // condition Progressing, ProgressDeadlineExceeded
  bool operator==(const DeploymentStatus&) const = default;
};

// The Deployment informer's record: a Workload (workload_from_deployment(), bookkeeping trust
// included) plus what pacing reads, held compactly — repeated names (label and annotation keys,
// container and env names, field managers) interned, env entries the operator never reads kept
// as names only, OTEL_* values as strings. ~2 KiB for a Deployment of two containers and 20 env
// entries where its JSON DOM takes ~75 KiB, and ~11 KiB projected.
class DeploymentRecord {
 public:
  // An interned string: equal strings share one allocation while any record holds them.
  using Name = std::shared_ptr<const std::string>;

  std::string ns;
  std::string name;
  std::string uid;
  std::string resource_version;
  int64_t generation = 0;
  int64_t replicas = 1;   // spec.replicas (absent: 1)
  bool deleting = false;  // metadata.deletionTimestamp set
  DeploymentStatus status;

  std::string key() const { return ns + "/" + name; }
  // What an Event's `regarding` names: apiVersion, kind, namespace, name, uid.
  json reference() const;
  // The typed view, exactly as workload_from_deployment() read it from the object.
  Workload workload() const;
  // An annotation the view keeps (is_read_annotation and trusted), or nullptr.
  const std::string* annotation(std::string_view key) const;
  // Equal in everything but resourceVersion and status: a status-only update.
  bool same_but_status(const DeploymentRecord& o) const;
  // Equal in everything but resourceVersion, generation, status and the containers' env: what
  // the operator's own env writes change. Which Jaeger and Dapr Configuration a workload needs
  // is decided from the rest (labels, annotations, ownership), so such an update needs neither
  // pass.
  bool same_but_env(const DeploymentRecord& o) const;

 private:
  friend DeploymentRecord record_deployment(const json& deployment);
  struct Pair {
    Name key;
    std::string value;
    bool operator==(const Pair& o) const { return *key == *o.key && value == o.value; }
  };
  struct Env {  // an entry whose value is read (is_read_env_value)
    Name name;
    std::string value;                  // of a plain {"name","value"} entry
    std::shared_ptr<const json> entry;  // any other shape, whole
    bool operator==(const Env& o) const;
  };
  struct Box {
    Name name;
    std::vector<Name> env;    // every entry's name, in order
    std::vector<Env> values;  // the entries whose value is read, in order
    bool operator==(const Box& o) const;
  };
  struct Owned {  // env_owners: group (container or pseudo-container), key, managers
    Name group;
    Name key;
    std::vector<Name> managers;
    bool operator==(const Owned& o) const;
  };
  std::vector<Pair> labels_, annotations_, template_labels_, template_annotations_;
  std::vector<Box> containers_;
  std::vector<Owned> owners_;
  std::vector<UntrustedAnnotation> untrusted_;
};

// The informer's projection of a Deployment: its record.
DeploymentRecord record_deployment(const json& deployment);

// Whether the record can read the member of a Deployment at `path` (the keys from the
// Deployment's root down to it; array levels add none, as in the informer's field filters):
// whatever workload_from_deployment() and record_deployment() read is kept, so a Deployment
// parsed with only these members has the record of the whole object. What it drops is most of
// a Deployment: the last-applied-configuration annotation, other managers' fields, the pod
// spec but the containers' names and env, most of the status. The informer parses list pages
// and watch events with it, so no whole Deployment is ever built.
bool is_read_deployment_field(std::span<const std::string> path);

// Reads a Deployment. The operator's bookkeeping annotations are kept only
// when managedFields show the operator's field manager owns them: anyone who can edit the
// Deployment can write them, and the finalizer and the revert act on them. Server-side apply
// guarantees an owned value is the one the operator applied (an update that changes a value
// takes its ownership), so ownership is the proof.
Workload workload_from_deployment(const json& deployment);

}  // namespace tracing::controllers
