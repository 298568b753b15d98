#include "controllers/decision.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "controllers/naming.h"
#include "tests/integration/kubelet_env.h"

namespace tracing::controllers {
namespace {

using namespace std::chrono_literals;
using std::chrono::sys_days;

const std::string kRoot = "tracing-system";
const WallTime kNow = sys_days{2026y / 11 / 26} + 12h;  // 2026-11-26T12:00:00Z

Policy make_policy(const std::string& ns, const std::string& name, json spec) {
  ParseResult r = parse_policy(
      json{{"metadata", {{"name", name}, {"namespace", ns}}}, {"spec", std::move(spec)}});
  EXPECT_TRUE(r.policy.has_value()) << r.error;
  return r.policy.value_or(Policy{});
}

Workload task_api() {
  Workload w;
  w.ns = "shop";
  w.name = "task-api";
  w.uid = "u-1";
  w.labels = {{"app", "task-api"}};
  w.containers = {{"api", {}}, {"daprd", {}}};
  return w;
}

std::vector<const Policy*> pointers(const std::vector<Policy>& ps) {
  std::vector<const Policy*> out;
  for (const Policy& p : ps) out.push_back(&p);
  return out;
}

std::vector<std::string> keys(const std::vector<Candidate>& cs) {
  std::vector<std::string> out;
  for (const Candidate& c : cs) out.push_back(c.policy->key());
  return out;
}

EffectiveConfig config_for(const std::vector<Policy>& ps, WallTime now = kNow,
                           const Workload& w = task_api(), const Labels& ns_labels = {}) {
  auto cs = candidates(w, ns_labels, pointers(ps), kRoot);
  auto c = effective_config(cs, now);
  EXPECT_TRUE(c.has_value());
  return c.value_or(EffectiveConfig{});
}

EnvVar entry(const std::string& name, const std::string& value) {
  return {name, json{{"name", name}, {"value", value}}};
}

using Pairs = std::vector<std::pair<std::string, std::string>>;

// name=value of each entry, checking that each entry is exactly {"name","value"}.
Pairs pairs(const std::vector<EnvVar>& env) {
  Pairs out;
  for (const EnvVar& e : env) {
    EXPECT_EQ(e.entry.size(), 2u) << e.entry.dump();
    EXPECT_EQ(e.entry.value("name", ""), e.name);
    out.emplace_back(e.name, e.entry.value("value", "<none>"));
  }
  return out;
}

std::string value_of(const std::vector<EnvVar>& env, const std::string& name) {
  for (const EnvVar& e : env) {
    if (e.name == name) return e.entry.value("value", "<none>");
  }
  return "<absent>";
}

bool has(const std::vector<EnvVar>& env, const std::string& name) {
  return value_of(env, name) != "<absent>";
}

// ---- candidates ------------------------------------------------------------------------------

TEST(Candidates, OrdersBySpecificityNamespaceSelectorFirstRootWithoutLast) {
  std::vector<Policy> ps = {
      make_policy(kRoot, "a-root", json::object()),
      make_policy(kRoot, "b-root-sel", {{"selector", {{"matchLabels", {{"app", "task-api"}}}}}}),
      make_policy("shop", "c-ns", json::object()),
      make_policy("shop", "d-ns-sel", {{"selector", {{"matchLabels", {{"app", "task-api"}}}}}}),
  };
  // Priority never lifts a policy over a more specific rank.
  ps[0].spec.priority = 100;
  auto cs = candidates(task_api(), {}, pointers(ps), kRoot);
  EXPECT_EQ(keys(cs),
            (std::vector<std::string>{"shop/d-ns-sel", "shop/c-ns", "tracing-system/b-root-sel",
                                      "tracing-system/a-root"}));
  ASSERT_EQ(cs.size(), 4u);
  EXPECT_EQ(cs[0].rank, Rank::kNamespaceWithSelector);
  EXPECT_EQ(cs[1].rank, Rank::kNamespaceWithoutSelector);
  EXPECT_EQ(cs[2].rank, Rank::kRootWithSelector);
  EXPECT_EQ(cs[3].rank, Rank::kRootWithoutSelector);
  EXPECT_EQ(config_for(ps).governing, "shop/d-ns-sel");
}

TEST(FieldSources, NameTheCandidateEachGroupComesFromAndEmptyForTheDefaults) {
  std::vector<Policy> ps = {
      make_policy(kRoot, "root",
                  {{"exporter", {{"endpoint", "http://c:4317"}}},
                   {"sampling", {{"ratio", "0.1"}}},
                   {"resourceAttributes", {{"team", "a"}}}}),
      make_policy("shop", "ns",
                  {{"sampling", {{"ratio", "0.5"}}}, {"resourceAttributes", {{"tier", "b"}}}}),
  };
  auto cs = candidates(task_api(), {}, pointers(ps), kRoot);
  std::map<std::string, std::string> got;
  for (const auto& [group, from] : field_sources(cs)) got[group] = from;
  EXPECT_EQ(got, (std::map<std::string, std::string>{
                     {"containers", ""},
                     {"serviceName", ""},
                     {"exporter", "tracing-system/root"},
                     {"sampling", "shop/ns"},
                     {"propagators", ""},
                     {"resourceAttributes", "shop/ns,tracing-system/root"},
                     {"override", ""},
                     {"dapr", ""},
                     {"jaeger", ""},
                     {"rollout", ""},
                 }));
  EXPECT_EQ(config_for(ps).sampling_policy, got["sampling"]) << "effective_config agrees";
}

TEST(GovernedCandidates, ARootPolicysJaegerNamespaceIsTheOneItsWorkloadsReportTo) {
  std::vector<Policy> ps = {make_policy(
      kRoot, "root", {{"jaeger", {{"mode", "managed"}, {"namespace", "observability"}}}})};
  auto cs = governed_candidates(ps[0], {}, pointers(ps), kRoot);
  EXPECT_EQ(keys(cs), (std::vector<std::string>{"tracing-system/root"}));
  auto c = effective_config(cs, kNow);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->endpoint, "http://jaeger-collector.observability.svc:4317");
  // What a workload it governs receives, by the workload path.
  EXPECT_EQ(config_for(ps).endpoint, "http://jaeger-collector.observability.svc:4317");
}

TEST(GovernedCandidates, ANamespacePolicySettingOnlyPropagatorsTakesTheRestFromTheRoot) {
  std::vector<Policy> ps = {
      make_policy(kRoot, "root",
                  {{"sampling", {{"sampler", "parentbased_traceidratio"}, {"ratio", "0.25"}}}}),
      make_policy("shop", "props", {{"propagators", {"b3"}}}),
  };
  auto cs = governed_candidates(ps[1], {}, pointers(ps), kRoot);
  EXPECT_EQ(keys(cs), (std::vector<std::string>{"shop/props", "tracing-system/root"}));
  auto c = effective_config(cs, kNow);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->effective_ratio(), "0.25");
  EXPECT_EQ(c->sampling_policy, "tracing-system/root");
  EXPECT_EQ(c->endpoint, "http://jaeger-collector.tracing-system.svc:4317");
  EXPECT_EQ(*c, config_for(ps)) << "the same as a workload in shop gets";
}

TEST(GovernedCandidates, LeavesOutMoreSpecificPoliciesAndKeepsThoseThatFillIn) {
  std::vector<Policy> ps = {
      make_policy("shop", "all", {{"sampling", {{"ratio", "0.5"}}}}),
      make_policy("shop", "api", {{"selector", {{"matchLabels", {{"app", "task-api"}}}}}}),
      make_policy("shop", "api-and-tier",
                  {{"selector", {{"matchLabels", {{"app", "task-api"}}}}}, {"priority", 5}}),
  };
  // "api-and-tier" outranks "api" on the same workloads: a workload "api" governs has not it.
  auto cs = governed_candidates(ps[1], {}, pointers(ps), kRoot);
  EXPECT_EQ(keys(cs), (std::vector<std::string>{"shop/api", "shop/all"}));
  EXPECT_EQ(effective_config(cs, kNow)->effective_ratio(), "0.5");
}

TEST(GovernedCandidates, ARootPolicysNamespaceSelectorDecidesWhichOtherRootsFillIn) {
  std::vector<Policy> ps = {
      make_policy(kRoot, "prod",
                  {{"namespaceSelector", {{"matchLabels", {{"tier", "prod"}}}}},
                   {"selector", {{"matchLabels", {{"app", "web"}}}}}}),
      make_policy(kRoot, "dev-default",
                  {{"namespaceSelector", {{"matchLabels", {{"tier", "dev"}}}}},
                   {"sampling", {{"ratio", "1"}}}}),
      make_policy(kRoot, "default", {{"sampling", {{"ratio", "0.05"}}}}),
  };
  auto cs = governed_candidates(ps[0], {{"tier", "prod"}}, pointers(ps), kRoot);
  EXPECT_EQ(keys(cs), (std::vector<std::string>{"tracing-system/prod", "tracing-system/default"}));
  EXPECT_EQ(effective_config(cs, kNow)->effective_ratio(), "0.05");
}

TEST(Candidates, BreaksTiesByHigherPriorityThenSmallerName) {
  std::vector<Policy> ps = {
      make_policy("shop", "alpha", json::object()),
      make_policy("shop", "gamma", {{"priority", 10}}),
      make_policy("shop", "beta", {{"priority", 10}}),
      make_policy("shop", "delta", {{"priority", -1}}),
  };
  auto cs = candidates(task_api(), {}, pointers(ps), kRoot);
  EXPECT_EQ(keys(cs),
            (std::vector<std::string>{"shop/beta", "shop/gamma", "shop/alpha", "shop/delta"}));
}

