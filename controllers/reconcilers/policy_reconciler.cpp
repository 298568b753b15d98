#include "controllers/reconcilers/policy_reconciler.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "controllers/apply_intent.h"
#include "controllers/naming.h"
#include "controllers/reconcilers/jaeger_reconciler.h"

namespace tracing::controllers {

namespace {

constexpr size_t kMaxConflicts = 50;

// Whether the Deployment's policies annotation lists `key` and is the operator's (someone else's
// copy of it, or an edit of it, holds nothing up: read_workload() drops it).
bool lists_policy(const WorkloadRecord& deployment, const std::string& key) {
  const std::string* annotation = deployment.annotation(naming::kPoliciesAnnotation);
  if (!annotation) return false;
  const std::string& list = *annotation;
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    if (comma == std::string::npos) comma = list.size();
    if (list.compare(pos, comma - pos, key) == 0 && comma - pos == key.size()) return true;
    pos = comma + 1;
  }
  return false;
}

bool has_finalizer(const json& object) {
  for (const auto& f : object["metadata"].value("finalizers", json::array())) {
    if (f == naming::kFinalizer) return true;
  }
  return false;
}

json condition(const std::string& type, bool status, const std::string& reason,
               const std::string& message, int64_t generation) {
  return {{"type", type},
          {"status", status ? "True" : "False"},
          {"reason", reason},
          {"message", message},
          {"observedGeneration", generation}};
}

// The condition of `type` in a status, or an empty object.
json find_condition(const json& status, const std::string& type) {
  for (const auto& c : status.value("conditions", json::array())) {
    if (c.value("type", "") == type) return c;
  }
  return json::object();
}

// Keeps each condition's lastTransitionTime when its status did not change.
void stamp_transitions(json& conditions, const json& old_status, const std::string& now) {
  json old_conditions = old_status.value("conditions", json::array());
  for (auto& c : conditions) {
    c["lastTransitionTime"] = now;
    for (const auto& o : old_conditions) {
      if (o.value("type", "") == c["type"] && o.value("status", "") == c["status"]) {
        c["lastTransitionTime"] = o.value("lastTransitionTime", now);
      }
    }
  }
}

// The policy as an apply intent names it. The uid makes the apply a precondition on this very
// object: an apply never re-creates a policy that was deleted meanwhile (409 instead).
json policy_ref(const json& object) {
  return {{"apiVersion", naming::kApiVersion},
          {"kind", naming::kKind},
          {"metadata",
           {{"name", object["metadata"]["name"]},
            {"namespace", object["metadata"]["namespace"]},
            {"uid", object["metadata"].value("uid", "")}}}};
}

// The operations of a bump as messages name them: "POST /tasks", "GET /tasks".
std::string quoted_operations(const std::vector<std::string>& operations) {
  std::string out;
  for (const auto& op : operations) out += (out.empty() ? "\"" : ", \"") + op + "\"";
  return out;
}

// The reports as one condition message: each names its object; at most kMaxReports of them.
std::string reports_message(const std::vector<PolicyReport>& reports) {
  constexpr size_t kMaxReports = 5;
  std::string out;
  for (size_t i = 0; i < reports.size() && i < kMaxReports; ++i) {
    if (!out.empty()) out += "; ";
    out += reports[i].message;
  }
  if (reports.size() > kMaxReports) {
    out += "; and " + std::to_string(reports.size() - kMaxReports) + " more";
  }
  return out;
}

std::string degraded_reason(const json& status) {
  for (const auto& c : status.value("conditions", json::array())) {
    if (c.value("type", "") == "Degraded" && c.value("status", "") == "True") {
      return c.value("reason", "");
    }
  }
  return "";
}

}  // namespace

