// The Dapr Configurations the operator writes (controllers/dapr.h) against Dapr's own CRD
// (shared/testdata/crds/dapr.io_configurations.yaml) on the real kube-apiserver: the operator's
// intent is accepted and stored as sent; taking over a user's Configuration changes only
// spec.tracing's samplingRate and otel, and giving it back restores exactly what the user had,
// leaving no field owned by the operator; and what Dapr's schema does and does not enforce.
//
// The CRD stays installed afterwards (deleting it would delete every Configuration of tests
// running at the same time): tests that need the Dapr API absent must not share the cluster.
#include <yaml-cpp/yaml.h>

#include <exception>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "controllers/dapr.h"
#include "controllers/naming.h"
#include "plugin/yaml_json.h"
#include "tests/integration/fixture.h"

namespace tracing::testing {
namespace {

using controllers::DaprTracing;
using kube::resources::custom_resource_definitions;

const std::string kDaprCrdFile =
    std::string(TRACING_SOURCE_DIR) + "/../shared/testdata/crds/dapr.io_configurations.yaml";

kube::Resource configurations() {
  return {"dapr.io", "v1alpha1", "configurations", true, "Configuration"};
}

const kube::ApplyOptions kOperator{naming::kFieldManager, true, ""};
const kube::ApplyOptions kUser{"kubectl", false, ""};  // kubectl apply --server-side

// The operator's settings for the managed Jaeger: what dapr_tracing() makes of them.
DaprTracing jaeger_tracing(const std::string& ratio) {
  controllers::EffectiveConfig c;
  c.endpoint = "http://jaeger-collector.observability.svc:4317";
  c.base_ratio = ratio;
  return controllers::dapr_tracing(c);
}

// A Configuration as a user writes it: tracing to Zipkin plus fields the operator never touches.
json user_configuration(const std::string& ns, const std::string& name, const json& tracing) {
  json c = {{"apiVersion", "dapr.io/v1alpha1"},
            {"kind", "Configuration"},
            {"metadata", {{"name", name}, {"namespace", ns}}},
            {"spec",
             {{"metric", {{"enabled", true}}},
              {"features", json::array({{{"name", "Resiliency"}, {"enabled", true}},
                                        {{"name", "HotReload"}, {"enabled", false}}})},
              {"mtls",
               {{"enabled", true},
                {"controlPlaneTrustDomain", "cluster.local"},
                {"sentryAddress", "dapr-sentry.dapr-system.svc:443"}}}}}};
  if (!tracing.is_null()) c["spec"]["tracing"] = tracing;
  return c;
}

const json kZipkinTracing = {
    {"samplingRate", "1"},
    {"zipkin", {{"endpointAddress", "http://zipkin.observability.svc:9411/api/v2/spans"}}}};

std::vector<std::string> managers(const json& object) {
  std::vector<std::string> out;
  for (const auto& e : object.value(json::json_pointer("/metadata/managedFields"), json::array())) {
    out.push_back(e.value("manager", "") + "/" + e.value("operation", ""));
  }
  return out;
}

bool operator_owns_anything(const json& object) {
  for (const auto& e : object.value(json::json_pointer("/metadata/managedFields"), json::array())) {
    if (e.value("manager", "") == naming::kFieldManager) return true;
  }
  return false;
}

class DaprCrd : public ClusterTest {
 protected:
  void SetUp() override {
    ClusterTest::SetUp();
    if (HasFatalFailure()) return;
    install_dapr_crd();
  }