TEST(Candidates, RootPolicyNeedsItsNamespaceSelectorToMatchTheNamespace) {
  std::vector<Policy> ps = {
      make_policy(kRoot, "prod-only",
                  {{"namespaceSelector", {{"matchLabels", {{"tier", "prod"}}}}}}),
      make_policy(kRoot, "everywhere", json::object()),
  };
  auto prod = candidates(task_api(), {{"tier", "prod"}}, pointers(ps), kRoot);
  EXPECT_EQ(keys(prod),
            (std::vector<std::string>{"tracing-system/everywhere", "tracing-system/prod-only"}));
  auto dev = candidates(task_api(), {{"tier", "dev"}}, pointers(ps), kRoot);
  EXPECT_EQ(keys(dev), (std::vector<std::string>{"tracing-system/everywhere"}));
}

TEST(Candidates, IgnoresNamespaceSelectorOutsideTheRootNamespace) {
  std::vector<Policy> ps = {
      make_policy("shop", "local", {{"namespaceSelector", {{"matchLabels", {{"tier", "prod"}}}}}}),
  };
  auto cs = candidates(task_api(), {{"tier", "dev"}}, pointers(ps), kRoot);
  EXPECT_EQ(keys(cs), (std::vector<std::string>{"shop/local"}));
}

TEST(Candidates, ExcludesDeletingPolicies) {
  std::vector<Policy> ps = {make_policy("shop", "going", json::object()),
                            make_policy(kRoot, "staying", json::object())};
  ps[0].deleting = true;
  auto cs = candidates(task_api(), {}, pointers(ps), kRoot);
  EXPECT_EQ(keys(cs), (std::vector<std::string>{"tracing-system/staying"}));
}

TEST(Candidates, ExcludesPoliciesOfOtherNamespaces) {
  std::vector<Policy> ps = {make_policy("billing", "other", json::object())};
  EXPECT_TRUE(candidates(task_api(), {}, pointers(ps), kRoot).empty());
  EXPECT_EQ(effective_config({}, kNow), std::nullopt);
}

TEST(Candidates, MatchesSelectorsAgainstDeploymentLabels) {
  std::vector<Policy> ps = {
      make_policy("shop", "web", {{"selector", {{"matchLabels", {{"app", "web"}}}}}}),
      make_policy(kRoot, "web-root", {{"selector", {{"matchLabels", {{"app", "web"}}}}}}),
      make_policy("shop", "by-expr",
                  {{"selector",
                    {{"matchExpressions",
                      {{{"key", "app"}, {"operator", "In"}, {"values", {"task-api", "x"}}}}}}}}),
  };
  Workload w = task_api();
  w.template_labels = {{"app", "web"}};  // template labels are not what selectors match
  EXPECT_EQ(keys(candidates(w, {}, pointers(ps), kRoot)),
            (std::vector<std::string>{"shop/by-expr"}));
}

TEST(Candidates, RanksAnEmptySelectorLikeNoSelector) {
  std::vector<Policy> ps = {make_policy("shop", "a-empty", {{"selector", json::object()}}),
                            make_policy("shop", "b-none", json::object())};
  auto cs = candidates(task_api(), {}, pointers(ps), kRoot);
  ASSERT_EQ(cs.size(), 2u);
  EXPECT_EQ(cs[0].rank, Rank::kNamespaceWithoutSelector);
  EXPECT_EQ(keys(cs), (std::vector<std::string>{"shop/a-empty", "shop/b-none"}));
}

// ---- effective_config: merge -----------------------------------------------------------------

TEST(EffectiveConfig, UsesDefaultsWhenNoCandidateSetsAGroup) {
  EffectiveConfig c = config_for({make_policy("shop", "bare", json::object())});
  EXPECT_EQ(c.governing, "shop/bare");
  EXPECT_EQ(c.policies, (std::vector<std::string>{"shop/bare"}));
  EXPECT_EQ(c.containers, std::nullopt);
  EXPECT_EQ(c.service_name_from_label, std::nullopt);
  EXPECT_EQ(c.endpoint, "http://jaeger-collector.shop.svc:4317");
  EXPECT_EQ(c.jaeger_namespace, "shop");
  EXPECT_EQ(c.protocol, "grpc");
  EXPECT_FALSE(c.insecure);
  EXPECT_EQ(c.sampler, "parentbased_traceidratio");
  EXPECT_EQ(c.base_ratio, "1");
  EXPECT_EQ(c.mode, "restart");
  EXPECT_EQ(c.remote_initial_ratio, "0.01");
  EXPECT_EQ(c.propagators, (std::vector<std::string>{"tracecontext", "baggage"}));
  EXPECT_TRUE(c.resource_attributes.empty());
  EXPECT_FALSE(c.override_env);
  EXPECT_EQ(c.debug, std::nullopt);
  EXPECT_EQ(c.next_change, std::nullopt);
  EXPECT_EQ(c.effective_ratio(), "1");
  EXPECT_EQ(c.ratio_source(), "base");
}

TEST(EffectiveConfig, TakesEachGroupFromTheMostSpecificCandidateThatSetsIt) {
  std::vector<Policy> ps = {
      make_policy(kRoot, "defaults",
                  {{"sampling", {{"sampler", "traceidratio"}, {"ratio", "0.1"}}},
                   {"exporter", {{"endpoint", "http://root-collector:4317"}}},
                   {"propagators", {"b3"}},
                   {"containers", {"daprd"}},
                   {"override", true}}),
      make_policy("shop", "team",
                  {{"exporter",
                    {{"endpoint", "http://team-collector:4318"}, {"protocol", "http/protobuf"}}},
                   {"serviceName", {{"fromLabel", "team/service"}}},
                   {"containers", {"api"}}}),
  };
  EffectiveConfig c = config_for(ps);
  EXPECT_EQ(c.governing, "shop/team");
  EXPECT_EQ(c.policies, (std::vector<std::string>{"shop/team", "tracing-system/defaults"}));
  // exporter and containers from the namespace policy...
  EXPECT_EQ(c.endpoint, "http://team-collector:4318");
  EXPECT_EQ(c.protocol, "http/protobuf");
  EXPECT_EQ(c.containers, (std::vector<std::string>{"api"}));
  EXPECT_EQ(c.service_name_from_label, "team/service");
  // ...sampling, propagators and override from the root policy.
  EXPECT_EQ(c.sampler, "traceidratio");
  EXPECT_EQ(c.base_ratio, "0.1");
  EXPECT_EQ(c.propagators, (std::vector<std::string>{"b3"}));
  EXPECT_TRUE(c.override_env);
}

TEST(EffectiveConfig, TakesTheExporterGroupWhole) {
  std::vector<Policy> ps = {
      make_policy(kRoot, "defaults",
                  {{"exporter", {{"endpoint", "http://root-collector:4317"}, {"insecure", true}}},
                   {"jaeger", {{"namespace", "observability"}}}}),
      make_policy("shop", "team", {{"exporter", {{"protocol", "http/json"}}}}),
  };
  EffectiveConfig c = config_for(ps);
  // The team's exporter has no endpoint: the managed Jaeger's, not the root's endpoint.
  EXPECT_EQ(c.endpoint, "http://jaeger-collector.observability.svc:4317");
  EXPECT_EQ(c.protocol, "http/json");
  EXPECT_FALSE(c.insecure);
}

TEST(EffectiveConfig, TakesTheSamplingGroupWhole) {
  std::vector<Policy> ps = {
      make_policy(kRoot, "defaults",
                  {{"sampling", {{"sampler", "traceidratio"}, {"ratio", "0.1"}}}}),
      make_policy("shop", "team", {{"sampling", {{"ratio", "0.5"}}}}),
  };
  EffectiveConfig c = config_for(ps);
  EXPECT_EQ(c.base_ratio, "0.5");
  EXPECT_EQ(c.sampler, "parentbased_traceidratio");
}

TEST(EffectiveConfig, NamesThePolicyThatDecidesTheRatio) {
  std::vector<Policy> ps = {
      make_policy(kRoot, "defaults", {{"sampling", {{"mode", "remote"}, {"ratio", "0.1"}}}}),
      make_policy("shop", "team", {{"sampling", {{"mode", "remote"}, {"ratio", "1"}}}}),
  };
  EffectiveConfig c = config_for(ps);
  EXPECT_EQ(c.sampling_policy, "shop/team");
  EXPECT_EQ(c.ratio_policy(), "shop/team");

  // A bump decides while it is active, whoever sets the sampling group.
  ps.push_back(make_policy(kRoot, "incident",
                           {{"debug", {{"ratio", "0.5"}, {"until", "2026-11-26T12:30:00Z"}}}}));
  c = config_for(ps);
  EXPECT_EQ(c.sampling_policy, "shop/team");
  EXPECT_EQ(c.ratio_policy(), "tracing-system/incident");
  EXPECT_EQ(c.effective_ratio(), "0.5");

  // No candidate sets spec.sampling: nobody decides, the defaults apply.
  EXPECT_EQ(config_for({make_policy("shop", "bare", json::object())}).sampling_policy, "");
}

