#include "controllers/reconcilers/dapr_reconciler.h"

#include <spdlog/spdlog.h>

#include "controllers/apply_intent.h"
#include "controllers/naming.h"
#include "controllers/ownership.h"
#include "controllers/reconcilers/jaeger_reconciler.h"
#include "controllers/reconcilers/owned_objects.h"

namespace tracing::controllers {

kube::Resource dapr_configurations() {
  return {naming::kDaprGroup, naming::kDaprVersion, naming::kDaprConfigurationPlural, true,
          naming::kDaprConfigurationKind};
}

namespace {

// How soon to look again while a write of the operator's has not reached the store.
constexpr auto kEchoRecheck = std::chrono::milliseconds(200);

struct Want {
  WorkloadReconciler::DaprTarget target;
  std::string first_workload;
  std::set<std::string> owners;     // keys of the policies governing the workloads that read it
  std::set<std::string> workloads;  // keys of the workloads that read it
};

std::string annotation(const json& object, const char* key) {
  return object["metadata"].value("annotations", json::object()).value(key, "");
}

}  // namespace

void DaprReconciler::publish_taken_names() {
  std::set<std::string> taken;
  if (ctx_.dapr.served()) {
    auto informer = ctx_.dapr_configs.informer();
    if (!informer || !informer->has_synced()) {
      spdlog::warn(
          "Dapr: the Configurations are not in the informer's store yet; the first pass "
          "will read them");
      return;
    }
    const std::set<std::string> uids = existing_policy_uids(ctx_);
    for (const auto& c : informer->store().list()) {
      if (!ownership_of(*c, naming::kDaprConfigurationKind, uids).ours) {
        taken.insert(runtime::object_key(*c));
      }
    }
  }
  taken_ = taken;
  ctx_.dapr_names.replace(std::move(taken));
  published_ = true;
}

// Ownership, as this pass applies it:
// - the operator's own Configuration (configurationName) in a namespace is kept for the policies
//   governing the workloads that read it; their uids are its owners (ownership.h), and each holds
//   the finalizer kDaprFinalizer before the Configuration lists it. It is created only where the
//   name is free (POST), updated only while it carries the proof, deleted only when, read just
//   before, it still does; a Configuration of that name without the proof is the user's: never
//   written, a NameConflict on the owners;
// - a Configuration a workload names itself (dapr.io/config) is the user's: only spec.tracing is
//   taken over, and the record of what was there before is carried and replayed only when
//   previous_record() trusts it; otherwise nothing is written and the policies that govern (or
//   last governed) its workloads report UntrustedRecord.
kube::Result<Action> DaprReconciler::reconcile(const std::string&) {
  std::map<std::string, Want> wanted;  // "ns/name" → target
  std::string held;  // a workload whose decision cannot be used: what it needs is unknown
  std::optional<WallTime> next_change;  // when a decision's samplingRate changes by itself
  for (const auto& d : ctx_.workloads.list()) {
    auto decision = workloads_.facts(d);
    const std::string wkey = d->key();
    if (decision->config && decision->config->next_change &&
        (!next_change || *decision->config->next_change < *next_change)) {
      next_change = decision->config->next_change;
    }
    if (decision->config && !decision->config->unusable.empty()) {
      held = wkey;  // kept as it is: its Configuration is neither written nor removed
      continue;
    }
    if (!decision->dapr) continue;
    const auto& t = *decision->dapr;
    std::string key = t.ns + "/" + t.name;
    auto [it, inserted] = wanted.emplace(key, Want{t, wkey, {}});
    if (!inserted && !(it->second.target.tracing == t.tracing)) {
      spdlog::warn("Dapr Configuration {}: {} and {} want different tracing settings; keeping {}'s",
                   key, it->second.first_workload, wkey, it->second.first_workload);
    }
    it->second.owners.insert(decision->config->governing);
    it->second.workloads.insert(wkey);
  }

  // Publishes the names taken (Context::dapr_names), and brings back the workloads whose pointer
  // that changes: those reading a name whose state changed, and after the first list every one
  // (until then each kept what it had).
  auto publish = [&](const std::set<std::string>& taken) {
    const bool first = !published_;
    published_ = true;
    taken_ = taken;
    std::set<std::string> changed = ctx_.dapr_names.replace(taken);
    for (const auto& [key, want] : wanted) {
      if (!first && !changed.count(key)) continue;
      for (const auto& w : want.workloads) ctx_.workload_queue.add(w);
    }
  };
  const bool served = ctx_.dapr.served();
  ctx_.dapr_configs.follow(served);
  if (!served) {
    publish({});                    // no Configuration can exist
    return Action::await_change();  // Manager looks for the API every 10 s
  }
  auto informer = ctx_.dapr_configs.informer();
  if (!informer || !informer->has_synced()) {
    return kube::ApiError{
        0, "NotSynced", "the Dapr Configurations informer has not synced yet", {}, std::nullopt};
  }
  // The operator's own writes whose watch event has not come yet: nothing is decided on those
  // Configurations (the store still shows them as before), and no finalizer is released (one of
  // them may list its policy), until it has.
  const std::set<std::string> unechoed = ctx_.dapr_configs.unechoed();
  std::map<std::string, json> live;
  for (auto& [key, c] : informer->store().snapshot()) live[key] = *c;
  // Every write is bracketed for unechoed(): writing() before, wrote() or not_written() after.
  auto& writes = ctx_.dapr_configs;
  auto version = [](const json& c) { return c["metadata"].value("resourceVersion", ""); };

  const std::set<std::string> uids = existing_policy_uids(ctx_);
  // Taken: someone else's Configurations; and a name that was taken and is free now, until the
  // operator's own is created there (its workloads are pointed at it once it exists, not at a
  // name someone may take again meanwhile).
  std::set<std::string> taken;
  for (const auto& [key, obj] : live) {
    if (!ownership_of(obj, naming::kDaprConfigurationKind, uids).ours) taken.insert(key);
  }
  for (const auto& key : taken_) {
    auto w = wanted.find(key);
    if (!live.count(key) && w != wanted.end() && !w->second.target.takeover) taken.insert(key);
  }
  publish(taken);
  std::optional<kube::ApiError> failure;
  PolicyReports::ByPolicy reports;
  std::set<std::string> seen;  // messages reported in this pass
  auto report = [&](const std::set<std::string>& owners, const std::string& reason,
                    const std::string& message) {
    if (!logged_.count(message)) spdlog::warn("{}", message);
    seen.insert(message);
    for (const auto& owner : owners) reports[owner].insert({reason, message});
  };

  std::set<std::string> owner_keys;  // of the operator's own Configurations
  for (const auto& [key, want] : wanted) {
    if (!want.target.takeover) owner_keys.insert(want.owners.begin(), want.owners.end());
  }
  FinalizerHolds holds(ctx_, naming::kDaprFinalizer, naming::kDaprFinalizerManager);

  std::set<std::string> applied_owners;  // uids listed by the Configurations written just now
  std::set<std::string> written;         // keys of the operator's Configurations written
  for (const auto& entry : wanted) {
    // Named, not a structured binding: the lambda below captures `want` (clang before 16 cannot
    // capture a binding).
    const auto& key = entry.first;
    const auto& want = entry.second;
    const auto& t = want.target;
    if (ctx_.namespace_terminating(t.ns) || unechoed.count(key)) continue;
    json intent = configuration_intent(t.ns, t.name, t.tracing);
    auto it = live.find(key);
    if (t.takeover) {
      if (it == live.end()) {
        spdlog::warn("Dapr Configuration {} (named by {}) does not exist", key,
                     want.first_workload);
        continue;
      }
      took_over_[key] = want.owners;
      // Record what was there before the first takeover, and carry the record on every apply;
      // a record the operator cannot trust is neither carried nor replayed.
      PreviousRecord record = previous_record(it->second);
      if (record.state == PreviousRecord::State::kUntrusted) {
        report(want.owners, "UntrustedRecord",
               "Dapr Configuration " + key + " (named by workload " + want.first_workload +
                   "): " + record.why + "; its spec.tracing is left as it is");
        continue;
      }
      intent["metadata"]["annotations"][naming::kDaprPreviousAnnotation] =
          record.state == PreviousRecord::State::kTrusted ? record.text
                                                          : previous_tracing(it->second).dump();
      if (json_subset(intent, it->second)) continue;
      intent["metadata"]["uid"] = it->second["metadata"].value("uid", "");
    } else {
      // An owner not in the store yet: its informer event brings this pass back.
      std::optional<std::set<std::string>> owners = owner_uids(ctx_, want.owners);
      if (!owners) continue;
      intent = with_proof(std::move(intent), *owners);
      auto hold = [&] {
        // Every owner holds the finalizer before the Configuration lists it.
        if (holds.hold(want.owners)) return true;
        if (holds.error() && !failure) failure = holds.error();
        return false;
      };
      if (it == live.end()) {
        if (!hold()) continue;
        writes.writing(key, "");
        auto created = ctx_.client.create(dapr_configurations(), t.ns, intent);
        created ? writes.wrote(key, version(*created)) : writes.not_written(key);
        if (!created && created.error().is_already_exists()) {
          taken.insert(key);
          publish(taken);
          report(want.owners, "NameConflict",
                 "Dapr Configuration " + key +
                     " was created by someone else just before the operator: left untouched");
          continue;
        }
        if (!created) {
          spdlog::warn("Dapr Configuration {}: {}", key, created.error().to_string());
          if (!failure) failure = created.error();
          continue;
        }
        applied_owners.insert(owners->begin(), owners->end());
        written.insert(key);
        if (taken.erase(key)) publish(taken);
        spdlog::info("Dapr Configuration {}: created, samplingRate {}", key,
                     t.tracing.sampling_rate);
        continue;
      }
      Ownership o = ownership_of(it->second, naming::kDaprConfigurationKind, uids);
      if (!o.ours) {
        report(want.owners, "NameConflict",
               "Dapr Configuration " + key + " exists and is not the operator's (it " + o.why +
                   "): left untouched; set spec.dapr.configurationName to a free name");
        continue;
      }
      if (json_subset(intent, it->second)) continue;
      if (!hold()) continue;
      intent["metadata"]["uid"] = it->second["metadata"].value("uid", "");
      applied_owners.insert(owners->begin(), owners->end());
      written.insert(key);
    }
    writes.writing(key, version(it->second));
    auto r = ctx_.client.apply(dapr_configurations(), t.ns, t.name, intent,
                               {naming::kFieldManager, true, ""});
    r ? writes.wrote(key, version(*r)) : writes.not_written(key);
    if (!r) {
      spdlog::warn("Dapr Configuration {}: {}", key, r.error().to_string());
      if (!failure) failure = r.error();
      continue;
    }
    spdlog::info("Dapr Configuration {}: tracing at samplingRate {}", key, t.tracing.sampling_rate);
  }

  // Delete or give back what no workload wants any more — unless a policy whose spec was never
  // readable may want it.
  std::set<std::string> deleted;
  std::string unknown = ctx_.policy_cache.unknown_spec();
  if (!unknown.empty()) unknown = "policy " + unknown;
  if (unknown.empty() && !held.empty()) unknown = "workload " + held;
  if (!unknown.empty()) {
    spdlog::debug("Dapr: {} cannot be decided; nothing is deleted or given back", unknown);
  }
  for (const auto& [key, obj] : live) {
    if (wanted.count(key) || !unknown.empty() || unechoed.count(key)) continue;
    const std::string ns = obj["metadata"].value("namespace", "");
    const std::string name = obj["metadata"].value("name", "");
    if (ownership_of(obj, naming::kDaprConfigurationKind, uids).ours) {
      std::string why;
      writes.writing(key, version(obj));
      auto gone = delete_if_ours(ctx_, dapr_configurations(), ns, name, uids, &why);
      gone&&* gone ? writes.wrote(key, "") : writes.not_written(key);
      if (!gone) {
        if (!failure) failure = gone.error();
        continue;
      }
      deleted.insert(key);
      if (*gone) spdlog::info("Dapr Configuration {}: no workload uses it, deleted", key);
      continue;
    }
    if (annotation(obj, naming::kDaprPreviousAnnotation).empty()) continue;
    PreviousRecord record = previous_record(obj);
    if (record.state != PreviousRecord::State::kTrusted) {
      // Reported on the policies that governed its workloads, while they exist.
      std::set<std::string> owners;
      if (auto t = took_over_.find(key); t != took_over_.end()) {
        for (const auto& owner : t->second) {
          if (ctx_.policies.store().get(owner)) owners.insert(owner);
        }
      }
      std::string message = "Dapr Configuration " + key + ": " + record.why +
                            "; spec.tracing is not given back from it";
      report(owners, "UntrustedRecord", message);
      if (untrusted_.insert(key + ": " + record.why).second) {
        ctx_.events.emit(obj, "Warning", "UntrustedRecord", "GiveBack", message);
      }
      continue;
    }
    // 1. The recorded values back (merge patch, on the version whose record was checked);
    // 2. the operator's ownership and record gone.
    json restore = restore_intent(ns, name, record.record);
    restore["metadata"]["resourceVersion"] = obj["metadata"].value("resourceVersion", "");
    writes.writing(key, version(obj));
    auto restored = ctx_.client.patch(dapr_configurations(), ns, name, restore,
                                      kube::PatchType::kMerge, "", naming::kFieldManager);
    if (!restored) {
      writes.not_written(key);
      if (!failure) failure = restored.error();
      continue;
    }
    if (auto release = release_patch(*restored)) {
      auto r =
          ctx_.client.patch(dapr_configurations(), ns, name, *release, kube::PatchType::kMerge);
      writes.wrote(key, version(r ? *r : *restored));
      if (!r) {
        if (!failure) failure = r.error();
        continue;
      }
    } else {
      writes.wrote(key, version(*restored));
    }
    took_over_.erase(key);
    spdlog::info("Dapr Configuration {}: tracing settings given back", key);
  }

  // Release the finalizer of policies no operator's Configuration lists any more — not while the
  // store may not show one that does.
  if (!failure && unechoed.empty()) {
    std::set<std::string> listed = applied_owners;
    for (const auto& [key, obj] : live) {
      if (deleted.count(key) || written.count(key)) continue;
      Ownership o = ownership_of(obj, naming::kDaprConfigurationKind, uids);
      if (o.ours) listed.insert(o.policies.begin(), o.policies.end());
    }
    for (const auto& p : ctx_.policies.store().list()) {
      if (!has_finalizer(*p, naming::kDaprFinalizer)) continue;
      if (owner_keys.count(runtime::object_key(*p))) continue;
      if (listed.count((*p)["metadata"].value("uid", ""))) continue;
      auto s = release_finalizer(ctx_, *p, naming::kDaprFinalizerManager);
      if (!s) {
        if (!failure) failure = s.error();
        continue;
      }
      spdlog::info("Dapr: policy {} owns no Configuration any more, finalizer released",
                   runtime::object_key(*p));
    }
  }

  for (const auto& key : ctx_.reports.replace("dapr", std::move(reports))) {
    ctx_.policy_queue.add(key);
  }
  logged_ = std::move(seen);
  if (failure) return *failure;
  // A name taken needs no timer: the user's deleting their Configuration is an event.
  if (!unechoed.empty()) return Action::requeue(kEchoRecheck);
  if (next_change) {
    auto d = std::chrono::duration_cast<std::chrono::milliseconds>(*next_change - ctx_.now());
    return Action::requeue(std::max(d, std::chrono::milliseconds(0)) +
                           std::chrono::milliseconds(5));
  }
  return Action::await_change();
}

}  // namespace tracing::controllers
