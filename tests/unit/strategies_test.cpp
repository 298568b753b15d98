#include "controllers/strategies.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace tracing::controllers {
namespace {

const std::string kInstance = "tracing-system/jaeger";
const std::string kDefault = "0.01";

// A remote-mode workload whose ratio a root-namespace policy decides.
StrategyContribution by_root(const std::string& ns, const std::string& name,
                             const std::string& service, const std::string& ratio,
                             const std::string& policy = "tracing-system/cluster") {
  return {ns + "/" + name, ns, service, ratio, policy, true, false, std::nullopt};
}

// A remote-mode workload whose ratio a policy of its own namespace decides; `root_ratio` is what
// the root policies alone would give it.
StrategyContribution by_namespace(const std::string& ns, const std::string& name,
                                  const std::string& service, const std::string& ratio,
                                  std::optional<std::string> root_ratio,
                                  const std::string& policy = "p", bool debug = false) {
  return {ns + "/" + name, ns, service, ratio, ns + "/" + policy, false, debug, root_ratio};
}

using Ratios = std::map<std::string, std::string>;

TEST(ServedRatios, WorkloadsOfOneNamespaceSharingAServiceNameHigherWins) {
  auto r = served_ratios({by_namespace("tenant-a", "api", "checkout", "0.2", "0.1", "low"),
                          by_namespace("tenant-a", "web", "checkout", "0.7", "0.1", "high"),
                          by_namespace("tenant-a", "cart", "cart", "0.3", std::nullopt)},
                         kDefault, kInstance);
  EXPECT_EQ(r.ratios, (Ratios{{"cart", "0.3"}, {"checkout", "0.7"}}));
  EXPECT_TRUE(r.refused.empty());
  EXPECT_EQ(r.collisions,
            std::vector<std::string>{"checkout: 0.7 (tenant-a/web) over 0.2 (tenant-a/api)"});
}

TEST(ServedRatios, NamespacePolicyIsRefusedWhenItsServiceNameRunsInAnotherNamespace) {
  auto r = served_ratios({by_namespace("tenant-a", "checkout", "checkout", "1", "0.1"),
                          by_root("tenant-b", "checkout", "checkout", "0.1")},
                         kDefault, kInstance);
  EXPECT_EQ(r.ratios, (Ratios{{"checkout", "0.1"}}));
  EXPECT_TRUE(r.collisions.empty());
  ASSERT_EQ(r.refused.size(), 1u);
  EXPECT_EQ(r.refused[0].policy, "tenant-a/p");
  EXPECT_EQ(r.refused[0].service, "checkout");
  EXPECT_EQ(r.refused[0].namespaces, std::vector<std::string>{"tenant-b"});
  EXPECT_EQ(r.refused[0].refused_ratio, "1");
  EXPECT_EQ(r.refused[0].served_ratio, "0.1");
  EXPECT_EQ(r.refused[0].message,
            "service checkout also runs in namespace tenant-b on the same managed Jaeger "
            "tracing-system/jaeger (one strategy per service name): the ratio 1 this policy sets "
            "is refused and checkout is served 0.1 (a policy outside the root namespace changes "
            "the sampling only of its own namespace's workloads)");
}

TEST(ServedRatios, TheSameContributionCountsWhenNoOtherNamespaceSharesTheName) {
  // tenant-a alone on this instance (say its own managed Jaeger): its policy decides.
  auto r = served_ratios({by_namespace("tenant-a", "checkout", "checkout", "1", "0.1")}, kDefault,
                         kInstance);
  EXPECT_EQ(r.ratios, (Ratios{{"checkout", "1"}}));
  EXPECT_TRUE(r.refused.empty());
}

TEST(ServedRatios, EveryNamespacePolicyOfASharedNameIsRefusedAndEachIsTold) {
  auto r = served_ratios({by_namespace("tenant-a", "checkout", "checkout", "1", "0.1"),
                          by_namespace("tenant-b", "checkout", "checkout", "0.5", "0.1", "q"),
                          by_root("tenant-c", "checkout", "checkout", "0.1")},
                         kDefault, kInstance);
  EXPECT_EQ(r.ratios, (Ratios{{"checkout", "0.1"}}));
  ASSERT_EQ(r.refused.size(), 2u);
  EXPECT_EQ(r.refused[0].policy, "tenant-a/p");
  EXPECT_EQ(r.refused[0].namespaces, (std::vector<std::string>{"tenant-b", "tenant-c"}));
  EXPECT_NE(r.refused[0].message.find("also runs in namespaces tenant-b, tenant-c on the same"),
            std::string::npos)
      << r.refused[0].message;
  EXPECT_EQ(r.refused[1].policy, "tenant-b/q");
  EXPECT_EQ(r.refused[1].namespaces, (std::vector<std::string>{"tenant-a", "tenant-c"}));
  EXPECT_EQ(r.refused[1].refused_ratio, "0.5");
  EXPECT_EQ(r.refused[1].served_ratio, "0.1");
}

TEST(ServedRatios, ARefusedWorkloadWithoutRootRemoteSamplingContributesNothing) {
  // Falls back to the other contributions...
  auto r = served_ratios({by_namespace("tenant-a", "checkout", "checkout", "1", std::nullopt),
                          by_root("tenant-b", "checkout", "checkout", "0.3")},
                         kDefault, kInstance);
  EXPECT_EQ(r.ratios, (Ratios{{"checkout", "0.3"}}));
  ASSERT_EQ(r.refused.size(), 1u);
  EXPECT_EQ(r.refused[0].served_ratio, "0.3");

  // ...or, when none counts, to the default strategy.
  r = served_ratios({by_namespace("tenant-a", "checkout", "checkout", "1", std::nullopt),
                     by_namespace("tenant-b", "checkout", "checkout", "0.5", std::nullopt)},
                    kDefault, kInstance);
  EXPECT_EQ(r.ratios, Ratios{});
  ASSERT_EQ(r.refused.size(), 2u);
  EXPECT_EQ(r.refused[0].served_ratio, "0.01");
  EXPECT_EQ(r.refused[1].served_ratio, "0.01");
  EXPECT_EQ(r.refused[0].message,
            "service checkout also runs in namespace tenant-b on the same managed Jaeger "
            "tracing-system/jaeger (one strategy per service name): the ratio 1 this policy sets "
            "is refused and checkout is served the default strategy's 0.01 (a policy outside "
            "the root namespace changes the sampling only of its own namespace's workloads)");
}

TEST(ServedRatios, RootPoliciesAcrossNamespacesKeepHigherWins) {
  auto r = served_ratios({by_root("tenant-a", "checkout", "checkout", "0.1"),
                          by_root("tenant-b", "checkout", "checkout", "0.4", "tracing-system/b"),
                          by_root("tenant-c", "checkout", "checkout", "0.25")},
                         kDefault, kInstance);
  EXPECT_EQ(r.ratios, (Ratios{{"checkout", "0.4"}}));
  EXPECT_TRUE(r.refused.empty());
  EXPECT_EQ(r.collisions,
            std::vector<std::string>{"checkout: 0.4 (tenant-b/checkout) over 0.1 "
                                     "(tenant-a/checkout), 0.25 (tenant-c/checkout)"});
}

TEST(ServedRatios, ADebugBumpFromANamespacePolicyIsRefusedWhenShared) {
  auto bump = by_namespace("tenant-a", "checkout", "checkout", "1", "0.1", "p", /*debug=*/true);
  auto r = served_ratios({bump, by_root("tenant-b", "checkout", "checkout", "0.1")}, kDefault,
                         kInstance);
  EXPECT_EQ(r.ratios, (Ratios{{"checkout", "0.1"}}));
  ASSERT_EQ(r.refused.size(), 1u);
  EXPECT_EQ(r.refused[0].message,
            "service checkout also runs in namespace tenant-b on the same managed Jaeger "
            "tracing-system/jaeger (one strategy per service name): the ratio 1 this policy's "
            "debug bump sets is refused and checkout is served 0.1 (a policy outside the root "
            "namespace changes the sampling only of its own namespace's workloads)");

  // Unshared, the bump applies.
  r = served_ratios({bump, by_root("tenant-b", "billing", "billing", "0.1")}, kDefault, kInstance);
  EXPECT_EQ(r.ratios, (Ratios{{"billing", "0.1"}, {"checkout", "1"}}));
  EXPECT_TRUE(r.refused.empty());
}

TEST(ServedRatios, ARootBumpOnASharedNameCounts) {
  // A root policy's bump decides tenant-a's workload even though a tenant policy sets its base.
  auto r = served_ratios({by_root("tenant-a", "checkout", "checkout", "1", "tracing-system/debug"),
                          by_root("tenant-b", "checkout", "checkout", "0.1")},
                         kDefault, kInstance);
  EXPECT_EQ(r.ratios, (Ratios{{"checkout", "1"}}));
  EXPECT_TRUE(r.refused.empty());
}

TEST(ServedRatios, OneReportPerPolicyServiceAndRatio) {
  auto r = served_ratios({by_namespace("tenant-a", "checkout-1", "checkout", "1", "0.1"),
                          by_namespace("tenant-a", "checkout-2", "checkout", "1", "0.1"),
                          by_root("tenant-b", "checkout", "checkout", "0.1")},
                         kDefault, kInstance);
  EXPECT_EQ(r.ratios, (Ratios{{"checkout", "0.1"}}));
  EXPECT_EQ(r.refused.size(), 1u);
}

TEST(ServedRatios, DoesNotDependOnTheOrderOfContributions) {
  std::vector<StrategyContribution> cs = {
      by_namespace("tenant-a", "checkout", "checkout", "1", "0.1"),
      by_root("tenant-b", "checkout", "checkout", "0.2"),
      by_root("tenant-c", "checkout", "checkout", "0.2"),
      by_namespace("tenant-b", "cart", "cart", "0.5", std::nullopt),
      by_namespace("tenant-b", "cart-2", "cart", "0.6", std::nullopt, "q"),
  };
  ServedRatios forward = served_ratios(cs, kDefault, kInstance);
  std::reverse(cs.begin(), cs.end());
  ServedRatios backward = served_ratios(cs, kDefault, kInstance);
  EXPECT_EQ(forward.ratios, (Ratios{{"cart", "0.6"}, {"checkout", "0.2"}}));
  EXPECT_EQ(backward.ratios, forward.ratios);
  EXPECT_EQ(backward.refused, forward.refused);
  EXPECT_EQ(backward.collisions, forward.collisions);
  EXPECT_EQ(forward.collisions,
            (std::vector<std::string>{"cart: 0.6 (tenant-b/cart-2) over 0.5 (tenant-b/cart)",
                                      "checkout: 0.2 (tenant-b/checkout) over 0.1 "
                                      "(tenant-a/checkout)"}));
}

using Bump = StrategyContribution::OperationBump;
using Operations = std::map<std::string, std::map<std::string, std::string>>;

TEST(ServedRatios, PerOperationBumpsAreServedAboveTheServiceRatioHighestWinning) {
  StrategyContribution api = by_root("shop", "api", "task-api", "0.1");
  api.operations = {{"POST /tasks", Bump{"1", "tracing-system/cluster", true}},
                    {"GET /tasks", Bump{"0.5", "tracing-system/cluster", true}}};
  StrategyContribution api2 = by_root("shop", "api-2", "task-api", "0.6");
  api2.operations = {{"POST /tasks", Bump{"0.7", "tracing-system/other", true}}};
  auto r = served_ratios({api, api2}, kDefault, kInstance);
  EXPECT_EQ(r.ratios, (Ratios{{"task-api", "0.6"}}));
  // GET /tasks at 0.5 is below the service's 0.6: the service's ratio covers it.
  EXPECT_EQ(r.operations, (Operations{{"task-api", {{"POST /tasks", "1"}}}}));
  EXPECT_TRUE(r.refused.empty());
}

TEST(ServedRatios, ANamespacePolicysOperationBumpCountsOnlyWhileTheServiceIsItsAlone) {
  StrategyContribution own = by_root("tenant-a", "api", "task-api", "0");
  own.operations = {{"POST /tasks", Bump{"1", "tenant-a/debug", false}}};
  auto alone = served_ratios({own}, kDefault, kInstance);
  EXPECT_EQ(alone.operations, (Operations{{"task-api", {{"POST /tasks", "1"}}}}));
  EXPECT_TRUE(alone.refused.empty());

  // The same service name in tenant-b: tenant-a's bump is refused (the ratio itself comes from
  // a root policy, so it still counts), and a root policy's bump of another operation counts.
  own.root_ratio = "0";
  own.root_operations = {{"GET /tasks", Bump{"0.3", "tracing-system/cluster", true}}};
  own.operations["GET /tasks"] = own.root_operations["GET /tasks"];
  // tenant-b's workload carries a root policy's bump among its own: it counts as well.
  StrategyContribution other = by_root("tenant-b", "api", "task-api", "0");
  other.operations = {{"DELETE /tasks", Bump{"0.9", "tracing-system/cluster", true}}};
  auto shared = served_ratios({own, other}, kDefault, kInstance);
  EXPECT_EQ(shared.ratios, (Ratios{{"task-api", "0"}}));
  EXPECT_EQ(shared.operations,
            (Operations{{"task-api", {{"DELETE /tasks", "0.9"}, {"GET /tasks", "0.3"}}}}));
  ASSERT_EQ(shared.refused.size(), 1u);
  EXPECT_EQ(shared.refused[0].policy, "tenant-a/debug");
  EXPECT_EQ(shared.refused[0].operation, "POST /tasks");
  EXPECT_EQ(shared.refused[0].namespaces, std::vector<std::string>{"tenant-b"});
  EXPECT_EQ(shared.refused[0].served_ratio, "0");
  EXPECT_EQ(shared.refused[0].message,
            "service task-api also runs in namespace tenant-b on the same managed Jaeger "
            "tracing-system/jaeger (one strategy per service name): the ratio 1 this policy's "
            "debug bump sets for operation \"POST /tasks\" is refused and that operation is "
            "served 0 (a policy outside the root namespace changes the sampling only of its own "
            "namespace's workloads)");
}

}  // namespace
}  // namespace tracing::controllers
