// The operator end to end: its own process, the real API server, policies applied as a user
// would (server-side apply by another manager), assertions on the Deployments and the policy
// status the API server holds.
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <thread>

#include "controllers/api/time.h"
#include "controllers/jaeger.h"
#include "controllers/naming.h"
#include "tests/integration/local_jaeger.h"
#include "tests/integration/operator_fixture.h"

namespace tracing::testing {
namespace {

using kube::resources::deployments;
using kube::resources::namespaces;

std::string controllers_format_time(std::chrono::system_clock::time_point t) {
  return controllers::format_rfc3339(t);
}
std::chrono::system_clock::time_point parse_time(const json& text) {
  auto t = controllers::parse_rfc3339(text.get<std::string>());
  EXPECT_TRUE(t.has_value()) << text;
  return t.value_or(std::chrono::system_clock::time_point{});
}

class Operator : public OperatorTest {
 protected:
  json get_policy(const std::string& ns, const std::string& name) {
    auto r = client_->get(kPolicies, ns, name);
    return r ? *r : json();
  }

  // The policy's status (an empty object until the operator wrote one).
  json status_of(const std::string& ns, const std::string& name) {
    json p = get_policy(ns, name);
    return p.is_object() ? p.value("status", json::object()) : json::object();
  }

  json env(const std::string& ns, const std::string& name, const std::string& container = "app") {
    auto d = client_->get(deployments(), ns, name);
    if (!d) return json();
    for (const auto& c : (*d)["spec"]["template"]["spec"]["containers"]) {
      if (c["name"] == container) return c.value("env", json::array());
    }
    return json();
  }

  static std::map<std::string, std::string> as_map(const json& env) {
    std::map<std::string, std::string> m;
    for (const auto& e : env) m[e["name"]] = e.value("value", "");
    return m;
  }

  std::string var(const std::string& ns, const std::string& name, const std::string& variable,
                  const std::string& container = "app") {
    auto m = as_map(env(ns, name, container));
    auto it = m.find(variable);
    return it == m.end() ? "<unset>" : it->second;
  }

  bool wait_var(const std::string& ns, const std::string& name, const std::string& variable,
                const std::string& value, std::chrono::milliseconds timeout = 30s) {
    bool ok = eventually([&] { return var(ns, name, variable) == value; }, timeout);
    if (!ok) {
      ADD_FAILURE() << ns << "/" << name << " " << variable << " = " << var(ns, name, variable)
                    << ", expected " << value << "; env " << env(ns, name).dump()
                    << "; operator log " << op_->log_path();
    }
    return ok;
  }

  // Once the operator is idle: stops it, starts it again and expects the restart to write
  // nothing (its /metrics and the audit log).
  void restart_and_expect_no_writes(uint64_t workloads) {
    ASSERT_TRUE(op_->wait_idle(workloads));
    EXPECT_EQ(op_->stop(), 0) << "SIGTERM must end the operator cleanly";
    const size_t offset = audit_log_size();
    op_->start();
    ASSERT_TRUE(op_->wait_idle(workloads));
    EXPECT_EQ(op_->metric("tracing_operator_api_requests_total{kind=\"write\"}"), 0);
    EXPECT_EQ(op_->stop(), 0);
    EXPECT_EQ(audit_writes_since(offset), 0) << "writes by the operator in the audit log";
  }

