// Ownership (SPEC §8) end to end: the operator's own process and the real API server, with the
// objects a cluster already holds — someone else's ConfigMap, Service or Dapr Configuration under
// a name the operator wants — created before the policy, as a user, a Helm chart or a hostile
// tenant would. The operator must neither write nor delete them, and must say so in the policy's
// status; its own objects must still be created, repaired and deleted.
#include <sys/stat.h>

#include <set>

#include "controllers/naming.h"
#include "tests/integration/operator_fixture.h"

namespace tracing::testing {
namespace {

using kube::resources::config_maps;
using kube::resources::deployments;
using kube::resources::namespaces;

const kube::Resource kServices{"", "v1", "services", true, "Service"};

class Ownership : public OperatorTest {
 protected:
  json get_or_null(const kube::Resource& r, const std::string& ns, const std::string& name) {
    auto got = client_->get(r, ns, name);
    return got ? *got : json();
  }

  // The policy's Degraded condition (null until there is one).
  json degraded(const std::string& ns, const std::string& name) {
    json p = get_or_null(kPolicies, ns, name);
    if (!p.is_object()) return json();
    for (const auto& c : p.value("status", json::object()).value("conditions", json::array())) {
      if (c.value("type", "") == "Degraded") return c;
    }
    return json();
  }

  // Waits until the policy is Degraded for `reason` with a message naming each of `objects`.
  bool wait_degraded(const std::string& ns, const std::string& name, const std::string& reason,
                     const std::vector<std::string>& objects) {
    bool ok = eventually([&] {
      json c = degraded(ns, name);
      if (!c.is_object() || c.value("status", "") != "True" || c.value("reason", "") != reason) {
        return false;
      }
      for (const auto& o : objects) {
        if (c.value("message", "").find(o) == std::string::npos) return false;
      }
      return true;
    });
    if (!ok) {
      ADD_FAILURE() << "policy " << ns << "/" << name << " Degraded: " << degraded(ns, name).dump()
                    << "\noperator log " << op_->log_path();
    }
    return ok;
  }

  bool wait_gone(const kube::Resource& r, const std::string& ns, const std::string& name,
                 std::chrono::milliseconds timeout = 30s) {
    return eventually([&] { return get_or_null(r, ns, name).is_null(); }, timeout);
  }

  // Names ("Kind/name") of the objects in `ns` with the operator's label.
  std::set<std::string> labelled_in(const std::string& ns) {
    std::set<std::string> out;
    kube::ListOptions lo;
    lo.label_selector = "app.kubernetes.io/managed-by=tracing-operator";
    for (const auto& r : {config_maps(), kServices, deployments()}) {
      auto list = client_->list(r, ns, lo);
      if (!list) continue;
      for (const auto& o : list->items) {
        out.insert(r.kind + "/" + o["metadata"]["name"].get<std::string>());
      }
    }
    return out;
  }
};

// Someone else's object, as a Helm release would have created it (server-side apply, manager
// "helm").
json foreign(kube::Client& c, const kube::Resource& r, const json& object) {
  const std::string ns = object["metadata"]["namespace"];
  const std::string name = object["metadata"]["name"];
  auto applied = c.apply(r, ns, name, object, {"helm", true, ""});
  EXPECT_TRUE(applied) << applied.error().to_string();
  return applied ? *applied : json();
}

json foreign_config_map(const std::string& ns, const std::string& name, const json& labels) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", ns}, {"labels", labels}}},
          {"data", {{"enable-ipv4", "true"}, {"cluster-name", "prod"}}}};
}

json foreign_service(const std::string& ns, const std::string& name) {
  json port = {{"name", "otlp-grpc"}, {"port", 4317}, {"protocol", "TCP"}};
  return {
      {"apiVersion", "v1"},
      {"kind", "Service"},
      {"metadata", {{"name", name}, {"namespace", ns}, {"labels", {{"app", "otel-collector"}}}}},
      {"spec", {{"selector", {{"app", "otel-collector"}}}, {"ports", json::array({port})}}}};
}

