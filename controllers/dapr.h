// Dapr sidecar tracing (SPEC §7), as pure functions of their inputs: whether the operator
// manages a workload's Dapr tracing, the spec.tracing it applies to the workload's Dapr
// Configuration, the pod-template hash that rolls sidecars when it changes, and how a
// Configuration the operator took over is given back.
//
// Which Configuration: a workload whose pod template has dapr.io/config: X gets spec.tracing
// applied onto Configuration X in its namespace (a *referenced* Configuration: the user's object,
// of which the operator takes over spec.tracing.samplingRate and spec.tracing.otel.{
// endpointAddress,isSecure,protocol} with a forced server-side apply, leaving every other field
// as it was). Otherwise the operator applies its own Configuration (DaprSettings::
// configuration_name) and sets dapr.io/config on the pod template.
//
// Taking over a referenced Configuration X (field manager tracing-operator):
//   1. If X has no kDaprPreviousAnnotation yet, record previous_tracing(X) in it first — in the
//      same forced apply as the intent, or before it. Every later apply of the intent must carry
//      the annotation too, or the apply releases (deletes) it. A record previous_record() does
//      not trust is neither carried nor replayed: the takeover stops and the policy says why.
//   2. Forced apply of configuration_intent(ns, X, t) (plus the annotation).
//
// Giving X back when no policy wants it any more (two requests, in this order):
//   1. JSON merge patch restore_intent(ns, X, recorded) with field manager tracing-operator:
//      puts samplingRate and otel back to the recorded values (null removes what the user
//      never had; a recorded null removes spec.tracing). Idempotent; keeps the record.
//   2. JSON merge patch release_patch(X as step 1 returned it): drops every managedFields entry
//      of tracing-operator and the record, guarded by X's resourceVersion (a concurrent write
//      makes it a retryable 409: re-read X and redo step 2). Afterwards the restored values
//      belong to no manager; the user's next apply takes them without a conflict.
//   A crash between the steps leaves the record in place, so the next reconcile redoes both.
//
// Why not "merge patch, then an apply that releases the operator's fields": a non-apply write
// changes the owner only of fields whose value it changes. When the recorded value equals the
// current one (the user had samplingRate "1", the operator wrote "0.5" during a debug bump and
// "1" again after it — the user lost ownership at the first change), the merge patch leaves the
// field owned by tracing-operator alone, and the release apply deletes it: the API server then
// refuses the apply (samplingRate is required) and the Configuration can never be given back;
// for otel the fields would silently disappear. Dropping the entries keeps every value.
// tests/integration/dapr_crd_test.cpp shows both on a real API server.
#pragma once

#include <optional>
#include <string>

#include "controllers/api/policy.h"
#include "controllers/decision.h"

