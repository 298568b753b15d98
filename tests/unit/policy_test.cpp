#include "controllers/api/policy.h"

#include <gtest/gtest.h>

#include <string>

#include "controllers/api/duration.h"
#include "controllers/api/selector.h"
#include "controllers/api/time.h"
#include "controllers/api/workload.h"

namespace tracing::controllers {
namespace {

using namespace std::chrono_literals;
using std::chrono::seconds;
using std::chrono::sys_days;

json policy_object(json spec) {
  return json{{"apiVersion", "tracing.rollout.dev/v1alpha1"},
              {"kind", "TracingPolicy"},
              {"metadata",
               {{"name", "task-api"}, {"namespace", "shop"}, {"uid", "u-1"}, {"generation", 3}}},
              {"spec", std::move(spec)}};
}

std::string parse_error(json spec) {
  ParseResult r = parse_policy(policy_object(std::move(spec)));
  EXPECT_FALSE(r.policy.has_value());
  return r.error;
}

// ---- parse_policy ----------------------------------------------------------------------------

TEST(ParsePolicy, ReadsEveryFieldOfTheSpecExample) {
  json object = json::parse(R"json({
    "apiVersion": "tracing.rollout.dev/v1alpha1", "kind": "TracingPolicy",
    "metadata": {"name": "task-api", "namespace": "shop", "uid": "0b7c", "generation": 7},
    "spec": {
      "selector": {"matchLabels": {"app": "task-api"},
                   "matchExpressions": [{"key": "tier", "operator": "In", "values": ["web", "api"]}]},
      "namespaceSelector": {"matchLabels": {"tier": "prod"}},
      "priority": 5,
      "containers": ["api"],
      "serviceName": {"fromLabel": "app.kubernetes.io/name"},
      "exporter": {"endpoint": "http://jaeger-collector.observability.svc:4317",
                   "protocol": "grpc", "insecure": true},
      "sampling": {"sampler": "parentbased_traceidratio", "ratio": "0.1", "mode": "restart",
                   "remoteInitialRatio": "0.01"},
      "debug": {"ratio": "1", "duration": "15m", "reason": "INC-1234 slow task creation"},
      "propagators": ["tracecontext", "baggage"],
      "resourceAttributes": {"deployment.environment": "prod"},
      "override": false,
      "dapr": {"mode": "auto", "configurationName": "tracing", "restartOnChange": true},
      "jaeger": {"mode": "managed", "namespace": "observability", "name": "jaeger"},
      "rollout": {"maxConcurrent": 5, "paused": false}
    }})json");
  ParseResult r = parse_policy(object);
  ASSERT_TRUE(r.policy.has_value()) << r.error;
  EXPECT_EQ(r.error, "");
  const Policy& p = *r.policy;
  EXPECT_EQ(p.key(), "shop/task-api");
  EXPECT_EQ(p.uid, "0b7c");
  EXPECT_EQ(p.generation, 7);
  EXPECT_FALSE(p.deleting);
  const PolicySpec& s = p.spec;
  ASSERT_TRUE(s.selector.has_value());
  EXPECT_EQ(s.selector->match_labels, (Labels{{"app", "task-api"}}));
  ASSERT_EQ(s.selector->match_expressions.size(), 1u);
  EXPECT_EQ(s.selector->match_expressions[0].key, "tier");
  EXPECT_EQ(s.selector->match_expressions[0].op, "In");
  EXPECT_EQ(s.selector->match_expressions[0].values, (std::vector<std::string>{"web", "api"}));
  ASSERT_TRUE(s.namespace_selector.has_value());
  EXPECT_EQ(s.namespace_selector->match_labels, (Labels{{"tier", "prod"}}));
  EXPECT_EQ(s.priority, 5);
  EXPECT_EQ(s.containers, (std::vector<std::string>{"api"}));
  EXPECT_EQ(s.service_name_from_label, "app.kubernetes.io/name");
  ASSERT_TRUE(s.exporter.has_value());
  EXPECT_EQ(s.exporter->endpoint, "http://jaeger-collector.observability.svc:4317");
  EXPECT_EQ(s.exporter->protocol, "grpc");
  EXPECT_EQ(s.exporter->insecure, true);
  ASSERT_TRUE(s.sampling.has_value());
  EXPECT_EQ(s.sampling->sampler, "parentbased_traceidratio");
  EXPECT_EQ(s.sampling->ratio, "0.1");
  EXPECT_EQ(s.sampling->mode, "restart");
  EXPECT_EQ(s.sampling->remote_initial_ratio, "0.01");
  ASSERT_TRUE(s.debug.has_value());
  EXPECT_EQ(s.debug->ratio, "1");
  EXPECT_EQ(s.debug->duration, seconds(900));
  EXPECT_FALSE(s.debug->until.has_value());
  EXPECT_EQ(s.debug->reason, "INC-1234 slow task creation");
  EXPECT_EQ(s.debug->hash.size(), 16u);
  EXPECT_EQ(s.propagators, (std::vector<std::string>{"tracecontext", "baggage"}));
  EXPECT_EQ(s.resource_attributes,
            (std::map<std::string, std::string>{{"deployment.environment", "prod"}}));
  EXPECT_EQ(s.override_env, false);
  EXPECT_EQ(s.dapr,
            (json{{"mode", "auto"}, {"configurationName", "tracing"}, {"restartOnChange", true}}));
  EXPECT_EQ(s.jaeger,
            (json{{"mode", "managed"}, {"namespace", "observability"}, {"name", "jaeger"}}));
  EXPECT_EQ(s.rollout, (json{{"maxConcurrent", 5}, {"paused", false}}));
  EXPECT_FALSE(p.debug_status.has_value());
}

TEST(ParsePolicy, LeavesAbsentGroupsUnset) {
  ParseResult r = parse_policy(policy_object(json::object()));
  ASSERT_TRUE(r.policy.has_value()) << r.error;
  const PolicySpec& s = r.policy->spec;
  EXPECT_FALSE(s.selector || s.namespace_selector || s.containers || s.service_name_from_label ||
               s.exporter || s.sampling || s.debug || s.propagators || s.override_env || s.dapr ||
               s.jaeger || s.rollout);
  EXPECT_EQ(s.priority, 0);
  EXPECT_TRUE(s.resource_attributes.empty());
}

TEST(ParsePolicy, TreatsNullFieldsAsAbsent) {
  ParseResult r = parse_policy(policy_object({{"selector", nullptr}, {"exporter", nullptr}}));
  ASSERT_TRUE(r.policy.has_value()) << r.error;
  EXPECT_FALSE(r.policy->spec.selector.has_value());
  EXPECT_FALSE(r.policy->spec.exporter.has_value());
}

TEST(ParsePolicy, MarksAPolicyWithDeletionTimestampAsDeleting) {
  json object = policy_object(json::object());
  object["metadata"]["deletionTimestamp"] = "2026-11-26T12:00:00Z";
  ParseResult r = parse_policy(object);
  ASSERT_TRUE(r.policy.has_value()) << r.error;
  EXPECT_TRUE(r.policy->deleting);
}

TEST(ParsePolicy, DefaultsTheDebugRatioToOne) {
  ParseResult r = parse_policy(policy_object({{"debug", {{"duration", "15m"}}}}));
  ASSERT_TRUE(r.policy.has_value()) << r.error;
  EXPECT_EQ(r.policy->spec.debug->ratio, "1");
}

TEST(ParsePolicy, ReadsDebugUntilAsAnInstant) {
  ParseResult r = parse_policy(
      policy_object({{"debug", {{"ratio", "0.5"}, {"until", "2026-11-26T12:00:00Z"}}}}));
  ASSERT_TRUE(r.policy.has_value()) << r.error;
  EXPECT_EQ(r.policy->spec.debug->until, WallTime(sys_days{2026y / 11 / 26} + 12h));
  EXPECT_FALSE(r.policy->spec.debug->duration.has_value());
}

TEST(ParsePolicy, RefusesADebugDurationOutsideOneMinuteToOneDay) {
  std::string e = parse_error({{"debug", {{"duration", "30s"}}}});
  EXPECT_NE(e.find("spec.debug.duration"), std::string::npos) << e;
  EXPECT_NE(e.find("between 1m and 24h"), std::string::npos) << e;
  EXPECT_NE(parse_error({{"debug", {{"duration", "24h1s"}}}}).find("between 1m and 24h"),
            std::string::npos);
  EXPECT_NE(parse_error({{"debug", {{"duration", "59s"}}}}).find("spec.debug.duration"),
            std::string::npos);
  EXPECT_TRUE(parse_policy(policy_object({{"debug", {{"duration", "1m"}}}})).policy.has_value());
  EXPECT_TRUE(parse_policy(policy_object({{"debug", {{"duration", "90s"}}}})).policy.has_value());
  EXPECT_TRUE(parse_policy(policy_object({{"debug", {{"duration", "24h"}}}})).policy.has_value());
}

TEST(ParsePolicy, RefusesAMalformedDebugDuration) {
  std::string e = parse_error({{"debug", {{"duration", "15 minutes"}}}});
  EXPECT_NE(e.find("spec.debug.duration: \"15 minutes\" is not a duration"), std::string::npos)
      << e;
}

TEST(ParsePolicy, RefusesBothOrNeitherOfDurationAndUntil) {
  std::string both =
      parse_error({{"debug", {{"duration", "15m"}, {"until", "2026-11-26T12:00:00Z"}}}});
  EXPECT_NE(both.find("spec.debug: set exactly one of duration and until, not both"),
            std::string::npos)
      << both;
  std::string neither = parse_error({{"debug", {{"ratio", "1"}}}});
  EXPECT_NE(neither.find("spec.debug: set exactly one of duration and until"), std::string::npos)
      << neither;
}

TEST(ParsePolicy, RefusesAMalformedUntil) {
  std::string e = parse_error({{"debug", {{"until", "tomorrow noon"}}}});
  EXPECT_NE(e.find("spec.debug.until: \"tomorrow noon\" is not an RFC 3339 time"),
            std::string::npos)
      << e;
}

TEST(ParsePolicy, RefusesRatiosThatAreNotDecimalsInZeroToOne) {
  for (const char* bad : {"1.5", "abc", "1e-1", "-0.1", ".5", "0.", "", " 0.1", "0,5", "2"}) {
    std::string e = parse_error({{"sampling", {{"ratio", bad}}}});
    EXPECT_NE(e.find("spec.sampling.ratio"), std::string::npos) << bad << ": " << e;
    EXPECT_NE(e.find("must be a decimal in [0, 1]"), std::string::npos) << bad << ": " << e;
  }
  EXPECT_NE(
      parse_error({{"debug", {{"ratio", "1.01"}, {"duration", "15m"}}}}).find("spec.debug.ratio"),
      std::string::npos);
  EXPECT_NE(parse_error({{"sampling", {{"remoteInitialRatio", "5%"}}}})
                .find("spec.sampling.remoteInitialRatio"),
            std::string::npos);
  for (const char* good : {"0", "1", "0.25", "1.0", "0.0001"}) {
    ParseResult r = parse_policy(policy_object({{"sampling", {{"ratio", good}}}}));
    ASSERT_TRUE(r.policy.has_value()) << good << ": " << r.error;
    EXPECT_EQ(r.policy->spec.sampling->ratio, good);
  }
}

TEST(ParsePolicy, RefusesWrongTypesNamingTheField) {
  EXPECT_NE(parse_error({{"priority", "high"}}).find("spec.priority"), std::string::npos);
  EXPECT_NE(parse_error({{"priority", 1.5}}).find("spec.priority"), std::string::npos);
  EXPECT_NE(parse_error({{"containers", "api"}}).find("spec.containers"), std::string::npos);
  EXPECT_NE(parse_error({{"containers", {"api", 3}}}).find("spec.containers[1]"),
            std::string::npos);
  EXPECT_NE(parse_error({{"exporter", {{"insecure", "yes"}}}}).find("spec.exporter.insecure"),
            std::string::npos);
  EXPECT_NE(
      parse_error({{"sampling", {{"ratio", 0.5}}}}).find("spec.sampling.ratio: must be a string"),
      std::string::npos);
  EXPECT_NE(
      parse_error({{"resourceAttributes", {{"team", 7}}}}).find("spec.resourceAttributes.team"),
      std::string::npos);
  EXPECT_NE(parse_error({{"override", "true"}}).find("spec.override"), std::string::npos);
  EXPECT_NE(parse_error({{"jaeger", "managed"}}).find("spec.jaeger"), std::string::npos);
  EXPECT_NE(parse_error({{"selector", {{"matchLabels", {{"app", true}}}}}})
                .find("spec.selector.matchLabels.app"),
            std::string::npos);
}

TEST(ParsePolicy, RefusesValuesOutsideTheEnums) {
  EXPECT_NE(parse_error({{"exporter", {{"protocol", "udp"}}}})
                .find("spec.exporter.protocol: \"udp\" must be one of grpc, http/protobuf"),
            std::string::npos);
  EXPECT_NE(
      parse_error({{"sampling", {{"sampler", "jaeger_remote"}}}}).find("spec.sampling.sampler"),
      std::string::npos);
  EXPECT_NE(parse_error({{"sampling", {{"mode", "hot"}}}}).find("spec.sampling.mode"),
            std::string::npos);
  EXPECT_NE(parse_error({{"propagators", {"tracecontext", "w3c"}}}).find("spec.propagators[1]"),
            std::string::npos);
  EXPECT_NE(
      parse_error({{"exporter", {{"endpoint", "jaeger:4317"}}}}).find("spec.exporter.endpoint"),
      std::string::npos);
}

TEST(ParsePolicy, RefusesABadSelectorExpressionNamingIt) {
  std::string e =
      parse_error({{"selector", {{"matchExpressions", {{{"key", "app"}, {"operator", "Like"}}}}}}});
  EXPECT_NE(e.find("spec.selector.matchExpressions[0].operator: \"Like\" must be one of In"),
            std::string::npos)
      << e;
  EXPECT_NE(parse_error({{"namespaceSelector",
                          {{"matchExpressions", {{{"key", "tier"}, {"operator", "In"}}}}}}})
                .find("spec.namespaceSelector.matchExpressions[0].values: must not be empty"),
            std::string::npos);
  EXPECT_NE(
      parse_error(
          {{"selector",
            {{"matchExpressions", {{{"key", "a"}, {"operator", "Exists"}, {"values", {"x"}}}}}}}})
          .find("must be empty for operator Exists"),
      std::string::npos);
}

TEST(ParsePolicy, RefusesResourceAttributeKeysThatBreakTheListFormat) {
  EXPECT_NE(parse_error({{"resourceAttributes", {{"a=b", "x"}}}})
                .find("spec.resourceAttributes: key \"a=b\""),
            std::string::npos);
  EXPECT_NE(parse_error({{"resourceAttributes", {{"a b", "x"}}}}).find("spec.resourceAttributes"),
            std::string::npos);
}

TEST(ParsePolicy, ReportsEveryErrorAtOnce) {
  std::string e = parse_error({{"priority", "x"}, {"sampling", {{"ratio", "2"}}}});
  EXPECT_NE(e.find("spec.priority"), std::string::npos) << e;
  EXPECT_NE(e.find("spec.sampling.ratio"), std::string::npos) << e;
}

TEST(ParsePolicy, NeverThrowsOnMalformedObjects) {
  for (const json& bad : {json(nullptr), json::array(), json("x"), json::object(),
                          json{{"metadata", "x"}}, json{{"metadata", {{"name", 3}}}},
                          json{{"metadata", {{"name", "a"}, {"namespace", "b"}}}, {"spec", 42}}}) {
    ParseResult r = parse_policy(bad);
    EXPECT_FALSE(r.policy.has_value()) << bad.dump();
    EXPECT_FALSE(r.error.empty()) << bad.dump();
  }
  EXPECT_NE(parse_policy(json::object()).error.find("metadata"), std::string::npos);
}

TEST(ParsePolicy, DebugHashIsStableAndChangesWithAnyDebugField) {
  auto hash = [](json debug) {
    ParseResult r = parse_policy(policy_object({{"debug", std::move(debug)}}));
    EXPECT_TRUE(r.policy.has_value()) << r.error;
    return r.policy ? r.policy->spec.debug->hash : "";
  };
  std::string h = hash({{"ratio", "1"}, {"duration", "15m"}, {"reason", "INC-1"}});
  EXPECT_EQ(h, hash({{"reason", "INC-1"}, {"duration", "15m"}, {"ratio", "1"}}));
  EXPECT_NE(h, hash({{"ratio", "1"}, {"duration", "15m"}, {"reason", "INC-2"}}));
  EXPECT_NE(h, hash({{"ratio", "0.5"}, {"duration", "15m"}, {"reason", "INC-1"}}));
  EXPECT_NE(h, hash({{"ratio", "1"}, {"duration", "16m"}, {"reason", "INC-1"}}));
  EXPECT_EQ(h.find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(ParsePolicy, ReadsTheRecordedDebugStatus) {
  json object = policy_object({{"debug", {{"duration", "15m"}}}});
  object["status"] = {{"debug",
                       {{"hash", "abc"},
                        {"startedAt", "2026-11-26T12:00:00Z"},
                        {"expiresAt", "2026-11-26T12:15:00Z"}}}};
  ParseResult r = parse_policy(object);
  ASSERT_TRUE(r.policy.has_value()) << r.error;
  ASSERT_TRUE(r.policy->debug_status.has_value());
  EXPECT_EQ(r.policy->debug_status->hash, "abc");
  EXPECT_EQ(r.policy->debug_status->started_at, WallTime(sys_days{2026y / 11 / 26} + 12h));
  EXPECT_EQ(r.policy->debug_status->expires_at, WallTime(sys_days{2026y / 11 / 26} + 12h + 15min));
}

TEST(ParsePolicy, IgnoresAnIncompleteDebugStatus) {
  json object = policy_object(json::object());
  object["status"] = {{"debug", {{"hash", "abc"}, {"startedAt", "2026-11-26T12:00:00Z"}}}};
  EXPECT_FALSE(parse_policy(object).policy->debug_status.has_value());
  object["status"]["debug"]["expiresAt"] = "soon";
  EXPECT_FALSE(parse_policy(object).policy->debug_status.has_value());
}

// ---- parse_duration --------------------------------------------------------------------------

TEST(ParsePolicy, RefusesAnEndpointSchemeNotInLowerCase) {
  // The API server's URL library lower-cases the scheme before comparing; SDKs may not.
  EXPECT_NE(parse_error({{"exporter", {{"endpoint", "HTTP://otel.example:4317"}}}})
                .find("spec.exporter.endpoint: \"HTTP://otel.example:4317\" must be an http:// or "
                      "https:// URL"),
            std::string::npos);
  EXPECT_NE(parse_error({{"jaeger",
                          {{"mode", "external"}, {"samplingEndpoint", "Https://j.example:5779"}}}})
                .find("spec.jaeger.samplingEndpoint"),
            std::string::npos);
}

TEST(ParsePolicy, RefusesACommaInTheSamplingEndpoint) {
  EXPECT_NE(
      parse_error({{"jaeger",
                    {{"mode", "external"},
                     {"samplingEndpoint", "http://j.example:5779/,pollingIntervalMs=1"}}}})
          .find("spec.jaeger.samplingEndpoint: \"http://j.example:5779/,pollingIntervalMs=1\" "
                "must not contain ','"),
      std::string::npos);
}

TEST(ParsePolicy, AcceptsADollarInAnEndpointBecauseEveryValueWrittenIsEscaped) {
  ParseResult r = parse_policy(
      policy_object({{"exporter", {{"endpoint", "https://x.example/$(DB_PASSWORD)"}}}}));
  ASSERT_TRUE(r.policy) << r.error;
  EXPECT_EQ(r.policy->spec.exporter->endpoint, "https://x.example/$(DB_PASSWORD)");
}

TEST(ParsePolicy, RefusesRemoteModeWithItsOwnJaegerGivingNoSamplingEndpoint) {
  EXPECT_EQ(parse_error({{"sampling", {{"mode", "remote"}}}, {"jaeger", {{"mode", "none"}}}}),
            "spec.sampling.mode: remote needs a Jaeger sampling endpoint, but spec.jaeger.mode is "
            "none: use jaeger.mode managed, or external with samplingEndpoint");
  EXPECT_EQ(parse_error({{"sampling", {{"mode", "remote"}}}, {"jaeger", {{"mode", "external"}}}}),
            "spec.sampling.mode: remote needs a Jaeger sampling endpoint, but spec.jaeger.mode is "
            "external without spec.jaeger.samplingEndpoint: use jaeger.mode managed, or external "
            "with samplingEndpoint");
  // Without a jaeger group of its own the Jaeger comes from other policies: judged per workload.
  EXPECT_TRUE(parse_policy(policy_object({{"sampling", {{"mode", "remote"}}}})).policy);
  EXPECT_TRUE(parse_policy(policy_object({{"sampling", {{"mode", "remote"}}},
                                          {"jaeger", {{"mode", "managed"}}}}))
                  .policy);
}

// ---- policy_in_force (last known good) ---------------------------------------------------

json versioned(json spec, int64_t generation, const std::string& uid = "u-1") {
  json o = policy_object(std::move(spec));
  o["metadata"]["generation"] = generation;
  o["metadata"]["uid"] = uid;
  return o;
}

const json kValidSpec = {{"sampling", {{"ratio", "0.25"}}}};
const json kInvalidSpec = {{"sampling", {{"ratio", "0.25"}}},
                           {"resourceAttributes", {{"team/name", "shop"}}}};

TEST(PolicyInForce, IsTheParsedPolicyWhenTheSpecIsValid) {
  auto p = policy_in_force(versioned(kValidSpec, 3), nullptr);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->spec_known);
  EXPECT_EQ(p->spec_error, "");
  EXPECT_EQ(p->spec_generation, 3);
  EXPECT_EQ(p->spec.sampling->ratio, "0.25");
}

TEST(PolicyInForce, KeepsThePreviousSpecOfTheSameObjectWhenAnEditCannotBeUsed) {
  auto good = policy_in_force(versioned(kValidSpec, 3), nullptr);
  ASSERT_TRUE(good);
  json bad = versioned(kInvalidSpec, 4);
  bad["metadata"]["deletionTimestamp"] = "2026-11-26T12:00:00Z";
  bad["status"]["debug"] = {
      {"hash", "h"}, {"startedAt", "2026-11-26T12:00:00Z"}, {"expiresAt", "2026-11-26T12:15:00Z"}};
  auto p = policy_in_force(bad, &*good);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->spec_known);
  EXPECT_EQ(p->spec_error,
            "spec.resourceAttributes: key \"team/name\" must be non-empty and hold no spaces, ',' "
            "or '='");
  EXPECT_EQ(p->spec.sampling->ratio, "0.25");
  EXPECT_TRUE(p->spec.resource_attributes.empty()) << "the spec in force is generation 3's";
  EXPECT_EQ(p->spec_generation, 3);
  // The object's own metadata and status are this version's.
  EXPECT_EQ(p->generation, 4);
  EXPECT_TRUE(p->deleting);
  ASSERT_TRUE(p->debug_status);
  EXPECT_EQ(p->debug_status->hash, "h");

  // A second unusable edit still keeps generation 3; a valid one replaces it.
  auto again = policy_in_force(versioned(kInvalidSpec, 5), &*p);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->spec_generation, 3);
  EXPECT_TRUE(again->spec_known);
  auto fixed = policy_in_force(versioned({{"sampling", {{"ratio", "0.5"}}}}, 6), &*again);
  ASSERT_TRUE(fixed);
  EXPECT_EQ(fixed->spec_error, "");
  EXPECT_EQ(fixed->spec_generation, 6);
  EXPECT_EQ(fixed->spec.sampling->ratio, "0.5");
}