// A cluster-wide policy asks for a managed Jaeger named like a system component in a namespace
// that already holds that component's ConfigMap and an unrelated collector Service.
TEST_F(Ownership, AJaegerNamedLikeSomeoneElsesObjectsWritesAndDeletesNoneOfThem) {
  std::string sys = make_namespace("sys");
  json config = foreign(*client_, config_maps(),
                        foreign_config_map(sys, "cilium-config", {{"app", "cilium"}}));
  json collector = foreign(*client_, kServices, foreign_service(sys, "jaeger-collector"));
  op_->start();
  apply_policy(root_, "cluster",
               {{"jaeger", {{"mode", "managed"}, {"namespace", sys}, {"name", "cilium"}}}});

  ASSERT_TRUE(wait_degraded(
      root_, "cluster", "NameConflict",
      {"ConfigMap " + sys + "/cilium-config", "Service " + sys + "/jaeger-collector"}));
  ASSERT_TRUE(op_->wait_idle(0));
  EXPECT_EQ(get_or_null(config_maps(), sys, "cilium-config"), config)
      << "the foreign ConfigMap is exactly as its owner left it";
  EXPECT_EQ(get_or_null(kServices, sys, "jaeger-collector"), collector);
  EXPECT_EQ(labelled_in(sys), std::set<std::string>{})
      << "nothing of a Jaeger whose names are taken is created";

  ASSERT_TRUE(client_->remove(kPolicies, root_, "cluster"));
  ASSERT_TRUE(wait_gone(kPolicies, root_, "cluster")) << "operator log " << op_->log_path();
  ASSERT_TRUE(op_->wait_idle(0));
  EXPECT_EQ(get_or_null(config_maps(), sys, "cilium-config"), config)
      << "deleting the policy deletes nothing of someone else's";
  EXPECT_EQ(get_or_null(kServices, sys, "jaeger-collector"), collector);
}

// The operator's label copied onto a foreign object (a chart that sets managed-by from a value,
// a manifest copied from the operator's) — even with a made-up owners annotation — is no proof.
TEST_F(Ownership, TheJaegerPassNeitherTakesOverNorDeletesAnObjectThatOnlyCarriesItsLabel) {
  json labels = {{"app.kubernetes.io/managed-by", "tracing-operator"},
                 {"app.kubernetes.io/name", "jaeger"},
                 {"app.kubernetes.io/instance", "jaeger"}};
  json forged = foreign_config_map(root_, "jaeger-config", labels);
  forged["metadata"]["annotations"] = {
      {"tracing.rollout.dev/owners",
       R"({"object":"ConfigMap )" + root_ +
           R"(/jaeger-config","policies":["11111111-2222-4333-8444-555555555555"]})"}};
  json config = foreign(*client_, config_maps(), forged);
  // And one of an instance nobody wants: the pass that removes unwanted instances meets it.
  json stray_labels = labels;
  stray_labels["app.kubernetes.io/instance"] = "old";
  json stray =
      foreign(*client_, config_maps(), foreign_config_map(root_, "old-config", stray_labels));
  op_->start();
  apply_policy(root_, "cluster", {{"jaeger", {{"mode", "managed"}}}});

  ASSERT_TRUE(wait_degraded(
      root_, "cluster", "NameConflict",
      {"ConfigMap " + root_ + "/jaeger-config", "naming no TracingPolicy that exists"}));
  ASSERT_TRUE(op_->wait_idle(0));
  EXPECT_EQ(get_or_null(config_maps(), root_, "jaeger-config"), config);
  EXPECT_EQ(get_or_null(config_maps(), root_, "old-config"), stray);

  ASSERT_TRUE(client_->remove(kPolicies, root_, "cluster"));
  ASSERT_TRUE(wait_gone(kPolicies, root_, "cluster")) << "operator log " << op_->log_path();
  ASSERT_TRUE(op_->wait_idle(0));
  EXPECT_EQ(get_or_null(config_maps(), root_, "jaeger-config"), config);
  EXPECT_EQ(get_or_null(config_maps(), root_, "old-config"), stray);
}

