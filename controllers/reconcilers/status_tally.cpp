#include "controllers/reconcilers/status_tally.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "controllers/apply_intent.h"

namespace tracing::controllers {

namespace {

bool same_conflicts(const std::vector<Conflict>& a, const std::vector<Conflict>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
    return x.container == y.container && x.variable == y.variable && x.reason == y.reason;
  });
}

// Adds `value` under `order` (sign 1) or removes the entry (-1).
template <typename V>
void keep(std::map<Tally::Order, V>& m, const Tally::Order& order, V value, int sign) {
  if (sign > 0) {
    m.insert_or_assign(order, std::move(value));
  } else {
    m.erase(order);
  }
}

}  // namespace

bool Tally::operator==(const Tally& o) const {
  return matched == o.matched && configured == o.configured && conflicted == o.conflicted &&
         opted_out == o.opted_out && dapr_unavailable == o.dapr_unavailable &&
         rolling == o.rolling && rollout_failed == o.rollout_failed && held == o.held &&
         untrusted == o.untrusted && contested == o.contested &&
         restart_listed == o.restart_listed && remote_unserved == o.remote_unserved &&
         received == o.received && held_reasons == o.held_reasons &&
         untrusted_messages == o.untrusted_messages && contested_messages == o.contested_messages &&
         std::equal(conflicts.begin(), conflicts.end(), o.conflicts.begin(), o.conflicts.end(),
                    [](const auto& a, const auto& b) {
                      return a.first == b.first && same_conflicts(a.second, b.second);
                    });
}

void StatusTally::count(Tally& t, const WorkloadRecord& d, const WorkloadReconciler::Facts& f,
                        const std::string& policy, int sign) {
  const EffectiveConfig* c = f.config.get();
  if (c && !f.opted_out && c->unusable.empty() &&
      std::find(c->policies.begin(), c->policies.end(), policy) != c->policies.end()) {
    if (c->mode != "remote") {
      t.restart_listed += sign;
    } else if (!c->strategies_served()) {
      t.remote_unserved += sign;
    }
  }
  if (!c || c->governing != policy) return;
  if (f.opted_out) {
    t.opted_out += sign;
    return;
  }
  t.matched += sign;
  // Only for the few workloads listed by name.
  auto order = [&d] { return Tally::Order{static_cast<int>(d.kind), *d.ns + "/" + d.name}; };
  if (!c->unusable.empty()) {
    // Kept as it is (§4): neither configured nor pending.
    t.held += sign;
    keep(t.held_reasons, order(), c->unusable, sign);
    return;
  }
  if (f.dapr_unavailable) t.dapr_unavailable += sign;
  Tally::Received r{c->effective_sampler(), c->effective_ratio(), c->ratio_source(), c->endpoint};
  if ((t.received[r] += sign) == 0) t.received.erase(r);
  const RolloutState state = rollout_state(d);
  if (state == RolloutState::kFailed) {
    t.rollout_failed += sign;
  } else if (state == RolloutState::kRolling) {
    t.rolling += sign;
  }
  if (f.up_to_date) t.configured += sign;
  if (f.untrusted) {
    t.untrusted += sign;
    keep(t.untrusted_messages, order(), std::string(*f.untrusted), sign);
  }
  if (!f.conflicts().empty()) {
    t.conflicted += sign;
    keep(t.conflicts, order(), f.conflicts(), sign);
  }
  if (!f.contested().empty()) {
    t.contested += sign;
    const auto& k = f.contested().front();
    keep(t.contested_messages, order(),
         k.workload + " " + k.variable + " (container " + k.container + ") taken back by " +
             k.manager + " " + std::to_string(k.takebacks) + " times; not retaken until " +
             format_rfc3339(k.until),
         sign);
  }
}

void StatusTally::changed(const RecordPtr& old, const std::string& key, std::string_view ns) {
  std::lock_guard g(mu_);
  for (auto& s : slots_) {
    if (s.policy.empty() || !s.built || !(s.root || s.ns == ns)) continue;
    if (s.replaced.size() >= kMaxPending || s.keys.size() >= kMaxPending) {
      // Its passes have not run for a while (a policy that cannot be used, one being deleted):
      // rather than keep every version replaced meanwhile, it counts afresh at its next pass.
      s.built = false;
      s.replaced = {};
      s.keys = {};
      continue;
    }
    if (old) s.replaced.push_back(old);
    s.keys.insert(key);
  }
}

void StatusTally::forget(const std::string& policy) {
  std::lock_guard g(mu_);
  for (auto& s : slots_) {
    if (s.policy == policy) s = Slot{.epoch = s.epoch};
  }
}

