#include "controllers/dapr.h"

#include <gtest/gtest.h>

#include <string>

#include "controllers/naming.h"

namespace tracing::controllers {
namespace {

using namespace std::chrono_literals;

EffectiveConfig config(const std::string& endpoint, const std::string& protocol = "grpc",
                       bool insecure = false) {
  EffectiveConfig c;
  c.endpoint = endpoint;
  c.protocol = protocol;
  c.insecure = insecure;
  c.base_ratio = "0.25";
  return c;
}

EffectiveConfig jaeger() { return config("http://jaeger-collector.observability.svc:4317"); }

DebugState bump(const std::string& ratio) {
  return DebugState{"shop/task-api", ratio, WallTime{} + 24h};
}

// ---- dapr_tracing -------------------------------------------------------------------------

TEST(DaprTracing, GrpcExporterIsGrpc) {
  EXPECT_EQ(dapr_tracing(config("http://otel:4317", "grpc")).protocol, "grpc");
}

TEST(DaprTracing, HttpProtobufExporterIsHttp) {
  EXPECT_EQ(dapr_tracing(config("http://otel:4318", "http/protobuf")).protocol, "http");
}

TEST(DaprTracing, HttpJsonExporterIsHttp) {
  EXPECT_EQ(dapr_tracing(config("http://otel:4318", "http/json")).protocol, "http");
}

TEST(DaprTracing, EndpointAddressIsHostAndPort) {
  EXPECT_EQ(dapr_tracing(jaeger()).endpoint_address, "jaeger-collector.observability.svc:4317");
}

TEST(DaprTracing, EndpointWithoutPortGetsTheGrpcPort) {
  EXPECT_EQ(dapr_tracing(config("http://otel.obs.svc", "grpc")).endpoint_address,
            "otel.obs.svc:4317");
}

TEST(DaprTracing, EndpointWithoutPortGetsTheHttpPort) {
  EXPECT_EQ(dapr_tracing(config("https://otel.obs.svc/", "http/protobuf")).endpoint_address,
            "otel.obs.svc:4318");
  EXPECT_EQ(dapr_tracing(config("http://otel.obs.svc:", "http/json")).endpoint_address,
            "otel.obs.svc:4318");
}

TEST(DaprTracing, EndpointLosesSchemePathQueryAndUserInfo) {
  EXPECT_EQ(dapr_tracing(config("https://otel.example.com:4318/v1/traces", "http/protobuf"))
                .endpoint_address,
            "otel.example.com:4318");
  EXPECT_EQ(dapr_tracing(config("HTTP://user:pw@otel:4317/a/b?x=1#frag")).endpoint_address,
            "otel:4317");
  EXPECT_EQ(dapr_tracing(config("http://otel?x=1")).endpoint_address, "otel:4317");
}

TEST(DaprTracing, EndpointWithoutSchemeIsTakenAsHostAndPort) {
  EXPECT_EQ(dapr_tracing(config("otel.obs:5317")).endpoint_address, "otel.obs:5317");
  EXPECT_EQ(dapr_tracing(config("otel.obs")).endpoint_address, "otel.obs:4317");
}

TEST(DaprTracing, Ipv6EndpointKeepsItsBrackets) {
  EXPECT_EQ(dapr_tracing(config("http://[fd00::1]:4317")).endpoint_address, "[fd00::1]:4317");
  EXPECT_EQ(dapr_tracing(config("http://[fd00::1]/x", "http/protobuf")).endpoint_address,
            "[fd00::1]:4318");
}

TEST(DaprTracing, EndpointWithoutHostGivesNoAddress) {
  EXPECT_EQ(dapr_tracing(config("")).endpoint_address, "");
  EXPECT_EQ(dapr_tracing(config("http://:4317")).endpoint_address, "");
  EXPECT_EQ(dapr_tracing(config("http://[fd00::1")).endpoint_address, "");
}

TEST(DaprTracing, HttpsEndpointIsSecure) {
  EXPECT_TRUE(dapr_tracing(config("https://otel:4317", "grpc", false)).is_secure);
  // The scheme wins over `insecure`, as in the OTel SDKs.
  EXPECT_TRUE(dapr_tracing(config("https://otel:4317", "grpc", true)).is_secure);
}

TEST(DaprTracing, HttpEndpointIsNotSecure) {
  // The managed Jaeger's endpoint, with `insecure` unset: the SDK talks plaintext to it, so the
  // sidecar must too.
  EXPECT_FALSE(dapr_tracing(config("http://otel:4317", "grpc", false)).is_secure);
  EXPECT_FALSE(dapr_tracing(config("http://otel:4317", "grpc", true)).is_secure);
}

TEST(DaprTracing, EndpointWithoutSchemeIsSecureUnlessInsecure) {
  EXPECT_TRUE(dapr_tracing(config("otel:4317", "grpc", false)).is_secure);
  EXPECT_FALSE(dapr_tracing(config("otel:4317", "grpc", true)).is_secure);
}

TEST(DaprTracing, SamplingRateIsTheRatioAsWritten) {
  EffectiveConfig c = jaeger();
  EXPECT_EQ(dapr_tracing(c).sampling_rate, "0.25");
  c.base_ratio = "0.10";
  EXPECT_EQ(dapr_tracing(c).sampling_rate, "0.10");
  c.base_ratio = "1";
  EXPECT_EQ(dapr_tracing(c).sampling_rate, "1");
}

TEST(DaprTracing, SamplingRateIsTheDebugRatioDuringABump) {
  EffectiveConfig c = jaeger();
  c.debug = bump("1.0");
  EXPECT_EQ(dapr_tracing(c).sampling_rate, "1.0");
}

TEST(DaprTracing, SamplersWithoutARatioSampleAllOrNothing) {
  EffectiveConfig c = jaeger();
  c.sampler = "parentbased_always_on";
  EXPECT_EQ(dapr_tracing(c).sampling_rate, "1");
  c.sampler = "always_on";
  EXPECT_EQ(dapr_tracing(c).sampling_rate, "1");
  c.sampler = "always_off";
  EXPECT_EQ(dapr_tracing(c).sampling_rate, "0");
  c.sampler = "parentbased_always_off";
  EXPECT_EQ(dapr_tracing(c).sampling_rate, "0");
  // A bump turns such a sampler into a ratio sampler: the bumped ratio applies.
  c.debug = bump("0.5");
  EXPECT_EQ(dapr_tracing(c).sampling_rate, "0.5");
}

TEST(DaprTracing, RemoteModeUsesTheEffectiveRatio) {
  EffectiveConfig c = jaeger();
  c.mode = "remote";
  EXPECT_EQ(dapr_tracing(c).sampling_rate, "0.25");
}

// ---- dapr_settings ------------------------------------------------------------------------

TEST(DaprSettings, DefaultsWhenSpecDaprIsAbsent) {
  DaprSettings s = dapr_settings(std::nullopt);
  EXPECT_EQ(s.mode, "auto");
  EXPECT_EQ(s.configuration_name, "tracing");
  EXPECT_FALSE(s.restart_on_change);
}

TEST(DaprSettings, ReadsEveryField) {
  DaprSettings s = dapr_settings(
      json{{"mode", "enabled"}, {"configurationName", "shop-tracing"}, {"restartOnChange", true}});
  EXPECT_EQ(s.mode, "enabled");
  EXPECT_EQ(s.configuration_name, "shop-tracing");
  EXPECT_TRUE(s.restart_on_change);
}

TEST(DaprSettings, KeepsDefaultsForMalformedFields) {
  DaprSettings s = dapr_settings(
      json{{"mode", "sometimes"}, {"configurationName", ""}, {"restartOnChange", "yes"}});
  EXPECT_EQ(s.mode, "auto");
  EXPECT_EQ(s.configuration_name, "tracing");
  EXPECT_FALSE(s.restart_on_change);
  EXPECT_EQ(dapr_settings(json::array()).mode, "auto");
}

// ---- dapr_managed, referenced_configuration -----------------------------------------------

const Labels kDaprEnabled = {{"dapr.io/enabled", "true"}, {"dapr.io/app-id", "task-api"}};

TEST(DaprManaged, EnabledManagesEvenWithoutTheApiOrTheAnnotation) {
  DaprSettings s;
  s.mode = "enabled";
  EXPECT_TRUE(dapr_managed(s, false, {}));
  EXPECT_TRUE(dapr_managed(s, true, kDaprEnabled));
}

TEST(DaprManaged, DisabledNeverManages) {
  DaprSettings s;
  s.mode = "disabled";
  EXPECT_FALSE(dapr_managed(s, true, kDaprEnabled));
  EXPECT_FALSE(dapr_managed(s, false, {}));
}

TEST(DaprManaged, AutoManagesADaprWorkloadWhenTheApiIsServed) {
  EXPECT_TRUE(dapr_managed(DaprSettings{}, true, kDaprEnabled));
}

TEST(DaprManaged, AutoNeedsTheConfigurationApi) {
  EXPECT_FALSE(dapr_managed(DaprSettings{}, false, kDaprEnabled));
}

TEST(DaprManaged, AutoNeedsDaprEnabledOnThePodTemplate) {
  EXPECT_FALSE(dapr_managed(DaprSettings{}, true, {}));
  EXPECT_FALSE(dapr_managed(DaprSettings{}, true, {{"dapr.io/enabled", "false"}}));
  EXPECT_FALSE(dapr_managed(DaprSettings{}, true, {{"dapr.io/enabled", ""}}));
  EXPECT_FALSE(dapr_managed(DaprSettings{}, true, {{"dapr.io/config", "tracing"}}));
}

TEST(DaprManaged, AutoReadsDaprEnabledAsDaprsInjectorDoes) {
  for (const char* v : {"True", "TRUE", "1", "yes", " on ", "t", "Y"}) {
    EXPECT_TRUE(dapr_managed(DaprSettings{}, true, {{"dapr.io/enabled", v}})) << v;
  }
  for (const char* v : {"0", "no", "off", "enabled", "truthy"}) {
    EXPECT_FALSE(dapr_managed(DaprSettings{}, true, {{"dapr.io/enabled", v}})) << v;
  }
}

TEST(ReferencedConfiguration, IsTheDaprConfigAnnotation) {
  EXPECT_EQ(referenced_configuration({{"dapr.io/config", "appconfig"}}), "appconfig");
  EXPECT_EQ(referenced_configuration(kDaprEnabled), "");
}

// ---- configuration_intent, tracing_hash -----------------------------------------------------

TEST(ConfigurationIntent, HoldsOnlySpecTracing) {
  DaprTracing t{"0.25", "jaeger-collector.observability.svc:4317", false, "grpc"};
  EXPECT_EQ(configuration_intent("shop", "tracing", t), json::parse(R"({
    "apiVersion": "dapr.io/v1alpha1",
    "kind": "Configuration",
    "metadata": {"name": "tracing", "namespace": "shop"},
    "spec": {"tracing": {
      "samplingRate": "0.25",
      "otel": {"endpointAddress": "jaeger-collector.observability.svc:4317",
               "isSecure": false, "protocol": "grpc"}}}
  })"));
}

TEST(TracingHash, IsStableAcrossBuilds) {
  DaprTracing t{"0.25", "jaeger-collector.observability.svc:4317", false, "grpc"};
  // FNV-1a 64 of {"endpointAddress":"…","isSecure":false,"protocol":"grpc","samplingRate":"0.25"}:
  // a different value here would roll every Dapr workload on upgrade.
  EXPECT_EQ(tracing_hash(t), "a6e82f652d95f3ac");
  EXPECT_EQ(tracing_hash(t), tracing_hash(dapr_tracing(jaeger())));
}

TEST(TracingHash, ChangesWithEachSetting) {
  const DaprTracing base{"0.25", "otel:4317", false, "grpc"};
  DaprTracing t = base;
  t.sampling_rate = "0.5";
  EXPECT_NE(tracing_hash(t), tracing_hash(base));
  t = base;
  t.endpoint_address = "otel:4318";
  EXPECT_NE(tracing_hash(t), tracing_hash(base));
  t = base;
  t.is_secure = true;
  EXPECT_NE(tracing_hash(t), tracing_hash(base));
  t = base;
  t.protocol = "http";
  EXPECT_NE(tracing_hash(t), tracing_hash(base));
  // As written: "0.50" and "0.5" are different settings (the Configuration changes).
  t = base;
  t.sampling_rate = "0.250";
  EXPECT_NE(tracing_hash(t), tracing_hash(base));
}

// ---- taking over and giving back ---------------------------------------------------------------

const json kUserConfiguration = json::parse(R"({
  "apiVersion": "dapr.io/v1alpha1", "kind": "Configuration",
  "metadata": {"name": "appconfig", "namespace": "shop", "resourceVersion": "42"},
  "spec": {
    "tracing": {"samplingRate": "1",
                "zipkin": {"endpointAddress": "http://zipkin.obs:9411/api/v2/spans"}},
    "metric": {"enabled": true}
  }
})");

TEST(PreviousTracing, RecordsSpecTracing) {
  EXPECT_EQ(previous_tracing(kUserConfiguration), json::parse(R"({"tracing": {"samplingRate": "1",
              "zipkin": {"endpointAddress": "http://zipkin.obs:9411/api/v2/spans"}}})"));
}