kube::Result<Action> PolicyReconciler::reconcile(const std::string& key) {
  runtime::ObjectPtr obj = ctx_.policies.store().get(key);
  if (!obj) {
    released(key, "");  // gone: forget its release
    applied_status_.erase(key);
    tallies_.forget(key);
    return Action::object_gone();  // its debug bump's timer too
  }
  const json& object = *obj;
  if (object["metadata"].contains("deletionTimestamp")) return finalize(object, key);

  std::string ns = object["metadata"].value("namespace", "");
  std::string name = object["metadata"].value("name", "");
  if (!has_finalizer(object)) {
    json intent = policy_ref(object);
    intent["metadata"]["finalizers"] = json::array({naming::kFinalizer});
    auto r =
        ctx_.client.apply(tracing_policies(), ns, name, intent, {naming::kFieldManager, false, ""});
    if (!r) return r.error();
  }

  WallTime now = ctx_.now();
  json old_status = object.value("status", json::object());
  std::string spec_error = ctx_.policy_cache.error(key);
  std::shared_ptr<const Policy> policy = ctx_.policy_cache.get(key);
  json status;
  std::optional<DebugStatus> ds;
  int64_t generation = object["metadata"].value("generation", 0);
  if (!policy || !policy->spec_known) {
    // Nothing in force: the policy configures nothing, and holds what it configured.
    std::string message = spec_error;
    if (policy) {
      size_t held = 0;
      for (const auto& d : ctx_.workloads_in_scope(*policy)) held += lists_policy(*d, key);
      message +=
          "; no earlier valid spec of this policy is known to the operator (it started "
          "with this one): it configures nothing new, and the " +
          std::to_string(held) +
          " workloads it configured are kept as they are until the spec is fixed or the "
          "policy deleted";
    }
    json conditions = json::array({condition("Ready", false, "InvalidSpec", message, generation),
                                   condition("Degraded", true, "InvalidSpec", message, generation),
                                   condition("Reconciling", false, "InvalidSpec", "", generation),
                                   condition("Stalled", true, "InvalidSpec", message, generation)});
    stamp_transitions(conditions, old_status, format_rfc3339(now));
    status = {{"observedGeneration", generation}, {"conditions", conditions}};
  } else {
    ds = debug_status_for(*policy, now);
    status = compute_status(object, *policy, ds, now);
    if (!policy->spec_error.empty()) {
      // Last known good: the counts and effective sampling describe the spec still in force.
      std::string message = policy->spec_error + "; generation " + std::to_string(generation) +
                            " is not in force: the operator keeps applying generation " +
                            std::to_string(policy->spec_generation) +
                            ", the last valid spec, and reverts nothing";
      for (auto& c : status["conditions"]) {
        if (c["type"] == "Ready") c = condition("Ready", false, "InvalidSpec", message, generation);
        if (c["type"] == "Degraded") {
          c = condition("Degraded", true, "InvalidSpec", message, generation);
        }
        if (c["type"] == "Reconciling") {
          c = condition("Reconciling", false, "InvalidSpec", "", generation);
        }
        if (c["type"] == "Stalled")
          c = condition("Stalled", true, "InvalidSpec", message, generation);
      }
      stamp_transitions(status["conditions"], old_status, format_rfc3339(now));
    }
  }

  const std::string rv = object["metadata"].value("resourceVersion", "");
  auto applied = applied_status_.find(key);
  bool applied_already = applied != applied_status_.end() &&
                         applied->second.resource_version == rv && applied->second.status == status;
  if (status != old_status && !applied_already) {
    json intent = policy_ref(object);
    intent["status"] = status;
    auto r = ctx_.client.apply(tracing_policies(), ns, name, intent,
                               {naming::kFieldManager, true, "status"});
    if (!r) return r.error();
    applied_status_[key] = {(*r)["metadata"].value("resourceVersion", ""), status};
    // Events on the transitions a user wants to see in `kubectl describe`.
    json old_debug = old_status.value("debug", json::object());
    json new_debug = status.value("debug", json::object());
    if (!new_debug.empty() && new_debug.value("hash", "") != old_debug.value("hash", "")) {
      ctx_.events.emit(
          object, "Normal", "DebugStarted", "DebugBump",
          "sampling ratio " +
              (policy->spec.debug->operations.empty()
                   ? std::string()
                   : "of operations " + quoted_operations(policy->spec.debug->operations) + " ") +
              "raised to " + policy->spec.debug->ratio + " until " +
              new_debug.value("expiresAt", "") +
              (policy->spec.debug->reason.empty() ? "" : ": " + policy->spec.debug->reason));
    } else if (new_debug.value("expired", false) && !old_debug.value("expired", false)) {
      ctx_.events.emit(object, "Normal", "DebugExpired", "DebugBump",
                       "debug bump expired at " + new_debug.value("expiresAt", "") +
                           ": sampling back to the base ratio");
    }
    const json degraded = find_condition(status, "Degraded");
    const json old_degraded = find_condition(old_status, "Degraded");
    if (degraded.value("reason", "") == "InvalidSpec" &&
        (old_degraded.value("reason", "") != "InvalidSpec" ||
         old_degraded.value("message", "") != degraded.value("message", ""))) {
      ctx_.events.emit(object, "Warning", "InvalidSpec", "Validate", degraded.value("message", ""));
    }
    for (const char* reason : {"NameConflict", "SharedServiceName", "UntrustedRecord",
                               "OverrideContested", "RolloutFailed"}) {
      if (degraded_reason(status) == reason && degraded_reason(old_status) != reason) {
        for (const auto& c : status["conditions"]) {
          if (c["type"] == "Degraded") {
            ctx_.events.emit(object, "Warning", reason, "Reconcile", c["message"]);
          }
        }
      }
    }
  }
  if (ds && now < ds->expires_at) {
    auto d = std::chrono::duration_cast<std::chrono::milliseconds>(ds->expires_at - now);
    return Action::requeue(d + std::chrono::milliseconds(5));
  }
  return Action::await_change();
}

