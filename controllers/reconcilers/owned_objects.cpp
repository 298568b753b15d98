#include "controllers/reconcilers/owned_objects.h"

#include "controllers/naming.h"
#include "controllers/ownership.h"

namespace tracing::controllers {

namespace {

json policy_identity(const json& policy) {
  return {{"apiVersion", naming::kApiVersion},
          {"kind", naming::kKind},
          {"metadata",
           {{"name", policy["metadata"].value("name", "")},
            {"namespace", policy["metadata"].value("namespace", "")},
            {"uid", policy["metadata"].value("uid", "")}}}};
}

}  // namespace

std::set<std::string> existing_policy_uids(const Context& ctx) {
  std::set<std::string> out;
  for (const auto& p : ctx.policies.store().list()) {
    std::string uid = (*p)["metadata"].value("uid", "");
    if (!uid.empty()) out.insert(std::move(uid));
  }
  return out;
}

bool has_finalizer(const json& object, const std::string& finalizer) {
  for (const auto& f : object["metadata"].value("finalizers", json::array())) {
    if (f == finalizer) return true;
  }
  return false;
}

kube::Status hold_finalizer(Context& ctx, const json& policy, const std::string& finalizer,
                            const std::string& manager) {
  json intent = policy_identity(policy);
  intent["metadata"]["finalizers"] = json::array({finalizer});
  auto r =
      ctx.client.apply(tracing_policies(), intent["metadata"]["namespace"].get<std::string>(),
                       intent["metadata"]["name"].get<std::string>(), intent, {manager, false, ""});
  if (!r) return r.error();
  return kube::Ok{};
}

kube::Status release_finalizer(Context& ctx, const json& policy, const std::string& manager) {
  // An apply without the finalizer releases this manager's claim on it, which removes it.
  json intent = policy_identity(policy);
  auto r =
      ctx.client.apply(tracing_policies(), intent["metadata"]["namespace"].get<std::string>(),
                       intent["metadata"]["name"].get<std::string>(), intent, {manager, false, ""});
  if (!r && !r.error().is_not_found()) return r.error();
  return kube::Ok{};
}

std::optional<std::set<std::string>> owner_uids(const Context& ctx,
                                                const std::set<std::string>& owners) {
  std::set<std::string> out;
  for (const auto& key : owners) {
    runtime::ObjectPtr p = ctx.policies.store().get(key);
    if (!p || (*p)["metadata"].contains("deletionTimestamp")) return std::nullopt;
    std::string uid = (*p)["metadata"].value("uid", "");
    if (uid.empty()) return std::nullopt;
    out.insert(std::move(uid));
  }
  return out;
}

bool FinalizerHolds::hold(const std::set<std::string>& owners) {
  for (const auto& key : owners) {
    if (held_.count(key)) continue;
    runtime::ObjectPtr p = ctx_.policies.store().get(key);
    if (!p || (*p)["metadata"].contains("deletionTimestamp")) return false;
    if (!has_finalizer(*p, finalizer_)) {
      auto s = hold_finalizer(ctx_, *p, finalizer_, manager_);
      if (!s) {
        if (!error_) error_ = s.error();
        return false;
      }
    }
    held_.insert(key);
  }
  return true;
}

kube::Result<std::optional<json>> get_if_exists(Context& ctx, const kube::Resource& r,
                                                const std::string& ns, const std::string& name) {
  auto got = ctx.client.get(r, ns, name);
  if (got) return std::optional<json>(std::move(*got));
  if (got.error().is_not_found()) return std::optional<json>();
  return got.error();
}

kube::Result<bool> delete_if_ours(Context& ctx, const kube::Resource& r, const std::string& ns,
                                  const std::string& name, const std::set<std::string>& uids,
                                  std::string* why) {
  why->clear();
  auto live = get_if_exists(ctx, r, ns, name);
  if (!live) return live.error();
  if (!*live) return false;
  Ownership o = ownership_of(**live, r.kind, uids);
  if (!o.ours) {
    *why = o.why;
    return false;
  }
  kube::DeleteOptions options;
  options.precondition_uid = (**live)["metadata"].value("uid", "");
  options.precondition_resource_version = (**live)["metadata"].value("resourceVersion", "");
  auto s = ctx.client.remove(r, ns, name, options);
  if (!s) {
    if (s.error().is_not_found()) return false;
    return s.error();
  }
  return true;
}

}  // namespace tracing::controllers
