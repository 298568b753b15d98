// The per-policy reconcile: finalizer, debug bump bookkeeping, status and Events.
//
// Contract:
// - a live policy carries the finalizer tracing.rollout.dev/revert; once it is deleted, the
//   finalizer is removed only when no Deployment lists the policy in its policies annotation any
//   more, i.e. after every workload it configured was re-decided without it (and reverted when
//   nothing else selects it); only the operator's own annotation counts (managedFields), so a
//   copy or an edit of it by someone else holds nothing up. Meanwhile status says how many are
//   left, and Degraded (reason DeletionHeld) names those waiting on a paused or failed rollout;
//   the finalizer is released once per policy (uid) and process: a deleting policy never gets
//   it back, so a reconcile reading a version from before the release (the store not caught up
//   yet, e.g. the echo of an earlier status write arriving first) sends nothing;
// - a debug bump's start is recorded in status.debug the first time the operator sees that
//   debug spec, so a restart does not extend it; the reconcile requeues itself at the expiry;
// - status (counts over the workloads it governs, conditions, effective sampling, conflicts) is
//   written only when it differs from what is there, so a converged cluster sees no writes;
// - Degraded says first what the Jaeger and Dapr passes report about the objects the policy owns
//   (ctx.reports): reason NameConflict (a name its managed Jaeger or Dapr Configuration needs is
//   held by someone else's object, named in the message), SharedServiceName (a remote-sampling
//   ratio it decides is refused because another namespace runs the same service name on the same
//   managed Jaeger, SPEC §6) or UntrustedRecord (a taken-over Dapr Configuration's record of its
//   previous settings is not the operator's); a Warning Event marks each turn to one of them.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <string>

#include "controllers/reconcilers/context.h"
#include "controllers/reconcilers/status_tally.h"
#include "controllers/reconcilers/workload_reconciler.h"

namespace tracing::controllers {

class PolicyReconciler {
 public:
  PolicyReconciler(Context& ctx, const WorkloadReconciler& workloads)
      : ctx_(ctx), workloads_(workloads), tallies_(ctx, workloads) {}
  kube::Result<Action> reconcile(const std::string& key);
  // A workload changed (the informers' handlers, any thread; status_tally.h): `old` is the
  // version replaced or deleted, null for a new workload.
  void workload_changed(const RecordPtr& old, const std::string& key, std::string_view ns) {
    tallies_.changed(old, key, ns);
  }
  // How many workload versions' Facts the status passes read (a count afresh reads every
  // workload; a kept tally, the versions replaced and added since its last pass).
  uint64_t status_reads() const { return tally_reads_.load(); }
  // Each status pass also counts every workload afresh and logs an error ("status tally
  // mismatch") when that differs from the tally kept (the tests' check of status_tally.h; set
  // by the environment variable TRACING_OPERATOR_VERIFY_STATUS_TALLY).
  void verify_tallies(bool on) { tallies_.verify(on); }

 private:
  kube::Result<Action> finalize(const json& object, const std::string& key);
  kube::Status write_deletion_status(const json& object, size_t remaining,
                                     const std::vector<std::string>& held);
  json compute_status(const json& object, const Policy& p, const std::optional<DebugStatus>& ds,
                      WallTime now);

  // Whether this process has released the finalizer of policy `key` with uid `uid`; an empty
  // uid forgets `key` (the policy is gone).
  bool released(const std::string& key, const std::string& uid);

  Context& ctx_;
  const WorkloadReconciler& workloads_;
  // Policies whose finalizer this process released → their uid.
  std::mutex released_mu_;
  std::map<std::string, std::string> released_;
  // The status last applied to each policy and the resourceVersion the API server answered
  // with. Status fields another manager owns stay after the operator's apply (it cannot remove
  // them), so the stored status can differ from the computed one for good: while the policy is
  // still at that version and the status computed is the same, applying it again changes
  // nothing and is not sent. Only the policy worker (one thread) touches it.
  struct AppliedStatus {
    std::string resource_version;
    json status;
  };
  std::map<std::string, AppliedStatus> applied_status_;
  StatusTally tallies_;
  std::atomic<uint64_t> tally_reads_{0};
};

}  // namespace tracing::controllers