TEST(PreviousTracing, RecordsNullWhenThereIsNoTracing) {
  json c = kUserConfiguration;
  c["spec"].erase("tracing");
  EXPECT_EQ(previous_tracing(c), json::parse(R"({"tracing": null})"));
  c.erase("spec");
  EXPECT_EQ(previous_tracing(c), json::parse(R"({"tracing": null})"));
}

TEST(RestoreIntent, RecordedNullRemovesSpecTracing) {
  EXPECT_EQ(restore_intent("shop", "appconfig", json::parse(R"({"tracing": null})")),
            json::parse(R"({
    "apiVersion": "dapr.io/v1alpha1", "kind": "Configuration",
    "metadata": {"name": "appconfig", "namespace": "shop"},
    "spec": {"tracing": null}})"));
}

TEST(RestoreIntent, MalformedRecordRemovesSpecTracing) {
  for (const json& r : {json(), json::object(), json::parse(R"({"tracing": "x"})")}) {
    EXPECT_EQ(restore_intent("shop", "c", r)["spec"], json::parse(R"({"tracing": null})")) << r;
  }
}

TEST(RestoreIntent, RecordedValuesComeBackAndOtelTheUserNeverHadGoes) {
  EXPECT_EQ(restore_intent("shop", "appconfig", previous_tracing(kUserConfiguration))["spec"],
            json::parse(R"({"tracing": {"samplingRate": "1", "otel": null}})"));
}

