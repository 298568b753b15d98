#include "controllers/revert_pacer.h"

#include <gtest/gtest.h>

#include "controllers/apply_intent.h"

namespace tracing::controllers {
namespace {

using namespace std::chrono_literals;

// The Deployments the pacer looks at, as the informer's store would hold them.
class Deployments {
 public:
  // A Deployment at `generation`, rolled out (observed, all replicas updated and available),
  // still rolling, or past its progress deadline.
  void set(const std::string& key, int64_t generation, RolloutState state) {
    json status = {{"observedGeneration", generation},
                   {"replicas", 1},
                   {"updatedReplicas", 1},
                   {"availableReplicas", 1}};
    if (state == RolloutState::kRolling) status["observedGeneration"] = generation - 1;
    if (state == RolloutState::kFailed) {
      status["availableReplicas"] = 0;
      status["conditions"] = {{{"type", "Progressing"}, {"reason", "ProgressDeadlineExceeded"}}};
    }
    objects_[key] = std::make_shared<const json>(json{{"metadata", {{"generation", generation}}},
                                                      {"spec", {{"replicas", 1}}},
                                                      {"status", status}});
  }
  void erase(const std::string& key) { objects_.erase(key); }
  RevertPacer::Lookup lookup() {
    return [this](const std::string& key) -> std::optional<RevertPacer::Rollout> {
      auto it = objects_.find(key);
      if (it == objects_.end()) return std::nullopt;
      const WorkloadRecord r = record_workload(*it->second);
      return RevertPacer::Rollout{r.generation, rollout_state(r)};
    };
  }