// The operator's own Jaeger, with the longest name the CRD admits: every object carries the proof
// naming the policy, which holds the Jaeger finalizer; drift is repaired; deleting the policy
// deletes every object, then releases the policy.
TEST_F(Ownership, TheOperatorsOwnJaegerCarriesItsProofIsRepairedAndGoesWithThePolicy) {
  const std::string name(40, 'j');
  op_->start();
  apply_policy(root_, "cluster", {{"jaeger", {{"mode", "managed"}, {"name", name}}}});
  const std::set<std::string> all = {"ConfigMap/" + name + "-config",
                                     "ConfigMap/" + name + "-sampling-strategies",
                                     "Deployment/" + name,
                                     "Service/jaeger-collector",
                                     "Service/jaeger-query",
                                     "Service/jaeger-sampling"};
  ASSERT_TRUE(eventually([&] { return labelled_in(root_) == all; }))
      << json(labelled_in(root_)).dump() << "\noperator log " << op_->log_path();

  json policy = get_or_null(kPolicies, root_, "cluster");
  const std::string uid = policy["metadata"]["uid"];
  std::set<std::string> finalizers;
  for (const auto& f : policy["metadata"]["finalizers"]) finalizers.insert(f);
  EXPECT_TRUE(finalizers.count("tracing.rollout.dev/managed-jaeger")) << policy["metadata"];
  for (const auto& object : all) {
    std::string kind = object.substr(0, object.find('/'));
    std::string n = object.substr(object.find('/') + 1);
    kube::Resource r = kind == "ConfigMap" ? config_maps()
                       : kind == "Service" ? kServices
                                           : deployments();
    json live = get_or_null(r, root_, n);
    EXPECT_EQ(
        live["metadata"]["annotations"].value("tracing.rollout.dev/owners", ""),
        R"({"object":")" + kind + " " + root_ + "/" + n + R"(","policies":[")" + uid + R"("]})")
        << object;
  }
  EXPECT_EQ(degraded(root_, "cluster").value("status", ""), "False");

  // Drift: an edited ConfigMap is put back, a deleted Service comes back.
  const std::string strategies = name + "-sampling-strategies";
  json before = get_or_null(config_maps(), root_, strategies);
  ASSERT_TRUE(client_->patch(config_maps(), root_, strategies,
                             {{"data", {{"strategies.json", "{}"}}}}, kube::PatchType::kMerge));
  EXPECT_TRUE(eventually(
      [&] { return get_or_null(config_maps(), root_, strategies)["data"] == before["data"]; }));
  ASSERT_TRUE(client_->remove(kServices, root_, "jaeger-query"));
  EXPECT_TRUE(eventually([&] { return !get_or_null(kServices, root_, "jaeger-query").is_null(); }));

  ASSERT_TRUE(client_->remove(kPolicies, root_, "cluster"));
  EXPECT_TRUE(eventually([&] { return labelled_in(root_).empty(); }))
      << json(labelled_in(root_)).dump() << "\noperator log " << op_->log_path();
  EXPECT_TRUE(wait_gone(kPolicies, root_, "cluster"))
      << "the Jaeger finalizer is released once its objects are gone";
}

// Two policies ask for the same Jaeger: its objects list both; when one goes they stay, listing
// the other, and the deleted policy is not held.
TEST_F(Ownership, AManagedJaegerSharedByTwoPoliciesStaysWithThePolicyLeft) {
  op_->start();
  apply_policy(root_, "a", {{"jaeger", {{"mode", "managed"}}}});
  apply_policy(root_, "b", {{"jaeger", {{"mode", "managed"}}}});
  ASSERT_TRUE(eventually([&] { return labelled_in(root_).size() == 6; }))
      << json(labelled_in(root_)).dump();
  std::string uid_a = get_or_null(kPolicies, root_, "a")["metadata"]["uid"];
  std::string uid_b = get_or_null(kPolicies, root_, "b")["metadata"]["uid"];
  auto owners = [&] {
    json cm = get_or_null(config_maps(), root_, "jaeger-config");
    if (!cm.is_object()) return json();
    return json::parse(cm["metadata"]["annotations"].value("tracing.rollout.dev/owners", "null"),
                       nullptr, false);
  };
  ASSERT_TRUE(eventually([&] {
    return owners().value("policies", json()) == json(std::set<std::string>{uid_a, uid_b});
  })) << owners();

  ASSERT_TRUE(client_->remove(kPolicies, root_, "a"));
  ASSERT_TRUE(wait_gone(kPolicies, root_, "a")) << "operator log " << op_->log_path();
  EXPECT_TRUE(eventually([&] { return owners().value("policies", json()) == json({uid_b}); }))
      << owners();
  EXPECT_EQ(labelled_in(root_).size(), 6u) << json(labelled_in(root_)).dump();
}

