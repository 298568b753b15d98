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
};

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
  for (const auto& c : contributions) {
    const std::set<std::string>& where = namespaces[c.service];
    if (c.root_policy || (where.size() == 1 && *where.begin() == c.ns)) {
      counted[c.service].push_back({c.ratio, c.workload});
      continue;
    }
    refused.push_back(&c);
    if (c.root_ratio) counted[c.service].push_back({*c.root_ratio, c.workload});
  }

  ServedRatios out;
  for (const auto& [service, list] : counted) {
    const Counted* winner = &list.front();
    for (const Counted& c : list) {
      if (value_of(c.ratio) > value_of(winner->ratio)) winner = &c;
    }
    out.ratios[service] = winner->ratio;
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
  std::stable_sort(out.refused.begin(), out.refused.end(),
                   [](const SharedServiceRefusal& a, const SharedServiceRefusal& b) {
                     return std::tie(a.service, a.policy, a.refused_ratio) <
                            std::tie(b.service, b.policy, b.refused_ratio);
                   });
  return out;
}

}  // namespace tracing::controllers