  bool wait_env(const std::string& ns, const std::string& name, const json& expected,
                std::chrono::milliseconds timeout = 30s) {
    bool ok = eventually([&] { return env(ns, name) == expected; }, timeout);
    if (!ok) {
      ADD_FAILURE() << ns << "/" << name << " env " << env(ns, name).dump() << "\nexpected "
                    << expected.dump() << "\noperator log " << op_->log_path();
    }
    return ok;
  }
};

json entry(const std::string& name, const std::string& value) {
  return {{"name", name}, {"value", value}};
}

TEST_F(Operator, ConfiguresExactlyTheOtelVariablesOnMatchingDeploymentsOnly) {
  json original = json::array({entry("LOG_LEVEL", "info")});
  workload(ns_, "task-api", {{"app", "task-api"}, {"app.kubernetes.io/name", "task-api-svc"}},
           original);
  workload(ns_, "billing", {{"app", "billing"}}, original);
  op_->start();
  apply_policy(
      ns_, "task-api",
      {{"selector", {{"matchLabels", {{"app", "task-api"}}}}},
       {"exporter",
        {{"endpoint", "http://collector.obs.svc:4317"}, {"protocol", "grpc"}, {"insecure", true}}},
       {"sampling", {{"sampler", "parentbased_traceidratio"}, {"ratio", "0.25"}}},
       {"propagators", {"tracecontext", "baggage", "b3"}},
       {"resourceAttributes", {{"deployment.environment", "prod"}, {"team", "shop floor"}}}});

  json expected = json::array(
      {entry("LOG_LEVEL", "info"), entry("OTEL_SERVICE_NAME", "task-api-svc"),
       entry("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector.obs.svc:4317"),
       entry("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"), entry("OTEL_EXPORTER_OTLP_INSECURE", "true"),
       entry("OTEL_TRACES_EXPORTER", "otlp"),
       entry("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
       entry("OTEL_TRACES_SAMPLER_ARG", "0.25"),
       entry("OTEL_PROPAGATORS", "tracecontext,baggage,b3"),
       entry("OTEL_RESOURCE_ATTRIBUTES", "k8s.namespace.name=" + ns_ +
                                             ",k8s.deployment.name=task-api,deployment.environment="
                                             "prod,team=shop%20floor")});
  ASSERT_TRUE(wait_env(ns_, "task-api", expected));
  EXPECT_EQ(env(ns_, "billing"), original) << "a Deployment the selector does not match";

  // Status, as `kubectl get tp` shows it.
  ASSERT_TRUE(eventually([&] {
    json s = get_policy(ns_, "task-api").value("status", json::object());
    return s.value("counts", json::object()).value("configured", -1) == 1;
  }));
  json status = status_of(ns_, "task-api");
  EXPECT_EQ(status["counts"]["matched"], 1);
  EXPECT_EQ(status["counts"]["pending"], 0);
  EXPECT_EQ(status["effective"]["sampler"], "parentbased_traceidratio");
  EXPECT_EQ(status["effective"]["ratio"], "0.25");
  EXPECT_EQ(status["effective"]["source"], "base");
  // For kstatus: not stalled; reconciling exactly while Progressing (here the Deployment's pods
  // never become ready: no kubelet), at the spec's generation.
  json by_type;
  for (const auto& c : status["conditions"]) by_type[c["type"].get<std::string>()] = c;
  EXPECT_EQ(by_type["Stalled"]["status"], "False") << by_type.dump();
  EXPECT_EQ(by_type["Reconciling"]["status"], by_type["Progressing"]["status"]);
  EXPECT_EQ(by_type["Reconciling"]["reason"], by_type["Progressing"]["reason"]);
  EXPECT_EQ(by_type["Reconciling"]["observedGeneration"],
            get_policy(ns_, "task-api")["metadata"]["generation"]);
  EXPECT_EQ(status["conditions"].size(), 6u) << status["conditions"].dump();
  std::string table = kubectl("get tp -n " + ns_);
  EXPECT_NE(table.find("SAMPLER"), std::string::npos) << table;
  EXPECT_NE(table.find("EFFECTIVE"), std::string::npos) << table;
  EXPECT_NE(table.find("parentbased_traceidratio"), std::string::npos) << table;
  EXPECT_NE(table.find("0.25"), std::string::npos) << table;
  EXPECT_NE(table.find("True"), std::string::npos) << table;
}

TEST_F(Operator, ClusterWideRatioChangeReachesEveryNamespaceButANamespacePolicyKeepsItsOwn) {
  std::string a = make_namespace("a"), b = make_namespace("b");
  workload(a, "web", {{"app", "web"}});
  workload(b, "web", {{"app", "web"}});
  workload(b, "worker", {{"app", "worker"}});
  op_->start();
  json root_spec = {{"sampling", {{"ratio", "0.1"}}},
                    {"exporter", {{"endpoint", "http://collector.obs.svc:4317"}}}};
  apply_policy(root_, "cluster", root_spec);
  apply_policy(
      b, "team-b",
      {{"selector", {{"matchLabels", {{"app", "worker"}}}}}, {"sampling", {{"ratio", "0.5"}}}});
  ASSERT_TRUE(wait_var(a, "web", "OTEL_TRACES_SAMPLER_ARG", "0.1"));
  ASSERT_TRUE(wait_var(b, "web", "OTEL_TRACES_SAMPLER_ARG", "0.1"));
  ASSERT_TRUE(wait_var(b, "worker", "OTEL_TRACES_SAMPLER_ARG", "0.5"));
  // The exporter comes from the root policy (field-wise merge), the ratio from team-b.
  EXPECT_EQ(var(b, "worker", "OTEL_EXPORTER_OTLP_ENDPOINT"), "http://collector.obs.svc:4317");

  root_spec["sampling"]["ratio"] = "0.2";  // one edit, cluster-wide
  apply_policy(root_, "cluster", root_spec);
  EXPECT_TRUE(wait_var(a, "web", "OTEL_TRACES_SAMPLER_ARG", "0.2"));
  EXPECT_TRUE(wait_var(b, "web", "OTEL_TRACES_SAMPLER_ARG", "0.2"));
  EXPECT_EQ(var(b, "worker", "OTEL_TRACES_SAMPLER_ARG"), "0.5");
}

TEST_F(Operator, StatusReportsWhatTheGovernedWorkloadsReceiveMergedWithTheRoot) {
  std::string b = make_namespace("b");
  workload(b, "api", {{"app", "api"}});
  workload(b, "web", {{"app", "web"}});
  workload(b, "worker", {{"app", "worker"}});
  op_->start();
  apply_policy(root_, "cluster",
               {{"exporter", {{"endpoint", "http://collector.obs.svc:4317"}}},
                {"sampling", {{"sampler", "traceidratio"}, {"ratio", "0.1"}}}});
  // A root policy for the workers only: less specific than team-b, it fills in their sampling.
  apply_policy(root_, "workers",
               {{"selector", {{"matchLabels", {{"app", "worker"}}}}},
                {"sampling", {{"sampler", "traceidratio"}, {"ratio", "0.7"}}}});
  // team-b governs all three and sets only propagators: the rest comes from the roots.
  apply_policy(b, "team-b", {{"propagators", {"tracecontext", "b3"}}});
  // A policy that governs nothing reports what a workload it governed would receive.
  apply_policy(b, "idle",
               {{"selector", {{"matchLabels", {{"app", "nothing"}}}}}, {"propagators", {"b3"}}});
  ASSERT_TRUE(wait_var(b, "api", "OTEL_PROPAGATORS", "tracecontext,b3"));
  ASSERT_TRUE(wait_var(b, "worker", "OTEL_TRACES_SAMPLER_ARG", "0.7"));
  ASSERT_TRUE(wait_var(b, "web", "OTEL_TRACES_SAMPLER_ARG", "0.1"));

  auto effective = [&](const std::string& ns, const std::string& name) {
    json s = status_of(ns, name);
    return json{{"effective", s.value("effective", json::object())},
                {"jaegerEndpoint", s.value("jaegerEndpoint", "")}};
  };
  auto reported = [](const std::string& ratio, int workloads, int others) {
    return json{{"effective",
                 {{"sampler", "traceidratio"},
                  {"ratio", ratio},
                  {"source", "base"},
                  {"workloads", workloads},
                  {"otherWorkloads", others}}},
                {"jaegerEndpoint", "http://collector.obs.svc:4317"}};
  };
  // api and web receive 0.1, worker 0.7: the most received is reported, the rest counted.
  const json team_b = reported("0.1", 2, 1);
  EXPECT_TRUE(eventually([&] { return effective(b, "team-b") == team_b; }))
      << effective(b, "team-b").dump();
  const json idle = reported("0.1", 0, 0);
  EXPECT_TRUE(eventually([&] { return effective(b, "idle") == idle; }))
      << effective(b, "idle").dump();
  // The roots govern nothing here (team-b does): what they would give.
  const json workers = reported("0.7", 0, 0);
  EXPECT_TRUE(eventually([&] { return effective(root_, "workers") == workers; }))
      << effective(root_, "workers").dump();

  // A root policy naming its Jaeger's namespace reports that Jaeger's collector.
  apply_policy(root_, "cluster",
               {{"jaeger", {{"mode", "external"}, {"namespace", "observability"}}},
                {"sampling", {{"sampler", "traceidratio"}, {"ratio", "0.1"}}}});
  ASSERT_TRUE(wait_var(b, "web", "OTEL_EXPORTER_OTLP_ENDPOINT",
                       "http://jaeger-collector.observability.svc:4317"));
  EXPECT_TRUE(eventually([&] {
    return status_of(root_, "cluster").value("jaegerEndpoint", "") ==
           "http://jaeger-collector.observability.svc:4317";
  })) << status_of(root_, "cluster").dump();
}

TEST_F(Operator, EachPrecedenceRankAndThePriorityNameTieBreak) {
  std::string shop = make_namespace("shop", {{"tier", "prod"}});
  workload(shop, "task-api", {{"app", "task-api"}});
  op_->start();
  auto ratio = [&](const std::string& r) { return json{{"sampling", {{"ratio", r}}}}; };
  auto with_selector = [](json spec) {
    spec["selector"] = {{"matchLabels", {{"app", "task-api"}}}};
    return spec;
  };
  // Rank 4: root policy without selector.
  apply_policy(root_, "root-all", ratio("0.11"));
  ASSERT_TRUE(wait_var(shop, "task-api", "OTEL_TRACES_SAMPLER_ARG", "0.11"));
  // Rank 3: root policy with selector (and a matching namespaceSelector) beats it.
  json r3 = with_selector(ratio("0.22"));
  r3["namespaceSelector"] = {{"matchLabels", {{"tier", "prod"}}}};
  apply_policy(root_, "root-selected", r3);
  ASSERT_TRUE(wait_var(shop, "task-api", "OTEL_TRACES_SAMPLER_ARG", "0.22"));
  // Rank 2: namespace policy without selector.
  apply_policy(shop, "ns-all", ratio("0.33"));
  ASSERT_TRUE(wait_var(shop, "task-api", "OTEL_TRACES_SAMPLER_ARG", "0.33"));
  // Rank 1: namespace policy with selector.
  apply_policy(shop, "ns-b", with_selector(ratio("0.44")));
  ASSERT_TRUE(wait_var(shop, "task-api", "OTEL_TRACES_SAMPLER_ARG", "0.44"));
  // Same rank, same priority: the smaller name wins.
  apply_policy(shop, "ns-a", with_selector(ratio("0.55")));
  ASSERT_TRUE(wait_var(shop, "task-api", "OTEL_TRACES_SAMPLER_ARG", "0.55"));
  // Higher priority beats the name.
  json prio = with_selector(ratio("0.66"));
  prio["priority"] = 10;
  apply_policy(shop, "ns-z", prio);
  ASSERT_TRUE(wait_var(shop, "task-api", "OTEL_TRACES_SAMPLER_ARG", "0.66"));
  // A root policy whose namespaceSelector does not match this namespace does not apply.
  std::string other = make_namespace("other", {{"tier", "dev"}});
  workload(other, "task-api", {{"app", "task-api"}});
  ASSERT_TRUE(wait_var(other, "task-api", "OTEL_TRACES_SAMPLER_ARG", "0.11"));
}

TEST_F(Operator, OwnVariableIsKeptAsAConflictThenOverrideTakesItAndRevertRestoresIt) {
  json original =
      json::array({entry("A", "1"), entry("OTEL_TRACES_SAMPLER", "always_on"), entry("B", "2")});
  workload(ns_, "legacy", {{"app", "legacy"}}, original);
  op_->start();
  json spec = {{"sampling", {{"sampler", "traceidratio"}, {"ratio", "0.3"}}}};
  apply_policy(ns_, "p", spec);
  ASSERT_TRUE(wait_var(ns_, "legacy", "OTEL_TRACES_SAMPLER_ARG", "0.3"));
  EXPECT_EQ(var(ns_, "legacy", "OTEL_TRACES_SAMPLER"), "always_on") << "the workload's own value";
  ASSERT_TRUE(eventually(
      [&] { return status_of(ns_, "p").value("conflicts", json::array()).size() == 1; }));
  json status = status_of(ns_, "p");
  EXPECT_EQ(status["conflicts"][0]["workload"], ns_ + "/legacy");
  EXPECT_EQ(status["conflicts"][0]["variable"], "OTEL_TRACES_SAMPLER");
  EXPECT_EQ(status["counts"]["conflicted"], 1);
  bool degraded = false;
  for (const auto& c : status["conditions"]) {
    if (c["type"] == "Degraded") degraded = c["status"] == "True" && c["reason"] == "Conflict";
  }
  EXPECT_TRUE(degraded) << status.dump();

  spec["override"] = true;
  apply_policy(ns_, "p", spec);
  ASSERT_TRUE(wait_var(ns_, "legacy", "OTEL_TRACES_SAMPLER", "traceidratio"));
  // (While overridden the forced apply may move the entry among the operator's own; the
  // revert below must put it back in place.)

  ASSERT_TRUE(client_->remove(kPolicies, ns_, "p"));
  ASSERT_TRUE(eventually([&] { return get_policy(ns_, "p").is_null(); }))
      << "the finalizer must go once the workload is reverted";
  EXPECT_EQ(env(ns_, "legacy"), original) << "names, values and order as before";
}

TEST_F(Operator, OptOutAndALabelChangeRevertTheWorkload) {
  json original = json::array({entry("PORT", "8080")});
  workload(ns_, "a", {{"app", "shop"}}, original);
  workload(ns_, "b", {{"app", "shop"}}, original);
  op_->start();
  apply_policy(
      ns_, "shop",
      {{"selector", {{"matchLabels", {{"app", "shop"}}}}}, {"sampling", {{"ratio", "0.5"}}}});
  ASSERT_TRUE(wait_var(ns_, "a", "OTEL_TRACES_SAMPLER_ARG", "0.5"));
  ASSERT_TRUE(wait_var(ns_, "b", "OTEL_TRACES_SAMPLER_ARG", "0.5"));

  ASSERT_TRUE(
      client_->patch(deployments(), ns_, "a",
                     {{"metadata", {{"annotations", {{"tracing.rollout.dev/inject", "false"}}}}}},
                     kube::PatchType::kMerge));
  EXPECT_TRUE(wait_env(ns_, "a", original));
  ASSERT_TRUE(client_->patch(deployments(), ns_, "b",
                             {{"metadata", {{"labels", {{"app", "billing"}}}}}},
                             kube::PatchType::kMerge));
  EXPECT_TRUE(wait_env(ns_, "b", original));
  ASSERT_TRUE(eventually([&] {
    auto s = get_policy(ns_, "shop").value("status", json::object());
    return s.value("counts", json::object()).value("optedOut", -1) == 1 &&
           s["counts"].value("matched", -1) == 0;
  })) << get_policy(ns_, "shop").dump();
}

TEST_F(Operator, DeletingAPolicyRevertsEveryWorkloadBeforeThePolicyDisappears) {
  std::vector<json> originals = {
      json::array(),
      json::array({entry("Z", "last"), entry("A", "first")}),
      json::array(
          {entry("DB_URL", "postgres://db"),
           {{"name", "POD"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.name"}}}}}}}),
  };
  for (size_t i = 0; i < originals.size(); ++i) {
    json created = workload(ns_, "w" + std::to_string(i), {{"app", "w"}}, originals[i]);
    // As the API server stored it (it defaults fieldRef.apiVersion).
    originals[i] = created["spec"]["template"]["spec"]["containers"][0].value("env", json::array());
  }
  op_->start();
  apply_policy(ns_, "p", {{"sampling", {{"ratio", "0.7"}}}});
  for (size_t i = 0; i < originals.size(); ++i) {
    ASSERT_TRUE(wait_var(ns_, "w" + std::to_string(i), "OTEL_TRACES_SAMPLER_ARG", "0.7"));
  }
  ASSERT_TRUE(client_->remove(kPolicies, ns_, "p"));
  ASSERT_TRUE(eventually([&] { return get_policy(ns_, "p").is_null(); }));
  // The policy is gone only after its finalizer ran: every workload is already as it was.
  for (size_t i = 0; i < originals.size(); ++i) {
    EXPECT_EQ(env(ns_, "w" + std::to_string(i)), originals[i])
        << "w" << i << ": " << client_->get(deployments(), ns_, "w" + std::to_string(i))->dump();
  }
}

// A bump's next change (its expiry) is a timer in the policy queue; when its policy is deleted
// the timer goes with it, rather than waiting in the queue (and its gauge) until the bump would
// have expired. A policy governing nothing is released at once, with no look scheduled sooner
// (CI: the catalogue's bumped policies, finalized by a later test's operator, kept it from idle).
TEST_F(Operator, ADeletedPolicysDebugBumpLeavesNoTimerBehind) {
  const std::string waiting = "tracing_operator_workqueue_waiting{queue=\"policy\"}";
  op_->start();
  apply_policy(
      ns_, "p",
      {{"sampling", {{"ratio", "0.1"}}}, {"debug", {{"ratio", "1"}, {"duration", "15m"}}}});
  ASSERT_TRUE(eventually([&] {
    return status_of(ns_, "p").value("debug", json::object()).contains("expiresAt");
  })) << status_of(ns_, "p").dump();
  ASSERT_TRUE(eventually([&] { return op_->metric(waiting) == 1; })) << op_->metrics_text();
  ASSERT_TRUE(client_->remove(kPolicies, ns_, "p"));
  ASSERT_TRUE(eventually([&] { return get_policy(ns_, "p").is_null(); }));
  EXPECT_TRUE(eventually([&] { return op_->metric(waiting) == 0; }, 10s))
      << "the bump's timer outlived its policy";
  EXPECT_TRUE(op_->wait_idle(0));
}

TEST_F(Operator, UntilBumpRaisesTheRatioThenReturnsWithinOneSecondWithoutAnEdit) {
  workload(ns_, "web", {{"app", "web"}});
  op_->start();
  auto until = std::chrono::system_clock::now() + 12s;
  std::string until_text = controllers_format_time(until);
  apply_policy(ns_, "p",
               {{"sampling", {{"ratio", "0.1"}}},
                {"debug", {{"ratio", "1"}, {"until", until_text}, {"reason", "INC-1"}}}});
  ASSERT_TRUE(wait_var(ns_, "web", "OTEL_TRACES_SAMPLER_ARG", "1"));
  ASSERT_TRUE(eventually([&] {
    return status_of(ns_, "p").value("effective", json::object()).value("source", "") == "debug";
  }));
  ASSERT_TRUE(wait_var(ns_, "web", "OTEL_TRACES_SAMPLER_ARG", "0.1", 30s));
  auto reverted_at = std::chrono::system_clock::now();
  auto expires = parse_time(until_text);
  EXPECT_LT(reverted_at - expires, 1s)
      << "reverted "
      << std::chrono::duration_cast<std::chrono::milliseconds>(reverted_at - expires).count()
      << " ms after expiry";
  EXPECT_GE(reverted_at, expires - 100ms);
  ASSERT_TRUE(eventually(
      [&] { return status_of(ns_, "p").value("debug", json::object()).value("expired", false); }));
  EXPECT_EQ(get_policy(ns_, "p")["spec"]["debug"]["until"], until_text) << "spec left as written";
}

TEST_F(Operator, DurationBumpSurvivesAnOperatorCrashWithoutBeingExtended) {
  workload(ns_, "web", {{"app", "web"}});
  op_->start();
  apply_policy(
      ns_, "p",
      {{"sampling", {{"ratio", "0.1"}}}, {"debug", {{"ratio", "0.9"}, {"duration", "1m"}}}});
  ASSERT_TRUE(wait_var(ns_, "web", "OTEL_TRACES_SAMPLER_ARG", "0.9"));
  json debug;
  ASSERT_TRUE(eventually([&] {
    debug = status_of(ns_, "p").value("debug", json::object());
    return debug.contains("expiresAt");
  }));
  auto expires = parse_time(debug["expiresAt"]);
  EXPECT_EQ(expires - parse_time(debug["startedAt"]), 60s);

  op_->kill();                      // a crash mid-bump
  std::this_thread::sleep_for(2s);  // the bump keeps its clock while no operator runs
  op_->start();
  ASSERT_TRUE(wait_var(ns_, "web", "OTEL_TRACES_SAMPLER_ARG", "0.1", 90s));
  auto reverted_at = std::chrono::system_clock::now();
  EXPECT_LT(reverted_at - expires, 1s);
  EXPECT_GE(reverted_at, expires - 100ms);
  EXPECT_EQ(status_of(ns_, "p")["debug"]["startedAt"], debug["startedAt"])
      << "the restart must not restart the clock";
}

const kube::Resource kServices{"", "v1", "services", true, "Service"};

// The managed Jaeger's objects in `ns`, as "Kind/name". A LIST that fails shows as an entry
// naming it, so it is never read as "no objects" (nor as the expected set).
std::set<std::string> jaeger_objects_in(kube::Client& c, const std::string& ns) {
  std::set<std::string> out;
  kube::ListOptions lo;
  lo.label_selector = "app.kubernetes.io/managed-by=tracing-operator,app.kubernetes.io/name=jaeger";
  for (const auto& r : {kube::resources::config_maps(), kServices, deployments()}) {
    auto list = c.list(r, ns, lo);
    if (!list) {
      out.insert("LIST " + r.kind + " failed: " + list.error().to_string());
      continue;
    }
    for (const auto& o : list->items)
      out.insert(r.kind + "/" + o["metadata"]["name"].get<std::string>());
  }
  return out;
}

const std::set<std::string> kJaegerObjects = {
    "ConfigMap/jaeger-config", "ConfigMap/jaeger-sampling-strategies",
    "Deployment/jaeger",       "Service/jaeger-collector",
    "Service/jaeger-query",    "Service/jaeger-sampling"};

// The root policy sets the exporter before the namespace policy comes, so no managed Jaeger is
// ever wanted: the next test has the one that is wanted for a moment.
TEST_F(Operator, ARestartOfAConvergedOperatorMakesNoWrites) {
  const int kWorkloads = 12;
  for (int i = 0; i < kWorkloads; ++i) {
    json env = i % 4 == 0 ? json::array({entry("OTEL_PROPAGATORS", "b3")}) : json::array();
    workload(ns_, "w" + std::to_string(i), {{"app", "w"}}, env);
  }
  op_->start();
  apply_policy(root_, "cluster", {{"exporter", {{"endpoint", "http://collector.obs.svc:4317"}}}});
  apply_policy(ns_, "p", {{"sampling", {{"ratio", "0.4"}}}});
  for (int i = 0; i < kWorkloads; ++i) {
    ASSERT_TRUE(wait_var(ns_, "w" + std::to_string(i), "OTEL_TRACES_SAMPLER_ARG", "0.4"));
  }
  ASSERT_TRUE(op_->wait_idle(kWorkloads));
  ASSERT_TRUE(eventually([&] {
    auto s = get_policy(ns_, "p").value("status", json::object());
    return s.value("counts", json::object()).value("configured", -1) == kWorkloads;
  }));
  restart_and_expect_no_writes(kWorkloads);
}

// A namespace policy without an exporter comes first, so its managed Jaeger is created; the root
// policy's exporter then makes it unwanted. Once the Jaeger is gone and the policy's finalizer
// released, the operator is idle, and a restart finds nothing to write.
TEST_F(Operator, AManagedJaegerWantedForAMomentIsRemovedAndARestartThenWritesNothing) {
  const int kWorkloads = 4;
  for (int i = 0; i < kWorkloads; ++i) workload(ns_, "w" + std::to_string(i), {{"app", "w"}});
  op_->start();
  apply_policy(ns_, "p", {{"sampling", {{"ratio", "0.4"}}}});
  ASSERT_TRUE(eventually([&] {
    return jaeger_objects_in(*client_, ns_).count("Deployment/jaeger") == 1;
  })) << "operator log "
      << op_->log_path();
  apply_policy(root_, "cluster", {{"exporter", {{"endpoint", "http://collector.obs.svc:4317"}}}});
  for (int i = 0; i < kWorkloads; ++i) {
    ASSERT_TRUE(wait_var(ns_, "w" + std::to_string(i), "OTEL_EXPORTER_OTLP_ENDPOINT",
                         "http://collector.obs.svc:4317"));
  }
  ASSERT_TRUE(eventually([&] { return jaeger_objects_in(*client_, ns_).empty(); }))
      << json(jaeger_objects_in(*client_, ns_)).dump() << "; operator log " << op_->log_path();
  ASSERT_TRUE(eventually([&] {
    const json f = get_policy(ns_, "p")["metadata"].value("finalizers", json::array());
    return std::find(f.begin(), f.end(), "tracing.rollout.dev/managed-jaeger") == f.end();
  })) << get_policy(ns_, "p")["metadata"];
  restart_and_expect_no_writes(kWorkloads);
}

// A status field another manager owns stays after the operator's apply (server-side apply
// cannot drop it for them), so the stored status differs from the computed one for good. The
// operator applies its status once and then sends nothing more while neither changes, however
// often the status pass runs.
TEST_F(Operator, AStatusFieldAnotherManagerOwnsDoesNotMakeEveryStatusPassWrite) {
  workload(ns_, "w", {{"app", "w"}});
  op_->start();
  apply_policy(ns_, "p", {{"sampling", {{"ratio", "0.4"}}}});
  ASSERT_TRUE(wait_var(ns_, "w", "OTEL_TRACES_SAMPLER_ARG", "0.4"));
  ASSERT_TRUE(eventually([&] {
    auto s = get_policy(ns_, "p").value("status", json::object());
    return s.value("counts", json::object()).value("configured", -1) == 1;
  }));
  const json foreign = {{"apiVersion", naming::kApiVersion},
                        {"kind", naming::kKind},
                        {"metadata", {{"name", "p"}, {"namespace", ns_}}},
                        {"status",
                         {{"conflicts",
                           {{{"workload", ns_ + "/gone"},
                             {"container", "app"},
                             {"variable", "OTEL_TRACES_SAMPLER"},
                             {"reason", "written by someone else"}}}}}}};
  ASSERT_TRUE(op_->wait_idle(1));
  const double policy_passes =
      op_->metric("tracing_operator_reconciles_total{controller=\"policy\"}");
  ASSERT_TRUE(client_->apply(kPolicies, ns_, "p", foreign, {"someone-else", true, "status"}));
  // The operator's pass for that update (coalesced, ~1 s) applies its status once.
  ASSERT_TRUE(eventually([&] {
    return op_->metric("tracing_operator_reconciles_total{controller=\"policy\"}") > policy_passes;
  }));
  ASSERT_TRUE(op_->wait_idle(1));
  EXPECT_EQ(get_policy(ns_, "p")["status"]["conflicts"].size(), 1u)
      << "someone else's entry stays: the operator cannot remove it";

  // Five more status passes, each brought by an edit of the Deployment that changes nothing the
  // operator decides (a label outside every selector).
  const size_t offset = audit_log_size();
  const double passes = op_->metric("tracing_operator_reconciles_total{controller=\"policy\"}");
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(client_->patch(deployments(), ns_, "w",
                               {{"metadata", {{"labels", {{"touched", std::to_string(i)}}}}}},
                               kube::PatchType::kMerge));
    const double before = op_->metric("tracing_operator_reconciles_total{controller=\"policy\"}");
    ASSERT_TRUE(eventually([&] {
      return op_->metric("tracing_operator_reconciles_total{controller=\"policy\"}") > before;
    }));
  }
  ASSERT_TRUE(op_->wait_idle(1));
  EXPECT_GE(op_->metric("tracing_operator_reconciles_total{controller=\"policy\"}") - passes, 5);
  EXPECT_EQ(audit_writes_since(offset, "tracing-operator",
                               "/apis/" + std::string(naming::kGroup) + "/" + naming::kVersion +
                                   "/namespaces/" + ns_ + "/tracingpolicies/p"),
            0)
      << "status passes that found nothing new to say must not write";
}

}  // namespace
}  // namespace tracing::testing

namespace tracing::testing {
namespace {

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs the real Python OpenTelemetry SDK (tests/otel/sdk_probe.py) with nothing but `env` and
// returns what it built.
json run_sdk_probe(const json& env) {
  const char* python = std::getenv("TRACING_OTEL_PYTHON");
  if (!python || !*python) {
    ADD_FAILURE() << "TRACING_OTEL_PYTHON is not set: scripts/test sets it from scripts/otel-venv";
    return json();
  }
  std::string cmd = "env -i";
  for (const auto& e : env) {
    if (e.contains("value"))
      cmd += " " + shell_quote(e["name"].get<std::string>() + "=" + e["value"].get<std::string>());
  }
  cmd += " " + shell_quote(python) + " " +
         shell_quote(std::string(TRACING_SOURCE_DIR) + "/tests/otel/sdk_probe.py");
  std::string out = run_capture(cmd);
  auto j = json::parse(out, nullptr, false);
  EXPECT_TRUE(j.is_object()) << "probe output: " << out;
  return j;
}

TEST_F(Operator, ARealOpenTelemetrySdkBuildsWhatThePolicyMeantFromTheInjectedEnv) {
  workload(ns_, "task-api", {{"app", "task-api"}, {"app.kubernetes.io/name", "task-api"}},
           json::array({entry("LOG_LEVEL", "info")}));
  op_->start();
  apply_policy(
      ns_, "task-api",
      {{"exporter",
        {{"endpoint", "http://collector.obs.svc:4317"}, {"protocol", "grpc"}, {"insecure", true}}},
       {"sampling", {{"sampler", "parentbased_traceidratio"}, {"ratio", "0.25"}}},
       {"propagators", {"tracecontext", "baggage", "b3"}},
       {"resourceAttributes",
        {{"deployment.environment", "prod"}, {"team", "shop floor, \"east\""}}}});
  ASSERT_TRUE(wait_var(ns_, "task-api", "OTEL_TRACES_SAMPLER_ARG", "0.25"));
  json sdk = run_sdk_probe(env(ns_, "task-api"));
  ASSERT_TRUE(sdk.is_object());
  EXPECT_EQ(sdk["errors"], json::object());
  EXPECT_EQ(sdk["warnings"], json::array()) << "the SDK accepted every variable";
  EXPECT_EQ(sdk["sampler_class"], "ParentBasedTraceIdRatio");
  EXPECT_DOUBLE_EQ(sdk["ratio"].get<double>(), 0.25);
  EXPECT_EQ(sdk["exporter"]["exporter_class"],
            "opentelemetry.exporter.otlp.proto.grpc.trace_exporter.OTLPSpanExporter");
  EXPECT_EQ(sdk["exporter"]["endpoint"], "collector.obs.svc:4317");
  EXPECT_EQ(sdk["exporter"]["insecure"], true);
  EXPECT_EQ(sdk["propagators"], json::array({"TraceContextTextMapPropagator",
                                             "W3CBaggagePropagator", "B3SingleFormat"}));
  const json& r = sdk["resource"];
  EXPECT_EQ(r["service.name"], "task-api");
  EXPECT_EQ(r["k8s.namespace.name"], ns_);
  EXPECT_EQ(r["k8s.deployment.name"], "task-api");
  EXPECT_EQ(r["deployment.environment"], "prod");
  EXPECT_EQ(r["team"], "shop floor, \"east\"") << "percent-encoding must round-trip";

  // http/protobuf and a sampler without a ratio.
  apply_policy(
      ns_, "task-api",
      {{"exporter", {{"endpoint", "http://collector.obs.svc:4318"}, {"protocol", "http/protobuf"}}},
       {"sampling", {{"sampler", "always_on"}}}});
  ASSERT_TRUE(wait_var(ns_, "task-api", "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"));
  sdk = run_sdk_probe(env(ns_, "task-api"));
  EXPECT_EQ(sdk["errors"], json::object());
  EXPECT_EQ(sdk["sampler"], "AlwaysOnSampler");
  EXPECT_EQ(sdk["exporter"]["exporter_class"],
            "opentelemetry.exporter.otlp.proto.http.trace_exporter.OTLPSpanExporter");
  EXPECT_EQ(sdk["exporter"]["endpoint"], "http://collector.obs.svc:4318/v1/traces");
}

}  // namespace
}  // namespace tracing::testing

namespace tracing::testing {
namespace {

TEST_F(Operator, ManagedJaegerIsCreatedRepairedAndRemovedWithTheLastPolicy) {
  workload(ns_, "web", {{"app", "web"}});
  op_->start();
  // No exporter endpoint: the workloads report to a managed Jaeger in the root namespace.
  apply_policy(root_, "cluster", {{"sampling", {{"ratio", "0.2"}}}});
  ASSERT_TRUE(wait_var(ns_, "web", "OTEL_EXPORTER_OTLP_ENDPOINT",
                       "http://jaeger-collector." + root_ + ".svc:4317"));
  ASSERT_TRUE(eventually([&] { return jaeger_objects_in(*client_, root_) == kJaegerObjects; }))
      << "have: " << json(jaeger_objects_in(*client_, root_)).dump();
  auto jaeger = client_->get(deployments(), root_, "jaeger");
  ASSERT_TRUE(jaeger);
  const json& pod = (*jaeger)["spec"]["template"]["spec"];
  EXPECT_TRUE(pod["securityContext"].value("runAsNonRoot", false));
  EXPECT_TRUE(pod["containers"][0].contains("readinessProbe"));
  EXPECT_TRUE(pod["containers"][0]["resources"].contains("limits"));
  EXPECT_EQ(var(ns_, "web", "OTEL_EXPORTER_OTLP_ENDPOINT"),
            "http://jaeger-collector." + root_ + ".svc:4317");

  // Drift: a deleted Service comes back.
  ASSERT_TRUE(client_->remove(kServices, root_, "jaeger-query"));
  EXPECT_TRUE(eventually([&] { return client_->get(kServices, root_, "jaeger-query").ok(); }));

  // The last policy goes: so does the Jaeger.
  ASSERT_TRUE(client_->remove(kPolicies, root_, "cluster"));
  EXPECT_TRUE(eventually([&] { return jaeger_objects_in(*client_, root_).empty(); }))
      << "left: " << json(jaeger_objects_in(*client_, root_)).dump();
}

TEST_F(Operator, ANamespacePolicyCannotPlaceItsJaegerInAnotherNamespace) {
  std::string other = make_namespace("other");
  workload(ns_, "web", {{"app", "web"}});
  op_->start();
  apply_policy(ns_, "team", {{"jaeger", {{"mode", "managed"}, {"namespace", other}}}});
  ASSERT_TRUE(wait_var(ns_, "web", "OTEL_EXPORTER_OTLP_ENDPOINT",
                       "http://jaeger-collector." + ns_ + ".svc:4317"));
  ASSERT_TRUE(eventually([&] { return jaeger_objects_in(*client_, ns_) == kJaegerObjects; }));
  EXPECT_TRUE(op_->wait_idle(1));
  EXPECT_TRUE(jaeger_objects_in(*client_, other).empty());
}

// The strategies the managed Jaeger in `ns` serves, parsed.
json strategies(kube::Client& c, const std::string& ns) {
  auto cm = c.get(kube::resources::config_maps(), ns, "jaeger-sampling-strategies");
  if (!cm) return json();
  return json::parse((*cm)["data"].value("strategies.json", "null"), nullptr, false);
}

double service_param(const json& s, const std::string& service) {
  if (!s.is_object()) return -1;
  for (const auto& st : s.value("service_strategies", json::array())) {
    if (st.value("service", "") == service) return st.value("param", -1.0);
  }
  return -1;
}

TEST_F(Operator, RemoteModeRatioChangesAndBumpsWriteNoDeployment) {
  const int kWorkloads = 10;
  for (int i = 0; i < kWorkloads; ++i) {
    std::string name = "svc-" + std::to_string(i);
    workload(ns_, name, {{"app", name}, {"app.kubernetes.io/name", name}});
  }
  op_->start();
  json spec = {{"sampling", {{"mode", "remote"}, {"ratio", "0.1"}}}};
  apply_policy(ns_, "p", spec);
  const std::string arg = "endpoint=http://jaeger-sampling." + ns_ +
                          ".svc:5779,pollingIntervalMs=10000,initialSamplingRate=0.01";
  for (int i = 0; i < kWorkloads; ++i) {
    ASSERT_TRUE(wait_var(ns_, "svc-" + std::to_string(i), "OTEL_TRACES_SAMPLER_ARG", arg));
  }
  EXPECT_EQ(var(ns_, "svc-0", "OTEL_TRACES_SAMPLER"), "parentbased_jaeger_remote");
  ASSERT_TRUE(eventually([&] {
    json s = strategies(*client_, ns_);
    for (int i = 0; i < kWorkloads; ++i) {
      if (service_param(s, "svc-" + std::to_string(i)) != 0.1) return false;
    }
    return true;
  })) << strategies(*client_, ns_).dump();
  ASSERT_TRUE(op_->wait_idle(kWorkloads));

  // After the first rollout: a ratio change and a debug bump touch only the strategies.
  size_t offset = audit_log_size();
  spec["sampling"]["ratio"] = "0.3";
  apply_policy(ns_, "p", spec);
  ASSERT_TRUE(eventually([&] { return service_param(strategies(*client_, ns_), "svc-3") == 0.3; }));
  spec["debug"] = {{"ratio", "1"}, {"duration", "10m"}};
  apply_policy(ns_, "p", spec);
  ASSERT_TRUE(eventually([&] { return service_param(strategies(*client_, ns_), "svc-7") == 1; }));
  ASSERT_TRUE(op_->wait_idle(kWorkloads, 60s, /*timed_requeues_expected=*/true));

  int deployment_writes = 0, strategy_writes = 0;
  std::ifstream in(cp_path("audit.log"));
  in.seekg(static_cast<std::streamoff>(offset));
  std::string line;
  while (std::getline(in, line)) {
    auto ev = json::parse(line, nullptr, false);
    if (!ev.is_object() || ev["user"].value("username", "") != "tracing-operator") continue;
    std::string uri = ev.value("requestURI", "");
    // This namespace only: other tests' leftovers may still be torn down meanwhile.
    if (uri.find("/namespaces/" + ns_ + "/") == std::string::npos) continue;
    if (ev.value("verb", "") == "patch" && uri.find("/deployments/") != std::string::npos) {
      ++deployment_writes;
    }
    if (uri.find("/configmaps/jaeger-sampling-strategies") != std::string::npos) ++strategy_writes;
  }
  EXPECT_EQ(deployment_writes, 0) << "ratio changes and bumps in remote mode restart nothing";
  EXPECT_GE(strategy_writes, 2);
  EXPECT_EQ(var(ns_, "svc-0", "OTEL_TRACES_SAMPLER_ARG"), arg);
}

}  // namespace
}  // namespace tracing::testing

namespace tracing::testing {
namespace {

std::string strategies_text(kube::Client& c, const std::string& ns) {
  auto cm = c.get(kube::resources::config_maps(), ns, "jaeger-sampling-strategies");
  return cm ? (*cm)["data"].value("strategies.json", "") : "";
}

TEST_F(Operator, ARealJaegerServesTheRatiosTheOperatorWroteAndABumpWithinTheReloadInterval) {
  LocalJaeger jaeger;
  workload(ns_, "task-api", {{"app", "task-api"}, {"app.kubernetes.io/name", "task-api"}});
  op_->start();
  json spec = {{"sampling", {{"mode", "remote"}, {"ratio", "0.25"}}}};
  apply_policy(ns_, "p", spec);
  ASSERT_TRUE(
      eventually([&] { return service_param(strategies(*client_, ns_), "task-api") == 0.25; }));
  jaeger.set_strategies(strategies_text(*client_, ns_));  // what the kubelet would mount
  EXPECT_TRUE(eventually([&] { return jaeger.rate("task-api") == 0.25; }, 10s))
      << "served " << jaeger.rate("task-api").value_or(-1);

  spec["debug"] = {{"ratio", "1"}, {"duration", "15m"}, {"reason", "INC-1234"}};
  apply_policy(ns_, "p", spec);
  ASSERT_TRUE(
      eventually([&] { return service_param(strategies(*client_, ns_), "task-api") == 1; }));
  jaeger.set_strategies(strategies_text(*client_, ns_));
  auto written = std::chrono::steady_clock::now();
  EXPECT_TRUE(eventually([&] { return jaeger.rate("task-api") == 1.0; }, 10s));
  EXPECT_LT(std::chrono::steady_clock::now() - written, 3s)
      << "the bump must be served within the 1 s reload interval (plus a poll)";
}

// Runs tests/otel/send_traces.py with exactly `env`: an app configured only by the operator.
json send_traces(const json& env, int n) {
  const char* python = std::getenv("TRACING_OTEL_PYTHON");
  EXPECT_TRUE(python && *python) << "TRACING_OTEL_PYTHON is not set";
  if (!python || !*python) return json();
  std::string cmd = "env -i";
  for (const auto& e : env) {
    if (e.contains("value")) {
      cmd += " " + shell_quote(e["name"].get<std::string>() + "=" + e["value"].get<std::string>());
    }
  }
  cmd += " " + shell_quote(python) + " " +
         shell_quote(std::string(TRACING_SOURCE_DIR) + "/tests/otel/send_traces.py") + " " +
         std::to_string(n);
  std::string out = run_capture(cmd);
  return json::parse(out, nullptr, false);
}

TEST_F(Operator, TracesReachARealJaegerAtTheRatioThePolicySets) {
  LocalJaeger jaeger;
  workload(ns_, "shop-api", {{"app", "shop-api"}, {"app.kubernetes.io/name", "shop-api"}});
  op_->start();
  json spec = {{"exporter",
                {{"endpoint", "http://127.0.0.1:" + std::to_string(jaeger.otlp_grpc())},
                 {"protocol", "grpc"},
                 {"insecure", true}}},
               {"sampling", {{"sampler", "traceidratio"}, {"ratio", "1"}}}};
  apply_policy(ns_, "p", spec);
  ASSERT_TRUE(wait_var(ns_, "shop-api", "OTEL_TRACES_SAMPLER_ARG", "1"));
  json sent = send_traces(env(ns_, "shop-api"), 20);
  ASSERT_TRUE(sent.is_object());
  EXPECT_EQ(sent["sampled"], 20);
  EXPECT_TRUE(eventually([&] { return jaeger.traces("shop-api") == 20; }, 30s))
      << "Jaeger holds " << jaeger.traces("shop-api") << " traces";

  spec["sampling"]["ratio"] = "0";
  apply_policy(ns_, "p", spec);
  ASSERT_TRUE(wait_var(ns_, "shop-api", "OTEL_TRACES_SAMPLER_ARG", "0"));
  sent = send_traces(env(ns_, "shop-api"), 20);
  EXPECT_EQ(sent["sampled"], 0);
  // The first batch arrived whole; nothing of the second can arrive: it was never exported.
  EXPECT_EQ(jaeger.traces("shop-api"), 20);
}

}  // namespace
}  // namespace tracing::testing

namespace tracing::testing {
namespace {

json template_annotations(kube::Client& c, const std::string& ns, const std::string& name) {
  auto d = c.get(deployments(), ns, name);
  return d ? (*d)["spec"]["template"]["metadata"].value("annotations", json::object()) : json();
}

TEST_F(Operator, DaprSidecarsGetTheSameTracingOnBothPathsAndGiveItBack) {
  install_dapr_crd(*client_);
  // The Task API: no Configuration of its own → the operator's "tracing" Configuration.
  dapr_workload(*client_, ns_, "task-api",
                {{"dapr.io/enabled", "true"}, {"dapr.io/app-id", "task-api"}});
  // The worker names its own Configuration, which sets more than tracing.
  json user_config = {
      {"apiVersion", "dapr.io/v1alpha1"},
      {"kind", "Configuration"},
      {"metadata", {{"name", "worker-config"}, {"namespace", ns_}}},
      {"spec",
       {{"tracing",
         {{"samplingRate", "1"},
          {"zipkin", {{"endpointAddress", "http://zipkin.obs.svc:9411/api/v2/spans"}}}}},
        {"metric", {{"enabled", false}}},
        {"features", json::array({{{"name", "Resiliency"}, {"enabled", true}}})}}}};
  auto created =
      client_->apply(kDaprConfigurations, ns_, "worker-config", user_config, {"kubectl", true, ""});
  ASSERT_TRUE(created) << created.error().to_string();
  json before = (*created)["spec"];
  dapr_workload(*client_, ns_, "worker",
                {{"dapr.io/enabled", "true"}, {"dapr.io/config", "worker-config"}});
  op_->start();
  json spec = {{"exporter", {{"endpoint", "http://collector.obs.svc:4317"}, {"insecure", true}}},
               {"sampling", {{"ratio", "0.25"}}},
               {"dapr", {{"mode", "auto"}, {"restartOnChange", true}}}};
  apply_policy(ns_, "p", spec);

  // Created path: Configuration "tracing", and the template points at it.
  ASSERT_TRUE(eventually([&] { return client_->get(kDaprConfigurations, ns_, "tracing").ok(); }));
  json tracing = (*client_->get(kDaprConfigurations, ns_, "tracing"))["spec"]["tracing"];
  EXPECT_EQ(tracing["samplingRate"], "0.25");
  EXPECT_EQ(tracing["otel"], json({{"endpointAddress", "collector.obs.svc:4317"},
                                   {"isSecure", false},
                                   {"protocol", "grpc"}}));
  ASSERT_TRUE(eventually([&] {
    return template_annotations(*client_, ns_, "task-api").value("dapr.io/config", "") == "tracing";
  })) << template_annotations(*client_, ns_, "task-api").dump();

  // Referenced path: only spec.tracing's otel and samplingRate taken over.
  ASSERT_TRUE(eventually([&] {
    auto c = client_->get(kDaprConfigurations, ns_, "worker-config");
    return c && (*c)["spec"]["tracing"].value("samplingRate", "") == "0.25";
  }));
  json taken = (*client_->get(kDaprConfigurations, ns_, "worker-config"))["spec"];
  EXPECT_EQ(taken["tracing"]["otel"]["endpointAddress"], "collector.obs.svc:4317");
  EXPECT_EQ(taken["metric"], before["metric"]);
  EXPECT_EQ(taken["features"], before["features"]);
  EXPECT_EQ(template_annotations(*client_, ns_, "worker").value("dapr.io/config", ""),
            "worker-config")
      << "the workload's own Configuration stays named";

  // restartOnChange: a hash on the pod template that follows the tracing settings.
  std::string hash;
  ASSERT_TRUE(eventually([&] {
    hash = template_annotations(*client_, ns_, "worker")
               .value("tracing.rollout.dev/dapr-tracing-hash", "");
    return !hash.empty();
  }));
  spec["sampling"]["ratio"] = "0.5";
  apply_policy(ns_, "p", spec);
  EXPECT_TRUE(eventually([&] {
    std::string h = template_annotations(*client_, ns_, "worker")
                        .value("tracing.rollout.dev/dapr-tracing-hash", "");
    return !h.empty() && h != hash;
  }));

  // Deleting the policy gives everything back.
  ASSERT_TRUE(client_->remove(kPolicies, ns_, "p"));
  ASSERT_TRUE(eventually([&] { return get_policy(ns_, "p").is_null(); }));
  EXPECT_TRUE(eventually(
      [&] {
        auto c = client_->get(kDaprConfigurations, ns_, "worker-config");
        return c && (*c)["spec"]["tracing"] == before["tracing"];
      },
      30s))
      << client_->get(kDaprConfigurations, ns_, "worker-config")->dump();
  EXPECT_EQ((*client_->get(kDaprConfigurations, ns_, "worker-config"))["spec"]["metric"],
            before["metric"]);
  EXPECT_TRUE(
      eventually([&] { return !client_->get(kDaprConfigurations, ns_, "tracing").ok(); }, 30s))
      << "the operator's own Configuration goes when no workload uses it";
  EXPECT_EQ(template_annotations(*client_, ns_, "task-api"),
            json({{"dapr.io/enabled", "true"}, {"dapr.io/app-id", "task-api"}}));
  EXPECT_EQ(template_annotations(*client_, ns_, "worker"),
            json({{"dapr.io/enabled", "true"}, {"dapr.io/config", "worker-config"}}));
}

TEST_F(Operator, WithoutDaprInstalledThePolicyReportsDaprUnavailableAndNothingElseFails) {
  uninstall_dapr_crd(*client_);
  dapr_workload(*client_, ns_, "task-api", {{"dapr.io/enabled", "true"}});
  op_->start();
  apply_policy(ns_, "p", {{"sampling", {{"ratio", "0.3"}}}});
  ASSERT_TRUE(wait_var(ns_, "task-api", "OTEL_TRACES_SAMPLER_ARG", "0.3"));
  json unavailable;
  ASSERT_TRUE(eventually([&] {
    for (const auto& c : status_of(ns_, "p").value("conditions", json::array())) {
      if (c["type"] == "DaprUnavailable") unavailable = c;
    }
    return unavailable.is_object();
  })) << status_of(ns_, "p").dump();
  EXPECT_EQ(unavailable["status"], "True");
  EXPECT_EQ(template_annotations(*client_, ns_, "task-api"), json({{"dapr.io/enabled", "true"}}));
}

// Dapr installed, then removed, while the operator runs: it asks for Dapr's API every 10 s, so
// within that its Configurations are watched (and the operator's own created), and when the API
// goes they are watched no more and the policy says DaprUnavailable again; no restart.
TEST_F(Operator, DaprInstalledOrRemovedWhileTheOperatorRunsIsFollowedWithoutARestart) {
  uninstall_dapr_crd(*client_);
  dapr_workload(*client_, ns_, "task-api", {{"dapr.io/enabled", "true"}});
  op_->start();
  apply_policy(ns_, "p",
               {{"exporter", {{"endpoint", "http://collector.obs.svc:4317"}, {"insecure", true}}},
                {"sampling", {{"ratio", "0.3"}}}});
  auto unavailable = [&] {
    for (const auto& c : status_of(ns_, "p").value("conditions", json::array())) {
      if (c["type"] == "DaprUnavailable") return c.value("status", "") == "True";
    }
    return false;
  };
  const std::string watched =
      R"(tracing_operator_informer_objects{resource="dapr-configurations"})";
  ASSERT_TRUE(eventually(unavailable)) << status_of(ns_, "p").dump();
  EXPECT_EQ(op_->metric(watched), -1) << "no informer while Dapr's API is not served";

  install_dapr_crd(*client_);
  ASSERT_TRUE(
      eventually([&] { return client_->get(kDaprConfigurations, ns_, "tracing").ok(); }, 60s))
      << "operator log " << op_->log_path();
  EXPECT_TRUE(eventually([&] { return op_->metric(watched) == 1; }));
  EXPECT_TRUE(eventually([&] {
    return template_annotations(*client_, ns_, "task-api").value("dapr.io/config", "") == "tracing";
  }));
  EXPECT_TRUE(eventually([&] { return !unavailable(); }));

  uninstall_dapr_crd(*client_);
  EXPECT_TRUE(eventually([&] { return op_->metric(watched) == -1; }, 60s))
      << "operator log " << op_->log_path();
  EXPECT_TRUE(eventually(unavailable, 60s)) << status_of(ns_, "p").dump();
}

}  // namespace
}  // namespace tracing::testing

namespace tracing::testing {
namespace {

// Plays the Deployment controller for the pacing test (kube-controller-manager is stopped, and
// no kubelet runs pods): writes the status a finished — or failed — rollout has.
void set_rollout_status(kube::Client& c, const std::string& ns, const std::string& name,
                        bool failed = false) {
  auto d = c.get(deployments(), ns, name);
  ASSERT_TRUE(d);
  json status = {{"observedGeneration", (*d)["metadata"]["generation"]},
                 {"replicas", 1},
                 {"updatedReplicas", 1},
                 {"readyReplicas", 1},
                 {"availableReplicas", 1}};
  if (failed) {
    status["availableReplicas"] = 0;
    status["conditions"] = json::array({{{"type", "Progressing"},
                                         {"status", "False"},
                                         {"reason", "ProgressDeadlineExceeded"},
                                         {"message", "test: deadline exceeded"}}});
  }
  json intent = {{"apiVersion", "apps/v1"},
                 {"kind", "Deployment"},
                 {"metadata", {{"name", name}, {"namespace", ns}}},
                 {"status", status}};
  auto r = c.apply(deployments(), ns, name, intent, {"test-deployment-controller", true, "status"});
  ASSERT_TRUE(r) << r.error().to_string();
}

bool rolling(const json& d) {
  return d["metadata"].value("generation", 0) >
         d.value("status", json::object()).value("observedGeneration", 0);
}

// What the test's Deployment controller saw of a wave of rollouts.
struct Wave {
  std::vector<std::string> started;  // in the order their rollouts were first seen
  int max_rolling = 0;               // most rollouts in flight at one poll
};

// Plays the Deployment controller in `ns` until `until(done)` holds (default: every one of
// `total` workloads done), `done` counting workloads not rolling for which `done_with` holds. A
// rollout in flight completes after `polls_to_complete` polls (20 ms apart); `fail`'s exceeds its
// progress deadline instead.
bool play_deployment_controller(kube::Client& c, const std::string& ns, int total,
                                const std::function<bool(const json&)>& done_with, Wave& wave,
                                const std::string& fail = "",
                                std::function<bool(int)> until = nullptr,
                                int polls_to_complete = 3) {
  std::map<std::string, int> seen;  // polls a rollout has been seen in flight
  return eventually(
      [&] {
        auto list = c.list(deployments(), ns);
        if (!list) return false;
        int now_rolling = 0, done = 0;
        for (const auto& d : list->items) {
          std::string name = d["metadata"]["name"];
          if (!rolling(d)) {
            done += done_with(d);
            continue;
          }
          ++now_rolling;
          if (seen[name]++ == 0) {
            wave.started.push_back(name);
          }
          if (name == fail) {
            set_rollout_status(c, ns, name, /*failed=*/true);
          } else if (seen[name] >= polls_to_complete) {
            set_rollout_status(c, ns, name);
          }
        }
        wave.max_rolling = std::max(wave.max_rolling, now_rolling);
        return until ? until(done) : done == total;
      },
      90s);
}

TEST_F(Operator, RolloutsArePacedStopOnAFailedRolloutAndHoldWhilePaused) {
  ASSERT_EQ(controlplane("stop-controller-manager"), 0);
  struct RestartControllerManager {
    ~RestartControllerManager() { controlplane("start-controller-manager"); }
  } restart_kcm;
  const int kWorkloads = 10;
  std::vector<std::string> names;
  for (int i = 0; i < kWorkloads; ++i) {
    names.push_back("w" + std::string(i < 10 ? "0" : "") + std::to_string(i));
    workload(ns_, names.back(), {{"app", "paced"}});
    set_rollout_status(*client_, ns_, names.back());
  }
  op_->start();
  json spec = {{"exporter", {{"endpoint", "http://collector.obs.svc:4317"}}},
               {"sampling", {{"ratio", "0.3"}}},
               {"rollout", {{"maxConcurrent", 2}}}};
  apply_policy(ns_, "p", spec);

  // Done: a workload that finished rolling out with `ratio`.
  auto with_ratio = [](const std::string& ratio) {
    return [ratio](const json& d) {
      for (const auto& e :
           d["spec"]["template"]["spec"]["containers"][0].value("env", json::array())) {
        if (e["name"] == "OTEL_TRACES_SAMPLER_ARG" && e.value("value", "") == ratio) return true;
      }
      return false;
    };
  };
  Wave first;
  ASSERT_TRUE(play_deployment_controller(*client_, ns_, kWorkloads, with_ratio("0.3"), first));
  EXPECT_EQ(first.max_rolling, 2) << "never more than maxConcurrent rolling at once";
  // kstatus itself (sigs.k8s.io/cli-utils, as Flux and kpt compute it) on the live policy:
  // converged, every workload rolled out → Current.
  const bool have_kstatus = !kstatus_of(json::object()).is_null();
  json seen_kstatus;
  auto kstatus_becomes = [&](const std::string& want) {
    if (!have_kstatus) return true;
    bool ok = eventually([&] {
      seen_kstatus = kstatus_of(get_policy(ns_, "p"));
      return seen_kstatus.value("status", "") == want;
    });
    if (!ok) {
      ADD_FAILURE() << "kstatus " << seen_kstatus.dump() << ", expected " << want << "; status "
                    << status_of(ns_, "p").dump();
    }
    return ok;
  };
  kstatus_becomes("Current");
  const std::vector<std::string>& started = first.started;
  // Admission follows namespace/name order; the two holders of the budget's slots may reach the
  // API server in either order, so each start is at most one place ahead of its turn.
  ASSERT_EQ(std::set<std::string>(started.begin(), started.end()),
            std::set<std::string>(names.begin(), names.end()));
  for (size_t i = 0; i < started.size(); ++i) {
    auto turn = std::find(names.begin(), names.end(), started[i]) - names.begin();
    EXPECT_LE(turn, static_cast<long>(i) + 1)
        << started[i] << " started too early: " << json(started).dump();
  }

  // A failed rollout stops the wave and marks the policy Degraded.
  spec["sampling"]["ratio"] = "0.4";
  apply_policy(ns_, "p", spec);
  json degraded;
  auto rollout_failed = [&](int) {
    for (const auto& c : status_of(ns_, "p").value("conditions", json::array())) {
      if (c["type"] == "Degraded") degraded = c;
    }
    return degraded.value("reason", "") == "RolloutFailed";
  };
  Wave failing;
  ASSERT_TRUE(play_deployment_controller(*client_, ns_, kWorkloads, with_ratio("0.4"), failing,
                                         /*fail=*/"w00", rollout_failed))
      << status_of(ns_, "p").dump();
  // Let every held workload be looked at again (each is woken when a rollout ends or fails,
  // and looks again by itself every 10 s) before counting.
  double seen = op_->metric("tracing_operator_reconciles_total{controller=\"workload\"}");
  ASSERT_TRUE(eventually([&] {
    return op_->metric("tracing_operator_reconciles_total{controller=\"workload\"}") >=
           seen + kWorkloads;
  }));
  int with_new_ratio = 0;
  for (const auto& n : names) with_new_ratio += var(ns_, n, "OTEL_TRACES_SAMPLER_ARG") == "0.4";
  EXPECT_LE(with_new_ratio, 2) << "no rollout starts after one failed";
  // For kstatus (Flux, kpt): stalled, not reconciling; and a Warning Event on the policy.
  auto condition_of = [&](const std::string& type) {
    for (const auto& c : status_of(ns_, "p").value("conditions", json::array())) {
      if (c["type"] == type) return json{{"status", c["status"]}, {"reason", c["reason"]}};
    }
    return json::object();
  };
  EXPECT_EQ(condition_of("Stalled"), (json{{"status", "True"}, {"reason", "RolloutFailed"}}));
  EXPECT_EQ(condition_of("Reconciling").value("status", ""), "False");
  kstatus_becomes("Failed");
  EXPECT_TRUE(eventually([&] {
    auto list = client_->list(kube::resources::events(), ns_);
    if (!list) return false;
    for (const auto& e : list->items) {
      if (e.value("reason", "") == "RolloutFailed" && e.value("type", "") == "Warning" &&
          e.value("regarding", json::object()).value("kind", "") == "TracingPolicy" &&
          e.value("regarding", json::object()).value("name", "") == "p") {
        return true;
      }
    }
    return false;
  })) << "a Warning event RolloutFailed on the policy";

  // Recovered, but paused: nothing new starts; unpaused: the wave completes.
  set_rollout_status(*client_, ns_, "w00");
  spec["rollout"]["paused"] = true;
  spec["sampling"]["ratio"] = "0.5";
  apply_policy(ns_, "p", spec);
  double before = op_->metric("tracing_operator_reconciles_total{controller=\"workload\"}");
  // The edit looks at every workload again: wait for that round.
  ASSERT_TRUE(eventually([&] {
    return op_->metric("tracing_operator_reconciles_total{controller=\"workload\"}") >=
           before + kWorkloads;
  }));
  for (const auto& n : names) EXPECT_NE(var(ns_, n, "OTEL_TRACES_SAMPLER_ARG"), "0.5") << n;
  EXPECT_TRUE(eventually([&] {
    return condition_of("Reconciling") == json{{"status", "True"}, {"reason", "Paused"}} &&
           condition_of("Stalled").value("status", "") == "False";
  })) << status_of(ns_, "p").dump();
  kstatus_becomes("InProgress");
  spec["rollout"]["paused"] = false;
  apply_policy(ns_, "p", spec);
  Wave last;
  EXPECT_TRUE(play_deployment_controller(*client_, ns_, kWorkloads, with_ratio("0.5"), last));
  EXPECT_LE(last.max_rolling, 2);
  kstatus_becomes("Current");
  if (!have_kstatus) GTEST_SKIP() << kNoKstatus;
}

TEST_F(Operator, RolloutProgressRunsNoPassAndNoDecisionIsMadeTwice) {
  ASSERT_EQ(controlplane("stop-controller-manager"), 0);
  struct RestartControllerManager {
    ~RestartControllerManager() { controlplane("start-controller-manager"); }
  } restart_kcm;
  const int kWorkloads = 12;
  for (int i = 0; i < kWorkloads; ++i) workload(ns_, "w" + std::to_string(i), {{"app", "w"}});
  op_->start();
  apply_policy(ns_, "p",
               {{"exporter", {{"endpoint", "http://collector.obs.svc:4317"}}},
                {"sampling", {{"ratio", "0.4"}}}});
  for (int i = 0; i < kWorkloads; ++i) {
    ASSERT_TRUE(eventually(
        [&] { return var(ns_, "w" + std::to_string(i), "OTEL_TRACES_SAMPLER_ARG") == "0.4"; }));
  }
  ASSERT_TRUE(op_->wait_idle(kWorkloads));
  const std::string workloads = "tracing_operator_reconciles_total{controller=\"workload\"}";
  const std::string cluster = "tracing_operator_reconciles_total{controller=\"cluster\"}";
  const std::string policies = "tracing_operator_reconciles_total{controller=\"policy\"}";
  const double workloads0 = op_->metric(workloads), cluster0 = op_->metric(cluster),
               policies0 = op_->metric(policies),
               decisions0 = op_->metric("tracing_operator_decisions_total");

  // The Deployment controller's part of every rollout: status updates, two per workload.
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < kWorkloads; ++i) set_rollout_status(*client_, ns_, "w" + std::to_string(i));
  }
  // Then one real change, last: once it is reconciled, every status update before it was seen.
  ASSERT_TRUE(client_->patch(deployments(), ns_, "w0",
                             {{"metadata", {{"annotations", {{"team", "payments"}}}}}},
                             kube::PatchType::kMerge));
  ASSERT_TRUE(eventually([&] { return op_->metric(workloads) >= workloads0 + 1; }));
  ASSERT_TRUE(op_->wait_idle(0));
  EXPECT_EQ(op_->metric(workloads), workloads0 + 1) << "only the real change is reconciled";
  EXPECT_EQ(op_->metric("tracing_operator_decisions_total"), decisions0 + 1)
      << "one decision for the changed workload; the status, Jaeger and Dapr passes reuse the "
         "others";
  EXPECT_LE(op_->metric(cluster), cluster0 + 2) << "the Jaeger and Dapr passes, once each at most";
  EXPECT_GT(op_->metric(policies), policies0) << "the status pass follows the rollouts";
}

// status_tally.h: once a policy's status counts its workloads, a pass reads only those that
// changed since the last one. (That what it keeps equals a count over every workload is checked
// at every pass of every test: OperatorProcess sets TRACING_OPERATOR_VERIFY_STATUS_TALLY.)
TEST_F(Operator, TheStatusPassReadsOnlyTheWorkloadsThatChanged) {
  const int kWorkloads = 30;
  for (int i = 0; i < kWorkloads; ++i) workload(ns_, "w" + std::to_string(i), {{"app", "w"}});
  op_->start();
  apply_policy(ns_, "p",
               {{"exporter", {{"endpoint", "http://collector.obs.svc:4317"}}},
                {"sampling", {{"ratio", "0.4"}}}});
  auto counts = [&] {
    return get_policy(ns_, "p").value("status", json::object()).value("counts", json::object());
  };
  ASSERT_TRUE(eventually([&] { return counts().value("configured", -1) == kWorkloads; }))
      << counts().dump();
  ASSERT_TRUE(op_->wait_idle(kWorkloads));
  const std::string reads = "tracing_operator_status_workload_reads_total";
  const std::string passes = "tracing_operator_reconciles_total{controller=\"policy\"}";
  const double reads0 = op_->metric(reads), passes0 = op_->metric(passes);
  EXPECT_GE(reads0, kWorkloads) << "the first pass counts every workload";

  // One workload opts out: the operator reverts it (a write, and its echo).
  ASSERT_TRUE(
      client_->patch(deployments(), ns_, "w7",
                     {{"metadata", {{"annotations", {{"tracing.rollout.dev/inject", "false"}}}}}},
                     kube::PatchType::kMerge));
  EXPECT_TRUE(eventually([&] {
    json c = counts();
    return c.value("optedOut", -1) == 1 && c.value("matched", -1) == kWorkloads - 1 &&
           c.value("configured", -1) == kWorkloads - 1;
  })) << counts().dump();
  ASSERT_TRUE(op_->wait_idle(0));
  EXPECT_GT(op_->metric(passes), passes0) << "the status followed the change";
  EXPECT_GT(op_->metric(reads), reads0);
  EXPECT_LT(op_->metric(reads) - reads0, kWorkloads)
      << "the passes read the workload that changed, not all " << kWorkloads << " again";
}

TEST_F(Operator, RevertsArePacedByTheDeletedPolicyAndAHeldDeletionSaysWhichWorkloads) {
  ASSERT_EQ(controlplane("stop-controller-manager"), 0);
  struct RestartControllerManager {
    ~RestartControllerManager() { controlplane("start-controller-manager"); }
  } restart_kcm;
  const int kWorkloads = 6;
  std::vector<std::string> names;
  for (int i = 0; i < kWorkloads; ++i) {
    names.push_back("w" + std::to_string(i));
    workload(ns_, names.back(), {{"app", "paced"}});
    set_rollout_status(*client_, ns_, names.back());
  }
  // The harness turns the flag's bound off (no kubelet here); this test sets it.
  op_->start({"--max-concurrent-reverts=3"});
  auto has_sampler_arg = [](bool want) {
    return [want](const json& d) {
      bool has = false;
      for (const auto& e :
           d["spec"]["template"]["spec"]["containers"][0].value("env", json::array())) {
        has = has || e["name"] == "OTEL_TRACES_SAMPLER_ARG";
      }
      return has == want;
    };
  };

  // 1. A policy with rollout.maxConcurrent 2: its deletion reverts 2 at a time.
  json spec = {{"exporter", {{"endpoint", "http://collector.obs.svc:4317"}}},
               {"rollout", {{"maxConcurrent", 2}}}};
  apply_policy(ns_, "p", spec);
  Wave configure;
  ASSERT_TRUE(
      play_deployment_controller(*client_, ns_, kWorkloads, has_sampler_arg(true), configure));
  ASSERT_TRUE(client_->remove(kPolicies, ns_, "p"));
  Wave revert;
  // Rollouts of half a second: long enough for every admitted revert to be seen rolling at once.
  ASSERT_TRUE(play_deployment_controller(*client_, ns_, kWorkloads, has_sampler_arg(false), revert,
                                         "", nullptr, 25))
      << op_->log_path();
  EXPECT_EQ(revert.max_rolling, 2) << "the deleted policy's rollout.maxConcurrent";
  ASSERT_TRUE(eventually([&] { return get_policy(ns_, "p").is_null(); }));

  // 2. Without rollout settings: --max-concurrent-reverts (3).
  apply_policy(ns_, "q", {{"exporter", {{"endpoint", "http://collector.obs.svc:4317"}}}});
  Wave configure_q;
  ASSERT_TRUE(
      play_deployment_controller(*client_, ns_, kWorkloads, has_sampler_arg(true), configure_q));
  EXPECT_EQ(configure_q.max_rolling, kWorkloads) << "rollouts without maxConcurrent: unpaced";
  ASSERT_TRUE(client_->remove(kPolicies, ns_, "q"));
  Wave revert_q;
  ASSERT_TRUE(play_deployment_controller(*client_, ns_, kWorkloads, has_sampler_arg(false),
                                         revert_q, "", nullptr, 25));
  EXPECT_EQ(revert_q.max_rolling, 3) << "--max-concurrent-reverts";
  ASSERT_TRUE(eventually([&] { return get_policy(ns_, "q").is_null(); }));

  // 3. Paused: the deletion waits, and the policy's status names the workloads holding it.
  apply_policy(ns_, "r", spec);
  Wave configure_r;
  ASSERT_TRUE(
      play_deployment_controller(*client_, ns_, kWorkloads, has_sampler_arg(true), configure_r));
  spec["rollout"]["paused"] = true;
  apply_policy(ns_, "r", spec);
  ASSERT_TRUE(client_->remove(kPolicies, ns_, "r"));
  json degraded;
  ASSERT_TRUE(eventually([&] {
    for (const auto& c : status_of(ns_, "r").value("conditions", json::array())) {
      if (c["type"] == "Degraded") degraded = c;
    }
    return degraded.value("reason", "") == "DeletionHeld" &&
           degraded.value("message", "").find("held up by 6 workload(s)") != std::string::npos;
  })) << status_of(ns_, "r").dump()
      << "\noperator log " << op_->log_path();
  const std::string message = degraded["message"];
  EXPECT_NE(message.find("held up by 6 workload(s)"), std::string::npos) << message;
  EXPECT_NE(message.find(ns_ + "/w0: the revert waits: rollouts of " + ns_ +
                         "/r are paused (rollout.paused)"),
            std::string::npos)
      << message;
  for (const auto& n : names) {
    EXPECT_NE(var(ns_, n, "OTEL_TRACES_SAMPLER_ARG"), "<unset>") << n << " reverted while paused";
  }
  // Unpaused (a deleting object's spec can still be edited): the deletion completes.
  spec["rollout"]["paused"] = false;
  apply_policy(ns_, "r", spec);
  Wave revert_r;
  ASSERT_TRUE(
      play_deployment_controller(*client_, ns_, kWorkloads, has_sampler_arg(false), revert_r));
  EXPECT_LE(revert_r.max_rolling, 2);
  EXPECT_TRUE(eventually([&] { return get_policy(ns_, "r").is_null(); }));
}

// §9 bounds a policy's workloads rolling at once, whichever the change: when one edit of a policy
// makes half its workloads revert (no longer selected) and rolls a new ratio out to the others,
// both kinds share maxConcurrent.
TEST_F(Operator, APolicysRevertsAndRolloutsShareItsMaxConcurrent) {
  ASSERT_EQ(controlplane("stop-controller-manager"), 0);
  struct RestartControllerManager {
    ~RestartControllerManager() { controlplane("start-controller-manager"); }
  } restart_kcm;
  const int kWorkloads = 8;
  for (int i = 0; i < kWorkloads; ++i) {
    workload(ns_, "w" + std::to_string(i),
             {{"app", "paced"}, {"half", i % 2 == 0 ? "even" : "odd"}});
    set_rollout_status(*client_, ns_, "w" + std::to_string(i));
  }
  op_->start();
  json spec = {{"selector", {{"matchLabels", {{"app", "paced"}}}}},
               {"exporter", {{"endpoint", "http://collector.obs.svc:4317"}}},
               {"sampling", {{"ratio", "0.3"}}},
               {"rollout", {{"maxConcurrent", 2}}}};
  apply_policy(ns_, "p", spec);
  auto arg_of = [](const json& d) -> std::string {
    for (const auto& e :
         d["spec"]["template"]["spec"]["containers"][0].value("env", json::array())) {
      if (e["name"] == "OTEL_TRACES_SAMPLER_ARG") return e.value("value", "");
    }
    return "<unset>";
  };
  Wave configure;
  ASSERT_TRUE(play_deployment_controller(
      *client_, ns_, kWorkloads, [&](const json& d) { return arg_of(d) == "0.3"; }, configure));
  // One edit: the even half leaves p's selector (reverts, paced by p, which governed them), and
  // the odd half gets a new ratio (rollouts).
  spec["selector"]["matchExpressions"] = {
      {{"key", "half"}, {"operator", "NotIn"}, {"values", {"even"}}}};
  spec["sampling"]["ratio"] = "0.6";
  apply_policy(ns_, "p", spec);
  Wave both;
  ASSERT_TRUE(play_deployment_controller(
      *client_, ns_, kWorkloads,
      [&](const json& d) {
        const int i = std::stoi(d["metadata"]["name"].get<std::string>().substr(1));
        return arg_of(d) == (i % 2 == 0 ? "<unset>" : "0.6");
      },
      both, "", nullptr, 25))
      << op_->log_path();
  EXPECT_EQ(both.max_rolling, 2) << "reverts and rollouts of p together: at most maxConcurrent; "
                                 << ::testing::PrintToString(both.started);
  bool reverts = false, rollouts = false;
  for (const auto& name : both.started) {
    (std::stoi(name.substr(1)) % 2 == 0 ? reverts : rollouts) = true;
  }
  EXPECT_TRUE(reverts && rollouts) << "both kinds of change rolled in this wave";
}

}  // namespace
}  // namespace tracing::testing

namespace tracing::testing {
namespace {

// The Java app of tests/otel/java-remote (OpenTelemetry Java SDK autoconfiguration with the
// Jaeger remote sampler), running as one process the test talks to over its stdin/stdout.
class JavaApp {
 public:
  explicit JavaApp(const std::map<std::string, std::string>& env) {
    const char* jar = std::getenv("TRACING_OTEL_JAVA_JAR");
    EXPECT_TRUE(jar && *jar) << "TRACING_OTEL_JAVA_JAR is not set: scripts/test sets it";
    if (!jar || !*jar) return;
    int in[2], out[2];
    if (::pipe(in) != 0 || ::pipe(out) != 0) return;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addclose(&fa, in[1]);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    std::vector<std::string> envs = {"PATH=" + std::string(std::getenv("PATH"))};
    for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& e : envs) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::string java = "java", dash = "-jar", path = jar;
    std::vector<char*> argv = {java.data(), dash.data(), path.data(), nullptr};
    if (posix_spawnp(&pid_, "java", &fa, nullptr, argv.data(), envp.data()) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    ::close(in[0]);
    ::close(out[1]);
    to_ = ::fdopen(in[1], "w");
    from_ = ::fdopen(out[0], "r");
  }
  ~JavaApp() {
    if (to_) {
      std::fputs("quit\n", to_);
      std::fclose(to_);
    }
    if (from_) std::fclose(from_);
    if (pid_ > 0) ::waitpid(pid_, nullptr, 0);
  }
  pid_t pid() const { return pid_; }
  // Sends `n` traces named `name`; returns how many the SDK sampled (-1 on failure).
  int send(int n, const std::string& name) {
    if (!to_ || !from_) return -1;
    std::fprintf(to_, "send %d %s\n", n, name.c_str());
    std::fflush(to_);
    char line[512];
    if (!std::fgets(line, sizeof line, from_)) return -1;
    auto j = json::parse(line, nullptr, false);
    return j.is_object() ? j.value("sampled", -1) : -1;
  }

