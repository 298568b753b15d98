#include "tests/integration/operator_fixture.h"

#include <sys/stat.h>

namespace tracing::testing {

void OperatorTest::SetUp() {
  ClusterTest::SetUp();
  if (HasFatalFailure()) return;
  install_crd_and_rbac(*client_);
  if (HasFatalFailure()) return;
  ::mkdir((std::string(TRACING_BINARY_DIR) + "/test-logs").c_str(), 0755);
  root_ = make_namespace("root");
  op_ = std::make_unique<OperatorProcess>(root_, log_path());
}

void OperatorTest::TearDown() {
  if (op_) op_->stop();
  std::vector<std::string> all = created_namespaces_;
  if (!ns_.empty()) all.push_back(ns_);
  EXPECT_TRUE(delete_namespaces_and_wait(*client_, all)) << "test namespaces still terminating";
  ns_.clear();  // gone already
  ClusterTest::TearDown();
}

std::string OperatorTest::make_namespace(const std::string& suffix, const json& labels) {
  std::string name = ns_ + "-" + suffix;
  json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}};
  if (!labels.empty()) ns["metadata"]["labels"] = labels;
  auto r = client_->create(kube::resources::namespaces(), "", ns);
  EXPECT_TRUE(r) << r.error().to_string();
  created_namespaces_.push_back(name);
  return name;
}

void OperatorTest::apply_policy(const std::string& ns, const std::string& name, const json& spec) {
  json p = {{"apiVersion", "tracing.rollout.dev/v1alpha1"},
            {"kind", "TracingPolicy"},
            {"metadata", {{"name", name}, {"namespace", ns}}},
            {"spec", spec}};
  auto r = client_->apply(kPolicies, ns, name, p, {"kubectl", true, ""});
  ASSERT_TRUE(r) << r.error().to_string();
}

std::string OperatorTest::log_path(const std::string& suffix) const {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return std::string(TRACING_BINARY_DIR) + "/test-logs/" + info->test_suite_name() + "." +
         info->name() + suffix + ".log";
}

}  // namespace tracing::testing
