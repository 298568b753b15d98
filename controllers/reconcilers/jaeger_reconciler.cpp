#include "controllers/reconcilers/jaeger_reconciler.h"

#include <spdlog/spdlog.h>

#include "controllers/apply_intent.h"
#include "controllers/jaeger.h"
#include "controllers/naming.h"

namespace tracing::controllers {

namespace {

// Ratio a service gets from the strategies file when no workload names it.
constexpr const char* kDefaultStrategyRatio = "0.01";

kube::Resource resource_for(const json& object) {
  const std::string kind = object.value("kind", "");
  if (kind == "ConfigMap") return kube::resources::config_maps();
  if (kind == "Service") return {"", "v1", "services", true, "Service"};
  return kube::resources::deployments();
}

struct Wanted {
  JaegerInstance instance;
  std::map<std::string, std::string> ratios;  // service → ratio
  std::map<std::string, std::string> owners;  // service → workload that set the ratio
};

std::string instance_of(const json& object) {
  const json labels = object["metadata"].value("labels", json::object());
  return object["metadata"].value("namespace", "") + "/" +
         labels.value("app.kubernetes.io/instance", "");
}

bool is_jaeger(const json& object) {
  const json labels = object["metadata"].value("labels", json::object());
  return labels.value("app.kubernetes.io/managed-by", "") == naming::kFieldManager &&
         labels.value("app.kubernetes.io/name", "") == "jaeger";
}

}  // namespace

bool managed_by_operator(const json& object) {
  const json labels = object["metadata"].value("labels", json::object());
  return labels.value("app.kubernetes.io/managed-by", "") == naming::kFieldManager;
}

kube::Result<Action> JaegerReconciler::reconcile(const std::string&) {
  std::map<std::string, Wanted> wanted;
  std::vector<std::string> collisions;
  std::optional<WallTime> next_change;

  // Policies that ask for a managed Jaeger explicitly want it even before they select anything.
  for (const auto& p : ctx_.policy_cache.all()) {
    if (!p->spec.jaeger || !p->spec.jaeger->is_object()) continue;
    if (p->spec.jaeger->value("mode", "") != "managed") continue;
    std::string ns = p->spec.jaeger->value("namespace", p->ns);
    if (p->ns != ctx_.root_namespace) ns = p->ns;  // §8: only its own namespace
    JaegerInstance inst{ns, p->spec.jaeger->value("name", "jaeger")};
    wanted[inst.ns + "/" + inst.name].instance = inst;
  }
  for (const auto& d : ctx_.deployments.store().list()) {
    if (managed_by_operator(*d)) continue;
    Workload w = workload_from_deployment(*d);
    auto decision = workloads_.decide(w);
    if (!decision.config || decision.opted_out) continue;
    const EffectiveConfig& c = *decision.config;
    if (c.jaeger_mode != "managed") continue;
    JaegerInstance inst{c.jaeger_namespace, c.jaeger_name};
    Wanted& want = wanted[inst.ns + "/" + inst.name];
    want.instance = inst;
    if (c.mode != "remote") continue;
    if (c.next_change && (!next_change || *c.next_change < *next_change)) {
      next_change = c.next_change;
    }
    std::string service = service_name(c, w);
    std::string ratio = c.effective_ratio();
    auto it = want.ratios.find(service);
    if (it == want.ratios.end()) {
      want.ratios[service] = ratio;
      want.owners[service] = w.key();
    } else if (it->second != ratio) {
      bool higher = std::stod(ratio) > std::stod(it->second);
      const std::string& kept = higher ? ratio : it->second;
      const std::string& dropped = higher ? it->second : ratio;
      collisions.push_back(service + ": " + kept + " over " + dropped + " (" + w.key() + ", " +
                           want.owners[service] + ")");
      if (higher) {
        it->second = ratio;
        want.owners[service] = w.key();
      }
    }
  }
  for (const auto& c : collisions) {
    spdlog::warn("remote sampling: one service name, different ratios: {}", c);
  }

  // Apply what differs. One instance failing (its namespace being deleted, say) does not hold
  // the others back; the first failure is returned at the end for a retry with backoff.
  std::optional<kube::ApiError> failure;
  for (const auto& [key, want] : wanted) {
    if (ctx_.namespace_terminating(want.instance.ns)) continue;  // it would only fight deletion
    std::string strategies = render_strategies(kDefaultStrategyRatio, want.ratios);
    for (const json& obj : jaeger_objects(want.instance, strategies)) {
      kube::Resource r = resource_for(obj);
      const std::string name = obj["metadata"]["name"];
      std::string store_key = want.instance.ns + "/" + name;
      runtime::ObjectPtr live = r.plural == "configmaps" ? config_maps_.store().get(store_key)
                                : r.plural == "services" ? services_.store().get(store_key)
                                                         : ctx_.deployments.store().get(store_key);
      if (live && json_subset(obj, *live)) continue;
      auto applied =
          ctx_.client.apply(r, want.instance.ns, name, obj, {naming::kFieldManager, true, ""});
      if (!applied) {
        spdlog::warn("managed Jaeger {}: {} {}: {}", key, obj["kind"].get<std::string>(), name,
                     applied.error().to_string());
        if (!failure) failure = applied.error();
        break;
      }
      spdlog::info("managed Jaeger {}: applied {} {}", key, obj["kind"].get<std::string>(), name);
    }
  }

  // Remove instances nobody wants any more.
  auto remove_unwanted = [&](runtime::Informer* inf, const kube::Resource& r) -> kube::Status {
    for (const auto& obj : inf ? inf->store().list() : ctx_.deployments.store().list()) {
      if (!is_jaeger(*obj) || wanted.count(instance_of(*obj))) continue;
      const std::string ns = (*obj)["metadata"]["namespace"];
      const std::string name = (*obj)["metadata"]["name"];
      auto s = ctx_.client.remove(r, ns, name);
      if (!s && !s.error().is_not_found()) return s.error();
      spdlog::info("managed Jaeger {}: removed {} {}", instance_of(*obj), r.kind, name);
    }
    return kube::Ok{};
  };
  if (auto s = remove_unwanted(nullptr, kube::resources::deployments()); !s) return s.error();
  if (auto s = remove_unwanted(&services_, {"", "v1", "services", true, "Service"}); !s) {
    return s.error();
  }
  if (auto s = remove_unwanted(&config_maps_, kube::resources::config_maps()); !s) {
    return s.error();
  }

  if (failure) return *failure;
  if (next_change) {
    auto d = std::chrono::duration_cast<std::chrono::milliseconds>(*next_change - ctx_.now());
    return Action::requeue(std::max(d, std::chrono::milliseconds(0)) +
                           std::chrono::milliseconds(5));
  }
  return Action::await_change();
}

}  // namespace tracing::controllers