int StatusTally::slot_of(const Policy& p) {
  const std::string key = p.key();
  const bool root = p.ns == ctx_.root_namespace;
  std::lock_guard g(mu_);
  int free = -1, namespaced = -1;
  for (int i = 0; i < TallyMarks::kSlots; ++i) {
    if (slots_[i].policy == key) return i;
    if (slots_[i].policy.empty() && free < 0) free = i;
    if (!slots_[i].policy.empty() && !slots_[i].root && namespaced < 0) namespaced = i;
  }
  int i = free >= 0 ? free : root ? namespaced : -1;
  if (i < 0) return -1;
  // The epoch goes on from the slot's previous holder's: a version it marked is not this
  // policy's.
  slots_[i] = Slot{.policy = key, .ns = p.ns, .root = root, .epoch = slots_[i].epoch};
  return i;
}

Tally StatusTally::full(const Policy& p, uint64_t* reads) const {
  Tally t;
  const std::string key = p.key();
  for (const auto& d : ctx_.workloads_in_scope(p)) {
    count(t, *d, *workloads_.facts(d), key, 1);
    ++*reads;
  }
  return t;
}

Tally StatusTally::tally(const Policy& p, uint64_t* reads) {
  const int i = slot_of(p);
  if (i < 0) return full(p, reads);
  Slot& s = slots_[i];
  const std::string key = p.key();
  std::vector<RecordPtr> replaced;
  std::set<std::string> keys;
  bool recount;
  {
    std::lock_guard g(mu_);
    recount = !s.built;
    replaced.swap(s.replaced);
    keys.swap(s.keys);
  }
  // Counts the version `d` and marks it counted.
  auto add = [&](const RecordPtr& d) {
    auto f = workloads_.facts(d);
    count(s.tally, *d, *f, key, 1);
    d->tallied.set(i, s.epoch);
    s.valid_until = std::min(s.valid_until, f->valid_until);
    ++*reads;
  };
  const WorkloadReconciler::Facts::Stamp stamp = workloads_.stamp();
  const char* why = recount                       ? "none kept"
                    : !(stamp == s.stamp)         ? "the decisions' inputs changed"
                    : ctx_.now() >= s.valid_until ? "a decision's validity ended"
                                                  : nullptr;
  recount = why != nullptr;
  if (!recount) {
    for (const auto& old : replaced) {
      if (old->tallied.get(i) != s.epoch) continue;  // not counted: replaced before a count
      auto f = std::static_pointer_cast<const WorkloadReconciler::Facts>(old->memo.load());
      if (!f || !(f->stamp() == s.stamp)) {  // not the Facts it was counted with
        recount = true;
        why = "a replaced version's decision is gone";
        break;
      }
      count(s.tally, *old, *f, key, -1);
      old->tallied.set(i, 0);
      ++*reads;
    }
  }
  if (!recount) {
    for (const auto& k : keys) {
      RecordPtr d = ctx_.workloads.get(k);
      if (d && d->tallied.get(i) != s.epoch) add(d);
    }
    if (verify_) check(p, i);
    return s.tally;
  }
  {
    // Changes from here on are the next pass's; what the store holds now is counted below.
    std::lock_guard g(mu_);
    s.built = true;
    s.replaced.clear();
    s.keys.clear();
  }
  spdlog::debug("status tally of {}: counting every workload afresh ({})", key, why);
  s.epoch = static_cast<uint8_t>(s.epoch % 15 + 1);  // 1..15: 0 is "not counted"
  s.tally = Tally{};
  s.stamp = stamp;
  s.valid_until = WallTime::max();
  for (const auto& d : ctx_.workloads_in_scope(p)) add(d);
  if (verify_) check(p, i);
  return s.tally;
}

void StatusTally::check(const Policy& p, int i) const {
  const Slot& s = slots_[i];
  const std::string key = p.key();
  if (!(workloads_.stamp() == s.stamp) || ctx_.now() >= s.valid_until) return;
  Tally whole;
  size_t n = 0;
  for (const auto& d : ctx_.workloads_in_scope(p)) {
    ++n;
    // A version this tally has not counted yet (the store moved on since the pass began) or
    // Facts not from the tally's inputs: the two cannot be compared now; a later pass will.
    if (d->tallied.get(i) != s.epoch) return;
    auto f = std::static_pointer_cast<const WorkloadReconciler::Facts>(d->memo.load());
    if (!f || !(f->stamp() == s.stamp)) return;
    count(whole, *d, *f, key, 1);
  }
  if (whole == s.tally) {
    spdlog::debug("status tally of {} checked: the same as a count of its {} workloads", key, n);
    return;
  }
  spdlog::error(
      "status tally mismatch: policy {}: kept {}/{} configured, {} held, {} opted out, {} "
      "rolling; counted afresh {}/{}, {} held, {} opted out, {} rolling",
      key, s.tally.configured, s.tally.matched, s.tally.held, s.tally.opted_out, s.tally.rolling,
      whole.configured, whole.matched, whole.held, whole.opted_out, whole.rolling);
}

}  // namespace tracing::controllers
