#include "controllers/reconcilers/reports.h"

namespace tracing::controllers {

std::set<std::string> PolicyReports::replace(const std::string& source, ByPolicy reports) {
  std::lock_guard g(mu_);
  ByPolicy& old = by_source_[source];
  std::set<std::string> changed;
  for (const auto& [key, r] : old) {
    auto it = reports.find(key);
    if (it == reports.end() || it->second != r) changed.insert(key);
  }
  for (const auto& [key, r] : reports) {
    if (!old.count(key)) changed.insert(key);
  }
  old = std::move(reports);
  return changed;
}

std::vector<PolicyReport> PolicyReports::of(const std::string& key) const {
  std::lock_guard g(mu_);
  std::set<PolicyReport> all;
  for (const auto& [source, by_policy] : by_source_) {
    auto it = by_policy.find(key);
    if (it != by_policy.end()) all.insert(it->second.begin(), it->second.end());
  }
  return {all.begin(), all.end()};
}

}  // namespace tracing::controllers