// A tenant's namespace policy names another namespace, which holds a ConfigMap with the name
// its Jaeger would use there: the Jaeger stays in the tenant's namespace, the other is untouched.
TEST_F(Ownership, ANamespacePolicysJaegerStaysInItsNamespaceAndLeavesOthersUntouched) {
  std::string victim = make_namespace("victim");
  json config = foreign(*client_, config_maps(),
                        foreign_config_map(victim, "payments-config", {{"app", "payments"}}));
  op_->start();
  apply_policy(ns_, "team",
               {{"jaeger", {{"mode", "managed"}, {"namespace", victim}, {"name", "payments"}}}});
  ASSERT_TRUE(eventually([&] { return labelled_in(ns_).size() == 6; }))
      << json(labelled_in(ns_)).dump() << "\noperator log " << op_->log_path();
  ASSERT_TRUE(op_->wait_idle(0));
  EXPECT_EQ(labelled_in(victim), std::set<std::string>{});
  EXPECT_EQ(get_or_null(config_maps(), victim, "payments-config"), config);
  EXPECT_NE(degraded(ns_, "team").value("reason", ""), "NameConflict");
}

// jaeger.name and jaeger.namespace become object names: the API server refuses what would not
// make valid names, with a message naming the field.
TEST_F(Ownership, TheCrdRefusesJaegerNamesAndNamespacesThatCannotNameObjects) {
  struct Case {
    json jaeger;
    std::string field;
  };
  const std::vector<Case> cases = {
      {{{"name", "Cilium"}}, "spec.jaeger.name"},
      {{{"name", "jaeger_1"}}, "spec.jaeger.name"},
      {{{"name", "-jaeger"}}, "spec.jaeger.name"},
      {{{"name", std::string(41, 'j')}}, "spec.jaeger.name"},
      {{{"name", ""}}, "spec.jaeger.name"},
      {{{"namespace", "Kube-System"}}, "spec.jaeger.namespace"},
      {{{"namespace", "kube.system"}}, "spec.jaeger.namespace"},
      {{{"namespace", std::string(64, 'n')}}, "spec.jaeger.namespace"},
  };
  for (const auto& c : cases) {
    json spec = {{"jaeger", c.jaeger}};
    spec["jaeger"]["mode"] = "managed";
    json p = {{"apiVersion", "tracing.rollout.dev/v1alpha1"},
              {"kind", "TracingPolicy"},
              {"metadata", {{"name", "bad"}, {"namespace", ns_}}},
              {"spec", spec}};
    auto r = client_->apply(kPolicies, ns_, "bad", p, {"kubectl", true, ""});
    ASSERT_FALSE(r) << c.jaeger.dump() << " was accepted";
    EXPECT_EQ(r.error().code, 422) << r.error().to_string();
    EXPECT_NE(r.error().message.find(c.field), std::string::npos)
        << c.jaeger.dump() << ": " << r.error().message;
  }
  json ok = {{"apiVersion", "tracing.rollout.dev/v1alpha1"},
             {"kind", "TracingPolicy"},
             {"metadata", {{"name", "longest"}, {"namespace", ns_}}},
             {"spec",
              {{"jaeger",
                {{"mode", "managed"},
                 {"name", std::string(40, 'j')},
                 {"namespace", std::string(63, 'n')}}}}}};
  auto r = client_->apply(kPolicies, ns_, "longest", ok, {"kubectl", true, ""});
  EXPECT_TRUE(r) << r.error().to_string();
}

// ---- Dapr ---------------------------------------------------------------------------------------

json user_configuration(const std::string& ns, const std::string& name) {
  return {{"apiVersion", "dapr.io/v1alpha1"},
          {"kind", "Configuration"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec",
           {{"tracing",
             {{"samplingRate", "1"},
              {"zipkin", {{"endpointAddress", "http://zipkin.obs.svc:9411/api/v2/spans"}}}}},
            {"metric", {{"enabled", false}}}}}};
}