 private:
  pid_t pid_ = -1;
  FILE* to_ = nullptr;
  FILE* from_ = nullptr;
};

// The env an app runs with here: `entries`, exactly what the operator wrote into a workload of
// namespace `ns`, with the cluster's Service names resolved to the local `jaeger` (there is no
// cluster DNS here), a 1 s poll instead of 10 s, and no metrics or logs export.
std::map<std::string, std::string> local_env(const json& entries, const std::string& ns,
                                             const LocalJaeger& jaeger) {
  std::map<std::string, std::string> env;
  for (const auto& e : entries) env[e["name"]] = e.value("value", "");
  auto replace = [](std::string s, const std::string& from, const std::string& to) {
    auto at = s.find(from);
    return at == std::string::npos ? s : s.replace(at, from.size(), to);
  };
  env["OTEL_EXPORTER_OTLP_ENDPOINT"] =
      replace(env["OTEL_EXPORTER_OTLP_ENDPOINT"], "jaeger-collector." + ns + ".svc:4317",
              "127.0.0.1:" + std::to_string(jaeger.otlp_grpc()));
  env["OTEL_TRACES_SAMPLER_ARG"] =
      replace(replace(env["OTEL_TRACES_SAMPLER_ARG"], "jaeger-sampling." + ns + ".svc:5779",
                      "127.0.0.1:" + std::to_string(jaeger.sampling_grpc())),
              "pollingIntervalMs=10000", "pollingIntervalMs=1000");
  env["OTEL_METRICS_EXPORTER"] = "none";
  env["OTEL_LOGS_EXPORTER"] = "none";
  return env;
}

TEST_F(Operator, InRemoteModeABumpRaisesTheSampledFractionOfARunningAppWithoutARestart) {
  LocalJaeger jaeger;
  workload(ns_, "orders", {{"app", "orders"}, {"app.kubernetes.io/name", "orders"}});
  op_->start();
  json spec = {{"sampling", {{"mode", "remote"}, {"ratio", "0"}, {"remoteInitialRatio", "0"}}}};
  apply_policy(ns_, "p", spec);
  ASSERT_TRUE(eventually([&] { return service_param(strategies(*client_, ns_), "orders") == 0; }));
  jaeger.set_strategies(strategies_text(*client_, ns_));
  ASSERT_TRUE(eventually([&] { return jaeger.rate("orders") == 0.0; }, 10s));

  std::map<std::string, std::string> env = local_env(this->env(ns_, "orders"), ns_, jaeger);
  ASSERT_EQ(env["OTEL_TRACES_SAMPLER"], "parentbased_jaeger_remote");
  JavaApp app(env);
  ASSERT_GT(app.pid(), 0);
  EXPECT_EQ(app.send(50, "base"), 0) << "ratio 0: nothing sampled";

  // A debug bump: only the strategies change; the running app follows within its poll.
  spec["debug"] = {{"ratio", "1"}, {"duration", "15m"}};
  apply_policy(ns_, "p", spec);
  ASSERT_TRUE(eventually([&] { return service_param(strategies(*client_, ns_), "orders") == 1; }));
  jaeger.set_strategies(strategies_text(*client_, ns_));
  EXPECT_TRUE(eventually([&] { return app.send(5, "probe") == 5; }, 30s));
  EXPECT_EQ(app.send(50, "bumped"), 50) << "the same process, now sampling everything";
  EXPECT_TRUE(eventually([&] { return jaeger.traces("orders") >= 50; }, 30s))
      << "Jaeger holds " << jaeger.traces("orders");
}

// The per-operation strategies of `service` in a strategies file: operation → param.
std::map<std::string, double> operation_params(const json& s, const std::string& service) {
  std::map<std::string, double> out;
  if (!s.is_object()) return out;
  for (const auto& st : s.value("service_strategies", json::array())) {
    if (st.value("service", "") != service) continue;
    for (const auto& op : st.value("operation_strategies", json::array())) {
      out[op.value("operation", "")] = op.value("param", -1.0);
    }
  }
  return out;
}

// §5 "one operation": the bump samples POST /tasks of a running app at 1 and leaves GET /tasks
// at the base 0, with no restart, and ends by itself at `until`.
TEST_F(Operator, InRemoteModeAnOperationsBumpSamplesOnlyThatOperationUntilItEnds) {
  LocalJaeger jaeger;
  workload(ns_, "tasks", {{"app", "tasks"}, {"app.kubernetes.io/name", "tasks"}});
  op_->start();
  json spec = {{"sampling", {{"mode", "remote"}, {"ratio", "0"}, {"remoteInitialRatio", "0"}}}};
  apply_policy(ns_, "p", spec);
  ASSERT_TRUE(eventually([&] { return service_param(strategies(*client_, ns_), "tasks") == 0; }));
  jaeger.set_strategies(strategies_text(*client_, ns_));
  ASSERT_TRUE(eventually([&] { return jaeger.rate("tasks") == 0.0; }, 10s));
  ASSERT_TRUE(op_->wait_idle(1));
  const size_t offset = audit_log_size();

  std::map<std::string, std::string> env = local_env(this->env(ns_, "tasks"), ns_, jaeger);
  ASSERT_EQ(env["OTEL_TRACES_SAMPLER"], "parentbased_jaeger_remote");
  JavaApp app(env);
  ASSERT_GT(app.pid(), 0);
  EXPECT_EQ(app.send(20, "POST /tasks"), 0) << "ratio 0: nothing sampled";

  // A bump of POST /tasks only, for 30 s (until: the bump ends at that instant by itself).
  const auto until = std::chrono::system_clock::now() + 30s;
  spec["debug"] = {
      {"ratio", "1"},
      {"until", controllers::format_rfc3339(std::chrono::ceil<std::chrono::seconds>(until))},
      {"operations", {"POST /tasks"}},
      {"reason", "INC-7 slow task creation"}};
  apply_policy(ns_, "p", spec);
  ASSERT_TRUE(eventually([&] {
    return operation_params(strategies(*client_, ns_), "tasks") ==
           std::map<std::string, double>{{"POST /tasks", 1}};
  })) << strategies_text(*client_, ns_);
  EXPECT_EQ(service_param(strategies(*client_, ns_), "tasks"), 0) << "the service stays at 0";
  jaeger.set_strategies(strategies_text(*client_, ns_));
  ASSERT_TRUE(eventually([&] { return app.send(1, "POST /tasks") == 1; }, 15s))
      << "the running app never sampled POST /tasks";
  EXPECT_EQ(app.send(20, "POST /tasks"), 20) << "the bumped operation: every trace";
  EXPECT_EQ(app.send(20, "GET /tasks"), 0) << "another operation of the same service: none";
  EXPECT_TRUE(eventually([&] { return jaeger.traces("tasks", "POST /tasks") >= 21; }, 30s))
      << "Jaeger holds " << jaeger.traces("tasks", "POST /tasks") << " POST /tasks traces";
  EXPECT_EQ(jaeger.traces("tasks", "GET /tasks"), 0);

  // Status and printer columns say which operations are bumped.
  json debug = status_of(ns_, "p").value("debug", json::object());
  EXPECT_EQ(debug.value("scope", ""), "POST /tasks") << debug.dump();
  EXPECT_EQ(debug.value("operations", json()), json::array({"POST /tasks"})) << debug.dump();
  const std::string table = kubectl("get tp p -n " + ns_);
  EXPECT_NE(table.find("DEBUG-SCOPE"), std::string::npos) << table;
  EXPECT_NE(table.find("POST /tasks"), std::string::npos) << table;

  // At `until` the operation strategy goes by itself; the app stops sampling it.
  ASSERT_TRUE(
      eventually([&] { return operation_params(strategies(*client_, ns_), "tasks").empty(); }, 45s))
      << strategies_text(*client_, ns_);
  EXPECT_LT(std::chrono::system_clock::now() - until, 5s) << "the bump outlived its until";
  jaeger.set_strategies(strategies_text(*client_, ns_));
  ASSERT_TRUE(eventually([&] { return app.send(1, "POST /tasks") == 0; }, 15s));
  EXPECT_EQ(app.send(20, "POST /tasks"), 0);
  EXPECT_EQ(app.send(20, "GET /tasks"), 0);
  EXPECT_TRUE(eventually([&] { return status_of(ns_, "p")["debug"].value("expired", false); }));
  // All of it without a Deployment write: only the strategies changed.
  EXPECT_EQ(audit_writes_since(offset, "tracing-operator",
                               "/apis/apps/v1/namespaces/" + ns_ + "/deployments"),
            0);
}

// With an external Jaeger the operator writes no sampling strategies, so a bump reaches no
// workload sampling remotely from it, whether for the whole service or for operations: the policy
// says so (DebugNeedsManagedJaeger), and the condition clears once its Jaeger is a managed one.
TEST_F(Operator, WithAnExternalJaegerABumpReachesNoRemoteWorkloadAndSaysSo) {
  workload(ns_, "tasks", {{"app", "tasks"}});
  op_->start();
  json spec = {
      {"exporter", {{"endpoint", "http://collector.obs.svc:4317"}}},
      {"jaeger", {{"mode", "external"}, {"samplingEndpoint", "http://jaeger.obs.svc:5779"}}},
      {"sampling", {{"mode", "remote"}, {"ratio", "0.1"}}}};
  apply_policy(ns_, "p", spec);
  ASSERT_TRUE(wait_var(ns_, "tasks", "OTEL_TRACES_SAMPLER", "parentbased_jaeger_remote"));
  ASSERT_TRUE(op_->wait_idle(1));
  auto degraded = [&] {
    for (const auto& c : status_of(ns_, "p").value("conditions", json::array())) {
      if (c["type"] == "Degraded") return c;
    }
    return json::object();
  };
  EXPECT_EQ(degraded().value("status", ""), "False") << status_of(ns_, "p").dump();
  const size_t offset = audit_log_size();
  const std::string message =
      "spec.debug: 1 workloads it applies to sample remotely from a Jaeger the operator does not "
      "manage (spec.jaeger.mode external), whose sampling strategies it does not write; the bump "
      "reaches none of them: raise the ratio in that Jaeger's strategies, or set "
      "spec.jaeger.mode managed";
  spec["debug"] = {{"ratio", "1"}, {"duration", "15m"}};
  apply_policy(ns_, "p", spec);
  ASSERT_TRUE(eventually([&] {
    return degraded().value("reason", "") == "DebugNeedsManagedJaeger";
  })) << status_of(ns_, "p").dump();
  EXPECT_EQ(degraded().value("status", ""), "True");
  EXPECT_EQ(degraded().value("message", ""), message);

  spec["debug"]["operations"] = {"POST /tasks"};
  apply_policy(ns_, "p", spec);
  ASSERT_TRUE(eventually([&] {
    return status_of(ns_, "p")["debug"].value("operations", json::array()) ==
           json::array({"POST /tasks"});
  })) << status_of(ns_, "p").dump();
  EXPECT_EQ(degraded().value("reason", ""), "DebugNeedsManagedJaeger");
  EXPECT_EQ(degraded().value("message", ""), message);
  ASSERT_TRUE(op_->wait_idle(1, 60s, /*timed_requeues_expected=*/true));
  EXPECT_EQ(audit_writes_since(offset, "tracing-operator",
                               "/apis/apps/v1/namespaces/" + ns_ + "/deployments"),
            0)
      << "a bump in remote mode writes no workload";

  // A managed Jaeger serves the bump, and the condition clears.
  spec.erase("exporter");
  spec["jaeger"] = {{"mode", "managed"}};
  apply_policy(ns_, "p", spec);
  EXPECT_TRUE(eventually([&] {
    return operation_params(strategies(*client_, ns_), "tasks") ==
           std::map<std::string, double>{{"POST /tasks", 1}};
  })) << strategies_text(*client_, ns_);
  EXPECT_TRUE(eventually([&] { return degraded().value("status", "") == "False"; }))
      << status_of(ns_, "p").dump();
}

// In restart mode an env sampler cannot select operations: the bump applies to nothing, and
// the policy says so (OperationsNeedRemote) instead of widening it to the whole service.
TEST_F(Operator, InRestartModeAnOperationsBumpAppliesToNothingAndSaysSo) {
  workload(ns_, "tasks", {{"app", "tasks"}});
  op_->start();
  json spec = {{"sampling", {{"ratio", "0.1"}}}};
  apply_policy(ns_, "p", spec);
  ASSERT_TRUE(wait_var(ns_, "tasks", "OTEL_TRACES_SAMPLER_ARG", "0.1"));
  ASSERT_TRUE(op_->wait_idle(1));
  const size_t offset = audit_log_size();
  spec["debug"] = {{"ratio", "1"}, {"duration", "15m"}, {"operations", {"POST /tasks"}}};
  apply_policy(ns_, "p", spec);
  json degraded;
  ASSERT_TRUE(eventually([&] {
    for (const auto& c : status_of(ns_, "p").value("conditions", json::array())) {
      if (c["type"] == "Degraded") degraded = c;
    }
    return degraded.value("reason", "") == "OperationsNeedRemote";
  })) << status_of(ns_, "p").dump();
  EXPECT_EQ(degraded.value("message", ""),
            "spec.debug.operations: 1 workloads it applies to sample in restart mode, whose env "
            "samplers cannot select operations; the bump applies to none of them (it is not "
            "widened to the whole service): set spec.sampling.mode remote");
  ASSERT_TRUE(op_->wait_idle(1, 60s, /*timed_requeues_expected=*/true));
  EXPECT_EQ(var(ns_, "tasks", "OTEL_TRACES_SAMPLER_ARG"), "0.1");
  EXPECT_EQ(audit_writes_since(offset, "tracing-operator",
                               "/apis/apps/v1/namespaces/" + ns_ + "/deployments"),
            0)
      << "nothing written to the workload";
  EXPECT_EQ(status_of(ns_, "p")["effective"].value("ratio", ""), "0.1");

  // In remote mode the same bump is served, and the condition clears.
  spec["sampling"]["mode"] = "remote";
  apply_policy(ns_, "p", spec);
  EXPECT_TRUE(eventually([&] {
    return operation_params(strategies(*client_, ns_), "tasks") ==
           std::map<std::string, double>{{"POST /tasks", 1}};
  })) << strategies_text(*client_, ns_);
  EXPECT_TRUE(eventually([&] {
    for (const auto& c : status_of(ns_, "p").value("conditions", json::array())) {
      if (c["type"] == "Degraded") return c.value("reason", "") != "OperationsNeedRemote";
    }
    return false;
  })) << status_of(ns_, "p").dump();

  // An operator restart keeps the bump's clock (status.debug.startedAt) and what it serves.
  const std::string started = status_of(ns_, "p")["debug"].value("startedAt", "");
  ASSERT_FALSE(started.empty());
  op_->stop();
  op_->start();
  ASSERT_TRUE(op_->wait_idle(1, 60s, /*timed_requeues_expected=*/true));
  EXPECT_EQ(status_of(ns_, "p")["debug"].value("startedAt", ""), started);
  EXPECT_EQ(operation_params(strategies(*client_, ns_), "tasks"),
            (std::map<std::string, double>{{"POST /tasks", 1}}));

  // Removing spec.debug reverts the operation strategy; the service keeps its ratio.
  spec.erase("debug");
  apply_policy(ns_, "p", spec);
  EXPECT_TRUE(eventually([&] {
    return operation_params(strategies(*client_, ns_), "tasks").empty();
  })) << strategies_text(*client_, ns_);
  EXPECT_EQ(service_param(strategies(*client_, ns_), "tasks"), 0.1);
}

}  // namespace
}  // namespace tracing::testing

namespace tracing::testing {
namespace {

TEST_F(Operator, DaprHashRestartsArePacedLikeEnvChanges) {
  install_dapr_crd(*client_);
  ASSERT_EQ(controlplane("stop-controller-manager"), 0);
  struct RestartControllerManager {
    ~RestartControllerManager() { controlplane("start-controller-manager"); }
  } restart_kcm;
  const int kWorkloads = 4;
  for (int i = 0; i < kWorkloads; ++i) {
    std::string name = "d" + std::to_string(i);
    dapr_workload(*client_, ns_, name, {{"dapr.io/enabled", "true"}});
    set_rollout_status(*client_, ns_, name);
  }
  op_->start();
  // Remote mode: a ratio change leaves the env alone, so only the Dapr hash rolls the pods.
  json spec = {
      {"exporter", {{"endpoint", "http://collector.obs.svc:4317"}}},
      {"jaeger", {{"mode", "external"}, {"samplingEndpoint", "http://jaeger.obs.svc:5779"}}},
      {"sampling", {{"mode", "remote"}, {"ratio", "0.3"}}},
      {"dapr", {{"restartOnChange", true}}},
      {"rollout", {{"maxConcurrent", 1}}}};
  apply_policy(ns_, "p", spec);
  auto hash_of = [](const json& d) {
    return d["spec"]["template"]["metadata"]
        .value("annotations", json::object())
        .value("tracing.rollout.dev/dapr-tracing-hash", "");
  };
  Wave initial;
  ASSERT_TRUE(play_deployment_controller(
      *client_, ns_, kWorkloads, [&](const json& d) { return !hash_of(d).empty(); }, initial));
  std::string first_hash = hash_of(*client_->get(deployments(), ns_, "d0"));
  spec["sampling"]["ratio"] = "0.6";  // new Dapr samplingRate → new hash → a paced wave
  json env_before = env(ns_, "d0");
  apply_policy(ns_, "p", spec);
  Wave wave;
  ASSERT_TRUE(play_deployment_controller(
      *client_, ns_, kWorkloads,
      [&](const json& d) { return !hash_of(d).empty() && hash_of(d) != first_hash; }, wave));
  EXPECT_EQ(wave.max_rolling, 1) << "Dapr tracing changes roll one workload at a time here";
  EXPECT_EQ(env(ns_, "d0"), env_before) << "only the Dapr hash changed the pod template";
}

}  // namespace
}  // namespace tracing::testing
