#include "controllers/jaeger.h"

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "controllers/hash.h"
#include "controllers/naming.h"

namespace tracing::controllers {
namespace {

using nlohmann::json;

constexpr const char* kConfigDir = "/etc/jaeger/config";
constexpr const char* kSamplingDir = "/etc/jaeger/sampling";
constexpr const char* kConfigKey = "config.yaml";
constexpr const char* kStrategiesKey = "strategies.json";
constexpr const char* kContainerName = "jaeger";
constexpr int kUserId = 10001;

// Pod-template annotation carrying a hash of config.yaml: Jaeger reads its config only at start,
// so a changed config rolls the pod. The strategies file is not hashed: Jaeger re-reads it.

// A YAML double-quoted scalar: JSON's string escapes are a subset of YAML's.
std::string quoted(const std::string& s) { return json(s).dump(); }

// host:port, with IPv6 literals bracketed.
std::string endpoint(const std::string& host, int port) {
  bool v6 = host.find(':') != std::string::npos && host.front() != '[';
  return quoted((v6 ? "[" + host + "]" : host) + ":" + std::to_string(port));
}

// A ratio as parse_policy admits it ("[0-9]+(.[0-9]+)?", value in [0, 1]) as a JSON number;
// integral values as integers so "1" stays 1. Anything else is a caller bug (§7 of STYLE.md).
json ratio_number(const std::string& what, const std::string& s) {
  size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  bool grammar = i > 0;
  if (grammar && i < s.size()) {
    size_t start = ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    grammar = s[start - 1] == '.' && i > start && i == s.size();
  }
  double v = -1;
  if (grammar) std::from_chars(s.data(), s.data() + s.size(), v);
  if (!grammar || v < 0 || v > 1) {
    std::fprintf(stderr, "render_strategies: ratio of %s is \"%s\", not a decimal in [0, 1]\n",
                 what.c_str(), s.c_str());
    std::abort();
  }
  if (v == 0 || v == 1) return static_cast<std::uint64_t>(v);
  return v;
}

// `tmpl` with every {name} that `values` knows replaced by its value; other braces stay as they
// are (YAML's "{}").
std::string fill(std::string_view tmpl, const std::map<std::string_view, std::string>& values) {
  constexpr auto npos = std::string_view::npos;
  std::string out;
  while (!tmpl.empty()) {
    size_t open = tmpl.find('{');
    size_t close = tmpl.find('}', open);  // npos when there is no '{'
    auto it = close == npos ? values.end() : values.find(tmpl.substr(open + 1, close - open - 1));
    if (it == values.end()) {
      size_t n = open == npos ? tmpl.size() : open + 1;
      out += tmpl.substr(0, n);
      tmpl.remove_prefix(n);
    } else {
      out += tmpl.substr(0, open);
      out += it->second;
      tmpl.remove_prefix(close + 1);
    }
  }
  return out;
}

json metadata(const JaegerInstance& j, const std::string& name) {
  return {{"name", name}, {"namespace", j.ns}, {"labels", jaeger_labels(j)}};
}

json config_map(const JaegerInstance& j, const std::string& name, const std::string& key,
                const std::string& value) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", metadata(j, name)},
          {"data", {{key, value}}}};
}

json container_port(const std::string& name, int port) {
  return {{"name", name}, {"containerPort", port}, {"protocol", "TCP"}};
}

json http_get_status(int port) { return {{"path", "/status"}, {"port", port}, {"scheme", "HTTP"}}; }