const json kDaprPolicy = {
    {"exporter", {{"endpoint", "http://collector.obs.svc:4317"}, {"insecure", true}}},
    {"sampling", {{"ratio", "0.25"}}},
    {"dapr", {{"mode", "auto"}}}};

// A team already has its own Dapr Configuration named "tracing", the name the operator gives
// its own.
TEST_F(Ownership, AUsersDaprConfigurationNamedLikeTheOperatorsIsNeverWrittenOrDeleted) {
  install_dapr_crd(*client_);
  json mine = foreign(*client_, kDaprConfigurations, user_configuration(ns_, "tracing"));
  dapr_workload(*client_, ns_, "task-api", {{"dapr.io/enabled", "true"}});
  op_->start();
  apply_policy(ns_, "p", kDaprPolicy);

  ASSERT_TRUE(wait_degraded(ns_, "p", "NameConflict", {"Dapr Configuration " + ns_ + "/tracing"}));
  ASSERT_TRUE(op_->wait_idle(1));
  EXPECT_EQ(get_or_null(kDaprConfigurations, ns_, "tracing"), mine);
  json policy = get_or_null(kPolicies, ns_, "p");
  for (const auto& f : policy["metadata"].value("finalizers", json::array())) {
    EXPECT_NE(f, "tracing.rollout.dev/dapr-configuration") << "it owns no Configuration";
  }

  ASSERT_TRUE(client_->remove(kPolicies, ns_, "p"));
  ASSERT_TRUE(wait_gone(kPolicies, ns_, "p")) << "operator log " << op_->log_path();
  ASSERT_TRUE(op_->wait_idle(1));
  EXPECT_EQ(get_or_null(kDaprConfigurations, ns_, "tracing"), mine);
}

json template_annotations(kube::Client& c, const std::string& ns, const std::string& name) {
  auto d = c.get(deployments(), ns, name);
  return d ? (*d)["spec"]["template"]["metadata"].value("annotations", json::object()) : json();
}

std::string template_env(kube::Client& c, const std::string& ns, const std::string& name,
                         const std::string& var) {
  auto d = c.get(deployments(), ns, name);
  if (!d) return "";
  for (const auto& e : (*d)["spec"]["template"]["spec"]["containers"][0].value("env", json())) {
    if (e.value("name", "") == var) return e.value("value", "");
  }
  return "";
}

