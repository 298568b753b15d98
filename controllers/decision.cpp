// The decision: which policies apply to a workload, what they add up to, and which env entries
// the operator owns as a result (SPEC §3-§5). Pure: no I/O, no clock, no exceptions.
#include "controllers/decision.h"

#include <algorithm>
#include <charconv>
#include <exception>
#include <string_view>
#include <tuple>
#include <utility>

#include "controllers/naming.h"

namespace tracing::controllers {
namespace {

// A selector that is present but empty selects everything, so it is no more specific than none.
bool has_selector(const PolicySpec& s) { return s.selector && !s.selector->empty(); }

// A ratio string's numeric value for comparisons; unparsable ratios (refused by parse_policy)
// compare lowest.
double ratio_value(const std::string& s) {
  double v = -1;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return -1;
  return v;
}

// Label `key` on the Deployment, then on its pod template; empty values count as absent.
std::optional<std::string> lookup_label(const Workload& w, const std::string& key) {
  for (const Labels* labels : {&w.labels, &w.template_labels}) {
    auto it = labels->find(key);
    if (it != labels->end() && !it->second.empty()) return it->second;
  }
  return std::nullopt;
}

// W3C Baggage value encoding as the OTel spec applies it to OTEL_RESOURCE_ATTRIBUTES: unreserved
// characters stay, every other byte (UTF-8 included) becomes %XX.
std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '.' || c == '_' || c == '~';
    if (keep) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += sep;
    out += item;
  }
  return out;
}

EnvVar env_var(const char* name, const std::string& value) {
  return EnvVar{name, json{{"name", name}, {"value", escape_env_value(value)}}};
}

