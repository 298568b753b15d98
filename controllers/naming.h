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
// events.k8s.io/v1 reportingController of every Event the operator writes (the reportingInstance
// is the process's identity).
inline constexpr const char* kReportingController = "tracing.rollout.dev/tracing-operator";

// ---- Proof of creation (SPEC §8 "Ownership"; controllers/ownership.h) ----
// On every object the operator creates (a managed Jaeger's ConfigMaps, Deployment and Services;
// its own Dapr Configurations): the label says who manages it, the annotation proves it:
// {"object":"<Kind> <namespace>/<name>","policies":["<uid>",...]}, the uids of the
// TracingPolicies the object is kept for.
inline constexpr const char* kManagedByLabel = "app.kubernetes.io/managed-by";
inline constexpr const char* kOwnersAnnotation = "tracing.rollout.dev/owners";
// Finalizers the Jaeger and Dapr passes hold on every policy listed in an owners annotation, so
// that a policy's objects are deleted (or handed to the remaining owners) while its uid still
// names a policy that exists. Each is applied by its own field manager: the policy reconciler
// (kFieldManager, kFinalizer) and the two passes never release one another's finalizer.
inline constexpr const char* kJaegerFinalizer = "tracing.rollout.dev/managed-jaeger";
inline constexpr const char* kJaegerFinalizerManager = "tracing-operator-jaeger";
inline constexpr const char* kDaprFinalizer = "tracing.rollout.dev/dapr-configuration";
inline constexpr const char* kDaprFinalizerManager = "tracing-operator-dapr";

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

// On the managed Jaeger's pod template: a hash of its config.yaml. Jaeger reads its config only at
// start, so a config change rolls it; the strategies file is reloaded and not hashed (§6).
inline constexpr const char* kJaegerConfigHashAnnotation = "tracing.rollout.dev/jaeger-config-hash";

// ---- Dapr (§7) ----
// On a workload's pod template, written by the operator when dapr.restartOnChange is set: a hash
// of the Dapr tracing settings the sidecar should run with (tracing_hash() in dapr.h); changing it
// rolls the pods (§7, §9), so the sidecars start with the new settings. Needed before Dapr 1.18
// (sidecars read their Configuration only at start) and with 1.18 too: its hot reload re-reads
// the Configuration in place, but the reloaded daprd exports no spans until it restarts (README,
// "Dapr hot reload and restartOnChange").
inline constexpr const char* kDaprHashAnnotation = "tracing.rollout.dev/dapr-tracing-hash";
// On a Dapr Configuration the operator took over (one a workload referenced with
// dapr.io/config): what spec.tracing was before, as previous_tracing() returns it, serialized
// JSON. restore_intent() reads it back when no policy wants the Configuration any more, but only
// after previous_record() trusted it (written by kFieldManager, of the recorded shape).
inline constexpr const char* kDaprPreviousAnnotation = "tracing.rollout.dev/previous-tracing";

// Dapr's own names (dapr/dapr pkg/injector/annotations; pkg/apis/configuration/v1alpha1).
inline constexpr const char* kDaprEnabledAnnotation = "dapr.io/enabled";
inline constexpr const char* kDaprConfigAnnotation = "dapr.io/config";
inline constexpr const char* kDaprGroup = "dapr.io";
inline constexpr const char* kDaprVersion = "v1alpha1";
inline constexpr const char* kDaprApiVersion = "dapr.io/v1alpha1";
inline constexpr const char* kDaprConfigurationKind = "Configuration";
inline constexpr const char* kDaprConfigurationPlural = "configurations";

}  // namespace tracing::naming
