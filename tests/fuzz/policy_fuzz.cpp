// Policy parsing: the input is a TracingPolicy object as JSON (as the API server would send it),
// read by parse_policy() and policy_in_force() with and without a previous policy in force.
// Checks: nothing throws or crashes; a parse either gives a policy or an error naming the field;
// a valid spec is the policy in force whatever came before. The input's metadata has the types
// of ObjectMeta (the API server guarantees them); spec and status may hold anything, as a CRD of
// another release may have let them.
#include "controllers/api/policy.h"
#include "tests/fuzz/fuzz_json.h"

namespace {

using tracing::controllers::parse_policy;
using tracing::controllers::Policy;
using tracing::controllers::policy_in_force;

const nlohmann::json& policy_schema() {
  static const nlohmann::json schema = {{"apiVersion", "string"},
                                        {"kind", "string"},
                                        {"metadata", tracing::fuzz::object_meta_schema()}};
  return schema;
}

// A policy in force before the fuzzed version: the last known good one.
const Policy& previous() {
  static const Policy p = [] {
    auto parsed = parse_policy(nlohmann::json::parse(R"({
      "apiVersion": "tracing.rollout.dev/v1alpha1", "kind": "TracingPolicy",
      "metadata": {"name": "p", "namespace": "shop", "uid": "u1", "generation": 1},
      "spec": {"sampling": {"ratio": "0.5"}}})"));
    if (!parsed.policy) abort();
    return *parsed.policy;
  }();
  return p;
}

}  // namespace

void check(const nlohmann::json& object) {
  const auto parsed = parse_policy(object);
  FUZZ_CHECK(parsed.policy.has_value() != !parsed.error.empty());

  std::string error;
  const auto alone = policy_in_force(object, nullptr, &error);
  const auto after = policy_in_force(object, &previous(), &error);
  FUZZ_CHECK(alone.has_value() == after.has_value());
  if (parsed.policy) {
    FUZZ_CHECK(alone && alone->spec_known && alone->spec_error.empty());
    FUZZ_CHECK(after && after->spec_known && after->spec_error.empty());
  }
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto object = tracing::fuzz::parse_json(data, size);
  if (!object || !tracing::fuzz::matches(*object, policy_schema())) return 0;
  check(*object);
  // The same object with one field of another type, where the schema allows it.
  auto variant = tracing::fuzz::type_variant(*object, tracing::fuzz::input_hash(data, size));
  if (variant && tracing::fuzz::matches(*variant, policy_schema())) check(*variant);
  return 0;
}
