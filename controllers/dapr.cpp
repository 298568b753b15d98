#include "controllers/dapr.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "controllers/hash.h"
#include "controllers/naming.h"

namespace tracing::controllers {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool all_digits(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

// dapr/kit utils.IsTruthy, which Dapr's injector applies to dapr.io/enabled.
bool is_truthy(std::string_view value) {
  const std::string v = lower(trim(value));
  return v == "y" || v == "yes" || v == "true" || v == "t" || v == "on" || v == "1";
}

// An endpoint URL taken apart as far as Dapr needs it.
struct Endpoint {
  std::string scheme;  // lower case; "" when the endpoint has none
  std::string host;    // an IPv6 literal keeps its brackets
  std::string port;    // "" when absent
};

Endpoint parse_endpoint(std::string_view url) {
  Endpoint e;
  url = trim(url);
  if (auto sep = url.find("://"); sep != std::string_view::npos) {
    e.scheme = lower(url.substr(0, sep));
    url.remove_prefix(sep + 3);
  }
  std::string_view authority = url.substr(0, url.find_first_of("/?#"));
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);  // user info
  }
  if (authority.starts_with('[')) {  // [::1]:4317
    auto close = authority.find(']');
    if (close == std::string_view::npos) return e;  // malformed: no host
    e.host = std::string(authority.substr(0, close + 1));
    std::string_view rest = authority.substr(close + 1);
    if (rest.starts_with(':') && all_digits(rest.substr(1))) e.port = std::string(rest.substr(1));
    return e;
  }
  auto colon = authority.rfind(':');
  if (colon != std::string_view::npos) {
    std::string_view port = authority.substr(colon + 1);
    if (all_digits(port)) e.port = std::string(port);
    authority = authority.substr(0, colon);  // "host:" (empty port) drops the colon too
  }
  e.host = std::string(authority);
  return e;
}

json object_identity(const std::string& ns, const std::string& name) {
  return {{"apiVersion", naming::kDaprApiVersion},
          {"kind", naming::kDaprConfigurationKind},
          {"metadata", {{"name", name}, {"namespace", ns}}}};
}

