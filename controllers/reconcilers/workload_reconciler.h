// The per-Deployment reconcile: the unit of desired state is the workload.
//
// Contract:
// - level-triggered: reads the Deployment, every policy and its namespace's labels from the
//   informers, computes the desired env (pure), and server-side-applies it with field manager
//   tracing-operator; when the Deployment already carries it, sends nothing;
// - a workload no policy selects (or opted out) that the operator has touched is reverted: the
//   entries `override` replaced are restored to their original values and owners first, then an
//   empty apply releases (and so removes) every entry only the operator owned. The pod template
//   ends up with the env it had before: same entries, values and order;
// - a workload whose candidates add up to nothing the operator can write
//   (EffectiveConfig::unusable: a policy without a spec in force, remote mode without a
//   sampling endpoint, too many resource attributes) is kept exactly as it is;
// - while a debug bump is active it asks to be requeued at the bump's expiry;
// - a change that rolls the pods waits for the governing policy's rollout budget (§9): at most
//   rollout.maxConcurrent of its workloads rolling at once, started in namespace/name order;
//   none while rollout.paused or while one of them has exceeded its progress deadline. A revert
//   that rolls the pods waits likewise, in RevertPacer's budget;
// - bookkeeping annotations are acted on only while the operator owns them
//   (read_workload()); an apply refused only because someone else changed one of
//   them takes it back (forced, so no other field moves) and says so in a Warning event;
// - a variable `override` took over that another manager takes back is retaken a bounded number
//   of times, then left with that manager's value for a growing back-off (Context::overrides,
//   override_guard.h): Warning events OverrideRetaken / OverrideContested on the Deployment, the
//   variable listed in Facts::contested and conflicts for the policy's status (OverrideContested).
#pragma once

#include <shared_mutex>
#include <unordered_map>

#include "controllers/dapr.h"
#include "controllers/reconcilers/context.h"
#include "controllers/revert_pacer.h"

namespace tracing::controllers {

class WorkloadReconciler {
 public:
  explicit WorkloadReconciler(Context& ctx) : ctx_(ctx) {}
  kube::Result<Action> reconcile(const std::string& key);

  // The decision for one workload as this reconciler would make it now (for status).
  // The Dapr Configuration a workload's sidecar should read (§7).
  struct DaprTarget {
    std::string ns;
    std::string name;
    bool takeover = false;  // the workload's own dapr.io/config: take over only spec.tracing
    DaprTracing tracing;
  };
  struct Decision {
    bool opted_out = false;                 // annotation tracing.rollout.dev/inject: "false"
    std::optional<EffectiveConfig> config;  // what the candidates say (also when opted out)
    DesiredEnv desired;                     // empty when opted out
    std::optional<DaprTarget> dapr;         // when its Dapr sidecar is managed
    bool dapr_unavailable = false;          // Dapr-enabled, but the Configuration API is absent
    // Remote sampling whose ratio (EffectiveConfig::ratio_policy()) a policy outside the root
    // namespace decides: the strategies file counts that ratio only while no other namespace
    // shares the service name (§6, strategies.h), else what `root_config` gives, the
    // root-namespace candidates alone (nullopt when there are none).
    bool ratio_from_namespace = false;
    std::optional<EffectiveConfig> root_config;
    // Variables of an override fight the operator backs off from (override_guard.h): left out
    // of desired.env, listed in desired.conflicts; retake_at is the earliest back-off end.
    std::vector<OverrideGuard::Contest> contested;
    std::optional<WallTime> retake_at;
  };
  Decision decide(const Workload& w) const;