// While a user's Configuration holds the operator's name, the operator points no workload at it
// (the sidecars would read the user's settings, and restartOnChange would roll them for nothing):
// the workload gets its OTEL_* env only, across a restart of the operator too. Once the user
// deletes theirs, the operator creates its own and points the workload there.
TEST_F(Ownership, AWorkloadIsNotPointedAtAUsersDaprConfigurationUntilTheNameIsFree) {
  install_dapr_crd(*client_);
  json mine = foreign(*client_, kDaprConfigurations, user_configuration(ns_, "tracing"));
  dapr_workload(*client_, ns_, "task-api", {{"dapr.io/enabled", "true"}});
  op_->start();
  json spec = kDaprPolicy;
  spec["dapr"]["restartOnChange"] = true;
  apply_policy(ns_, "p", spec);

  ASSERT_TRUE(wait_degraded(ns_, "p", "NameConflict", {"Dapr Configuration " + ns_ + "/tracing"}));
  ASSERT_TRUE(eventually([&] {
    return template_env(*client_, ns_, "task-api", "OTEL_TRACES_SAMPLER_ARG") == "0.25";
  })) << "operator log "
      << op_->log_path();
  ASSERT_TRUE(op_->wait_idle(1));
  EXPECT_EQ(template_annotations(*client_, ns_, "task-api"), json({{"dapr.io/enabled", "true"}}))
      << "neither dapr.io/config nor the tracing hash";
  EXPECT_EQ(get_or_null(kDaprConfigurations, ns_, "tracing"), mine);

  // A restarted operator learns of the conflict before its first workload decision: nothing is
  // pointed there and back (no rollout, no write to the template).
  const json generation = get_or_null(deployments(), ns_, "task-api")["metadata"]["generation"];
  op_->stop();
  op_->start();
  ASSERT_TRUE(eventually([&] {
    return op_->metric("tracing_operator_reconciles_total{controller=\"cluster\"}") >= 2;
  }));
  ASSERT_TRUE(op_->wait_idle(1));
  EXPECT_EQ(get_or_null(deployments(), ns_, "task-api")["metadata"]["generation"], generation)
      << "operator log " << op_->log_path();
  EXPECT_EQ(template_annotations(*client_, ns_, "task-api"), json({{"dapr.io/enabled", "true"}}));
  EXPECT_EQ(get_or_null(kDaprConfigurations, ns_, "tracing"), mine);
  ASSERT_TRUE(wait_degraded(ns_, "p", "NameConflict", {"Dapr Configuration " + ns_ + "/tracing"}));

  // The user deletes theirs: the watch event frees the name.
  ASSERT_TRUE(client_->remove(kDaprConfigurations, ns_, "tracing"));
  ASSERT_TRUE(eventually([&] {
    json c = get_or_null(kDaprConfigurations, ns_, "tracing");
    return c.is_object() &&
           c["metadata"]
                   .value("labels", json::object())
                   .value("app.kubernetes.io/managed-by", "") == "tracing-operator";
  })) << "operator log "
      << op_->log_path();
  EXPECT_EQ(get_or_null(kDaprConfigurations, ns_, "tracing")["spec"]["tracing"]["samplingRate"],
            "0.25");
  ASSERT_TRUE(eventually([&] {
    json a = template_annotations(*client_, ns_, "task-api");
    return a.value("dapr.io/config", "") == "tracing" &&
           !a.value("tracing.rollout.dev/dapr-tracing-hash", "").empty();
  })) << template_annotations(*client_, ns_, "task-api").dump();
  EXPECT_TRUE(eventually([&] {
    json c = degraded(ns_, "p");
    return c.is_object() && c.value("status", "") == "False";
  })) << degraded(ns_, "p").dump();
}

// A policy renamed its Configuration to a name a user's Configuration holds: the workload it had
// pointed at the operator's own is released from it (pointer and hash gone, the operator's
// Configuration deleted), and the user's is neither pointed at nor written.
TEST_F(Ownership, AWorkloadIsReleasedWhenItsPolicyNamesAUsersDaprConfiguration) {
  install_dapr_crd(*client_);
  json theirs = foreign(*client_, kDaprConfigurations, user_configuration(ns_, "shop-tracing"));
  dapr_workload(*client_, ns_, "task-api", {{"dapr.io/enabled", "true"}});
  op_->start();
  json spec = kDaprPolicy;
  spec["dapr"]["restartOnChange"] = true;
  apply_policy(ns_, "p", spec);
  ASSERT_TRUE(eventually([&] {
    json a = template_annotations(*client_, ns_, "task-api");
    return a.value("dapr.io/config", "") == "tracing" &&
           !a.value("tracing.rollout.dev/dapr-tracing-hash", "").empty() &&
           get_or_null(kDaprConfigurations, ns_, "tracing").is_object();
  })) << "operator log "
      << op_->log_path();

  spec["dapr"]["configurationName"] = "shop-tracing";
  apply_policy(ns_, "p", spec);
  ASSERT_TRUE(
      wait_degraded(ns_, "p", "NameConflict", {"Dapr Configuration " + ns_ + "/shop-tracing"}));
  ASSERT_TRUE(eventually([&] {
    return template_annotations(*client_, ns_, "task-api") == json({{"dapr.io/enabled", "true"}});
  })) << template_annotations(*client_, ns_, "task-api").dump();
  EXPECT_TRUE(wait_gone(kDaprConfigurations, ns_, "tracing")) << "no workload reads it any more";
  ASSERT_TRUE(op_->wait_idle(1));
  EXPECT_EQ(template_env(*client_, ns_, "task-api", "OTEL_TRACES_SAMPLER_ARG"), "0.25");
  EXPECT_EQ(get_or_null(kDaprConfigurations, ns_, "shop-tracing"), theirs);
}