TEST(RootEffectiveConfig, IsWhatTheRootCandidatesAloneAddUpTo) {
  std::vector<Policy> ps = {
      make_policy(kRoot, "defaults", {{"sampling", {{"mode", "remote"}, {"ratio", "0.1"}}}}),
      make_policy(kRoot, "incident",
                  {{"selector", {{"matchLabels", {{"app", "task-api"}}}}},
                   {"debug", {{"ratio", "0.3"}, {"until", "2026-11-26T12:30:00Z"}}}}),
      make_policy("shop", "team",
                  {{"sampling", {{"mode", "remote"}, {"ratio", "1"}}},
                   {"debug", {{"ratio", "1"}, {"until", "2026-11-26T12:30:00Z"}}}}),
  };
  auto cs = candidates(task_api(), {}, pointers(ps), kRoot);
  auto root = root_effective_config(cs, kNow);
  ASSERT_TRUE(root.has_value());
  EXPECT_EQ(root->governing, "tracing-system/incident");
  EXPECT_EQ(root->policies,
            (std::vector<std::string>{"tracing-system/incident", "tracing-system/defaults"}));
  EXPECT_EQ(root->mode, "remote");
  EXPECT_EQ(root->sampling_policy, "tracing-system/defaults");
  EXPECT_EQ(root->base_ratio, "0.1");
  EXPECT_EQ(root->effective_ratio(), "0.3");  // the root bump; the namespace's is left out

  // Without a root candidate there is nothing.
  std::vector<Policy> tenant_only = {ps[2]};
  EXPECT_FALSE(root_effective_config(candidates(task_api(), {}, pointers(tenant_only), kRoot), kNow)
                   .has_value());
}

TEST(EffectiveConfig, MergesResourceAttributesKeyByKey) {
  std::vector<Policy> ps = {
      make_policy(
          kRoot, "defaults",
          {{"resourceAttributes", {{"deployment.environment", "prod"}, {"team", "platform"}}}}),
      make_policy("shop", "team", {{"resourceAttributes", {{"team", "shop"}}}}),
      make_policy("shop", "task-api",
                  {{"selector", {{"matchLabels", {{"app", "task-api"}}}}},
                   {"resourceAttributes", {{"service.version", "1.4.2"}}}}),
  };
  EffectiveConfig c = config_for(ps);
  EXPECT_EQ(
      c.resource_attributes,
      (std::map<std::string, std::string>{
          {"deployment.environment", "prod"}, {"service.version", "1.4.2"}, {"team", "shop"}}));
}

TEST(EffectiveConfig, PointsAtTheManagedJaegerOfTheJaegerGroup) {
  std::vector<Policy> ps = {
      make_policy(kRoot, "defaults",
                  {{"jaeger", {{"mode", "managed"}, {"namespace", "observability"}}}}),
      make_policy("shop", "team", {{"sampling", {{"ratio", "0.5"}}}}),
  };
  EffectiveConfig c = config_for(ps);
  EXPECT_EQ(c.endpoint, "http://jaeger-collector.observability.svc:4317");
  EXPECT_EQ(c.jaeger_namespace, "observability");

  // A jaeger group without a namespace places it in that policy's own namespace.
  std::vector<Policy> own = {make_policy(kRoot, "defaults", {{"jaeger", {{"mode", "managed"}}}}),
                             make_policy("shop", "team", json::object())};
  EXPECT_EQ(config_for(own).endpoint, "http://jaeger-collector.tracing-system.svc:4317");
  EXPECT_EQ(config_for(own).jaeger_namespace, "tracing-system");
}

TEST(EffectiveConfig, StrategiesServeOnlyRemoteModeWithAManagedJaeger) {
  auto served = [](const json& spec) {
    return config_for({make_policy("shop", "team", spec)}).strategies_served();
  };
  EXPECT_TRUE(served({{"sampling", {{"mode", "remote"}}}}));  // a managed Jaeger by default
  EXPECT_FALSE(served({{"sampling", {{"mode", "restart"}}}}));
  EXPECT_FALSE(
      served({{"exporter", {{"endpoint", "http://collector.obs.svc:4317"}}},
              {"jaeger",
               {{"mode", "external"}, {"samplingEndpoint", "http://jaeger-sampling.obs.svc:5779"}}},
              {"sampling", {{"mode", "remote"}}}}));
}

// ---- effective_config: debug bumps -----------------------------------------------------------

TEST(EffectiveConfigDebug, UntilBumpIsActiveBeforeAndExpiredExactlyAtUntil) {
  std::vector<Policy> ps = {
      make_policy("shop", "team",
                  {{"sampling", {{"ratio", "0.1"}}},
                   {"debug", {{"ratio", "1"}, {"until", "2026-11-26T12:15:00Z"}}}})};
  const WallTime until = kNow + 15min;

  EffectiveConfig active = config_for(ps, kNow);
  ASSERT_TRUE(active.debug.has_value());
  EXPECT_EQ(active.debug->policy, "shop/team");
  EXPECT_EQ(active.debug->ratio, "1");
  EXPECT_EQ(active.debug->expires_at, until);
  EXPECT_EQ(active.next_change, until);
  EXPECT_EQ(active.effective_ratio(), "1");
  EXPECT_EQ(active.ratio_source(), "debug");

  EXPECT_TRUE(config_for(ps, until - 1ns).debug.has_value());

  EffectiveConfig expired = config_for(ps, until);
  EXPECT_EQ(expired.debug, std::nullopt);
  EXPECT_EQ(expired.next_change, std::nullopt);
  EXPECT_EQ(expired.effective_ratio(), "0.1");
  EXPECT_EQ(expired.ratio_source(), "base");
}

TEST(EffectiveConfigDebug, UntilInThePastIsNeverActive) {
  std::vector<Policy> ps = {make_policy(
      "shop", "team", {{"debug", {{"ratio", "1"}, {"until", "2026-11-26T11:00:00Z"}}}})};
  EffectiveConfig c = config_for(ps);
  EXPECT_EQ(c.debug, std::nullopt);
  EXPECT_EQ(c.next_change, std::nullopt);
}

TEST(EffectiveConfigDebug, DurationBumpIsInactiveUntilItsStartIsRecorded) {
  std::vector<Policy> ps = {
      make_policy("shop", "team", {{"debug", {{"ratio", "1"}, {"duration", "15m"}}}})};
  EXPECT_EQ(config_for(ps).debug, std::nullopt);

  // The policy reconciler records the start; from then on the bump runs for 15 minutes.
  ps[0].debug_status = debug_status_for(ps[0], kNow);
  EffectiveConfig c = config_for(ps, kNow + 14min + 59s);
  ASSERT_TRUE(c.debug.has_value());
  EXPECT_EQ(c.debug->expires_at, kNow + 15min);
  EXPECT_EQ(c.next_change, kNow + 15min);
  EXPECT_EQ(config_for(ps, kNow + 15min).debug, std::nullopt);
}

TEST(EffectiveConfigDebug, StatusOfAnotherDebugSpecDoesNotActivateIt) {
  std::vector<Policy> ps = {
      make_policy("shop", "team", {{"debug", {{"ratio", "1"}, {"duration", "15m"}}}})};
  ps[0].debug_status = DebugStatus{"0123456789abcdef", kNow - 1min, kNow + 14min};
  EXPECT_EQ(config_for(ps).debug, std::nullopt);
}

TEST(EffectiveConfigDebug, HighestActiveRatioWinsWhoeverSetsIt) {
  std::vector<Policy> ps = {
      make_policy(kRoot, "root",
                  {{"debug", {{"ratio", "0.75"}, {"until", "2026-11-26T12:30:00Z"}}}}),
      make_policy("shop", "team",
                  {{"debug", {{"ratio", "0.25"}, {"until", "2026-11-26T12:10:00Z"}}}}),
      make_policy("shop", "task-api",
                  {{"selector", {{"matchLabels", {{"app", "task-api"}}}}},
                   {"debug", {{"ratio", "0.5"}, {"until", "2026-11-26T12:20:00Z"}}}}),
      make_policy("shop", "expired",
                  {{"debug", {{"ratio", "1"}, {"until", "2026-11-26T11:59:59Z"}}}}),
  };
  EffectiveConfig c = config_for(ps);
  EXPECT_EQ(c.governing, "shop/task-api");
  ASSERT_TRUE(c.debug.has_value());
  EXPECT_EQ(c.debug->policy, "tracing-system/root");
  EXPECT_EQ(c.debug->ratio, "0.75");
  EXPECT_EQ(c.debug->expires_at, kNow + 30min);
  // The earliest expiry among the active bumps.
  EXPECT_EQ(c.next_change, kNow + 10min);

  // After the root's bump ends, the next highest takes over.
  EffectiveConfig later = config_for(ps, kNow + 30min);
  EXPECT_EQ(later.debug, std::nullopt);
  EffectiveConfig mid = config_for(ps, kNow + 15min);
  ASSERT_TRUE(mid.debug.has_value());
  EXPECT_EQ(mid.debug->ratio, "0.75");
  EXPECT_EQ(mid.next_change, kNow + 20min);
}

TEST(EffectiveConfigDebug, ComparesRatiosNumericallyAndPrefersTheMoreSpecificOnATie) {
  std::vector<Policy> ps = {
      make_policy(kRoot, "root",
                  {{"debug", {{"ratio", "1.0"}, {"until", "2026-11-26T13:00:00Z"}}}}),
      make_policy("shop", "team", {{"debug", {{"ratio", "1"}, {"until", "2026-11-26T12:30:00Z"}}}}),
      make_policy(
          "shop", "low",
          {{"priority", 5}, {"debug", {{"ratio", "0.9"}, {"until", "2026-11-26T13:00:00Z"}}}}),
  };
  EffectiveConfig c = config_for(ps);
  ASSERT_TRUE(c.debug.has_value());
  EXPECT_EQ(c.debug->policy, "shop/team");
  EXPECT_EQ(c.debug->ratio, "1");
}