// j[key] when j is an object holding it, a null value included (unlike member()).
const json* member_or_null(const json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

// fieldsV1 path of a field, e.g. {"f:metadata", "f:annotations", "f:x"}: whether `fields` (a
// managedFields entry's fieldsV1) holds it, or anything under it.
bool holds(const json& fields, std::initializer_list<std::string_view> path) {
  const json* at = &fields;
  for (std::string_view step : path) {
    if (!at->is_object()) return false;
    auto it = at->find(std::string(step));
    if (it == at->end()) return false;
    at = &*it;
  }
  return true;
}

// The managers (managedFields entries) whose fieldsV1 hold `path`.
std::vector<std::string> managers_holding(const json& configuration,
                                          std::initializer_list<std::string_view> path) {
  std::vector<std::string> out;
  const json* meta = member_or_null(configuration, "metadata");
  const json* managed = meta ? member_or_null(*meta, "managedFields") : nullptr;
  if (!managed || !managed->is_array()) return out;
  for (const json& entry : *managed) {
    const json* manager = member_or_null(entry, "manager");
    const json* fields = member_or_null(entry, "fieldsV1");
    if (manager && manager->is_string() && fields && holds(*fields, path)) {
      out.push_back(manager->get<std::string>());
    }
  }
  return out;
}

bool includes(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Whether `v`, when present, has the JSON type `pred` accepts.
template <typename Pred>
bool absent_or(const json& object, const char* key, Pred pred) {
  const json* v = member_or_null(object, key);
  return !v || pred(*v);
}

// previous_tracing()'s shape, as far as restore_intent() reads it.
std::string record_shape_error(const json& record) {
  if (!record.is_object() || record.size() != 1 || !record.contains("tracing")) {
    return "is not {\"tracing\": ...}";
  }
  const json& tracing = record["tracing"];
  if (tracing.is_null()) return "";
  if (!tracing.is_object()) return "has a tracing that is neither null nor an object";
  if (!absent_or(tracing, "samplingRate", [](const json& v) { return v.is_string(); })) {
    return "has a samplingRate that is not a string";
  }
  const json* otel = member_or_null(tracing, "otel");
  if (!otel) return "";
  if (!otel->is_object()) return "has an otel that is not an object";
  if (!absent_or(*otel, "endpointAddress", [](const json& v) { return v.is_string(); }) ||
      !absent_or(*otel, "protocol", [](const json& v) { return v.is_string(); }) ||
      !absent_or(*otel, "isSecure", [](const json& v) { return v.is_boolean(); })) {
    return "has otel fields of the wrong type";
  }
  return "";
}

}  // namespace

json configuration_view(json&& c) {
  static const std::string kPrefix = "tracing.rollout.dev/";
  static const std::string kFieldPrefix = "f:" + kPrefix;
  auto starts = [](const std::string& s, const std::string& prefix) {
    return s.compare(0, prefix.size(), prefix) == 0;
  };
  json view = json::object();
  if (!c.is_object()) return view;
  for (const char* k : {"apiVersion", "kind"}) {
    if (auto it = c.find(k); it != c.end()) view[k] = std::move(*it);
  }
  json md = json::object();
  if (auto m = c.find("metadata"); m != c.end() && m->is_object()) {
    for (const char* k :
         {"name", "namespace", "uid", "resourceVersion", "deletionTimestamp", "labels"}) {
      if (auto it = m->find(k); it != m->end()) md[k] = std::move(*it);
    }
    if (auto a = m->find("annotations"); a != m->end() && a->is_object()) {
      json kept = json::object();
      for (auto& [k, v] : a->items()) {
        if (starts(k, kPrefix)) kept[k] = std::move(v);
      }
      if (!kept.empty()) md["annotations"] = std::move(kept);
    }
    if (auto mf = m->find("managedFields"); mf != m->end() && mf->is_array()) {
      json entries = json::array();
      for (auto& e : *mf) {
        const json* fields = member_or_null(e, "fieldsV1");
        if (!fields) continue;
        json f = json::object();
        if (const json* fm = member_or_null(*fields, "f:metadata")) {
          if (const json* fa = member_or_null(*fm, "f:annotations"); fa && fa->is_object()) {
            for (const auto& [k, v] : fa->items()) {
              if (starts(k, kFieldPrefix)) f["f:metadata"]["f:annotations"][k] = v;
            }
          }
        }
        if (const json* fs = member_or_null(*fields, "f:spec")) {
          if (const json* ft = member_or_null(*fs, "f:tracing")) f["f:spec"]["f:tracing"] = *ft;
        }
        if (f.empty()) continue;
        json entry = {{"fieldsV1", std::move(f)}};
        for (const char* k : {"manager", "operation"}) {
          if (auto it = e.find(k); it != e.end()) entry[k] = std::move(*it);
        }
        entries.push_back(std::move(entry));
      }
      if (!entries.empty()) md["managedFields"] = std::move(entries);
    }
  }
  view["metadata"] = std::move(md);
  if (const json* spec = member_or_null(c, "spec")) {
    if (const json* t = member_or_null(*spec, "tracing")) view["spec"]["tracing"] = *t;
  }
  return view;
}

PreviousRecord previous_record(const json& configuration) {
  PreviousRecord r;
  const std::string field = std::string("f:") + naming::kDaprPreviousAnnotation;
  const json* meta = member_or_null(configuration, "metadata");
  const json* annotations = meta ? member_or_null(*meta, "annotations") : nullptr;
  const json* value =
      annotations ? member_or_null(*annotations, naming::kDaprPreviousAnnotation) : nullptr;
  const std::string annotation = std::string("the record ") + naming::kDaprPreviousAnnotation;
  if (!value) {
    bool holds_tracing =
        includes(managers_holding(configuration, {"f:spec", "f:tracing", "f:samplingRate"}),
                 naming::kFieldManager) ||
        includes(managers_holding(configuration, {"f:spec", "f:tracing", "f:otel"}),
                 naming::kFieldManager);
    if (holds_tracing) {
      r.state = PreviousRecord::State::kUntrusted;
      r.why = annotation + " was removed while " + naming::kFieldManager +
              " holds spec.tracing: the settings from before the takeover are unknown";
    }
    return r;
  }
  r.state = PreviousRecord::State::kUntrusted;
  const std::vector<std::string> writers =
      managers_holding(configuration, {"f:metadata", "f:annotations", field});
  if (!includes(writers, naming::kFieldManager)) {
    r.why = annotation + " was not written by " + naming::kFieldManager +
            (writers.empty() ? std::string(" (no field manager owns it)")
                             : " (field manager " + writers.front() + " owns it)");
    return r;
  }
  if (!value->is_string()) {
    r.why = annotation + " is not a string";
    return r;
  }
  const std::string text = value->get<std::string>();
  if (text.size() > kMaxRecordBytes) {
    r.why = annotation + " is " + std::to_string(text.size()) + " bytes, more than " +
            std::to_string(kMaxRecordBytes);
    return r;
  }
  json record = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (record.is_discarded()) {
    r.why = annotation + " is not JSON";
    return r;
  }
  if (std::string e = record_shape_error(record); !e.empty()) {
    r.why = annotation + " " + e;
    return r;
  }
  r.state = PreviousRecord::State::kTrusted;
  r.text = text;
  r.record = std::move(record);
  return r;
}

DaprSettings dapr_settings(const std::optional<json>& spec_dapr) {
  DaprSettings s;
  if (!spec_dapr || !spec_dapr->is_object()) return s;
  if (const json* m = member_or_null(*spec_dapr, "mode"); m && m->is_string()) {
    const std::string mode = m->get<std::string>();
    if (mode == "auto" || mode == "enabled" || mode == "disabled") s.mode = mode;
  }
  if (const json* n = member_or_null(*spec_dapr, "configurationName");
      n && n->is_string() && !n->get<std::string>().empty()) {
    s.configuration_name = n->get<std::string>();
  }
  if (const json* r = member_or_null(*spec_dapr, "restartOnChange"); r && r->is_boolean()) {
    s.restart_on_change = r->get<bool>();
  }
  return s;
}

DaprTracing dapr_tracing(const EffectiveConfig& c) {
  DaprTracing t;
  const std::string sampler = c.effective_sampler();
  if (sampler == "always_on" || sampler == "parentbased_always_on") {
    t.sampling_rate = "1";
  } else if (sampler == "always_off" || sampler == "parentbased_always_off") {
    t.sampling_rate = "0";
  } else {
    t.sampling_rate = c.effective_ratio();
  }
  t.protocol = c.protocol.starts_with("http") ? "http" : "grpc";
  const Endpoint e = parse_endpoint(c.endpoint);
  if (!e.host.empty()) {
    t.endpoint_address =
        e.host + ":" + (e.port.empty() ? (t.protocol == "http" ? "4318" : "4317") : e.port);
  }
  if (e.scheme == "https") {
    t.is_secure = true;
  } else if (e.scheme == "http") {
    t.is_secure = false;
  } else {
    t.is_secure = !c.insecure;
  }
  return t;
}

bool dapr_managed(const DaprSettings& s, bool api_served, const Labels& template_annotations) {
  if (s.mode == "enabled") return true;
  if (s.mode == "disabled") return false;
  if (!api_served) return false;
  auto it = template_annotations.find(naming::kDaprEnabledAnnotation);
  return it != template_annotations.end() && is_truthy(it->second);
}

std::string referenced_configuration(const Labels& template_annotations) {
  auto it = template_annotations.find(naming::kDaprConfigAnnotation);
  return it == template_annotations.end() ? "" : it->second;
}

json configuration_intent(const std::string& ns, const std::string& name, const DaprTracing& t) {
  json intent = object_identity(ns, name);
  intent["spec"] = {{"tracing",
                     {{"samplingRate", t.sampling_rate},
                      {"otel",
                       {{"endpointAddress", t.endpoint_address},
                        {"isSecure", t.is_secure},
                        {"protocol", t.protocol}}}}}};
  return intent;
}

std::string tracing_hash(const DaprTracing& t) {
  // The canonical dump (keys sorted, no spaces) of the four settings.
  const json settings = {{"samplingRate", t.sampling_rate},
                         {"endpointAddress", t.endpoint_address},
                         {"isSecure", t.is_secure},
                         {"protocol", t.protocol}};
  return stable_hash_hex(settings.dump(-1, ' ', false, json::error_handler_t::replace));
}

json previous_tracing(const json& configuration) {
  const json* spec = member_or_null(configuration, "spec");
  const json* tracing = spec ? member_or_null(*spec, "tracing") : nullptr;
  return {{"tracing", tracing ? *tracing : json(nullptr)}};
}

json restore_intent(const std::string& ns, const std::string& name, const json& recorded) {
  json patch = object_identity(ns, name);
  const json* tracing = member_or_null(recorded, "tracing");
  if (!tracing || !tracing->is_object()) {
    patch["spec"] = {{"tracing", nullptr}};
    return patch;
  }
  json restored = json::object();
  const json* rate = member_or_null(*tracing, "samplingRate");
  restored["samplingRate"] = rate ? *rate : json(nullptr);
  const json* otel = member_or_null(*tracing, "otel");
  if (otel && otel->is_object()) {
    json fields = json::object();
    for (const char* key : {"endpointAddress", "isSecure", "protocol"}) {
      const json* v = member_or_null(*otel, key);
      fields[key] = v ? *v : json(nullptr);
    }
    restored["otel"] = std::move(fields);
  } else {
    restored["otel"] = nullptr;
  }
  patch["spec"] = {{"tracing", std::move(restored)}};
  return patch;
}

std::optional<json> release_patch(const json& configuration) {
  const json* meta = member_or_null(configuration, "metadata");
  if (!meta) return std::nullopt;
  json kept = json::array();
  bool owns = false;
  if (const json* managed = member_or_null(*meta, "managedFields");
      managed && managed->is_array()) {
    for (const json& entry : *managed) {
      const json* manager = member_or_null(entry, "manager");
      if (manager && manager->is_string() && manager->get<std::string>() == naming::kFieldManager) {
        owns = true;
      } else {
        kept.push_back(entry);
      }
    }
  }
  const json* annotations = member_or_null(*meta, "annotations");
  const bool recorded =
      annotations && member_or_null(*annotations, naming::kDaprPreviousAnnotation);
  if (!owns && !recorded) return std::nullopt;

  json m = json::object();
  if (const json* rv = member_or_null(*meta, "resourceVersion")) m["resourceVersion"] = *rv;
  if (owns) m["managedFields"] = kept.empty() ? json::array({json::object()}) : std::move(kept);
  if (recorded) m["annotations"] = {{naming::kDaprPreviousAnnotation, nullptr}};
  return json{{"metadata", std::move(m)}};
}

}  // namespace tracing::controllers