// The operator's own Configuration carries the proof, and its policy holds the Dapr finalizer
// until the Configuration is deleted.
TEST_F(Ownership, TheOperatorsOwnDaprConfigurationCarriesItsProofAndGoesWithThePolicy) {
  install_dapr_crd(*client_);
  dapr_workload(*client_, ns_, "task-api", {{"dapr.io/enabled", "true"}});
  op_->start();
  apply_policy(ns_, "p", kDaprPolicy);
  ASSERT_TRUE(eventually([&] {
    return !get_or_null(kDaprConfigurations, ns_, "tracing").is_null();
  })) << "operator log "
      << op_->log_path();
  json policy = get_or_null(kPolicies, ns_, "p");
  json created = get_or_null(kDaprConfigurations, ns_, "tracing");
  EXPECT_EQ(created["metadata"]["labels"].value("app.kubernetes.io/managed-by", ""),
            "tracing-operator");
  EXPECT_EQ(created["metadata"]["annotations"].value("tracing.rollout.dev/owners", ""),
            R"({"object":"Configuration )" + ns_ + R"(/tracing","policies":[")" +
                policy["metadata"]["uid"].get<std::string>() + R"("]})");
  EXPECT_TRUE(eventually([&] {
    for (const auto& f :
         get_or_null(kPolicies, ns_, "p")["metadata"].value("finalizers", json::array())) {
      if (f == "tracing.rollout.dev/dapr-configuration") return true;
    }
    return false;
  }));

  ASSERT_TRUE(client_->remove(kPolicies, ns_, "p"));
  EXPECT_TRUE(wait_gone(kDaprConfigurations, ns_, "tracing")) << "operator log " << op_->log_path();
  EXPECT_TRUE(wait_gone(kPolicies, ns_, "p"));
}

// Configurations are watched, never listed by the Dapr pass: however many passes run, the only
// LIST of Configurations is the informer's own; a user deleting or editing the operator's own
// Configuration gets it repaired from the watch event — with --resync-period 1h and no timer of
// the pass's, nothing else explains it within seconds — and the repair's own echo starts no loop
// of passes.
TEST_F(Ownership, TheDaprPassReadsWatchedConfigurationsAndRepairsADeletionAtOnce) {
  install_dapr_crd(*client_);
  dapr_workload(*client_, ns_, "task-api", {{"dapr.io/enabled", "true"}});
  op_->start({"--resync-period=1h"});
  apply_policy(ns_, "p", kDaprPolicy);
  ASSERT_TRUE(eventually([&] {
    return get_or_null(kDaprConfigurations, ns_, "tracing").is_object();
  })) << "operator log "
      << op_->log_path();
  ASSERT_TRUE(op_->wait_idle(1));
  const std::string lists =
      R"(tracing_operator_api_requests_by_resource_total{verb="list",resource="configurations.dapr.io"})";
  const std::string informer_lists =
      R"(tracing_operator_informer_lists_total{resource="dapr-configurations"})";
  const std::string passes = R"(tracing_operator_reconciles_total{controller="cluster"})";

  // More passes: a label on the workload brings the Jaeger and Dapr passes back.
  const double passes_before = op_->metric(passes);
  for (int i = 0; i < 3; ++i) {
    const double n = op_->metric(passes);
    ASSERT_TRUE(client_->patch(deployments(), ns_, "task-api",
                               {{"metadata", {{"labels", {{"touched", std::to_string(i)}}}}}},
                               kube::PatchType::kMerge));
    ASSERT_TRUE(eventually([&] { return op_->metric(passes) >= n + 2; }));
    ASSERT_TRUE(op_->wait_idle(1));
  }
  EXPECT_GE(op_->metric(passes), passes_before + 6);
  EXPECT_EQ(op_->metric(informer_lists), 1);
  EXPECT_EQ(op_->metric(lists), 1) << "the informer's list only, whatever the passes";

  // Deleted by a user: back at once, as the operator creates it.
  json before = get_or_null(kDaprConfigurations, ns_, "tracing");
  ASSERT_TRUE(client_->remove(kDaprConfigurations, ns_, "tracing"));
  json back;
  EXPECT_TRUE(eventually(
      [&] {
        back = get_or_null(kDaprConfigurations, ns_, "tracing");
        return back.is_object() && back["metadata"]["uid"] != before["metadata"]["uid"];
      },
      10s))
      << "operator log " << op_->log_path();
  EXPECT_EQ(back["spec"]["tracing"], before["spec"]["tracing"]);
  EXPECT_EQ(back["metadata"]["annotations"], before["metadata"]["annotations"]);

  // Edited by a user: its tracing put back at once.
  ASSERT_TRUE(op_->wait_idle(1));
  auto edited = client_->patch(kDaprConfigurations, ns_, "tracing",
                               {{"spec", {{"tracing", {{"samplingRate", "1"}}}}}},
                               kube::PatchType::kMerge, "", "kubectl-edit");
  ASSERT_TRUE(edited) << edited.error().to_string();
  json repaired;
  EXPECT_TRUE(eventually(
      [&] {
        repaired = get_or_null(kDaprConfigurations, ns_, "tracing");
        return repaired["spec"]["tracing"].value("samplingRate", "") == "0.25";
      },
      10s))
      << repaired.dump();

  // Quiet afterwards: the repair's echo brought no pass that writes, and no loop of passes.
  ASSERT_TRUE(op_->wait_idle(1));
  const size_t audit = audit_log_size();
  const double settled = op_->metric(passes);
  EXPECT_FALSE(eventually([&] { return op_->metric(passes) > settled; }, 2s))
      << "passes keep running with nothing changed";
  EXPECT_EQ(audit_writes_since(audit), 0);
  EXPECT_EQ(get_or_null(kDaprConfigurations, ns_, "tracing")["metadata"]["resourceVersion"],
            repaired["metadata"]["resourceVersion"]);
  EXPECT_EQ(op_->metric(lists), 1);
}

