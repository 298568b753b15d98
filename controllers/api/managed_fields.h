// Field ownership of a Deployment, read from its metadata.managedFields (server-side apply): who
// owns each container env entry's value, each pod-template annotation and each of the operator's
// own annotations. The Deployment informer's record keeps only this (WorkloadRecord).
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>

#include "controllers/api/json.h"

namespace tracing::controllers {

// Per container, per env variable: the managers owning the entry's value.
using EnvOwners = std::map<std::string, std::map<std::string, std::set<std::string>>>;

// In Workload::env_owners, the pseudo-container holding the owners of pod-template annotations
// (container names are DNS labels, so none can collide with it).
inline constexpr const char* kTemplateAnnotationOwners = "@template-annotations";
// In Workload::env_owners, the pseudo-container holding the owners of metadata.annotations.
inline constexpr const char* kAnnotationOwners = "@annotations";

// The owners `managed_fields` (metadata.managedFields; null or malformed reads as none) records:
// per container, per env variable whose value the operator reads (is_read_env_value: OTEL_*), the
// managers owning the entry's value (f:value or f:valueFrom); under kTemplateAnnotationOwners,
// the owners of each pod-template annotation the operator reads (is_read_annotation);
// under kAnnotationOwners, the owners of the operator's own metadata annotations
// (tracing.rollout.dev/...), where the operator's field manager counts only for an Apply (an
// Update under its name is recorded as "<field manager> (Update)").
EnvOwners owners_from_managed_fields(const json* managed_fields);

// Whether `key`, a key of a container's f:env in fieldsV1 (k:{"name":"OTEL_TRACES_SAMPLER"}),
// names a variable whose owners owners_from_managed_fields() records (is_read_env_value).
bool is_read_env_field(std::string_view key);

}  // namespace tracing::controllers