TEST(EffectiveConfigDebug, AnOperationsBumpRaisesOnlyThoseOperationsNotTheServiceRatio) {
  std::vector<Policy> ps = {make_policy("shop", "team",
                                        {{"sampling", {{"ratio", "0"}, {"mode", "remote"}}},
                                         {"jaeger", {{"mode", "managed"}}},
                                         {"debug",
                                          {{"ratio", "1"},
                                           {"until", "2026-11-26T12:15:00Z"},
                                           {"operations", {"POST /tasks", "GET /tasks/{id}"}}}}})};
  EffectiveConfig c = config_for(ps);
  EXPECT_EQ(c.debug, std::nullopt) << "not a whole-service bump";
  EXPECT_EQ(c.effective_ratio(), "0");
  EXPECT_EQ(c.ratio_source(), "base");
  EXPECT_EQ(c.operation_debug, (std::map<std::string, DebugState>{
                                   {"GET /tasks/{id}", {"shop/team", "1", kNow + 15min}},
                                   {"POST /tasks", {"shop/team", "1", kNow + 15min}}}));
  EXPECT_EQ(c.next_change, kNow + 15min);
  EXPECT_TRUE(config_for(ps, kNow + 15min).operation_debug.empty());
  EXPECT_EQ(config_for(ps, kNow + 15min).next_change, std::nullopt);
}

TEST(EffectiveConfigDebug, PerOperationHighestWinsAndTheServiceRatioCoversWhatItSamplesAsMuch) {
  std::vector<Policy> ps = {
      make_policy(kRoot, "root",
                  {{"sampling", {{"ratio", "0.1"}}},
                   {"debug",
                    {{"ratio", "0.5"},
                     {"until", "2026-11-26T12:30:00Z"},
                     {"operations", {"POST /tasks", "GET /tasks"}}}}}),
      make_policy("shop", "team",
                  {{"debug",
                    {{"ratio", "0.8"},
                     {"until", "2026-11-26T12:10:00Z"},
                     {"operations", {"POST /tasks"}}}}}),
      // Below the base ratio: a bump raises, so nothing to serve for it.
      make_policy("shop", "low",
                  {{"priority", 5},
                   {"debug",
                    {{"ratio", "0.05"},
                     {"until", "2026-11-26T12:30:00Z"},
                     {"operations", {"DELETE /tasks"}}}}}),
  };
  EffectiveConfig c = config_for(ps);
  EXPECT_EQ(c.operation_debug, (std::map<std::string, DebugState>{
                                   {"GET /tasks", {"tracing-system/root", "0.5", kNow + 30min}},
                                   {"POST /tasks", {"shop/team", "0.8", kNow + 10min}}}));
  EXPECT_EQ(c.next_change, kNow + 10min);

  // A whole-service bump to 0.6 covers GET /tasks (0.5); POST /tasks stays above it.
  ps.push_back(make_policy(
      "shop", "all",
      {{"priority", 9}, {"debug", {{"ratio", "0.6"}, {"until", "2026-11-26T12:20:00Z"}}}}));
  EffectiveConfig with_service = config_for(ps);
  ASSERT_TRUE(with_service.debug.has_value());
  EXPECT_EQ(with_service.effective_ratio(), "0.6");
  EXPECT_EQ(
      with_service.operation_debug,
      (std::map<std::string, DebugState>{{"POST /tasks", {"shop/team", "0.8", kNow + 10min}}}));
}

// ---- debug_status_for ------------------------------------------------------------------------

TEST(DebugStatusFor, StartsAtNowAndEndsAfterTheDuration) {
  Policy p = make_policy("shop", "team", {{"debug", {{"ratio", "1"}, {"duration", "15m"}}}});
  auto s = debug_status_for(p, kNow);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->hash, p.spec.debug->hash);
  EXPECT_EQ(s->started_at, kNow);
  EXPECT_EQ(s->expires_at, kNow + 15min);
}

TEST(DebugStatusFor, KeepsTheRecordedStartOfTheSameDebugSpec) {
  Policy p = make_policy("shop", "team", {{"debug", {{"ratio", "1"}, {"duration", "15m"}}}});
  p.debug_status = debug_status_for(p, kNow);
  auto s = debug_status_for(p, kNow + 10min);  // e.g. after an operator restart
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->started_at, kNow);
  EXPECT_EQ(s->expires_at, kNow + 15min);
}

TEST(DebugStatusFor, RestartsWhenTheRecordBelongsToAnotherDebugSpec) {
  Policy p = make_policy("shop", "team", {{"debug", {{"ratio", "1"}, {"duration", "15m"}}}});
  p.debug_status = DebugStatus{"0123456789abcdef", kNow - 1h, kNow - 45min};
  auto s = debug_status_for(p, kNow);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->hash, p.spec.debug->hash);
  EXPECT_EQ(s->started_at, kNow);
  EXPECT_EQ(s->expires_at, kNow + 15min);
}

TEST(DebugStatusFor, EndsAtUntil) {
  Policy p =
      make_policy("shop", "team", {{"debug", {{"ratio", "1"}, {"until", "2026-11-26T18:00:00Z"}}}});
  auto s = debug_status_for(p, kNow);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->started_at, kNow);
  EXPECT_EQ(s->expires_at, kNow + 6h);
}

TEST(DebugStatusFor, GivesNothingWithoutADebugSpec) {
  EXPECT_EQ(debug_status_for(make_policy("shop", "team", json::object()), kNow), std::nullopt);
}

// ---- effective_sampler -----------------------------------------------------------------------

TEST(EffectiveSampler, IsTheBaseSamplerWithoutABump) {
  EffectiveConfig c;
  for (const char* s : {"always_on", "always_off", "traceidratio", "parentbased_always_on",
                        "parentbased_always_off", "parentbased_traceidratio"}) {
    c.sampler = s;
    EXPECT_EQ(c.effective_sampler(), s);
  }
}

TEST(EffectiveSampler, SwitchesSamplersWithoutARatioToParentBasedRatioDuringABump) {
  EffectiveConfig c;
  c.debug = DebugState{"shop/team", "1", kNow + 1h};
  for (const char* s :
       {"always_on", "always_off", "parentbased_always_on", "parentbased_always_off"}) {
    c.sampler = s;
    EXPECT_EQ(c.effective_sampler(), "parentbased_traceidratio") << s;
  }
  c.sampler = "traceidratio";
  EXPECT_EQ(c.effective_sampler(), "traceidratio");
  c.sampler = "parentbased_traceidratio";
  EXPECT_EQ(c.effective_sampler(), "parentbased_traceidratio");
}

TEST(EffectiveSampler, IsJaegerRemoteInRemoteModeAlways) {
  EffectiveConfig c;
  c.mode = "remote";
  c.sampler = "always_on";
  EXPECT_EQ(c.effective_sampler(), "parentbased_jaeger_remote");
  c.debug = DebugState{"shop/team", "1", kNow + 1h};
  EXPECT_EQ(c.effective_sampler(), "parentbased_jaeger_remote");
}

// ---- desired_env -----------------------------------------------------------------------------

