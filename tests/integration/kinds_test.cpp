// StatefulSets and DaemonSets as workloads (SPEC §4, §9), against the real API server and the
// real kube-controller-manager (its StatefulSet, DaemonSet and Deployment controllers write the
// status the operator judges; no kubelet runs, so a pod never becomes ready and a DaemonSet has
// no node to schedule on).
#include <gtest/gtest.h>

#include <set>

#include "tests/integration/fixture.h"
#include "tests/integration/operator_fixture.h"

namespace tracing::testing {
namespace {

using namespace std::chrono_literals;

json entry(const std::string& name, const std::string& value) {
  return {{"name", name}, {"value", value}};
}

class Kinds : public OperatorTest {
 protected:
  // A StatefulSet or DaemonSet with container "app" (env `env`), labels `labels`.
  json create(const kube::Resource& r, const std::string& name, const json& labels, const json& env,
              int replicas = 1) {
    json app = {{"name", "app"}, {"image", "registry.example/app:1"}};
    if (!env.empty()) app["env"] = env;
    json spec = {{"selector", {{"matchLabels", {{"workload", name}}}}},
                 {"template",
                  {{"metadata", {{"labels", {{"workload", name}}}}},
                   {"spec", {{"containers", json::array({app})}}}}}};
    if (r.kind == "StatefulSet") {
      spec["replicas"] = replicas;
      spec["serviceName"] = name;
      spec["podManagementPolicy"] = "Parallel";
    }
    json obj = {{"apiVersion", "apps/v1"},
                {"kind", r.kind},
                {"metadata", {{"name", name}, {"namespace", ns_}, {"labels", labels}}},
                {"spec", spec}};
    auto created = client_->create(r, ns_, obj);
    EXPECT_TRUE(created) << created.error().to_string();
    return created ? *created : obj;
  }

  json env(const kube::Resource& r, const std::string& name) {
    auto o = client_->get(r, ns_, name);
    if (!o) return json();
    return (*o)["spec"]["template"]["spec"]["containers"][0].value("env", json::array());
  }

  std::string var(const kube::Resource& r, const std::string& name, const std::string& v) {
    for (const auto& e : env(r, name)) {
      if (e["name"] == v) return e.value("value", "");
    }
    return "<unset>";
  }

  json counts(const std::string& policy) {
    auto p = client_->get(kPolicies, ns_, policy);
    if (!p) return json::object();
    return (*p).value("status", json::object()).value("counts", json::object());
  }