TEST(PolicyInForce, HasNoSpecWhenNoValidVersionOfThisObjectWasSeen) {
  auto first = policy_in_force(versioned(kInvalidSpec, 1), nullptr);
  ASSERT_TRUE(first);
  EXPECT_FALSE(first->spec_known);
  EXPECT_NE(first->spec_error, "");
  EXPECT_FALSE(first->spec.sampling) << "no spec is in force";
  EXPECT_EQ(first->key(), "shop/task-api");
  // Another object of the same name (deleted and re-created) does not inherit a spec.
  auto other = policy_in_force(versioned(kValidSpec, 7, "u-old"), nullptr);
  ASSERT_TRUE(other);
  auto p = policy_in_force(versioned(kInvalidSpec, 1, "u-new"), &*other);
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->spec_known);
  // And a policy without a spec in force stays so until a valid edit.
  auto still = policy_in_force(versioned(kInvalidSpec, 2, "u-new"), &*p);
  ASSERT_TRUE(still);
  EXPECT_FALSE(still->spec_known);
}

TEST(PolicyInForce, IsNothingForAnObjectThatIsNoTracingPolicy) {
  std::string error;
  EXPECT_FALSE(policy_in_force(json::array(), nullptr, &error));
  EXPECT_NE(error, "");
  EXPECT_FALSE(policy_in_force(json{{"spec", kInvalidSpec}}, nullptr, &error));
  EXPECT_NE(error.find("metadata"), std::string::npos) << error;
}

