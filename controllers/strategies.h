// Which ratio one managed Jaeger's strategies file serves each service (SPEC §6), as a pure
// function of what the workloads that read their sampling from it want. No I/O, no clock.
//
// Jaeger keys its strategies by service name (OTEL_SERVICE_NAME): every workload of one service
// name reporting to one instance is sampled at one ratio, whichever namespace it runs in. So:
// - a contribution decided by a policy in the root namespace always counts (root policies apply
//   cluster-wide);
// - a contribution decided by a policy outside the root namespace (the policy whose
//   spec.sampling is in force for the workload, or whose debug bump is) counts only when every
//   contribution of that service name to the instance comes from that policy's namespace: a
//   tenant changes the sampling of its own namespace's workloads only (§6). Otherwise it is
//   refused: the workload contributes what its root-namespace policies alone give it (nothing
//   when they give it no remote sampling, so the service falls back to the other contributions
//   or the default strategy), and the policy is told (a SharedServiceName report);
// - among the contributions that count, the higher ratio wins (a collision, logged), so
//   workloads of one namespace, or of root policies, that share a name keep "higher wins".
// The rule applies per instance: a namespace policy that places its own managed Jaeger in its
// own namespace shares its service names with nobody else's workloads.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tracing::controllers {

// What one remote-mode workload asks of the strategies file of the Jaeger it reports to.
struct StrategyContribution {
  std::string workload;  // "ns/name"
  std::string ns;        // the workload's namespace
  std::string service;   // its OTEL_SERVICE_NAME
  std::string ratio;     // the effective ratio its candidates give it, debug bumps included
  // "ns/name" of the policy that decides `ratio` (EffectiveConfig::ratio_policy()), whether
  // that policy is in the root namespace, and whether `ratio` is that policy's debug bump.
  std::string policy;
  bool root_policy = true;
  bool debug = false;
  // What its root-namespace candidates alone give it (root_effective_config()) when that is
  // usable remote sampling: the ratio it falls back to when refused. nullopt: nothing.
  std::optional<std::string> root_ratio;
  // Per-operation bumps (EffectiveConfig::operation_debug): operation → its ratio and the
  // policy whose bump sets it; and those of its root-namespace candidates alone. The same rule
  // as for the ratio, per operation: a bump of a policy outside the root namespace counts only
  // while the service runs in that namespace alone; otherwise root_operations count instead.
  struct OperationBump {
    std::string ratio;
    std::string policy;  // "ns/name"
    bool root_policy = true;
    bool operator==(const OperationBump&) const = default;
  };
  std::map<std::string, OperationBump> operations;
  std::map<std::string, OperationBump> root_operations;
};

// A namespace policy's contribution that did not count, for that policy's status.
struct SharedServiceRefusal {
  std::string policy;                   // "ns/name" of the refused namespace policy
  std::string service;                  // the shared service name
  std::vector<std::string> namespaces;  // the other namespaces it runs in, sorted
  std::string refused_ratio;            // what the policy asked for
  std::string served_ratio;             // what the service is served instead
  std::string operation;                // a refused per-operation bump's operation; "" else
  std::string message;                  // all of the above, for the Degraded condition
  bool operator==(const SharedServiceRefusal&) const = default;
};

struct ServedRatios {
  // Service → the ratio its strategy carries; a service absent here gets the default strategy.
  std::map<std::string, std::string> ratios;
  // Service → operation → the ratio of its operation strategy (§5 "one operation"): among the
  // contributions that count, the highest that names the operation, served only where it is
  // above the service's ratio (a bump raises). Services absent: no operation strategies.
  std::map<std::string, std::map<std::string, std::string>> operations;
  // One per (policy, service, refused ratio), sorted by service, then policy.
  std::vector<SharedServiceRefusal> refused;
  // One line per service whose counting contributions differ, e.g.
  // "checkout: 0.5 (shop/web) over 0.1 (shop/api)".
  std::vector<std::string> collisions;
};

// The ratios of the strategies file of the managed Jaeger `instance` ("ns/name", named in the
// messages), from the contributions of the workloads reporting to it (any order: the result
// does not depend on it). `default_ratio` is what the default strategy serves.
// Precondition: ratios are decimals in [0, 1] as parse_policy admits.
ServedRatios served_ratios(std::vector<StrategyContribution> contributions,
                           const std::string& default_ratio, const std::string& instance);

}  // namespace tracing::controllers
