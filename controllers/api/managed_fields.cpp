// Ownership from managedFields. Total: malformed entries are skipped, never thrown on.
#include "controllers/api/managed_fields.h"

#include <optional>
#include <vector>

#include "controllers/api/workload.h"
#include "controllers/naming.h"

namespace tracing::controllers {
namespace {

// The name inside a `k:{"name":"app"}` key of fieldsV1, or nullopt.
std::optional<std::string> key_name(std::string_view key) {
  if (key.rfind("k:", 0) != 0) return std::nullopt;
  json k = json::parse(key.substr(2), nullptr, /*allow_exceptions=*/false);
  if (!k.is_object()) return std::nullopt;
  auto it = k.find("name");
  if (it == k.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

}  // namespace

EnvOwners owners_from_managed_fields(const json* managed_fields) {
  EnvOwners owners;
  if (!managed_fields || !managed_fields->is_array()) return owners;
  for (const json& entry : *managed_fields) {
    const json* manager = member(entry, "manager");
    if (!manager || !manager->is_string()) continue;
    const json* f = member(entry, "fieldsV1");
    // metadata.annotations of the Deployment itself.
    const json* mann = f ? member(*f, "f:metadata") : nullptr;
    mann = mann ? member(*mann, "f:annotations") : nullptr;
    if (mann && mann->is_object()) {
      for (const auto& [akey, afields] : mann->items()) {
        // Only the operator's own keys: the projection keeps these owners in memory. The
        // operator writes them only by server-side apply; an update that merely borrows its
        // manager name (a client whose User-Agent says tracing-operator) is no proof.
        if (akey.rfind("f:tracing.rollout.dev/", 0) == 0) {
          std::string who = manager->get<std::string>();
          const json* op = member(entry, "operation");
          if (who == naming::kFieldManager && !(op && *op == "Apply")) who += " (Update)";
          owners[kAnnotationOwners][akey.substr(2)].insert(who);
        }
      }
    }
    for (const char* step : {"f:spec", "f:template"}) f = f ? member(*f, step) : nullptr;
    // Pod-template annotations, under a pseudo-container no real container can be named.
    const json* ann = f ? member(*f, "f:metadata") : nullptr;
    ann = ann ? member(*ann, "f:annotations") : nullptr;
    if (ann && ann->is_object()) {
      for (const auto& [akey, afields] : ann->items()) {
        if (akey.rfind("f:", 0) == 0 && is_read_annotation(std::string_view(akey).substr(2))) {
          owners[kTemplateAnnotationOwners][akey.substr(2)].insert(manager->get<std::string>());
        }
      }
    }
    for (const char* step : {"f:spec", "f:containers"}) f = f ? member(*f, step) : nullptr;
    if (!f || !f->is_object()) continue;
    for (const auto& [ckey, cfields] : f->items()) {
      auto container = key_name(ckey);
      const json* env = container ? member(cfields, "f:env") : nullptr;
      if (!env || !env->is_object()) continue;
      for (const auto& [ekey, efields] : env->items()) {
        if (!efields.is_object() || !is_read_env_field(ekey)) continue;
        auto var = key_name(ekey);
        if (efields.contains("f:value") || efields.contains("f:valueFrom")) {
          owners[*container][*var].insert(manager->get<std::string>());
        }
      }
    }
  }
  return owners;
}

bool is_read_env_field(std::string_view key) {
  auto var = key_name(key);
  return var && is_read_env_value(*var);
}

}  // namespace tracing::controllers