bool PolicyReconciler::released(const std::string& key, const std::string& uid) {
  std::lock_guard lock(released_mu_);
  auto it = released_.find(key);
  if (it == released_.end()) return false;
  if (!uid.empty() && it->second == uid) return true;
  released_.erase(it);
  return false;
}

kube::Result<Action> PolicyReconciler::finalize(const json& object, const std::string& key) {
  const std::string uid = object["metadata"].value("uid", "");
  // Released already: the store shows a version from before the release (the echo of a status
  // write can arrive first), and the release's own echo brings this key back.
  if (released(key, uid)) return Action::await_change();
  if (!has_finalizer(object)) return Action::await_change();
  // Workloads still carrying this policy's settings: re-decide them (this policy is no longer a
  // candidate while it is deleting) and look again when they have moved.
  size_t remaining = 0;
  std::vector<std::string> held;  // "ns/name: why", waiting on a paused or failed rollout
  for (const auto& d : ctx_.workloads.list()) {
    if (lists_policy(*d, key)) {
      ++remaining;
      std::string wkey = d->key();
      ctx_.workload_queue.add(wkey);
      bool is_held = false;
      std::string why = workloads_.waiting(wkey, &is_held);
      if (is_held) held.push_back(wkey + ": " + why);
    }
  }
  if (remaining > 0) {
    spdlog::info("policy {} is being deleted: {} workload(s) still to revert{}", key, remaining,
                 held.empty() ? "" : ", " + std::to_string(held.size()) + " held");
    if (auto s = write_deletion_status(object, remaining, held); !s) return s.error();
    return Action::requeue(std::chrono::seconds(2));
  }
  // A workload the operator configured for this policy a moment ago may not show the write in the
  // store yet: read now, it would look untouched and keep the policy's settings for good once
  // the finalizer is gone. Look again once the writes have come back.
  if (auto unechoed = workloads_.unechoed_writes(); !unechoed.empty()) {
    spdlog::debug("policy {} is being deleted: waiting for {} write(s) to reach the cache ({})",
                  key, unechoed.size(), unechoed.front());
    return Action::requeue(std::chrono::milliseconds(200));
  }
  json intent = policy_ref(object);  // without the finalizer: releasing it removes it
  auto r = ctx_.client.apply(tracing_policies(), object["metadata"]["namespace"].get<std::string>(),
                             object["metadata"]["name"].get<std::string>(), intent,
                             {naming::kFieldManager, false, ""});
  if (!r && !r.error().is_not_found()) return r.error();
  if (!uid.empty()) {
    std::lock_guard lock(released_mu_);
    released_[key] = uid;
  }
  spdlog::info("policy {}: every workload reverted, finalizer removed", key);
  return Action::await_change();
}