json deployment(const JaegerInstance& j, const JaegerConfigOptions& o,
                const std::string& config_yaml) {
  json container = {
      {"name", kContainerName},
      {"image", kJaegerImage},
      {"imagePullPolicy", "IfNotPresent"},
      {"args", {std::string("--config=") + kConfigDir + "/" + kConfigKey}},
      // The Go runtime collects harder as it nears the memory limit instead of being OOM-killed.
      {"env",
       {{{"name", "GOMEMLIMIT"},
         {"valueFrom",
          {{"resourceFieldRef",
            {{"containerName", kContainerName}, {"resource", "limits.memory"}}}}}}}},
      {"ports",
       {container_port("otlp-grpc", o.otlp_grpc), container_port("otlp-http", o.otlp_http),
        container_port("query-http", o.query_http), container_port("query-grpc", o.query_grpc),
        container_port("sampling-http", o.sampling_http),
        container_port("sampling-grpc", o.sampling_grpc), container_port("health", o.health)}},
      {"readinessProbe",
       {{"httpGet", http_get_status(o.health)},
        {"periodSeconds", 5},
        {"timeoutSeconds", 2},
        {"failureThreshold", 3}}},
      {"livenessProbe",
       {{"httpGet", http_get_status(o.health)},
        {"initialDelaySeconds", 10},
        {"periodSeconds", 10},
        {"timeoutSeconds", 2},
        {"failureThreshold", 6}}},
      {"resources",
       {{"requests", {{"cpu", "100m"}, {"memory", "256Mi"}}},
        {"limits", {{"cpu", "1"}, {"memory", "1Gi"}}}}},
      {"securityContext",
       {{"allowPrivilegeEscalation", false},
        {"readOnlyRootFilesystem", true},
        {"runAsNonRoot", true},
        {"capabilities", {{"drop", {"ALL"}}}}}},
      // Whole-directory mounts: a subPath mount never sees ConfigMap updates (kubernetes#50345).
      {"volumeMounts",
       {{{"name", "config"}, {"mountPath", kConfigDir}, {"readOnly", true}},
        {{"name", "sampling-strategies"}, {"mountPath", kSamplingDir}, {"readOnly", true}},
        {{"name", "tmp"}, {"mountPath", "/tmp"}}}},
  };
  if (o.metrics > 0) container["ports"].push_back(container_port("metrics", o.metrics));
  json pod_spec = {
      {"automountServiceAccountToken", false},
      {"securityContext",
       {{"runAsNonRoot", true},
        {"runAsUser", kUserId},
        {"runAsGroup", kUserId},
        {"fsGroup", kUserId},
        {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
      {"containers", {container}},
      {"volumes",
       {{{"name", "config"}, {"configMap", {{"name", j.name + "-config"}}}},
        {{"name", "sampling-strategies"},
         {"configMap", {{"name", j.name + "-sampling-strategies"}}}},
        {{"name", "tmp"}, {"emptyDir", {{"sizeLimit", "64Mi"}}}}}},
  };
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", metadata(j, j.name)},
          {"spec",
           {{"replicas", 1},
            {"revisionHistoryLimit", 3},
            {"selector", {{"matchLabels", jaeger_selector(j)}}},
            {"template",
             {{"metadata",
               {{"labels", jaeger_labels(j)},
                {"annotations",
                 {{naming::kJaegerConfigHashAnnotation, stable_hash_hex(config_yaml)}}}}},
              {"spec", pod_spec}}}}}};
}

struct ServicePort {
  std::string name;
  int port;
  std::string target;  // container port name
  std::string app_protocol;
};

json service(const JaegerInstance& j, const std::string& name,
             const std::vector<ServicePort>& ports) {
  json p = json::array();
  for (const auto& sp : ports) {
    p.push_back({{"name", sp.name},
                 {"port", sp.port},
                 {"targetPort", sp.target},
                 {"protocol", "TCP"},
                 {"appProtocol", sp.app_protocol}});
  }
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", metadata(j, name)},
          {"spec", {{"type", "ClusterIP"}, {"selector", jaeger_selector(j)}, {"ports", p}}}};
}

}  // namespace

std::string jaeger_config_yaml(const JaegerConfigOptions& o) {
  // Jaeger's own metrics, served for Prometheus to scrape.
  constexpr std::string_view kMetricsReader = R"(      level: normal
      readers:
        - pull:
            exporter:
              prometheus:
                host: {host}
                port: {port})";
  // The config as YAML reads, with {placeholders} filled in below.
  constexpr std::string_view kTemplate =
      R"(# Jaeger v2 all-in-one, rendered by tracing-operator.
