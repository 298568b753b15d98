// Reverts paced like rollouts: which revert may start now. Pure bookkeeping over a lookup of
// the Deployments (the informer's store) and an injected clock.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "controllers/api/policy.h"
#include "controllers/apply_intent.h"

namespace tracing::controllers {

// Reverts paced like rollouts (SPEC §4, §9). A revert that rolls pods belongs to the budget of
// the policy that governed the workload (the first of its policies annotation): that policy's
// rollout settings while the operator still knows it (deleting included), else
// `--max-concurrent-reverts`. At most `max` of a budget's reverts are rolling at once, admitted
// in namespace/name order among the reverts waiting, and the policy's own rollouts rolling count
// against the same `max` (§9 bounds a policy's workloads rolling at once, whichever the change;
// rolling() gives the reverts' share to the rollouts' budget); none while the policy's rollouts are
// paused or while one of the budget's reverted workloads has exceeded its progress deadline.
// A revert's rollout is followed in the Deployment informer's store until it completes or the
// Deployment goes. In memory only: after a restart the reverts rolling then are not counted.
class RevertPacer {
 public:
  struct Budget {
    std::string group;  // the governing policy's key, or "" for --max-concurrent-reverts
    int max = 0;        // 0: no bound
    bool paused = false;
    int rolling_elsewhere = 0;  // the group's rollouts (not reverts) rolling now: they share `max`
  };
  using Clock = std::chrono::steady_clock;
  // A Deployment's generation and rollout, as the informer's store shows it.
  struct Rollout {
    int64_t generation = 0;
    RolloutState state = RolloutState::kComplete;
  };
  // Looks a Deployment up; nullopt when it is gone.
  using Lookup = std::function<std::optional<Rollout>(const std::string& key)>;
  explicit RevertPacer(Lookup deployments) : deployments_(std::move(deployments)) {}
  // Whether the revert of `key` may start now. On true it holds a slot: started() or cancel()
  // must follow. On false `why` says why, and `held` whether it waits on a paused or failed
  // rollout (rather than for its turn).
  bool admit(const std::string& key, const Budget& budget, std::string* why, bool* held,
             Clock::time_point now = Clock::now());
  // The revert's write succeeded and produced `generation`: follow its rollout.
  void started(const std::string& key, int64_t generation);
  void cancel(const std::string& key);
  // The group's reverts rolling now (admitted, under way or not yet rolled out).
  int rolling(const std::string& group) const;

 private:
  struct InFlight {
    std::string group;
    int64_t generation = 0;  // 0 while the write is under way
  };
  // Counts the group's reverts in flight (forgetting those gone or rolled out) under mu_; the
  // first failed one goes to `failed`.
  int count_in_flight(const std::string& group, std::string* failed) const;
  Lookup deployments_;
  mutable std::mutex mu_;
  // Mutable: rolling() forgets the entries that rolled out, which nothing else could observe.
  mutable std::map<std::string, InFlight> in_flight_;
  // group → waiting key → when it last asked (forgotten after a while: it moved on).
  std::map<std::string, std::map<std::string, Clock::time_point>> waiting_;
};

}  // namespace tracing::controllers