// §9: a deleting policy's status says how many workloads still carry its settings, and which
// of them hold the deletion up (a paused or failed rollout, of this policy's reverts or of the
// policy that governs them now).
kube::Status PolicyReconciler::write_deletion_status(const json& object, size_t remaining,
                                                     const std::vector<std::string>& held) {
  constexpr size_t kMaxNamed = 5;
  int64_t generation = object["metadata"].value("generation", 0);
  json old_status = object.value("status", json::object());
  std::string progress = "being deleted: " + std::to_string(remaining) +
                         " workload(s) still carry its settings and are being reverted (or "
                         "re-decided by the policies left); the finalizer goes when none does";
  std::string held_msg;
  for (size_t i = 0; i < held.size() && i < kMaxNamed; ++i) {
    held_msg += (held_msg.empty() ? "" : "; ") + held[i];
  }
  if (held.size() > kMaxNamed)
    held_msg += "; and " + std::to_string(held.size() - kMaxNamed) + " more";
  json conditions = json::array(
      {condition("Ready", false, "Deleting", progress, generation),
       condition("Progressing", true, "Deleting", progress, generation),
       held.empty() ? condition("Degraded", false, "AsExpected", "", generation)
                    : condition("Degraded", true, "DeletionHeld",
                                "the deletion is held up by " + std::to_string(held.size()) +
                                    " workload(s): " + held_msg,
                                generation),
       condition("Reconciling", held.empty(), held.empty() ? "Deleting" : "DeletionHeld", progress,
                 generation),
       held.empty() ? condition("Stalled", false, "AsExpected", "", generation)
                    : condition("Stalled", true, "DeletionHeld",
                                "the deletion is held up by " + std::to_string(held.size()) +
                                    " workload(s): " + held_msg,
                                generation)});
  for (const auto& c : old_status.value("conditions", json::array())) {
    std::string type = c.value("type", "");
    if (type != "Ready" && type != "Progressing" && type != "Degraded" && type != "Reconciling" &&
        type != "Stalled") {
      conditions.push_back(c);
    }
  }
  stamp_transitions(conditions, old_status, format_rfc3339(ctx_.now()));
  json status = old_status;
  status["conditions"] = conditions;
  if (status == old_status) return kube::Ok{};
  json intent = policy_ref(object);
  intent["status"] = status;
  auto r = ctx_.client.apply(tracing_policies(), object["metadata"]["namespace"].get<std::string>(),
                             object["metadata"]["name"].get<std::string>(), intent,
                             {naming::kFieldManager, true, "status"});
  if (!r && r.error().is_not_found()) return kube::Ok{};
  if (!r) return r.error();
  if (!held.empty() && degraded_reason(old_status) != "DeletionHeld") {
    ctx_.events.emit(object, "Warning", "DeletionHeld", "Finalize",
                     "the deletion is held up by " + held_msg);
  }
  return kube::Ok{};
}

