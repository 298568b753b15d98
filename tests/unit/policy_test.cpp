#include "controllers/api/policy.h"

#include <gtest/gtest.h>

#include <string>

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

TEST(ParsePolicy, ReadsDebugOperationsInTheirOrderAndTheyIdentifyTheBump) {
  ParseResult r = parse_policy(policy_object(
      {{"debug", {{"duration", "15m"}, {"operations", {"POST /tasks", "GET /tasks"}}}}}));
  ASSERT_TRUE(r.policy.has_value()) << r.error;
  EXPECT_EQ(r.policy->spec.debug->operations,
            (std::vector<std::string>{"POST /tasks", "GET /tasks"}));
  ParseResult service_wide = parse_policy(policy_object({{"debug", {{"duration", "15m"}}}}));
  ASSERT_TRUE(service_wide.policy.has_value()) << service_wide.error;
  EXPECT_TRUE(service_wide.policy->spec.debug->operations.empty());
  EXPECT_NE(r.policy->spec.debug->hash, service_wide.policy->spec.debug->hash)
      << "naming operations starts a new bump";
}

TEST(ParsePolicy, RefusesDebugOperationsOutsideTheirBounds) {
  EXPECT_NE(parse_error({{"debug", {{"duration", "15m"}, {"operations", json::array()}}}})
                .find("spec.debug.operations: must name at least one operation"),
            std::string::npos);
  json seventeen = json::array();
  for (int i = 0; i < 17; ++i) seventeen.push_back("op" + std::to_string(i));
  EXPECT_NE(parse_error({{"debug", {{"duration", "15m"}, {"operations", seventeen}}}})
                .find("spec.debug.operations: must name at most 16 operations, not 17"),
            std::string::npos);
  EXPECT_NE(parse_error({{"debug", {{"duration", "15m"}, {"operations", {"GET /", ""}}}}})
                .find("spec.debug.operations[1]: must not be empty"),
            std::string::npos);
  EXPECT_NE(parse_error({{"debug", {{"duration", "15m"}, {"operations", {"a", "b", "a"}}}}})
                .find("spec.debug.operations[2]: \"a\" is listed twice"),
            std::string::npos);
  EXPECT_NE(parse_error({{"debug", {{"duration", "15m"}, {"operations", {"GET /", 7}}}}})
                .find("spec.debug.operations[1]: must be a string"),
            std::string::npos);
  // 256 characters is the limit, counted in characters (as the schema counts), not bytes.
  std::string longest;
  for (int i = 0; i < 256; ++i) longest += "\u00e9";  // é: 2 bytes in UTF-8
  EXPECT_TRUE(
      parse_policy(policy_object({{"debug", {{"duration", "15m"}, {"operations", {longest}}}}}))
          .policy.has_value());
  EXPECT_NE(parse_error({{"debug", {{"duration", "15m"}, {"operations", {longest + "x"}}}}})
                .find("spec.debug.operations[0]: must be at most 256 characters"),
            std::string::npos);
}

TEST(DebugScope, NamesTheFirstOperationAndCountsTheRestCuttingAtACharacter) {
  EXPECT_EQ(debug_scope({}), "service");
  EXPECT_EQ(debug_scope({"POST /tasks"}), "POST /tasks");
  EXPECT_EQ(debug_scope({"POST /tasks", "GET /tasks", "GET /"}), "POST /tasks (+2)");
  const std::string forty(40, 'a');
  EXPECT_EQ(debug_scope({forty}), forty) << "40 bytes fit";
  EXPECT_EQ(debug_scope({forty + "b", "x"}), std::string(37, 'a') + "... (+1)");
  // 36 ASCII bytes, then é (2 bytes) at bytes 36-37: the cut at 37 would split it.
  EXPECT_EQ(debug_scope({std::string(36, 'a') + "\u00e9" + std::string(10, 'z')}),
            std::string(36, 'a') + "...");
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

TEST(ParsePolicy, ReadsKindsAndRefusesAnUnknownOneNamingTheField) {
  ParseResult r = parse_policy(policy_object(json::object()));
  ASSERT_TRUE(r.policy.has_value()) << r.error;
  EXPECT_EQ(r.policy->spec.kinds,
            (std::vector<WorkloadKind>{WorkloadKind::kDeployment, WorkloadKind::kStatefulSet,
                                       WorkloadKind::kDaemonSet}));
  r = parse_policy(policy_object({{"kinds", {"DaemonSet", "StatefulSet", "DaemonSet"}}}));
  ASSERT_TRUE(r.policy.has_value()) << r.error;
  EXPECT_EQ(r.policy->spec.kinds,
            (std::vector<WorkloadKind>{WorkloadKind::kDaemonSet, WorkloadKind::kStatefulSet}));
  EXPECT_NE(parse_error({{"kinds", {"Deployment", "CronJob"}}}).find("spec.kinds[1]"),
            std::string::npos);
  EXPECT_NE(parse_error({{"kinds", json::array()}}).find("spec.kinds"), std::string::npos);
  EXPECT_NE(parse_error({{"kinds", "Deployment"}}).find("spec.kinds"), std::string::npos);
}

}  // namespace
}  // namespace tracing::controllers
