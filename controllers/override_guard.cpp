// Back-off bookkeeping of override fights (override_guard.h). No I/O, no clock.
#include "controllers/override_guard.h"

#include <algorithm>

namespace tracing::controllers {

void OverrideGuard::set_base(std::chrono::milliseconds base) {
  std::lock_guard g(mu_);
  base_ = base;
}

bool OverrideGuard::may_retake(const std::string& workload, const std::string& container,
                               const std::string& variable, const std::string& desired,
                               const std::string& manager, WallTime now, bool* started) {
  if (started) *started = false;
  std::lock_guard g(mu_);
  Entry& e = entries_[Id{workload, container, variable}];
  if (e.desired != desired) e = Entry{desired};  // a new value wanted: a new fight
  e.manager = manager;
  if (e.until && now < *e.until) return false;
  // A retake that held for the whole window ended the fight.
  if (!e.retakes.empty() && now - e.retakes.back() >= kWindow) e = Entry{desired, manager};
  std::erase_if(e.retakes, [&](WallTime t) { return now - t >= kWindow; });
  ++e.takebacks;
  // First round: kRetakes retakes; after a back-off, one (the probe).
  const size_t allowed = e.backoffs == 0 ? kRetakes : 1;
  if (e.retakes.size() < allowed) return true;
  ++e.backoffs;
  auto backoff = base_ * (int64_t{1} << std::min(e.backoffs - 1, 20));
  backoff = std::min<std::chrono::milliseconds>(backoff, kMaxBackoff);
  e.until = now + backoff;
  e.retakes.clear();
  ++version_;
  if (started) *started = true;
  return false;
}

void OverrideGuard::retook(const std::string& workload, const std::string& container,
                           const std::string& variable, WallTime now) {
  std::lock_guard g(mu_);
  auto it = entries_.find(Id{workload, container, variable});
  if (it != entries_.end()) it->second.retakes.push_back(now);
}

std::optional<OverrideGuard::Contest> OverrideGuard::backed_off(const std::string& workload,
                                                                const std::string& container,
                                                                const std::string& variable,
                                                                const std::string& desired,
                                                                WallTime now) const {
  std::lock_guard g(mu_);
  auto it = entries_.find(Id{workload, container, variable});
  if (it == entries_.end()) return std::nullopt;
  const Entry& e = it->second;
  if (e.desired != desired || !e.until || !(now < *e.until)) return std::nullopt;
  return Contest{workload, container, variable, e.manager, e.takebacks, e.backoffs, *e.until};
}

void OverrideGuard::forget(const std::string& workload) {
  std::lock_guard g(mu_);
  std::erase_if(entries_, [&](const auto& kv) { return std::get<0>(kv.first) == workload; });
}

uint64_t OverrideGuard::version() const {
  std::lock_guard g(mu_);
  return version_;
}

}  // namespace tracing::controllers