service:
  extensions: [jaeger_storage, jaeger_query, remote_sampling, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    resource:
      service.name: jaeger
    logs:
      level: info
    metrics:
{metrics}
extensions:
  healthcheckv2:
    use_v2: true
    http:
      endpoint: {health}
  jaeger_storage:
    backends:
      memory:
        memory:
          max_traces: {max_traces}
  jaeger_query:
    # Otherwise the query service traces itself to OTEL_EXPORTER_OTLP_ENDPOINT (default
    # localhost:4317), filling the users' Jaeger with its own spans.
    enable_tracing: false
    storage:
      traces: memory
    http:
      endpoint: {query_http}
    grpc:
      endpoint: {query_grpc}
  remote_sampling:
    file:
      path: {strategies_path}
      reload_interval: {reload_interval}
    http:
      endpoint: {sampling_http}
    grpc:
      endpoint: {sampling_grpc}
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: {otlp_grpc}
      http:
        endpoint: {otlp_http}
processors:
  batch: {}
exporters:
  jaeger_storage_exporter:
    trace_storage: memory
)";
  const std::string metrics =
      o.metrics > 0
          ? fill(kMetricsReader, {{"host", quoted(o.host)}, {"port", std::to_string(o.metrics)}})
          : "      level: none";
  const std::map<std::string_view, std::string> values{
      {"metrics", metrics},
      {"health", endpoint(o.host, o.health)},
      {"max_traces", std::to_string(o.max_traces)},
      {"query_http", endpoint(o.host, o.query_http)},
      {"query_grpc", endpoint(o.host, o.query_grpc)},
      {"strategies_path", quoted(o.strategies_path)},
      {"reload_interval", std::to_string(o.reload_interval_seconds) + "s"},
      {"sampling_http", endpoint(o.host, o.sampling_http)},
      {"sampling_grpc", endpoint(o.host, o.sampling_grpc)},
      {"otlp_grpc", endpoint(o.host, o.otlp_grpc)},
      {"otlp_http", endpoint(o.host, o.otlp_http)},
  };
  return fill(kTemplate, values);
}

std::string render_strategies(
    const std::string& default_ratio, const std::map<std::string, std::string>& service_ratios,
    const std::map<std::string, std::map<std::string, std::string>>& service_operations) {
  // ordered_json keeps the documented key order (§6); std::map iterates services sorted. One
  // service per line: compact (a ConfigMap holds at most 1 MiB) yet readable and greppable.
  using ordered = nlohmann::ordered_json;
  ordered def = {{"type", "probabilistic"}, {"param", ratio_number("the default", default_ratio)}};
  std::string out = R"({"default_strategy":)" + def.dump() + R"(,"service_strategies":[)";
  const char* sep = "\n  ";
  for (const auto& [service, ratio] : service_ratios) {
    ordered s = {{"service", service},
                 {"type", "probabilistic"},
                 {"param", ratio_number("service \"" + service + "\"", ratio)}};
    if (auto ops = service_operations.find(service);
        ops != service_operations.end() && !ops->second.empty()) {
      ordered list = ordered::array();
      for (const auto& [op, op_ratio] : ops->second) {
        list.push_back(
            {{"operation", op},
             {"type", "probabilistic"},
             {"param",
              ratio_number("operation \"" + op + "\" of service \"" + service + "\"", op_ratio)}});
      }
      s["operation_strategies"] = std::move(list);
    }
    out += sep + s.dump();
    sep = ",\n  ";
  }
  out += service_ratios.empty() ? "]}\n" : "\n]}\n";
  return out;
}

std::vector<json> jaeger_objects(const JaegerInstance& j, const std::string& strategies_json) {
  JaegerConfigOptions o;  // in-cluster defaults: all interfaces, standard ports
  std::string config = jaeger_config_yaml(o);
  return {
      config_map(j, j.name + "-config", kConfigKey, config),
      config_map(j, j.name + "-sampling-strategies", kStrategiesKey, strategies_json),
      deployment(j, o, config),
      service(j, "jaeger-collector",
              {{"otlp-grpc", o.otlp_grpc, "otlp-grpc", "grpc"},
               {"otlp-http", o.otlp_http, "otlp-http", "http"}}),
      service(j, "jaeger-query",
              {{"http", o.query_http, "query-http", "http"},
               {"grpc", o.query_grpc, "query-grpc", "grpc"}}),
      service(j, "jaeger-sampling",
              {{"http", o.sampling_http, "sampling-http", "http"},
               {"grpc", o.sampling_grpc, "sampling-grpc", "grpc"}}),
  };
}

std::map<std::string, std::string> jaeger_labels(const JaegerInstance& j) {
  return {{"app.kubernetes.io/name", "jaeger"},
          {"app.kubernetes.io/instance", j.name},
          {"app.kubernetes.io/managed-by", "tracing-operator"},
          {"app.kubernetes.io/component", "all-in-one"}};
}

std::map<std::string, std::string> jaeger_selector(const JaegerInstance& j) {
  return {{"app.kubernetes.io/name", "jaeger"}, {"app.kubernetes.io/instance", j.name}};
}

std::string collector_endpoint(const JaegerInstance& j) {
  return "http://jaeger-collector." + j.ns + ".svc:4317";
}

std::string sampling_endpoint(const JaegerInstance& j) {
  return "http://jaeger-sampling." + j.ns + ".svc:5779";
}

}  // namespace tracing::controllers