TEST(RestoreIntent, RecordedOtelComesBackFieldByField) {
  json recorded = json::parse(R"({"tracing": {"samplingRate": "0.01", "stdout": true,
    "otel": {"endpointAddress": "collector:4317", "isSecure": true, "protocol": "grpc",
             "headers": [{"name": "x-team", "value": "shop"}]}}})");
  // Only the fields the operator took over: headers and stdout were never the operator's.
  EXPECT_EQ(restore_intent("shop", "appconfig", recorded)["spec"], json::parse(R"({"tracing": {
    "samplingRate": "0.01",
    "otel": {"endpointAddress": "collector:4317", "isSecure": true, "protocol": "grpc"}}})"));
}

json managed_entry(const std::string& manager, const std::string& operation) {
  return {{"manager", manager},
          {"operation", operation},
          {"apiVersion", "dapr.io/v1alpha1"},
          {"fieldsType", "FieldsV1"},
          {"fieldsV1", {{"f:spec", json::object()}}}};
}

TEST(ReleasePatch, DropsTheOperatorsEntriesAndTheRecord) {
  json c = kUserConfiguration;
  c["metadata"]["annotations"] = {{naming::kDaprPreviousAnnotation, R"({"tracing":null})"},
                                  {"team", "shop"}};
  c["metadata"]["managedFields"] = {managed_entry("kubectl", "Apply"),
                                    managed_entry(naming::kFieldManager, "Apply"),
                                    managed_entry(naming::kFieldManager, "Update")};
  auto patch = release_patch(c);
  ASSERT_TRUE(patch.has_value());
  EXPECT_EQ(*patch, (json{{"metadata",
                           {{"resourceVersion", "42"},
                            {"managedFields", {managed_entry("kubectl", "Apply")}},
                            {"annotations", {{naming::kDaprPreviousAnnotation, nullptr}}}}}}));
}

