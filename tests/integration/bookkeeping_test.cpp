// The operator's bookkeeping on workloads (SPEC §4: validated before it is acted on; tampered or
// foreign-owned bookkeeping is reported, never replayed), end to end against the real API server:
// what a user, a GitOps tool or a hostile tenant with edit rights on Deployments can do to the
// annotations the finalizer and the revert rely on.
#include "controllers/naming.h"
#include "tests/integration/operator_fixture.h"

namespace tracing::testing {
namespace {

using kube::resources::deployments;

class Bookkeeping : public OperatorTest {
 protected:
  json get_or_null(const kube::Resource& r, const std::string& ns, const std::string& name) {
    auto got = client_->get(r, ns, name);
    return got ? *got : json();
  }

  json condition(const std::string& ns, const std::string& policy, const std::string& type) {
    json p = get_or_null(kPolicies, ns, policy);
    if (!p.is_object()) return json();
    for (const auto& c : p.value("status", json::object()).value("conditions", json::array())) {
      if (c.value("type", "") == type) return c;
    }
    return json();
  }

  json container_env(const std::string& ns, const std::string& name,
                     const std::string& container = "app") {
    json d = get_or_null(deployments(), ns, name);
    if (!d.is_object()) return json();
    for (const auto& c : d["spec"]["template"]["spec"]["containers"]) {
      if (c["name"] == container) return c.value("env", json::array());
    }
    return json();
  }

  std::string var(const std::string& ns, const std::string& name, const std::string& variable,
                  const std::string& container = "app") {
    for (const auto& e : container_env(ns, name, container)) {
      if (e["name"] == variable) return e.value("value", "");
    }
    return "<unset>";
  }

  std::string annotation(const std::string& ns, const std::string& name, const char* key) {
    json d = get_or_null(deployments(), ns, name);
    if (!d.is_object()) return "<gone>";
    return d["metadata"].value("annotations", json::object()).value(key, "<unset>");
  }

  // The managers owning metadata.annotations[key] of the Deployment.
  std::set<std::string> owners(const std::string& ns, const std::string& name, const char* key) {
    std::set<std::string> out;
    json d = get_or_null(deployments(), ns, name);
    if (!d.is_object()) return out;
    for (const auto& m : d["metadata"].value("managedFields", json::array())) {
      const json f = m.value("fieldsV1", json::object());
      if (f.value("f:metadata", json::object())
              .value("f:annotations", json::object())
              .contains("f:" + std::string(key))) {
        out.insert(m.value("manager", ""));
      }
    }
    return out;
  }

  // Warning events with `reason` about the object named `name` in `ns`.
  int warnings(const std::string& ns, const std::string& name, const std::string& reason) {
    auto list = client_->list(kube::resources::events(), ns);
    int n = 0;
    if (!list) return n;
    for (const auto& e : list->items) {
      n += e.value("reason", "") == reason && e.value("type", "") == "Warning" &&
           e.value("regarding", json::object()).value("name", "") == name;
    }
    return n;
  }

