// Parsing JSON while leaving out what its reader never reads: the members a FieldFilter drops are
// skipped by the parser, never built, so a list page or watch event of large objects costs only
// what is kept of them. Pure; JSON only.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tracing::kube {

// The path of an object member: the keys from the filtered value down to it, its own last.
// Array levels add no key: the members of every element of an array have the same paths.
using FieldPath = std::span<const std::string>;
// Whether to keep a member with its whole value. Asked for each member of every kept object
// (never inside a dropped member); an empty filter keeps everything.
using FieldFilter = std::function<bool(FieldPath)>;

struct FilteredParse {
  // Where `keep` applies: to the members below this path of keys from the document's root
  // ({"items"} in a list, {"object"} in a watch event); everything elsewhere is kept.
  std::vector<std::string> at;
  FieldFilter keep;
  // When set, each element of the array at `at` is handed over as soon as it is parsed (and
  // leaves an empty array in the result), so not even the kept parts of all are held at once.
  // A parse error may come after some were handed over.
  std::function<void(nlohmann::json&&)> each;
};

// What json::parse(text, nullptr, false) returns with the members `options` drops left out
// (a discarded value when `text` is not JSON). Equal to it when nothing is dropped.
nlohmann::json parse_filtered(std::string_view text, const FilteredParse& options);

}  // namespace tracing::kube
