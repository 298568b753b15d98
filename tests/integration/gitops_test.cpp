// docs/gitops.md, tested: every YAML block of the page against the real kube-apiserver. The Argo
// CD Application, the argocd-cm ConfigMap and the Flux Kustomization are created against Argo
// CD's and Flux's own CRDs (tests/testdata/gitops, upstream bytes) and every setting shown must
// be stored as written; the Deployment is the manifest that forced server-side applies under
// Argo CD's and Flux's field managers sync while the operator runs: its entries stay and it
// writes nothing.
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "controllers/naming.h"
#include "plugin/yaml_json.h"
#include "tests/integration/operator_fixture.h"

namespace tracing::testing {
namespace {

using kube::resources::config_maps;
using kube::resources::custom_resource_definitions;
using kube::resources::deployments;

const std::string kDoc = std::string(TRACING_SOURCE_DIR) + "/docs/gitops.md";
const std::string kCrds = std::string(TRACING_SOURCE_DIR) + "/tests/testdata/gitops/";
const kube::Resource kApplications{"argoproj.io", "v1alpha1", "applications", true, "Application"};
const kube::Resource kKustomizations{"kustomize.toolkit.fluxcd.io", "v1", "kustomizations", true,
                                     "Kustomization"};

// Every ```yaml block of docs/gitops.md, as JSON, by kind.
std::multimap<std::string, json> doc_blocks() {
  std::ifstream in(kDoc);
  std::stringstream text;
  text << in.rdbuf();
  const std::string s = text.str();
  std::multimap<std::string, json> blocks;
  static const std::regex fence("```yaml\n([\\s\\S]*?)```");
  for (std::sregex_iterator it(s.begin(), s.end(), fence), end; it != end; ++it) {
    json block = yaml::yaml_to_json(YAML::Load((*it)[1].str()));
    blocks.emplace(block.value("kind", ""), block);
  }
  return blocks;
}

// Whether `actual` holds everything `expected` says: objects key by key, arrays element by
// element (same length), scalars equal. `where` names the first difference.
bool holds(const json& expected, const json& actual, std::string& where,
           const std::string& path = "") {
  if (expected.is_object()) {
    if (!actual.is_object()) return where = path + " is not an object", false;
    for (const auto& [k, v] : expected.items()) {
      if (!actual.contains(k)) return where = path + "/" + k + " was not stored", false;
      if (!holds(v, actual[k], where, path + "/" + k)) return false;
    }
    return true;
  }
  if (expected.is_array()) {
    if (!actual.is_array() || actual.size() != expected.size()) {
      return where = path + ": " + actual.dump() + " stored", false;
    }
    for (size_t i = 0; i < expected.size(); ++i) {
      if (!holds(expected[i], actual[i], where, path + "/" + std::to_string(i))) return false;
    }
    return true;
  }
  if (expected != actual) return where = path + ": " + actual.dump() + " stored", false;
  return true;
}

class GitOps : public OperatorTest {
 protected:
  // Server-side applies Argo CD's Application CRD and Flux's Kustomization CRD (upstream bytes)
  // and waits until both are served.
  void install_crds() {
    for (const char* file :
         {"argoproj.io_applications.yaml", "kustomize.toolkit.fluxcd.io_kustomizations.yaml"}) {
      const json crd = yaml::load_yaml_file(kCrds + file);
      auto r = client_->apply(custom_resource_definitions(), "",
                              crd["metadata"]["name"].get<std::string>(), crd,
                              {"tracing-tests", true, ""});
      ASSERT_TRUE(r) << file << ": " << r.error().to_string();
    }
    ASSERT_TRUE(eventually([&] {
      auto a = client_->is_served("argoproj.io", "v1alpha1", "applications");
      auto k = client_->is_served("kustomize.toolkit.fluxcd.io", "v1", "kustomizations");
      return a && *a && k && *k;
    })) << "the Application and Kustomization CRDs never served";
  }

  // Removes both CRDs again (their objects go with them) and waits until neither is served, so
  // the control plane is left as the test found it.
  void uninstall_crds() {
    for (const char* name :
         {"applications.argoproj.io", "kustomizations.kustomize.toolkit.fluxcd.io"}) {
      auto s = client_->remove(custom_resource_definitions(), "", name);
      EXPECT_TRUE(s.ok()) << name << ": " << s.error().to_string();
    }
    EXPECT_TRUE(eventually(
        [&] {
          auto a = client_->is_served("argoproj.io", "v1alpha1", "applications");
          auto k = client_->is_served("kustomize.toolkit.fluxcd.io", "v1", "kustomizations");
          return a && !*a && k && !*k;
        },
        60s));
  }

  // Creates the doc's object in `ns` and checks that everything the doc sets was stored.
  json create_as_documented(const kube::Resource& r, json object, const std::string& ns) {
    object["metadata"]["namespace"] = ns;
    json created;
    EXPECT_TRUE(eventually([&] {  // a CRD just served may still answer 404 for a moment
      auto c = client_->create(r, ns, object);
      if (c) created = *c;
      return c.ok();
    })) << object.dump();
    std::string where;
    for (const char* part : {"spec", "data"}) {
      if (!object.contains(part)) continue;
      EXPECT_TRUE(holds(object[part], created.value(part, json()), where, std::string("/") + part))
          << object["kind"] << ": " << where;
    }
    return created;
  }

