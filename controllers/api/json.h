// The JSON type of the API and the decision (nlohmann::json), named in one place.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace tracing::controllers {

using json = nlohmann::json;

// obj[key] when obj is an object holding a non-null value there.
inline const json* member(const json& obj, const std::string& key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

}  // namespace tracing::controllers
