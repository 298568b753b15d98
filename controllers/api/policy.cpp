// TracingPolicy parsing, time grammars, label selectors and the Deployment projection.
// Everything here is total: malformed input becomes an error value or is skipped, never an
// exception (nlohmann exceptions are caught at each public entry point).
#include "controllers/api/policy.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <limits>
#include <string_view>
#include <utility>

#include "controllers/hash.h"
#include "controllers/naming.h"

namespace tracing::controllers {
namespace {

using std::chrono::nanoseconds;
using std::chrono::seconds;

// Per container, per env variable: the managers owning the entry's value.
using EnvOwners = std::map<std::string, std::map<std::string, std::set<std::string>>>;

constexpr std::string_view kProjectedOwnersKey = "tracingEnvOwners";

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A JSON string literal of `s` for error messages (escaped, invalid UTF-8 replaced).
std::string quote(const std::string& s) {
  return json(s).dump(-1, ' ', false, json::error_handler_t::replace);
}

// Accumulates "field: message" errors, joined by "; ".
class Errors {
 public:
  void add(const std::string& field, const std::string& message) {
    if (!text_.empty()) text_ += "; ";
    text_ += field + ": " + message;
  }
  bool empty() const { return text_.empty(); }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

// obj[key] when obj is an object holding a non-null value there.
const json* member(const json& obj, const std::string& key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<int64_t> as_int64(const json& v) {
  if (v.is_number_unsigned()) {
    auto u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<int64_t>();
  return std::nullopt;
}

std::optional<std::string> read_string(const json& obj, const std::string& key,
                                       const std::string& field, Errors& errs) {
  const json* v = member(obj, key);
  if (!v) return std::nullopt;
  if (!v->is_string()) {
    errs.add(field, "must be a string");
    return std::nullopt;
  }
  return v->get<std::string>();
}

std::optional<bool> read_bool(const json& obj, const std::string& key, const std::string& field,
                              Errors& errs) {
  const json* v = member(obj, key);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) {
    errs.add(field, "must be true or false");
    return std::nullopt;
  }
  return v->get<bool>();
}

std::optional<std::vector<std::string>> read_string_list(const json& obj, const std::string& key,
                                                         const std::string& field, Errors& errs) {
  const json* v = member(obj, key);
  if (!v) return std::nullopt;
  if (!v->is_array()) {
    errs.add(field, "must be a list of strings");
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < v->size(); ++i) {
    const json& item = (*v)[i];
    if (!item.is_string()) {
      errs.add(field + "[" + std::to_string(i) + "]", "must be a string");
      continue;
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

// A JSON object of strings, e.g. labels. Non-string values are reported.
std::map<std::string, std::string> read_string_map(const json& v, const std::string& field,
                                                   Errors& errs) {
  std::map<std::string, std::string> out;
  if (!v.is_object()) {
    errs.add(field, "must be a map of strings");
    return out;
  }
  for (const auto& [k, val] : v.items()) {
    if (!val.is_string()) {
      errs.add(field + "." + k, "must be a string");
      continue;
    }
    out[k] = val.get<std::string>();
  }
  return out;
}

// A JSON object of strings read leniently (Deployment labels/annotations): others skipped.
Labels lenient_string_map(const json* v) {
  Labels out;
  if (!v || !v->is_object()) return out;
  for (const auto& [k, val] : v->items()) {
    if (val.is_string()) out[k] = val.get<std::string>();
  }
  return out;
}

bool one_of(const std::string& s, std::initializer_list<std::string_view> allowed) {
  return std::find(allowed.begin(), allowed.end(), s) != allowed.end();
}

std::string list_of(std::initializer_list<std::string_view> allowed) {
  std::string out;
  for (auto a : allowed) {
    if (!out.empty()) out += ", ";
    out += a;
  }
  return out;
}

// A ratio as the API writes it: a plain decimal "[0-9]+(.[0-9]+)?" whose value is in [0, 1].
bool is_ratio(const std::string& s) {
  size_t i = 0;
  while (i < s.size() && is_digit(s[i])) ++i;
  if (i == 0) return false;
  if (i < s.size()) {
    if (s[i] != '.') return false;
    size_t start = ++i;
    while (i < s.size() && is_digit(s[i])) ++i;
    if (i == start || i != s.size()) return false;
  }
  double value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  return ec == std::errc() && ptr == s.data() + s.size() && value >= 0 && value <= 1;
}

void check_enum(const std::optional<std::string>& v, const std::string& field,
                std::initializer_list<std::string_view> allowed, Errors& errs) {
  if (v && !one_of(*v, allowed)) errs.add(field, quote(*v) + " must be one of " + list_of(allowed));
}

void check_ratio(const std::optional<std::string>& v, const std::string& field, Errors& errs) {
  if (v && !is_ratio(*v)) errs.add(field, quote(*v) + " must be a decimal in [0, 1], e.g. \"0.1\"");
}

// An endpoint URL: the scheme http:// or https://, in lower case as SDKs compare it. (A `$(`
// in it is not refused here: every value the operator writes into env is escaped, §4.)
void check_http_url(const std::string& url, const std::string& field, Errors& errs) {
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    errs.add(field, quote(url) + " must be an http:// or https:// URL (scheme in lower case)");
  }
}

// W3C Baggage / RFC 7230 token characters: what a resource attribute key may hold unencoded.
bool is_token(const std::string& s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
        std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

std::optional<LabelSelector> parse_selector(const json& j, const std::string& field, Errors& errs) {
  if (!j.is_object()) {
    errs.add(field, "must be a label selector (matchLabels, matchExpressions)");
    return std::nullopt;
  }
  LabelSelector s;
  if (const json* ml = member(j, "matchLabels")) {
    s.match_labels = read_string_map(*ml, field + ".matchLabels", errs);
  }
  if (const json* me = member(j, "matchExpressions")) {
    if (!me->is_array()) {
      errs.add(field + ".matchExpressions", "must be a list");
    } else {
      for (size_t i = 0; i < me->size(); ++i) {
        const std::string f = field + ".matchExpressions[" + std::to_string(i) + "]";
        const json& e = (*me)[i];
        if (!e.is_object()) {
          errs.add(f, "must be an object with key, operator, values");
          continue;
        }
        LabelRequirement r;
        auto key = read_string(e, "key", f + ".key", errs);
        if (!key || key->empty()) {
          if (!member(e, "key")) errs.add(f + ".key", "required");
        } else {
          r.key = *key;
        }
        auto op = read_string(e, "operator", f + ".operator", errs);
        const std::initializer_list<std::string_view> kOps = {"In", "NotIn", "Exists",
                                                              "DoesNotExist"};
        if (!op) {
          if (!member(e, "operator")) errs.add(f + ".operator", "required");
        } else if (!one_of(*op, kOps)) {
          errs.add(f + ".operator", quote(*op) + " must be one of " + list_of(kOps));
        } else {
          r.op = *op;
        }
        r.values =
            read_string_list(e, "values", f + ".values", errs).value_or(std::vector<std::string>{});
        if ((r.op == "In" || r.op == "NotIn") && r.values.empty()) {
          errs.add(f + ".values", "must not be empty for operator " + r.op);
        }
        if ((r.op == "Exists" || r.op == "DoesNotExist") && !r.values.empty()) {
          errs.add(f + ".values", "must be empty for operator " + r.op);
        }
        s.match_expressions.push_back(std::move(r));
      }
    }
  }
  return s;
}

std::optional<Debug> parse_debug(const json& j, Errors& errs) {
  const std::string f = "spec.debug";
  if (!j.is_object()) {
    errs.add(f, "must be an object (ratio, duration or until, reason)");
    return std::nullopt;
  }
  Debug d;
  auto ratio = read_string(j, "ratio", f + ".ratio", errs);
  check_ratio(ratio, f + ".ratio", errs);
  d.ratio = ratio.value_or("1");  // a debug bump without a ratio samples everything

  auto duration = read_string(j, "duration", f + ".duration", errs);
  if (duration) {
    auto parsed = parse_duration(*duration);
    if (!parsed) {
      errs.add(f + ".duration",
               quote(*duration) + " is not a duration such as \"15m\" or \"1h30m\"");
    } else if (*parsed < std::chrono::minutes(1) || *parsed > std::chrono::hours(24)) {
      errs.add(f + ".duration", quote(*duration) + " must be between 1m and 24h");
    } else {
      d.duration = *parsed;
    }
  }
  auto until = read_string(j, "until", f + ".until", errs);
  if (until) {
    auto parsed = parse_rfc3339(*until);
    if (!parsed) {
      errs.add(f + ".until",
               quote(*until) + " is not an RFC 3339 time such as \"2026-11-26T12:00:00Z\"");
    } else {
      d.until = *parsed;
    }
  }
  bool has_duration = member(j, "duration") != nullptr;
  bool has_until = member(j, "until") != nullptr;
  if (has_duration && has_until) {
    errs.add(f, "set exactly one of duration and until, not both");
  } else if (!has_duration && !has_until) {
    errs.add(f, "set exactly one of duration and until");
  }
  d.reason = read_string(j, "reason", f + ".reason", errs).value_or("");
  // The canonical dump (object keys sorted) identifies the debug spec.
  d.hash = stable_hash_hex(j.dump(-1, ' ', false, json::error_handler_t::replace));
  return d;
}

std::optional<DebugStatus> parse_debug_status(const json& object) {
  const json* status = member(object, "status");
  const json* debug = status ? member(*status, "debug") : nullptr;
  if (!debug) return std::nullopt;
  const json* hash = member(*debug, "hash");
  const json* started = member(*debug, "startedAt");
  const json* expires = member(*debug, "expiresAt");
  if (!hash || !hash->is_string() || !started || !started->is_string() || !expires ||
      !expires->is_string()) {
    return std::nullopt;
  }
  auto s = parse_rfc3339(started->get<std::string>());
  auto e = parse_rfc3339(expires->get<std::string>());
  if (!s || !e) return std::nullopt;
  return DebugStatus{hash->get<std::string>(), *s, *e};
}

PolicySpec parse_spec(const json& spec, Errors& errs) {
  PolicySpec s;
  if (const json* v = member(spec, "selector")) {
    s.selector = parse_selector(*v, "spec.selector", errs);
  }
  if (const json* v = member(spec, "namespaceSelector")) {
    s.namespace_selector = parse_selector(*v, "spec.namespaceSelector", errs);
  }
  if (const json* v = member(spec, "priority")) {
    auto p = as_int64(*v);
    if (!p || *p < std::numeric_limits<int>::min() || *p > std::numeric_limits<int>::max()) {
      errs.add("spec.priority", "must be a 32-bit integer");
    } else {
      s.priority = static_cast<int>(*p);
    }
  }
  s.containers = read_string_list(spec, "containers", "spec.containers", errs);
  if (const json* v = member(spec, "serviceName")) {
    if (!v->is_object()) {
      errs.add("spec.serviceName", "must be an object (fromLabel)");
    } else {
      s.service_name_from_label = read_string(*v, "fromLabel", "spec.serviceName.fromLabel", errs);
      if (s.service_name_from_label && s.service_name_from_label->empty()) {
        errs.add("spec.serviceName.fromLabel", "must not be empty");
      }
    }
  }
  if (const json* v = member(spec, "exporter")) {
    if (!v->is_object()) {
      errs.add("spec.exporter", "must be an object (endpoint, protocol, insecure)");
    } else {
      Exporter e;
      e.endpoint = read_string(*v, "endpoint", "spec.exporter.endpoint", errs);
      if (e.endpoint) check_http_url(*e.endpoint, "spec.exporter.endpoint", errs);
      e.protocol = read_string(*v, "protocol", "spec.exporter.protocol", errs);
      check_enum(e.protocol, "spec.exporter.protocol", {"grpc", "http/protobuf", "http/json"},
                 errs);
      e.insecure = read_bool(*v, "insecure", "spec.exporter.insecure", errs);
      s.exporter = std::move(e);
    }
  }
  if (const json* v = member(spec, "sampling")) {
    if (!v->is_object()) {
      errs.add("spec.sampling", "must be an object (sampler, ratio, mode, remoteInitialRatio)");
    } else {
      Sampling m;
      m.sampler = read_string(*v, "sampler", "spec.sampling.sampler", errs);
      check_enum(m.sampler, "spec.sampling.sampler",
                 {"always_on", "always_off", "traceidratio", "parentbased_always_on",
                  "parentbased_always_off", "parentbased_traceidratio"},
                 errs);
      m.ratio = read_string(*v, "ratio", "spec.sampling.ratio", errs);
      check_ratio(m.ratio, "spec.sampling.ratio", errs);
      m.mode = read_string(*v, "mode", "spec.sampling.mode", errs);
      check_enum(m.mode, "spec.sampling.mode", {"restart", "remote"}, errs);
      m.remote_initial_ratio =
          read_string(*v, "remoteInitialRatio", "spec.sampling.remoteInitialRatio", errs);
      check_ratio(m.remote_initial_ratio, "spec.sampling.remoteInitialRatio", errs);
      s.sampling = std::move(m);
    }
  }
  if (const json* v = member(spec, "debug")) s.debug = parse_debug(*v, errs);
  s.propagators = read_string_list(spec, "propagators", "spec.propagators", errs);
  if (s.propagators) {
    for (size_t i = 0; i < s.propagators->size(); ++i) {
      check_enum((*s.propagators)[i], "spec.propagators[" + std::to_string(i) + "]",
                 {"tracecontext", "baggage", "b3", "b3multi", "jaeger", "xray", "ottrace", "none"},
                 errs);
    }
  }
  if (const json* v = member(spec, "resourceAttributes")) {
    s.resource_attributes = read_string_map(*v, "spec.resourceAttributes", errs);
    for (const auto& [k, val] : s.resource_attributes) {
      if (!is_token(k)) {
        errs.add("spec.resourceAttributes",
                 "key " + quote(k) + " must be non-empty and hold no spaces, ',' or '='");
      }
    }
  }
  s.override_env = read_bool(spec, "override", "spec.override", errs);
  // §7-§9 groups stay raw; only what the decision reads from them is checked here.
  auto raw_group = [&](const char* key) -> std::optional<json> {
    const json* v = member(spec, key);
    if (!v) return std::nullopt;
    if (!v->is_object()) {
      errs.add(std::string("spec.") + key, "must be an object");
      return std::nullopt;
    }
    return *v;
  };
  s.dapr = raw_group("dapr");
  s.jaeger = raw_group("jaeger");
  std::optional<std::string> jaeger_mode;
  bool has_sampling_endpoint = false;
  if (s.jaeger) {
    read_string(*s.jaeger, "namespace", "spec.jaeger.namespace", errs);
    jaeger_mode = read_string(*s.jaeger, "mode", "spec.jaeger.mode", errs);
    check_enum(jaeger_mode, "spec.jaeger.mode", {"managed", "external", "none"}, errs);
    auto endpoint =
        read_string(*s.jaeger, "samplingEndpoint", "spec.jaeger.samplingEndpoint", errs);
    has_sampling_endpoint = endpoint.has_value();
    if (endpoint) {
      check_http_url(*endpoint, "spec.jaeger.samplingEndpoint", errs);
      // It is written into OTEL_TRACES_SAMPLER_ARG, a comma-separated list of key=value.
      if (endpoint->find(',') != std::string::npos) {
        errs.add("spec.jaeger.samplingEndpoint",
                 quote(*endpoint) +
                     " must not contain ',' (OTEL_TRACES_SAMPLER_ARG separates its "
                     "settings with commas)");
      }
    }
  }
  // §8: remote mode needs a sampling endpoint. What this policy alone says can be refused here;
  // a combination across policies is judged per workload (EffectiveConfig::unusable).
  if (s.sampling && s.sampling->mode == "remote" && jaeger_mode &&
      (*jaeger_mode == "none" || (*jaeger_mode == "external" && !has_sampling_endpoint))) {
    errs.add("spec.sampling.mode",
             "remote needs a Jaeger sampling endpoint, but spec.jaeger.mode is " + *jaeger_mode +
                 (*jaeger_mode == "external" ? " without spec.jaeger.samplingEndpoint" : "") +
                 ": use jaeger.mode managed, or external with samplingEndpoint");
  }
  s.rollout = raw_group("rollout");
  return s;
}

// ---- Time ------------------------------------------------------------------------------------

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct Civil {
  int64_t y;
  unsigned m;
  unsigned d;
};

Civil civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

unsigned days_in_month(int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

// Reads exactly `n` digits at text[pos]; advances pos.
std::optional<unsigned> fixed_digits(std::string_view text, size_t& pos, size_t n) {
  if (pos + n > text.size()) return std::nullopt;
  unsigned v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = text[pos + i];
    if (!is_digit(c)) return std::nullopt;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  pos += n;
  return v;
}

bool expect(std::string_view text, size_t& pos, std::string_view chars) {
  if (pos >= text.size() || chars.find(text[pos]) == std::string_view::npos) return false;
  ++pos;
  return true;
}

// ---- managedFields ---------------------------------------------------------------------------

// The name inside a `k:{"name":"app"}` key of fieldsV1, or nullopt.
std::optional<std::string> key_name(const std::string& key) {
  if (key.rfind("k:", 0) != 0) return std::nullopt;
  json k = json::parse(key.substr(2), nullptr, /*allow_exceptions=*/false);
  if (!k.is_object()) return std::nullopt;
  auto it = k.find("name");
  if (it == k.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

EnvOwners owners_from_managed_fields(const json* managed_fields) {
  EnvOwners owners;
  if (!managed_fields || !managed_fields->is_array()) return owners;
  for (const json& entry : *managed_fields) {
    const json* manager = member(entry, "manager");
    if (!manager || !manager->is_string()) continue;
    const json* f = member(entry, "fieldsV1");
    // metadata.annotations of the Deployment itself.
    const json* mann = f ? member(*f, "f:metadata") : nullptr;
    mann = mann ? member(*mann, "f:annotations") : nullptr;
    if (mann && mann->is_object()) {
      for (const auto& [akey, afields] : mann->items()) {
        // Only the operator's own keys: the projection keeps these owners in memory. The
        // operator writes them only by server-side apply; an update that merely borrows its
        // manager name (a client whose User-Agent says tracing-operator) is no proof.
        if (akey.rfind("f:tracing.rollout.dev/", 0) == 0) {
          std::string who = manager->get<std::string>();
          const json* op = member(entry, "operation");
          if (who == naming::kFieldManager && !(op && *op == "Apply")) who += " (Update)";
          owners[kAnnotationOwners][akey.substr(2)].insert(who);
        }
      }
    }
    for (const char* step : {"f:spec", "f:template"}) f = f ? member(*f, step) : nullptr;
    // Pod-template annotations, under a pseudo-container no real container can be named.
    const json* ann = f ? member(*f, "f:metadata") : nullptr;
    ann = ann ? member(*ann, "f:annotations") : nullptr;
    if (ann && ann->is_object()) {
      for (const auto& [akey, afields] : ann->items()) {
        if (akey.rfind("f:", 0) == 0) {
          owners[kTemplateAnnotationOwners][akey.substr(2)].insert(manager->get<std::string>());
        }
      }
    }
    for (const char* step : {"f:spec", "f:containers"}) f = f ? member(*f, step) : nullptr;
    if (!f || !f->is_object()) continue;
    for (const auto& [ckey, cfields] : f->items()) {
      auto container = key_name(ckey);
      const json* env = container ? member(cfields, "f:env") : nullptr;
      if (!env || !env->is_object()) continue;
      for (const auto& [ekey, efields] : env->items()) {
        auto var = key_name(ekey);
        if (!var || !efields.is_object()) continue;
        if (efields.contains("f:value") || efields.contains("f:valueFrom")) {
          owners[*container][*var].insert(manager->get<std::string>());
        }
      }
    }
  }
  return owners;
}

json owners_to_json(const EnvOwners& owners) {
  json out = json::object();
  for (const auto& [container, vars] : owners) {
    for (const auto& [var, managers] : vars) {
      out[container][var] = json(std::vector<std::string>(managers.begin(), managers.end()));
    }
  }
  return out;
}

EnvOwners owners_from_json(const json& j) {
  EnvOwners owners;
  if (!j.is_object()) return owners;
  for (const auto& [container, vars] : j.items()) {
    if (!vars.is_object()) continue;
    for (const auto& [var, managers] : vars.items()) {
      if (!managers.is_array()) continue;
      for (const json& m : managers) {
        if (m.is_string()) owners[container][var].insert(m.get<std::string>());
      }
    }
  }
  return owners;
}

// Moves from[key] into to[key] when present.
void take(json& from, json& to, const std::string& key) {
  if (!from.is_object()) return;
  auto it = from.find(key);
  if (it != from.end()) to[key] = std::move(*it);
}

}  // namespace

// ---- Label selectors -------------------------------------------------------------------------

bool LabelSelector::matches(const Labels& labels) const {
  for (const auto& [k, v] : match_labels) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  for (const auto& r : match_expressions) {
    auto it = labels.find(r.key);
    bool present = it != labels.end();
    bool listed =
        present && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end();
    if (r.op == "In") {
      if (!listed) return false;
    } else if (r.op == "NotIn") {
      if (listed) return false;
    } else if (r.op == "Exists") {
      if (!present) return false;
    } else if (r.op == "DoesNotExist") {
      if (present) return false;
    } else {
      return false;  // an unknown operator selects nothing
    }
  }
  return true;
}

// ---- Policies --------------------------------------------------------------------------------

namespace {

// What a policy is whatever its spec says: metadata.
void parse_metadata(const json& object, Policy& p, Errors& errs) {
  const json* meta = member(object, "metadata");
  if (!meta || !meta->is_object()) {
    errs.add("metadata", "required");
  } else {
    auto name = read_string(*meta, "name", "metadata.name", errs);
    auto ns = read_string(*meta, "namespace", "metadata.namespace", errs);
    if (!name || name->empty()) errs.add("metadata.name", "required");
    if (!ns || ns->empty()) errs.add("metadata.namespace", "required");
    p.name = name.value_or("");
    p.ns = ns.value_or("");
    p.uid = read_string(*meta, "uid", "metadata.uid", errs).value_or("");
    if (const json* g = member(*meta, "generation")) {
      auto gen = as_int64(*g);
      if (!gen) {
        errs.add("metadata.generation", "must be an integer");
      } else {
        p.generation = *gen;
      }
    }
    p.deleting = member(*meta, "deletionTimestamp") != nullptr;
  }
}

}  // namespace

ParseResult parse_policy(const json& object) {
  try {
    if (!object.is_object()) return {std::nullopt, "object: must be a TracingPolicy object"};
    Errors errs;
    Policy p;
    parse_metadata(object, p, errs);
    if (const json* spec = member(object, "spec")) {
      if (!spec->is_object()) {
        errs.add("spec", "must be an object");
      } else {
        p.spec = parse_spec(*spec, errs);
      }
    }
    p.debug_status = parse_debug_status(object);
    if (!errs.empty()) return {std::nullopt, errs.text()};
    p.spec_generation = p.generation;
    return {std::move(p), ""};
  } catch (const std::exception& e) {
    return {std::nullopt, std::string("object: unreadable TracingPolicy: ") + e.what()};
  }
}

std::optional<Policy> policy_in_force(const json& object, const Policy* previous,
                                      std::string* error) {
  ParseResult parsed = parse_policy(object);
  if (parsed.policy) return std::move(parsed.policy);
  Policy p;
  try {
    Errors meta_errs;
    if (object.is_object()) parse_metadata(object, p, meta_errs);
    if (!object.is_object() || !meta_errs.empty()) {
      if (error) *error = parsed.error;
      return std::nullopt;
    }
    p.debug_status = parse_debug_status(object);
  } catch (const std::exception&) {
    if (error) *error = parsed.error;
    return std::nullopt;
  }
  p.spec_error = parsed.error;
  if (previous && previous->uid == p.uid && previous->spec_known) {
    p.spec = previous->spec;
    p.spec_generation = previous->spec_generation;
  } else {
    p.spec_known = false;
  }
  return p;
}

// Go's time.ParseDuration: [-+]?([0-9]*(\.[0-9]*)?[a-z]+)+, or "0". Truncated to seconds.
std::optional<std::chrono::seconds> parse_duration(const std::string& text) {
  constexpr uint64_t kMax = uint64_t{1} << 63;
  std::string_view s = text;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return seconds(0);
  if (s.empty()) return std::nullopt;
  uint64_t total = 0;  // nanoseconds
  while (!s.empty()) {
    if (!(s[0] == '.' || is_digit(s[0]))) return std::nullopt;
    // [0-9]*
    uint64_t v = 0;
    size_t i = 0;
    for (; i < s.size() && is_digit(s[i]); ++i) {
      if (v > (kMax - 1) / 10) return std::nullopt;
      v = v * 10 + static_cast<uint64_t>(s[i] - '0');
      if (v > kMax) return std::nullopt;
    }
    bool pre = i > 0;
    s.remove_prefix(i);
    // (\.[0-9]*)?
    uint64_t frac = 0;
    double scale = 1;
    bool post = false;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      bool overflow = false;
      size_t j = 0;
      for (; j < s.size() && is_digit(s[j]); ++j) {
        if (overflow) continue;
        if (frac > (kMax - 1) / 10) {
          overflow = true;  // further digits are below the precision kept
          continue;
        }
        uint64_t y = frac * 10 + static_cast<uint64_t>(s[j] - '0');
        if (y > kMax) {
          overflow = true;
          continue;
        }
        frac = y;
        scale *= 10;
      }
      post = j > 0;
      s.remove_prefix(j);
    }
    if (!pre && !post) return std::nullopt;
    // unit: everything up to the next digit or '.'
    size_t u = 0;
    while (u < s.size() && s[u] != '.' && !is_digit(s[u])) ++u;
    if (u == 0) return std::nullopt;
    std::string_view unit_name = s.substr(0, u);
    s.remove_prefix(u);
    uint64_t unit = 0;
    if (unit_name == "ns") {
      unit = 1;
    } else if (unit_name == "us" || unit_name == "\xC2\xB5s" || unit_name == "\xCE\xBCs") {
      unit = 1000;
    } else if (unit_name == "ms") {
      unit = 1000'000;
    } else if (unit_name == "s") {
      unit = 1000'000'000;
    } else if (unit_name == "m") {
      unit = 60 * uint64_t{1000'000'000};
    } else if (unit_name == "h") {
      unit = 3600 * uint64_t{1000'000'000};
    } else {
      return std::nullopt;
    }
    if (v > kMax / unit) return std::nullopt;
    v *= unit;
    if (frac > 0) {
      v += static_cast<uint64_t>(static_cast<double>(frac) * (static_cast<double>(unit) / scale));
      if (v > kMax) return std::nullopt;
    }
    total += v;
    if (total > kMax) return std::nullopt;
  }
  if (!neg && total > kMax - 1) return std::nullopt;
  constexpr uint64_t kNanosPerSecond = 1000'000'000;
  auto secs = static_cast<int64_t>(total / kNanosPerSecond);
  return seconds(neg ? -secs : secs);
}

// RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM); 'T' and 'Z' in either case.
std::optional<WallTime> parse_rfc3339(const std::string& text) {
  std::string_view t = text;
  size_t pos = 0;
  auto year = fixed_digits(t, pos, 4);
  if (!year || !expect(t, pos, "-")) return std::nullopt;
  auto month = fixed_digits(t, pos, 2);
  if (!month || !expect(t, pos, "-")) return std::nullopt;
  auto day = fixed_digits(t, pos, 2);
  if (!day || !expect(t, pos, "Tt")) return std::nullopt;
  auto hour = fixed_digits(t, pos, 2);
  if (!hour || !expect(t, pos, ":")) return std::nullopt;
  auto minute = fixed_digits(t, pos, 2);
  if (!minute || !expect(t, pos, ":")) return std::nullopt;
  auto second = fixed_digits(t, pos, 2);
  if (!second) return std::nullopt;
  if (*month < 1 || *month > 12 || *day < 1 || *day > days_in_month(*year, *month) || *hour > 23 ||
      *minute > 59 || *second > 59) {
    return std::nullopt;
  }
  int64_t nanos = 0;
  if (pos < t.size() && t[pos] == '.') {
    ++pos;
    size_t digits = 0;
    int64_t scale = 100'000'000;
    for (; pos < t.size() && is_digit(t[pos]); ++pos, ++digits) {
      nanos += (t[pos] - '0') * scale;  // digits beyond nanoseconds add 0
      scale /= 10;
    }
    if (digits == 0) return std::nullopt;
  }
  int64_t offset = 0;  // seconds east of UTC
  if (pos < t.size() && (t[pos] == 'Z' || t[pos] == 'z')) {
    ++pos;
  } else if (pos < t.size() && (t[pos] == '+' || t[pos] == '-')) {
    int64_t sign = t[pos] == '-' ? -1 : 1;
    ++pos;
    auto oh = fixed_digits(t, pos, 2);
    if (!oh || !expect(t, pos, ":")) return std::nullopt;
    auto om = fixed_digits(t, pos, 2);
    if (!om || *oh > 23 || *om > 59) return std::nullopt;
    offset = sign * (*oh * 3600 + *om * 60);
  } else {
    return std::nullopt;
  }
  if (pos != t.size()) return std::nullopt;

  int64_t secs =
      days_from_civil(*year, *month, *day) * 86400 + *hour * 3600 + *minute * 60 + *second - offset;
  // Refuse instants the clock's representation cannot hold.
  using Dur = WallTime::duration;
  const int64_t limit = std::chrono::duration_cast<seconds>(Dur::max()).count() - 1;
  if (secs > limit || secs < -limit) return std::nullopt;
  return WallTime(std::chrono::duration_cast<Dur>(seconds(secs)) +
                  std::chrono::duration_cast<Dur>(nanoseconds(nanos)));
}

std::string format_rfc3339(WallTime t) {
  const int64_t secs = std::chrono::floor<seconds>(t.time_since_epoch()).count();
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    days -= 1;
  }
  Civil c = civil_from_days(days);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ",
                static_cast<long long>(c.y), c.m, c.d, static_cast<long long>(rem / 3600),
                static_cast<long long>(rem / 60 % 60), static_cast<long long>(rem % 60));
  return buf;
}

// ---- Deployments -----------------------------------------------------------------------------

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
                              "annotations", "deletionTimestamp"}) {
        take(*meta, m, key);
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
          take(*tmeta, tm, "annotations");
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
              take(c, reduced, "env");
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
                              "availableReplicas", "readyReplicas", "conditions"}) {
        take(*status_it, st, key);
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
      w.annotations = lenient_string_map(member(*meta, "annotations"));
    }
    const json* spec = member(deployment, "spec");
    const json* tmpl = spec ? member(*spec, "template") : nullptr;
    const json* tmeta = tmpl ? member(*tmpl, "metadata") : nullptr;
    if (tmeta) {
      w.template_labels = lenient_string_map(member(*tmeta, "labels"));
      w.template_annotations = lenient_string_map(member(*tmeta, "annotations"));
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
            if (ename && ename->is_string()) out.env.push_back({ename->get<std::string>(), e});
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