TEST(DesiredEnv, WritesTheWholeTableInRestartMode) {
  std::vector<Policy> ps = {
      make_policy(kRoot, "defaults",
                  {{"jaeger", {{"namespace", "observability"}}},
                   {"exporter", {{"insecure", true}}},
                   {"resourceAttributes", {{"deployment.environment", "prod"}}}}),
      make_policy("shop", "team", {{"sampling", {{"ratio", "0.25"}}}}),
  };
  Workload w = task_api();
  DesiredEnv d = desired_env(config_for(ps), w);
  ASSERT_EQ(d.env.size(), 2u);
  const Pairs expected = {
      {"OTEL_SERVICE_NAME", "task-api"},
      {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://jaeger-collector.observability.svc:4317"},
      {"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"},
      {"OTEL_EXPORTER_OTLP_INSECURE", "true"},
      {"OTEL_TRACES_EXPORTER", "otlp"},
      {"OTEL_TRACES_SAMPLER", "parentbased_traceidratio"},
      {"OTEL_TRACES_SAMPLER_ARG", "0.25"},
      {"OTEL_PROPAGATORS", "tracecontext,baggage"},
      {"OTEL_RESOURCE_ATTRIBUTES",
       "k8s.namespace.name=shop,k8s.deployment.name=task-api,deployment.environment=prod"},
  };
  EXPECT_EQ(pairs(d.env.at("api")), expected);
  EXPECT_EQ(pairs(d.env.at("daprd")), expected);
  EXPECT_TRUE(d.conflicts.empty());
  EXPECT_EQ(d.overridden, json::object());
  EXPECT_FALSE(d.force);
}

TEST(DesiredEnv, WritesTheFixedJaegerRemoteArgumentInRemoteMode) {
  std::vector<Policy> ps = {
      make_policy(
          kRoot, "defaults",
          {{"jaeger", {{"namespace", "observability"}}},
           {"sampling", {{"mode", "remote"}, {"ratio", "0.1"}, {"remoteInitialRatio", "0.05"}}},
           {"propagators", {"tracecontext", "baggage", "b3"}}}),
  };
  DesiredEnv d = desired_env(config_for(ps), task_api());
  const Pairs expected = {
      {"OTEL_SERVICE_NAME", "task-api"},
      {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://jaeger-collector.observability.svc:4317"},
      {"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"},
      {"OTEL_TRACES_EXPORTER", "otlp"},
      {"OTEL_TRACES_SAMPLER", "parentbased_jaeger_remote"},
      {"OTEL_TRACES_SAMPLER_ARG",
       "endpoint=http://jaeger-sampling.observability.svc:5779,pollingIntervalMs=10000,"
       "initialSamplingRate=0.05"},
      {"OTEL_PROPAGATORS", "tracecontext,baggage,b3"},
      {"OTEL_RESOURCE_ATTRIBUTES", "k8s.namespace.name=shop,k8s.deployment.name=task-api"},
  };
  EXPECT_EQ(pairs(d.env.at("api")), expected);
}

TEST(DesiredEnv, RemoteModeEnvDoesNotChangeWithRatioOrDebug) {
  auto env_with = [](json sampling, json debug) {
    json spec = {{"sampling", std::move(sampling)}};
    if (!debug.is_null()) spec["debug"] = std::move(debug);
    std::vector<Policy> ps = {make_policy("shop", "team", std::move(spec))};
    return desired_env(config_for(ps), task_api()).env.at("api");
  };
  auto base = env_with({{"mode", "remote"}, {"ratio", "0.1"}}, nullptr);
  EXPECT_EQ(value_of(base, "OTEL_TRACES_SAMPLER_ARG"),
            "endpoint=http://jaeger-sampling.shop.svc:5779,pollingIntervalMs=10000,"
            "initialSamplingRate=0.01");
  EXPECT_EQ(env_with({{"mode", "remote"}, {"ratio", "0.9"}}, nullptr), base);
  EXPECT_EQ(env_with({{"mode", "remote"}, {"ratio", "0.1"}},
                     {{"ratio", "1"}, {"until", "2026-11-26T13:00:00Z"}}),
            base);
}

TEST(DesiredEnv, KeepsTheRatioAsWritten) {
  for (const char* ratio : {"0.25", "0.250", "1.0", "0"}) {
    std::vector<Policy> ps = {make_policy("shop", "team", {{"sampling", {{"ratio", ratio}}}})};
    DesiredEnv d = desired_env(config_for(ps), task_api());
    EXPECT_EQ(value_of(d.env.at("api"), "OTEL_TRACES_SAMPLER_ARG"), ratio);
  }
}

TEST(DesiredEnv, OmitsInsecureWhenFalse) {
  std::vector<Policy> ps = {make_policy("shop", "team", {{"exporter", {{"insecure", false}}}})};
  DesiredEnv d = desired_env(config_for(ps), task_api());
  EXPECT_FALSE(has(d.env.at("api"), "OTEL_EXPORTER_OTLP_INSECURE"));
  EXPECT_FALSE(
      has(desired_env(config_for({make_policy("shop", "bare", json::object())}), task_api())
              .env.at("api"),
          "OTEL_EXPORTER_OTLP_INSECURE"));
}

TEST(DesiredEnv, OmitsTheSamplerArgumentForSamplersWithoutARatio) {
  std::vector<Policy> ps = {
      make_policy("shop", "team", {{"sampling", {{"sampler", "always_on"}, {"ratio", "0.3"}}}})};
  DesiredEnv d = desired_env(config_for(ps), task_api());
  EXPECT_EQ(value_of(d.env.at("api"), "OTEL_TRACES_SAMPLER"), "always_on");
  EXPECT_FALSE(has(d.env.at("api"), "OTEL_TRACES_SAMPLER_ARG"));
}

TEST(DesiredEnv, WritesTheBumpedRatioAndSamplerDuringADebugBump) {
  std::vector<Policy> ps = {
      make_policy("shop", "team",
                  {{"sampling", {{"sampler", "parentbased_always_off"}, {"ratio", "0.1"}}},
                   {"debug", {{"ratio", "0.8"}, {"until", "2026-11-26T12:15:00Z"}}}})};
  auto during = desired_env(config_for(ps, kNow), task_api()).env.at("api");
  EXPECT_EQ(value_of(during, "OTEL_TRACES_SAMPLER"), "parentbased_traceidratio");
  EXPECT_EQ(value_of(during, "OTEL_TRACES_SAMPLER_ARG"), "0.8");
  auto after = desired_env(config_for(ps, kNow + 15min), task_api()).env.at("api");
  EXPECT_EQ(value_of(after, "OTEL_TRACES_SAMPLER"), "parentbased_always_off");
  EXPECT_FALSE(has(after, "OTEL_TRACES_SAMPLER_ARG"));
}

TEST(DesiredEnv, ConfiguresOnlyTheListedContainersThatExist) {
  std::vector<Policy> ps = {make_policy("shop", "team", {{"containers", {"api", "missing"}}})};
  DesiredEnv d = desired_env(config_for(ps), task_api());
  ASSERT_EQ(d.env.size(), 1u);
  EXPECT_TRUE(d.env.count("api"));
}

TEST(DesiredEnv, KeepsVariablesAnotherManagerSetsAndReportsThem) {
  Workload w = task_api();
  w.containers[0].env = {entry("LOG_LEVEL", "debug"), entry("OTEL_SERVICE_NAME", "legacy"),
                         entry("OTEL_PROPAGATORS", "b3"),
                         entry("OTEL_EXPORTER_OTLP_ENDPOINT", "http://old:4317")};
  w.env_owners["api"] = {{"LOG_LEVEL", {"kubectl-edit"}},
                         {"OTEL_SERVICE_NAME", {"kubectl-edit"}},
                         {"OTEL_PROPAGATORS", {"tracing-operator", "kustomize-controller", "helm"}},
                         {"OTEL_EXPORTER_OTLP_ENDPOINT", {"tracing-operator"}}};
  DesiredEnv d = desired_env(config_for({make_policy("shop", "team", json::object())}), w);
  const auto& api = d.env.at("api");
  EXPECT_FALSE(has(api, "OTEL_SERVICE_NAME"));
  EXPECT_FALSE(has(api, "OTEL_PROPAGATORS"));
  EXPECT_EQ(value_of(api, "OTEL_EXPORTER_OTLP_ENDPOINT"), "http://jaeger-collector.shop.svc:4317");
  EXPECT_EQ(api.size(), 6u);
  ASSERT_EQ(d.conflicts.size(), 2u);
  EXPECT_EQ(d.conflicts[0].container, "api");
  EXPECT_EQ(d.conflicts[0].variable, "OTEL_SERVICE_NAME");
  EXPECT_EQ(d.conflicts[0].reason, "set by kubectl-edit");
  EXPECT_EQ(d.conflicts[1].variable, "OTEL_PROPAGATORS");
  EXPECT_EQ(d.conflicts[1].reason, "set by helm, kustomize-controller");
  // The other container is not affected.
  EXPECT_TRUE(has(d.env.at("daprd"), "OTEL_SERVICE_NAME"));
  EXPECT_FALSE(d.force);
  EXPECT_EQ(d.overridden, json::object());
}

TEST(DesiredEnv, TreatsAVariableWithUnknownOwnersAsTheWorkloadsOwn) {
  Workload w = task_api();
  w.containers[0].env = {entry("OTEL_TRACES_EXPORTER", "console")};
  auto config = config_for({make_policy("shop", "team", json::object())});
  DesiredEnv d = desired_env(config, w);
  ASSERT_EQ(d.conflicts.size(), 1u);
  EXPECT_EQ(d.conflicts[0].variable, "OTEL_TRACES_EXPORTER");
  EXPECT_EQ(d.conflicts[0].reason, "set by an unknown manager");
  EXPECT_FALSE(has(d.env.at("api"), "OTEL_TRACES_EXPORTER"));

  // On a workload the operator has applied to, an unattributed entry counts as its own.
  w.annotations[naming::kPoliciesAnnotation] = "shop/team";
  DesiredEnv ours = desired_env(config, w);
  EXPECT_TRUE(ours.conflicts.empty());
  EXPECT_EQ(value_of(ours.env.at("api"), "OTEL_TRACES_EXPORTER"), "otlp");
}

TEST(DesiredEnv, OverrideTakesVariablesOverAndRecordsTheOriginals) {
  Workload w = task_api();
  json secret_entry = {
      {"name", "OTEL_EXPORTER_OTLP_ENDPOINT"},
      {"valueFrom", {{"configMapKeyRef", {{"name", "otel"}, {"key", "endpoint"}}}}}};
  w.containers[0].env = {entry("OTEL_SERVICE_NAME", "legacy"),
                         {"OTEL_EXPORTER_OTLP_ENDPOINT", secret_entry},
                         entry("OTEL_PROPAGATORS", "b3")};
  w.env_owners["api"] = {{"OTEL_SERVICE_NAME", {"kubectl-edit"}},
                         {"OTEL_EXPORTER_OTLP_ENDPOINT", {"tracing-operator", "helm"}}};
  DesiredEnv d = desired_env(config_for({make_policy("shop", "team", {{"override", true}})}), w);
  EXPECT_TRUE(d.conflicts.empty());
  EXPECT_TRUE(d.force);
  EXPECT_TRUE(d.retaken.empty()) << "a first takeover is no fight";
  const auto& api = d.env.at("api");
  EXPECT_EQ(value_of(api, "OTEL_SERVICE_NAME"), "task-api");
  EXPECT_EQ(value_of(api, "OTEL_EXPORTER_OTLP_ENDPOINT"), "http://jaeger-collector.shop.svc:4317");
  EXPECT_EQ(value_of(api, "OTEL_PROPAGATORS"), "tracecontext,baggage");
  EXPECT_EQ(d.overridden, json::parse(R"json({"api": {
      "OTEL_SERVICE_NAME": {"entry": {"name": "OTEL_SERVICE_NAME", "value": "legacy"},
                            "manager": "kubectl-edit"},
      "OTEL_EXPORTER_OTLP_ENDPOINT": {
          "entry": {"name": "OTEL_EXPORTER_OTLP_ENDPOINT",
                    "valueFrom": {"configMapKeyRef": {"name": "otel", "key": "endpoint"}}},
          "manager": "helm"},
      "OTEL_PROPAGATORS": {"entry": {"name": "OTEL_PROPAGATORS", "value": "b3"}, "manager": ""}
  }})json"))
      << d.overridden.dump(2);
}

TEST(DesiredEnv, CarriesARecordedOriginalForward) {
  Workload w = task_api();
  const json recorded = json::parse(R"json({"api": {"OTEL_SERVICE_NAME":
      {"entry": {"name": "OTEL_SERVICE_NAME", "value": "legacy"}, "manager": "kubectl-edit"}}})json");
  w.annotations[naming::kOverriddenAnnotation] = recorded.dump();
  // After the forced apply the value is the operator's.
  w.containers[0].env = {entry("OTEL_SERVICE_NAME", "task-api")};
  w.env_owners["api"] = {{"OTEL_SERVICE_NAME", {"tracing-operator"}}};
  auto config = config_for({make_policy("shop", "team", {{"override", true}})});
  DesiredEnv d = desired_env(config, w);
  EXPECT_EQ(d.overridden, recorded);
  EXPECT_FALSE(d.force);
  EXPECT_TRUE(d.conflicts.empty());

  // Someone sets it again: it is taken over again, and the first original is still the one kept.
  w.containers[0].env = {entry("OTEL_SERVICE_NAME", "second")};
  w.env_owners["api"] = {{"OTEL_SERVICE_NAME", {"kubectl-edit"}}};
  DesiredEnv again = desired_env(config, w);
  EXPECT_TRUE(again.force);
  EXPECT_EQ(again.overridden, recorded);
  // That is a take-back of a variable override had taken: listed for the reconciler's back-off.
  ASSERT_EQ(again.retaken.size(), 1u);
  EXPECT_EQ(again.retaken[0].container, "api");
  EXPECT_EQ(again.retaken[0].variable, "OTEL_SERVICE_NAME");
  EXPECT_EQ(again.retaken[0].reason, "kubectl-edit");
  EXPECT_EQ(value_of(again.env.at("api"), "OTEL_SERVICE_NAME"), "task-api") << "retaken";

  // Someone writing the operator's own value, or sharing the entry with it, fights nobody.
  w.containers[0].env = {entry("OTEL_SERVICE_NAME", "task-api")};
  EXPECT_TRUE(desired_env(config, w).retaken.empty());
  w.containers[0].env = {entry("OTEL_SERVICE_NAME", "second")};
  w.env_owners["api"] = {{"OTEL_SERVICE_NAME", {"kubectl-edit", "tracing-operator"}}};
  EXPECT_TRUE(desired_env(config, w).retaken.empty());
}

