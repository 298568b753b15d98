// Shared by the fuzz targets that read Kubernetes objects: the input as JSON, or nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

namespace tracing::fuzz {

// The input parsed as JSON (as the client parses an API server's answer: no exceptions);
// nullopt when it is not JSON.
inline std::optional<nlohmann::json> parse_json(const uint8_t* data, size_t size) {
  auto j = nlohmann::json::parse(std::string_view(reinterpret_cast<const char*>(data), size),
                                 nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

// Whether `value` has the JSON types `schema` gives it, as the API server guarantees for a
// built-in kind (or a CRD's structural schema): "string", "integer", "boolean", "object", "any";
// an object schema {"key": schema, ...} ("*": every key) for an object whose listed keys match;
// [schema] for an array each of whose items does. Keys the schema does not list may hold anything
// (the operator does not read them).
inline bool matches(const nlohmann::json& value, const nlohmann::json& schema) {
  if (schema.is_string()) {
    const auto& type = schema.get_ref<const std::string&>();
    return type == "any" || (type == "string" && value.is_string()) ||
           (type == "integer" && value.is_number_integer()) ||
           (type == "boolean" && value.is_boolean()) || (type == "object" && value.is_object());
  }
  if (schema.is_array()) {
    if (!value.is_array()) return false;
    for (const auto& item : value) {
      if (!matches(item, schema[0])) return false;
    }
    return true;
  }
  if (!value.is_object()) return false;
  for (const auto& item : value.items()) {
    auto it = schema.find(item.key());
    if (it == schema.end()) it = schema.find("*");
    if (it != schema.end() && !matches(item.value(), *it)) return false;
  }
  return true;
}

// ObjectMeta as every object's metadata has it.
inline nlohmann::json object_meta_schema() {
  return nlohmann::json::parse(R"({
    "name": "string", "namespace": "string", "uid": "string", "resourceVersion": "string",
    "generation": "integer", "creationTimestamp": "string", "deletionTimestamp": "string",
    "labels": {"*": "string"}, "annotations": {"*": "string"}, "finalizers": ["string"],
    "ownerReferences": [{"apiVersion": "string", "kind": "string", "name": "string",
                         "uid": "string", "controller": "boolean"}],
    "managedFields": [{"manager": "string", "operation": "string", "apiVersion": "string",
                       "time": "string", "fieldsType": "string", "fieldsV1": "object",
                       "subresource": "string"}]})");
}

// Type confusion, which byte mutations of JSON text seldom reach: calls `fn` with copies of
// `value` in which one member (of an object or array at most `depth` levels down, at most `limit`
// members in all, in document order) holds a value of another JSON type: null, 1, "x", [], {}.
template <typename Fn>
void for_each_type_variant(const nlohmann::json& value, int depth, int limit, Fn&& fn) {
  static const nlohmann::json kOthers[] = {nullptr, 1, "x", nlohmann::json::array(),
                                           nlohmann::json::object()};
  nlohmann::json copy = value;
  int left = limit;
  // Walks `node` (inside `copy`), swapping each member in turn and restoring it.
  auto walk = [&](auto& self, nlohmann::json& node, int level) -> void {
    if (!node.is_structured() || level > depth) return;
    for (auto& member : node) {
      if (left-- <= 0) return;
      nlohmann::json saved = std::move(member);
      for (const auto& other : kOthers) {
        if (other.type() == saved.type()) continue;
        member = other;
        fn(static_cast<const nlohmann::json&>(copy));
      }
      member = std::move(saved);
      self(self, member, level + 1);
    }
  };
  walk(walk, copy, 0);
}

// One of for_each_type_variant's copies (depth 8, every member), chosen by `pick` — a hash of
// the input, so that each input the fuzzer tries explores another one; nullopt for a scalar.
inline std::optional<nlohmann::json> type_variant(const nlohmann::json& value, size_t pick) {
  constexpr int kDepth = 8, kLimit = 1 << 20;
  size_t count = 0;
  for_each_type_variant(value, kDepth, kLimit, [&](const nlohmann::json&) { ++count; });
  if (count == 0) return std::nullopt;
  std::optional<nlohmann::json> chosen;
  size_t at = 0;
  for_each_type_variant(value, kDepth, kLimit, [&](const nlohmann::json& v) {
    if (at++ == pick % count) chosen = v;
  });
  return chosen;
}

// Hash of the input, for type_variant().
inline size_t input_hash(const uint8_t* data, size_t size) {
  return std::hash<std::string_view>{}(std::string_view(reinterpret_cast<const char*>(data), size));
}

// A broken invariant: abort, so libFuzzer records the input.
#define FUZZ_CHECK(cond)                                                             \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      __builtin_printf("%s:%d: FUZZ_CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
      __builtin_trap();                                                              \
    }                                                                                \
  } while (0)

}  // namespace tracing::fuzz
