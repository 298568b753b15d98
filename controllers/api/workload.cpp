// The Deployment projection and the Workload view. Everything here is total: malformed input is
// skipped, never thrown on (nlohmann exceptions are caught at each public entry point).
#include "controllers/api/workload.h"

#include <exception>
#include <set>
#include <string_view>
#include <utility>

#include "controllers/naming.h"

namespace tracing::controllers {
namespace {

constexpr std::string_view kProjectedOwnersKey = "tracingEnvOwners";

// obj[key] when obj is an object holding a non-null value there.
const json* member(const json& obj, const std::string& key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

// A JSON object of strings read leniently (Deployment labels/annotations): others skipped.
Labels lenient_string_map(const json* v, bool (*keep)(std::string_view) = nullptr) {
  Labels out;
  if (!v || !v->is_object()) return out;
  for (const auto& [k, val] : v->items()) {
    if (val.is_string() && (!keep || keep(k))) out[k] = val.get<std::string>();
  }
  return out;
}

// The annotations of `v` the operator reads, moved out (the rest is dropped).
json read_annotations(json& v) {
  json out = json::object();
  if (!v.is_object()) return out;
  for (auto& [k, val] : v.items()) {
    if (is_read_annotation(k)) out[k] = std::move(val);
  }
  return out;
}

// An env entry as the operator keeps it: whole when its value is read, else its name alone.
json read_env_entry(json&& e) {
  const json* name = member(e, "name");
  if (!name || !name->is_string()) return json::object();
  if (is_read_env_value(name->get_ref<const std::string&>())) return std::move(e);
  return json{{"name", *name}};
}

// Moves from[key] into to[key] when present.
void take(json& from, json& to, const std::string& key) {
  if (!from.is_object()) return;
  auto it = from.find(key);
  if (it != from.end()) to[key] = std::move(*it);
}

}  // namespace

bool is_read_annotation(std::string_view key) {
  return key.rfind("tracing.rollout.dev/", 0) == 0 || key.rfind("dapr.io/", 0) == 0;
}

bool is_read_env_value(std::string_view name) { return name.rfind("OTEL_", 0) == 0; }

json project_deployment(json&& deployment) {
  try {
    if (!deployment.is_object()) return json::object();
    json out = json::object();
    take(deployment, out, "apiVersion");
    take(deployment, out, "kind");

    json* meta = deployment.contains("metadata") ? &deployment["metadata"] : nullptr;
    const json* managed = meta ? member(*meta, "managedFields") : nullptr;
    const json* projected = member(deployment, std::string(kProjectedOwnersKey));
    // A projection projected again keeps the owners it already carries.
    out[std::string(kProjectedOwnersKey)] =
        managed || !projected ? owners_to_json(owners_from_managed_fields(managed)) : *projected;

    if (meta && meta->is_object()) {
      json m = json::object();
      for (const char* key : {"name", "namespace", "uid", "resourceVersion", "generation", "labels",
                              "deletionTimestamp"}) {
        take(*meta, m, key);
      }
      if (auto a = meta->find("annotations"); a != meta->end() && a->is_object()) {
        m["annotations"] = read_annotations(*a);
      }
      out["metadata"] = std::move(m);
    }

    auto spec_it = deployment.find("spec");
    if (spec_it != deployment.end() && spec_it->is_object()) {
      json& spec = *spec_it;
      json s = json::object();
      take(spec, s, "replicas");
      auto tmpl_it = spec.find("template");
      if (tmpl_it != spec.end() && tmpl_it->is_object()) {
        json tmpl = json::object();
        auto tmeta = tmpl_it->find("metadata");
        if (tmeta != tmpl_it->end() && tmeta->is_object()) {
          json tm = json::object();
          take(*tmeta, tm, "labels");
          if (auto a = tmeta->find("annotations"); a != tmeta->end() && a->is_object()) {
            tm["annotations"] = read_annotations(*a);
          }
          tmpl["metadata"] = std::move(tm);
        }
        auto pspec = tmpl_it->find("spec");
        if (pspec != tmpl_it->end() && pspec->is_object()) {
          json ps = json::object();
          auto cs = pspec->find("containers");
          if (cs != pspec->end() && cs->is_array()) {
            json containers = json::array();
            for (json& c : *cs) {
              json reduced = json::object();
              take(c, reduced, "name");
              if (auto env = c.find("env"); env != c.end() && env->is_array()) {
                json kept = json::array();
                for (json& e : *env) kept.push_back(read_env_entry(std::move(e)));
                reduced["env"] = std::move(kept);
              }
              containers.push_back(std::move(reduced));
            }
            ps["containers"] = std::move(containers);
          }
          tmpl["spec"] = std::move(ps);
        }
        s["template"] = std::move(tmpl);
      }
      out["spec"] = std::move(s);
    }

    auto status_it = deployment.find("status");
    if (status_it != deployment.end() && status_it->is_object()) {
      json st = json::object();
      for (const char* key : {"observedGeneration", "replicas", "updatedReplicas",
                              "availableReplicas", "readyReplicas"}) {
        take(*status_it, st, key);
      }
      // Of the conditions, what rollout_state() reads: Progressing's type, status and reason.
      if (auto cs = status_it->find("conditions"); cs != status_it->end() && cs->is_array()) {
        json kept = json::array();
        for (json& c : *cs) {
          if (!c.is_object() || c.value("type", "") != "Progressing") continue;
          json r = json::object();
          for (const char* key : {"type", "status", "reason"}) take(c, r, key);
          kept.push_back(std::move(r));
        }
        st["conditions"] = std::move(kept);
      }
      out["status"] = std::move(st);
    }
    return out;
  } catch (const std::exception&) {
    return json::object();
  }
}

Workload workload_from_deployment(const json& deployment) {
  Workload w;
  try {
    const json* meta = member(deployment, "metadata");
    if (meta) {
      if (const json* v = member(*meta, "name"); v && v->is_string())
        w.name = v->get<std::string>();
      if (const json* v = member(*meta, "namespace"); v && v->is_string()) {
        w.ns = v->get<std::string>();
      }
      if (const json* v = member(*meta, "uid"); v && v->is_string()) w.uid = v->get<std::string>();
      w.labels = lenient_string_map(member(*meta, "labels"));
      w.annotations = lenient_string_map(member(*meta, "annotations"), is_read_annotation);
    }
    const json* spec = member(deployment, "spec");
    const json* tmpl = spec ? member(*spec, "template") : nullptr;
    const json* tmeta = tmpl ? member(*tmpl, "metadata") : nullptr;
    if (tmeta) {
      w.template_labels = lenient_string_map(member(*tmeta, "labels"));
      w.template_annotations =
          lenient_string_map(member(*tmeta, "annotations"), is_read_annotation);
    }
    const json* pspec = tmpl ? member(*tmpl, "spec") : nullptr;
    const json* containers = pspec ? member(*pspec, "containers") : nullptr;
    if (containers && containers->is_array()) {
      for (const json& c : *containers) {
        const json* name = member(c, "name");
        if (!name || !name->is_string()) continue;
        Container out{name->get<std::string>(), {}};
        const json* env = member(c, "env");
        if (env && env->is_array()) {
          for (const json& e : *env) {
            const json* ename = member(e, "name");
            if (!ename || !ename->is_string()) continue;
            const std::string& n = ename->get_ref<const std::string&>();
            out.env.push_back({n, is_read_env_value(n) ? e : json{{"name", n}}});
          }
        }
        w.containers.push_back(std::move(out));
      }
    }
    if (const json* projected = member(deployment, std::string(kProjectedOwnersKey))) {
      w.env_owners = owners_from_json(*projected);
    } else {
      w.env_owners = owners_from_managed_fields(meta ? member(*meta, "managedFields") : nullptr);
    }
  } catch (const std::exception&) {
    // Keeps what was read; the typed accessors above are guarded, so this is defence only.
  }
  for (const char* key : {naming::kPoliciesAnnotation, naming::kOverriddenAnnotation,
                          naming::kOriginalOrderAnnotation}) {
    auto it = w.annotations.find(key);
    if (it == w.annotations.end()) continue;
    std::set<std::string> managers;
    if (auto o = w.env_owners.find(kAnnotationOwners); o != w.env_owners.end()) {
      if (auto a = o->second.find(key); a != o->second.end()) managers = a->second;
    }
    if (managers.count(naming::kFieldManager)) continue;
    w.untrusted.push_back({key, std::vector<std::string>(managers.begin(), managers.end())});
    w.annotations.erase(it);
  }
  return w;
}

}  // namespace tracing::controllers