namespace tracing::controllers {

// spec.dapr of the effective policy, with defaults. Parsing is lenient (the CRD schema has
// refused what it can): a missing or malformed field keeps its default.
struct DaprSettings {
  std::string mode = "auto";  // auto | enabled | disabled
  std::string configuration_name = "tracing";
  bool restart_on_change = false;
};
DaprSettings dapr_settings(const std::optional<json>& spec_dapr);

// The spec.tracing the operator writes into a Dapr Configuration.
struct DaprTracing {
  std::string sampling_rate;     // spec.tracing.samplingRate
  std::string endpoint_address;  // spec.tracing.otel.endpointAddress: host:port
  bool is_secure = false;        // spec.tracing.otel.isSecure
  std::string protocol;          // spec.tracing.otel.protocol: grpc | http
  bool operator==(const DaprTracing&) const = default;
};

// From the workload's effective config:
// - samplingRate: what the SDK samples with (Dapr's sampler is ParentBased(TraceIDRatio)): the
//   effective ratio exactly as written ("0.25" stays "0.25"; a debug bump's ratio while it is
//   active); "1" for an always_on sampler and "0" for an always_off one, which take no ratio.
// - endpointAddress: host:port of c.endpoint, scheme, user info, path, query and fragment
//   stripped; an absent port defaults to 4317 (grpc) or 4318 (http). "" when the endpoint has
//   no host — the CRD schema accepts "", so the caller must not apply such an intent.
// - isSecure: as the OpenTelemetry SDK decides for the same endpoint (OTLP exporter spec): the
//   scheme wins when there is one (https:// → true, http:// → false); without a scheme,
//   !c.insecure.
// - protocol: "grpc" for grpc, "http" for http/protobuf and http/json.
DaprTracing dapr_tracing(const EffectiveConfig& c);

// Whether the operator manages the Dapr tracing of a workload: mode enabled → true; disabled →
// false; auto → the dapr.io/v1alpha1 configurations API is served and the pod template's
// dapr.io/enabled is true as Dapr's injector reads it (y, yes, true, t, on, 1; any case).
bool dapr_managed(const DaprSettings& s, bool api_served, const Labels& template_annotations);

// The Configuration the workload's pod template references (dapr.io/config), or "".
std::string referenced_configuration(const Labels& template_annotations);

// The dapr.io/v1alpha1 Configuration ns/name holding only spec.tracing {samplingRate, otel
// {endpointAddress, isSecure, protocol}}: applied (forced) with field manager tracing-operator,
// it takes over exactly those fields. Note that Dapr's schema defaults spec.metric and
// spec.metrics to {enabled: true} when the operator creates the object.
json configuration_intent(const std::string& ns, const std::string& name, const DaprTracing& t);

// Value of the pod-template annotation kDaprHashAnnotation: 16 lowercase hex digits, FNV-1a 64 of
// the four settings. Stable across runs and builds (changing it would roll every workload).
std::string tracing_hash(const DaprTracing& t);

// What to record (in kDaprPreviousAnnotation) before taking over a referenced Configuration:
// {"tracing": <its spec.tracing, or null when it has none>}.
json previous_tracing(const json& configuration);

// The record a referenced Configuration carries in kDaprPreviousAnnotation, and whether the
// operator may act on it: carry it into its applies while it holds spec.tracing, and replay it
// when it gives spec.tracing back. The record is bookkeeping that anyone who can edit the
// Configuration can change, so it is trusted only when
// - tracing-operator owns the annotation in `configuration`'s managedFields (the operator's
//   apply wrote it and nobody has changed it since: an edit moves it to the editor's manager);
// - it is at most kMaxRecordBytes and has the shape previous_tracing() writes: {"tracing": null}
//   or {"tracing": {...}} whose samplingRate is a string, and whose otel is an object with
//   string endpointAddress and protocol and a boolean isSecure (each when present).
// No record while tracing-operator owns spec.tracing.samplingRate or spec.tracing.otel is
// untrusted too: someone removed the record, and recording now would record the operator's own
// settings as the user's.
inline constexpr size_t kMaxRecordBytes = 32 * 1024;
struct PreviousRecord {
  enum class State {
    kAbsent,     // no record, and the operator holds nothing of spec.tracing: record afresh
    kTrusted,    // act on it
    kUntrusted,  // neither carry nor replay it; report `why`
  };
  State state = State::kAbsent;
  std::string text;  // kTrusted: the annotation's value, carried unchanged
  json record;       // kTrusted: the parsed record, for restore_intent()
  std::string why;   // kUntrusted: what is wrong, as "the record ... ", for a status message
};
PreviousRecord previous_record(const json& configuration);

// What the Dapr pass reads of a Configuration, for its informer's store (a relist of many
// Configurations keeps this, not the objects): apiVersion, kind, metadata.{name, namespace, uid,
// resourceVersion, deletionTimestamp, labels}, only the tracing.rollout.dev/* annotations,
// spec.tracing, and of managedFields each entry's manager and operation with only its fields
// under those annotations and spec.tracing (entries holding none of them are dropped).
// ownership_of(), previous_record(), previous_tracing() and json_subset() against an intent give
// the same answers on the view as on the whole object.
json configuration_view(json&& configuration);

// Step 1 of giving back (see the top of this file): the JSON merge patch that puts back what
// `recorded` (previous_tracing()'s value) says about the fields the operator took over —
// {"spec":{"tracing":{"samplingRate": <recorded or null>, "otel": <recorded's endpointAddress,
// isSecure, protocol, or null>}}} — with apiVersion, kind, name and namespace for identity.
// Other fields of spec.tracing (zipkin, stdout, otel.headers, ...) are the user's and are left
// as they are now. A recorded null (or a record that is not {"tracing": object}) gives
// spec.tracing: null: without the operator's samplingRate, whatever else is left under
// spec.tracing would fail Dapr's schema (samplingRate is required).
json restore_intent(const std::string& ns, const std::string& name, const json& recorded);

// Step 2 of giving back: for `configuration` as the API server last returned it (managedFields
// included), the JSON merge patch {"metadata": {"resourceVersion": ..., "managedFields":
// <every entry but tracing-operator's>, "annotations": {kDaprPreviousAnnotation: null}}}.
// When no other entry is left, managedFields is [{}], which clears them (an empty list would
// be ignored). nullopt when tracing-operator owns nothing and there is no record: done.
std::optional<json> release_patch(const json& configuration);

}  // namespace tracing::controllers
