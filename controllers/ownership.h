// Proof of creation (SPEC §8 "Ownership"), as pure functions: the operator creates, updates and
// deletes only objects that carry its proof; an object of the same name without it is someone
// else's and is never written (the policy reports NameConflict instead).
//
// The proof, stamped on every object the operator creates (a managed Jaeger's objects, its own
// Dapr Configurations):
//   label      app.kubernetes.io/managed-by: tracing-operator
//   annotation tracing.rollout.dev/owners:
//              {"object":"ConfigMap observability/jaeger-config","policies":["<uid>","<uid>"]}
//
// - "policies": the uids of every TracingPolicy the object is kept for, sorted, rewritten when
//   that set changes. One managed Jaeger or one Dapr Configuration may serve several policies
//   (a root policy and the namespace policies that only tune sampling; every policy governing a
//   workload of the namespace); listing them all means the object stays provably the operator's
//   as long as any of them exists, and no policy's deletion orphans what another still uses.
// - "object": the object itself (Kind namespace/name), so a copy made elsewhere from the
//   operator's object (kubectl get -o yaml, edit the name or namespace, apply) is not the
//   operator's: its annotation names another object.
//
// A label alone proves nothing (anyone may add it, and Helm charts do). The annotation is much
// harder to come by accidentally, and it is checked against the cluster: at least one uid it
// lists must be a TracingPolicy that exists now. Deleting policies count: the Jaeger and Dapr
// passes hold a finalizer (naming::kJaegerFinalizer, kDaprFinalizer) on every policy they list,
// so the objects are deleted, or handed to the remaining owners, while that uid still exists.
// Caveat: objects created by an operator version before this proof carry only the label; they
// are reported as NameConflict like any other object, and deleting them lets the operator
// create its own.
#pragma once

#include <set>
#include <string>
#include <string_view>

#include "controllers/api/policy.h"

namespace tracing::controllers {

// "Kind namespace/name", as the owners annotation and the NameConflict messages name objects.
std::string object_ref(const std::string& kind, const std::string& ns, const std::string& name);

// Whether `s` is a Kubernetes uid as the API server generates them (RFC 4122 text form:
// 8-4-4-4-12 lowercase hex digits).
bool is_uid(std::string_view s);

// The owners annotation's value for `ref` kept for `policy_uids`: compact JSON, uids sorted, so
// the same owners give a byte-identical value (an unchanged object needs no write).
std::string owners_annotation(const std::string& ref, const std::set<std::string>& policy_uids);

// `object` (apiVersion, kind, metadata.name and namespace set) with the proof added: the
// managed-by label and the owners annotation for `policy_uids`. Other metadata is kept.
json with_proof(json object, const std::set<std::string>& policy_uids);

struct Ownership {
  bool ours = false;
  // The uids the owners annotation lists (when it parses), whether or not they exist.
  std::set<std::string> policies;
  // When !ours: which part of the proof is missing, for a message that reads
  // "<ref> <why>", e.g. "has no tracing.rollout.dev/owners annotation".
  std::string why;
};

// Whether `live` (an object as the API server returns it; `kind` given, since list items carry
// none) carries the operator's proof: the managed-by label, an owners annotation naming this very
// object, and at least one listed uid in `existing_policy_uids` (the uids of the TracingPolicies
// that exist now, deleting ones included).
Ownership ownership_of(const json& live, const std::string& kind,
                       const std::set<std::string>& existing_policy_uids);

}  // namespace tracing::controllers