TEST(ReleasePatch, ClearsManagedFieldsWhenTheOperatorWasTheOnlyManager) {
  json c = kUserConfiguration;
  // json::array: a braced list of one json is a copy of it under clang, an array under GCC.
  c["metadata"]["managedFields"] = json::array({managed_entry(naming::kFieldManager, "Apply")});
  auto patch = release_patch(c);
  ASSERT_TRUE(patch.has_value());
  EXPECT_EQ((*patch)["metadata"]["managedFields"], json::parse("[{}]"));
  EXPECT_FALSE((*patch)["metadata"].contains("annotations"));
}

TEST(ReleasePatch, NothingToDoWhenTheOperatorOwnsNothing) {
  json c = kUserConfiguration;
  c["metadata"]["managedFields"] = json::array({managed_entry("kubectl", "Apply")});
  EXPECT_FALSE(release_patch(c).has_value());
  EXPECT_FALSE(release_patch(json::object()).has_value());
}

// ---- previous_record -------------------------------------------------------------------------

// managedFields entry of `manager` holding the given fieldsV1.
json entry_holding(const std::string& manager, const json& fields) {
  return {{"manager", manager},
          {"operation", "Apply"},
          {"apiVersion", "dapr.io/v1alpha1"},
          {"fieldsType", "FieldsV1"},
          {"fieldsV1", fields}};
}