TEST(DesiredEnv, DropsRecordedOriginalsNoLongerOverridden) {
  Workload w = task_api();
  w.annotations[naming::kOverriddenAnnotation] = json::parse(R"json({
      "api": {"OTEL_TRACES_SAMPLER_ARG": {"entry": {"name": "OTEL_TRACES_SAMPLER_ARG", "value": "0.5"},
                                          "manager": "kubectl-edit"},
              "OTEL_SERVICE_NAME": {"entry": {"name": "OTEL_SERVICE_NAME", "value": "legacy"},
                                    "manager": "kubectl-edit"}},
      "daprd": {"OTEL_SERVICE_NAME": {"entry": {"name": "OTEL_SERVICE_NAME", "value": "x"},
                                      "manager": "helm"}}})json")
                                                     .dump();
  // The sampler no longer takes an argument and daprd is no longer configured.
  auto config = config_for({make_policy(
      "shop", "team",
      {{"override", true}, {"containers", {"api"}}, {"sampling", {{"sampler", "always_on"}}}})});
  DesiredEnv d = desired_env(config, w);
  EXPECT_EQ(d.overridden, json::parse(R"json({"api": {"OTEL_SERVICE_NAME":
      {"entry": {"name": "OTEL_SERVICE_NAME", "value": "legacy"}, "manager": "kubectl-edit"}}})json"));
}

TEST(DesiredEnv, IgnoresAnUnreadableOverriddenAnnotation) {
  Workload w = task_api();
  w.annotations[naming::kOverriddenAnnotation] = "{not json";
  DesiredEnv d = desired_env(config_for({make_policy("shop", "team", {{"override", true}})}), w);
  EXPECT_EQ(d.overridden, json::object());
  EXPECT_EQ(d.env.size(), 2u);
}

// ---- service_name ----------------------------------------------------------------------------

TEST(ServiceName, FallsBackFromTheConfiguredLabelToNameLabelToAppToWorkloadName) {
  EffectiveConfig c;
  c.service_name_from_label = "team/service";
  Workload w = task_api();
  w.labels = {{"team/service", "tasks"}, {"app.kubernetes.io/name", "task-api-k8s"}, {"app", "t"}};
  EXPECT_EQ(service_name(c, w), "tasks");
  w.labels.erase("team/service");
  EXPECT_EQ(service_name(c, w), "task-api-k8s");
  w.labels.erase("app.kubernetes.io/name");
  EXPECT_EQ(service_name(c, w), "t");
  w.labels.erase("app");
  EXPECT_EQ(service_name(c, w), "task-api");
}

TEST(ServiceName, LooksAtTheDeploymentLabelsBeforeThePodTemplate) {
  EffectiveConfig c;
  c.service_name_from_label = "svc";
  Workload w = task_api();
  w.labels = {};
  w.template_labels = {{"svc", "from-template"}};
  EXPECT_EQ(service_name(c, w), "from-template");
  w.labels = {{"svc", "from-deployment"}};
  EXPECT_EQ(service_name(c, w), "from-deployment");
  // Without fromLabel, each default label is looked up on both before the next one.
  c.service_name_from_label.reset();
  w.labels = {{"app", "deploy-app"}};
  w.template_labels = {{"app.kubernetes.io/name", "template-name"}};
  EXPECT_EQ(service_name(c, w), "template-name");
}

// ---- resource_attributes ---------------------------------------------------------------------

TEST(ResourceAttributes, PutsTheK8sFactsFirstThenTheSortedPolicyAttributes) {
  EffectiveConfig c;
  c.resource_attributes = {{"zone", "eu-1"},
                           {"deployment.environment", "prod"},
                           {"k8s.namespace.name", "spoofed"},
                           {"k8s.deployment.name", "spoofed"}};
  EXPECT_EQ(resource_attributes(c, task_api()),
            "k8s.namespace.name=shop,k8s.deployment.name=task-api,"
            "deployment.environment=prod,zone=eu-1");
}

TEST(ResourceAttributes, PercentEncodesValues) {
  EffectiveConfig c;
  c.resource_attributes = {
      {"a", "a b,c=d"}, {"b", "caf\xC3\xA9"}, {"c", "A-z_0.9~"}, {"d", "50%/x;y+\"q\""}};
  EXPECT_EQ(resource_attributes(c, task_api()),
            "k8s.namespace.name=shop,k8s.deployment.name=task-api,"
            "a=a%20b%2Cc%3Dd,b=caf%C3%A9,c=A-z_0.9~,d=50%25%2Fx%3By%2B%22q%22");
}

}  // namespace
}  // namespace tracing::controllers

namespace tracing::controllers {
namespace {

TEST(EffectiveConfigJaeger, NamespacePoliciesThatOnlyTuneSamplingShareTheRootsJaeger) {
  std::vector<Policy> ps = {make_policy(kRoot, "defaults", json::object()),
                            make_policy("shop", "team", {{"sampling", {{"ratio", "0.5"}}}})};
  EffectiveConfig c = config_for(ps);
  EXPECT_EQ(c.jaeger_mode, "managed");
  EXPECT_EQ(c.jaeger_namespace, kRoot);
  EXPECT_EQ(c.endpoint, "http://jaeger-collector." + std::string(kRoot) + ".svc:4317");
  EXPECT_EQ(c.sampling_endpoint, "http://jaeger-sampling." + std::string(kRoot) + ".svc:5779");
}

TEST(EffectiveConfigJaeger, APolicyOutsideTheRootCannotPlaceItsJaegerElsewhere) {
  std::vector<Policy> ps = {
      make_policy("shop", "team", {{"jaeger", {{"mode", "managed"}, {"namespace", "payments"}}}})};
  EXPECT_EQ(config_for(ps).jaeger_namespace, "shop");
}

TEST(EffectiveConfigJaeger, AnExporterEndpointMeansNoManagedJaeger) {
  std::vector<Policy> ps = {
      make_policy("shop", "team", {{"exporter", {{"endpoint", "http://otel.obs.svc:4317"}}}})};
  EffectiveConfig c = config_for(ps);
  EXPECT_EQ(c.jaeger_mode, "none");
  EXPECT_EQ(c.sampling_endpoint, "");
  EXPECT_EQ(c.endpoint, "http://otel.obs.svc:4317");
}

TEST(EffectiveConfigJaeger, ExternalModeUsesItsSamplingEndpointForRemoteSampling) {
  std::vector<Policy> ps = {make_policy(
      "shop", "team",
      {{"exporter", {{"endpoint", "http://otel.obs.svc:4317"}}},
       {"sampling", {{"mode", "remote"}}},
       {"jaeger", {{"mode", "external"}, {"samplingEndpoint", "http://jaeger.obs.svc:5779"}}}})};
  EffectiveConfig c = config_for(ps);
  EXPECT_EQ(c.sampling_endpoint, "http://jaeger.obs.svc:5779");
  auto env = desired_env(c, task_api()).env.at("api");
  EXPECT_EQ(value_of(env, "OTEL_TRACES_SAMPLER_ARG"),
            "endpoint=http://jaeger.obs.svc:5779,pollingIntervalMs=10000,initialSamplingRate=0.01");
}

}  // namespace
}  // namespace tracing::controllers

// ---- §4 no expansion through the operator --------------------------------------------------

