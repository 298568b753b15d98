// The chaos suite's oracle. The invariant: every Deployment of a namespace carries exactly what
// the operator's pure decision library (controllers/decision.h: candidates, effective_config,
// desired_env) computes from the TracingPolicies in the cluster — its OTEL_* env entries, owned by
// the operator's field manager and by nobody else's Apply, and its bookkeeping annotations —
// compared here field by field from the raw objects, not by the operator's own up_to_date().
// And the operator's writes, counted from the API server's audit log.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "tests/integration/operator_fixture.h"

namespace tracing::testing::chaos {

struct Verdict {
  int workloads = 0;
  // One line per workload that does not hold the invariant (the first difference found).
  std::vector<std::string> mismatches;
  bool holds() const { return workloads > 0 && mismatches.empty(); }
  int converged() const { return workloads - static_cast<int>(mismatches.size()); }
};

// Checks every Deployment of `ns` against the desired state computed from every TracingPolicy of
// the cluster (root namespace `root`) and `ns`'s labels, as of now. `expected_workloads`: fewer
// Deployments than this is a mismatch (something was lost). With `dapr_served` (Dapr's
// Configuration API is installed), the pod-template annotations of §7 are part of the desired
// state too: dapr.io/config pointing at the policy's Configuration unless the workload names its
// own, and the tracing hash with restartOnChange — each owned by the operator exactly when
// desired (the names are assumed free: no user's Configuration takes the operator's name).
Verdict check(kube::Client& admin, const std::string& ns, const std::string& root,
              int expected_workloads, bool dapr_served = false);

// The operator's writes (create/update/patch/delete by `user`: tracing-operator, the client
// certificate's, or a service account's system:serviceaccount:<ns>:<name>) in the audit log after
// byte `offset`.
struct Writes {
  // Deployments of the namespace given: per name, writes the API server answered 2xx, and all
  // (including those answered with an error or cut off).
  std::map<std::string, int> ok;
  std::map<std::string, int> all;
  // Every write by resource ("deployments", "events", "tracingpolicies/status"...) and by code.
  std::map<std::string, int> by_resource;
  // Every write to anything but Events, by verb and object ("<verb> <resource> <ns>/<name>", the
  // resource with its subresource): all, and those answered 2xx.
  std::map<std::string, int> by_object;
  std::map<std::string, int> ok_by_object;
  std::map<int, int> by_code;
  // Every write by the credential that authenticated it (a service account token's
  // "JTI=<jti>" from user.extra authentication.kubernetes.io/credential-id, "" when none), and
  // the credential of the last one.
  std::map<std::string, int> by_credential;
  std::string last_credential;
  // By credential, when the API server received the last of its writes (requestReceivedTimestamp;
  // the log is in completion order, so a write received earlier can be logged later).
  std::map<std::string, std::chrono::system_clock::time_point> last_received_by_credential;
  // Writes of any resource the API server refused with 401: the credential was not accepted, so
  // the audit event names no user (counted whoever sent them), and it is logged at stage
  // ResponseStarted, not ResponseComplete.
  int unauthorized = 0;
  int ok_total() const;
  int all_total() const;
  std::string summary() const;
};
Writes writes_since(size_t offset, const std::string& ns,
                    const std::string& user = "tracing-operator");

// "<Kind> <ns>/<name>" of every object in `namespaces` that carries the operator's managed-by
// label (its proof of creation or a lookalike's): ConfigMaps, Services, Deployments, and Dapr
// Configurations when `dapr_served`.
std::vector<std::string> labelled_objects(kube::Client& admin,
                                          const std::vector<std::string>& namespaces,
                                          bool dapr_served);

// metadata.generation of every Deployment of `ns`, by name.
std::map<std::string, int64_t> generations(kube::Client& admin, const std::string& ns);

}  // namespace tracing::testing::chaos