const json kRecordField = {
    {"f:metadata",
     {{"f:annotations", {{"f:tracing.rollout.dev/previous-tracing", json::object()}}}}}};
const json kTracingFields = {{"f:spec",
                              {{"f:tracing",
                                {{"f:samplingRate", json::object()},
                                 {"f:otel", {{"f:endpointAddress", json::object()}}}}}}}};

// The user's Configuration after the operator's first takeover: the record as previous_tracing()
// wrote it, in the operator's apply.
json taken_over(const std::string& record, const std::string& record_writer = "tracing-operator") {
  json c = kUserConfiguration;
  c["metadata"]["annotations"] = {{naming::kDaprPreviousAnnotation, record}};
  json operator_fields = kTracingFields;
  if (record_writer == naming::kFieldManager) operator_fields.update(kRecordField);
  c["metadata"]["managedFields"] = {entry_holding("kubectl", {{"f:spec", {{"f:metric", {}}}}}),
                                    entry_holding(naming::kFieldManager, operator_fields)};
  if (record_writer != naming::kFieldManager) {
    c["metadata"]["managedFields"].push_back(entry_holding(record_writer, kRecordField));
  }
  return c;
}

TEST(PreviousRecord, TheRecordTheOperatorWroteIsTrustedAsWritten) {
  const std::string text = previous_tracing(kUserConfiguration).dump();
  PreviousRecord r = previous_record(taken_over(text));
  ASSERT_EQ(r.state, PreviousRecord::State::kTrusted) << r.why;
  EXPECT_EQ(r.text, text);
  EXPECT_EQ(r.record, previous_tracing(kUserConfiguration));
  EXPECT_EQ(restore_intent("shop", "appconfig", r.record)["spec"]["tracing"]["samplingRate"], "1");
}

