#include "controllers/reconcilers/dapr_reconciler.h"

#include <spdlog/spdlog.h>

#include "controllers/apply_intent.h"
#include "controllers/naming.h"
#include "controllers/reconcilers/jaeger_reconciler.h"

namespace tracing::controllers {

kube::Resource dapr_configurations() {
  return {naming::kDaprGroup, naming::kDaprVersion, naming::kDaprConfigurationPlural, true,
          naming::kDaprConfigurationKind};
}

namespace {

constexpr auto kResync = std::chrono::seconds(60);

struct Want {
  WorkloadReconciler::DaprTarget target;
  std::string first_workload;
};

std::string annotation(const json& object, const char* key) {
  return object["metadata"].value("annotations", json::object()).value(key, "");
}

}  // namespace

kube::Result<Action> DaprReconciler::reconcile(const std::string&) {
  if (!ctx_.dapr.served()) return Action::requeue(kResync);

  std::map<std::string, Want> wanted;  // "ns/name" → target
  for (const auto& d : ctx_.deployments.store().list()) {
    if (managed_by_operator(*d)) continue;
    Workload w = workload_from_deployment(*d);
    auto decision = workloads_.decide(w);
    if (!decision.dapr) continue;
    const auto& t = *decision.dapr;
    std::string key = t.ns + "/" + t.name;
    auto [it, inserted] = wanted.emplace(key, Want{t, w.key()});
    if (!inserted && !(it->second.target.tracing == t.tracing)) {
      spdlog::warn("Dapr Configuration {}: {} and {} want different tracing settings; keeping {}'s",
                   key, it->second.first_workload, w.key(), it->second.first_workload);
    }
  }

  auto live_list = ctx_.client.list(dapr_configurations(), "");
  if (!live_list) return live_list.error();
  std::map<std::string, json> live;
  for (auto& c : live_list->items) {
    std::string key = runtime::object_key(c);  // before the move: json's operator= takes by value
    live[key] = std::move(c);
  }

  std::optional<kube::ApiError> failure;
  for (const auto& [key, want] : wanted) {
    const auto& t = want.target;
    if (ctx_.namespace_terminating(t.ns)) continue;
    json intent = configuration_intent(t.ns, t.name, t.tracing);
    auto it = live.find(key);
    if (t.takeover) {
      if (it == live.end()) {
        spdlog::warn("Dapr Configuration {} (named by {}) does not exist", key,
                     want.first_workload);
        continue;
      }
      // Record what was there before the first takeover, and carry the record on every apply.
      std::string recorded = annotation(it->second, naming::kDaprPreviousAnnotation);
      if (recorded.empty()) recorded = previous_tracing(it->second).dump();
      intent["metadata"]["annotations"][naming::kDaprPreviousAnnotation] = recorded;
    } else {
      intent["metadata"]["labels"]["app.kubernetes.io/managed-by"] = naming::kFieldManager;
    }
    if (it != live.end() && json_subset(intent, it->second)) continue;
    auto r = ctx_.client.apply(dapr_configurations(), t.ns, t.name, intent,
                               {naming::kFieldManager, true, ""});
    if (!r) {
      spdlog::warn("Dapr Configuration {}: {}", key, r.error().to_string());
      if (!failure) failure = r.error();
      continue;
    }
    spdlog::info("Dapr Configuration {}: tracing at samplingRate {}", key, t.tracing.sampling_rate);
  }

  // Give back what no workload wants any more.
  for (const auto& [key, obj] : live) {
    if (wanted.count(key)) continue;
    const std::string ns = obj["metadata"].value("namespace", "");
    const std::string name = obj["metadata"].value("name", "");
    if (managed_by_operator(obj)) {
      auto s = ctx_.client.remove(dapr_configurations(), ns, name);
      if (!s && !s.error().is_not_found() && !failure) failure = s.error();
      if (s) spdlog::info("Dapr Configuration {}: no workload uses it, deleted", key);
      continue;
    }
    std::string recorded = annotation(obj, naming::kDaprPreviousAnnotation);
    if (recorded.empty()) continue;
    json record = json::parse(recorded, nullptr, /*allow_exceptions=*/false);
    if (!record.is_object()) record = json{{"tracing", nullptr}};
    // 1. The recorded values back (merge patch); 2. the operator's ownership and record gone.
    auto restored =
        ctx_.client.patch(dapr_configurations(), ns, name, restore_intent(ns, name, record),
                          kube::PatchType::kMerge, "", naming::kFieldManager);
    if (!restored) {
      if (!failure) failure = restored.error();
      continue;
    }
    if (auto release = release_patch(*restored)) {
      auto r =
          ctx_.client.patch(dapr_configurations(), ns, name, *release, kube::PatchType::kMerge);
      if (!r) {
        if (!failure) failure = r.error();
        continue;
      }
    }
    spdlog::info("Dapr Configuration {}: tracing settings given back", key);
  }
  if (failure) return *failure;
  return Action::requeue(kResync);
}

}  // namespace tracing::controllers
