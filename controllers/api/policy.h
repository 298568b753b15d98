// The TracingPolicy API (tracing.rollout.dev/v1alpha1, SPEC §2) as typed values, and the typed
// view of a Deployment the decision code reads. Parsing is total: the API server's schema has
// already refused what it can; whatever it cannot catch comes back as a parse error (shown in
// status as InvalidSpec), never as an exception.
#pragma once

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace tracing::controllers {

using json = nlohmann::json;
using WallTime = std::chrono::system_clock::time_point;
using Labels = std::map<std::string, std::string>;

// A Kubernetes label selector (matchLabels AND matchExpressions).
struct LabelRequirement {
  std::string key;
  std::string op;  // In | NotIn | Exists | DoesNotExist
  std::vector<std::string> values;
};

struct LabelSelector {
  Labels match_labels;
  std::vector<LabelRequirement> match_expressions;
  // An empty selector matches everything.
  bool matches(const Labels& labels) const;
  bool empty() const { return match_labels.empty() && match_expressions.empty(); }
};

struct Exporter {
  std::optional<std::string> endpoint;  // absent = the managed Jaeger (§8)
  std::optional<std::string> protocol;  // grpc | http/protobuf | http/json
  std::optional<bool> insecure;
};

struct Sampling {
  std::optional<std::string> sampler;  // the six OTel samplers
  std::optional<std::string> ratio;    // decimal string in [0,1], kept as written
  std::optional<std::string> mode;     // restart | remote
  std::optional<std::string> remote_initial_ratio;
};

struct Debug {
  std::string ratio;  // decimal string in [0,1]
  std::optional<std::chrono::seconds> duration;
  std::optional<WallTime> until;
  std::string reason;
  // Identifies this debug spec: a change of any field starts a new bump (§5).
  std::string hash;
};

struct PolicySpec {
  std::optional<LabelSelector> selector;            // absent = every workload in scope
  std::optional<LabelSelector> namespace_selector;  // honoured only in the root namespace
  int priority = 0;
  std::optional<std::vector<std::string>> containers;  // absent = all
  std::optional<std::string> service_name_from_label;
  std::optional<Exporter> exporter;
  std::optional<Sampling> sampling;
  std::optional<Debug> debug;
  std::optional<std::vector<std::string>> propagators;
  std::map<std::string, std::string> resource_attributes;
  std::optional<bool> override_env;  // spec.override
  // §7-§9 groups, kept raw until the issue that implements them.
  std::optional<json> dapr;
  std::optional<json> jaeger;
  std::optional<json> rollout;
};

// status.debug as the operator recorded it.
struct DebugStatus {
  std::string hash;  // Debug::hash of the spec this bump belongs to
  WallTime started_at;
  WallTime expires_at;
};

struct Policy {
  std::string ns;
  std::string name;
  std::string uid;
  int64_t generation = 0;
  bool deleting = false;  // metadata.deletionTimestamp is set
  PolicySpec spec;
  std::optional<DebugStatus> debug_status;

  // Last known good (§4). When the object's current spec cannot be used, `spec_error` says why
  // (naming the field) and `spec` is the last valid spec the operator saw for this object, still
  // in force; `spec_generation` is the generation it came from. When the operator never saw a
  // valid one (it started with the spec already invalid), `spec_known` is false and `spec` is
  // empty: the policy configures nothing and holds the workloads it had configured as they are.
  std::string spec_error;
  bool spec_known = true;
  int64_t spec_generation = 0;

  std::string key() const { return ns + "/" + name; }
};

// Parses a TracingPolicy object (as the API server returns it). The error names the field:
// "spec.debug.duration: \"90s\" must be between 1m and 24h".
struct ParseResult {
  std::optional<Policy> policy;
  std::string error;
};
ParseResult parse_policy(const json& object);

// The policy the operator acts on for `object` (§4 last known good): its parse when the spec is
// valid; otherwise `previous` (the policy in force for the same object, matched by uid, before
// this version) with this version's metadata and status and `spec_error` set; otherwise a policy
// with `spec_known` false. nullopt only when the object is no TracingPolicy at all (no name or
// namespace), with the reason in `error`.
std::optional<Policy> policy_in_force(const json& object, const Policy* previous,
                                      std::string* error = nullptr);

// Go-style duration ("15m", "1h30m", "90s", "1.5h") → seconds; nullopt when malformed.
std::optional<std::chrono::seconds> parse_duration(const std::string& text);
// RFC 3339 ("2026-11-26T12:00:00Z", "…+01:00", fractional seconds) → time; nullopt if malformed.
std::optional<WallTime> parse_rfc3339(const std::string& text);
std::string format_rfc3339(WallTime t);  // UTC, seconds precision: 2026-11-26T12:00:00Z

// ---- Workloads ------------------------------------------------------------------------------

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

// In Workload::env_owners, the pseudo-container holding the owners of pod-template annotations
// (container names are DNS labels, so none can collide with it).
inline constexpr const char* kTemplateAnnotationOwners = "@template-annotations";
// In Workload::env_owners, the pseudo-container holding the owners of metadata.annotations.
inline constexpr const char* kAnnotationOwners = "@annotations";

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
  std::map<std::string, std::map<std::string, std::set<std::string>>> env_owners;
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
