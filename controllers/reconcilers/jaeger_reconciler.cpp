#include "controllers/reconcilers/jaeger_reconciler.h"

#include <spdlog/spdlog.h>

#include "controllers/apply_intent.h"
#include "controllers/jaeger.h"
#include "controllers/naming.h"
#include "controllers/ownership.h"
#include "controllers/reconcilers/owned_objects.h"
#include "controllers/strategies.h"

namespace tracing::controllers {

namespace {

// Ratio a service gets from the strategies file when no workload names it.
constexpr const char* kDefaultStrategyRatio = "0.01";
// How soon to look again while a name is taken: the foreign objects are not watched (the
// informers see only labelled objects), so their removal raises no event.
constexpr auto kConflictRecheck = std::chrono::seconds(10);
// How soon to look again when a policy's finalizer waits for objects the stores have not caught
// up with yet.
constexpr auto kFinalizerRecheck = std::chrono::seconds(1);

const kube::Resource kServices{"", "v1", "services", true, "Service"};

kube::Resource resource_for(const std::string& kind) {
  if (kind == "ConfigMap") return kube::resources::config_maps();
  if (kind == "Service") return kServices;
  return kube::resources::deployments();
}

struct Wanted {
  JaegerInstance instance;
  std::set<std::string> owners;               // keys of the policies it is kept for
  std::map<std::string, std::string> ratios;  // service → ratio (served_ratios())
  std::map<std::string, std::map<std::string, std::string>> operations;  // service → op → ratio
};

// A config's per-operation bumps as a strategy contribution carries them.
std::map<std::string, StrategyContribution::OperationBump> operation_bumps(
    const EffectiveConfig& c, const std::string& root_namespace) {
  std::map<std::string, StrategyContribution::OperationBump> out;
  for (const auto& [op, bump] : c.operation_debug) {
    out[op] = {bump.ratio, bump.policy, bump.policy.starts_with(root_namespace + "/")};
  }
  return out;
}

std::string label(const json& object, const char* key) {
  return object["metadata"].value("labels", json::object()).value(key, "");
}

std::string instance_of(const json& object) {
  return object["metadata"].value("namespace", "") + "/" +
         label(object, "app.kubernetes.io/instance");
}

bool is_jaeger(const json& object) {
  return managed_by_operator(object) && label(object, "app.kubernetes.io/name") == "jaeger";
}

// The policy whose spec.jaeger placed `c`'s Jaeger, as effective_config() decides it: the most
// specific candidate that sets spec.jaeger, else the least specific candidate.
std::string jaeger_source(const EffectiveConfig& c, const PolicyCache& cache) {
  for (const auto& key : c.policies) {
    auto p = cache.get(key);
    if (p && p->spec.jaeger) return key;
  }
  return c.policies.empty() ? "" : c.policies.back();
}

}  // namespace

bool managed_by_operator(const json& object) {
  return label(object, naming::kManagedByLabel) == naming::kFieldManager;
}

// Ownership (SPEC §8), as this pass applies it:
// - an instance is kept for the policies that place it: each policy asking for it in spec.jaeger
//   (mode managed), and for each workload reporting to it, the policy whose spec.jaeger placed
//   it (else its least specific candidate). Their uids, all of them, are its objects' owners
//   (ownership.h); each holds the finalizer kJaegerFinalizer before any object lists it;
// - an object is created only where no object of that name exists (POST: a name taken
//   meanwhile is a 409, not a takeover), and updated only when it carries the proof and belongs
//   to this instance (the Services' fixed names are shared by every instance of a namespace);
//   otherwise it is a NameConflict for each owner, and the instance gets no new object until
//   the name is free (its objects that are the operator's are still kept up to date);
// - an object of an instance nobody wants is deleted only if it carries the proof when read just
//   before, with preconditions on that read;
// - a policy's finalizer is released once it owns no instance and no object the operator keeps
//   lists its uid (read from the API server, not the stores, which may lag).
//
// Remote sampling (SPEC §6): each remote-mode workload reporting to an instance contributes its
// service's ratio to that instance's strategies file, as served_ratios() rules (strategies.h): a
// ratio a policy outside the root namespace decides counts only while no other namespace's
// workload shares the service name on that instance; otherwise the workload contributes what its
// root policies alone give it and the policy is Degraded with reason SharedServiceName. Among
// what counts, the higher ratio wins (logged).
kube::Result<Action> JaegerReconciler::reconcile(const std::string&) {
  std::map<std::string, Wanted> wanted;
  std::map<std::string, std::vector<StrategyContribution>> contributions;  // by instance
  std::optional<WallTime> next_change;
  PolicyReports::ByPolicy reports;
  std::set<std::string> seen;  // messages reported in this pass

  // Policies that ask for a managed Jaeger explicitly want it even before they select anything.
  // A deleting policy wants nothing: its Jaeger goes while its uid still proves it the operator's.
  for (const auto& p : ctx_.policy_cache.all()) {
    if (p->deleting || !p->spec.jaeger || !p->spec.jaeger->is_object()) continue;
    if (p->spec.jaeger->value("mode", "") != "managed") continue;
    std::string ns = p->spec.jaeger->value("namespace", p->ns);
    if (p->ns != ctx_.root_namespace) ns = p->ns;  // §8: only its own namespace
    JaegerInstance inst{ns, p->spec.jaeger->value("name", "jaeger")};
    Wanted& want = wanted[inst.ns + "/" + inst.name];
    want.instance = inst;
    want.owners.insert(p->key());
  }
  std::string held;  // a workload whose decision cannot be used: what it needs is unknown
  for (const auto& d : ctx_.workloads.list()) {
    auto decision = workloads_.facts(d);
    if (!decision->config || decision->opted_out) continue;
    const EffectiveConfig& c = *decision->config;
    if (!c.unusable.empty()) {  // held as it is: nothing created for it, nothing removed
      held = d->key();
      continue;
    }
    if (c.jaeger_mode != "managed") continue;
    JaegerInstance inst{c.jaeger_namespace, c.jaeger_name};
    Wanted& want = wanted[inst.ns + "/" + inst.name];
    want.instance = inst;
    if (std::string source = jaeger_source(c, ctx_.policy_cache); !source.empty()) {
      want.owners.insert(source);
    }
    if (!c.strategies_served()) continue;
    if (c.next_change && (!next_change || *c.next_change < *next_change)) {
      next_change = c.next_change;
    }
    StrategyContribution sc{.workload = d->key(),
                            .ns = *decision->ns,
                            .service = *decision->service,
                            .ratio = c.effective_ratio(),
                            .policy = c.ratio_policy(),
                            .root_policy = !decision->ratio_from_namespace,
                            .debug = c.debug.has_value()};
    const auto& root = decision->root_config;
    sc.operations = operation_bumps(c, ctx_.root_namespace);
    if (root && root->unusable.empty() && root->mode == "remote") {
      sc.root_ratio = root->effective_ratio();
      sc.root_operations = operation_bumps(*root, ctx_.root_namespace);
    }
    contributions[inst.ns + "/" + inst.name].push_back(std::move(sc));
  }
  for (auto& [key, list] : contributions) {
    ServedRatios served = served_ratios(std::move(list), kDefaultStrategyRatio, key);
    wanted[key].ratios = std::move(served.ratios);
    wanted[key].operations = std::move(served.operations);
    for (const auto& c : served.collisions) {
      spdlog::warn("remote sampling: one service name, different ratios: {}", c);
    }
    for (const auto& r : served.refused) {
      std::string logged = "policy " + r.policy + ": " + r.message;
      if (!logged_.count(logged)) spdlog::warn("remote sampling: {}", logged);
      seen.insert(std::move(logged));
      reports[r.policy].insert({"SharedServiceName", r.message});
    }
  }

  const std::set<std::string> uids = existing_policy_uids(ctx_);
  std::optional<kube::ApiError> failure;
  bool conflicts = false;

  std::set<std::string> owner_keys;
  for (auto& [key, want] : wanted) owner_keys.insert(want.owners.begin(), want.owners.end());
  FinalizerHolds holds(ctx_, naming::kJaegerFinalizer, naming::kJaegerFinalizerManager);

  // Create or update what differs. One instance failing (its namespace being deleted, say) does
  // not hold the others back; the first failure is returned at the end for a retry with backoff.
  for (const auto& entry : wanted) {
    // Named, not a structured binding: the lambda below captures them (clang before 16 cannot
    // capture a binding).
    const auto& key = entry.first;
    const auto& want = entry.second;
    if (ctx_.namespace_terminating(want.instance.ns)) continue;  // it would only fight deletion
    // An owner not in the store yet: its informer event brings this pass back.
    std::optional<std::set<std::string>> owners = owner_uids(ctx_, want.owners);
    if (!owners) continue;

    auto report = [&](const std::string& message) {
      if (!logged_.count(message)) spdlog::warn("managed Jaeger {}: {}", key, message);
      seen.insert(message);
      for (const auto& owner : want.owners) reports[owner].insert({"NameConflict", message});
      conflicts = true;
    };
    struct Write {
      json object;
      std::string uid;  // of the live object to update; "" to create
    };
    std::vector<Write> writes;
    bool taken = false;  // a name of this instance is someone else's
    bool ok = true;
    std::string strategies = render_strategies(kDefaultStrategyRatio, want.ratios, want.operations);
    for (json& obj : jaeger_objects(want.instance, strategies)) {
      obj = with_proof(std::move(obj), *owners);
      const std::string kind = obj["kind"];
      const std::string name = obj["metadata"]["name"];
      const std::string ref = object_ref(kind, want.instance.ns, name);
      kube::Resource r = resource_for(kind);
      // The stores hold the operator's ConfigMaps, Services and Deployments (by label); a name
      // they do not know may still be taken.
      std::string store_key = want.instance.ns + "/" + name;
      runtime::ObjectPtr cached = kind == "ConfigMap" ? config_maps_.store().get(store_key)
                                  : kind == "Service" ? services_.store().get(store_key)
                                                      : deployments_.store().get(store_key);
      std::optional<json> live;
      if (cached) {
        live = *cached;
      } else {
        auto got = get_if_exists(ctx_, r, want.instance.ns, name);
        if (!got) {
          if (!failure) failure = got.error();
          ok = false;
          break;
        }
        live = std::move(*got);
      }
      if (!live) {
        writes.push_back({std::move(obj), ""});
        continue;
      }
      Ownership o = ownership_of(*live, kind, uids);
      if (!o.ours) {
        report(ref + " exists and is not the operator's (it " + o.why +
               "): left untouched, so the managed Jaeger " + key + " is incomplete");
        taken = true;
        continue;
      }
      if (label(*live, "app.kubernetes.io/instance") != want.instance.name) {
        report(ref + " belongs to the managed Jaeger " + instance_of(*live) +
               ": one managed Jaeger per namespace, so " + key + " is incomplete");
        taken = true;
        continue;
      }
      if (json_subset(obj, *live)) continue;
      writes.push_back({std::move(obj), (*live)["metadata"].value("uid", "")});
    }
    if (!ok) continue;
    if (taken) {
      // Nothing new while a name is someone else's; the operator's own objects are kept.
      std::erase_if(writes, [](const Write& w) { return w.uid.empty(); });
    }
    // Every owner holds the finalizer before an object lists it.
    if (!writes.empty() && !holds.hold(want.owners)) {
      if (holds.error() && !failure) failure = holds.error();
      continue;
    }

    for (Write& w : writes) {
      const std::string kind = w.object["kind"];
      const std::string name = w.object["metadata"]["name"];
      kube::Resource r = resource_for(kind);
      if (w.uid.empty()) {
        auto created = ctx_.client.create(r, want.instance.ns, w.object);
        if (!created && created.error().is_already_exists()) {
          report(object_ref(kind, want.instance.ns, name) +
                 " was created by someone else just before the operator: left untouched");
          break;
        }
        if (!created) {
          spdlog::warn("managed Jaeger {}: {} {}: {}", key, kind, name,
                       created.error().to_string());
          if (!failure) failure = created.error();
          break;
        }
        spdlog::info("managed Jaeger {}: created {} {}", key, kind, name);
        continue;
      }
      // The uid makes the apply a precondition on the object whose proof was checked: never a
      // write to an object re-created under the name meanwhile, never a creation.
      w.object["metadata"]["uid"] = w.uid;
      auto applied =
          ctx_.client.apply(r, want.instance.ns, name, w.object, {naming::kFieldManager, true, ""});
      if (!applied) {
        spdlog::warn("managed Jaeger {}: {} {}: {}", key, kind, name, applied.error().to_string());
        if (!failure) failure = applied.error();
        break;
      }
      spdlog::info("managed Jaeger {}: updated {} {}", key, kind, name);
    }
  }

  // Remove instances nobody wants any more: only objects that carry the proof.
  auto remove_unwanted = [&](const runtime::Store& store, const kube::Resource& r) {
    for (const auto& obj : store.list()) {
      if (!is_jaeger(*obj) || wanted.count(instance_of(*obj))) continue;
      const std::string ns = (*obj)["metadata"]["namespace"];
      const std::string name = (*obj)["metadata"]["name"];
      std::string why;
      auto deleted = delete_if_ours(ctx_, r, ns, name, uids, &why);
      if (!deleted) {
        if (!failure) failure = deleted.error();
        continue;
      }
      if (*deleted) {
        spdlog::info("managed Jaeger {}: removed {} {}", instance_of(*obj), r.kind, name);
      } else if (!why.empty() && not_ours_.insert(object_ref(r.kind, ns, name)).second) {
        spdlog::warn("{} carries the operator's label but {}: not deleted",
                     object_ref(r.kind, ns, name), why);
      }
    }
  };
  // A policy whose spec was never readable, or a workload held as it is, may need any instance:
  // remove nothing until they can be decided.
  if (std::string unknown = ctx_.policy_cache.unknown_spec(); !unknown.empty() || !held.empty()) {
    spdlog::debug("managed Jaeger: {} cannot be decided; nothing is removed",
                  unknown.empty() ? "workload " + held : "policy " + unknown);
  } else {
    remove_unwanted(deployments_.store(), kube::resources::deployments());
    remove_unwanted(services_.store(), kServices);
    remove_unwanted(config_maps_.store(), kube::resources::config_maps());
  }

  // Release the finalizer of policies that own no instance any more, once no object lists them.
  bool finalizers_waiting = false;
  std::vector<runtime::ObjectPtr> releasable;
  for (const auto& p : ctx_.policies.store().list()) {
    if (has_finalizer(*p, naming::kJaegerFinalizer) && !owner_keys.count(runtime::object_key(*p))) {
      releasable.push_back(p);
    }
  }
  if (!releasable.empty() && !failure) {
    auto listed = owners_listed(uids);
    if (!listed) {
      failure = listed.error();
    } else {
      for (const auto& p : releasable) {
        if (listed->count((*p)["metadata"].value("uid", ""))) {
          finalizers_waiting = true;  // the stores have not shown that object yet
          continue;
        }
        auto s = release_finalizer(ctx_, *p, naming::kJaegerFinalizerManager);
        if (!s) {
          if (!failure) failure = s.error();
          continue;
        }
        spdlog::info("managed Jaeger: policy {} owns none any more, finalizer released",
                     runtime::object_key(*p));
      }
    }
  }

  for (const auto& key : ctx_.reports.replace("jaeger", std::move(reports))) {
    ctx_.policy_queue.add(key);
  }
  logged_ = std::move(seen);

  if (failure) return *failure;
  std::optional<std::chrono::milliseconds> after;
  auto sooner = [&](std::chrono::milliseconds d) {
    if (!after || d < *after) after = d;
  };
  if (next_change) {
    auto d = std::chrono::duration_cast<std::chrono::milliseconds>(*next_change - ctx_.now());
    sooner(std::max(d, std::chrono::milliseconds(0)) + std::chrono::milliseconds(5));
  }
  if (conflicts) sooner(kConflictRecheck);
  if (finalizers_waiting) sooner(kFinalizerRecheck);
  return after ? Action::requeue(*after) : Action::await_change();
}

kube::Result<std::set<std::string>> JaegerReconciler::owners_listed(
    const std::set<std::string>& uids) {
  std::set<std::string> out;
  kube::ListOptions lo;
  lo.label_selector = kManagedBySelector;
  for (const auto& r :
       {kube::resources::config_maps(), kServices, kube::resources::deployments()}) {
    auto list = ctx_.client.list(r, "", lo);
    if (!list) return list.error();
    for (const auto& obj : list->items) {
      if (!is_jaeger(obj)) continue;
      Ownership o = ownership_of(obj, r.kind, uids);
      if (o.ours) out.insert(o.policies.begin(), o.policies.end());
    }
  }
  return out;
}

}  // namespace tracing::controllers
