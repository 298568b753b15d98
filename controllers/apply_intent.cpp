#include "controllers/apply_intent.h"

#include <set>

#include "controllers/naming.h"

namespace tracing::controllers {

namespace {

json base_object(const Workload& w) {
  return {{"apiVersion", "apps/v1"},
          {"kind", kind_name(w.kind)},
          {"metadata", {{"name", w.name}, {"namespace", w.ns}}}};
}

std::string annotation(const Workload& w, const char* name) {
  auto it = w.annotations.find(name);
  return it == w.annotations.end() ? "" : it->second;
}

bool owned_by_us(const Workload& w, const std::string& container, const std::string& var) {
  auto c = w.env_owners.find(container);
  if (c == w.env_owners.end()) return false;
  auto v = c->second.find(var);
  return v != c->second.end() && v->second.count(naming::kFieldManager) > 0;
}

const EnvVar* find_env(const Workload& w, const std::string& container, const std::string& var) {
  for (const auto& c : w.containers) {
    if (c.name != container) continue;
    for (const auto& e : c.env) {
      if (e.name == var) return &e;
    }
  }
  return nullptr;
}

// {"container": [names]} for every container in which `override` holds a variable: carried from
// the workload's annotation, or — the first time — its current order without the entries only
// the operator owns (those it appended itself).
json original_order(const Workload& w, const DesiredEnv& desired) {
  json recorded = json::parse(annotation(w, naming::kOriginalOrderAnnotation), nullptr, false);
  if (!recorded.is_object()) recorded = json::object();
  json out = json::object();
  for (const auto& [container, vars] : desired.overridden.items()) {
    if (!vars.is_object() || vars.empty()) continue;
    if (recorded.contains(container) && recorded[container].is_array()) {
      out[container] = recorded[container];
      continue;
    }
    json names = json::array();
    for (const auto& c : w.containers) {
      if (c.name != container) continue;
      for (const auto& e : c.env) {
        bool only_ours = false;
        if (auto o = w.env_owners.find(c.name); o != w.env_owners.end()) {
          if (auto v = o->second.find(e.name); v != o->second.end()) {
            only_ours = v->second.size() == 1 && v->second.count(naming::kFieldManager);
          }
        }
        if (!only_ours || vars.contains(e.name)) names.push_back(e.name);
      }
    }
    out[container] = names;
  }
  return out;
}

}  // namespace

std::string join_policies(const std::vector<std::string>& policies) {
  std::string out;
  for (const auto& p : policies) out += (out.empty() ? "" : ",") + p;
  return out;
}

json apply_intent(const Workload& w, const DesiredEnv& desired,
                  const std::vector<std::string>& policies) {
  json obj = base_object(w);
  json annotations = json::object();
  if (!policies.empty()) annotations[naming::kPoliciesAnnotation] = join_policies(policies);
  if (!desired.overridden.empty()) {
    annotations[naming::kOverriddenAnnotation] = desired.overridden.dump();
    json order = original_order(w, desired);
    if (!order.empty()) annotations[naming::kOriginalOrderAnnotation] = order.dump();
  }
  if (!annotations.empty()) obj["metadata"]["annotations"] = annotations;
  json containers = json::array();
  for (const auto& c : w.containers) {  // the template's container order
    auto it = desired.env.find(c.name);
    if (it == desired.env.end() || it->second.empty()) continue;
    json env = json::array();
    for (const auto& e : it->second) env.push_back(e.entry);
    containers.push_back({{"name", c.name}, {"env", env}});
  }
  if (!containers.empty()) {
    obj["spec"] = {{"template", {{"spec", {{"containers", containers}}}}}};
  }
  if (!desired.template_annotations.empty()) {
    obj["spec"]["template"]["metadata"]["annotations"] = desired.template_annotations;
  }
  return obj;
}

json release_intent(const Workload& w) { return base_object(w); }

bool up_to_date(const Workload& w, const DesiredEnv& desired,
                const std::vector<std::string>& policies) {
  if (annotation(w, naming::kPoliciesAnnotation) != join_policies(policies)) return false;
  std::string overridden = annotation(w, naming::kOverriddenAnnotation);
  if (desired.overridden.empty() ? !overridden.empty() : overridden != desired.overridden.dump()) {
    return false;
  }
  std::string order = annotation(w, naming::kOriginalOrderAnnotation);
  json want_order = desired.overridden.empty() ? json::object() : original_order(w, desired);
  if (want_order.empty() ? !order.empty() : order != want_order.dump()) return false;
  return template_up_to_date(w, desired);
}

bool template_up_to_date(const Workload& w, const DesiredEnv& desired) {
  {
    std::set<std::string> ours;
    if (auto o = w.env_owners.find(kTemplateAnnotationOwners); o != w.env_owners.end()) {
      for (const auto& [key, owners] : o->second) {
        if (owners.count(naming::kFieldManager)) ours.insert(key);
      }
    }
    std::set<std::string> wanted;
    for (const auto& [key, value] : desired.template_annotations) {
      wanted.insert(key);
      auto live = w.template_annotations.find(key);
      if (live == w.template_annotations.end() || live->second != value) return false;
    }
    if (ours != wanted) return false;
  }
  for (const auto& c : w.containers) {
    std::set<std::string> ours;
    if (auto o = w.env_owners.find(c.name); o != w.env_owners.end()) {
      for (const auto& [var, owners] : o->second) {
        if (owners.count(naming::kFieldManager)) ours.insert(var);
      }
    }
    std::set<std::string> wanted;
    if (auto d = desired.env.find(c.name); d != desired.env.end()) {
      for (const auto& e : d->second) {
        wanted.insert(e.name);
        const EnvVar* current = find_env(w, c.name, e.name);
        if (!current || current->entry != e.entry) return false;
      }
    }
    if (ours != wanted) return false;
  }
  return true;
}

bool touched_by_operator(const Workload& w) {
  if (!annotation(w, naming::kPoliciesAnnotation).empty() ||
      !annotation(w, naming::kOverriddenAnnotation).empty() ||
      !annotation(w, naming::kOriginalOrderAnnotation).empty()) {
    return true;
  }
  for (const auto& c : w.containers) {
    for (const auto& e : c.env) {
      if (owned_by_us(w, c.name, e.name)) return true;
    }
  }
  for (const auto& [key, value] : w.template_annotations) {
    if (owned_by_us(w, kTemplateAnnotationOwners, key)) return true;
  }
  return false;
}

std::vector<RestorePatch> restore_patches(const Workload& w, std::vector<std::string>* refused) {
  json originals = trusted_overrides(w, refused);
  // manager → container → entries
  std::map<std::string, std::map<std::string, json>> by_manager;
  for (const auto& [container, vars] : originals.items()) {
    if (!vars.is_object()) continue;
    for (const auto& [var, record] : vars.items()) {
      // Taken back by someone since (an edit moves ownership): their newer value stays.
      if (!owned_by_us(w, container, var)) continue;
      json entry = record["entry"];
      // The current entry holds the operator's "value": clear whichever field the original
      // lacks, or the API server would see both value and valueFrom.
      if (entry.contains("valueFrom")) {
        entry["value"] = nullptr;
      } else {
        entry["valueFrom"] = nullptr;
      }
      std::string manager = record.value("manager", "");
      auto& list = by_manager[manager][container];
      if (list.is_null()) list = json::array();
      list.push_back(entry);
    }
  }
  std::vector<RestorePatch> out;
  for (auto& [manager, containers] : by_manager) {
    json cs = json::array();
    for (auto& [name, env] : containers) cs.push_back({{"name", name}, {"env", env}});
    out.push_back({manager, {{"spec", {{"template", {{"spec", {{"containers", cs}}}}}}}}});
  }
  return out;
}

}  // namespace tracing::controllers

