#include "controllers/api/selector.h"

#include <algorithm>

namespace tracing::controllers {

bool LabelSelector::matches(const Labels& labels) const {
  for (const auto& [k, v] : match_labels) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  for (const auto& r : match_expressions) {
    auto it = labels.find(r.key);
    bool present = it != labels.end();
    bool listed =
        present && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end();
    if (r.op == "In") {
      if (!listed) return false;
    } else if (r.op == "NotIn") {
      if (listed) return false;
    } else if (r.op == "Exists") {
      if (!present) return false;
    } else if (r.op == "DoesNotExist") {
      if (present) return false;
    } else {
      return false;  // an unknown operator selects nothing
    }
  }
  return true;
}

}  // namespace tracing::controllers