TEST(ParseDuration, ReadsGoStyleDurations) {
  EXPECT_EQ(parse_duration("15m"), seconds(900));
  EXPECT_EQ(parse_duration("1h30m"), seconds(5400));
  EXPECT_EQ(parse_duration("90s"), seconds(90));
  EXPECT_EQ(parse_duration("1.5h"), seconds(5400));
  EXPECT_EQ(parse_duration("2h45m30s"), seconds(9930));
  EXPECT_EQ(parse_duration("1h0m0s"), seconds(3600));
  EXPECT_EQ(parse_duration("0"), seconds(0));
  EXPECT_EQ(parse_duration("0s"), seconds(0));
  EXPECT_EQ(parse_duration(".5m"), seconds(30));
  EXPECT_EQ(parse_duration("1.m"), seconds(60));
  EXPECT_EQ(parse_duration("+5m"), seconds(300));
  EXPECT_EQ(parse_duration("-5m"), seconds(-300));
  EXPECT_EQ(parse_duration("1500ms"), seconds(1));
  EXPECT_EQ(parse_duration("3000000us"), seconds(3));
  EXPECT_EQ(parse_duration("2000000\xC2\xB5s"), seconds(2));  // U+00B5 micro sign
  EXPECT_EQ(parse_duration("2000000\xCE\xBCs"), seconds(2));  // U+03BC Greek mu
  EXPECT_EQ(parse_duration("4000000000ns"), seconds(4));
}

