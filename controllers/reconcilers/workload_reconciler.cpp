#include "controllers/reconcilers/workload_reconciler.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "controllers/apply_intent.h"
#include "controllers/naming.h"
#include "controllers/reconcilers/jaeger_reconciler.h"

namespace tracing::controllers {

namespace {

std::chrono::milliseconds until(WallTime t, WallTime now) {
  auto d = std::chrono::duration_cast<std::chrono::milliseconds>(t - now);
  // A few milliseconds past the instant, so the reconcile sees it as passed.
  return std::max(std::chrono::milliseconds(0), d) + std::chrono::milliseconds(5);
}

// Whether a revert of `w` changes its pod template (and so rolls its pods): the operator owns an
// env entry or a pod-template annotation.
bool revert_rolls(const Workload& w) {
  for (const auto& [container, vars] : w.env_owners) {
    if (container == kAnnotationOwners) continue;  // metadata: no roll
    for (const auto& [var, owners] : vars) {
      if (owners.count(naming::kFieldManager)) return true;
    }
  }
  return false;
}

// The first policy of the policies annotation (most specific first: the one that governed).
std::string governed_by(const Workload& w) {
  auto it = w.annotations.find(naming::kPoliciesAnnotation);
  if (it == w.annotations.end()) return "";
  return it->second.substr(0, it->second.find(','));
}

// Why a bookkeeping annotation of `w` is not acted on.
std::string untrusted_message(const Workload& w, const UntrustedAnnotation& u) {
  std::string by;
  for (const auto& m : u.managers) by += (by.empty() ? "" : ", ") + m;
  return w.key() + ": annotation " + u.key + " was changed by " +
         (by.empty() ? std::string("someone else") : by) +
         "; it is not the operator's record any more and is not acted on";
}

// An apply refused only because someone else owns (changed) the operator's bookkeeping
// annotations: the fields named in the 409's causes.
std::vector<std::string> bookkeeping_conflicts(const kube::ApiError& e) {
  static const std::string kPrefix = ".metadata.annotations.tracing.rollout.dev/";
  std::vector<std::string> fields;
  if (!e.is_conflict() || e.causes.empty()) return {};
  for (const auto& c : e.causes) {
    if (c.field.rfind(kPrefix, 0) != 0) return {};
    fields.push_back(c.field.substr(std::string(".metadata.annotations.").size()) + " (" +
                     c.message + ")");
  }
  return fields;
}

}  // namespace

std::string WorkloadReconciler::waiting(const std::string& key, bool* held) const {
  std::lock_guard g(waits_mu_);
  auto it = waits_.find(key);
  if (it == waits_.end()) return "";
  if (held) *held = it->second.second;
  return it->second.first;
}

std::vector<std::string> WorkloadReconciler::waiting_keys() const {
  std::lock_guard g(waits_mu_);
  std::vector<std::string> out;
  out.reserve(waits_.size());
  for (const auto& [k, v] : waits_) out.push_back(k);
  return out;
}

void WorkloadReconciler::note_wait(const std::string& key, const std::string& why, bool held) {
  std::lock_guard g(waits_mu_);
  waits_[key] = {why, held};
}

void WorkloadReconciler::clear_wait(const std::string& key) {
  std::lock_guard g(waits_mu_);
  waits_.erase(key);
}

RevertPacer::Budget WorkloadReconciler::revert_budget(const Workload& w) const {
  RevertPacer::Budget b{"", ctx_.max_concurrent_reverts, false};
  std::string key = governed_by(w);
  auto policy = key.empty() ? nullptr : ctx_.policy_cache.get(key);
  if (!policy || !policy->spec_known) return b;
  b.group = key;
  const auto& rollout = policy->spec.rollout;
  if (rollout && rollout->is_object()) {
    b.paused = rollout->value("paused", false);
    auto max = rollout->find("maxConcurrent");
    if (max != rollout->end() && max->is_number_integer()) b.max = max->get<int>();
  }
  return b;
}

// §7: which Configuration the sidecar reads, and the pod-template annotations that point it
// there (dapr.io/config, unless the workload names its own) and roll it on a change
// (restartOnChange).
// §8: while someone else's Configuration holds the name of the operator's own, the workload is
// neither pointed at it nor rolled for it (an earlier pointer is released by the next apply);
// the Dapr pass still gets the target, to report the NameConflict and to create the operator's
// Configuration once the name is free. While the names taken are unknown (the Dapr pass could
// not list them yet), a workload keeps what it has: pointed there if the operator pointed it
// there, else not yet — so a restart rolls nothing.
void WorkloadReconciler::decide_dapr(const Workload& w, Decision& d) const {
  DaprSettings settings = dapr_settings(d.config->dapr);
  if (settings.mode == "disabled") return;
  bool served = ctx_.dapr.served();
  auto enabled = w.template_annotations.find(naming::kDaprEnabledAnnotation);
  bool wants_dapr = settings.mode == "enabled" ||
                    (enabled != w.template_annotations.end() && enabled->second == "true");
  if (!dapr_managed(settings, served, w.template_annotations)) {
    d.dapr_unavailable = wants_dapr && !served;
    return;
  }
  DaprTracing tracing = dapr_tracing(*d.config);
  if (tracing.endpoint_address.empty()) return;
  std::string referenced = referenced_configuration(w.template_annotations);
  bool config_is_ours = false;
  if (auto o = w.env_owners.find(kTemplateAnnotationOwners); o != w.env_owners.end()) {
    auto a = o->second.find(naming::kDaprConfigAnnotation);
    config_is_ours = a != o->second.end() && a->second.count(naming::kFieldManager);
  }
  DaprTarget target{w.ns, settings.configuration_name, false, tracing};
  if (!referenced.empty() && !config_is_ours) {
    target.name = referenced;
    target.takeover = true;
  } else {
    auto name = ctx_.dapr_names.state(w.ns, target.name);
    bool pointed_there = config_is_ours && referenced == target.name;
    if (name == TakenDaprNames::State::kTaken ||
        (name == TakenDaprNames::State::kUnknown && !pointed_there)) {
      d.dapr = target;
      return;
    }
    d.desired.template_annotations[naming::kDaprConfigAnnotation] = settings.configuration_name;
  }
  if (settings.restart_on_change) {
    d.desired.template_annotations[naming::kDaprHashAnnotation] = tracing_hash(tracing);
  }
  d.dapr = target;
}

WorkloadReconciler::Decision WorkloadReconciler::decide(const Workload& w) const {
  Decision d;
  auto inject = w.annotations.find(naming::kInjectAnnotation);
  d.opted_out = inject != w.annotations.end() && inject->second == "false";
  auto policies = ctx_.policy_cache.all();
  std::vector<const Policy*> ptrs;
  ptrs.reserve(policies.size());
  for (const auto& p : policies) ptrs.push_back(p.get());
  auto cands = candidates(w, ctx_.namespace_labels(w.ns), ptrs, ctx_.root_namespace);
  const WallTime now = ctx_.now();
  d.config = effective_config(cands, now);
  if (d.config && !d.opted_out) {
    d.desired = desired_env(*d.config, w);
    decide_dapr(w, d);
    // An override fight backed off: the other manager's value stays (override_guard.h).
    for (const Conflict& r : d.desired.retaken) {
      auto& env = d.desired.env[r.container];
      auto it = std::find_if(env.begin(), env.end(),
                             [&](const EnvVar& e) { return e.name == r.variable; });
      if (it == env.end()) continue;
      auto contest =
          ctx_.overrides.backed_off(w.key(), r.container, r.variable, it->entry.dump(), now);
      if (!contest) continue;
      env.erase(it);
      d.desired.conflicts.push_back({r.container, r.variable,
                                     "override contested: " + contest->manager + " took it back " +
                                         std::to_string(contest->takebacks) + " times; left with " +
                                         contest->manager + "'s value until " +
                                         format_rfc3339(contest->until) + " (back-off " +
                                         std::to_string(contest->backoffs) + ")"});
      if (!d.retake_at || contest->until < *d.retake_at) d.retake_at = contest->until;
      d.contested.push_back(std::move(*contest));
    }
  }
  if (d.config && d.config->mode == "remote") {
    const std::string& decider = d.config->ratio_policy();
    d.ratio_from_namespace = std::any_of(cands.begin(), cands.end(), [&](const Candidate& c) {
      return c.policy->key() == decider &&
             (c.rank == Rank::kNamespaceWithSelector || c.rank == Rank::kNamespaceWithoutSelector);
    });
    if (d.ratio_from_namespace) d.root_config = root_effective_config(cands, now);
  }
  return d;
}

const std::vector<Conflict>& WorkloadReconciler::Facts::conflicts() const {
  static const std::vector<Conflict> none;
  return fights ? fights->conflicts : none;
}

const std::vector<OverrideGuard::Contest>& WorkloadReconciler::Facts::contested() const {
  static const std::vector<OverrideGuard::Contest> none;
  return fights ? fights->contested : none;
}

WorkloadReconciler::Facts::Stamp WorkloadReconciler::stamp() const {
  return {ctx_.policy_cache.version() + ctx_.namespace_labels_version.load() +
              ctx_.dapr_names.version() + ctx_.overrides.version(),
          ctx_.dapr.served()};
}

std::shared_ptr<const WorkloadReconciler::Facts> WorkloadReconciler::facts(
    const RecordPtr& deployment) const {
  // Read before deciding: an input that changes meanwhile leaves a stale stamp behind.
  const Facts::Stamp stamp = this->stamp();
  const WallTime now = ctx_.now();
  if (auto kept = std::static_pointer_cast<const Facts>(deployment->memo.load());
      kept && kept->stamp() == stamp && now < kept->valid_until) {
    return kept;
  }
  ++decisions_;
  Workload w = deployment->workload();
  Decision d = decide(w);
  auto f = std::make_shared<Facts>();
  f->stamp_versions = stamp.versions;
  f->stamp_dapr_served = stamp.dapr_served;
  f->ns = Atom(w.ns);
  f->opted_out = d.opted_out;
  if (d.dapr) f->dapr = std::make_unique<const DaprTarget>(std::move(*d.dapr));
  f->dapr_unavailable = d.dapr_unavailable;
  f->ratio_from_namespace = d.ratio_from_namespace;
  std::optional<WallTime> valid_until;
  auto until_earliest = [&](const std::optional<WallTime>& t) {
    if (t && (!valid_until || *t < *valid_until)) valid_until = t;
  };
  if (d.root_config) {
    until_earliest(d.root_config->next_change);
    f->root_config = shared(std::move(*d.root_config));
  }
  until_earliest(d.retake_at);
  const std::vector<Conflict>* conflicts = nullptr;
  if (d.config) {
    until_earliest(d.config->next_change);
    if (!d.opted_out) {
      conflicts = &d.desired.conflicts;
      f->up_to_date = up_to_date(w, d.desired, d.config->policies);
      f->template_up_to_date = template_up_to_date(w, d.desired);
      f->service = Atom(service_name(*d.config, w));
    }
  }
  if ((conflicts && !conflicts->empty()) || !d.contested.empty() || d.retake_at) {
    f->fights = std::make_unique<const Facts::Fights>(
        Facts::Fights{conflicts ? *conflicts : std::vector<Conflict>{}, d.contested, d.retake_at});
  }
  if (d.config) f->config = shared(std::move(*d.config));
  std::vector<std::string> refused;
  trusted_overrides(w, &refused);
  for (const auto& u : w.untrusted) refused.push_back(untrusted_message(w, u));
  if (!refused.empty()) f->untrusted = Atom(refused.front());
  f->valid_until = valid_until.value_or(WallTime::max());
  deployment->memo.store(f);
  return f;
}

std::shared_ptr<const EffectiveConfig> WorkloadReconciler::shared(EffectiveConfig&& c) const {
  std::string key;
  for (const auto& p : c.policies) key += p + ",";
  std::lock_guard g(configs_mu_);
  auto& slot = configs_[key];
  if (auto existing = slot.lock(); existing && *existing == c) return existing;
  auto made = std::make_shared<const EffectiveConfig>(std::move(c));
  slot = made;
  if (configs_.size() > 2 * configs_swept_ + 64) {  // forget candidate sets no workload has
    std::erase_if(configs_, [](const auto& kv) { return kv.second.expired(); });
    configs_swept_ = configs_.size();
  }
  return made;
}

void WorkloadReconciler::expect_echo(const std::string& key, const WorkloadRecord& written_from,
                                     int64_t produced) {
  std::lock_guard g(echo_mu_);
  echo_[key] = Echo{written_from.resource_version, written_from.uid, produced};
}

bool WorkloadReconciler::awaiting_echo(const std::string& key, const WorkloadRecord& d) {
  std::lock_guard g(echo_mu_);
  auto it = echo_.find(key);
  if (it == echo_.end()) return false;
  if (it->second.before(d)) return true;
  echo_.erase(it);  // the store has moved past the version written from
  return false;
}

std::vector<std::string> WorkloadReconciler::unechoed_writes() const {
  std::vector<std::pair<std::string, Echo>> expected;
  {
    std::lock_guard g(echo_mu_);
    expected.assign(echo_.begin(), echo_.end());
  }
  std::vector<std::string> out;
  for (const auto& [key, echo] : expected) {
    RecordPtr d = ctx_.workloads.get(key);
    if (d && echo.before(*d)) out.push_back(key);
  }
  return out;
}

void WorkloadReconciler::status_changed(const RecordPtr& old_d, const RecordPtr& d) {
  d->memo.adopt(old_d->memo);
  const std::string key = d->key();
  const ResourceVersion& from = old_d->resource_version;
  const ResourceVersion& to = d->resource_version;
  // The kube-controller-manager's status update of the version the operator wrote from can
  // reach the store before the write's own echo: that version is still the one written from,
  // and deciding on it would repeat the write (the chaos suite saw a revert sent twice).
  std::lock_guard e(echo_mu_);
  auto echo = echo_.find(key);
  if (echo != echo_.end() && echo->second.written_from == from) echo->second.written_from = to;
}

void WorkloadReconciler::forget(const std::string& key) const {
  std::lock_guard g(echo_mu_);
  echo_.erase(key);
}

kube::Result<Action> WorkloadReconciler::reconcile(const std::string& key) {
  RecordPtr obj = ctx_.workloads.get(key);
  clear_wait(key);
  if (!obj) {  // deleted: nothing of ours is left to revert
    forget(key);
    ctx_.overrides.forget(key);
    return Action::object_gone();
  }
  if (obj->deleting) return Action::await_change();
  if (awaiting_echo(key, *obj)) {
    // The operator changed this Deployment from the version the store still shows: deciding
    // on it again would repeat that write. The watch event of the change wakes it.
    return Action::await_change();
  }
  // Already as it should be (its own write coming back, a resync): decided once, no write.
  // Or waiting for a rollout budget (woken when a rollout ends): asked before deciding anew.
  if (auto f = facts(obj); f->config && !f->opted_out && f->config->unusable.empty()) {
    if (f->up_to_date) {
      auto wake = f->config->next_change;
      if (auto retake = f->retake_at(); retake && (!wake || *retake < *wake)) wake = retake;
      return wake ? Action::requeue(until(*wake, ctx_.now())) : Action::await_change();
    }
    std::string why;
    bool held = false;
    if (!f->template_up_to_date &&
        !may_roll(key, obj->resource_version.str(), *f->config, &why, &held)) {
      spdlog::debug("{}: rollout waits: {}", key, why);
      note_wait(key, "the rollout waits: " + why, held);
      return Action::requeue(kWaitRecheck);
    }
  }
  Workload w = obj->workload();
  Decision d = decide(w);

  if (d.config && !d.opted_out && !d.config->unusable.empty()) {
    // Nothing the operator could write (§4 last known good): the workload stays as it is,
    // neither configured nor reverted; the governing policy's status says why.
    spdlog::debug("{}: kept as it is: {}", key, d.config->unusable);
    // No write follows, so no Deployment event would refresh the status that reports it.
    ctx_.policy_queue.add_after(d.config->governing, std::chrono::milliseconds(300));
    return Action::await_change();
  }
  if (!d.config || d.opted_out) {
    if (!touched_by_operator(w)) return Action::await_change();
    const bool rolls = revert_rolls(w);
    if (rolls) {
      std::string why;
      bool held = false;
      RevertPacer::Budget budget = revert_budget(w);
      std::unique_lock<std::mutex> admission;
      if (budget.max > 0 && !budget.group.empty()) {
        // As in may_roll(): the budget is computed before the admission lock, read under it.
        std::shared_ptr<RolloutBudget> rollouts;
        if (auto policy = ctx_.policy_cache.get(budget.group)) {
          rollouts = budget_of(budget.group, *policy, nullptr);
        }
        admission = std::unique_lock(admission_mu_);
        budget.rolling_elsewhere = rollouts_rolling(rollouts);
      }
      const bool admitted = reverts_.admit(key, budget, &why, &held);
      if (admission) admission.unlock();
      if (!admitted) {
        spdlog::debug("{}: {}", key, why);
        note_wait(key, why, held);
        return Action::requeue(kWaitRecheck);
      }
    }
    auto generation = revert(w, *obj);
    if (!generation) {
      if (rolls) reverts_.cancel(key);
      return generation.error();
    }
    if (rolls) reverts_.started(key, *generation);
    if (*generation > 0) expect_echo(key, *obj, *generation);
    ctx_.events.emit(obj->reference(), "Normal", "TracingReverted", "Revert",
                     d.opted_out ? "opted out: OTEL_* settings removed, original env restored"
                                 : "no TracingPolicy selects this workload any more: original "
                                   "env restored");
    spdlog::info("reverted {}", key);
    return Action::await_change();
  }

  // An override fight: a variable the operator took over was taken back by another manager.
  // Retaken a bounded number of times, then backed off (override_guard.h), reported.
  std::vector<Conflict> retaking;
  std::set<std::pair<std::string, std::string>> backing_off;  // (container, variable)
  for (const Conflict& r : d.desired.retaken) {
    auto& env = d.desired.env[r.container];
    auto it =
        std::find_if(env.begin(), env.end(), [&](const EnvVar& e) { return e.name == r.variable; });
    if (it == env.end()) continue;  // held by a back-off already (decide())
    bool started = false;
    if (ctx_.overrides.may_retake(key, r.container, r.variable, it->entry.dump(), r.reason,
                                  ctx_.now(), &started)) {
      retaking.push_back(r);
      continue;
    }
    if (started) backing_off.emplace(r.container, r.variable);
  }
  if (!backing_off.empty()) {
    d = decide(w);  // now without the variables backed off
    for (const auto& contest : d.contested) {
      if (!backing_off.count({contest.container, contest.variable})) continue;
      std::string msg = "override: true fights " + contest.manager + " over " + contest.variable +
                        " (container " + contest.container + "): taken back " +
                        std::to_string(contest.takebacks) +
                        " times; the operator stops retaking it until " +
                        format_rfc3339(contest.until) + " and leaves " + contest.manager +
                        "'s value (back-off " + std::to_string(contest.backoffs) + ")";
      spdlog::warn("{}: {}", key, msg);
      ctx_.events.emit(obj->reference(), "Warning", "OverrideContested", "BackOff", msg);
    }
    ctx_.policy_queue.add(d.config->governing);
  }
  const EffectiveConfig& c = *d.config;
  std::optional<WallTime> wake = c.next_change;
  if (d.retake_at && (!wake || *d.retake_at < *wake)) wake = d.retake_at;
  Action next = wake ? Action::requeue(until(*wake, ctx_.now())) : Action::await_change();
  if (up_to_date(w, d.desired, c.policies)) return next;
  if (!template_up_to_date(w, d.desired)) {
    std::string why;
    bool held = false;
    if (!may_roll(w.key(), obj->resource_version.str(), c, &why, &held)) {
      spdlog::debug("{}: rollout waits: {}", key, why);
      note_wait(key, "the rollout waits: " + why, held);
      // Woken when a rollout ends or fails (Manager's Deployment handler); this is a safety net.
      return Action::requeue(kWaitRecheck);
    }
  }

  json intent = apply_intent(w, d.desired, c.policies);
  // Only the metadata comes back: its resourceVersion and generation are all that is read, and a
  // smaller answer parses faster (the API server's own cost per write did not measurably change;
  // README, "What the API server does per write").
  auto applied = ctx_.client.apply(
      workload_resource(w.kind), w.ns, w.name, intent,
      {.field_manager = naming::kFieldManager, .force = d.desired.force, .metadata_only = true});
  if (!applied) {
    std::vector<std::string> taken = bookkeeping_conflicts(applied.error());
    if (taken.empty()) {
      // A 409 means another manager set one of the variables since the informer last saw the
      // workload: the retry reads the new owner and reports the conflict instead.
      return applied.error();
    }
    // Someone changed the operator's own record: take it back. Forcing moves only the fields
    // the 409 named, all of them bookkeeping annotations.
    std::string what;
    for (const auto& t : taken) what += (what.empty() ? "" : "; ") + t;
    spdlog::warn("{}: the operator's bookkeeping was changed by someone else, taken back: {}", key,
                 what);
    ctx_.events.emit(obj->reference(), "Warning", "UntrustedRecord", "Reclaim",
                     "the operator's bookkeeping annotation was changed by someone else; its own "
                     "record is written back: " +
                         what);
    applied = ctx_.client.apply(
        workload_resource(w.kind), w.ns, w.name, intent,
        {.field_manager = naming::kFieldManager, .force = true, .metadata_only = true});
    if (!applied) return applied.error();
  }
  if (obj->resource_version != (*applied)["metadata"].value("resourceVersion", "")) {
    expect_echo(key, *obj, (*applied)["metadata"].value("generation", int64_t{0}));
  }
  for (const Conflict& r : retaking) {
    ctx_.overrides.retook(key, r.container, r.variable, ctx_.now());
    ctx_.events.emit(obj->reference(), "Warning", "OverrideRetaken", "Retake",
                     r.variable + " (container " + r.container + ") was taken back by " + r.reason +
                         "; override: true takes it over again");
  }
  std::string note = "OTEL_* settings applied: sampler " + c.effective_sampler() + ", ratio " +
                     c.effective_ratio() + " (" + c.ratio_source() + "), policy " + c.governing;
  if (!d.desired.conflicts.empty()) {
    note += "; " + std::to_string(d.desired.conflicts.size()) +
            " variable(s) left alone because the workload sets them itself";
  }
  ctx_.events.emit(obj->reference(), "Normal", "TracingConfigured", "Configure", note);
  spdlog::info("configured {}: sampler {} ratio {} ({})", key, c.effective_sampler(),
               c.effective_ratio(), c.ratio_source());
  return next;
}

bool WorkloadReconciler::may_roll(const std::string& key, const std::string& resource_version,
                                  const EffectiveConfig& c, std::string* why, bool* held) const {
  *held = false;
  if (!c.rollout || !c.rollout->is_object()) return true;
  if (c.rollout->value("paused", false)) {
    *why = "rollouts of " + c.governing + " are paused (rollout.paused)";
    *held = true;
    return false;
  }
  auto max = c.rollout->find("maxConcurrent");
  if (max == c.rollout->end() || !max->is_number_integer()) return true;
  auto policy = ctx_.policy_cache.get(c.governing);
  if (!policy) return true;

  const std::shared_ptr<RolloutBudget> budget = budget_of(c.governing, *policy, &key);
  std::lock_guard admission(admission_mu_);
  // The policy's reverts rolling take slots of the same budget (§9: its workloads rolling).
  const int reverting = reverts_.rolling(c.governing);

  std::lock_guard g(budgets_mu_);
  if (!budget->failed.empty()) {
    *why = budget->failed + " exceeded its progress deadline: rollouts of " + c.governing +
           " stop (RolloutFailed)";
    *held = true;
    return false;
  }
  if (auto a = budget->admitted.find(key);
      a != budget->admitted.end() && a->second == resource_version) {
    return true;  // its slot is held (a retry of the same version)
  }
  // Admitted since the budget was computed: rolling now, though the budget does not show it.
  int slots =
      max->get<int>() - budget->rolling - static_cast<int>(budget->admitted.size()) - reverting;
  // Its place among those still waiting (pending is sorted; the admitted are all pending).
  long rank = std::lower_bound(budget->pending.begin(), budget->pending.end(), key) -
              budget->pending.begin();
  rank -= std::distance(budget->admitted.begin(), budget->admitted.lower_bound(key));
  if (rank < slots) {
    budget->admitted[key] = resource_version;
    return true;
  }
  *why = std::to_string(budget->rolling + budget->admitted.size() + reverting) + " of " +
         c.governing + "'s workloads rolling (max " + std::to_string(max->get<int>()) +
         (reverting > 0 ? ", " + std::to_string(reverting) + " of them reverting" : "") + "), " +
         std::to_string(rank) + " ahead";
  return false;
}

std::shared_ptr<WorkloadReconciler::RolloutBudget> WorkloadReconciler::budget_of(
    const std::string& governing, const Policy& policy, const std::string* key) const {
  // The policy's budget as its workloads stand, computed once and shared by every workload that
  // asks until it is older than kBudgetFresh or a rollout ended (invalidate_budgets()).
  // A budget that does not list the asking workload among the pending predates its change:
  // computed afresh.
  std::shared_ptr<RolloutBudget> budget;
  {
    std::lock_guard g(budgets_mu_);
    auto it = budgets_.find(governing);
    if (it != budgets_.end() &&
        std::chrono::steady_clock::now() - it->second->computed < kBudgetFresh &&
        (!key ||
         std::binary_search(it->second->pending.begin(), it->second->pending.end(), *key))) {
      budget = it->second;
    }
  }
  if (!budget) {
    budget = std::make_shared<RolloutBudget>();
    budget->computed = std::chrono::steady_clock::now();
    // The workloads this policy governs: which are rolling, failed, or waiting to roll.
    for (const auto& d : ctx_.workloads_in_scope(policy)) {
      auto other = facts(d);
      if (!other->config || other->config->governing != governing) continue;
      switch (rollout_state(*d)) {
        case RolloutState::kFailed:
          if (budget->failed.empty()) budget->failed = d->key();
          break;
        case RolloutState::kRolling:
          ++budget->rolling;
          break;
        case RolloutState::kComplete:
          break;
      }
      if (!other->opted_out && other->config->unusable.empty() && !other->template_up_to_date) {
        budget->pending.push_back(d->key());
      }
    }
    std::sort(budget->pending.begin(), budget->pending.end());
    std::lock_guard g(budgets_mu_);
    // Admitted before, but its write not seen yet (the store still shows the version it was
    // admitted at): still taking a slot. Once seen, it counts as rolling (or is done).
    if (auto old = budgets_.find(governing); old != budgets_.end()) {
      for (const auto& [k, version] : old->second->admitted) {
        auto live = ctx_.workloads.get(k);
        if (live && live->resource_version == version) {
          budget->admitted.emplace(k, version);
        }
      }
    }
    budgets_[governing] = budget;
  }
  return budget;
}

int WorkloadReconciler::rollouts_rolling(const std::shared_ptr<RolloutBudget>& budget) const {
  if (!budget) return 0;
  std::lock_guard g(budgets_mu_);
  return budget->rolling + static_cast<int>(budget->admitted.size());
}

void WorkloadReconciler::invalidate_budgets() {
  std::lock_guard g(budgets_mu_);
  // Stale now, but what they admitted still counts until the store shows it (see may_roll).
  for (auto& [key, budget] : budgets_) budget->computed = {};
}

kube::Result<int64_t> WorkloadReconciler::revert(const Workload& w,
                                                 const WorkloadRecord& deployment) {
  // First hand the replaced values back to their owners, so releasing ours removes nothing of
  // theirs and their entries keep their place in the list. Only what trusted_overrides() lets
  // through is replayed; the rest is reported, and its entries are released like any other.
  std::vector<std::string> refused;
  for (const auto& rp : restore_patches(w, &refused)) {
    std::string manager = rp.manager.empty() ? "tracing-operator-restore" : rp.manager;
    auto r = ctx_.client.patch(workload_resource(w.kind), w.ns, w.name, rp.patch,
                               kube::PatchType::kStrategicMerge, "", manager);
    if (!r && r.error().is_invalid()) {
      // The API server refuses the original (a reference it no longer accepts, say): retrying
      // would hold the revert forever. Report it and release.
      refused.push_back(w.key() + ": the original entries for manager " + manager +
                        " were refused by the API server: " + r.error().message);
      continue;
    }
    if (!r) return r.error();
  }
  for (const auto& u : w.untrusted) refused.push_back(untrusted_message(w, u));
  if (!refused.empty()) {
    std::string what;
    for (const auto& r : refused) what += (what.empty() ? "" : "; ") + r;
    spdlog::warn("revert {}: bookkeeping not replayed: {}", w.key(), what);
    ctx_.events.emit(deployment.reference(), "Warning", "UntrustedRecord", "Revert",
                     "bookkeeping the operator cannot trust was not replayed; the values it "
                     "names are not restored: " +
                         what);
  }
  auto r = ctx_.client.apply(workload_resource(w.kind), w.ns, w.name, release_intent(w),
                             {naming::kFieldManager, false, ""});
  if (!r) return r.error();
  int64_t generation = (*r)["metadata"].value("generation", int64_t{0});
  // A forced apply may have moved a replaced entry; put it back where it was, guarded by the
  // resourceVersion the release returned.
  auto order = w.annotations.find(naming::kOriginalOrderAnnotation);
  if (order != w.annotations.end()) {
    if (auto patch = reorder_patch(*r, order->second)) {
      auto p = ctx_.client.patch(workload_resource(w.kind), w.ns, w.name, *patch,
                                 kube::PatchType::kJson, "", "tracing-operator-restore");
      if (!p) {
        spdlog::warn("{}/{}: could not restore the env order: {}", w.ns, w.name,
                     p.error().to_string());
      } else {
        generation = (*p)["metadata"].value("generation", generation);
      }
    }
  }
  return generation;
}

}  // namespace tracing::controllers
