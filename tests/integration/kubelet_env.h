// A test oracle, independent of the operator's code: the environment a container starts with,
// as the kubelet builds it from the pod template's `env` list. Written from Kubernetes' rules
// (v1.37.2: pkg/kubelet/kubelet_pods.go makeEnvironmentVariables and
// third_party/forked/golang/expansion/expand.go), not from what the operator does:
// - entries are resolved in order; a non-empty `value` is expanded with the variables resolved
//   before it (then the Service variables); a `valueFrom` is looked up, never expanded;
// - in a value, `$(NAME)` becomes NAME's value, and stays `$(NAME)` when NAME is unknown; `$$`
//   becomes `$`; a `$` before any other character stays, with that character; `$(` without a
//   closing `)` stays and scanning goes on right after the `(`; a `$` at the very end stays.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace tracing::testing {

using Vars = std::map<std::string, std::string>;

// One value after the kubelet's $(NAME) expansion with `vars` as the known variables.
inline std::string kubelet_expand(const std::string& in, const Vars& vars) {
  std::string out;
  size_t i = 0;
  while (i < in.size()) {
    if (in[i] != '$' || i + 1 == in.size()) {
      out += in[i++];
      continue;
    }
    const char next = in[i + 1];
    if (next == '$') {  // an escaped '$'
      out += '$';
      i += 2;
    } else if (next == '(') {
      const size_t close = in.find(')', i + 2);
      if (close == std::string::npos) {  // incomplete: "$(" stays, scanning resumes after it
        out += "$(";
        i += 2;
        continue;
      }
      const std::string name = in.substr(i + 2, close - i - 2);
      auto it = vars.find(name);
      out += it == vars.end() ? "$(" + name + ")" : it->second;
      i = close + 1;
    } else {  // not a reference: both characters stay
      out += '$';
      out += next;
      i += 2;
    }
  }
  return out;
}

// The container's variables after the kubelet resolved `env` (a pod template's env list):
// `secrets` maps Secret name → key → value for secretKeyRef (configMapKeyRef reads
// `config_maps` the same way). A reference that cannot be resolved leaves the variable out.
inline Vars kubelet_env(const nlohmann::json& env, const std::map<std::string, Vars>& secrets = {},
                        const std::map<std::string, Vars>& config_maps = {},
                        const Vars& service_vars = {}) {
  Vars resolved;
  for (const auto& e : env) {
    const std::string name = e.value("name", "");
    const std::string value = e.value("value", "");
    if (!value.empty()) {
      Vars known = service_vars;  // the container's own variables come first
      for (const auto& [k, v] : resolved) known[k] = v;
      resolved[name] = kubelet_expand(value, known);
      continue;
    }
    const nlohmann::json from = e.value("valueFrom", nlohmann::json::object());
    auto lookup = [&](const char* ref, const std::map<std::string, Vars>& source) -> bool {
      if (!from.contains(ref)) return false;
      auto obj = source.find(from[ref].value("name", ""));
      if (obj == source.end()) return true;
      auto key = obj->second.find(from[ref].value("key", ""));
      if (key != obj->second.end()) resolved[name] = key->second;
      return true;
    };
    if (lookup("secretKeyRef", secrets) || lookup("configMapKeyRef", config_maps)) continue;
    resolved[name] = "";  // an empty value, or a source this oracle does not model
  }
  return resolved;
}

}  // namespace tracing::testing
