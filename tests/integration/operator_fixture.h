// The fixture of the tests that run the operator: its CRD and RBAC installed, a root namespace,
// an OperatorProcess ready to start (log: build/test-logs/<Suite>.<Test>.log), and afterwards
// the operator stopped and every namespace the test made deleted — policies' finalizers dropped,
// since no operator is left to remove them — and waited for, so nothing of one test is still
// being torn down (and seen by the next test's operator) while another counts writes.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tests/integration/operator_harness.h"

namespace tracing::testing {

inline const kube::Resource kPolicies{"tracing.rollout.dev", "v1alpha1", "tracingpolicies", true,
                                      "TracingPolicy"};

class OperatorTest : public ClusterTest {
 protected:
  void SetUp() override;
  void TearDown() override;

  // A namespace named after the test's, removed afterwards.
  std::string make_namespace(const std::string& suffix, const json& labels = json::object());
  // Applies a TracingPolicy as a user's `kubectl apply --server-side` would.
  void apply_policy(const std::string& ns, const std::string& name, const json& spec);
  // build/test-logs/<Suite>.<Test><suffix>.log (the folder is made by SetUp).
  std::string log_path(const std::string& suffix = "") const;

  std::string root_;
  std::unique_ptr<OperatorProcess> op_;
  std::vector<std::string> created_namespaces_;
};

}  // namespace tracing::testing