namespace tracing::controllers {
namespace {

TEST(EscapeEnvValue, DoublesEveryDollarAndNothingElse) {
  EXPECT_EQ(escape_env_value("https://x.example/$(DB_PASSWORD)"),
            "https://x.example/$$(DB_PASSWORD)");
  EXPECT_EQ(escape_env_value("$$(A)"), "$$$$(A)");
  EXPECT_EQ(escape_env_value("a$b$"), "a$$b$$");
  EXPECT_EQ(escape_env_value("http://collector:4317"), "http://collector:4317");
  EXPECT_EQ(escape_env_value(""), "");
}

// A workload whose container holds a Secret-backed variable before the operator's entries.
Workload with_secret() {
  Workload w = task_api();
  const EnvVar secret{"DB_PASSWORD",
                      {{"name", "DB_PASSWORD"},
                       {"valueFrom", {{"secretKeyRef", {{"name", "db"}, {"key", "password"}}}}}}};
  w.containers = {Container{"api", {secret}}};
  return w;
}

// What the container sees: the workload's own entries, then the operator's, as the kubelet
// resolves them.
testing::Vars seen_by_container(const Workload& w, const DesiredEnv& d) {
  json env = json::array();
  for (const auto& e : w.containers.front().env) env.push_back(e.entry);
  for (const auto& e : d.env.at(w.containers.front().name)) env.push_back(e.entry);
  return testing::kubelet_env(env, {{"db", {{"password", "hunter2-s3cr3t"}}}});
}

TEST(DesiredEnv, EscapesTheEndpointSoTheKubeletExpandsNoSecretIntoIt) {
  std::vector<Policy> ps = {make_policy(
      "shop", "team", {{"exporter", {{"endpoint", "https://x.example/$(DB_PASSWORD)?k=$$"}}}})};
  const Workload w = with_secret();
  DesiredEnv d = desired_env(config_for(ps, kNow, w), w);
  EXPECT_EQ(value_of(d.env.at("api"), "OTEL_EXPORTER_OTLP_ENDPOINT"),
            "https://x.example/$$(DB_PASSWORD)?k=$$$$");
  testing::Vars seen = seen_by_container(w, d);
  EXPECT_EQ(seen["OTEL_EXPORTER_OTLP_ENDPOINT"], "https://x.example/$(DB_PASSWORD)?k=$$");
  for (const auto& [name, value] : seen) {
    if (name == "DB_PASSWORD") continue;
    EXPECT_EQ(value.find("hunter2"), std::string::npos) << name;
  }
}

TEST(DesiredEnv, EscapesTheSamplingEndpointInTheRemoteSamplerArgument) {
  std::vector<Policy> ps = {make_policy(
      "shop", "team",
      {{"sampling", {{"mode", "remote"}}},
       {"jaeger",
        {{"mode", "external"}, {"samplingEndpoint", "http://j.example/$(DB_PASSWORD)"}}}})};
  const Workload w = with_secret();
  DesiredEnv d = desired_env(config_for(ps, kNow, w), w);
  EXPECT_EQ(value_of(d.env.at("api"), "OTEL_TRACES_SAMPLER_ARG"),
            "endpoint=http://j.example/$$(DB_PASSWORD),pollingIntervalMs=10000,"
            "initialSamplingRate=0.01");
  EXPECT_EQ(seen_by_container(w, d)["OTEL_TRACES_SAMPLER_ARG"],
            "endpoint=http://j.example/$(DB_PASSWORD),pollingIntervalMs=10000,"
            "initialSamplingRate=0.01");
}

TEST(KubeletEnvOracle, ExpandsAsKubernetesDoes) {
  // Golden values from Kubernetes' own expansion tests (third_party/forked/golang/expansion).
  const testing::Vars vars = {{"VAR_A", "A"}, {"VAR_B", "B"}, {"VAR_EMPTY", ""}};
  EXPECT_EQ(testing::kubelet_expand("$(VAR_A)", vars), "A");
  EXPECT_EQ(testing::kubelet_expand("___$(VAR_B)___", vars), "___B___");
  EXPECT_EQ(testing::kubelet_expand("$(VAR_A)-$(VAR_B)", vars), "A-B");
  EXPECT_EQ(testing::kubelet_expand("$(VAR_EMPTY)x", vars), "x");
  EXPECT_EQ(testing::kubelet_expand("$(UNKNOWN)", vars), "$(UNKNOWN)");
  EXPECT_EQ(testing::kubelet_expand("$$(VAR_A)", vars), "$(VAR_A)");
  EXPECT_EQ(testing::kubelet_expand("$$$(VAR_A)", vars), "$A");
  EXPECT_EQ(testing::kubelet_expand("$$$$(VAR_A)", vars), "$$(VAR_A)");
  EXPECT_EQ(testing::kubelet_expand("f000-$$VAR_A", vars), "f000-$VAR_A");
  EXPECT_EQ(testing::kubelet_expand("$VAR_A", vars), "$VAR_A");
  EXPECT_EQ(testing::kubelet_expand("$(VAR_A", vars), "$(VAR_A");
  EXPECT_EQ(testing::kubelet_expand("$(VAR_A $(VAR_B)", vars), "$(VAR_A $(VAR_B)");
  EXPECT_EQ(testing::kubelet_expand("$()", vars), "$()");
  EXPECT_EQ(testing::kubelet_expand("end$", vars), "end$");
  // Only earlier entries are known; a valueFrom is never expanded.
  json env = json::array(
      {{{"name", "LATER_REF"}, {"value", "$(SECRET)"}},
       {{"name", "SECRET"}, {"valueFrom", {{"secretKeyRef", {{"name", "s"}, {"key", "k"}}}}}},
       {{"name", "REF"}, {"value", "x$(SECRET)y"}}});
  testing::Vars seen = testing::kubelet_env(env, {{"s", {{"k", "$(LATER_REF)"}}}});
  EXPECT_EQ(seen["LATER_REF"], "$(SECRET)");
  EXPECT_EQ(seen["SECRET"], "$(LATER_REF)");
  EXPECT_EQ(seen["REF"], "x$(LATER_REF)y");
}

TEST(KubeletEnvOracle, ShowsTheExfiltrationAnUnescapedValueWouldAllow) {
  // What an operator writing values unescaped would get: the Secret in the endpoint.
  json env = json::array(
      {{{"name", "DB_PASSWORD"}, {"valueFrom", {{"secretKeyRef", {{"name", "db"}, {"key", "p"}}}}}},
       {{"name", "OTEL_EXPORTER_OTLP_ENDPOINT"}, {"value", "https://x.example/$(DB_PASSWORD)"}}});
  EXPECT_EQ(testing::kubelet_env(env, {{"db", {{"p", "hunter2"}}}})["OTEL_EXPORTER_OTLP_ENDPOINT"],
            "https://x.example/hunter2");
}

// ---- EffectiveConfig::unusable: kept as it is -------------------------------------------

Policy without_spec(const std::string& ns, const std::string& name) {
  json object = {{"metadata", {{"name", name}, {"namespace", ns}, {"uid", "u-" + name}}},
                 {"spec", {{"resourceAttributes", {{"team/name", "x"}}}}}};
  auto p = policy_in_force(object, nullptr);
  EXPECT_TRUE(p && !p->spec_known);
  return p.value_or(Policy{});
}

TEST(Candidates, APolicyWithoutASpecInForceHoldsExactlyTheWorkloadsItConfigured) {
  std::vector<Policy> ps = {make_policy(kRoot, "defaults", {{"sampling", {{"ratio", "0.1"}}}}),
                            without_spec("shop", "team")};
  Workload configured = task_api();
  configured.annotations[naming::kPoliciesAnnotation] = "shop/team,tracing-system/defaults";
  auto cs = candidates(configured, {}, pointers(ps), kRoot);
  EXPECT_EQ(keys(cs), (std::vector<std::string>{"shop/team", "tracing-system/defaults"}));
  EffectiveConfig c = config_for(ps, kNow, configured);
  EXPECT_EQ(c.unusable,
            "policy shop/team has an invalid spec (spec.resourceAttributes: key \"team/name\" must "
            "be non-empty and hold no spaces, ',' or '=') and no earlier valid spec of it is known "
            "to the operator: the workloads it configured are kept as they are until it is fixed "
            "or deleted");

  // Elsewhere it selects nothing: the other policies configure as usual.
  EffectiveConfig other = config_for(ps, kNow, task_api());
  EXPECT_EQ(other.unusable, "");
  EXPECT_EQ(other.policies, (std::vector<std::string>{"tracing-system/defaults"}));
  EXPECT_EQ(other.base_ratio, "0.1");

  // Being deleted, it holds nothing any more.
  ps[1].deleting = true;
  EXPECT_EQ(keys(candidates(configured, {}, pointers(ps), kRoot)),
            (std::vector<std::string>{"tracing-system/defaults"}));
}

TEST(EffectiveConfig, RemoteModeWithoutASamplingEndpointIsUnusable) {
  // The cluster exports to a collector (so no managed Jaeger); a team asks for remote sampling.
  std::vector<Policy> ps = {
      make_policy(kRoot, "defaults", {{"exporter", {{"endpoint", "http://otel.obs.svc:4317"}}}}),
      make_policy("shop", "team", {{"sampling", {{"mode", "remote"}}}})};
  EffectiveConfig c = config_for(ps);
  EXPECT_EQ(c.sampling_endpoint, "");
  EXPECT_EQ(c.unusable,
            "spec.sampling.mode: remote (from shop/team) needs a Jaeger sampling endpoint, but no "
            "policy sets spec.jaeger and tracing-system/defaults sets spec.exporter.endpoint, so "
            "no Jaeger is managed: set jaeger.mode managed, or external with samplingEndpoint");

  ps.push_back(make_policy(kRoot, "jaeger",
                           {{"selector", {{"matchLabels", {{"app", "task-api"}}}}},
                            {"jaeger", {{"mode", "external"}}}}));
  EXPECT_EQ(config_for(ps).unusable,
            "spec.sampling.mode: remote (from shop/team) needs a Jaeger sampling endpoint, but "
            "spec.jaeger.mode of tracing-system/jaeger is external without samplingEndpoint: set "
            "jaeger.mode managed, or external with samplingEndpoint");

  // With a managed Jaeger the endpoint is derived: usable.
  ps.back() = make_policy(
      kRoot, "jaeger",
      {{"selector", {{"matchLabels", {{"app", "task-api"}}}}}, {"jaeger", {{"mode", "managed"}}}});
  EffectiveConfig managed = config_for(ps);
  EXPECT_EQ(managed.unusable, "");
  EXPECT_EQ(managed.sampling_endpoint, "http://jaeger-sampling.tracing-system.svc:5779");
}

// 32 attributes of 128-character keys and 128 four-byte characters: the schema's largest.
json largest_attributes(char prefix) {
  json attrs = json::object();
  std::string value;
  for (int i = 0; i < 128; ++i) value += "\xF0\x9F\x98\x80";  // U+1F600
  for (int i = 0; i < 32; ++i) {
    std::string n = std::to_string(i);
    attrs[std::string(1, prefix) + std::string(127 - n.size(), 'k') + n] = value;
  }
  return attrs;
}

TEST(EffectiveConfig, TheLargestAttributesOnePolicyMayHoldStayWellUnderTheKernelLimit) {
  std::vector<Policy> ps = {
      make_policy("shop", "team", {{"resourceAttributes", largest_attributes('a')}})};
  EffectiveConfig c = config_for(ps);
  EXPECT_EQ(c.unusable, "");
  const std::string value = resource_attributes(c, task_api());
  EXPECT_EQ(value.size(),
            53312u + std::string("k8s.namespace.name=shop,k8s.deployment.name=task-api").size());
  EXPECT_LT(value.size(), kMaxResourceAttributesBytes);
}

TEST(EffectiveConfig, AttributesMergedBeyondTheLimitAreUnusable) {
  std::vector<Policy> ps = {
      make_policy(kRoot, "defaults", {{"resourceAttributes", largest_attributes('a')}}),
      make_policy("shop", "team", {{"resourceAttributes", largest_attributes('b')}})};
  EXPECT_EQ(config_for(ps).unusable,
            "spec.resourceAttributes: the attributes of shop/team, tracing-system/defaults add up "
            "to 106624 bytes of OTEL_RESOURCE_ATTRIBUTES, more than the 65536 the operator writes");
}

}  // namespace
}  // namespace tracing::controllers