namespace tracing::controllers {

std::optional<json> reorder_patch(const json& deployment, const std::string& recorded_order) {
  json order = json::parse(recorded_order, nullptr, /*allow_exceptions=*/false);
  if (!order.is_object()) return std::nullopt;
  const json containers = deployment.value("spec", json::object())
                              .value("template", json::object())
                              .value("spec", json::object())
                              .value("containers", json::array());
  json ops = json::array();
  for (size_t i = 0; i < containers.size(); ++i) {
    const std::string name = containers[i].value("name", "");
    if (!order.contains(name) || !order[name].is_array()) continue;
    const json env = containers[i].value("env", json::array());
    // Recorded names first, in their recorded order; anything else after, as it is.
    json sorted = json::array();
    std::set<std::string> placed;
    for (const auto& n : order[name]) {
      if (!n.is_string() || placed.count(n.get<std::string>())) continue;
      for (const auto& e : env) {
        if (e.value("name", "") == n.get<std::string>()) {
          sorted.push_back(e);
          placed.insert(n.get<std::string>());
          break;
        }
      }
    }
    for (const auto& e : env) {
      if (!placed.count(e.value("name", ""))) sorted.push_back(e);
    }
    if (sorted != env) {
      ops.push_back({{"op", "replace"},
                     {"path", "/spec/template/spec/containers/" + std::to_string(i) + "/env"},
                     {"value", sorted}});
    }
  }
  if (ops.empty()) return std::nullopt;
  ops.insert(ops.begin(), json{{"op", "test"},
                               {"path", "/metadata/resourceVersion"},
                               {"value", deployment["metadata"].value("resourceVersion", "")}});
  return ops;
}

}  // namespace tracing::controllers