  // Server-side applies every document of Dapr's CRD file and waits until the API is served.
  void install_dapr_crd() {
    std::vector<YAML::Node> docs;
    try {
      docs = YAML::LoadAllFromFile(kDaprCrdFile);
    } catch (const std::exception& e) {
      FAIL() << kDaprCrdFile << ": " << e.what();
    }
    int installed = 0;
    for (const YAML::Node& doc : docs) {
      if (!doc || doc.IsNull()) continue;
      const json crd = yaml::yaml_to_json(doc);
      const std::string name = crd["metadata"]["name"];
      auto applied =
          client_->apply(custom_resource_definitions(), "", name, crd, {"tracing-tests", true, ""});
      ASSERT_TRUE(applied) << applied.error().to_string();
      ++installed;
    }
    ASSERT_EQ(installed, 1);
    ASSERT_TRUE(eventually([&] {
      auto served = client_->is_served("dapr.io", "v1alpha1", "configurations");
      return served && *served;
    })) << "dapr.io/v1alpha1 configurations never served";
  }

  json get(const std::string& name) {
    auto got = client_->get(configurations(), ns_, name);
    EXPECT_TRUE(got) << got.error().to_string();
    return got ? *got : json::object();
  }

  // Takes over `name` as the reconciler does: records spec.tracing, then a forced apply of the
  // intent carrying the record.
  json take_over(const std::string& name, const DaprTracing& t) {
    json intent = controllers::configuration_intent(ns_, name, t);
    const json current = get(name);
    const json annotations =
        current.value(json::json_pointer("/metadata/annotations"), json::object());
    std::string record = annotations.value(naming::kDaprPreviousAnnotation, "");
    if (record.empty()) record = controllers::previous_tracing(current).dump();
    intent["metadata"]["annotations"][naming::kDaprPreviousAnnotation] = record;
    auto applied = client_->apply(configurations(), ns_, name, intent, kOperator);
    EXPECT_TRUE(applied) << applied.error().to_string();
    return applied ? *applied : json::object();
  }

  // Gives `name` back (controllers/dapr.h): the restore merge patch, then the release patch.
  json give_back(const std::string& name) {
    const json current = get(name);
    const std::string record =
        current.value(json::json_pointer("/metadata/annotations"), json::object())
            .value(naming::kDaprPreviousAnnotation, std::string(R"({"tracing":null})"));
    auto restored = client_->patch(configurations(), ns_, name,
                                   controllers::restore_intent(ns_, name, json::parse(record)),
                                   kube::PatchType::kMerge, "", naming::kFieldManager);
    EXPECT_TRUE(restored) << restored.error().to_string();
    if (!restored) return json::object();
    auto release = controllers::release_patch(*restored);
    EXPECT_TRUE(release.has_value());
    if (!release) return *restored;
    auto released = client_->patch(configurations(), ns_, name, *release, kube::PatchType::kMerge,
                                   "", naming::kFieldManager);
    EXPECT_TRUE(released) << released.error().to_string();
    return released ? *released : json::object();
  }

  void create_as_user(const std::string& name, const json& tracing) {
    auto created =
        client_->apply(configurations(), ns_, name, user_configuration(ns_, name, tracing), kUser);
    ASSERT_TRUE(created) << created.error().to_string();
  }

