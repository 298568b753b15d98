// Kubernetes label selectors and the label maps they match. parse_policy (policy.h) reads them
// from a TracingPolicy.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace tracing::controllers {

using Labels = std::map<std::string, std::string>;

// A Kubernetes label selector (matchLabels AND matchExpressions).
struct LabelRequirement {
  std::string key;
  std::string op;  // In | NotIn | Exists | DoesNotExist
  std::vector<std::string> values;
};

struct LabelSelector {
  Labels match_labels;
  std::vector<LabelRequirement> match_expressions;
  // An empty selector matches everything.
  bool matches(const Labels& labels) const;
  bool empty() const { return match_labels.empty() && match_expressions.empty(); }
};

}  // namespace tracing::controllers
