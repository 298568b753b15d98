// What a policy's status counts over the workloads it can reach, kept up to date from the
// workloads that changed rather than recounted over all of them at every status pass.
//
// A pass over every workload cost the root policy's status ~12 ms at 10,000 Deployments, and
// during a cluster-wide change it ran ~3 times a second (a perf profile of a 10,000 ratio edit:
// 12 % of the operator's CPU). Now:
// - each workload's part in a Tally is a pure function of its record (one version), its Facts
//   and the policy's key (StatusTally::count), added when a version is counted and taken away,
//   with the same Facts, when it is replaced or deleted;
// - the informers' handlers say which workloads changed (changed(), after the store holds the
//   new version); a pass takes what changed since the last one;
// - a record says which tallies count it (WorkloadRecord::tallied: an epoch per tally slot), so
//   a version the store replaced just before a recount read it, whose handler call came after,
//   is not taken away although it was never counted;
// - everything is counted again when the inputs of every decision changed (the Facts stamp), a
//   Facts' validity ended (a debug expiry, an override back-off), the Facts a version was counted
//   with are gone, or the tally is new.
// Slots: TallyMarks::kSlots policies at a time are tallied this way, a root policy before a
// namespace's (a root policy's pass is over every workload); the others are counted in full at
// each pass, as before.
#pragma once

#include <array>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "controllers/reconcilers/context.h"
#include "controllers/reconcilers/workload_reconciler.h"

namespace tracing::controllers {

// The counts and lists a policy's status is made of (PolicyReconciler::compute_status).
struct Tally {
  // Where a workload comes in the passes' order (Context::workloads_in_scope): by kind, then by
  // namespace/name. The lists below keep that order, so "the first" stays the one a full pass
  // over the workloads would meet first.
  struct Order {
    int kind = 0;
    std::string key;  // namespace/name
    auto operator<=>(const Order&) const = default;
  };
  // What a governed workload receives (§10): its effective sampling and endpoint.
  struct Received {
    std::string sampler, ratio, source, endpoint;
    auto operator<=>(const Received&) const = default;
  };
  int matched = 0, configured = 0, conflicted = 0, opted_out = 0, dapr_unavailable = 0;
  int rolling = 0, rollout_failed = 0, held = 0, untrusted = 0, contested = 0;
  // Workloads listing the policy among their candidates: in restart mode (a bump limited to
  // operations cannot reach them), in remote mode from a Jaeger the operator does not manage (no
  // bump reaches them).
  int restart_listed = 0, remote_unserved = 0;
  std::map<Received, int> received;
  // Only the few workloads that have one: why it is held (EffectiveConfig::unusable), its
  // bookkeeping problem, its override fight, the variables it sets itself.
  std::map<Order, std::string> held_reasons, untrusted_messages, contested_messages;
  std::map<Order, std::vector<Conflict>> conflicts;
  bool operator==(const Tally&) const;
};

class StatusTally {
 public:
  explicit StatusTally(const Context& ctx, const WorkloadReconciler& workloads)
      : ctx_(ctx), workloads_(workloads) {}

  // Adds (`sign` 1) or takes away (-1) what workload `d` with Facts `f` counts in the status of
  // policy `policy` (its key) to `t`.
  static void count(Tally& t, const WorkloadRecord& d, const WorkloadReconciler::Facts& f,
                    const std::string& policy, int sign);

  // From the workload informers' handlers, any thread, once the store holds the change: `old`,
  // the version replaced or deleted (null for an added workload), of the workload `key` in `ns`.
  void changed(const RecordPtr& old, const std::string& key, std::string_view ns);

  // The policy's tally now (the policy worker only). `reads`: how many workloads' Facts were
  // read for it.
  Tally tally(const Policy& p, uint64_t* reads);
  // The policy is gone: its slot is freed.
  void forget(const std::string& policy);
  // After each pass of a kept tally, counts every workload afresh and logs an error ("status
  // tally mismatch") when that differs (the tests' check; TRACING_OPERATOR_VERIFY_STATUS_TALLY).
  // Compared only when every workload's version in the store is one the tally counted, with the
  // Facts it counted: otherwise the store moved on during the pass, and a later pass compares.
  void verify(bool on) { verify_ = on; }

 private:
  // Changes a slot keeps for its next pass, at most (each holds the version replaced).
  static constexpr size_t kMaxPending = 4096;
  struct Slot {
    std::string policy;  // "": free
    std::string ns;      // the policy's namespace
    bool root = false;
    bool built = false;  // the tally counts the workloads (else a full count comes first)
    uint8_t epoch = 0;   // what TallyMarks holds for the versions this tally counts
    std::vector<RecordPtr> replaced;  // versions replaced or deleted since the last pass
    std::set<std::string> keys;       // workloads changed since the last pass
    // Touched by the policy worker only:
    Tally tally;
    WorkloadReconciler::Facts::Stamp stamp;
    WallTime valid_until = WallTime::max();  // the earliest of the counted Facts'
  };
  // The slot of `p`, taken now if it has none and one is free (or held by a namespace's policy
  // when `p` is a root policy); -1 when none.
  int slot_of(const Policy& p);
  // Counts every workload in scope afresh (what tally() gives when it keeps none).
  Tally full(const Policy& p, uint64_t* reads) const;
  void check(const Policy& p, int slot) const;
  const Context& ctx_;
  const WorkloadReconciler& workloads_;
  std::mutex mu_;  // the slots' policy, ns, root, built, replaced and keys
  std::array<Slot, TallyMarks::kSlots> slots_;
  bool verify_ = false;
};

}  // namespace tracing::controllers
