// What the operator decides, as pure functions of their inputs (no I/O, no clock reads: `now`
// is a parameter). Given the policies, a workload and its namespace's labels:
//   candidates()        which policies apply, most specific first (SPEC §3)
//   effective_config()  the field-wise merge of the candidates, debug bumps included (§3, §5)
//   desired_env()       the env entries to own in each container, and the conflicts (§4)
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "controllers/api/policy.h"
#include "controllers/api/time.h"
#include "controllers/api/workload.h"

namespace tracing::controllers {

// Specificity ranks, most specific first (§3).
enum class Rank {
  kNamespaceWithSelector = 0,
  kNamespaceWithoutSelector = 1,
  kRootWithSelector = 2,
  kRootWithoutSelector = 3,
};

struct Candidate {
  const Policy* policy;
  Rank rank;
};

// The policies that apply to `w` (in namespace with labels `ns_labels`), ordered most specific
// first; ties: higher priority, then smaller name. Root policies (in `root_ns`) apply
// cluster-wide, narrowed by namespaceSelector and selector; other policies only in their own
// namespace (their namespaceSelector ignored). Deleting policies are not candidates. A policy
// with no spec in force (Policy::spec_known false) is a candidate exactly for the workloads
// that list it in their policies annotation (those it configured), ranked as if it had no
// selector: it holds them (EffectiveConfig::unusable).
std::vector<Candidate> candidates(const Workload& w, const Labels& ns_labels,
                                  const std::vector<const Policy*>& policies,
                                  const std::string& root_ns);

// The candidates of a workload that `p` governs and that has only the labels p's selector
// requires (matchLabels), in a namespace with only the labels p's namespaceSelector requires
// (root policies: a namespace without policies of its own): p and the less specific policies
// that would fill in the field groups p leaves unset. What a policy's status reports when it
// governs no workload (§10). `policies` may hold p's own object or a copy of it (by key).
std::vector<Candidate> governed_candidates(const Policy& p, const Labels& ns_labels,
                                           const std::vector<const Policy*>& policies,
                                           const std::string& root_ns);

// Which candidate's value is in force for each field group (§3), most specific first: "ns/name"
// by group (containers, serviceName, exporter, sampling, propagators, override, dapr, jaeger,
// rollout; resourceAttributes: every candidate that sets any, comma-separated), "" where none
// sets it (the defaults apply). What `kubectl tracing why` shows; effective_config() merges by
// the same rule.
std::vector<std::pair<std::string, std::string>> field_sources(
    const std::vector<Candidate>& candidates);

// A debug bump's life (§5), as recorded in the governing policy's status.
struct DebugState {
  std::string policy;  // "ns/name" whose bump applies
  std::string ratio;
  WallTime expires_at;
  bool operator==(const DebugState&) const = default;
};

// The largest OTEL_RESOURCE_ATTRIBUTES the policies' attributes may add up to (after the
// operator's own k8s.* facts, at most 340 bytes more). The kernel refuses to start a process
// with a variable above 128 KiB (MAX_ARG_STRLEN); one policy stays below this by its schema
// (32 attributes, keys of 128 ASCII characters, values of 128 characters percent-encoded to at
// most 12 bytes each: 53,312 bytes), several merged might not.
inline constexpr size_t kMaxResourceAttributesBytes = 64 * 1024;

struct EffectiveConfig {
  // Non-empty when the candidates add up to nothing the operator can write: why, naming the
  // field and the policies. The workload is then kept exactly as it is (nothing configured,
  // nothing reverted) and its governing policy reports InvalidSpec. Cases: a candidate without
  // a spec in force (Policy::spec_known false); sampling mode remote without a sampling
  // endpoint (§8); resourceAttributes adding up to more than kMaxResourceAttributesBytes.
  std::string unusable;
  std::string governing;                               // "ns/name" of the most specific candidate
  std::vector<std::string> policies;                   // every candidate, most specific first
  std::optional<std::vector<std::string>> containers;  // absent = all
  std::optional<std::string> service_name_from_label;
  std::string endpoint;  // resolved: exporter.endpoint or the managed Jaeger's
  std::string protocol = "grpc";
  bool insecure = false;
  std::string mode = "restart";  // restart | remote
  // "ns/name" of the candidate whose spec.sampling group is in force (the most specific that
  // sets it); "" when none does (the defaults below apply).
  std::string sampling_policy;
  std::string sampler = "parentbased_traceidratio";  // the base sampler as configured
  std::string base_ratio = "1";                      // as written by the policy
  std::string remote_initial_ratio = "0.01";
  // The Jaeger the workload reports to (§8): jaeger.mode of the most specific candidate that
  // sets spec.jaeger, else managed when no candidate sets exporter.endpoint, else none.
  std::string jaeger_mode = "managed";  // managed | external | none
  std::string jaeger_namespace;         // where a managed Jaeger lives
  std::string jaeger_name = "jaeger";
  // gRPC sampling endpoint for remote mode: the managed Jaeger's jaeger-sampling Service, or
  // jaeger.samplingEndpoint (external); "" when there is none (remote mode is then invalid).
  std::string sampling_endpoint;
  std::vector<std::string> propagators = {"tracecontext", "baggage"};
  std::map<std::string, std::string> resource_attributes;  // merged key by key
  bool override_env = false;
  // spec.dapr of the most specific candidate that sets it (§7), raw.
  std::optional<json> dapr;
  // spec.rollout of the most specific candidate that sets it (§9), raw.
  std::optional<json> rollout;
  // The active whole-service debug bump with the highest ratio among all candidates, if any.
  std::optional<DebugState> debug;
  // Active per-operation bumps (§5 "one operation": spec.debug.operations), operation → the
  // bump with the highest ratio among the candidates' bumps that name it; an operation that
  // effective_ratio() samples at least as much is left out (a bump raises; the service's ratio
  // covers it).
  // Only remote mode serves them (Jaeger operation_strategies); in restart mode they apply to
  // nothing, and effective_ratio() never includes them.
  std::map<std::string, DebugState> operation_debug;
  // Earliest future instant at which this config changes by itself (a bump's expiry).
  std::optional<WallTime> next_change;