  const kube::Resource sts_ = kube::resources::stateful_sets();
  const kube::Resource ds_ = kube::resources::daemon_sets();
  const kube::Resource deploy_ = kube::resources::deployments();
};

TEST_F(Kinds, StatefulSetsAndDaemonSetsAreConfiguredSelectedByKindAndRevertedExactly) {
  const json original = json::array({entry("LOG_LEVEL", "info"), entry("A", "b")});
  json web = workload(ns_, "web", {{"app", "shop"}}, original);
  json db = create(sts_, "db", {{"app", "shop"}}, original);
  json agent = create(ds_, "agent", {{"app", "shop"}}, original);
  op_->start();
  apply_policy(ns_, "p",
               {{"exporter", {{"endpoint", "http://collector.obs.svc:4317"}}},
                {"sampling", {{"ratio", "0.5"}}}});

  // The same env on every kind, the name under its kind's attribute, appended after the
  // workload's own entries.
  const std::vector<std::tuple<kube::Resource, std::string, std::string>> all = {
      {deploy_, "web", "k8s.deployment.name=web"},
      {sts_, "db", "k8s.statefulset.name=db"},
      {ds_, "agent", "k8s.daemonset.name=agent"}};
  for (const auto& [r, name, attribute] : all) {
    ASSERT_TRUE(eventually([&, &r = r, &name = name] {
      return var(r, name, "OTEL_TRACES_SAMPLER_ARG") == "0.5";
    })) << r.kind
        << " " << name << ": " << env(r, name).dump() << "\noperator log " << op_->log_path();
    EXPECT_EQ(var(r, name, "OTEL_RESOURCE_ATTRIBUTES"),
              "k8s.namespace.name=" + ns_ + "," + attribute);
    EXPECT_EQ(var(r, name, "OTEL_EXPORTER_OTLP_ENDPOINT"), "http://collector.obs.svc:4317");
    json e = env(r, name);
    ASSERT_GE(e.size(), 2u);
    EXPECT_EQ(e[0], original[0]);
    EXPECT_EQ(e[1], original[1]);
    // Written by server-side apply under the operator's field manager.
    auto live = client_->get(r, ns_, name);
    ASSERT_TRUE(live);
    bool ours = false;
    for (const auto& m : (*live)["metadata"]["managedFields"]) {
      ours = ours ||
             (m.value("manager", "") == "tracing-operator" && m.value("operation", "") == "Apply");
    }
    EXPECT_TRUE(ours) << (*live)["metadata"]["managedFields"].dump();
  }
  EXPECT_TRUE(eventually([&] { return counts("p").value("matched", -1) == 3; }))
      << counts("p").dump();
  // kubectl-tracing tells the same for every kind.
  auto plugin = [&](const std::string& args) {
    int status = -1;
    std::string out = run_capture(
        std::string(TRACING_BINARY_DIR) + "/bin/kubectl-tracing --kubeconfig " +
            admin_kubeconfig() + " --root-namespace " + root_ + " " + args + " -o json 2>/dev/null",
        &status);
    EXPECT_EQ(status, 0) << args << ": " << out;
    json j = json::parse(out, nullptr, false);
    return j.is_object() ? j : json::object();
  };
  json why = plugin("why sts/db -n " + ns_);
  EXPECT_EQ(why.value("kind", ""), "StatefulSet") << why.dump();
  EXPECT_EQ(why.value("state", ""), "configured") << why.dump();
  EXPECT_EQ(why["writes"]["app"].value("OTEL_RESOURCE_ATTRIBUTES", ""),
            var(sts_, "db", "OTEL_RESOURCE_ATTRIBUTES"))
      << why.dump();
  std::set<std::string> listed;
  for (const auto& w : plugin("status -n " + ns_).value("workloads", json::array())) {
    listed.insert(w.value("kind", "") + "/" + w.value("name", "") + ":" + w.value("state", ""));
  }
  EXPECT_EQ(listed,
            (std::set<std::string>{"DaemonSet/agent:configured", "Deployment/web:configured",
                                   "StatefulSet/db:configured"}));

  // spec.kinds narrows the policy: the Deployment and the DaemonSet are given back exactly.
  apply_policy(ns_, "p",
               {{"kinds", {"StatefulSet"}},
                {"exporter", {{"endpoint", "http://collector.obs.svc:4317"}}},
                {"sampling", {{"ratio", "0.5"}}}});
  EXPECT_TRUE(eventually([&] { return env(deploy_, "web") == original; }))
      << env(deploy_, "web").dump();
  EXPECT_TRUE(eventually([&] { return env(ds_, "agent") == original; }))
      << env(ds_, "agent").dump();
  EXPECT_EQ(var(sts_, "db", "OTEL_TRACES_SAMPLER_ARG"), "0.5");
  EXPECT_TRUE(eventually([&] { return counts("p").value("matched", -1) == 1; }))
      << counts("p").dump();

  // Deleted: the StatefulSet too, before the policy is gone.
  ASSERT_TRUE(client_->remove(kPolicies, ns_, "p"));
  ASSERT_TRUE(eventually([&] { return !client_->get(kPolicies, ns_, "p").ok(); }));
  EXPECT_EQ(env(sts_, "db"), original);
  auto live = client_->get(sts_, ns_, "db");
  ASSERT_TRUE(live);
  for (const auto& m : (*live)["metadata"]["managedFields"]) {
    EXPECT_NE(m.value("manager", ""), "tracing-operator") << m.dump();
  }
}

// rollout.maxConcurrent counts across kinds, each judged as `kubectl rollout status` judges it:
// a StatefulSet whose pod is not ready (no kubelet) is rolling and holds the only slot, so
// nothing else is changed; scaled to 0 by its owner it is complete (its controller says so), and
// the three are changed one after another.
TEST_F(Kinds, RolloutBudgetCountsAcrossKindsAsTheirControllersReportThem) {
  workload(ns_, "web", {{"app", "paced"}}, json::array());
  ASSERT_TRUE(
      client_->patch(deploy_, ns_, "web", {{"spec", {{"replicas", 0}}}}, kube::PatchType::kMerge));
  create(sts_, "db", {{"app", "paced"}}, json::array(), /*replicas=*/1);
  create(ds_, "agent", {{"app", "paced"}}, json::array());
  // The StatefulSet controller has seen it (its pod stays Pending: not ready).
  ASSERT_TRUE(eventually([&] {
    auto s = client_->get(sts_, ns_, "db");
    return s && (*s).value("status", json::object()).value("observedGeneration", 0) >= 1;
  }));
  op_->start();
  apply_policy(ns_, "p",
               {{"exporter", {{"endpoint", "http://collector.obs.svc:4317"}}},
                {"sampling", {{"ratio", "0.4"}}},
                {"rollout", {{"maxConcurrent", 1}}}});
  // All three wait: the status says so, computed from the state the gate read.
  ASSERT_TRUE(eventually([&] {
    json c = counts("p");
    return c.value("matched", -1) == 3 && c.value("pending", -1) == 3;
  })) << counts("p").dump()
      << "\noperator log " << op_->log_path();
  for (const auto& [r, name] : {std::pair{deploy_, "web"}, {sts_, "db"}, {ds_, "agent"}}) {
    EXPECT_EQ(var(r, name, "OTEL_TRACES_SAMPLER_ARG"), "<unset>")
        << r.kind << " " << name << " was changed while the StatefulSet's rollout held the slot";
  }

  // Its owner scales it to 0: complete once its controller observed that.
  ASSERT_TRUE(
      client_->patch(sts_, ns_, "db", {{"spec", {{"replicas", 0}}}}, kube::PatchType::kMerge));
  for (const auto& [r, name] : {std::pair{deploy_, "web"}, {sts_, "db"}, {ds_, "agent"}}) {
    EXPECT_TRUE(eventually(
        [&, &r = r, &name = name] { return var(r, name, "OTEL_TRACES_SAMPLER_ARG") == "0.4"; },
        60s))
        << r.kind << " " << name << "\noperator log " << op_->log_path();
  }
  EXPECT_TRUE(eventually([&] { return counts("p").value("configured", -1) == 3; }))
      << counts("p").dump();
}

}  // namespace
}  // namespace tracing::testing