  // What the passes (status, pacing, Jaeger, Dapr) read of a workload's decision, made once per
  // change of its inputs: the Deployment (resourceVersion), the policies in force, the
  // namespaces' labels, the Dapr names taken and whether Dapr is served, and the time of the
  // next debug expiry. Shared and immutable.
  struct Facts {
    // Variables the workload sets itself, and override fights backed off now: few workloads
    // have any, so they are kept apart (a null pointer costs 8 bytes; the three, 64).
    struct Fights {
      std::vector<Conflict> conflicts;
      std::vector<OverrideGuard::Contest> contested;
      std::optional<WallTime> retake_at;  // the earliest of the contests' ends
    };
    std::shared_ptr<const EffectiveConfig> config;  // null: no candidate
    std::shared_ptr<const EffectiveConfig> root_config;
    std::unique_ptr<const DaprTarget> dapr;  // null: not managed (most workloads: kept small)
    std::unique_ptr<const Fights> fights;    // null: none
    Atom service;  // OTEL_SERVICE_NAME, when configured (interned: most are also the workload's env
                   // value)
    // What they were decided from, besides the record's version they are kept with (its memo):
    // the versions of the policies, the namespaces' labels, the Dapr names and the override
    // guard added up, and whether Dapr is served. Each version only grows, so two sums taken
    // at different times are equal only when no input changed between them.
    struct Stamp {
      uint64_t versions = 0;
      bool dapr_served = false;
      bool operator==(const Stamp&) const = default;
    };
    // A debug expiry or a back-off end changes them; WallTime::max(): nothing does.
    WallTime valid_until = WallTime::max();
    Atom ns;         // shared by the namespace's workloads
    Atom untrusted;  // the first bookkeeping problem, null when none
    uint64_t stamp_versions = 0;
    bool stamp_dapr_served = false;
    bool opted_out = false;
    bool dapr_unavailable = false;
    bool ratio_from_namespace = false;
    bool up_to_date = false;           // when configured: carries exactly what it should
    bool template_up_to_date = false;  // when configured: its pod template does

    Stamp stamp() const { return {stamp_versions, stamp_dapr_served}; }
    const std::vector<Conflict>& conflicts() const;
    const std::vector<OverrideGuard::Contest>& contested() const;
    std::optional<WallTime> retake_at() const { return fights ? fights->retake_at : std::nullopt; }
  };
  // Kept in the record's memo: gone with the version they were decided for.
  std::shared_ptr<const Facts> facts(const RecordPtr& deployment) const;
  // The inputs' versions now: Facts with another stamp are not what facts() would give.
  Facts::Stamp stamp() const;
  // Forgets a deleted workload's bookkeeping (its facts went with its record).
  void forget(const std::string& key) const;
  // The Deployment's status changed (`old_d` → `d`), nothing a decision reads: its facts carry
  // over, and a write of the operator's from `old_d` is still to come back.
  void status_changed(const RecordPtr& old_d, const RecordPtr& d);
  // How many Facts were computed (not found in the cache) so far.
  uint64_t decisions() const { return decisions_.load(); }

  // Why the change `key` needs (a rollout or a revert) waits, "" when it does not; `held` when
  // it waits on a paused or failed rollout rather than for its turn. For a deleting policy's
  // status (§9: a deletion held up says which workloads hold it).
  std::string waiting(const std::string& key, bool* held = nullptr) const;
  // Every workload whose change waits for a rollout budget: woken when a rollout ends or fails
  // (their own requeue is only a safety net).
  std::vector<std::string> waiting_keys() const;
  // How soon a waiting change looks again by itself.
  static constexpr std::chrono::seconds kWaitRecheck{10};
  // A rollout ended or failed: the rollout budgets are computed afresh.
  void invalidate_budgets();
  // The workloads this operator wrote whose write the store does not show yet (it still holds
  // the version written from): a pass that reads the store sees them as they were before the
  // write, so it must not conclude anything from them (a deleting policy's finalizer).
  std::vector<std::string> unechoed_writes() const;