  // What the SDK should run with now: the debug ratio while a bump is active, else the base.
  std::string effective_ratio() const { return debug ? debug->ratio : base_ratio; }
  // Effective sampler: during a bump a sampler that takes no ratio becomes
  // parentbased_traceidratio so the bumped ratio means something.
  std::string effective_sampler() const;
  std::string ratio_source() const { return debug ? "debug" : "base"; }
  // The policy that decides effective_ratio(): the one whose bump is active, else
  // sampling_policy.
  const std::string& ratio_policy() const { return debug ? debug->policy : sampling_policy; }
  // Whether its ratios reach the SDKs through the sampling strategies the operator writes (§6):
  // remote mode with a Jaeger the operator manages. Per-operation bumps reach nothing otherwise.
  bool strategies_served() const { return mode == "remote" && jaeger_mode == "managed"; }
  bool operator==(const EffectiveConfig&) const = default;
};

// Merges the candidates field group by field group (§3): each of containers, serviceName,
// exporter, sampling, propagators, override comes from the most specific candidate that sets
// it; resourceAttributes merge key by key. A bump is active when the candidate's status records
// a start for its current debug spec and now < expires_at (an `until` in the past is never
// active); a bump that names operations goes to operation_debug, not debug. Returns nullopt when
// there are no candidates.
std::optional<EffectiveConfig> effective_config(const std::vector<Candidate>& candidates,
                                                WallTime now);

// What the root-namespace candidates of `candidates` alone add up to (effective_config() of
// those ranked kRootWithSelector or kRootWithoutSelector): what the cluster's policies give a
// workload without its own namespace's. nullopt when it has no root candidate.
std::optional<EffectiveConfig> root_effective_config(const std::vector<Candidate>& candidates,
                                                     WallTime now);

// When a policy's current debug spec starts and ends. `recorded` is the status's record; if it
// belongs to the same debug spec (hash) its start is kept, so an operator restart does not
// restart the clock; otherwise the bump starts at `now`. nullopt when the spec has no debug.
std::optional<DebugStatus> debug_status_for(const Policy& p, WallTime now);

struct Conflict {
  std::string container;
  std::string variable;
  std::string reason;  // e.g. "set by kubectl-edit"
};

struct DesiredEnv {
  // Per configured container, the entries the operator owns, in §4 table order.
  std::map<std::string, std::vector<EnvVar>> env;
  // Variables the workload sets itself that are left alone (override false).
  std::vector<Conflict> conflicts;
  // Entries override takes over, as they were before the operator touched them, with their
  // owner: {"container": {"VAR": {"entry": {...}, "manager": "kubectl"}}}. Already-recorded
  // originals (from the workload's overridden-env annotation) are carried forward unchanged.
  json overridden = json::object();
  // True when the apply must be forced (override takes at least one variable).
  bool force = false;
  // Variables override had taken over (an original is recorded) that another manager has taken
  // back since: it owns the value now, the operator does not, and the value differs from the
  // desired one. `reason` is that manager. The entries are in `env` (retaken) unless the
  // reconciler's back-off (override_guard.h) holds them.
  std::vector<Conflict> retaken;
  // Pod-template annotations the operator owns (§7: dapr.io/config when it points the workload
  // at the operator's Configuration, the Dapr tracing hash with restartOnChange).
  Labels template_annotations;
};

// The §4 table for every configured container of `w`. Every value is escaped for the kubelet's
// $(VAR) expansion (escape_env_value), so the container sees it exactly as the policy wrote it.
DesiredEnv desired_env(const EffectiveConfig& c, const Workload& w);

// An env value as the operator writes it: every '$' doubled. The kubelet expands `$(NAME)` in
// an env value from the container's earlier variables (Secret-backed ones included) and turns
// `$$` into `$` (k8s.io/kubernetes third_party/forked/golang/expansion), so the escaped value
// expands to exactly `value` and never to another variable's contents.
std::string escape_env_value(std::string_view value);

// The workload's overridden-env record (naming::kOverriddenAnnotation), keeping only what may be
// replayed: an original for a container the workload has, of a §4 variable, of the recorded shape
// ({"entry": {"name": VAR, and exactly one of "value" (string) or "valueFrom" (object with one
// known source)}, "manager": a field manager name of at most 128 printable characters, not the
// operator's own}). Anything else is dropped and described in `refused` (one line each, naming the
// workload, container and variable). The annotation itself is trusted only if the operator owns it
// (read_workload()).
json trusted_overrides(const Workload& w, std::vector<std::string>* refused = nullptr);

// OTEL_SERVICE_NAME: label named by fromLabel, else app.kubernetes.io/name, else app, else the
// workload name. Labels are looked up on the Deployment, then on its pod template.
std::string service_name(const EffectiveConfig& c, const Workload& w);

// OTEL_RESOURCE_ATTRIBUTES: k8s.namespace.name, k8s.deployment.name, then the policy's
// attributes sorted by key, "k=v" joined by ","; values percent-encoded as the OTel spec
// requires (W3C Baggage value encoding). Policy keys that collide with the k8s.* ones are
// dropped: the operator's facts win.
std::string resource_attributes(const EffectiveConfig& c, const Workload& w);

}  // namespace tracing::controllers
