// Names the Dapr integration (SPEC §7) reads and writes: the operator's own annotations, and
// Dapr's names it depends on. Kept apart from naming.h so the Dapr pieces can land on their own.
#pragma once

namespace tracing::naming {

// On a workload's pod template, written by the operator when dapr.restartOnChange is set: a hash
// of the Dapr tracing settings the sidecar should run with (tracing_hash() in dapr.h). Sidecars
// read their Configuration only at start, so changing this rolls the pods (§7, §9).
inline constexpr const char* kDaprHashAnnotation = "tracing.rollout.dev/dapr-tracing-hash";
// On a Dapr Configuration the operator took over (one a workload referenced with
// dapr.io/config): what spec.tracing was before, as previous_tracing() returns it, serialized
// JSON. restore_intent() reads it back when no policy wants the Configuration any more.
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
