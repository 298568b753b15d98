// Every name the operator writes into the cluster, in one place (the OTel Operator's
// internal/naming): labels, annotations, the field manager, finalizer, env variable names.
#pragma once

namespace tracing::naming {

inline constexpr const char* kGroup = "tracing.rollout.dev";
inline constexpr const char* kVersion = "v1alpha1";
inline constexpr const char* kApiVersion = "tracing.rollout.dev/v1alpha1";
inline constexpr const char* kKind = "TracingPolicy";
inline constexpr const char* kPlural = "tracingpolicies";

inline constexpr const char* kFieldManager = "tracing-operator";
inline constexpr const char* kFinalizer = "tracing.rollout.dev/revert";

// On a Deployment: "false" opts it out.
inline constexpr const char* kInjectAnnotation = "tracing.rollout.dev/inject";
// On a Deployment, written by the operator: the candidate policies ("ns/name,ns/name") whose
// settings it carries, so a deleting policy knows when every workload is reverted.
inline constexpr const char* kPoliciesAnnotation = "tracing.rollout.dev/policies";
// On a Deployment, written by the operator: the env entries `override: true` replaced, as they
// were, with the manager that owned them: {"container":{"VAR":{"entry":{...},"manager":"m"}}}.
inline constexpr const char* kOverriddenAnnotation = "tracing.rollout.dev/overridden-env";
// On a Deployment, written by the operator while `override` holds variables of a container: the
// container's env order before the operator touched it ({"container":["A","B"]}). A forced apply
// can move the entry it takes; the revert puts it back in place.
inline constexpr const char* kOriginalOrderAnnotation = "tracing.rollout.dev/original-env-order";

inline constexpr const char* kOtelServiceName = "OTEL_SERVICE_NAME";
inline constexpr const char* kOtelEndpoint = "OTEL_EXPORTER_OTLP_ENDPOINT";
inline constexpr const char* kOtelProtocol = "OTEL_EXPORTER_OTLP_PROTOCOL";
inline constexpr const char* kOtelInsecure = "OTEL_EXPORTER_OTLP_INSECURE";
inline constexpr const char* kOtelTracesExporter = "OTEL_TRACES_EXPORTER";
inline constexpr const char* kOtelSampler = "OTEL_TRACES_SAMPLER";
inline constexpr const char* kOtelSamplerArg = "OTEL_TRACES_SAMPLER_ARG";
inline constexpr const char* kOtelPropagators = "OTEL_PROPAGATORS";
inline constexpr const char* kOtelResourceAttributes = "OTEL_RESOURCE_ATTRIBUTES";

}  // namespace tracing::naming
