// The Workload view and the workload record. Everything here is total: malformed input is
// skipped, never thrown on (nlohmann exceptions are caught at each public entry point).
#include "controllers/api/workload.h"

#include <algorithm>
#include <exception>
#include <limits>
#include <mutex>
#include <set>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "controllers/naming.h"

namespace tracing::controllers {
namespace {

// A JSON object of strings read leniently (Deployment labels/annotations): others skipped.
Labels lenient_string_map(const json* v, bool (*keep)(std::string_view) = nullptr) {
  Labels out;
  if (!v || !v->is_object()) return out;
  for (const auto& [k, val] : v->items()) {
    if (val.is_string() && (!keep || keep(k))) out[k] = val.get<std::string>();
  }
  return out;
}

}  // namespace

std::string_view kind_name(WorkloadKind k) {
  switch (k) {
    case WorkloadKind::kStatefulSet:
      return "StatefulSet";
    case WorkloadKind::kDaemonSet:
      return "DaemonSet";
    case WorkloadKind::kDeployment:
      break;
  }
  return "Deployment";
}

std::optional<WorkloadKind> kind_named(std::string_view name) {
  for (WorkloadKind k : kWorkloadKinds) {
    if (kind_name(k) == name) return k;
  }
  return std::nullopt;
}

namespace {
// The middle segment of a non-Deployment key.
std::string_view key_segment(WorkloadKind k) {
  return k == WorkloadKind::kStatefulSet ? "statefulset" : "daemonset";
}
}  // namespace

std::string workload_key(WorkloadKind k, std::string_view ns, std::string_view name) {
  std::string key(ns);
  key += '/';
  if (k != WorkloadKind::kDeployment) {
    key += key_segment(k);
    key += '/';
  }
  key += name;
  return key;
}

std::optional<WorkloadRef> parse_workload_key(std::string_view key) {
  const size_t first = key.find('/');
  if (first == std::string_view::npos || first == 0) return std::nullopt;
  std::string_view ns = key.substr(0, first), rest = key.substr(first + 1);
  const size_t second = rest.find('/');
  if (second == std::string_view::npos) {
    if (rest.empty()) return std::nullopt;
    return WorkloadRef{WorkloadKind::kDeployment, std::string(ns), std::string(rest)};
  }
  std::string_view segment = rest.substr(0, second), name = rest.substr(second + 1);
  if (name.empty() || name.find('/') != std::string_view::npos) return std::nullopt;
  for (WorkloadKind k : {WorkloadKind::kStatefulSet, WorkloadKind::kDaemonSet}) {
    if (segment == key_segment(k)) return WorkloadRef{k, std::string(ns), std::string(name)};
  }
  return std::nullopt;
}

bool is_read_annotation(std::string_view key) {
  return key.rfind("tracing.rollout.dev/", 0) == 0 || key.rfind("dapr.io/", 0) == 0;
}

bool is_read_env_value(std::string_view name) { return name.rfind("OTEL_", 0) == 0; }

Workload read_workload(const json& deployment, WorkloadKind kind) {
  Workload w;
  w.kind = kind;
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
    w.env_owners = owners_from_managed_fields(meta ? member(*meta, "managedFields") : nullptr);
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

// ---- WorkloadRecord ------------------------------------------------------------------------

namespace {

WorkloadRecord::Name intern(std::string_view s) { return Atom(s); }

int64_t int_member(const json* obj, const char* key, int64_t fallback) {
  if (!obj || !obj->is_object()) return fallback;
  auto it = obj->find(key);
  return it != obj->end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
}

// An int32 field of the API (out-of-range values, which the API server refuses, clamp).
int32_t int32_member(const json* obj, const char* key, int32_t fallback) {
  return static_cast<int32_t>(std::clamp<int64_t>(int_member(obj, key, fallback),
                                                  std::numeric_limits<int32_t>::min(),
                                                  std::numeric_limits<int32_t>::max()));
}

// A list of names as one string, to be interned whole: each name as its length, ':' and itself,
// in order (append_name). Unambiguous whatever the names hold; decode_names() splits it.
void append_name(std::string& out, std::string_view name) {
  out += std::to_string(name.size());
  out += ':';
  out += name;
}

std::vector<std::string_view> decode_names(std::string_view s) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    size_t colon = s.find(':');
    size_t n = 0;
    for (char c : s.substr(0, colon)) n = n * 10 + static_cast<size_t>(c - '0');
    out.push_back(s.substr(colon + 1, n));
    s.remove_prefix(colon + 1 + n);
  }
  return out;
}

}  // namespace