// The record of a taken-over Configuration's previous tracing is edited by someone else (here:
// to put a sampling rate of their choosing back when the operator lets go). The operator neither
// carries nor replays it: it reports the Configuration on the policy and writes nothing to it.
TEST_F(Ownership, AnEditedDaprTakeoverRecordIsReportedAndNeverReplayed) {
  install_dapr_crd(*client_);
  foreign(*client_, kDaprConfigurations, user_configuration(ns_, "worker-config"));
  dapr_workload(*client_, ns_, "worker",
                {{"dapr.io/enabled", "true"}, {"dapr.io/config", "worker-config"}});
  op_->start();
  apply_policy(ns_, "p", kDaprPolicy);
  ASSERT_TRUE(eventually([&] {
    json c = get_or_null(kDaprConfigurations, ns_, "worker-config");
    return c.is_object() && c["spec"]["tracing"].value("samplingRate", "") == "0.25" &&
           c["metadata"]
               .value("annotations", json::object())
               .contains(naming::kDaprPreviousAnnotation);
  })) << "operator log "
      << op_->log_path();

  auto edited = client_->patch(
      kDaprConfigurations, ns_, "worker-config",
      {{"metadata",
        {{"annotations",
          {{naming::kDaprPreviousAnnotation, R"({"tracing":{"samplingRate":"0.000001"}})"}}}}}},
      kube::PatchType::kMerge, "", "kubectl-edit");
  ASSERT_TRUE(edited) << edited.error().to_string();
  // Configurations are watched: the edit itself brings the Dapr pass back.
  ASSERT_TRUE(wait_degraded(ns_, "p", "UntrustedRecord",
                            {"Dapr Configuration " + ns_ + "/worker-config", "kubectl-edit"}));
  ASSERT_TRUE(op_->wait_idle(1));
  json after_edit = get_or_null(kDaprConfigurations, ns_, "worker-config");
  EXPECT_EQ(after_edit["metadata"]["resourceVersion"], (*edited)["metadata"]["resourceVersion"])
      << "nothing written since the edit";

  ASSERT_TRUE(client_->remove(kPolicies, ns_, "p"));
  ASSERT_TRUE(wait_gone(kPolicies, ns_, "p")) << "operator log " << op_->log_path();
  ASSERT_TRUE(op_->wait_idle(1));
  json now = get_or_null(kDaprConfigurations, ns_, "worker-config");
  EXPECT_EQ(now["spec"]["tracing"].value("samplingRate", ""), "0.25")
      << "the edited record was not replayed";
  EXPECT_EQ(now["metadata"]["resourceVersion"], (*edited)["metadata"]["resourceVersion"]);
}

}  // namespace
}  // namespace tracing::testing
