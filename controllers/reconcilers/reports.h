// What the cluster-wide passes (Jaeger, Dapr) found wrong with the objects a policy owns or
// takes over, for that policy's status: a name taken by someone else's object (NameConflict),
// bookkeeping the operator cannot trust (UntrustedRecord), a remote-sampling ratio refused
// because another namespace shares the service name (SharedServiceName, SPEC §6). The policy
// reconciler reads them; the passes enqueue the policies whose reports changed.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace tracing::controllers {

struct PolicyReport {
  // A Degraded condition's reason: NameConflict | SharedServiceName | UntrustedRecord.
  std::string reason;
  std::string message;  // names the object: "ConfigMap kube-system/cilium-config ..."
  bool operator==(const PolicyReport&) const = default;
  auto operator<=>(const PolicyReport&) const = default;
};

class PolicyReports {
 public:
  using ByPolicy = std::map<std::string, std::set<PolicyReport>>;  // policy key → reports
  // Replaces everything `source` ("jaeger", "dapr") reported before by `reports`; returns the
  // keys of the policies whose reports changed.
  std::set<std::string> replace(const std::string& source, ByPolicy reports);
  // Every source's reports on the policy `key`, sorted (reason, then message).
  std::vector<PolicyReport> of(const std::string& key) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, ByPolicy> by_source_;
};

}  // namespace tracing::controllers