namespace tracing::controllers {

bool json_subset(const json& desired, const json& live) {
  if (desired.is_object()) {
    if (!live.is_object()) return false;
    for (const auto& [k, v] : desired.items()) {
      auto it = live.find(k);
      if (it == live.end() || !json_subset(v, *it)) return false;
    }
    return true;
  }
  if (desired.is_array()) {
    if (!live.is_array() || live.size() != desired.size()) return false;
    for (size_t i = 0; i < desired.size(); ++i) {
      if (!json_subset(desired[i], live[i])) return false;
    }
    return true;
  }
  if (desired.is_number() && live.is_number()) return desired.get<double>() == live.get<double>();
  return desired == live;
}

}  // namespace tracing::controllers

namespace tracing::controllers {

RolloutState rollout_state(const WorkloadRecord& d) {
  const RolloutStatus& st = d.status;
  switch (d.kind) {
    case WorkloadKind::kDeployment:
      if (st.progress_deadline_exceeded) return RolloutState::kFailed;
      if (st.observed_generation < d.generation) return RolloutState::kRolling;
      if (st.updated_replicas < d.replicas) return RolloutState::kRolling;
      if (st.replicas > st.updated_replicas) return RolloutState::kRolling;  // old pods left
      if (st.available_replicas < st.updated_replicas) return RolloutState::kRolling;
      return RolloutState::kComplete;
    case WorkloadKind::kStatefulSet:
      // kubectl answers "only available for RollingUpdate" and done for OnDelete: a template
      // change rolls no pod there.
      if (d.on_delete) return RolloutState::kComplete;
      if (st.observed_generation == 0 || st.observed_generation < d.generation) {
        return RolloutState::kRolling;
      }
      if (st.ready_replicas < d.replicas) return RolloutState::kRolling;
      if (d.partition >= 0) {  // rollingUpdate set (the API server defaults partition 0)
        return st.updated_replicas < d.replicas - d.partition ? RolloutState::kRolling
                                                              : RolloutState::kComplete;
      }
      return st.revisions_differ ? RolloutState::kRolling : RolloutState::kComplete;
    case WorkloadKind::kDaemonSet:
      if (d.on_delete) return RolloutState::kComplete;
      if (st.observed_generation < d.generation) return RolloutState::kRolling;
      if (st.updated_number_scheduled < st.desired_number_scheduled) return RolloutState::kRolling;
      if (st.number_available < st.desired_number_scheduled) return RolloutState::kRolling;
      return RolloutState::kComplete;
  }
  return RolloutState::kComplete;
}

RolloutState rollout_state(const json& workload, WorkloadKind kind) {
  return rollout_state(record_workload(workload, kind));
}

}  // namespace tracing::controllers