// Whether the policies annotation ("ns/a,ns/b") lists `key`.
bool lists_policy(const Workload& w, const std::string& key) {
  auto it = w.annotations.find(naming::kPoliciesAnnotation);
  if (it == w.annotations.end()) return false;
  std::string_view list = it->second;
  while (!list.empty()) {
    size_t comma = list.find(',');
    if (list.substr(0, comma) == key) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

// The policies' resourceAttributes as they follow the k8s.* facts in OTEL_RESOURCE_ATTRIBUTES:
// ",k=v" for each, sorted by key.
std::string attribute_tail(const EffectiveConfig& c) {
  std::string out;
  for (const auto& [k, v] : c.resource_attributes) {  // std::map: sorted by key
    if (k == "k8s.namespace.name" || k == "k8s.deployment.name" || k == "k8s.statefulset.name" ||
        k == "k8s.daemonset.name") {
      continue;
    }
    out += "," + k + "=" + percent_encode(v);
  }
  return out;
}

// The first candidate (most specific first) for which `sets` holds.
template <typename Pred>
const Policy* first_setting(const std::vector<Candidate>& cands, Pred sets) {
  for (const Candidate& c : cands) {
    if (sets(c.policy->spec)) return c.policy;
  }
  return nullptr;
}

bool is_otel_variable(const std::string& name) {
  for (const char* v :
       {naming::kOtelServiceName, naming::kOtelEndpoint, naming::kOtelProtocol,
        naming::kOtelInsecure, naming::kOtelTracesExporter, naming::kOtelSampler,
        naming::kOtelSamplerArg, naming::kOtelPropagators, naming::kOtelResourceAttributes}) {
    if (name == v) return true;
  }
  return false;
}

// Why a recorded original cannot be replayed ("" when it can).
std::string record_problem(const json& record) {
  if (!record.is_object()) return "not an object";
  for (const auto& [k, v] : record.items()) {
    if (k != "entry" && k != "manager") return "unknown field " + k;
  }
  auto entry = record.find("entry");
  if (entry == record.end() || !entry->is_object()) return "no entry";
  for (const auto& [k, v] : entry->items()) {
    if (k != "name" && k != "value" && k != "valueFrom") return "entry has unknown field " + k;
  }
  if (auto name = entry->find("name"); name != entry->end() && !name->is_string()) {
    return "entry name is not a string";
  }
  auto value = entry->find("value");
  auto from = entry->find("valueFrom");
  if ((value == entry->end()) == (from == entry->end())) {
    return "entry needs exactly one of value and valueFrom";
  }
  if (value != entry->end() && !value->is_string()) return "value is not a string";
  if (from != entry->end()) {
    if (!from->is_object() || from->size() != 1) return "valueFrom needs exactly one source";
    const std::string source = from->begin().key();
    if (source != "configMapKeyRef" && source != "secretKeyRef" && source != "fieldRef" &&
        source != "resourceFieldRef" && source != "fileKeyRef") {
      return "valueFrom has unknown source " + source;
    }
    if (!from->begin()->is_object()) return "valueFrom." + source + " is not an object";
  }
  auto manager = record.find("manager");
  if (manager != record.end()) {
    if (!manager->is_string()) return "manager is not a string";
    const std::string m = manager->get<std::string>();
    if (m.size() > 128) return "manager name longer than 128 characters";
    if (m == naming::kFieldManager) return "manager is the operator itself";
    for (unsigned char ch : m) {
      if (ch < 0x20 || ch > 0x7e) return "manager name has a non-printable character";
    }
  }
  return "";
}

// The recorded original of container/var in the overridden-env annotation, or nullptr.
const json* recorded_original(const json& recorded, const std::string& container,
                              const std::string& var) {
  auto c = recorded.find(container);
  if (c == recorded.end() || !c->is_object()) return nullptr;
  auto v = c->find(var);
  if (v == c->end() || !v->is_object()) return nullptr;
  return &*v;
}

}  // namespace

std::vector<Candidate> candidates(const Workload& w, const Labels& ns_labels,
                                  const std::vector<const Policy*>& policies,
                                  const std::string& root_ns) {
  std::vector<Candidate> out;
  for (const Policy* p : policies) {
    if (p == nullptr || p->deleting) continue;
    if (!p->spec_known) {
      // Its selector is unknown: it holds what it configured, and selects nothing else.
      if (!lists_policy(w, p->key())) continue;
      if (p->ns == root_ns) {
        out.push_back({p, Rank::kRootWithoutSelector});
      } else if (p->ns == w.ns) {
        out.push_back({p, Rank::kNamespaceWithoutSelector});
      }
      continue;
    }
    const PolicySpec& s = p->spec;
    if (std::find(s.kinds.begin(), s.kinds.end(), w.kind) == s.kinds.end()) continue;
    if (s.selector && !s.selector->matches(w.labels)) continue;
    if (p->ns == root_ns) {
      // Root policies are cluster-wide defaults, also for the root namespace's own workloads.
      if (s.namespace_selector && !s.namespace_selector->matches(ns_labels)) continue;
      out.push_back({p, has_selector(s) ? Rank::kRootWithSelector : Rank::kRootWithoutSelector});
    } else if (p->ns == w.ns) {
      out.push_back(
          {p, has_selector(s) ? Rank::kNamespaceWithSelector : Rank::kNamespaceWithoutSelector});
    }
  }
  auto order = [](const Candidate& c) {
    return std::tuple<Rank, int64_t, const std::string&, const std::string&>(
        c.rank, -static_cast<int64_t>(c.policy->spec.priority), c.policy->name, c.policy->ns);
  };
  std::stable_sort(out.begin(), out.end(),
                   [&](const Candidate& a, const Candidate& b) { return order(a) < order(b); });
  return out;
}

std::vector<Candidate> governed_candidates(const Policy& p, const Labels& ns_labels,
                                           const std::vector<const Policy*>& policies,
                                           const std::string& root_ns) {
  Workload w;
  const bool root = p.ns == root_ns;
  // A root policy's workload lives in a namespace with no policy of its own: "" names none.
  w.ns = root ? "" : p.ns;
  if (p.spec.selector) w.labels = p.spec.selector->match_labels;
  std::vector<const Policy*> others;
  others.reserve(policies.size());
  for (const Policy* q : policies) {
    if (q != nullptr && q->key() != p.key()) others.push_back(q);
  }
  others.push_back(&p);
  auto all = candidates(w, ns_labels, others, root_ns);
  // p governs: drop what ranks before it (a more specific policy would govern instead), and
  // keep p even where its matchExpressions or namespaceSelector's would not match this sketch.
  const Rank own =
      root
          ? (has_selector(p.spec) ? Rank::kRootWithSelector : Rank::kRootWithoutSelector)
          : (has_selector(p.spec) ? Rank::kNamespaceWithSelector : Rank::kNamespaceWithoutSelector);
  std::vector<Candidate> out = {{&p, own}};
  bool after = false;
  for (const auto& c : all) {
    if (c.policy == &p) {
      after = true;
      continue;
    }
    if (after || c.rank > own) out.push_back(c);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> field_sources(
    const std::vector<Candidate>& cands) {
  auto key_of = [&](auto sets) {
    const Policy* p = first_setting(cands, sets);
    return p ? p->key() : std::string();
  };
  std::string attributes;
  for (const Candidate& c : cands) {
    if (c.policy->spec.resource_attributes.empty()) continue;
    attributes += (attributes.empty() ? "" : ",") + c.policy->key();
  }
  return {
      {"containers", key_of([](const PolicySpec& s) { return s.containers.has_value(); })},
      {"serviceName",
       key_of([](const PolicySpec& s) { return s.service_name_from_label.has_value(); })},
      {"exporter", key_of([](const PolicySpec& s) { return s.exporter.has_value(); })},
      {"sampling", key_of([](const PolicySpec& s) { return s.sampling.has_value(); })},
      {"propagators", key_of([](const PolicySpec& s) { return s.propagators.has_value(); })},
      {"resourceAttributes", attributes},
      {"override", key_of([](const PolicySpec& s) { return s.override_env.has_value(); })},
      {"dapr", key_of([](const PolicySpec& s) { return s.dapr.has_value(); })},
      {"jaeger", key_of([](const PolicySpec& s) { return s.jaeger.has_value(); })},
      {"rollout", key_of([](const PolicySpec& s) { return s.rollout.has_value(); })},
  };
}

std::string EffectiveConfig::effective_sampler() const {
  if (mode == "remote") return "parentbased_jaeger_remote";
  if (debug && (sampler == "always_on" || sampler == "always_off" ||
                sampler == "parentbased_always_on" || sampler == "parentbased_always_off")) {
    return "parentbased_traceidratio";
  }
  return sampler;
}

std::optional<EffectiveConfig> effective_config(const std::vector<Candidate>& cands, WallTime now) {
  if (cands.empty()) return std::nullopt;
  EffectiveConfig c;
  c.governing = cands.front().policy->key();
  for (const Candidate& cand : cands) c.policies.push_back(cand.policy->key());

  if (auto* p =
          first_setting(cands, [](const PolicySpec& s) { return s.containers.has_value(); })) {
    c.containers = p->spec.containers;
  }
  if (auto* p = first_setting(
          cands, [](const PolicySpec& s) { return s.service_name_from_label.has_value(); })) {
    c.service_name_from_label = p->spec.service_name_from_label;
  }
  std::optional<std::string> endpoint;
  if (auto* p = first_setting(cands, [](const PolicySpec& s) { return s.exporter.has_value(); })) {
    const Exporter& e = *p->spec.exporter;
    endpoint = e.endpoint;
    c.protocol = e.protocol.value_or("grpc");
    c.insecure = e.insecure.value_or(false);
  }
  if (auto* p = first_setting(cands, [](const PolicySpec& s) { return s.sampling.has_value(); })) {
    const Sampling& m = *p->spec.sampling;
    c.sampler = m.sampler.value_or("parentbased_traceidratio");
    c.base_ratio = m.ratio.value_or("1");
    c.mode = m.mode.value_or("restart");
    c.remote_initial_ratio = m.remote_initial_ratio.value_or("0.01");
    c.sampling_policy = p->key();
  }
  if (auto* p =
          first_setting(cands, [](const PolicySpec& s) { return s.propagators.has_value(); })) {
    c.propagators = *p->spec.propagators;
  }
  if (auto* p =
          first_setting(cands, [](const PolicySpec& s) { return s.override_env.has_value(); })) {
    c.override_env = *p->spec.override_env;
  }
  if (auto* p = first_setting(cands, [](const PolicySpec& s) { return s.dapr.has_value(); })) {
    c.dapr = p->spec.dapr;
  }
  if (auto* p = first_setting(cands, [](const PolicySpec& s) { return s.rollout.has_value(); })) {
    c.rollout = p->spec.rollout;
  }
  // Jaeger (§8): the most specific candidate with a jaeger group decides; without one, a managed
  // Jaeger when no candidate names an exporter endpoint. Its namespace: the group's namespace
  // field (a policy outside the root namespace may only name its own), else that policy's
  // namespace, else the least specific candidate's (the root policy's, when there is one), so
  // namespace policies that only tune sampling share the cluster's Jaeger.
  const Policy* jp = first_setting(cands, [](const PolicySpec& s) { return s.jaeger.has_value(); });
  auto jaeger_field = [&](const char* name) -> std::string {
    if (!jp || !jp->spec.jaeger->is_object()) return "";
    auto it = jp->spec.jaeger->find(name);
    return it != jp->spec.jaeger->end() && it->is_string() ? it->get<std::string>() : "";
  };
  c.jaeger_mode = jaeger_field("mode");
  if (c.jaeger_mode.empty()) c.jaeger_mode = endpoint ? "none" : "managed";
  c.jaeger_namespace = jp ? jp->ns : cands.back().policy->ns;
  if (std::string ns = jaeger_field("namespace"); !ns.empty()) {
    bool root = false;
    for (const auto& cand : cands) {
      if (cand.policy == jp) {
        root = cand.rank == Rank::kRootWithSelector || cand.rank == Rank::kRootWithoutSelector;
      }
    }
    if (root || ns == jp->ns) c.jaeger_namespace = ns;
  }
  if (std::string name = jaeger_field("name"); !name.empty()) c.jaeger_name = name;
  if (c.jaeger_mode == "managed") {
    c.sampling_endpoint = "http://jaeger-sampling." + c.jaeger_namespace + ".svc:5779";
  } else if (c.jaeger_mode == "external") {
    c.sampling_endpoint = jaeger_field("samplingEndpoint");
  }
  c.endpoint = endpoint.value_or("http://jaeger-collector." + c.jaeger_namespace + ".svc:4317");

  // Least specific first, so that more specific values overwrite.
  for (auto it = cands.rbegin(); it != cands.rend(); ++it) {
    for (const auto& [k, v] : it->policy->spec.resource_attributes) c.resource_attributes[k] = v;
  }

  // What the operator cannot write: the workload is then kept as it is.
  for (const Candidate& cand : cands) {
    const Policy& p = *cand.policy;
    if (!p.spec_known && c.unusable.empty()) {
      c.unusable = "policy " + p.key() + " has an invalid spec (" + p.spec_error +
                   ") and no earlier valid spec of it is known to the operator: the workloads it "
                   "configured are kept as they are until it is fixed or deleted";
    }
  }
  if (c.unusable.empty() && c.mode == "remote" && c.sampling_endpoint.empty()) {
    const Policy* sp =
        first_setting(cands, [](const PolicySpec& s) { return s.sampling.has_value(); });
    const Policy* ep = first_setting(cands, [](const PolicySpec& s) {
      return s.exporter.has_value() && s.exporter->endpoint.has_value();
    });
    std::string why;
    if (jp && !jaeger_field("mode").empty()) {
      why = "spec.jaeger.mode of " + jp->key() + " is " + c.jaeger_mode +
            (c.jaeger_mode == "external" ? " without samplingEndpoint" : "");
    } else {
      why = std::string(jp ? "spec.jaeger of " + jp->key() + " sets no mode"
                           : "no policy sets spec.jaeger") +
            " and " + (ep ? ep->key() : std::string("a policy")) +
            " sets spec.exporter.endpoint, so no Jaeger is managed";
    }
    c.unusable = "spec.sampling.mode: remote (from " + (sp ? sp->key() : std::string("?")) +
                 ") needs a Jaeger sampling endpoint, but " + why +
                 ": set jaeger.mode managed, or external with samplingEndpoint";
  }
  if (c.unusable.empty()) {
    if (size_t size = attribute_tail(c).size(); size > kMaxResourceAttributesBytes) {
      std::string from;
      for (const Candidate& cand : cands) {
        if (cand.policy->spec.resource_attributes.empty()) continue;
        from += (from.empty() ? "" : ", ") + cand.policy->key();
      }
      c.unusable = "spec.resourceAttributes: the attributes of " + from + " add up to " +
                   std::to_string(size) + " bytes of OTEL_RESOURCE_ATTRIBUTES, more than the " +
                   std::to_string(kMaxResourceAttributesBytes) + " the operator writes";
    }
  }

  // Debug bumps of every candidate; the highest ratio wins (ties: the more specific).
  for (const Candidate& cand : cands) {
    const Policy& p = *cand.policy;
    if (!p.spec.debug) continue;
    const Debug& d = *p.spec.debug;
    std::optional<WallTime> expires;
    if (d.until) {
      expires = *d.until;
    } else if (d.duration && p.debug_status && p.debug_status->hash == d.hash) {
      expires = p.debug_status->expires_at;
    }
    if (!expires || !(now < *expires)) continue;
    if (!c.next_change || *expires < *c.next_change) c.next_change = *expires;
    for (const std::string& op : d.operations) {
      auto [it, fresh] = c.operation_debug.try_emplace(op, DebugState{p.key(), d.ratio, *expires});
      if (!fresh && ratio_value(d.ratio) > ratio_value(it->second.ratio)) {
        it->second = DebugState{p.key(), d.ratio, *expires};
      }
    }
    if (!d.operations.empty()) continue;
    if (!c.debug || ratio_value(d.ratio) > ratio_value(c.debug->ratio)) {
      c.debug = DebugState{p.key(), d.ratio, *expires};
    }
  }
  // A bump raises (§5): an operation the service's own ratio samples as much needs no strategy.
  std::erase_if(c.operation_debug, [&](const auto& op) {
    return ratio_value(op.second.ratio) <= ratio_value(c.effective_ratio());
  });
  return c;
}

std::optional<EffectiveConfig> root_effective_config(const std::vector<Candidate>& cands,
                                                     WallTime now) {
  std::vector<Candidate> root;
  for (const Candidate& c : cands) {
    if (c.rank == Rank::kRootWithSelector || c.rank == Rank::kRootWithoutSelector) {
      root.push_back(c);
    }
  }
  return effective_config(root, now);
}

std::optional<DebugStatus> debug_status_for(const Policy& p, WallTime now) {
  if (!p.spec.debug) return std::nullopt;
  const Debug& d = *p.spec.debug;
  DebugStatus s;
  s.hash = d.hash;
  s.started_at =
      p.debug_status && p.debug_status->hash == d.hash ? p.debug_status->started_at : now;
  if (d.until) {
    s.expires_at = *d.until;
  } else {
    s.expires_at = s.started_at + d.duration.value_or(std::chrono::seconds(0));
  }
  return s;
}

DesiredEnv desired_env(const EffectiveConfig& c, const Workload& w) {
  DesiredEnv out;
  // The §4 table; the same for every container.
  std::vector<EnvVar> wanted;
  wanted.push_back(env_var(naming::kOtelServiceName, service_name(c, w)));
  wanted.push_back(env_var(naming::kOtelEndpoint, c.endpoint));
  wanted.push_back(env_var(naming::kOtelProtocol, c.protocol));
  if (c.insecure) wanted.push_back(env_var(naming::kOtelInsecure, "true"));
  wanted.push_back(env_var(naming::kOtelTracesExporter, "otlp"));
  const std::string sampler = c.effective_sampler();
  wanted.push_back(env_var(naming::kOtelSampler, sampler));
  if (c.mode == "remote") {
    wanted.push_back(
        env_var(naming::kOtelSamplerArg,
                "endpoint=" + c.sampling_endpoint +
                    ",pollingIntervalMs=10000,initialSamplingRate=" + c.remote_initial_ratio));
  } else if (sampler == "traceidratio" || sampler == "parentbased_traceidratio") {
    wanted.push_back(env_var(naming::kOtelSamplerArg, c.effective_ratio()));
  }
  wanted.push_back(env_var(naming::kOtelPropagators, join(c.propagators, ",")));
  wanted.push_back(env_var(naming::kOtelResourceAttributes, resource_attributes(c, w)));

  const json recorded = trusted_overrides(w);
  // When managedFields say nothing about an entry, the operator's own record decides whether it
  // is ours: a workload the operator has applied to carries the policies annotation.
  auto policies_it = w.annotations.find(naming::kPoliciesAnnotation);
  const bool applied_before = policies_it != w.annotations.end() && !policies_it->second.empty();

  for (const Container& ct : w.containers) {
    if (c.containers &&
        std::find(c.containers->begin(), c.containers->end(), ct.name) == c.containers->end()) {
      continue;
    }
    std::vector<EnvVar>& env = out.env[ct.name];
    auto owners_it = w.env_owners.find(ct.name);
    for (const EnvVar& v : wanted) {
      const json* original = recorded_original(recorded, ct.name, v.name);
      auto current = std::find_if(ct.env.begin(), ct.env.end(),
                                  [&](const EnvVar& e) { return e.name == v.name; });
      if (current != ct.env.end()) {
        std::set<std::string> owners;
        if (owners_it != w.env_owners.end()) {
          auto o = owners_it->second.find(v.name);
          if (o != owners_it->second.end()) owners = o->second;
        }
        std::vector<std::string> others;
        for (const auto& o : owners) {
          if (o != naming::kFieldManager) others.push_back(o);
        }
        const bool unknown = owners.empty() && original == nullptr && !applied_before;
        if (!others.empty() || unknown) {
          if (!c.override_env) {
            out.conflicts.push_back(
                {ct.name, v.name,
                 others.empty() ? "set by an unknown manager" : "set by " + join(others, ", ")});
            continue;
          }
          out.force = true;
          if (original && !owners.count(naming::kFieldManager) && !others.empty() &&
              current->entry != v.entry) {
            out.retaken.push_back({ct.name, v.name, others.front()});
          }
          out.overridden[ct.name][v.name] =
              original ? *original
                       : json{{"entry", current->entry},
                              {"manager", others.empty() ? "" : others.front()}};
          env.push_back(v);
          continue;
        }
      }
      // Ours (or absent): a recorded original stays recorded while the operator owns the entry.
      if (original) out.overridden[ct.name][v.name] = *original;
      env.push_back(v);
    }
  }
  return out;
}

json trusted_overrides(const Workload& w, std::vector<std::string>* refused) {
  auto refuse = [&](const std::string& why) {
    if (refused) refused->push_back(w.key() + ": " + why);
  };
  auto it = w.annotations.find(naming::kOverriddenAnnotation);
  if (it == w.annotations.end()) return json::object();
  json recorded = json::parse(it->second, nullptr, /*allow_exceptions=*/false);
  if (!recorded.is_object()) {
    refuse(std::string(naming::kOverriddenAnnotation) + " is not a JSON object");
    return json::object();
  }
  json out = json::object();
  for (const auto& item : recorded.items()) {
    // Not a structured binding: clang before 16 cannot capture one in a lambda (P1091).
    const std::string& container = item.key();
    const json& vars = item.value();
    const bool exists = std::any_of(w.containers.begin(), w.containers.end(),
                                    [&](const Container& c) { return c.name == container; });
    if (!exists || !vars.is_object()) {
      refuse(std::string(naming::kOverriddenAnnotation) + " names container " + container +
             (exists ? " without an object of variables" : ", which the workload does not have"));
      continue;
    }
    for (const auto& [var, record] : vars.items()) {
      std::string where = "container " + container + " variable " + var + ": ";
      if (!is_otel_variable(var)) {
        refuse(where + "not a variable the operator writes");
        continue;
      }
      if (std::string problem = record_problem(record); !problem.empty()) {
        refuse(where + problem);
        continue;
      }
      if (record.at("entry").value("name", "") != var) {
        refuse(where + "the recorded entry is named " + record.at("entry").value("name", "?"));
        continue;
      }
      out[container][var] = record;
    }
  }
  return out;
}

std::string service_name(const EffectiveConfig& c, const Workload& w) {
  if (c.service_name_from_label) {
    if (auto v = lookup_label(w, *c.service_name_from_label)) return *v;
  }
  for (const char* key : {"app.kubernetes.io/name", "app"}) {
    if (auto v = lookup_label(w, key)) return *v;
  }
  return w.name;
}

std::string resource_attributes(const EffectiveConfig& c, const Workload& w) {
  // The workload's name under its kind's semantic-conventions attribute.
  const char* name_attribute = w.kind == WorkloadKind::kStatefulSet ? "k8s.statefulset.name"
                               : w.kind == WorkloadKind::kDaemonSet ? "k8s.daemonset.name"
                                                                    : "k8s.deployment.name";
  return "k8s.namespace.name=" + percent_encode(w.ns) + "," + name_attribute + "=" +
         percent_encode(w.name) + attribute_tail(c);
}

std::string escape_env_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char ch : value) {
    if (ch == '$') out += '$';
    out += ch;
  }
  return out;
}

}  // namespace tracing::controllers