json PolicyReconciler::compute_status(const json& object, const Policy& p,
                                      const std::optional<DebugStatus>& ds, WallTime now) {
  const std::string key = p.key();
  int64_t generation = object["metadata"].value("generation", 0);
  // A bump reaches a workload only through what the operator writes (§5, §6): its env in restart
  // mode, where env samplers cannot select operations, so a bump limited to operations gets to
  // none; the strategies of a Jaeger it manages in remote mode. A workload sampling remotely from
  // an external Jaeger gets neither kind: the operator writes no strategies there.
  const bool bump_active = p.spec.debug && ds && now < ds->expires_at;
  const bool operations_bump = bump_active && !p.spec.debug->operations.empty();
  uint64_t reads = 0;
  const Tally t = tallies_.tally(p, &reads);
  tally_reads_ += reads;
  const int matched = t.matched, configured = t.configured, conflicted = t.conflicted;
  const int opted_out = t.opted_out, rolling = t.rolling, held = t.held, contested = t.contested;
  const int operations_unserved = operations_bump ? t.restart_listed : 0;
  const int bump_unserved = bump_active ? t.remote_unserved : 0;
  const std::string held_reason = t.held_reasons.empty() ? "" : t.held_reasons.begin()->second;
  const std::string untrusted_msg =
      t.untrusted_messages.empty() ? "" : t.untrusted_messages.begin()->second;
  const std::string contested_msg =
      t.contested_messages.empty() ? "" : t.contested_messages.begin()->second;
  const int untrusted = t.untrusted, rollout_failed = t.rollout_failed;
  const int dapr_unavailable = t.dapr_unavailable;
  json conflicts = json::array();
  for (const auto& [order, list] : t.conflicts) {
    for (const auto& c : list) {
      if (conflicts.size() >= kMaxConflicts) break;
      conflicts.push_back({{"workload", workload_key(static_cast<WorkloadKind>(order.kind),
                                                     order.key.substr(0, order.key.find('/')),
                                                     order.key.substr(order.key.find('/') + 1))},
                           {"container", c.container},
                           {"variable", c.variable},
                           {"reason", c.reason}});
    }
  }
  int pending = matched - configured - held;
  // What the Jaeger and Dapr passes found about the objects this policy owns: a name taken by
  // someone else's object comes first, since the policy's Jaeger or Dapr tracing is then missing.
  const std::vector<PolicyReport> reports = ctx_.reports.of(key);
  const bool paused =
      p.spec.rollout && p.spec.rollout->is_object() && p.spec.rollout->value("paused", false);

  // Reported: what most of the governed workloads receive; with none, what a workload this
  // policy governed would receive (governed_candidates), with the debug record this reconcile
  // keeps.
  struct Shown {
    Tally::Received received;
    int workloads = 0;
  };
  std::optional<Shown> shown;
  int governed = 0;
  std::vector<const Tally::Received*> most;  // what the most workloads receive
  for (const auto& [r, n] : t.received) {
    governed += n;
    if (!shown || n > shown->workloads) {
      shown = Shown{r, n};
      most.clear();
    }
    if (n == shown->workloads) most.push_back(&r);
  }
  if (most.size() > 1) {
    // A tie: what the first of those workloads receives, in the passes' order (rare past a few
    // workloads; this reads them again).
    for (const auto& d : ctx_.workloads_in_scope(p)) {
      auto f = workloads_.facts(d);
      const EffectiveConfig* c = f->config.get();
      if (!c || c->governing != key || f->opted_out || !c->unusable.empty()) continue;
      Tally::Received r{c->effective_sampler(), c->effective_ratio(), c->ratio_source(),
                        c->endpoint};
      if (std::any_of(most.begin(), most.end(), [&](const auto* m) { return *m == r; })) {
        shown->received = std::move(r);
        break;
      }
    }
  }
  if (!shown) {
    Policy self = p;
    self.debug_status = ds;
    auto policies = ctx_.policy_cache.all();
    std::vector<const Policy*> ptrs;
    for (const auto& q : policies) ptrs.push_back(q.get());
    Labels ns_labels;
    if (p.ns != ctx_.root_namespace) {
      ns_labels = ctx_.namespace_labels(p.ns);
    } else if (p.spec.namespace_selector) {
      ns_labels = p.spec.namespace_selector->match_labels;
    }
    auto eff =
        effective_config(governed_candidates(self, ns_labels, ptrs, ctx_.root_namespace), now);
    if (eff) {
      shown = Shown{
          {eff->effective_sampler(), eff->effective_ratio(), eff->ratio_source(), eff->endpoint},
          0};
    }
  }

  json status = {{"observedGeneration", generation},
                 {"counts",
                  {{"matched", matched},
                   {"configured", configured},
                   {"pending", pending},
                   {"conflicted", conflicted},
                   {"optedOut", opted_out},
                   {"contested", contested},
                   {"held", held}}}};
  if (shown) {
    status["effective"] = {{"sampler", shown->received.sampler},
                           {"ratio", shown->received.ratio},
                           {"source", shown->received.source},
                           {"workloads", shown->workloads},
                           {"otherWorkloads", governed - shown->workloads}};
    status["jaegerEndpoint"] = shown->received.endpoint;
  }
  bool debug_active = false;
  if (ds && p.spec.debug) {
    debug_active = now < ds->expires_at;
    status["debug"] = {{"hash", ds->hash},
                       {"startedAt", format_rfc3339(ds->started_at)},
                       {"expiresAt", format_rfc3339(ds->expires_at)},
                       {"expired", !debug_active},
                       {"reason", p.spec.debug->reason},
                       {"scope", debug_scope(p.spec.debug->operations)}};
    if (!p.spec.debug->operations.empty()) {
      status["debug"]["operations"] = p.spec.debug->operations;
    }
  }
  if (!conflicts.empty()) status["conflicts"] = conflicts;

  std::string ready_msg =
      std::to_string(configured) + "/" + std::to_string(matched) + " workloads configured";
  if (conflicted > 0) {
    ready_msg += "; " + std::to_string(conflicted) + " with variables they set themselves";
  }
  if (p.ns != ctx_.root_namespace && p.spec.namespace_selector) {
    ready_msg += "; spec.namespaceSelector is ignored: only policies in the root namespace " +
                 ctx_.root_namespace + " select namespaces";
  }
  if (held > 0) {
    ready_msg += "; " + std::to_string(held) + " kept as they are: " + held_reason;
  }
  json conditions = json::array(
      {held > 0
           ? condition("Ready", false, "InvalidSpec", ready_msg, generation)
           : condition("Ready", pending == 0, pending == 0 ? "Configured" : "RolloutInProgress",
                       ready_msg, generation),
       condition("Progressing", pending > 0 || rolling > 0,
                 paused && pending > 0 ? "Paused"
                 : pending > 0         ? "Configuring"
                 : rolling > 0         ? "RollingOut"
                                       : "Idle",
                 std::to_string(pending) + " workloads pending, " + std::to_string(rolling) +
                     " rolling" + (paused ? " (rollouts paused)" : ""),
                 generation),
       condition("DebugActive", debug_active,
                 debug_active ? "DebugBump" : (status.contains("debug") ? "Expired" : "NoDebug"),
                 debug_active ? "sampling " +
                                    (p.spec.debug->operations.empty()
                                         ? std::string()
                                         : "operations " +
                                               quoted_operations(p.spec.debug->operations) + " ") +
                                    "at " + p.spec.debug->ratio + " until " +
                                    status["debug"]["expiresAt"].get<std::string>()
                              : "sampling at the base ratio",
                 generation),
       !reports.empty() ? condition("Degraded", true, reports.front().reason,
                                    reports_message(reports), generation)
       : held > 0       ? condition("Degraded", true, "InvalidSpec",
                                    std::to_string(held) +
                                        " workloads kept as they are, neither configured nor reverted: " +
                                        held_reason,
                                    generation)
       : operations_unserved > 0
           ? condition("Degraded", true, "OperationsNeedRemote",
                       "spec.debug.operations: " + std::to_string(operations_unserved) +
                           " workloads it applies to sample in restart mode, whose env samplers "
                           "cannot select operations; the bump applies to none of them (it is "
                           "not widened to the whole service): set spec.sampling.mode remote",
                       generation)
       : bump_unserved > 0
           ? condition("Degraded", true, "DebugNeedsManagedJaeger",
                       "spec.debug: " + std::to_string(bump_unserved) +
                           " workloads it applies to sample remotely from a Jaeger the operator "
                           "does not manage (spec.jaeger.mode external), whose sampling "
                           "strategies it does not write; the bump reaches none of them: raise "
                           "the ratio in that Jaeger's strategies, or set spec.jaeger.mode "
                           "managed",
                       generation)
       : rollout_failed > 0
           ? condition("Degraded", true, "RolloutFailed",
                       std::to_string(rollout_failed) +
                           " workloads exceeded their progress deadline; further rollouts of "
                           "this policy are stopped until they recover",
                       generation)
       : untrusted > 0
           ? condition("Degraded", true, "UntrustedRecord",
                       std::to_string(untrusted) +
                           " workloads carry bookkeeping the operator cannot trust, which it "
                           "will not replay (remove the annotation to clear this): " +
                           untrusted_msg,
                       generation)
       : contested > 0
           ? condition("Degraded", true, "OverrideContested",
                       std::to_string(contested) +
                           " workloads fight override: true with another field manager, which "
                           "keeps writing its own value back; the operator backs off and leaves "
                           "that value meanwhile (see status.conflicts): " +
                           contested_msg,
                       generation)
           : condition("Degraded", conflicted > 0, conflicted > 0 ? "Conflict" : "AsExpected",
                       conflicted > 0 ? std::to_string(conflicted) +
                                            " workloads set OTEL_* variables themselves (see "
                                            "status.conflicts; spec.override takes them over)"
                                      : "",
                       generation)});
  // kstatus (what Flux and kpt wait on): Stalled while Degraded for a reason that needs someone
  // to act (everything but workloads setting their own variables, the policy's expected
  // steady state), Reconciling while workloads are pending or rolling and it is not stalled.
  json degraded;
  for (const auto& c : conditions) {
    if (c["type"] == "Degraded") degraded = c;
  }
  const bool stalled =
      degraded.value("status", "") == "True" && degraded.value("reason", "") != "Conflict";
  conditions.push_back(condition(
      "Reconciling", !stalled && (pending > 0 || rolling > 0),
      paused && pending > 0 ? "Paused"
      : pending > 0         ? "Configuring"
      : rolling > 0         ? "RollingOut"
                            : "Idle",
      std::to_string(pending) + " workloads pending, " + std::to_string(rolling) + " rolling",
      generation));
  conditions.push_back(condition("Stalled", stalled,
                                 stalled ? degraded.value("reason", "") : "AsExpected",
                                 stalled ? degraded.value("message", "") : "", generation));
  if (dapr_unavailable > 0) {
    conditions.push_back(condition(
        "DaprUnavailable", true, "DaprUnavailable",
        std::to_string(dapr_unavailable) +
            " Dapr-enabled workloads, but the API server does not serve dapr.io/v1alpha1 "
            "Configurations (is Dapr installed?); their sidecars keep their own tracing settings",
        generation));
  }
  stamp_transitions(conditions, object.value("status", json::object()), format_rfc3339(now));
  status["conditions"] = conditions;
  return status;
}

}  // namespace tracing::controllers
