// The bookkeeping the operator reads back from Dapr Configurations and the objects it creates:
// the input is an object as JSON, read by previous_record() (the recorded tracing settings of a
// Configuration it took over), then restore_intent() with a trusted record, previous_tracing(),
// release_patch() and ownership_of() (the owners annotation on its own objects).
// Checks: nothing throws or crashes; a trusted record carries its annotation's text.
//
// The input's metadata has the types of ObjectMeta and spec.tracing those of Dapr's
// Configuration CRD (the API server guarantees both); the annotations are free text.
#include "controllers/dapr.h"
#include "controllers/naming.h"
#include "controllers/ownership.h"
#include "tests/fuzz/fuzz_json.h"

namespace {

using namespace tracing::controllers;

const json& configuration_schema() {
  static const json schema = [] {
    json s = json::parse(R"({"apiVersion": "string", "kind": "string",
      "spec": {"tracing": {"samplingRate": "string", "stdout": "boolean",
        "otel": {"endpointAddress": "string", "isSecure": "boolean", "protocol": "string"},
        "zipkin": {"endpointAddress": "string"}}}})");
    s["metadata"] = tracing::fuzz::object_meta_schema();
    return s;
  }();
  return schema;
}

void check(const json& object) {
  const PreviousRecord record = previous_record(object);
  if (record.state == PreviousRecord::State::kTrusted) {
    FUZZ_CHECK(!record.text.empty());
    (void)restore_intent("ns", "name", record.record).dump();
  } else if (record.state == PreviousRecord::State::kUntrusted) {
    FUZZ_CHECK(!record.why.empty());
  }
  (void)previous_tracing(object).dump();
  if (auto patch = release_patch(object)) (void)patch->dump();
  for (const char* kind : {"Configuration", "ConfigMap", "Deployment", "Service"}) {
    (void)ownership_of(object, kind, {"5f0c2f6e-8c1a-4a39-9d7e-1b2c3d4e5f60"});
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto object = tracing::fuzz::parse_json(data, size);
  if (!object || !tracing::fuzz::matches(*object, configuration_schema())) return 0;
  check(*object);
  // The same object with one field of another type, where the schema allows it; and the record
  // annotation parsed, so that its own fields change type too.
  const size_t hash = tracing::fuzz::input_hash(data, size);
  auto variant = tracing::fuzz::type_variant(*object, hash);
  if (variant && tracing::fuzz::matches(*variant, configuration_schema())) check(*variant);
  const json* annotations = object->contains("metadata") ? &(*object)["metadata"] : nullptr;
  if (annotations && annotations->contains("annotations")) {
    const json& a = (*annotations)["annotations"];
    if (auto it = a.find(tracing::naming::kDaprPreviousAnnotation); it != a.end()) {
      auto record = json::parse(it->get<std::string>(), nullptr, /*allow_exceptions=*/false);
      if (auto r = tracing::fuzz::type_variant(record, hash)) {
        json copy = *object;
        copy["metadata"]["annotations"][tracing::naming::kDaprPreviousAnnotation] = r->dump();
        check(copy);
      }
    }
  }
  return 0;
}