 private:
  std::map<std::string, std::shared_ptr<const json>> objects_;
};

struct Ask {
  bool admitted;
  std::string why;
  bool held;
};

Ask ask(RevertPacer& p, const std::string& key, const RevertPacer::Budget& b,
        RevertPacer::Clock::time_point now) {
  Ask a{};
  a.admitted = p.admit(key, b, &a.why, &a.held, now);
  return a;
}

TEST(RevertPacer, AdmitsAtMostMaxRollingInNameOrderAndMovesOnAsRolloutsComplete) {
  Deployments d;
  RevertPacer p(d.lookup());
  const RevertPacer::Budget b{"shop/p", 2, false};
  auto t = RevertPacer::Clock::time_point{} + 1h;
  for (const char* k : {"shop/c", "shop/e", "shop/d", "shop/a", "shop/b"}) {
    d.set(k, 1, RolloutState::kComplete);
  }
  for (const char* k : {"shop/c", "shop/e"}) {  // the first two to ask find free slots
    ASSERT_TRUE(ask(p, k, b, t).admitted);
    p.started(k, 2);
    d.set(k, 2, RolloutState::kRolling);
  }
  for (const char* k : {"shop/d", "shop/b", "shop/a"}) {
    Ask full = ask(p, k, b, t);
    EXPECT_FALSE(full.admitted);
    EXPECT_FALSE(full.held);
    EXPECT_EQ(full.why, "the revert waits its turn: 2 reverts of shop/p rolling (max 2)");
  }
  // c's rollout completes: of those waiting, a (first by name) takes the slot, whoever asks first.
  d.set("shop/c", 2, RolloutState::kComplete);
  EXPECT_FALSE(ask(p, "shop/d", b, t).admitted);
  EXPECT_FALSE(ask(p, "shop/b", b, t).admitted);
  EXPECT_TRUE(ask(p, "shop/a", b, t).admitted);
  p.started("shop/a", 2);
  d.set("shop/a", 2, RolloutState::kRolling);
  // e completes: b before d.
  d.set("shop/e", 2, RolloutState::kComplete);
  EXPECT_FALSE(ask(p, "shop/d", b, t).admitted);
  EXPECT_TRUE(ask(p, "shop/b", b, t).admitted);
}

// §9 bounds a policy's workloads rolling at once: its rollouts and its reverts share `max`.
TEST(RevertPacer, ThePolicysRolloutsTakeSlotsOfTheSameBudgetAndRollingCountsTheReverts) {
  Deployments d;
  RevertPacer p(d.lookup());
  auto t = RevertPacer::Clock::time_point{} + 1h;
  for (const char* k : {"shop/a", "shop/b", "shop/c"}) d.set(k, 1, RolloutState::kComplete);
  RevertPacer::Budget b{"shop/p", 3, false, 2};  // 2 of its rollouts rolling: 1 slot left
  ASSERT_TRUE(ask(p, "shop/a", b, t).admitted);
  EXPECT_EQ(p.rolling("shop/p"), 1) << "a write under way holds its slot";
  Ask full = ask(p, "shop/b", b, t);
  EXPECT_FALSE(full.admitted);
  EXPECT_FALSE(full.held);
  EXPECT_EQ(full.why,
            "the revert waits its turn: 1 reverts and 2 rollouts of shop/p rolling (max 3)");
  p.started("shop/a", 2);
  d.set("shop/a", 2, RolloutState::kRolling);
  EXPECT_EQ(p.rolling("shop/p"), 1);
  EXPECT_EQ(p.rolling("other/q"), 0) << "another policy's budget";
  b.rolling_elsewhere = 1;  // one rollout completed
  EXPECT_TRUE(ask(p, "shop/b", b, t).admitted);
  EXPECT_EQ(p.rolling("shop/p"), 2);
  p.started("shop/b", 2);
  d.set("shop/b", 2, RolloutState::kRolling);
  EXPECT_FALSE(ask(p, "shop/c", b, t).admitted);
  d.set("shop/a", 2, RolloutState::kComplete);
  EXPECT_EQ(p.rolling("shop/p"), 1) << "a's revert rolled out";
  EXPECT_TRUE(ask(p, "shop/c", b, t).admitted);
}

TEST(RevertPacer, AWriteUnderWayHoldsItsSlotUntilStartedOrCancelled) {
  Deployments d;
  RevertPacer p(d.lookup());
  const RevertPacer::Budget b{"", 1, false};
  auto t = RevertPacer::Clock::time_point{} + 1h;
  d.set("a/x", 1, RolloutState::kComplete);
  ASSERT_TRUE(ask(p, "a/x", b, t).admitted);
  Ask waiting = ask(p, "a/y", b, t);
  EXPECT_FALSE(waiting.admitted);
  EXPECT_EQ(waiting.why,
            "the revert waits its turn: 1 reverts of --max-concurrent-reverts rolling (max 1)");
  p.cancel("a/x");  // the write failed
  EXPECT_TRUE(ask(p, "a/y", b, t).admitted);
  // A revert that did not change the pod template (generation unchanged) holds nothing.
  p.started("a/y", 0);
  EXPECT_TRUE(ask(p, "a/z", b, t).admitted);
}

TEST(RevertPacer, AFailedRevertStopsItsBudgetAndPausedHoldsEverything) {
  Deployments d;
  RevertPacer p(d.lookup());
  auto t = RevertPacer::Clock::time_point{} + 1h;
  d.set("shop/a", 1, RolloutState::kComplete);
  ASSERT_TRUE(ask(p, "shop/a", {"shop/p", 5, false}, t).admitted);
  p.started("shop/a", 2);
  d.set("shop/a", 2, RolloutState::kFailed);
  Ask stopped = ask(p, "shop/b", {"shop/p", 5, false}, t);
  EXPECT_FALSE(stopped.admitted);
  EXPECT_TRUE(stopped.held);
  EXPECT_EQ(stopped.why,
            "the revert waits: reverted workload shop/a exceeded its progress deadline, so "
            "reverts of shop/p stop until it recovers");
  // Another budget is not affected.
  EXPECT_TRUE(ask(p, "other/b", {"other/q", 5, false}, t).admitted);
  // Recovered (or deleted): the budget moves again.
  d.erase("shop/a");
  EXPECT_TRUE(ask(p, "shop/b", {"shop/p", 5, false}, t).admitted);

  Ask paused = ask(p, "shop/c", {"shop/p", 5, true}, t);
  EXPECT_FALSE(paused.admitted);
  EXPECT_TRUE(paused.held);
  EXPECT_EQ(paused.why, "the revert waits: rollouts of shop/p are paused (rollout.paused)");
}

TEST(RevertPacer, AWaiterThatStoppedAskingLosesItsPlaceAndNoBoundAdmitsAll) {
  Deployments d;
  RevertPacer p(d.lookup());
  const RevertPacer::Budget b{"shop/p", 1, false};
  auto t = RevertPacer::Clock::time_point{} + 1h;
  d.set("shop/z", 1, RolloutState::kComplete);
  ASSERT_TRUE(ask(p, "shop/z", b, t).admitted);
  p.started("shop/z", 2);
  d.set("shop/z", 2, RolloutState::kRolling);
  EXPECT_FALSE(ask(p, "shop/a", b, t).admitted);  // a waits (re-selected later: never asks again)
  d.set("shop/z", 2, RolloutState::kComplete);
  EXPECT_FALSE(ask(p, "shop/m", b, t + 1s).admitted) << "a is still ahead";
  EXPECT_TRUE(ask(p, "shop/m", b, t + 12s).admitted) << "a stopped asking 12 s ago";
  for (int i = 0; i < 100; ++i) {
    EXPECT_TRUE(ask(p, "x/" + std::to_string(i), {"x/q", 0, false}, t).admitted);
  }
}

}  // namespace
}  // namespace tracing::controllers