namespace tracing::controllers {
namespace {

TEST(TrustedOverrides, ReplaysOnlyWellFormedOriginalsOfVariablesAndContainersThatExist) {
  Workload w = task_api();
  w.annotations[naming::kOverriddenAnnotation] = json::parse(R"json({
      "api": {
        "OTEL_SERVICE_NAME": {"entry": {"name": "OTEL_SERVICE_NAME", "value": "legacy"},
                              "manager": "kubectl-edit"},
        "OTEL_PROPAGATORS": {"entry": {"name": "OTEL_PROPAGATORS",
                                       "valueFrom": {"configMapKeyRef": {"name": "o", "key": "p"}}}},
        "DB_PASSWORD": {"entry": {"name": "DB_PASSWORD", "value": "hunter2"}},
        "OTEL_TRACES_SAMPLER": {"entry": {"name": "OTEL_TRACES_SAMPLER", "value": "x",
                                          "valueFrom": {"fieldRef": {"fieldPath": "a"}}}},
        "OTEL_TRACES_SAMPLER_ARG": {"entry": {"name": "OTHER", "value": "1"}},
        "OTEL_EXPORTER_OTLP_ENDPOINT": {"entry": {"name": "OTEL_EXPORTER_OTLP_ENDPOINT",
                                                  "value": "x"}, "manager": "tracing-operator"},
        "OTEL_EXPORTER_OTLP_PROTOCOL": {"entry": {"name": "OTEL_EXPORTER_OTLP_PROTOCOL",
                                                  "valueFrom": {"exec": {"command": "sh"}}}},
        "OTEL_TRACES_EXPORTER": {"entry": {"name": "OTEL_TRACES_EXPORTER", "value": 3}}
      },
      "ghost": {"OTEL_SERVICE_NAME": {"entry": {"name": "OTEL_SERVICE_NAME", "value": "x"}}}
  })json")
                                                     .dump();
  std::vector<std::string> refused;
  json kept = trusted_overrides(w, &refused);
  EXPECT_EQ(kept, json::parse(R"json({"api": {
      "OTEL_SERVICE_NAME": {"entry": {"name": "OTEL_SERVICE_NAME", "value": "legacy"},
                            "manager": "kubectl-edit"},
      "OTEL_PROPAGATORS": {"entry": {"name": "OTEL_PROPAGATORS",
                                     "valueFrom": {"configMapKeyRef": {"name": "o", "key": "p"}}}}
  }})json"));
  EXPECT_EQ(
      refused,
      (std::vector<std::string>{
          "shop/task-api: container api variable DB_PASSWORD: not a variable the operator "
          "writes",
          "shop/task-api: container api variable OTEL_EXPORTER_OTLP_ENDPOINT: manager is the "
          "operator itself",
          "shop/task-api: container api variable OTEL_EXPORTER_OTLP_PROTOCOL: valueFrom has "
          "unknown source exec",
          "shop/task-api: container api variable OTEL_TRACES_EXPORTER: value is not a string",
          "shop/task-api: container api variable OTEL_TRACES_SAMPLER: entry needs exactly one "
          "of value and valueFrom",
          "shop/task-api: container api variable OTEL_TRACES_SAMPLER_ARG: the recorded entry "
          "is named OTHER",
          "shop/task-api: tracing.rollout.dev/overridden-env names container ghost, which the "
          "workload does not have"}));
}

TEST(TrustedOverrides, RefusesARecordThatIsNoJsonObject) {
  Workload w = task_api();
  w.annotations[naming::kOverriddenAnnotation] = "[1,2]";
  std::vector<std::string> refused;
  EXPECT_EQ(trusted_overrides(w, &refused), json::object());
  EXPECT_EQ(refused, std::vector<std::string>{"shop/task-api: tracing.rollout.dev/overridden-env "
                                              "is not a JSON object"});
}

// Found by deployment_bookkeeping_fuzz: an entry whose name is no string threw a type_error
// out of trusted_overrides (and so out of a revert that replays the record).
TEST(TrustedOverrides, RefusesAnEntryWhoseNameIsNoString) {
  Workload w = task_api();
  w.annotations[naming::kOverriddenAnnotation] =
      R"({"api":{"OTEL_SERVICE_NAME":{"entry":{"name":1,"value":"legacy"},"manager":"kubectl"}}})";
  std::vector<std::string> refused;
  EXPECT_EQ(trusted_overrides(w, &refused), json::object());
  EXPECT_EQ(refused, std::vector<std::string>{"shop/task-api: container api variable "
                                              "OTEL_SERVICE_NAME: entry name is not a string"});
}

// ---- kinds (SPEC §4) ---------------------------------------------------------------------------

TEST(Kinds, APolicySelectsOnlyTheKindsItListsAndAllThreeByDefault) {
  std::vector<Policy> ps = {
      make_policy("shop", "all", json::object()),
      make_policy("shop", "sets", {{"kinds", {"StatefulSet", "DaemonSet"}}}),
      make_policy("shop", "deploys", {{"kinds", {"Deployment"}}}),
  };
  Workload w = task_api();
  EXPECT_EQ(keys(candidates(w, {}, pointers(ps), kRoot)),
            (std::vector<std::string>{"shop/all", "shop/deploys"}));
  w.kind = WorkloadKind::kStatefulSet;
  EXPECT_EQ(keys(candidates(w, {}, pointers(ps), kRoot)),
            (std::vector<std::string>{"shop/all", "shop/sets"}));
  w.kind = WorkloadKind::kDaemonSet;
  EXPECT_EQ(keys(candidates(w, {}, pointers(ps), kRoot)),
            (std::vector<std::string>{"shop/all", "shop/sets"}));
}

TEST(Kinds, TheWorkloadsNameIsWrittenUnderItsKindsResourceAttribute) {
  std::vector<Policy> ps = {
      make_policy("shop", "p", {{"resourceAttributes", {{"k8s.statefulset.name", "spoofed"}}}})};
  auto attributes = [&](WorkloadKind k) {
    Workload w = task_api();
    w.kind = k;
    DesiredEnv d = desired_env(config_for(ps, kNow, w), w);
    for (const auto& e : d.env.at("api")) {
      if (e.name == "OTEL_RESOURCE_ATTRIBUTES") return e.entry["value"].get<std::string>();
    }
    return std::string("<unset>");
  };
  EXPECT_EQ(attributes(WorkloadKind::kDeployment),
            "k8s.namespace.name=shop,k8s.deployment.name=task-api");
  EXPECT_EQ(attributes(WorkloadKind::kStatefulSet),
            "k8s.namespace.name=shop,k8s.statefulset.name=task-api");
  EXPECT_EQ(attributes(WorkloadKind::kDaemonSet),
            "k8s.namespace.name=shop,k8s.daemonset.name=task-api");
}

}  // namespace
}  // namespace tracing::controllers