TEST(ParseDuration, TruncatesToWholeSeconds) {
  EXPECT_EQ(parse_duration("1m30.9s"), seconds(90));
  EXPECT_EQ(parse_duration("999ms"), seconds(0));
  EXPECT_EQ(parse_duration("59.999s"), seconds(59));
}

TEST(ParseDuration, RefusesMalformedText) {
  for (const char* bad : {"", "15", "m", "1x", "1.5.5h", ".h", "1 h", "1H", "h1", "1h 30m", "-",
                          "+", "1d", "15m ", "9999999999h", "99999999999999999999s"}) {
    EXPECT_EQ(parse_duration(bad), std::nullopt) << bad;
  }
}

// ---- RFC 3339 --------------------------------------------------------------------------------

TEST(ParseRfc3339, ReadsUtc) {
  EXPECT_EQ(parse_rfc3339("2026-11-26T12:00:00Z"), WallTime(sys_days{2026y / 11 / 26} + 12h));
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00Z"), WallTime{});
  EXPECT_EQ(parse_rfc3339("2026-11-26t12:00:00z"), WallTime(sys_days{2026y / 11 / 26} + 12h));
}

TEST(ParseRfc3339, AppliesNumericOffsets) {
  const WallTime noon = sys_days{2026y / 11 / 26} + 12h;
  EXPECT_EQ(parse_rfc3339("2026-11-26T13:00:00+01:00"), noon);
  EXPECT_EQ(parse_rfc3339("2026-11-26T06:30:00-05:30"), noon);
  EXPECT_EQ(parse_rfc3339("2026-11-26T12:00:00+00:00"), noon);
  EXPECT_EQ(parse_rfc3339("2026-11-27T01:00:00+13:00"), noon);  // crosses the date line
}

