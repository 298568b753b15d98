// Which ratio a managed Jaeger serves each service (SPEC §6): see strategies.h for the rule.
#include "controllers/strategies.h"

#include <algorithm>
#include <charconv>
#include <set>
#include <tuple>
#include <utility>

namespace tracing::controllers {
namespace {

// A ratio's numeric value; parse_policy admits only decimals in [0, 1], anything else compares
// lowest.
double value_of(const std::string& s) {
  double v = -1;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && ptr == s.data() + s.size() ? v : -1;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

// A contribution as it counts: the ratio and the workload it comes from.
struct Counted {
  std::string ratio;
  std::string workload;
  std::map<std::string, StrategyContribution::OperationBump> operations;
};

// The per-operation bumps of root-namespace policies a contribution carries: those of its root
// candidates alone, and those of root policies among its own (the highest of both).
std::map<std::string, StrategyContribution::OperationBump> root_bumps(
    const StrategyContribution& c) {
  auto out = c.root_operations;
  for (const auto& [op, bump] : c.operations) {
    if (!bump.root_policy) continue;
    auto [it, fresh] = out.try_emplace(op, bump);
    if (!fresh && value_of(bump.ratio) > value_of(it->second.ratio)) it->second = bump;
  }
  return out;
}

}  // namespace

ServedRatios served_ratios(std::vector<StrategyContribution> contributions,
                           const std::string& default_ratio, const std::string& instance) {
  // Workload order, so that ties and messages do not depend on the caller's order.
  std::sort(contributions.begin(), contributions.end(),
            [](const StrategyContribution& a, const StrategyContribution& b) {
              return std::tie(a.service, a.workload) < std::tie(b.service, b.workload);
            });
  std::map<std::string, std::set<std::string>> namespaces;  // service → where it runs
  for (const auto& c : contributions) namespaces[c.service].insert(c.ns);

  std::map<std::string, std::vector<Counted>> counted;  // service → what counts, in order
  std::vector<const StrategyContribution*> refused;
  // Per-operation bumps of namespace policies on a shared service: (policy, service, operation,
  // ratio) refused.
  std::set<std::tuple<std::string, std::string, std::string, std::string>> refused_operations;
  for (const auto& c : contributions) {
    const std::set<std::string>& where = namespaces[c.service];
    const bool alone = where.size() == 1 && *where.begin() == c.ns;
    if (!alone) {
      for (const auto& [op, bump] : c.operations) {
        if (!bump.root_policy) refused_operations.insert({bump.policy, c.service, op, bump.ratio});
      }
    }
    if (c.root_policy || alone) {
      counted[c.service].push_back({c.ratio, c.workload, alone ? c.operations : root_bumps(c)});
      continue;
    }
    refused.push_back(&c);
    if (c.root_ratio) counted[c.service].push_back({*c.root_ratio, c.workload, root_bumps(c)});
  }

  ServedRatios out;
  for (const auto& [service, list] : counted) {
    const Counted* winner = &list.front();
    for (const Counted& c : list) {
      if (value_of(c.ratio) > value_of(winner->ratio)) winner = &c;
    }
    out.ratios[service] = winner->ratio;
    for (const Counted& c : list) {
      for (const auto& [op, bump] : c.operations) {
        if (value_of(bump.ratio) <= value_of(winner->ratio)) continue;
        auto [it, fresh] = out.operations[service].try_emplace(op, bump.ratio);
        if (!fresh && value_of(bump.ratio) > value_of(it->second)) it->second = bump.ratio;
      }
    }
    std::string others;
    for (const Counted& c : list) {
      if (value_of(c.ratio) == value_of(winner->ratio)) continue;
      others += (others.empty() ? "" : ", ") + c.ratio + " (" + c.workload + ")";
    }
    if (!others.empty()) {
      out.collisions.push_back(service + ": " + winner->ratio + " (" + winner->workload +
                               ") over " + others);
    }
  }

  std::set<std::tuple<std::string, std::string, std::string, bool>> reported;
  for (const StrategyContribution* c : refused) {
    if (!reported.insert({c->service, c->policy, c->ratio, c->debug}).second) continue;
    SharedServiceRefusal r;
    r.policy = c->policy;
    r.service = c->service;
    for (const auto& ns : namespaces[c->service]) {
      if (ns != c->ns) r.namespaces.push_back(ns);
    }
    r.refused_ratio = c->ratio;
    auto served = out.ratios.find(c->service);
    r.served_ratio = served != out.ratios.end() ? served->second : default_ratio;
    r.message =
        "service " + c->service + " also runs in namespace" +
        (r.namespaces.size() > 1 ? "s " : " ") + join(r.namespaces) +
        " on the same managed Jaeger " + instance + " (one strategy per service name): the ratio " +
        r.refused_ratio + " this policy" + (c->debug ? "'s debug bump" : "") +
        " sets is refused and " + c->service + " is served " +
        (served != out.ratios.end() ? r.served_ratio : "the default strategy's " + r.served_ratio) +
        " (a policy outside the root namespace changes the sampling only of its own "
        "namespace's workloads)";
    out.refused.push_back(std::move(r));
  }
  for (const auto& [policy, service, op, ratio] : refused_operations) {
    SharedServiceRefusal r;
    r.policy = policy;
    r.service = service;
    const std::string policy_ns = policy.substr(0, policy.find('/'));
    for (const auto& ns : namespaces[service]) {
      if (ns != policy_ns) r.namespaces.push_back(ns);
    }
    r.refused_ratio = ratio;
    r.operation = op;
    // What the operation is served instead: its strategy, else the service's, else the default.
    r.served_ratio = default_ratio;
    if (auto served = out.ratios.find(service); served != out.ratios.end()) {
      r.served_ratio = served->second;
    }
    if (auto ops = out.operations.find(service); ops != out.operations.end()) {
      if (auto it = ops->second.find(op); it != ops->second.end()) r.served_ratio = it->second;
    }
    r.message = "service " + service + " also runs in namespace" +
                (r.namespaces.size() > 1 ? "s " : " ") + join(r.namespaces) +
                " on the same managed Jaeger " + instance +
                " (one strategy per service name): the ratio " + ratio +
                " this policy's debug bump sets for operation \"" + op + "\" is refused and " +
                "that operation is served " + r.served_ratio +
                " (a policy outside the root namespace changes the sampling only of its own "
                "namespace's workloads)";
    out.refused.push_back(std::move(r));
  }
  std::stable_sort(out.refused.begin(), out.refused.end(),
                   [](const SharedServiceRefusal& a, const SharedServiceRefusal& b) {
                     return std::tie(a.service, a.policy, a.refused_ratio) <
                            std::tie(b.service, b.policy, b.refused_ratio);
                   });
  return out;
}

}  // namespace tracing::controllers
