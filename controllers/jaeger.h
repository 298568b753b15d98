// The managed Jaeger (SPEC §8) and its remote-sampling strategies (§6), as pure functions of
// their inputs: no I/O, no clock. The reconciler server-side applies what jaeger_objects()
// returns, in order, and writes the strategies ConfigMap only when render_strategies() changes.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace tracing::controllers {

// The image every managed Jaeger runs: Jaeger v2.13.0, which is the Go module
// github.com/jaegertracing/jaeger v1.76.0 (tests/jaeger builds the same release).
inline constexpr const char* kJaegerImage = "jaegertracing/jaeger:2.13.0";

// Where a managed Jaeger lives. The Deployment and ConfigMaps are named after `name`; the
// Services carry the fixed names workloads are pointed at (jaeger-collector, jaeger-query,
// jaeger-sampling), so a namespace holds one managed Jaeger.
struct JaegerInstance {
  std::string ns;
  std::string name = "jaeger";
};

// What the Jaeger v2 all-in-one config binds and reads. Defaults are the in-cluster ones;
// tests bind 127.0.0.1 on free ports.
struct JaegerConfigOptions {
  std::string host = "0.0.0.0";
  int otlp_grpc = 4317, otlp_http = 4318, query_http = 16686, query_grpc = 16685,
      sampling_http = 5778, sampling_grpc = 5779, health = 13133;
  std::string strategies_path = "/etc/jaeger/sampling/strategies.json";
  int reload_interval_seconds = 5;  // how often Jaeger re-reads the strategies file; > 0
  int max_traces = 100000;          // in-memory storage bound
  int metrics = 8888;               // Jaeger's own Prometheus metrics (/metrics); 0 serves none
};

// The Jaeger v2 config (YAML): OTLP receiver (gRPC + HTTP) → batch → in-memory storage;
// jaeger_query (HTTP + gRPC); remote_sampling from the strategies file, re-read every
// reload_interval_seconds; healthcheckv2 (GET /status is 200 once every component is up).
// Same options → byte-identical text.
std::string jaeger_config_yaml(const JaegerConfigOptions& o = {});

// The strategies file Jaeger serves to SDKs (§6): every service in `service_ratios` gets its
// ratio, every other service `default_ratio`, all probabilistic. Params are JSON numbers
// (integral values as integers: "1" → 1, "0.25" → 0.25); services are sorted, so the same input
// gives a byte-identical string and an unchanged ConfigMap needs no write.
// A service in `service_operations` (§5 "one operation") also gets operation_strategies, one
// probabilistic entry per operation, sorted; Jaeger serves them as operationSampling with the
// service's param as defaultSamplingProbability (SDKs sample other span names at that ratio).
// An entry for a service absent from `service_ratios` is ignored (it would need a ratio).
// Precondition: every ratio is a decimal in [0, 1] as parse_policy admits; anything else is a
// bug in the caller and aborts.
std::string render_strategies(
    const std::string& default_ratio, const std::map<std::string, std::string>& service_ratios,
    const std::map<std::string, std::map<std::string, std::string>>& service_operations = {});

// Every object of a managed Jaeger, complete, for server-side apply in this order:
// ConfigMap <name>-config (config.yaml), ConfigMap <name>-sampling-strategies (strategies.json,
// holding `strategies_json`), Deployment <name>, Services jaeger-collector, jaeger-query,
// jaeger-sampling. The ConfigMaps are mounted as directories (never subPath), so an updated
// strategies ConfigMap reaches the running pod without a restart (kubernetes#50345).
std::vector<nlohmann::json> jaeger_objects(const JaegerInstance& j,
                                           const std::string& strategies_json);

// The labels on every object of instance `j`, and the subset that selects its pods.
std::map<std::string, std::string> jaeger_labels(const JaegerInstance& j);
std::map<std::string, std::string> jaeger_selector(const JaegerInstance& j);

// Where workloads send spans (OTLP gRPC) and fetch sampling strategies (gRPC).
std::string collector_endpoint(const JaegerInstance& j);  // http://jaeger-collector.<ns>.svc:4317
std::string sampling_endpoint(const JaegerInstance& j);   // http://jaeger-sampling.<ns>.svc:5779

}  // namespace tracing::controllers