  std::string manager_of(const json& deployment, const std::string& variable) {
    std::string owners;
    const std::string key = "k:{\"name\":\"" + variable + "\"}";
    for (const auto& mf : deployment["metadata"].value("managedFields", json::array())) {
      const json containers = mf.value(json::json_pointer("/fieldsV1/f:spec/f:template/f:spec/"
                                                          "f:containers"),
                                       json::object());
      for (const auto& [_, c] : containers.items()) {
        if (c.contains("f:env") && c["f:env"].contains(key)) {
          owners += (owners.empty() ? "" : ",") + mf["manager"].get<std::string>();
        }
      }
    }
    return owners;
  }
};

TEST_F(GitOps, ArgoCdsAndFluxsOwnCrdsKeepEverySettingTheDocShows) {
  install_crds();
  if (HasFatalFailure()) return;
  const auto blocks = doc_blocks();
  ASSERT_EQ(blocks.size(), 4u) << "the doc's YAML blocks: a Deployment, an Application, "
                                  "argocd-cm, a Kustomization (each tested below)";

  const json app = create_as_documented(kApplications, blocks.find("Application")->second, ns_);
  EXPECT_EQ(app["spec"]["ignoreDifferences"][0]["managedFieldsManagers"],
            json::array({naming::kFieldManager}));
  EXPECT_EQ(app["spec"]["syncPolicy"]["syncOptions"],
            json::array({"ServerSideApply=true", "RespectIgnoreDifferences=true"}));

  const json cm = create_as_documented(config_maps(), blocks.find("ConfigMap")->second, ns_);
  const json customization = yaml::yaml_to_json(YAML::Load(
      cm["data"]["resource.customizations.ignoreDifferences.apps_Deployment"].get<std::string>()));
  EXPECT_EQ(customization, json({{"managedFieldsManagers", {naming::kFieldManager}}}));

  const json ks = create_as_documented(kKustomizations, blocks.find("Kustomization")->second, ns_);
  EXPECT_EQ(ks["spec"]["ignore"][0]["paths"],
            json::array({"/spec/template/spec/containers/0/env/1/value"}));

  // The check can fail: a setting the schema does not know is pruned, and `holds` says so.
  json typo = blocks.find("Application")->second;
  typo["metadata"]["name"] = "typo";
  typo["spec"]["ignoreDifferences"][0]["managedFieldManagers"] = {naming::kFieldManager};
  typo["metadata"]["namespace"] = ns_;
  auto stored = client_->create(kApplications, ns_, typo);
  ASSERT_TRUE(stored) << stored.error().to_string();
  std::string where;
  EXPECT_FALSE(holds(typo["spec"], (*stored)["spec"], where));
  EXPECT_EQ(where, "/ignoreDifferences/0/managedFieldManagers was not stored");
  uninstall_crds();
}

TEST_F(GitOps, ASyncByArgoCdOrFluxLeavesTheOperatorsEntriesAndTheOperatorWritesNothing) {
  json manifest = doc_blocks().find("Deployment")->second;
  ASSERT_TRUE(manifest.is_object());
  manifest["metadata"]["namespace"] = ns_;
  const std::string name = manifest["metadata"]["name"];
  const auto sync = [&](const std::string& manager) {
    // As Argo CD (ServerSideApply=true: --force-conflicts) and Flux (ForceOwnership) apply.
    auto r = client_->apply(deployments(), ns_, name, manifest, {manager, true, ""});
    EXPECT_TRUE(r) << manager << ": " << r.error().to_string();
    return r ? *r : json();
  };
  sync("argocd-controller");
  op_->start();
  apply_policy(ns_, "tracing",
               {{"selector", {{"matchLabels", {{"app.kubernetes.io/name", name}}}}},
                {"exporter", {{"endpoint", "http://collector.obs.svc:4317"}}},
                {"sampling", {{"ratio", "0.25"}}}});
  json configured;
  ASSERT_TRUE(eventually([&] {
    auto d = client_->get(deployments(), ns_, name);
    if (!d) return false;
    configured = *d;
    return manager_of(configured, "OTEL_TRACES_SAMPLER_ARG") == naming::kFieldManager;
  })) << "never configured; operator log "
      << op_->log_path();
  const json env = configured["spec"]["template"]["spec"]["containers"][0]["env"];
  ASSERT_GT(env.size(), 5u) << env.dump();
  ASSERT_TRUE(op_->wait_idle(1));

  const size_t offset = audit_log_size();
  for (const char* manager : {"argocd-controller", "kustomize-controller", "argocd-controller"}) {
    const json after = sync(manager);
    EXPECT_EQ(after["spec"]["template"]["spec"]["containers"][0]["env"], env) << manager;
    EXPECT_EQ(after["metadata"]["generation"], configured["metadata"]["generation"])
        << manager << ": the sync changed nothing";
    for (const auto& e : env) {
      const std::string var = e["name"];
      if (var.rfind("OTEL_", 0) == 0) {
        EXPECT_EQ(manager_of(after, var), naming::kFieldManager) << manager << ": " << var;
      }
    }
    EXPECT_NE(manager_of(after, "LOG_LEVEL").find(manager), std::string::npos)
        << manager_of(after, "LOG_LEVEL");
  }
  ASSERT_TRUE(op_->wait_idle(0));
  EXPECT_EQ(audit_writes_since(offset), 0) << "the operator wrote after the syncs";
  auto d = client_->get(deployments(), ns_, name);
  ASSERT_TRUE(d);
  EXPECT_EQ((*d)["spec"]["template"]["spec"]["containers"][0]["env"], env);
}

}  // namespace
}  // namespace tracing::testing