// Atoms compare by id: equal atoms are equal strings (atom.h), no string is read.
bool WorkloadRecord::Env::operator==(const Env& o) const {
  return name == o.name && whole == o.whole && value == o.value;
}

bool WorkloadRecord::Box::operator==(const Box& o) const {
  return name == o.name && env == o.env && values == o.values;
}

WorkloadRecord record_workload(const json& deployment, WorkloadKind kind) {
  WorkloadRecord r;
  Workload w = read_workload(deployment, kind);
  r.kind = kind;
  r.ns = Atom(w.ns);
  r.name = std::move(w.name);
  r.uid = Uid(w.uid);
  r.pairs_.reserve(w.labels.size() + w.annotations.size() + w.template_labels.size() +
                   w.template_annotations.size());
  const Labels* lists[] = {&w.labels, &w.annotations, &w.template_labels, &w.template_annotations};
  for (int i = 0; i < 4; ++i) {
    for (const auto& [k, v] : *lists[i]) r.pairs_.push_back({intern(k), intern(v)});
    r.ends_[i] = static_cast<uint32_t>(r.pairs_.size());
  }
  r.containers_.reserve(w.containers.size());
  for (const Container& c : w.containers) {
    std::string names;
    for (const EnvVar& e : c.env) append_name(names, e.name);
    WorkloadRecord::Box box{intern(c.name), intern(names), {}};
    for (const EnvVar& e : c.env) {
      if (!is_read_env_value(e.name)) continue;
      const json& entry = e.entry;
      auto v = entry.find("value");
      if (entry.size() == 2 && v != entry.end() && v->is_string()) {
        box.values.push_back({intern(e.name), intern(v->get_ref<const std::string&>()), false});
      } else {
        box.values.push_back({intern(e.name), intern(entry.dump()), true});
      }
    }
    box.values.shrink_to_fit();
    r.containers_.push_back(std::move(box));
  }
  std::string owners;
  for (const auto& [group, vars] : w.env_owners) {
    for (const auto& [var, managers] : vars) {
      std::string names;
      for (const std::string& m : managers) append_name(names, m);
      append_name(owners, group);
      append_name(owners, var);
      append_name(owners, names);
    }
  }
  if (!owners.empty()) r.owners_ = intern(owners);
  r.untrusted_ = std::move(w.untrusted);
  try {
    const json* meta = member(deployment, "metadata");
    if (meta) {
      if (const json* v = member(*meta, "resourceVersion"); v && v->is_string()) {
        r.resource_version = ResourceVersion(v->get<std::string>());
      }
      r.generation = int_member(meta, "generation", 0);
      r.deleting = member(*meta, "deletionTimestamp") != nullptr;
    }
    const json* spec = member(deployment, "spec");
    r.replicas = int32_member(spec, "replicas", 1);
    if (const json* strategy = spec ? member(*spec, "updateStrategy") : nullptr) {
      if (const json* t = member(*strategy, "type"); t && t->is_string()) {
        r.on_delete = t->get<std::string>() == "OnDelete";
      }
      if (const json* ru = member(*strategy, "rollingUpdate"); ru && ru->is_object()) {
        r.partition = int32_member(ru, "partition", 0);
      }
    }
    if (const json* st = member(deployment, "status")) {
      r.status.observed_generation = int_member(st, "observedGeneration", 0);
      r.status.replicas = int32_member(st, "replicas", 0);
      r.status.updated_replicas = int32_member(st, "updatedReplicas", 0);
      r.status.available_replicas = int32_member(st, "availableReplicas", 0);
      r.status.ready_replicas = int32_member(st, "readyReplicas", 0);
      r.status.desired_number_scheduled = int32_member(st, "desiredNumberScheduled", 0);
      r.status.updated_number_scheduled = int32_member(st, "updatedNumberScheduled", 0);
      r.status.number_available = int32_member(st, "numberAvailable", 0);
      auto revision = [st](const char* k) {
        const json* v = member(*st, k);
        return v && v->is_string() ? v->get<std::string>() : std::string();
      };
      r.status.revisions_differ = revision("currentRevision") != revision("updateRevision");
      if (const json* cs = member(*st, "conditions"); cs && cs->is_array()) {
        for (const json& c : *cs) {
          if (c.is_object() && c.value("type", "") == "Progressing" &&
              c.value("reason", "") == "ProgressDeadlineExceeded") {
            r.status.progress_deadline_exceeded = true;
          }
        }
      }
    }
  } catch (const std::exception&) {
    // Keeps what was read (defence only: the accessors above are guarded).
  }
  r.containers_.shrink_to_fit();
  return r;
}