  // Applies `intent` as a new Configuration; the error when the API server refuses it.
  std::optional<kube::ApiError> refused(const std::string& name, const json& intent) {
    auto applied = client_->apply(configurations(), ns_, name, intent, kOperator);
    if (applied) return std::nullopt;
    return applied.error();
  }
};

TEST_F(DaprCrd, OperatorIntentIsAcceptedAndStoredAsSent) {
  std::vector<DaprTracing> variants = {
      jaeger_tracing("0.25"),
      {"1", "otel.example.com:4318", true, "http"},
      {"0", "[fd00::1]:4317", false, "grpc"},
  };
  for (size_t i = 0; i < variants.size(); ++i) {
    const std::string name = "tracing-" + std::to_string(i);
    const json intent = controllers::configuration_intent(ns_, name, variants[i]);
    auto applied = client_->apply(configurations(), ns_, name, intent, kOperator);
    ASSERT_TRUE(applied) << applied.error().to_string();
    json stored = get(name);
    // Nothing pruned, nothing added under spec.tracing: every field is in Dapr's schema.
    EXPECT_EQ(stored["spec"]["tracing"], intent["spec"]["tracing"]) << stored.dump(2);
    // Dapr's schema defaults these two when the operator creates the Configuration.
    EXPECT_EQ(stored["spec"]["metric"], json({{"enabled", true}}));
    EXPECT_EQ(stored["spec"]["metrics"], json({{"enabled", true}}));
    EXPECT_EQ(managers(stored), std::vector<std::string>{"tracing-operator/Apply"});
  }
  EXPECT_EQ(get("tracing-0")["spec"]["tracing"], json::parse(R"({"samplingRate": "0.25",
    "otel": {"endpointAddress": "jaeger-collector.observability.svc:4317", "isSecure": false,
             "protocol": "grpc"}})"));
}

TEST_F(DaprCrd, TakingOverChangesOnlySamplingRateAndOtel) {
  create_as_user("appconfig", kZipkinTracing);
  json before = get("appconfig");

  json after = take_over("appconfig", jaeger_tracing("0.25"));

  json want_spec = before["spec"];
  want_spec["tracing"]["samplingRate"] = "0.25";
  want_spec["tracing"]["otel"] = {{"endpointAddress", "jaeger-collector.observability.svc:4317"},
                                  {"isSecure", false},
                                  {"protocol", "grpc"}};
  EXPECT_EQ(after["spec"], want_spec) << after.dump(2);
  EXPECT_EQ(
      after["metadata"]["annotations"][naming::kDaprPreviousAnnotation],
      R"({"tracing":{"samplingRate":"1","zipkin":{"endpointAddress":"http://zipkin.observability.svc:9411/api/v2/spans"}}})");
}

TEST_F(DaprCrd, GivingBackRestoresExactlyWhatTheUserHad) {
  create_as_user("appconfig", kZipkinTracing);
  json before = get("appconfig");
  take_over("appconfig", jaeger_tracing("0.25"));
  take_over("appconfig", jaeger_tracing("0.5"));  // a later ratio keeps the first record

  json after = give_back("appconfig");

  EXPECT_EQ(after["spec"], before["spec"]) << after.dump(2);
  EXPECT_EQ(after["spec"]["tracing"], kZipkinTracing);
  EXPECT_FALSE(after["metadata"]
                   .value("annotations", json::object())
                   .contains(naming::kDaprPreviousAnnotation));
  EXPECT_FALSE(operator_owns_anything(after)) << after["metadata"]["managedFields"].dump(2);
  EXPECT_EQ(managers(after), std::vector<std::string>{"kubectl/Apply"});

  // Nobody holds the restored fields against the user: their next apply changes them freely.
  json edited = kZipkinTracing;
  edited["samplingRate"] = "0.1";
  auto reapplied = client_->apply(configurations(), ns_, "appconfig",
                                  user_configuration(ns_, "appconfig", edited), kUser);
  ASSERT_TRUE(reapplied) << reapplied.error().to_string();
  EXPECT_EQ((*reapplied)["spec"]["tracing"]["samplingRate"], "0.1");
}

TEST_F(DaprCrd, GivingBackRemovesTracingTheUserNeverHad) {
  create_as_user("appconfig", nullptr);
  json before = get("appconfig");
  ASSERT_FALSE(before["spec"].contains("tracing"));
  take_over("appconfig", jaeger_tracing("0.25"));

  json after = give_back("appconfig");

  EXPECT_EQ(after["spec"], before["spec"]) << after.dump(2);
  EXPECT_FALSE(operator_owns_anything(after));
}

// The user had samplingRate "1" and an otel exporter; the operator wrote other values (a debug
// bump), then the user's values again. The merge patch changes nothing then, so those fields
// would stay the operator's alone — the case a release apply gets wrong (next test).
const json kOtelTracing = {
    {"samplingRate", "1"},
    {"otel",
     {{"endpointAddress", "collector.obs:4317"}, {"isSecure", false}, {"protocol", "grpc"}}}};
const DaprTracing kUsersValues{"1", "collector.obs:4317", false, "grpc"};

TEST_F(DaprCrd, GivingBackKeepsValuesTheOperatorChangedAndChangedBack) {
  create_as_user("appconfig", kOtelTracing);
  json before = get("appconfig");
  take_over("appconfig", jaeger_tracing("0.5"));
  take_over("appconfig", kUsersValues);

  json after = give_back("appconfig");

  EXPECT_EQ(after["spec"], before["spec"]) << after.dump(2);
  EXPECT_FALSE(operator_owns_anything(after));
}

// Why give_back() drops the operator's managedFields entries instead of releasing its fields
// with an apply: after a merge patch that changed nothing, the release apply deletes the
// operator's fields, and Dapr's schema refuses a spec.tracing without samplingRate.
TEST_F(DaprCrd, ReleaseApplyCannotGiveBackAValueTheOperatorChangedBack) {
  create_as_user("appconfig", kOtelTracing);
  take_over("appconfig", jaeger_tracing("0.5"));
  take_over("appconfig", kUsersValues);
  auto restored =
      client_->patch(configurations(), ns_, "appconfig",
                     controllers::restore_intent(ns_, "appconfig", json{{"tracing", kOtelTracing}}),
                     kube::PatchType::kMerge, "", naming::kFieldManager);
  ASSERT_TRUE(restored) << restored.error().to_string();
  EXPECT_TRUE(operator_owns_anything(*restored));

  const json release = {{"apiVersion", "dapr.io/v1alpha1"},
                        {"kind", "Configuration"},
                        {"metadata", {{"name", "appconfig"}, {"namespace", ns_}}}};
  auto released = client_->apply(configurations(), ns_, "appconfig", release, kOperator);
  ASSERT_FALSE(released);
  EXPECT_TRUE(released.error().is_invalid()) << released.error().to_string();
  EXPECT_NE(released.error().to_string().find("spec.tracing.samplingRate"), std::string::npos)
      << released.error().to_string();
}

TEST_F(DaprCrd, GiveBackRetriesWhenTheConfigurationChangedMeanwhile) {
  create_as_user("appconfig", kZipkinTracing);
  take_over("appconfig", jaeger_tracing("0.25"));
  json current = get("appconfig");
  auto restored = client_->patch(
      configurations(), ns_, "appconfig",
      controllers::restore_intent(
          ns_, "appconfig",
          json::parse(current["metadata"]["annotations"][naming::kDaprPreviousAnnotation]
                          .get<std::string>())),
      kube::PatchType::kMerge, "", naming::kFieldManager);
  ASSERT_TRUE(restored) << restored.error().to_string();
  auto release = controllers::release_patch(*restored);
  ASSERT_TRUE(release.has_value());

  // Someone writes in between: the release patch's resourceVersion is stale.
  auto user = client_->apply(configurations(), ns_, "appconfig",
                             user_configuration(ns_, "appconfig", kZipkinTracing), kUser);
  ASSERT_TRUE(user) << user.error().to_string();
  auto stale = client_->patch(configurations(), ns_, "appconfig", *release, kube::PatchType::kMerge,
                              "", naming::kFieldManager);
  ASSERT_FALSE(stale);
  EXPECT_TRUE(stale.error().is_conflict()) << stale.error().to_string();
  EXPECT_TRUE(stale.error().retryable());

  // Re-read and redo: done.
  json after = give_back("appconfig");
  EXPECT_EQ(after["spec"]["tracing"], kZipkinTracing);
  EXPECT_FALSE(operator_owns_anything(after));
}

// What Dapr's schema enforces for spec.tracing: samplingRate is required; otel, when present,
// requires endpointAddress, isSecure and protocol.
TEST_F(DaprCrd, SchemaRequiresSamplingRateAndEveryOtelField) {
  const json intent = controllers::configuration_intent(ns_, "x", jaeger_tracing("0.25"));
  struct Case {
    std::string name;
    std::string field;  // as the API server names it
    json intent;
  };
  std::vector<Case> cases;
  auto without = [&](const std::string& name, const json::json_pointer& p) {
    json i = intent;
    i.at(p.parent_pointer()).erase(p.back());
    i["metadata"]["name"] = name;
    return i;
  };
  cases.push_back({"no-rate", "spec.tracing.samplingRate",
                   without("no-rate", json::json_pointer("/spec/tracing/samplingRate"))});
  cases.push_back(
      {"no-endpoint", "spec.tracing.otel.endpointAddress",
       without("no-endpoint", json::json_pointer("/spec/tracing/otel/endpointAddress"))});
  cases.push_back({"no-secure", "spec.tracing.otel.isSecure",
                   without("no-secure", json::json_pointer("/spec/tracing/otel/isSecure"))});
  cases.push_back({"no-protocol", "spec.tracing.otel.protocol",
                   without("no-protocol", json::json_pointer("/spec/tracing/otel/protocol"))});
  for (const Case& c : cases) {
    auto error = refused(c.name, c.intent);
    ASSERT_TRUE(error.has_value()) << c.name << " was accepted";
    EXPECT_TRUE(error->is_invalid()) << c.name << ": " << error->to_string();
    EXPECT_NE(error->to_string().find(c.field), std::string::npos)
        << c.name << ": " << error->to_string();
  }
}

// Wrong types are refused too, but how depends on the verb: a create (POST) gets a 422 naming
// the field; a server-side apply fails earlier, building the typed patch, with a 500
// InternalError — which ApiError::retryable() counts as retryable. The operator never sends
// these (DaprTracing holds a string and a bool), so this only pins what a bug would look like.
TEST_F(DaprCrd, SchemaRefusesWrongTypes) {
  json number_rate = controllers::configuration_intent(ns_, "number-rate", jaeger_tracing("1"));
  number_rate["spec"]["tracing"]["samplingRate"] = 0.25;
  json string_secure = controllers::configuration_intent(ns_, "string-secure", jaeger_tracing("1"));
  string_secure["spec"]["tracing"]["otel"]["isSecure"] = "false";

  for (const auto& [object, field] : {std::pair{number_rate, "spec.tracing.samplingRate"},
                                      std::pair{string_secure, "spec.tracing.otel.isSecure"}}) {
    const std::string name = object["metadata"]["name"];
    auto created = client_->create(configurations(), ns_, object);
    ASSERT_FALSE(created) << name << " was created";
    EXPECT_TRUE(created.error().is_invalid()) << name << ": " << created.error().to_string();
    EXPECT_NE(created.error().to_string().find(field), std::string::npos)
        << created.error().to_string();

    auto applied = client_->apply(configurations(), ns_, name, object, kOperator);
    ASSERT_FALSE(applied) << name << " was applied";
    EXPECT_EQ(applied.error().code, 500) << applied.error().to_string();
    EXPECT_NE(applied.error().to_string().find(field), std::string::npos)
        << applied.error().to_string();
  }
}

// ... and what it does not: no minimum length, format or enum. An empty endpointAddress or an
// unknown protocol is stored and would only fail in the sidecar, so dapr_tracing() is what
// must never produce them (and callers must not apply an intent with an empty address).
TEST_F(DaprCrd, SchemaAcceptsAnEmptyEndpointAndAnyProtocol) {
  const DaprTracing empty_endpoint{"0.25", "", false, "grpc"};
  EXPECT_FALSE(refused("empty-endpoint",
                       controllers::configuration_intent(ns_, "empty-endpoint", empty_endpoint)));
  const DaprTracing odd_protocol{"not-a-number", "otel:4317", false, "zipkin"};
  EXPECT_FALSE(refused("odd-protocol",
                       controllers::configuration_intent(ns_, "odd-protocol", odd_protocol)));
  json no_otel = controllers::configuration_intent(ns_, "no-otel", jaeger_tracing("1"));
  no_otel["spec"]["tracing"].erase("otel");
  EXPECT_FALSE(refused("no-otel", no_otel));
}

}  // namespace
}  // namespace tracing::testing