TEST(PreviousRecord, ARecordedNullIsTrusted) {
  EXPECT_EQ(previous_record(taken_over(R"({"tracing":null})")).state,
            PreviousRecord::State::kTrusted);
}

TEST(PreviousRecord, NoRecordAndNothingHeldIsAFreshTakeover) {
  json c = kUserConfiguration;
  EXPECT_EQ(previous_record(c).state, PreviousRecord::State::kAbsent);
  c["metadata"]["managedFields"] = json::array({entry_holding("kubectl", kTracingFields)});
  EXPECT_EQ(previous_record(c).state, PreviousRecord::State::kAbsent);
}

TEST(PreviousRecord, ARemovedRecordWhileTheOperatorHoldsSpecTracingIsUntrusted) {
  json c = taken_over("{}");
  c["metadata"].erase("annotations");
  PreviousRecord r = previous_record(c);
  EXPECT_EQ(r.state, PreviousRecord::State::kUntrusted);
  EXPECT_EQ(r.why,
            "the record tracing.rollout.dev/previous-tracing was removed while tracing-operator "
            "holds spec.tracing: the settings from before the takeover are unknown");
}

TEST(PreviousRecord, ARecordSomeoneElseWroteIsUntrusted) {
  PreviousRecord r =
      previous_record(taken_over(R"({"tracing":{"samplingRate":"1"}})", "kubectl-edit"));
  EXPECT_EQ(r.state, PreviousRecord::State::kUntrusted);
  EXPECT_EQ(r.why,
            "the record tracing.rollout.dev/previous-tracing was not written by tracing-operator "
            "(field manager kubectl-edit owns it)");
  json unowned = taken_over(R"({"tracing":null})", "kubectl-edit");
  unowned["metadata"]["managedFields"].erase(2);
  EXPECT_EQ(previous_record(unowned).why,
            "the record tracing.rollout.dev/previous-tracing was not written by tracing-operator "
            "(no field manager owns it)");
}

TEST(PreviousRecord, ARecordOfAnotherShapeIsUntrustedEvenFromTheOperator) {
  for (const std::string& text :
       {std::string("not json"), std::string("[]"), std::string(R"({"tracing":"x"})"),
        std::string(R"({"tracing":null,"extra":1})"), std::string(R"({})"),
        std::string(R"({"tracing":{"samplingRate":1}})"),
        std::string(R"({"tracing":{"otel":"collector:4317"}})"),
        std::string(R"({"tracing":{"otel":{"isSecure":"false"}}})"),
        std::string(R"({"tracing":{"otel":{"endpointAddress":["a"]}}})"),
        std::string(R"({"tracing":{"otel":{"protocol":4317}}})")}) {
    PreviousRecord r = previous_record(taken_over(text));
    EXPECT_EQ(r.state, PreviousRecord::State::kUntrusted) << text;
    EXPECT_TRUE(r.why.starts_with("the record tracing.rollout.dev/previous-tracing ")) << r.why;
  }
}

TEST(PreviousRecord, AnOversizedRecordIsUntrusted) {
  json big = {{"tracing", {{"samplingRate", std::string(kMaxRecordBytes, '1')}}}};
  PreviousRecord r = previous_record(taken_over(big.dump()));
  EXPECT_EQ(r.state, PreviousRecord::State::kUntrusted);
  EXPECT_NE(r.why.find("more than 32768"), std::string::npos) << r.why;
}