Workload WorkloadRecord::workload() const {
  Workload w;
  w.kind = kind;
  w.ns = *ns;
  w.name = name;
  w.uid = uid.str();
  auto labels = [this](PairList list) {
    Labels out;
    for (const auto& p : pairs(list)) out.emplace(*p.key, *p.value);
    return out;
  };
  w.labels = labels(kLabels);
  w.annotations = labels(kAnnotations);
  w.template_labels = labels(kTemplateLabels);
  w.template_annotations = labels(kTemplateAnnotations);
  w.containers.reserve(containers_.size());
  for (const Box& box : containers_) {
    Container c{*box.name, {}};
    std::vector<std::string_view> names = decode_names(*box.env);
    c.env.reserve(names.size());
    auto value = box.values.begin();
    for (std::string_view n : names) {
      if (value != box.values.end() && *value->name == n) {
        c.env.push_back({std::string(n), value->whole
                                             ? json::parse(*value->value)
                                             : json{{"name", n}, {"value", *value->value}}});
        ++value;
      } else {
        c.env.push_back({std::string(n), json{{"name", n}}});
      }
    }
    w.containers.push_back(std::move(c));
  }
  if (owners_) {
    std::vector<std::string_view> fields = decode_names(*owners_);
    for (size_t i = 0; i + 2 < fields.size(); i += 3) {
      auto& managers = w.env_owners[std::string(fields[i])][std::string(fields[i + 1])];
      for (std::string_view m : decode_names(fields[i + 2])) managers.emplace(m);
    }
  }

  w.untrusted = untrusted_;
  return w;
}

json WorkloadRecord::reference() const {
  return {{"apiVersion", "apps/v1"},
          {"kind", kind_name(kind)},
          {"metadata", {{"namespace", *ns}, {"name", name}, {"uid", uid.str()}}}};
}

const std::string* WorkloadRecord::annotation(std::string_view key) const {
  for (const Pair& p : pairs(kAnnotations)) {
    if (*p.key == key) return &*p.value;
  }
  return nullptr;
}

bool WorkloadRecord::same_but_env(const WorkloadRecord& o) const {
  auto same_containers = [](const std::vector<Box>& a, const std::vector<Box>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                      [](const Box& x, const Box& y) { return x.name == y.name; });
  };
  return kind == o.kind && ns == o.ns && name == o.name && replicas == o.replicas &&
         deleting == o.deleting && on_delete == o.on_delete && partition == o.partition &&
         uid == o.uid && same_pairs(o) && same_containers(containers_, o.containers_) &&
         owners_ == o.owners_ && untrusted_ == o.untrusted_;
}

