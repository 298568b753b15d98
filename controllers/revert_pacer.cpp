#include "controllers/revert_pacer.h"

#include <iterator>

#include "controllers/apply_intent.h"

namespace tracing::controllers {

namespace {

// How long a waiting revert keeps its place without asking again (it asks every second).
constexpr auto kWaitingForgotten = std::chrono::seconds(10);

}  // namespace

bool RevertPacer::admit(const std::string& key, const Budget& budget, std::string* why, bool* held,
                        Clock::time_point now) {
  std::lock_guard g(mu_);
  *held = false;
  const std::string name = budget.group.empty() ? "--max-concurrent-reverts" : budget.group;
  // The budget's reverts in flight: rolling, or failed (which stops the rest).
  std::string failed;
  const int rolling = count_in_flight(budget.group, &failed);
  auto& waiting = waiting_[budget.group];
  for (auto it = waiting.begin(); it != waiting.end();) {
    it = now - it->second > kWaitingForgotten ? waiting.erase(it) : std::next(it);
  }
  waiting[key] = now;
  if (budget.paused) {
    *why = "the revert waits: rollouts of " + name + " are paused (rollout.paused)";
    *held = true;
    return false;
  }
  if (!failed.empty()) {
    *why = "the revert waits: reverted workload " + failed + " exceeded its progress deadline, " +
           "so reverts of " + name + " stop until it recovers";
    *held = true;
    return false;
  }
  if (budget.max > 0) {
    int slots = budget.max - rolling - budget.rolling_elsewhere;
    long rank = slots > 0 ? std::distance(waiting.begin(), waiting.find(key)) : 0;
    if (slots <= 0 || rank >= slots) {
      *why = "the revert waits its turn: " + std::to_string(rolling) + " reverts " +
             (budget.rolling_elsewhere > 0
                  ? "and " + std::to_string(budget.rolling_elsewhere) + " rollouts "
                  : "") +
             "of " + name + " rolling (max " + std::to_string(budget.max) + ")";
      return false;
    }
  }
  waiting.erase(key);
  if (waiting.empty()) waiting_.erase(budget.group);
  in_flight_[key] = InFlight{budget.group, 0};
  return true;
}

int RevertPacer::count_in_flight(const std::string& group, std::string* failed) const {
  int rolling = 0;
  for (auto it = in_flight_.begin(); it != in_flight_.end();) {
    const InFlight& f = it->second;
    if (f.generation == 0) {  // write under way
      rolling += f.group == group;
      ++it;
      continue;
    }
    std::optional<Rollout> d = deployments_(it->first);
    int64_t generation = d ? d->generation : 0;
    RolloutState state = d ? d->state : RolloutState::kComplete;
    if (!d || (generation >= f.generation && state == RolloutState::kComplete)) {
      it = in_flight_.erase(it);  // gone, or rolled out
      continue;
    }
    if (f.group == group) {
      if (generation >= f.generation && state == RolloutState::kFailed) {
        if (failed && failed->empty()) *failed = it->first;
      } else {
        ++rolling;
      }
    }
    ++it;
  }
  return rolling;
}

int RevertPacer::rolling(const std::string& group) const {
  std::lock_guard g(mu_);
  return count_in_flight(group, nullptr);
}

void RevertPacer::started(const std::string& key, int64_t generation) {
  std::lock_guard g(mu_);
  auto it = in_flight_.find(key);
  if (it == in_flight_.end()) return;
  if (generation <= 0) {
    in_flight_.erase(it);  // nothing rolls
  } else {
    it->second.generation = generation;
  }
}

void RevertPacer::cancel(const std::string& key) {
  std::lock_guard g(mu_);
  in_flight_.erase(key);
}

}  // namespace tracing::controllers