// ---- the typed workload ---------------------------------------------------------------------

TEST(DaprWorkload, ReadsThePodTemplateAnnotations) {
  json d = json::parse(R"({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "task-api", "namespace": "shop", "annotations": {"a": "deployment"}},
    "spec": {"template": {
      "metadata": {"labels": {"app": "task-api"},
                   "annotations": {"dapr.io/enabled": "true", "dapr.io/config": "appconfig",
                                   "ignored": 1}},
      "spec": {"containers": [{"name": "api"}]}}}})");
  const Labels want = {{"dapr.io/enabled", "true"}, {"dapr.io/config", "appconfig"}};
  EXPECT_EQ(read_workload(d).template_annotations, want);
  EXPECT_EQ(record_workload(d).workload().template_annotations, want);
  // The Deployment's own annotations of others are not read.
  EXPECT_TRUE(read_workload(d).annotations.empty());
}

// ---- configuration_view ----------------------------------------------------------------------

// What the informer keeps: only what the Dapr pass reads, and the same answers from it.
TEST(ConfigurationView, KeepsOnlyWhatThePassReads) {
  json c = taken_over(previous_tracing(kUserConfiguration).dump(), "kubectl-edit");
  c["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] =
      std::string(4096, 'x');
  c["metadata"]["annotations"][naming::kOwnersAnnotation] = "{}";
  c["metadata"]["labels"] = {{naming::kManagedByLabel, "tracing-operator"}};
  c["metadata"]["uid"] = "0f0e0d0c-0b0a-0908-0706-050403020100";
  c["metadata"]["resourceVersion"] = "42";
  json view = configuration_view(json(c));
  EXPECT_EQ(view["metadata"]["annotations"],
            json({{naming::kDaprPreviousAnnotation,
                   c["metadata"]["annotations"][naming::kDaprPreviousAnnotation]},
                  {naming::kOwnersAnnotation, "{}"}}));
  EXPECT_EQ(view["metadata"]["labels"], c["metadata"]["labels"]);
  EXPECT_EQ(view["metadata"]["uid"], c["metadata"]["uid"]);
  EXPECT_EQ(view["metadata"]["resourceVersion"], "42");
  EXPECT_EQ(view["spec"], json({{"tracing", c["spec"]["tracing"]}})) << "spec.metric dropped";
  // kubectl's entry holds only spec.metric: dropped; the others keep their tracing fields.
  ASSERT_EQ(view["metadata"]["managedFields"].size(), 2u) << view.dump();
  EXPECT_EQ(view["metadata"]["managedFields"][0]["manager"], naming::kFieldManager);
  EXPECT_EQ(view["metadata"]["managedFields"][1]["manager"], "kubectl-edit");
  EXPECT_EQ(view["metadata"]["managedFields"][1]["fieldsV1"], kRecordField);

  PreviousRecord whole = previous_record(c), seen = previous_record(view);
  EXPECT_EQ(seen.state, whole.state);
  EXPECT_EQ(seen.why, whole.why);
  EXPECT_EQ(previous_tracing(view), previous_tracing(c));
}

TEST(ConfigurationView, GivesTheSameRecordVerdictAsTheWholeObject) {
  for (const std::string& writer : {std::string(naming::kFieldManager), std::string("kubectl")}) {
    json c = taken_over(previous_tracing(kUserConfiguration).dump(), writer);
    PreviousRecord whole = previous_record(c), seen = previous_record(configuration_view(json(c)));
    EXPECT_EQ(seen.state, whole.state) << writer;
    EXPECT_EQ(seen.why, whole.why) << writer;
    EXPECT_EQ(seen.text, whole.text) << writer;
  }
  json removed = taken_over("{}");
  removed["metadata"].erase("annotations");
  EXPECT_EQ(previous_record(configuration_view(json(removed))).state,
            PreviousRecord::State::kUntrusted);
}

}  // namespace
}  // namespace tracing::controllers