bool WorkloadRecord::same_but_status(const WorkloadRecord& o) const {
  return kind == o.kind && ns == o.ns && name == o.name && generation == o.generation &&
         replicas == o.replicas && deleting == o.deleting && on_delete == o.on_delete &&
         partition == o.partition && uid == o.uid && same_pairs(o) &&
         containers_ == o.containers_ && owners_ == o.owners_ && untrusted_ == o.untrusted_;
}

// ---- What of a Deployment the record reads ----------------------------------------------------

namespace {

// A step of a field pattern: a key, or a test on the key.
struct Step {
  constexpr Step(const char* k) : key(k) {}                 // NOLINT: a pattern reads as keys
  constexpr Step(bool (*t)(std::string_view)) : test(t) {}  // NOLINT
  bool matches(std::string_view k) const { return test ? test(k) : k == key; }
  std::string_view key;
  bool (*test)(std::string_view) = nullptr;
};

bool any_key(std::string_view) { return true; }
// A key of managedFields' f:metadata.f:annotations naming one of the operator's own annotations
// (what owners_from_managed_fields records under kAnnotationOwners).
bool own_annotation_field(std::string_view k) { return k.rfind("f:tracing.rollout.dev/", 0) == 0; }
// A key of f:annotations naming an annotation the operator reads (kTemplateAnnotationOwners).
bool read_annotation_field(std::string_view k) {
  return k.rfind("f:", 0) == 0 && is_read_annotation(k.substr(2));
}

// Every member read_workload() and record_workload() read (and
// owners_from_managed_fields() of metadata.managedFields), as paths of keys; array levels add
// none. A pattern's last step is kept whole.
const std::vector<std::vector<Step>>& deployment_reads() {
  static const std::vector<std::vector<Step>> reads = {
      {"metadata", "name"},
      {"metadata", "namespace"},
      {"metadata", "uid"},
      {"metadata", "resourceVersion"},
      {"metadata", "generation"},
      {"metadata", "deletionTimestamp"},
      {"metadata", "labels"},
      {"metadata", "annotations", is_read_annotation},
      {"metadata", "managedFields", "manager"},
      {"metadata", "managedFields", "operation"},
      {"metadata", "managedFields", "fieldsV1", "f:metadata", "f:annotations",
       own_annotation_field},
      {"metadata", "managedFields", "fieldsV1", "f:spec", "f:template", "f:metadata",
       "f:annotations", read_annotation_field},
      {"metadata", "managedFields", "fieldsV1", "f:spec", "f:template", "f:spec", "f:containers",
       any_key, "f:env", is_read_env_field, "f:value"},
      {"metadata", "managedFields", "fieldsV1", "f:spec", "f:template", "f:spec", "f:containers",
       any_key, "f:env", is_read_env_field, "f:valueFrom"},
      {"spec", "replicas"},
      {"spec", "updateStrategy", "type"},
      {"spec", "updateStrategy", "rollingUpdate", "partition"},
      {"spec", "template", "metadata", "labels"},
      {"spec", "template", "metadata", "annotations", is_read_annotation},
      {"spec", "template", "spec", "containers", "name"},
      {"spec", "template", "spec", "containers", "env"},
      {"status", "observedGeneration"},
      {"status", "replicas"},
      {"status", "updatedReplicas"},
      {"status", "availableReplicas"},
      {"status", "readyReplicas"},
      {"status", "currentRevision"},
      {"status", "updateRevision"},
      {"status", "desiredNumberScheduled"},
      {"status", "updatedNumberScheduled"},
      {"status", "numberAvailable"},
      {"status", "conditions", "type"},
      {"status", "conditions", "reason"},
  };
  return reads;
}

}  // namespace

bool is_read_workload_field(std::span<const std::string> path) {
  for (const auto& pattern : deployment_reads()) {
    const size_t n = std::min(path.size(), pattern.size());
    bool on_it = true;  // `path` leads to what `pattern` names, or lies inside it
    for (size_t i = 0; i < n && on_it; ++i) on_it = pattern[i].matches(path[i]);
    if (on_it) return true;
  }
  return false;
}

}  // namespace tracing::controllers
