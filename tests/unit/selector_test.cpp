#include "controllers/api/selector.h"

#include <gtest/gtest.h>

namespace tracing::controllers {
namespace {

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

}  // namespace
}  // namespace tracing::controllers
