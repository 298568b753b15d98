// The fixture of the tests that run the operator: its CRD and RBAC installed, a root namespace
// (where it may hold its leader-election Lease), an OperatorProcess ready to start (log:
// build/test-logs/<Suite>.<Test>.log), and afterwards the operator stopped and every namespace
// the test made deleted — policies' finalizers dropped, since no operator is left to remove them
// — and waited for, so nothing of one test is still being torn down (and seen by the next test's
// operator) while another counts writes.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tests/integration/operator_harness.h"

namespace tracing::testing {

inline const kube::Resource kPolicies{"tracing.rollout.dev", "v1alpha1", "tracingpolicies", true,
                                      "TracingPolicy"};

inline const kube::Resource kDaprConfigurations{"dapr.io", "v1alpha1", "configurations", true,
                                                "Configuration"};

// Creates a Deployment (one container "app") whose pod template carries `annotations` (Dapr's).
json dapr_workload(kube::Client& c, const std::string& ns, const std::string& name,
                   const json& annotations);

class OperatorTest : public ClusterTest {
 protected:
  void SetUp() override;
  void TearDown() override;

  // A namespace named after the test's, removed afterwards.
  std::string make_namespace(const std::string& suffix, const json& labels = json::object());
  // Creates a Deployment with one container "app" (plus `more` containers) and the given env;
  // its pod template is labelled workload=<name>.
  json workload(const std::string& ns, const std::string& name, const json& labels,
                const json& env = json::array(), const json& more = json::array());
  // Applies a TracingPolicy as a user's `kubectl apply --server-side` would.
  void apply_policy(const std::string& ns, const std::string& name, const json& spec);
  // build/test-logs/<Suite>.<Test><suffix>.log (the folder is made by SetUp).
  std::string log_path(const std::string& suffix = "") const;

  std::string root_;
  std::unique_ptr<OperatorProcess> op_;
  std::vector<std::string> created_namespaces_;
};

}  // namespace tracing::testing
