// YAML → JSON (kubectl tracing diff -f; test data: the catalogues in tests/catalogue/, CRDs in
// crds/), with YAML 1.2 core-schema scalars: only a plain (untagged, unquoted) scalar is resolved
// to null, a boolean, an integer or a float; a quoted one ("0.25", "true", "10") always stays a
// string, as the API server's own YAML decoder would keep it. Explicit core tags (!!str, !!int,
// !!float,
// !!bool, !!null) are honoured. Aliases are expanded.
//
// Unlike YAML 1.1 (kubectl's decoder), yes/no/on/off are strings here; test data should quote
// them anyway so both readings agree.
#pragma once

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <string>

namespace tracing::yaml {

// Converts a parsed YAML node. Throws std::runtime_error for what JSON cannot hold (a mapping
// key that is not a scalar, a plain .inf or .nan), naming the line.
nlohmann::json yaml_to_json(const YAML::Node& node);

// Reads and converts a YAML file holding one document. Throws std::runtime_error naming the
// file when it cannot be read or parsed.
nlohmann::json load_yaml_file(const std::string& path);

}  // namespace tracing::yaml
