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
  grant_leader_election(*client_, root_);
  if (HasFatalFailure()) return;
  op_ = std::make_unique<OperatorProcess>(root_, log_path());
}

void OperatorTest::TearDown() {
  // Every test's operator still runs at its end and exits 0 on SIGTERM: a crash during the test,
  // or on the way out with reconciles in flight, fails the test that saw it.
  if (op_ && op_->running()) {
    const int rc = op_->stop();
    EXPECT_EQ(rc, 0) << "the operator's SIGTERM at the test's end: " << op_->last_exit() << "; log "
                     << op_->log_path();
  }
  std::vector<std::string> all = created_namespaces_;
  if (!ns_.empty()) all.push_back(ns_);
  EXPECT_TRUE(empty_and_delete_namespaces(*client_, all))
      << "objects an operator reads left in the test's namespaces";
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

json dapr_workload(kube::Client& c, const std::string& ns, const std::string& name,
                   const json& annotations) {
  json d = {{"apiVersion", "apps/v1"},
            {"kind", "Deployment"},
            {"metadata", {{"name", name}, {"namespace", ns}, {"labels", {{"app", name}}}}},
            {"spec",
             {{"replicas", 1},
              {"selector", {{"matchLabels", {{"app", name}}}}},
              {"template",
               {{"metadata", {{"labels", {{"app", name}}}, {"annotations", annotations}}},
                {"spec",
                 {{"containers",
                   json::array({{{"name", "app"}, {"image", "registry.example/app:1"}}})}}}}}}}};
  auto r = c.create(kube::resources::deployments(), ns, d);
  EXPECT_TRUE(r) << r.error().to_string();
  return r ? *r : d;
}

json OperatorTest::workload(const std::string& ns, const std::string& name, const json& labels,
                            const json& env, const json& more) {
  json app = {{"name", "app"}, {"image", "registry.example/app:1"}};
  if (!env.empty()) app["env"] = env;
  json containers = json::array({app});
  for (const auto& c : more) containers.push_back(c);
  json d = {{"apiVersion", "apps/v1"},
            {"kind", "Deployment"},
            {"metadata", {{"name", name}, {"namespace", ns}, {"labels", labels}}},
            {"spec",
             {{"replicas", 1},
              {"selector", {{"matchLabels", {{"workload", name}}}}},
              {"template",
               {{"metadata", {{"labels", {{"workload", name}}}}},
                {"spec", {{"containers", containers}}}}}}}};
  auto r = client_->create(kube::resources::deployments(), ns, d);
  EXPECT_TRUE(r) << r.error().to_string();
  return r ? *r : d;
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
