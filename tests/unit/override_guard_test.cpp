#include "controllers/override_guard.h"

#include <gtest/gtest.h>

namespace tracing::controllers {
namespace {

using namespace std::chrono_literals;

// A fight over OTEL_TRACES_SAMPLER of ns/w, container app, in fake time.
class Fight : public ::testing::Test {
 protected:
  OverrideGuard guard{30s};
  WallTime t = WallTime{} + 1000h;
  const std::string desired = R"({"name":"OTEL_TRACES_SAMPLER","value":"always_on"})";

  // The other manager took it back at `t`: whether the operator retakes it (and if so, writes).
  bool takeback(const std::string& want, bool* started = nullptr) {
    bool retake = guard.may_retake("ns/w", "app", "OTEL_TRACES_SAMPLER", want, "argocd-controller",
                                   t, started);
    if (retake) guard.retook("ns/w", "app", "OTEL_TRACES_SAMPLER", t);
    return retake;
  }
  bool takeback() { return takeback(desired); }
  std::optional<OverrideGuard::Contest> held() const {
    return guard.backed_off("ns/w", "app", "OTEL_TRACES_SAMPLER", desired, t);
  }
};

TEST_F(Fight, TwoRetakesThenABackOffThatDoublesAfterEachFailedProbe) {
  EXPECT_TRUE(takeback());
  t += 1s;
  EXPECT_TRUE(takeback());
  EXPECT_FALSE(held());
  t += 1s;
  const uint64_t v = guard.version();
  bool started = false;
  EXPECT_FALSE(takeback(desired, &started)) << "the third take-back within the window backs off";
  EXPECT_TRUE(started);
  EXPECT_GT(guard.version(), v) << "decisions that read backed_off() see the change";
  auto h = held();
  ASSERT_TRUE(h);
  EXPECT_EQ(h->manager, "argocd-controller");
  EXPECT_EQ(h->takebacks, 3);
  EXPECT_EQ(h->backoffs, 1);
  EXPECT_EQ(h->until, t + 30s);

  // While backed off: no retake, and asking again neither extends nor starts anything.
  t += 29s;
  EXPECT_FALSE(takeback(desired, &started));
  EXPECT_FALSE(started);
  EXPECT_EQ(held()->until, t + 1s);

  // At its end: one retake (the probe); taken back again within the window: twice as long.
  t += 1s;
  EXPECT_FALSE(held());
  EXPECT_TRUE(takeback());
  t += 2s;
  EXPECT_FALSE(takeback(desired, &started));
  EXPECT_TRUE(started);
  EXPECT_EQ(held()->until, t + 60s);
  EXPECT_EQ(held()->backoffs, 2);
  t += 60s;
  EXPECT_TRUE(takeback());
  t += 1s;
  EXPECT_FALSE(takeback());
  EXPECT_EQ(held()->until, t + 120s);
}

TEST_F(Fight, BackOffIsCappedAtFifteenMinutes) {
  EXPECT_TRUE(takeback());
  EXPECT_TRUE(takeback());
  for (int i = 0; i < 12; ++i) {
    EXPECT_FALSE(takeback());
    auto h = held();
    ASSERT_TRUE(h);
    EXPECT_LE(h->until - t, OverrideGuard::kMaxBackoff);
    t = h->until;
    EXPECT_TRUE(takeback()) << "the probe after back-off " << i + 1;
    t += 1s;
  }
  EXPECT_FALSE(takeback());
  EXPECT_EQ(held()->until, t + OverrideGuard::kMaxBackoff);
}

TEST_F(Fight, TakeBacksFurtherApartThanTheWindowNeverBackOff) {
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE(takeback()) << i;
    t += OverrideGuard::kWindow;
  }
  EXPECT_FALSE(held());
}

TEST_F(Fight, AProbeThatHoldsForTheWindowEndsTheFight) {
  EXPECT_TRUE(takeback());
  EXPECT_TRUE(takeback());
  EXPECT_FALSE(takeback());
  t = held()->until;
  EXPECT_TRUE(takeback());  // the probe holds
  t += OverrideGuard::kWindow;
  // A new fight later: two retakes again before backing off for the base period.
  EXPECT_TRUE(takeback());
  EXPECT_TRUE(takeback());
  EXPECT_FALSE(takeback());
  EXPECT_EQ(held()->backoffs, 1);
  EXPECT_EQ(held()->until, t + 30s);
}

TEST_F(Fight, ANewDesiredValueRetakesAtOnce) {
  EXPECT_TRUE(takeback());
  EXPECT_TRUE(takeback());
  EXPECT_FALSE(takeback());
  const std::string edited = R"({"name":"OTEL_TRACES_SAMPLER","value":"always_off"})";
  EXPECT_FALSE(guard.backed_off("ns/w", "app", "OTEL_TRACES_SAMPLER", edited, t))
      << "the policy changed: the back-off was about the old value";
  EXPECT_TRUE(takeback(edited));
}

TEST_F(Fight, AVariableRetakenWithoutAWriteIsNotCounted) {
  // Asked again and again (a reconcile retried before its write got through): no retake counted.
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(
        guard.may_retake("ns/w", "app", "OTEL_TRACES_SAMPLER", desired, "argocd-controller", t));
  }
  EXPECT_FALSE(held());
}

TEST_F(Fight, WorkloadsAndVariablesAreSeparateAndForgotten) {
  EXPECT_TRUE(takeback());
  EXPECT_TRUE(takeback());
  EXPECT_FALSE(takeback());
  EXPECT_FALSE(guard.backed_off("ns/w", "app", "OTEL_PROPAGATORS", desired, t));
  EXPECT_FALSE(guard.backed_off("ns/other", "app", "OTEL_TRACES_SAMPLER", desired, t));
  EXPECT_TRUE(guard.may_retake("ns/other", "app", "OTEL_TRACES_SAMPLER", desired, "helm", t));
  guard.forget("ns/w");
  EXPECT_FALSE(held()) << "a deleted workload's fight is forgotten";
}

}  // namespace
}  // namespace tracing::controllers