TEST(ParseRfc3339, KeepsFractionalSeconds) {
  const WallTime noon = sys_days{2026y / 11 / 26} + 12h;
  EXPECT_EQ(parse_rfc3339("2026-11-26T12:00:00.5Z"), noon + 500ms);
  EXPECT_EQ(parse_rfc3339("2026-11-26T12:00:00.123456789Z"),
            noon + std::chrono::duration_cast<WallTime::duration>(123456789ns));
  EXPECT_EQ(parse_rfc3339("2026-11-26T12:00:00.000001+00:00"), noon + 1us);
}

TEST(ParseRfc3339, HandlesLeapYearsAndTimesBeforeTheEpoch) {
  EXPECT_EQ(parse_rfc3339("2024-02-29T00:00:00Z"), WallTime(sys_days{2024y / 2 / 29}));
  EXPECT_EQ(parse_rfc3339("2000-02-29T00:00:00Z"), WallTime(sys_days{2000y / 2 / 29}));
  EXPECT_EQ(parse_rfc3339("1969-12-31T23:59:59Z"), WallTime{} - 1s);
  EXPECT_EQ(parse_rfc3339("2023-02-29T00:00:00Z"), std::nullopt);
  EXPECT_EQ(parse_rfc3339("1900-02-29T00:00:00Z"), std::nullopt);
}

TEST(ParseRfc3339, RefusesMalformedText) {
  for (const char* bad :
       {"", "x", "2026-11-26", "2026-11-26 12:00:00Z", "2026-13-01T00:00:00Z",
        "2026-00-10T00:00:00Z", "2026-11-31T00:00:00Z", "2026-11-26T24:00:00Z",
        "2026-11-26T12:60:00Z", "2026-11-26T12:00:60Z", "2026-11-26T12:00:00",
        "2026-11-26T12:00:00+0100", "2026-11-26T12:00:00+01", "2026-11-26T12:00:00.Z",
        "2026-11-26T12:00:00ZZ", "26-11-26T12:00:00Z", "2026-11-26T12:00:00 Z",
        "9999-12-31T23:59:59Z"}) {  // the last one: beyond what the clock can represent
    EXPECT_EQ(parse_rfc3339(bad), std::nullopt) << bad;
  }
}

