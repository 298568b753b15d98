// TracingPolicy parsing. Everything here is total: malformed input becomes an error value, never
// an exception (nlohmann exceptions are caught at each public entry point).
#include "controllers/api/policy.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <exception>
#include <limits>
#include <string_view>
#include <utility>

#include "controllers/api/duration.h"
#include "controllers/hash.h"

namespace tracing::controllers {
namespace {

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
    errs.add(f, "must be an object (ratio, duration or until, reason, operations)");
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
  if (auto ops = read_string_list(j, "operations", f + ".operations", errs)) {
    if (ops->empty()) errs.add(f + ".operations", "must name at least one operation");
    if (ops->size() > kMaxDebugOperations) {
      errs.add(f + ".operations", "must name at most " + std::to_string(kMaxDebugOperations) +
                                      " operations, not " + std::to_string(ops->size()));
    }
    for (size_t i = 0; i < ops->size(); ++i) {
      const std::string& op = (*ops)[i];
      const std::string at = f + ".operations[" + std::to_string(i) + "]";
      if (op.empty()) errs.add(at, "must not be empty");
      // Characters as the schema's maxLength counts them (code points): UTF-8 lead bytes.
      const auto chars = std::count_if(op.begin(), op.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
      });
      if (static_cast<size_t>(chars) > kMaxOperationNameLength) {
        errs.add(at, "must be at most " + std::to_string(kMaxOperationNameLength) + " characters");
      }
      if (std::find(ops->begin(), ops->begin() + static_cast<long>(i), op) !=
          ops->begin() + static_cast<long>(i)) {
        errs.add(at, quote(op) + " is listed twice");
      }
    }
    d.operations = std::move(*ops);
  }
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
  if (auto kinds = read_string_list(spec, "kinds", "spec.kinds", errs)) {
    s.kinds.clear();
    for (size_t i = 0; i < kinds->size(); ++i) {
      auto k = kind_named((*kinds)[i]);
      if (!k) {
        errs.add("spec.kinds[" + std::to_string(i) + "]",
                 "\"" + (*kinds)[i] + "\" must be Deployment, StatefulSet or DaemonSet");
      } else if (std::find(s.kinds.begin(), s.kinds.end(), *k) == s.kinds.end()) {
        s.kinds.push_back(*k);
      }
    }
    if (kinds->empty()) errs.add("spec.kinds", "must name at least one kind");
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

}  // namespace

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

std::string debug_scope(const std::vector<std::string>& operations) {
  if (operations.empty()) return "service";
  std::string first = operations.front();
  if (first.size() > 40) {
    size_t cut = 37;  // not inside a UTF-8 sequence: back to its lead byte
    while (cut > 0 && (static_cast<unsigned char>(first[cut]) & 0xC0) == 0x80) --cut;
    first = first.substr(0, cut) + "...";
  }
  return operations.size() == 1 ? first
                                : first + " (+" + std::to_string(operations.size() - 1) + ")";
}

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

}  // namespace tracing::controllers
