#include "controllers/jaeger.h"

#include <gtest/gtest.h>

#include <functional>
#include <set>

namespace tracing::controllers {
namespace {

using nlohmann::json;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// ---- render_strategies ----------------------------------------------------------------------

TEST(RenderStrategies, SameInputGivesByteIdenticalOutput) {
  std::map<std::string, std::string> a{{"task-api", "0.25"}, {"db", "1"}};
  std::map<std::string, std::string> b;  // same content, inserted in the other order
  b["db"] = "1";
  b["task-api"] = "0.25";
  EXPECT_EQ(render_strategies("0.1", a), render_strategies("0.1", b));
  EXPECT_EQ(render_strategies("0.1", a), render_strategies("0.1", a));
}

TEST(RenderStrategies, MatchesTheDocumentedFormat) {
  json got = json::parse(render_strategies("0.1", {{"task-api", "0.25"}}));
  EXPECT_EQ(got, json::parse(R"({
    "default_strategy": {"type": "probabilistic", "param": 0.1},
    "service_strategies": [{"service": "task-api", "type": "probabilistic", "param": 0.25}]
  })"));
}

TEST(RenderStrategies, WritesOneServicePerLine) {
  EXPECT_EQ(render_strategies("0.1", {{"task-api", "0.25"}, {"db", "1"}}),
            "{\"default_strategy\":{\"type\":\"probabilistic\",\"param\":0.1},"
            "\"service_strategies\":[\n"
            "  {\"service\":\"db\",\"type\":\"probabilistic\",\"param\":1},\n"
            "  {\"service\":\"task-api\",\"type\":\"probabilistic\",\"param\":0.25}\n"
            "]}\n");
  EXPECT_EQ(render_strategies("0.1", {}),
            "{\"default_strategy\":{\"type\":\"probabilistic\",\"param\":0.1},"
            "\"service_strategies\":[]}\n");
}

TEST(RenderStrategies, WritesOperationStrategiesOfAServiceSortedInJaegersFormat) {
  EXPECT_EQ(render_strategies("0.1", {{"task-api", "0"}, {"db", "0.5"}},
                              {{"task-api", {{"POST /tasks", "1"}, {"GET /tasks/{id}", "0.25"}}},
                               {"unknown", {{"GET /", "1"}}}}),
            "{\"default_strategy\":{\"type\":\"probabilistic\",\"param\":0.1},"
            "\"service_strategies\":[\n"
            "  {\"service\":\"db\",\"type\":\"probabilistic\",\"param\":0.5},\n"
            "  {\"service\":\"task-api\",\"type\":\"probabilistic\",\"param\":0,"
            "\"operation_strategies\":["
            "{\"operation\":\"GET /tasks/{id}\",\"type\":\"probabilistic\",\"param\":0.25},"
            "{\"operation\":\"POST /tasks\",\"type\":\"probabilistic\",\"param\":1}]}\n"
            "]}\n");
  // No operations: the same bytes as without the argument.
  EXPECT_EQ(render_strategies("0.1", {{"db", "0.5"}}, {{"db", {}}}),
            render_strategies("0.1", {{"db", "0.5"}}));
}

TEST(RenderStrategies, WritesParamsAsJsonNumbers) {
  json got = json::parse(render_strategies(
      "0.10", {{"a", "0.25"}, {"b", "1"}, {"c", "0"}, {"d", "0.001"}, {"e", "1.0"}}));
  ASSERT_TRUE(got["default_strategy"]["param"].is_number());
  EXPECT_DOUBLE_EQ(got["default_strategy"]["param"].get<double>(), 0.1);
  std::map<std::string, double> want{{"a", 0.25}, {"b", 1}, {"c", 0}, {"d", 0.001}, {"e", 1}};
  for (const auto& s : got["service_strategies"]) {
    ASSERT_TRUE(s["param"].is_number()) << s.dump();
    EXPECT_DOUBLE_EQ(s["param"].get<double>(), want.at(s["service"].get<std::string>()));
  }
}

TEST(RenderStrategies, WritesIntegralRatiosWithoutAFraction) {
  std::string s = render_strategies("1", {{"x", "0"}});
  EXPECT_TRUE(contains(s, R"("param":1})")) << s;
  EXPECT_TRUE(contains(s, R"("param":0})")) << s;
  EXPECT_FALSE(contains(s, "1.0")) << s;
}

TEST(RenderStrategies, ListsServicesSorted) {
  json got =
      json::parse(render_strategies("0.1", {{"zeta", "0.5"}, {"alpha", "0.5"}, {"mid", "0.5"}}));
  std::vector<std::string> names;
  for (const auto& s : got["service_strategies"]) names.push_back(s["service"]);
  EXPECT_EQ(names, (std::vector<std::string>{"alpha", "mid", "zeta"}));
}

TEST(RenderStrategies, HasAnEmptyServiceListWhenNoServiceIsRemote) {
  json got = json::parse(render_strategies("0.01", {}));
  EXPECT_EQ(got["service_strategies"], json::array());
  EXPECT_DOUBLE_EQ(got["default_strategy"]["param"].get<double>(), 0.01);
}

TEST(RenderStrategies, EscapesServiceNames) {
  json got = json::parse(render_strategies("0.1", {{"we\"ird\\name", "0.5"}}));
  EXPECT_EQ(got["service_strategies"][0]["service"], "we\"ird\\name");
}

TEST(RenderStrategiesDeathTest, AbortsOnARatioParsePolicyWouldRefuse) {
  EXPECT_DEATH(render_strategies("1.5", {}), "not a decimal in \\[0, 1\\]");
  EXPECT_DEATH(render_strategies("0.1", {{"x", "1e-1"}}), "service \"x\"");
  EXPECT_DEATH(render_strategies("", {}), "the default");
}

// ---- jaeger_config_yaml ---------------------------------------------------------------------

TEST(JaegerConfigYaml, ReloadsTheStrategiesFileAtTheInterval) {
  JaegerConfigOptions o;
  o.strategies_path = "/tmp/x/strategies.json";
  o.reload_interval_seconds = 7;
  std::string y = jaeger_config_yaml(o);
  EXPECT_TRUE(contains(y, "  remote_sampling:\n    file:\n")) << y;
  EXPECT_TRUE(contains(y, "      path: \"/tmp/x/strategies.json\"\n")) << y;
  EXPECT_TRUE(contains(y, "      reload_interval: 7s\n")) << y;
}

TEST(JaegerConfigYaml, DefaultsReadTheMountedStrategiesEveryFiveSeconds) {
  std::string y = jaeger_config_yaml({});
  EXPECT_TRUE(contains(y, "path: \"/etc/jaeger/sampling/strategies.json\"")) << y;
  EXPECT_TRUE(contains(y, "reload_interval: 5s")) << y;
}

TEST(JaegerConfigYaml, DefaultsBindAllInterfacesOnTheStandardPorts) {
  std::string y = jaeger_config_yaml({});
  for (int port : {4317, 4318, 16686, 16685, 5778, 5779, 13133}) {
    EXPECT_TRUE(contains(y, "endpoint: \"0.0.0.0:" + std::to_string(port) + "\"\n")) << port << "\n"
                                                                                     << y;
  }
  EXPECT_TRUE(contains(y, "host: \"0.0.0.0\"\n                port: 8888\n")) << y;
}

TEST(JaegerConfigYaml, BindsEveryListenerToTheGivenHostAndPorts) {
  JaegerConfigOptions o;
  o.host = "127.0.0.1";
  o.otlp_grpc = 1001, o.otlp_http = 1002, o.query_http = 1003, o.query_grpc = 1004;
  o.sampling_http = 1005, o.sampling_grpc = 1006, o.health = 1007, o.metrics = 1008;
  std::string y = jaeger_config_yaml(o);
  EXPECT_TRUE(
      contains(y,
               "  otlp:\n    protocols:\n      grpc:\n        endpoint: \"127.0.0.1:1001\"\n"
               "      http:\n        endpoint: \"127.0.0.1:1002\"\n"))
      << y;
  EXPECT_TRUE(contains(y,
                       "    http:\n      endpoint: \"127.0.0.1:1003\"\n"
                       "    grpc:\n      endpoint: \"127.0.0.1:1004\"\n"))
      << y;
  EXPECT_TRUE(contains(y,
                       "    http:\n      endpoint: \"127.0.0.1:1005\"\n"
                       "    grpc:\n      endpoint: \"127.0.0.1:1006\"\n"))
      << y;
  EXPECT_TRUE(contains(y,
                       "  healthcheckv2:\n    use_v2: true\n    http:\n"
                       "      endpoint: \"127.0.0.1:1007\"\n"))
      << y;
  EXPECT_TRUE(contains(y, "host: \"127.0.0.1\"\n                port: 1008\n")) << y;
  EXPECT_FALSE(contains(y, "0.0.0.0")) << y;
}

TEST(JaegerConfigYaml, WiresOtlpThroughBatchIntoMemoryStorage) {
  JaegerConfigOptions o;
  o.max_traces = 500;
  std::string y = jaeger_config_yaml(o);
  EXPECT_TRUE(contains(y,
                       "extensions: [jaeger_storage, jaeger_query, remote_sampling, "
                       "healthcheckv2]"))
      << y;
  EXPECT_TRUE(contains(y,
                       "receivers: [otlp]\n      processors: [batch]\n"
                       "      exporters: [jaeger_storage_exporter]\n"))
      << y;
  EXPECT_TRUE(contains(y, "      memory:\n        memory:\n          max_traces: 500\n")) << y;
  EXPECT_TRUE(contains(y, "      traces: memory\n")) << y;
  EXPECT_TRUE(contains(y, "    trace_storage: memory\n")) << y;
}

TEST(JaegerConfigYaml, QueryServiceDoesNotTraceItself) {
  std::string y = jaeger_config_yaml({});
  std::string query = y.substr(y.find("  jaeger_query:\n"));
  query = query.substr(0, query.find("  remote_sampling:\n"));
  EXPECT_TRUE(contains(query, "\n    enable_tracing: false\n")) << query;
}

TEST(JaegerConfigYaml, BracketsIpv6Hosts) {
  JaegerConfigOptions o;
  o.host = "::1";
  EXPECT_TRUE(contains(jaeger_config_yaml(o), "endpoint: \"[::1]:4317\""));
}

TEST(JaegerConfigYaml, MetricsPortZeroServesNoSelfMetrics) {
  JaegerConfigOptions o;
  o.metrics = 0;
  std::string y = jaeger_config_yaml(o);
  EXPECT_TRUE(contains(y, "    metrics:\n      level: none\n")) << y;
  EXPECT_FALSE(contains(y, "prometheus")) << y;
}

TEST(JaegerConfigYaml, LeavesNoPlaceholderUnfilled) {
  for (int metrics : {8888, 0}) {
    JaegerConfigOptions o;
    o.metrics = metrics;
    std::string y = jaeger_config_yaml(o);
    size_t brace = y.find('{');
    EXPECT_EQ(y.substr(brace),
              "{}\nexporters:\n  jaeger_storage_exporter:\n    trace_storage: memory\n")
        << y;
    EXPECT_EQ(y.find('}'), brace + 1) << y;
  }
}

TEST(JaegerConfigYaml, SameOptionsGiveByteIdenticalText) {
  EXPECT_EQ(jaeger_config_yaml({}), jaeger_config_yaml({}));
}

// ---- jaeger_objects -------------------------------------------------------------------------

const JaegerInstance kInstance{"observability", "tracing-jaeger"};

std::vector<json> objects(const std::string& strategies = render_strategies("0.1", {})) {
  return jaeger_objects(kInstance, strategies);
}

json find(const std::vector<json>& objs, const std::string& kind, const std::string& name) {
  for (const auto& o : objs) {
    if (o["kind"] == kind && o["metadata"]["name"] == name) return o;
  }
  ADD_FAILURE() << "no " << kind << " " << name;
  return json::object();
}

// By value: iterate a local copy, never a temporary's member (range-for does not extend it).
json container(const std::vector<json>& objs) {
  return find(objs, "Deployment", "tracing-jaeger")["spec"]["template"]["spec"]["containers"][0];
}

TEST(JaegerObjects, ComeInApplyOrder) {
  std::vector<std::string> got;
  for (const auto& o : objects()) {
    got.push_back(o["apiVersion"].get<std::string>() + " " + o["kind"].get<std::string>() + " " +
                  o["metadata"]["name"].get<std::string>());
  }
  EXPECT_EQ(got, (std::vector<std::string>{
                     "v1 ConfigMap tracing-jaeger-config",
                     "v1 ConfigMap tracing-jaeger-sampling-strategies",
                     "apps/v1 Deployment tracing-jaeger",
                     "v1 Service jaeger-collector",
                     "v1 Service jaeger-query",
                     "v1 Service jaeger-sampling",
                 }));
}

TEST(JaegerObjects, AllLiveInTheInstanceNamespace) {
  for (const auto& o : objects()) EXPECT_EQ(o["metadata"]["namespace"], "observability") << o;
}

TEST(JaegerObjects, ConfigMapsHoldTheConfigAndTheStrategies) {
  std::string strategies = render_strategies("0.1", {{"task-api", "0.25"}});
  auto objs = objects(strategies);
  EXPECT_EQ(find(objs, "ConfigMap", "tracing-jaeger-config")["data"],
            (json{{"config.yaml", jaeger_config_yaml({})}}));
  EXPECT_EQ(find(objs, "ConfigMap", "tracing-jaeger-sampling-strategies")["data"],
            (json{{"strategies.json", strategies}}));
}

TEST(JaegerObjects, DeploymentRunsOneReplicaOfThePinnedImageWithTheMountedConfig) {
  auto objs = objects();
  json d = find(objs, "Deployment", "tracing-jaeger");
  EXPECT_EQ(d["spec"]["replicas"], 1);
  json c = container(objs);
  EXPECT_EQ(c["image"], "jaegertracing/jaeger:2.13.0");
  EXPECT_EQ(c["image"], kJaegerImage);
  EXPECT_EQ(c["args"], (json{"--config=/etc/jaeger/config/config.yaml"}));
}

TEST(JaegerObjects, DeploymentRunsNonRootWithNothingToEscalate) {
  auto objs = objects();
  json pod = find(objs, "Deployment", "tracing-jaeger")["spec"]["template"]["spec"];
  EXPECT_EQ(pod["securityContext"], (json{{"runAsNonRoot", true},
                                          {"runAsUser", 10001},
                                          {"runAsGroup", 10001},
                                          {"fsGroup", 10001},
                                          {"seccompProfile", {{"type", "RuntimeDefault"}}}}));
  json sc = container(objs)["securityContext"];
  EXPECT_EQ(sc["allowPrivilegeEscalation"], false);
  EXPECT_EQ(sc["readOnlyRootFilesystem"], true);
  EXPECT_EQ(sc["capabilities"]["drop"], (json{"ALL"}));
}

TEST(JaegerObjects, ProbesGetHealthStatus) {
  json c = container(objects());
  for (const char* probe : {"readinessProbe", "livenessProbe"}) {
    EXPECT_EQ(c[probe]["httpGet"]["path"], "/status") << probe;
    EXPECT_EQ(c[probe]["httpGet"]["port"], 13133) << probe;
  }
}

TEST(JaegerObjects, ContainerHasCpuAndMemoryRequestsAndLimits) {
  json r = container(objects())["resources"];
  for (const char* kind : {"requests", "limits"}) {
    for (const char* res : {"cpu", "memory"}) {
      EXPECT_TRUE(r[kind][res].is_string() && !r[kind][res].get<std::string>().empty())
          << kind << "." << res << ": " << r;
    }
  }
}

TEST(JaegerObjects, MountsConfigMapsAsWholeDirectoriesAndTmpAsEmptyDir) {
  auto objs = objects();
  json pod = find(objs, "Deployment", "tracing-jaeger")["spec"]["template"]["spec"];
  std::map<std::string, json> volumes;
  for (const auto& v : pod["volumes"]) volumes[v["name"]] = v;
  std::map<std::string, std::string> source_at;  // mountPath -> what is mounted there
  const json c = container(objs);
  for (const auto& m : c["volumeMounts"]) {
    json v = volumes.at(m["name"]);
    source_at[m["mountPath"]] = v.contains("configMap")  ? v["configMap"]["name"].get<std::string>()
                                : v.contains("emptyDir") ? "emptyDir"
                                                         : v.dump();
  }
  EXPECT_EQ(source_at, (std::map<std::string, std::string>{
                           {"/etc/jaeger/config", "tracing-jaeger-config"},
                           {"/etc/jaeger/sampling", "tracing-jaeger-sampling-strategies"},
                           {"/tmp", "emptyDir"},
                       }));
}

TEST(JaegerObjects, NeverUseSubPathSoConfigMapUpdatesReachThePod) {
  std::function<void(const json&, const std::string&)> walk = [&](const json& j,
                                                                  const std::string& where) {
    if (j.is_object()) {
      for (const auto& [k, v] : j.items()) {
        EXPECT_NE(k, "subPath") << where;
        EXPECT_NE(k, "subPathExpr") << where;
        walk(v, where + "." + k);
      }
    } else if (j.is_array()) {
      for (const auto& v : j) walk(v, where + "[]");
    }
  };
  for (const auto& o : objects()) walk(o, o["kind"].get<std::string>());
}

TEST(JaegerObjects, JaegerReadsItsConfigAndStrategiesWhereTheyAreMounted) {
  auto objs = objects();
  std::map<std::string, std::string> mounted_at;  // ConfigMap name -> mount directory
  json pod = find(objs, "Deployment", "tracing-jaeger")["spec"]["template"]["spec"];
  const json c = container(objs);
  for (const auto& m : c["volumeMounts"]) {
    for (const auto& v : pod["volumes"]) {
      if (v["name"] == m["name"] && v.contains("configMap")) {
        mounted_at[v["configMap"]["name"]] = m["mountPath"];
      }
    }
  }
  json config = find(objs, "ConfigMap", "tracing-jaeger-config")["data"];
  json strategies = find(objs, "ConfigMap", "tracing-jaeger-sampling-strategies")["data"];
  ASSERT_EQ(config.size(), 1u);
  ASSERT_EQ(strategies.size(), 1u);
  EXPECT_EQ(container(objs)["args"][0],
            "--config=" + mounted_at["tracing-jaeger-config"] + "/" + config.begin().key());
  EXPECT_TRUE(contains(config.begin().value(),
                       "path: \"" + mounted_at["tracing-jaeger-sampling-strategies"] + "/" +
                           strategies.begin().key() + "\""))
      << config;
}

TEST(JaegerObjects, ChangingTheStrategiesLeavesTheDeploymentAlone) {
  auto a = objects(render_strategies("0.1", {}));
  auto b = objects(render_strategies("1", {{"task-api", "0.5"}}));
  EXPECT_EQ(find(a, "Deployment", "tracing-jaeger"), find(b, "Deployment", "tracing-jaeger"));
  EXPECT_NE(find(a, "ConfigMap", "tracing-jaeger-sampling-strategies"),
            find(b, "ConfigMap", "tracing-jaeger-sampling-strategies"));
}

TEST(JaegerObjects, ContainerPortsAreNamed) {
  std::map<std::string, int> ports;
  const json c = container(objects());
  for (const auto& p : c["ports"]) ports[p["name"]] = p["containerPort"];
  EXPECT_EQ(ports, (std::map<std::string, int>{{"otlp-grpc", 4317},
                                               {"otlp-http", 4318},
                                               {"query-http", 16686},
                                               {"query-grpc", 16685},
                                               {"sampling-http", 5778},
                                               {"sampling-grpc", 5779},
                                               {"health", 13133},
                                               {"metrics", 8888}}));
}

TEST(JaegerObjects, ServicesExposeTheDocumentedPortsOnTheRightContainerPorts) {
  auto objs = objects();
  std::map<std::string, int> container_ports;
  const json c = container(objs);
  for (const auto& p : c["ports"]) container_ports[p["name"]] = p["containerPort"];
  std::map<std::string, std::map<std::string, int>> want{
      {"jaeger-collector", {{"otlp-grpc", 4317}, {"otlp-http", 4318}}},
      {"jaeger-query", {{"http", 16686}, {"grpc", 16685}}},
      {"jaeger-sampling", {{"http", 5778}, {"grpc", 5779}}},
  };
  for (const auto& [name, ports] : want) {
    json svc = find(objs, "Service", name);
    std::map<std::string, int> got;
    for (const auto& p : svc["spec"]["ports"]) {
      got[p["name"]] = p["port"];
      // The Service port reaches the container port of the same number.
      EXPECT_EQ(container_ports.at(p["targetPort"]), p["port"]) << name << " " << p;
    }
    EXPECT_EQ(got, ports) << name;
  }
}

TEST(JaegerObjects, EveryObjectCarriesTheLabelsAndSelectorsPickTheInstancePods) {
  json labels = {{"app.kubernetes.io/name", "jaeger"},
                 {"app.kubernetes.io/instance", "tracing-jaeger"},
                 {"app.kubernetes.io/managed-by", "tracing-operator"},
                 {"app.kubernetes.io/component", "all-in-one"}};
  json selector = {{"app.kubernetes.io/name", "jaeger"},
                   {"app.kubernetes.io/instance", "tracing-jaeger"}};
  auto objs = objects();
  for (const auto& o : objs) EXPECT_EQ(o["metadata"]["labels"], labels) << o["metadata"];
  json d = find(objs, "Deployment", "tracing-jaeger");
  EXPECT_EQ(d["spec"]["selector"]["matchLabels"], selector);
  EXPECT_EQ(d["spec"]["template"]["metadata"]["labels"], labels);
  for (const char* svc : {"jaeger-collector", "jaeger-query", "jaeger-sampling"}) {
    EXPECT_EQ(find(objs, "Service", svc)["spec"]["selector"], selector) << svc;
  }
}

TEST(JaegerEndpoints, PointAtTheServicesInTheInstanceNamespace) {
  EXPECT_EQ(collector_endpoint(kInstance), "http://jaeger-collector.observability.svc:4317");
  EXPECT_EQ(sampling_endpoint(kInstance), "http://jaeger-sampling.observability.svc:5779");
  EXPECT_EQ(collector_endpoint({"shop"}), "http://jaeger-collector.shop.svc:4317");
}

}  // namespace
}  // namespace tracing::controllers