TEST(FormatRfc3339, WritesUtcWithSecondsPrecision) {
  EXPECT_EQ(format_rfc3339(sys_days{2026y / 11 / 26} + 12h), "2026-11-26T12:00:00Z");
  EXPECT_EQ(format_rfc3339(sys_days{2026y / 11 / 26} + 12h + 999ms), "2026-11-26T12:00:00Z");
  EXPECT_EQ(format_rfc3339(WallTime{}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339(WallTime{} - 500ms), "1969-12-31T23:59:59Z");
  EXPECT_EQ(format_rfc3339(sys_days{2024y / 2 / 29} + 23h + 59min + 59s), "2024-02-29T23:59:59Z");
}

TEST(FormatRfc3339, RoundTripsThroughParse) {
  for (const char* t : {"2026-11-26T12:00:00Z", "2000-01-01T00:00:00Z", "2100-12-31T23:59:59Z",
                        "1999-03-01T08:07:06Z"}) {
    auto parsed = parse_rfc3339(t);
    ASSERT_TRUE(parsed.has_value()) << t;
    EXPECT_EQ(format_rfc3339(*parsed), t);
  }
  EXPECT_EQ(format_rfc3339(*parse_rfc3339("2026-11-26T13:00:00.75+01:00")), "2026-11-26T12:00:00Z");
}

// ---- LabelSelector ---------------------------------------------------------------------------

TEST(LabelSelector, EmptySelectorMatchesEverything) {
  EXPECT_TRUE(LabelSelector{}.matches({}));
  EXPECT_TRUE(LabelSelector{}.matches({{"app", "x"}}));
}

TEST(LabelSelector, MatchLabelsRequireEveryPair) {
  LabelSelector s{{{"app", "api"}, {"tier", "web"}}, {}};
  EXPECT_TRUE(s.matches({{"app", "api"}, {"tier", "web"}, {"extra", "1"}}));
  EXPECT_FALSE(s.matches({{"app", "api"}}));
  EXPECT_FALSE(s.matches({{"app", "api"}, {"tier", "db"}}));
}

TEST(LabelSelector, FollowsKubernetesOperatorSemantics) {
  LabelSelector in{{}, {{"env", "In", {"prod", "staging"}}}};
  EXPECT_TRUE(in.matches({{"env", "prod"}}));
  EXPECT_FALSE(in.matches({{"env", "dev"}}));
  EXPECT_FALSE(in.matches({}));

  LabelSelector not_in{{}, {{"env", "NotIn", {"prod"}}}};
  EXPECT_TRUE(not_in.matches({{"env", "dev"}}));
  EXPECT_TRUE(not_in.matches({}));  // an absent key is "not in"
  EXPECT_FALSE(not_in.matches({{"env", "prod"}}));

  LabelSelector exists{{}, {{"env", "Exists", {}}}};
  EXPECT_TRUE(exists.matches({{"env", ""}}));
  EXPECT_FALSE(exists.matches({{"other", "x"}}));

  LabelSelector absent{{}, {{"env", "DoesNotExist", {}}}};
  EXPECT_TRUE(absent.matches({{"other", "x"}}));
  EXPECT_FALSE(absent.matches({{"env", "prod"}}));
}

TEST(LabelSelector, CombinesMatchLabelsAndExpressionsWithAnd) {
  LabelSelector s{{{"app", "api"}}, {{"env", "In", {"prod"}}, {"canary", "DoesNotExist", {}}}};
  EXPECT_TRUE(s.matches({{"app", "api"}, {"env", "prod"}}));
  EXPECT_FALSE(s.matches({{"app", "api"}, {"env", "prod"}, {"canary", "true"}}));
  EXPECT_FALSE(s.matches({{"app", "web"}, {"env", "prod"}}));
}

// ---- Deployments -----------------------------------------------------------------------------

// A Deployment as the API server returns it, with managedFields of three managers:
// kubectl-client-side-apply created it, kubectl-edit then changed LOG_LEVEL (taking its value),
// tracing-operator applied two OTEL_* entries (sharing OTEL_SERVICE_NAME, same value), and the
// controller manager wrote status.
json full_deployment() {
  return json::parse(R"json({
  "apiVersion": "apps/v1",
  "kind": "Deployment",
  "metadata": {
    "name": "task-api",
    "namespace": "shop",
    "uid": "5f0c2f6e-8c1a-4a39-9d7e-1b2c3d4e5f60",
    "resourceVersion": "48213",
    "generation": 4,
    "creationTimestamp": "2026-11-20T09:00:00Z",
    "labels": {"app": "task-api", "app.kubernetes.io/name": "task-api"},
    "annotations": {
      "deployment.kubernetes.io/revision": "3",
      "kubectl.kubernetes.io/last-applied-configuration": "{\"apiVersion\":\"apps/v1\"}"
    },
    "managedFields": [
      {
        "manager": "kubectl-client-side-apply",
        "operation": "Update",
        "apiVersion": "apps/v1",
        "time": "2026-11-20T09:00:00Z",
        "fieldsType": "FieldsV1",
        "fieldsV1": {
          "f:metadata": {
            "f:annotations": {".": {}, "f:kubectl.kubernetes.io/last-applied-configuration": {}},
            "f:labels": {".": {}, "f:app": {}, "f:app.kubernetes.io/name": {}}
          },
          "f:spec": {
            "f:progressDeadlineSeconds": {},
            "f:replicas": {},
            "f:revisionHistoryLimit": {},
            "f:selector": {},
            "f:strategy": {"f:rollingUpdate": {".": {}, "f:maxSurge": {}, "f:maxUnavailable": {}}, "f:type": {}},
            "f:template": {
              "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
              "f:spec": {
                "f:containers": {
                  "k:{\"name\":\"api\"}": {
                    ".": {},
                    "f:env": {
                      ".": {},
                      "k:{\"name\":\"LOG_LEVEL\"}": {".": {}, "f:name": {}},
                      "k:{\"name\":\"OTEL_SERVICE_NAME\"}": {".": {}, "f:name": {}, "f:value": {}},
                      "k:{\"name\":\"DB_PASSWORD\"}": {".": {}, "f:name": {}, "f:valueFrom": {".": {}, "f:secretKeyRef": {}}}
                    },
                    "f:image": {},
                    "f:imagePullPolicy": {},
                    "f:name": {},
                    "f:ports": {".": {}, "k:{\"containerPort\":8000,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}, "f:protocol": {}}}
                  },
                  "k:{\"name\":\"daprd\"}": {
                    ".": {},
                    "f:env": {".": {}, "k:{\"name\":\"DAPR_HTTP_PORT\"}": {".": {}, "f:name": {}, "f:value": {}}},
                    "f:image": {},
                    "f:name": {}
                  }
                },
                "f:dnsPolicy": {},
                "f:restartPolicy": {}
              }
            }
          }
        }
      },
      {
        "manager": "kubectl-edit",
        "operation": "Update",
        "apiVersion": "apps/v1",
        "time": "2026-11-22T14:30:00Z",
        "fieldsType": "FieldsV1",
        "fieldsV1": {
          "f:spec": {"f:template": {"f:spec": {"f:containers": {
            "k:{\"name\":\"api\"}": {"f:env": {"k:{\"name\":\"LOG_LEVEL\"}": {"f:value": {}}}}
          }}}}
        }
      },
      {
        "manager": "tracing-operator",
        "operation": "Apply",
        "apiVersion": "apps/v1",
        "time": "2026-11-25T08:00:00Z",
        "fieldsType": "FieldsV1",
        "fieldsV1": {
          "f:spec": {"f:template": {"f:spec": {"f:containers": {
            "k:{\"name\":\"api\"}": {
              ".": {},
              "f:env": {
                "k:{\"name\":\"OTEL_EXPORTER_OTLP_ENDPOINT\"}": {".": {}, "f:name": {}, "f:value": {}},
                "k:{\"name\":\"OTEL_SERVICE_NAME\"}": {".": {}, "f:name": {}, "f:value": {}}
              },
              "f:name": {}
            }
          }}}}
        }
      },
      {
        "manager": "kube-controller-manager",
        "operation": "Update",
        "apiVersion": "apps/v1",
        "time": "2026-11-25T08:01:00Z",
        "fieldsType": "FieldsV1",
        "fieldsV1": {
          "f:metadata": {"f:annotations": {"f:deployment.kubernetes.io/revision": {}}},
          "f:status": {"f:availableReplicas": {}, "f:conditions": {}, "f:observedGeneration": {}}
        },
        "subresource": "status"
      }
    ]
  },
  "spec": {
    "replicas": 2,
    "selector": {"matchLabels": {"app": "task-api"}},
    "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
    "revisionHistoryLimit": 10,
    "progressDeadlineSeconds": 600,
    "template": {
      "metadata": {
        "labels": {"app": "task-api"},
        "annotations": {"dapr.io/enabled": "true", "dapr.io/app-id": "task-api"}
      },
      "spec": {
        "containers": [
          {
            "name": "api",
            "image": "ghcr.io/example/task-api:1.4.2",
            "imagePullPolicy": "IfNotPresent",
            "ports": [{"containerPort": 8000, "protocol": "TCP"}],
            "env": [
              {"name": "LOG_LEVEL", "value": "debug"},
              {"name": "OTEL_SERVICE_NAME", "value": "task-api"},
              {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
              {"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": "http://jaeger-collector.observability.svc:4317"}
            ],
            "resources": {},
            "terminationMessagePath": "/dev/termination-log"
          },
          {
            "name": "daprd",
            "image": "daprio/daprd:1.14.4",
            "env": [{"name": "DAPR_HTTP_PORT", "value": "3500"}]
          }
        ],
        "dnsPolicy": "ClusterFirst",
        "restartPolicy": "Always"
      }
    }
  },
  "status": {
    "observedGeneration": 4,
    "replicas": 2,
    "updatedReplicas": 2,
    "readyReplicas": 2,
    "availableReplicas": 2,
    "conditions": [
      {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
      {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}
    ]
  }
})json");
}

TEST(ProjectDeployment, KeepsOnlyWhatTheOperatorReads) {
  json projected = project_deployment(full_deployment());
  json expected = json::parse(R"json({
  "apiVersion": "apps/v1",
  "kind": "Deployment",
  "metadata": {
    "name": "task-api",
    "namespace": "shop",
    "uid": "5f0c2f6e-8c1a-4a39-9d7e-1b2c3d4e5f60",
    "resourceVersion": "48213",
    "generation": 4,
    "labels": {"app": "task-api", "app.kubernetes.io/name": "task-api"},
    "annotations": {
      "deployment.kubernetes.io/revision": "3",
      "kubectl.kubernetes.io/last-applied-configuration": "{\"apiVersion\":\"apps/v1\"}"
    }
  },
  "spec": {
    "replicas": 2,
    "template": {
      "metadata": {
        "labels": {"app": "task-api"},
        "annotations": {"dapr.io/enabled": "true", "dapr.io/app-id": "task-api"}
      },
      "spec": {
        "containers": [
          {
            "name": "api",
            "env": [
              {"name": "LOG_LEVEL", "value": "debug"},
              {"name": "OTEL_SERVICE_NAME", "value": "task-api"},
              {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
              {"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": "http://jaeger-collector.observability.svc:4317"}
            ]
          },
          {"name": "daprd", "env": [{"name": "DAPR_HTTP_PORT", "value": "3500"}]}
        ]
      }
    }
  },
  "status": {
    "observedGeneration": 4,
    "replicas": 2,
    "updatedReplicas": 2,
    "readyReplicas": 2,
    "availableReplicas": 2,
    "conditions": [
      {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
      {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}
    ]
  },
  "tracingEnvOwners": {
    "api": {
      "DB_PASSWORD": ["kubectl-client-side-apply"],
      "LOG_LEVEL": ["kubectl-edit"],
      "OTEL_EXPORTER_OTLP_ENDPOINT": ["tracing-operator"],
      "OTEL_SERVICE_NAME": ["kubectl-client-side-apply", "tracing-operator"]
    },
    "daprd": {"DAPR_HTTP_PORT": ["kubectl-client-side-apply"]}
  }
})json");
  EXPECT_EQ(projected, expected) << projected.dump(2);
}

TEST(ProjectDeployment, IsIdempotent) {
  json once = project_deployment(full_deployment());
  json twice = project_deployment(json(once));
  EXPECT_EQ(twice, once);
}

TEST(ProjectDeployment, RecordsNoOwnersWithoutManagedFields) {
  json d = full_deployment();
  d["metadata"].erase("managedFields");
  json projected = project_deployment(std::move(d));
  EXPECT_EQ(projected["tracingEnvOwners"], json::object());
}

TEST(ProjectDeployment, SurvivesMalformedInput) {
  EXPECT_EQ(project_deployment(json("x")), json::object());
  json odd = {
      {"metadata", {{"name", "a"}, {"managedFields", {{{"manager", "m"}, {"fieldsV1", 3}}}}}},
      {"spec", {{"template", {{"spec", {{"containers", {1, "x", {{"name", "c"}}}}}}}}}}};
  json projected = project_deployment(std::move(odd));
  EXPECT_EQ(projected["metadata"]["name"], "a");
  EXPECT_EQ(projected["tracingEnvOwners"], json::object());
}

TEST(WorkloadFromDeployment, ReadsAFullDeployment) {
  Workload w = workload_from_deployment(full_deployment());
  EXPECT_EQ(w.key(), "shop/task-api");
  EXPECT_EQ(w.uid, "5f0c2f6e-8c1a-4a39-9d7e-1b2c3d4e5f60");
  EXPECT_EQ(w.labels, (Labels{{"app", "task-api"}, {"app.kubernetes.io/name", "task-api"}}));
  EXPECT_EQ(w.annotations.at("deployment.kubernetes.io/revision"), "3");
  EXPECT_EQ(w.template_labels, (Labels{{"app", "task-api"}}));
  ASSERT_EQ(w.containers.size(), 2u);
  EXPECT_EQ(w.containers[0].name, "api");
  ASSERT_EQ(w.containers[0].env.size(), 4u);
  EXPECT_EQ(w.containers[0].env[0].name, "LOG_LEVEL");
  EXPECT_EQ(w.containers[0].env[0].entry, (json{{"name", "LOG_LEVEL"}, {"value", "debug"}}));
  EXPECT_EQ(w.containers[0].env[2].name, "DB_PASSWORD");
  EXPECT_TRUE(w.containers[0].env[2].entry.contains("valueFrom"));
  EXPECT_EQ(w.containers[1].name, "daprd");
  EXPECT_EQ(w.env_owners.at("api").at("LOG_LEVEL"), (std::set<std::string>{"kubectl-edit"}));
  EXPECT_EQ(w.env_owners.at("api").at("OTEL_SERVICE_NAME"),
            (std::set<std::string>{"kubectl-client-side-apply", "tracing-operator"}));
  EXPECT_EQ(w.env_owners.at("api").at("DB_PASSWORD"),
            (std::set<std::string>{"kubectl-client-side-apply"}));
}

TEST(WorkloadFromDeployment, ReadsAProjectionExactlyLikeTheFullObject) {
  Workload full = workload_from_deployment(full_deployment());
  Workload projected = workload_from_deployment(project_deployment(full_deployment()));
  EXPECT_EQ(projected.ns, full.ns);
  EXPECT_EQ(projected.name, full.name);
  EXPECT_EQ(projected.uid, full.uid);
  EXPECT_EQ(projected.labels, full.labels);
  EXPECT_EQ(projected.annotations, full.annotations);
  EXPECT_EQ(projected.template_labels, full.template_labels);
  ASSERT_EQ(projected.containers.size(), full.containers.size());
  for (size_t i = 0; i < full.containers.size(); ++i) {
    EXPECT_EQ(projected.containers[i].name, full.containers[i].name);
    EXPECT_EQ(projected.containers[i].env, full.containers[i].env);
  }
  EXPECT_EQ(projected.env_owners, full.env_owners);
}

TEST(WorkloadFromDeployment, ToleratesMalformedObjects) {
  for (const json& bad :
       {json(nullptr), json(3), json::object(),
        json{{"metadata", {{"name", 5}, {"labels", {{"a", 1}, {"b", "x"}}}}},
             {"spec", {{"template", {{"spec", {{"containers", {"x", {{"env", 1}}}}}}}}}}}}) {
    Workload w = workload_from_deployment(bad);
    EXPECT_EQ(w.name, "");
    EXPECT_TRUE(w.containers.empty());
  }
  Workload w = workload_from_deployment(
      json{{"metadata", {{"name", "a"}, {"labels", {{"a", 1}, {"b", "x"}}}}}});
  EXPECT_EQ(w.labels, (Labels{{"b", "x"}}));
}

}  // namespace
}  // namespace tracing::controllers

namespace tracing::controllers {
namespace {

// A Deployment carrying the operator's bookkeeping annotations, with managedFields saying who
// owns each of them.
json with_bookkeeping(const std::map<std::string, std::string>& owner_of) {
  json d = {{"metadata",
             {{"name", "web"},
              {"namespace", "shop"},
              {"annotations",
               {{"tracing.rollout.dev/policies", "shop/p"},
                {"tracing.rollout.dev/overridden-env", "{}"},
                {"tracing.rollout.dev/original-env-order", "{}"},
                {"team", "payments"}}},
              {"managedFields", json::array()}}}};
  std::map<std::string, json> fields;  // manager → its f:metadata.f:annotations
  for (const auto& [key, manager] : owner_of) fields[manager]["f:" + key] = json::object();
  for (const auto& [manager, annotations] : fields) {
    d["metadata"]["managedFields"].push_back(
        {{"manager", manager},
         {"operation", manager == "tracing-operator" ? "Apply" : "Update"},
         {"fieldsType", "FieldsV1"},
         {"fieldsV1", {{"f:metadata", {{"f:annotations", annotations}}}}}});
  }
  return d;
}

TEST(WorkloadFromDeployment, KeepsBookkeepingAnnotationsOnlyWhileTheOperatorOwnsThem) {
  Workload w = workload_from_deployment(with_bookkeeping({
      {"tracing.rollout.dev/policies", "tracing-operator"},
      {"tracing.rollout.dev/overridden-env", "kubectl-edit"},  // edited since: taken over
      // original-env-order: nobody (written by an update with its managedFields cleared)
  }));
  EXPECT_EQ(w.annotations,
            (Labels{{"tracing.rollout.dev/policies", "shop/p"}, {"team", "payments"}}));
  ASSERT_EQ(w.untrusted.size(), 2u);
  EXPECT_EQ(w.untrusted[0].key, "tracing.rollout.dev/overridden-env");
  EXPECT_EQ(w.untrusted[0].managers, std::vector<std::string>{"kubectl-edit"});
  EXPECT_EQ(w.untrusted[1].key, "tracing.rollout.dev/original-env-order");
  EXPECT_TRUE(w.untrusted[1].managers.empty());

  // Co-owned (someone applied the same value, e.g. a GitOps export): still the operator's.
  json shared = with_bookkeeping({{"tracing.rollout.dev/policies", "argocd-controller"},
                                  {"tracing.rollout.dev/overridden-env", "tracing-operator"},
                                  {"tracing.rollout.dev/original-env-order", "tracing-operator"}});
  shared["metadata"]["managedFields"][1]["fieldsV1"]["f:metadata"]["f:annotations"]
        ["f:tracing.rollout.dev/policies"] = json::object();
  Workload co = workload_from_deployment(shared);
  EXPECT_EQ(co.annotations.count("tracing.rollout.dev/policies"), 1u);
  EXPECT_TRUE(co.untrusted.empty());

  // An update under the operator's manager name (any client can pick one) is no proof.
  json borrowed = with_bookkeeping({{"tracing.rollout.dev/policies", "tracing-operator"}});
  borrowed["metadata"]["managedFields"][0]["operation"] = "Update";
  Workload b = workload_from_deployment(borrowed);
  EXPECT_EQ(b.annotations.count("tracing.rollout.dev/policies"), 0u);
  ASSERT_EQ(b.untrusted.size(), 3u);
  EXPECT_EQ(b.untrusted[0].managers, std::vector<std::string>{"tracing-operator (Update)"});
}

TEST(WorkloadFromDeployment, AProjectionKeepsWhoOwnsTheBookkeeping) {
  json full = with_bookkeeping({{"tracing.rollout.dev/policies", "kubectl-edit"},
                                {"tracing.rollout.dev/overridden-env", "tracing-operator"},
                                {"tracing.rollout.dev/original-env-order", "tracing-operator"}});
  Workload projected = workload_from_deployment(project_deployment(json(full)));
  EXPECT_EQ(projected.annotations.count("tracing.rollout.dev/policies"), 0u);
  EXPECT_EQ(projected.annotations.count("tracing.rollout.dev/overridden-env"), 1u);
  ASSERT_EQ(projected.untrusted.size(), 1u);
  EXPECT_EQ(projected.untrusted[0].managers, std::vector<std::string>{"kubectl-edit"});
  // Only the operator's own keys are kept in the projection's owners.
  EXPECT_EQ(projected.env_owners.at(kAnnotationOwners).size(), 3u);
}

}  // namespace
}  // namespace tracing::controllers