  void patch_as(const std::string& manager, const std::string& ns, const std::string& name,
                const json& patch, kube::PatchType type = kube::PatchType::kMerge) {
    auto r = client_->patch(deployments(), ns, name, patch, type, "", manager);
    ASSERT_TRUE(r) << r.error().to_string();
  }
};

TEST_F(Bookkeeping, ACopiedOrEditedPoliciesAnnotationHoldsNoDeletionAndIsTakenBack) {
  workload(ns_, "web", {{"app", "web"}});
  op_->start();
  apply_policy(
      ns_, "p",
      {{"selector", {{"matchLabels", {{"app", "web"}}}}}, {"sampling", {{"ratio", "0.5"}}}});
  ASSERT_TRUE(eventually([&] { return var(ns_, "web", "OTEL_TRACES_SAMPLER_ARG") == "0.5"; }))
      << op_->log_path();
  const std::string key = ns_ + "/p";
  ASSERT_EQ(annotation(ns_, "web", naming::kPoliciesAnnotation), key);

  // A Deployment the policy does not select carries a copy of the annotation (an export applied
  // elsewhere, or a tenant who wants to hold the policy's deletion forever).
  workload(ns_, "copy", {{"app", "copy"}});
  patch_as("kubectl-annotate", ns_, "copy",
           {{"metadata", {{"annotations", {{naming::kPoliciesAnnotation, key}}}}}});

  // Someone edits the operator's record on the workload it configured.
  patch_as("kubectl-edit", ns_, "web",
           {{"metadata", {{"annotations", {{naming::kPoliciesAnnotation, key + ",x/forged"}}}}}});
  // The operator writes its own record back (forcing only that field), and says so.
  ASSERT_TRUE(eventually([&] {
    return annotation(ns_, "web", naming::kPoliciesAnnotation) == key &&
           owners(ns_, "web", naming::kPoliciesAnnotation) ==
               std::set<std::string>{naming::kFieldManager};
  })) << get_or_null(deployments(), ns_, "web").dump()
      << "\noperator log " << op_->log_path();
  EXPECT_TRUE(eventually([&] { return warnings(ns_, "web", "UntrustedRecord") >= 1; }));
  EXPECT_EQ(var(ns_, "web", "OTEL_TRACES_SAMPLER_ARG"), "0.5") << "nothing else moved";

  // Deleting the policy: the copy holds nothing up and is not touched.
  ASSERT_TRUE(client_->remove(kPolicies, ns_, "p"));
  ASSERT_TRUE(eventually([&] { return get_or_null(kPolicies, ns_, "p").is_null(); }))
      << "the finalizer waited on a copy of its annotation: "
      << get_or_null(kPolicies, ns_, "p").dump() << "\noperator log " << op_->log_path();
  EXPECT_EQ(var(ns_, "web", "OTEL_TRACES_SAMPLER_ARG"), "<unset>") << "reverted";
  EXPECT_EQ(annotation(ns_, "web", naming::kPoliciesAnnotation), "<unset>");
  EXPECT_EQ(annotation(ns_, "copy", naming::kPoliciesAnnotation), key);
  for (const auto& m : get_or_null(deployments(), ns_, "copy")["metadata"]["managedFields"]) {
    EXPECT_NE(m.value("manager", ""), naming::kFieldManager)
        << "someone else's Deployment was written to: " << m.dump();
  }
}

TEST_F(Bookkeeping, ARecordNamingAContainerThatWentDoesNotBlockTheRevert) {
  // The sidecar sets its own service name, which `override` takes over and records.
  json sidecar =
      json::array({{{"name", "sidecar"},
                    {"image", "registry.k8s.io/pause:3.10"},
                    {"env", json::array({{{"name", "OTEL_SERVICE_NAME"}, {"value", "legacy"}}})}}});
  json app_env = json::array({{{"name", "PORT"}, {"value", "8080"}}});
  workload(ns_, "web", {{"app", "web"}}, app_env, sidecar);
  op_->start();
  apply_policy(ns_, "p", {{"override", true}, {"sampling", {{"ratio", "0.5"}}}});
  ASSERT_TRUE(eventually([&] { return var(ns_, "web", "OTEL_SERVICE_NAME", "sidecar") == "web"; }))
      << op_->log_path();
  ASSERT_NE(annotation(ns_, "web", naming::kOverriddenAnnotation).find("sidecar"),
            std::string::npos);

  // While the operator is down, the team removes the sidecar and deletes the policy. The
  // operator's record still names the sidecar: replayed as it is, the restore patch would add a
  // container without an image (422), and every revert would fail, holding the policy forever.
  op_->stop();
  json d = get_or_null(deployments(), ns_, "web");
  ASSERT_EQ(d["spec"]["template"]["spec"]["containers"][1]["name"], "sidecar");
  patch_as("kubectl-edit", ns_, "web",
           json::array({{{"op", "remove"}, {"path", "/spec/template/spec/containers/1"}}}),
           kube::PatchType::kJson);
  ASSERT_TRUE(client_->remove(kPolicies, ns_, "p"));
  op_->start();
  ASSERT_TRUE(eventually([&] { return get_or_null(kPolicies, ns_, "p").is_null(); }))
      << "the revert is stuck: " << get_or_null(kPolicies, ns_, "p").dump() << "\noperator log "
      << op_->log_path();
  EXPECT_EQ(container_env(ns_, "web"), app_env) << "the app container is as it was";
  EXPECT_EQ(annotation(ns_, "web", naming::kOverriddenAnnotation), "<unset>");
  EXPECT_TRUE(eventually([&] { return warnings(ns_, "web", "UntrustedRecord") >= 1; }))
      << "the refused record is reported on the workload";
}

TEST_F(Bookkeeping, AnEditedOverriddenRecordIsReportedAndNeverReplayed) {
  json env = json::array({{{"name", "OTEL_SERVICE_NAME"}, {"value", "legacy"}}});
  workload(ns_, "web", {{"app", "web"}}, env);
  op_->start();
  apply_policy(ns_, "p", {{"override", true}, {"sampling", {{"ratio", "0.5"}}}});
  ASSERT_TRUE(eventually([&] { return var(ns_, "web", "OTEL_SERVICE_NAME") == "web"; }))
      << op_->log_path();

  // A tenant rewrites the record so that the revert would "restore" a value of their choosing
  // (here: a reference that expands another variable, under another manager's name).
  json forged = {{"app",
                  {{"OTEL_SERVICE_NAME",
                    {{"entry", {{"name", "OTEL_SERVICE_NAME"}, {"value", "$(DB_PASSWORD)"}}},
                     {"manager", "helm"}}}}}};
  patch_as("mallory", ns_, "web",
           {{"metadata", {{"annotations", {{naming::kOverriddenAnnotation, forged.dump()}}}}}});

  // Reported on the policy, naming the workload and who changed it.
  ASSERT_TRUE(eventually([&] {
    json c = condition(ns_, "p", "Degraded");
    return c.value("reason", "") == "UntrustedRecord" &&
           c.value("message", "").find(ns_ + "/web") != std::string::npos &&
           c.value("message", "").find("mallory") != std::string::npos;
  })) << condition(ns_, "p", "Degraded").dump()
      << "\noperator log " << op_->log_path();

  ASSERT_TRUE(client_->remove(kPolicies, ns_, "p"));
  ASSERT_TRUE(eventually([&] { return get_or_null(kPolicies, ns_, "p").is_null(); }))
      << op_->log_path();
  // The forged value was not written; the operator's value was released. The entry itself
  // stays, without a value: its name is still the creator's, and the original "legacy" went
  // with the record (the revert says so in a Warning event).
  EXPECT_EQ(var(ns_, "web", "OTEL_SERVICE_NAME"), "")
      << get_or_null(deployments(), ns_, "web").dump();
  EXPECT_EQ(owners(ns_, "web", naming::kOverriddenAnnotation), std::set<std::string>{"mallory"})
      << "the operator does not write to someone else's annotation";
  EXPECT_TRUE(eventually([&] { return warnings(ns_, "web", "UntrustedRecord") >= 1; }));
}

}  // namespace
}  // namespace tracing::testing
