// The TracingPolicy API (tracing.rollout.dev/v1alpha1, SPEC §2) as typed values. Parsing is
// total: the API server's schema has already refused what it can; whatever it cannot catch comes
// back as a parse error (shown in status as InvalidSpec), never as an exception.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "controllers/api/json.h"
#include "controllers/api/selector.h"
#include "controllers/api/time.h"
#include "controllers/api/workload.h"

namespace tracing::controllers {

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
  // spec.debug.operations (§5 "one operation"): the span names the bump is limited to, in the
  // order written; empty: the whole service. Only remote mode can serve them.
  std::vector<std::string> operations;
  // Identifies this debug spec: a change of any field starts a new bump (§5).
  std::string hash;
};

// The bounds of spec.debug.operations (the CRD's maxItems and maxLength).
inline constexpr size_t kMaxDebugOperations = 16;
inline constexpr size_t kMaxOperationNameLength = 256;

// status.debug.scope, the Debug-Scope printer column: "service" for a whole-service bump, else
// the first operation (cut to 40 bytes at a character boundary, "..." marking the cut) and how
// many more, "POST /tasks (+2)", so `kubectl get tp` stays one readable line;
// status.debug.operations lists them all.
std::string debug_scope(const std::vector<std::string>& operations);

struct PolicySpec {
  std::optional<LabelSelector> selector;            // absent = every workload in scope
  std::optional<LabelSelector> namespace_selector;  // honoured only in the root namespace
  int priority = 0;
  // spec.kinds: the kinds of workload the policy selects (absent: all three).
  std::vector<WorkloadKind> kinds{std::begin(kWorkloadKinds), std::end(kWorkloadKinds)};
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

}  // namespace tracing::controllers
