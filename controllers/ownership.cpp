#include "controllers/ownership.h"

#include "controllers/naming.h"

namespace tracing::controllers {

namespace {

// j[key] when j is an object holding it, a null value included (unlike member()).
const json* member_or_null(const json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

std::string string_member(const json& j, const char* key) {
  const json* m = member_or_null(j, key);
  return m && m->is_string() ? m->get<std::string>() : "";
}

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

}  // namespace

std::string object_ref(const std::string& kind, const std::string& ns, const std::string& name) {
  return kind + " " + ns + "/" + name;
}

bool is_uid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !is_hex(s[i])) return false;
  }
  return true;
}

std::string owners_annotation(const std::string& ref, const std::set<std::string>& policy_uids) {
  // ordered_json: "object" first, as documented; std::set iterates the uids sorted.
  nlohmann::ordered_json value = {{"object", ref}, {"policies", policy_uids}};
  return value.dump();
}

json with_proof(json object, const std::set<std::string>& policy_uids) {
  json& meta = object["metadata"];
  const std::string ref = object_ref(string_member(object, "kind"),
                                     string_member(meta, "namespace"), string_member(meta, "name"));
  meta["labels"][naming::kManagedByLabel] = naming::kFieldManager;
  meta["annotations"][naming::kOwnersAnnotation] = owners_annotation(ref, policy_uids);
  return object;
}

Ownership ownership_of(const json& live, const std::string& kind,
                       const std::set<std::string>& existing_policy_uids) {
  Ownership o;
  const json* meta = member_or_null(live, "metadata");
  if (!meta) {
    o.why = "has no metadata";
    return o;
  }
  const json* labels = member_or_null(*meta, "labels");
  if (!labels || string_member(*labels, naming::kManagedByLabel) != naming::kFieldManager) {
    o.why =
        std::string("has no ") + naming::kManagedByLabel + "=" + naming::kFieldManager + " label";
    return o;
  }
  const json* annotations = member_or_null(*meta, "annotations");
  const json* owners =
      annotations ? member_or_null(*annotations, naming::kOwnersAnnotation) : nullptr;
  if (!owners) {
    o.why = std::string("has no ") + naming::kOwnersAnnotation + " annotation";
    return o;
  }
  const std::string malformed =
      std::string("has a malformed ") + naming::kOwnersAnnotation + " annotation";
  json value = owners->is_string() ? json::parse(owners->get<std::string>(), nullptr, false)
                                   : json(json::value_t::discarded);
  const json* object = member_or_null(value, "object");
  const json* policies = member_or_null(value, "policies");
  if (!object || !object->is_string() || !policies || !policies->is_array() || policies->empty()) {
    o.why = malformed;
    return o;
  }
  for (const json& uid : *policies) {
    if (!uid.is_string() || !is_uid(uid.get<std::string>())) {
      o.why = malformed;
      return o;
    }
    o.policies.insert(uid.get<std::string>());
  }
  const std::string ref =
      object_ref(kind, string_member(*meta, "namespace"), string_member(*meta, "name"));
  if (object->get<std::string>() != ref) {
    o.why = std::string("has a ") + naming::kOwnersAnnotation + " annotation copied from " +
            object->get<std::string>();
    return o;
  }
  for (const std::string& uid : o.policies) {
    if (existing_policy_uids.count(uid)) {
      o.ours = true;
      return o;
    }
  }
  o.why = std::string("has a ") + naming::kOwnersAnnotation +
          " annotation naming no TracingPolicy that exists";
  return o;
}

}  // namespace tracing::controllers