 private:
  void note_wait(const std::string& key, const std::string& why, bool held);
  // A write changed the Deployment from `written_from`: until the store shows a newer version,
  // reconciles of `key` are skipped (a wake-up before the write's own watch event would decide on
  // the old version and write again; controller-runtime's "expectations").
  // `produced`: the generation the write gave the Deployment (0: unknown or unchanged); a store
  // version of the same object (uid) below it is from before the write, whatever its
  // resourceVersion (a status update of the version written from can reach the store before the
  // write's echo is expected, so status_changed() could not carry the expectation over to it).
  void expect_echo(const std::string& key, const WorkloadRecord& written_from, int64_t produced);
  bool awaiting_echo(const std::string& key, const WorkloadRecord& d);
  void clear_wait(const std::string& key);
  // The budget the revert of `w` belongs to.
  RevertPacer::Budget revert_budget(const Workload& w) const;
  // §9: whether `w` may start a rollout now under its governing policy's budget
  // (rollout.maxConcurrent, paused); `why` says why not.
  // `resource_version`: the version of the workload asking (an admission is for that version).
  bool may_roll(const std::string& key, const std::string& resource_version,
                const EffectiveConfig& c, std::string* why, bool* held) const;
  struct RolloutBudget;
  // The rollout budget of the policy `governing` (its workloads as they stand), the cached one
  // while it is fresh and, when `key` is given, lists `key` among the pending; else computed.
  std::shared_ptr<RolloutBudget> budget_of(const std::string& governing, const Policy& policy,
                                           const std::string* key) const;
  // The rollouts (not reverts) of a policy's workloads rolling now, admitted ones included, in
  // its budget (budget_of; null: no such policy, none). Cheap: computing the budget, which reads
  // every workload of the policy, is budget_of's, done before admission_mu_ is taken.
  int rollouts_rolling(const std::shared_ptr<RolloutBudget>& budget) const;
  // Returns the generation the revert's writes produced (0 when it wrote nothing).
  kube::Result<int64_t> revert(const Workload& w, const WorkloadRecord& deployment);
  void decide_dapr(const Workload& w, Decision& d) const;
  Context& ctx_;
  RevertPacer reverts_{[this](const std::string& key) -> std::optional<RevertPacer::Rollout> {
    auto d = ctx_.workloads.get(key);
    if (!d) return std::nullopt;
    return RevertPacer::Rollout{d->generation, rollout_state(*d)};
  }};
  // §9 pacing, per governing policy: what its workloads were doing when last looked at, and
  // which were admitted since (rolling, though not yet seen so).
  struct RolloutBudget {
    std::chrono::steady_clock::time_point computed;
    int rolling = 0;
    std::string failed;                // a governed workload past its progress deadline
    std::vector<std::string> pending;  // sorted: the order of admission
    // key → the resourceVersion it was admitted at: its write has not been seen while the store
    // still shows that version.
    std::map<std::string, std::string> admitted;
  };
  static constexpr std::chrono::milliseconds kBudgetFresh{500};
  // One admission to a policy's budget at a time: a rollout's admission counts the policy's
  // reverts and a revert's counts its rollouts, so two workers deciding at once could each see
  // the last slot free and both take it. Held around the count and the admission (outside
  // budgets_mu_ and the pacer's own lock, which are never held together).
  mutable std::mutex admission_mu_;
  mutable std::mutex budgets_mu_;
  mutable std::map<std::string, std::shared_ptr<RolloutBudget>> budgets_;
  // One EffectiveConfig for every workload whose candidates add up to the same (most share a
  // handful): keyed by the candidates, reused while equal.
  std::shared_ptr<const EffectiveConfig> shared(EffectiveConfig&& c) const;
  mutable std::mutex configs_mu_;
  mutable std::unordered_map<std::string, std::weak_ptr<const EffectiveConfig>> configs_;
  mutable size_t configs_swept_ = 0;
  mutable std::atomic<uint64_t> decisions_{0};
  mutable std::mutex echo_mu_;
  struct Echo {
    ResourceVersion written_from;
    Uid uid;
    int64_t produced = 0;  // generation
    // Whether `d` (the store's version) is still from before the write.
    bool before(const WorkloadRecord& d) const {
      return d.resource_version == written_from ||
             (produced > 0 && d.uid == uid && d.generation < produced);
    }
  };
  mutable std::unordered_map<std::string, Echo> echo_;  // by key
  mutable std::mutex waits_mu_;
  std::map<std::string, std::pair<std::string, bool>> waits_;  // key → (why, held)
};

}  // namespace tracing::controllers
