#include "tests/chaos/invariant.h"

#include <set>
#include <sstream>

#include "controllers/api/policy.h"
#include "controllers/api/time.h"
#include "controllers/api/workload.h"
#include "controllers/dapr.h"
#include "controllers/decision.h"

namespace tracing::testing::chaos {

namespace {

using controllers::Policy;

constexpr const char* kManager = "tracing-operator";
constexpr const char* kPoliciesKey = "tracing.rollout.dev/policies";
constexpr const char* kBookkeepingPrefix = "tracing.rollout.dev/";
constexpr const char* kDaprConfig = "dapr.io/config";
constexpr const char* kDaprHash = "tracing.rollout.dev/dapr-tracing-hash";

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

// The name in a managedFields list key `k:{"name":"app"}`, or "".
std::string key_name(const std::string& key) {
  if (key.rfind("k:", 0) != 0) return "";
  auto j = json::parse(key.substr(2), nullptr, false);
  return j.is_object() ? j.value("name", "") : "";
}

// What field manager `manager`'s Apply entry owns: env variable names per container, and
// metadata annotation keys. Read from the raw managedFields, independently of the operator's
// reading of them.
struct Owned {
  std::map<std::string, std::set<std::string>> env;
  std::set<std::string> annotations;
  std::set<std::string> template_annotations;
};
Owned owned_by(const json& deployment, const std::string& manager) {
  Owned out;
  for (const auto& mf : deployment["metadata"].value("managedFields", json::array())) {
    if (mf.value("manager", "") != manager || mf.value("operation", "") != "Apply") continue;
    const json& f = mf.value("fieldsV1", json::object());
    if (f.contains("f:metadata") && f["f:metadata"].contains("f:annotations")) {
      for (const auto& [k, _] : f["f:metadata"]["f:annotations"].items()) {
        if (k.rfind("f:", 0) == 0) out.annotations.insert(k.substr(2));
      }
    }
    const json* tmpl = nullptr;
    if (f.contains("f:spec") && f["f:spec"].contains("f:template"))
      tmpl = &f["f:spec"]["f:template"];
    if (!tmpl) continue;
    if (tmpl->contains("f:metadata") && (*tmpl)["f:metadata"].contains("f:annotations")) {
      for (const auto& [k, _] : (*tmpl)["f:metadata"]["f:annotations"].items()) {
        if (k.rfind("f:", 0) == 0) out.template_annotations.insert(k.substr(2));
      }
    }
    if (!tmpl->contains("f:spec") || !(*tmpl)["f:spec"].contains("f:containers")) continue;
    for (const auto& [ck, cv] : (*tmpl)["f:spec"]["f:containers"].items()) {
      std::string container = key_name(ck);
      if (container.empty() || !cv.contains("f:env")) continue;
      for (const auto& [ek, ev] : cv["f:env"].items()) {
        std::string var = key_name(ek);
        if (!var.empty()) out.env[container].insert(var);
      }
    }
  }
  return out;
}

std::string annotation(const json& obj, const std::string& key) {
  const json& a = obj["metadata"].value("annotations", json::object());
  return a.contains(key) && a[key].is_string() ? a[key].get<std::string>() : "";
}

// The first way `d` differs from the desired state, or "".
std::string differs(const json& d, const std::vector<const Policy*>& policies,
                    const controllers::Labels& ns_labels, const std::string& root,
                    controllers::WallTime now, bool dapr_served) {
  const controllers::Workload w = controllers::read_workload(d);
  auto cands = controllers::candidates(w, ns_labels, policies, root);
  auto config = controllers::effective_config(cands, now);
  controllers::DesiredEnv desired;
  if (config) desired = controllers::desired_env(*config, w);
  const Owned owned = owned_by(d, kManager);
  // §7, with controllers/dapr.h's pure functions: a workload naming its own Configuration
  // (dapr.io/config the operator did not write) keeps pointing there, any other is pointed at
  // the policy's; with restartOnChange the hash follows the tracing settings.
  if (config && dapr_served) {
    const auto settings = controllers::dapr_settings(config->dapr);
    const controllers::DaprTracing tracing = controllers::dapr_tracing(*config);
    if (controllers::dapr_managed(settings, true, w.template_annotations) &&
        !tracing.endpoint_address.empty()) {
      const bool named_by_user =
          !controllers::referenced_configuration(w.template_annotations).empty() &&
          !owned.template_annotations.count(kDaprConfig);
      if (!named_by_user) desired.template_annotations[kDaprConfig] = settings.configuration_name;
      if (settings.restart_on_change) {
        desired.template_annotations[kDaprHash] = controllers::tracing_hash(tracing);
      }
    }
  }

  std::string want_policies = config ? join(config->policies) : "";
  std::string have_policies = annotation(d, kPoliciesKey);
  if (have_policies != want_policies) {
    return "annotation " + std::string(kPoliciesKey) + " is \"" + have_policies + "\", want \"" +
           want_policies + "\"";
  }
  if (!want_policies.empty() && !owned.annotations.count(kPoliciesKey)) {
    return std::string(kPoliciesKey) + " not owned by the operator";
  }
  const json annotations = d["metadata"].value("annotations", json::object());
  for (const auto& [k, v] : annotations.items()) {
    if (k.rfind(kBookkeepingPrefix, 0) == 0 && k != kPoliciesKey && desired.overridden.empty()) {
      return "unexpected bookkeeping annotation " + k;
    }
  }
  const json& tmeta = d["spec"]["template"]["metadata"];
  const json template_annotations = tmeta.value("annotations", json::object());
  for (const auto& [k, v] : template_annotations.items()) {
    if (k.rfind(kBookkeepingPrefix, 0) == 0 && !desired.template_annotations.count(k)) {
      return "unexpected pod-template annotation " + k;
    }
  }
  for (const auto& [k, v] : desired.template_annotations) {
    if (template_annotations.value(k, "") != v) {
      return "pod-template annotation " + k + " is not \"" + v + "\"";
    }
  }
  for (const auto& k : owned.template_annotations) {
    if (!desired.template_annotations.count(k)) {
      return "pod-template annotation " + k + " still owned by the operator";
    }
  }
  for (const auto& [k, _] : desired.template_annotations) {
    if (!owned.template_annotations.count(k)) {
      return "pod-template annotation " + k + " not owned by the operator";
    }
  }
  for (const auto& c : d["spec"]["template"]["spec"]["containers"]) {
    const std::string name = c.value("name", "");
    std::map<std::string, json> have;
    for (const auto& e : c.value("env", json::array())) {
      const std::string var = e.value("name", "");
      if (var.rfind("OTEL_", 0) != 0) continue;
      if (!have.emplace(var, e).second) return name + ": " + var + " twice";
    }
    std::map<std::string, json> want;
    if (auto it = desired.env.find(name); it != desired.env.end()) {
      for (const auto& e : it->second) want.emplace(e.name, e.entry);
    }
    for (const auto& [var, entry] : want) {
      auto h = have.find(var);
      if (h == have.end()) return name + ": " + var + " missing, want " + entry.dump();
      if (h->second != entry)
        return name + ": " + var + " is " + h->second.dump() + ", want " + entry.dump();
    }
    for (const auto& [var, entry] : have) {
      if (!want.count(var)) return name + ": unexpected " + entry.dump();
    }
    std::set<std::string> want_owned;
    for (const auto& [var, _] : want) want_owned.insert(var);
    auto o = owned.env.find(name);
    std::set<std::string> have_owned = o == owned.env.end() ? std::set<std::string>{} : o->second;
    if (have_owned != want_owned) {
      return name + ": the operator owns " + std::to_string(have_owned.size()) +
             " env entries, want " + std::to_string(want_owned.size());
    }
  }
  return "";
}

}  // namespace

Verdict check(kube::Client& admin, const std::string& ns, const std::string& root,
              int expected_workloads, bool dapr_served) {
  Verdict v;
  auto policy_list = admin.list(kPolicies, "");
  auto ns_obj = admin.get(kube::resources::namespaces(), "", ns);
  auto deployments = admin.list(kube::resources::deployments(), ns);
  if (!policy_list || !ns_obj || !deployments) {
    v.mismatches.push_back("cannot read the cluster");
    return v;
  }
  std::vector<Policy> parsed;
  for (const auto& p : policy_list->items) {
    if (auto in_force = controllers::policy_in_force(p, nullptr)) parsed.push_back(*in_force);
  }
  std::vector<const Policy*> ptrs;
  for (const auto& p : parsed) ptrs.push_back(&p);
  controllers::Labels ns_labels;
  const json labels = (*ns_obj)["metadata"].value("labels", json::object());
  for (const auto& [k, val] : labels.items()) {
    if (val.is_string()) ns_labels[k] = val.get<std::string>();
  }
  const auto now = std::chrono::system_clock::now();
  for (const auto& d : deployments->items) {
    ++v.workloads;
    std::string why = differs(d, ptrs, ns_labels, root, now, dapr_served);
    if (!why.empty()) v.mismatches.push_back(d["metadata"].value("name", "") + ": " + why);
  }
  if (v.workloads < expected_workloads) {
    v.mismatches.push_back("only " + std::to_string(v.workloads) + " of " +
                           std::to_string(expected_workloads) + " Deployments left");
  }
  return v;
}

int Writes::ok_total() const {
  int n = 0;
  for (const auto& [_, c] : ok) n += c;
  return n;
}

int Writes::all_total() const {
  int n = 0;
  for (const auto& [_, c] : all) n += c;
  return n;
}

std::string Writes::summary() const {
  std::ostringstream out;
  out << "deployments: " << ok_total() << " answered 2xx of " << all_total() << "; by resource:";
  for (const auto& [r, n] : by_resource) out << " " << r << "=" << n;
  out << "; by code:";
  for (const auto& [c, n] : by_code) out << " " << c << "=" << n;
  if (unauthorized > 0) out << "; refused 401: " << unauthorized;
  return out.str();
}

Writes writes_since(size_t offset, const std::string& ns, const std::string& user) {
  Writes w;
  std::set<std::string> refused;  // audit IDs of 401s (logged at ResponseStarted only)
  for (const std::string& line : audit_lines_since(cp_path("audit.log"), offset)) {
    auto ev = json::parse(line, nullptr, false);
    if (!ev.is_object()) continue;
    const std::string verb = ev.value("verb", "");
    if (verb != "create" && verb != "update" && verb != "patch" && verb != "delete") continue;
    const json& ref = ev.value("objectRef", json::object());
    const int code = ev.value("responseStatus", json::object()).value("code", 0);
    if (code == 401) {
      if (refused.insert(ev.value("auditID", "")).second) ++w.unauthorized;
      continue;
    }
    if (ev.value("stage", "") != "ResponseComplete") continue;
    const json& who = ev.value("user", json::object());
    if (who.value("username", "") != user) continue;
    std::string credential;
    const json& extra = who.value("extra", json::object());
    if (auto id = extra.find("authentication.kubernetes.io/credential-id");
        id != extra.end() && id->is_array() && !id->empty() && (*id)[0].is_string()) {
      credential = (*id)[0].get<std::string>();
    }
    ++w.by_credential[credential];
    w.last_credential = credential;
    if (auto received = controllers::parse_rfc3339(ev.value("requestReceivedTimestamp", ""))) {
      auto& last = w.last_received_by_credential[credential];
      last = std::max(last, *received);
    }
    std::string resource = ref.value("resource", "");
    if (!ref.value("subresource", "").empty()) resource += "/" + ref.value("subresource", "");
    ++w.by_resource[resource];
    ++w.by_code[code];
    if (resource != "events") {
      const std::string object =
          verb + " " + resource + " " + ref.value("namespace", "") + "/" + ref.value("name", "");
      ++w.by_object[object];
      if (code >= 200 && code < 300) ++w.ok_by_object[object];
    }
    if (resource == "deployments" && ref.value("namespace", "") == ns) {
      const std::string name = ref.value("name", "");
      ++w.all[name];
      if (code >= 200 && code < 300) ++w.ok[name];
    }
  }
  return w;
}

std::vector<std::string> labelled_objects(kube::Client& admin,
                                          const std::vector<std::string>& namespaces,
                                          bool dapr_served) {
  std::vector<kube::Resource> kinds = {kube::resources::config_maps(),
                                       {"", "v1", "services", true, "Service"},
                                       kube::resources::deployments()};
  if (dapr_served) kinds.push_back(kDaprConfigurations);
  kube::ListOptions lo;
  lo.label_selector = "app.kubernetes.io/managed-by=tracing-operator";
  std::vector<std::string> out;
  for (const auto& ns : namespaces) {
    for (const auto& r : kinds) {
      auto list = admin.list(r, ns, lo);
      if (!list) {
        out.push_back("cannot list " + r.kind + " in " + ns + ": " + list.error().to_string());
        continue;
      }
      for (const auto& o : list->items) {
        out.push_back(r.kind + " " + ns + "/" + o["metadata"].value("name", ""));
      }
    }
  }
  return out;
}

std::map<std::string, int64_t> generations(kube::Client& admin, const std::string& ns) {
  std::map<std::string, int64_t> out;
  if (auto list = admin.list(kube::resources::deployments(), ns)) {
    for (const auto& d : list->items) {
      out[d["metadata"].value("name", "")] = d["metadata"].value("generation", int64_t{0});
    }
  }
  return out;
}

}  // namespace tracing::testing::chaos
