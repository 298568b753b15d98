// kubectl-tracing: the operator's decisions, for people (SPEC §13). A kubectl plugin by name:
// `kubectl tracing status`. It reads the cluster with the operator's own client and computes
// with the operator's pure decision library (controllers/decision.h), so what it says a workload
// receives is what the operator would write; it writes only the policy edits it is asked for.
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "controllers/api/duration.h"
#include "controllers/api/policy.h"
#include "controllers/api/time.h"
#include "controllers/api/workload.h"
#include "controllers/apply_intent.h"
#include "controllers/decision.h"
#include "controllers/naming.h"
#include "operator/kube/client.h"
#include "operator/kube/config.h"
#include "operator/kube/http.h"
#include "plugin/yaml_json.h"

namespace {

using nlohmann::json;
using namespace tracing::controllers;
namespace kube = tracing::kube;
namespace naming = tracing::naming;

constexpr const char* kUsage = R"(kubectl tracing: what the tracing operator decides, and why

Usage:
  kubectl tracing status [-n NS | -A] [-o table|json]
      per workload: the governing policy, effective sampler and ratio (base or a debug bump and
      its countdown; per-operation bumps, and whether its mode serves them), whether it carries
      them (configured, pending, held, opted-out), conflicts, its rollout
  kubectl tracing why [KIND/]NAME [-n NS] [-o table|json]
      KIND: deployment (default), statefulset or daemonset (kubectl's short names deploy, sts
      and ds too);
      the policies that apply, which one each field group comes from, what the operator writes
  kubectl tracing bump POLICY --ratio R --for D [--reason TEXT] [-n NS]
      a debug bump (spec.debug): sampling at R for D (e.g. 15m), then back by itself
  kubectl tracing diff -f FILE [-n NS] [-o table|json]
      what applying the TracingPolicy in FILE (YAML or JSON) would change, workload by workload,
      computed as the operator would; nothing is written
  kubectl tracing pause POLICY [-n NS]      spec.rollout.paused: true (no new rollouts)
  kubectl tracing resume POLICY [-n NS]     spec.rollout.paused: false

Options (as kubectl's): --kubeconfig FILE, --context NAME, -n/--namespace NS,
  --root-namespace NS (the operator's, default tracing-system)
)";

struct Args {
  std::string command;
  std::vector<std::string> positional;
  std::string kubeconfig, context, ns, output = "table", root_ns = "tracing-system";
  bool all_namespaces = false;
  std::string ratio, for_, reason, file;
};

[[noreturn]] void fail(const std::string& message, int code = 1) {
  std::cerr << "error: " << message << "\n";
  std::exit(code);
}

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    bool has_value = false;
    if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    auto next = [&]() -> std::string {
      if (has_value) return value;
      if (i + 1 >= argc) fail("flag " + arg + " needs a value", 2);
      return argv[++i];
    };
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      std::exit(0);
    } else if (arg == "--kubeconfig") {
      a.kubeconfig = next();
    } else if (arg == "--context") {
      a.context = next();
    } else if (arg == "-n" || arg == "--namespace") {
      a.ns = next();
    } else if (arg == "-A" || arg == "--all-namespaces") {
      a.all_namespaces = true;
    } else if (arg == "-o" || arg == "--output") {
      a.output = next();
      if (a.output != "table" && a.output != "json") {
        fail("flag -o: \"" + a.output + "\" is not table or json", 2);
      }
    } else if (arg == "--root-namespace") {
      a.root_ns = next();
    } else if (arg == "--ratio") {
      a.ratio = next();
    } else if (arg == "--for") {
      a.for_ = next();
    } else if (arg == "--reason") {
      a.reason = next();
    } else if (arg == "-f" || arg == "--filename") {
      a.file = next();
    } else if (!arg.empty() && arg[0] == '-') {
      fail("unknown flag " + arg + " (see --help)", 2);
    } else if (a.command.empty()) {
      a.command = arg;
    } else {
      a.positional.push_back(arg);
    }
  }
  if (a.command.empty()) {
    std::cerr << kUsage;
    std::exit(2);
  }
  return a;
}

std::string short_duration(std::chrono::seconds s) {
  if (s.count() <= 0) return "0s";
  std::string out;
  auto h = s.count() / 3600, m = s.count() % 3600 / 60, sec = s.count() % 60;
  if (h) out += std::to_string(h) + "h";
  if (m) out += std::to_string(m) + "m";
  if (sec || out.empty()) out += std::to_string(sec) + "s";
  return out;
}

void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], r[i].size());
    }
  }
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 3, ' ');
    }
    std::cout << line << "\n";
  }
}

// The cluster as the decision reads it: every policy, the namespaces' labels.
class Cluster {
 public:
  Cluster(kube::Client& client, std::string root_ns) : root_ns_(root_ns) {
    auto list = client.list(tracing_policies(), "");
    if (!list) fail("listing TracingPolicies: " + list.error().to_string());
    for (const auto& item : list->items) {
      ParseResult r = parse_policy(item);
      if (!r.policy) continue;
      objects_[r.policy->key()] = item;
      policies_.push_back(std::make_shared<const Policy>(std::move(*r.policy)));
    }
    for (const auto& p : policies_) ptrs_.push_back(p.get());
    auto namespaces = client.list(kube::resources::namespaces(), "");
    if (!namespaces) fail("listing namespaces: " + namespaces.error().to_string());
    for (const auto& n : namespaces->items) {
      Labels labels;
      const json& meta = n["metadata"];
      if (meta.contains("labels") && meta["labels"].is_object()) {
        for (const auto& [k, v] : meta["labels"].items()) {
          if (v.is_string()) labels[k] = v.get<std::string>();
        }
      }
      ns_labels_[meta.value("name", "")] = labels;
    }
  }

  static kube::Resource tracing_policies() {
    return {naming::kGroup, naming::kVersion, naming::kPlural, true, naming::kKind};
  }

  std::vector<Candidate> candidates_of(const Workload& w) const {
    auto it = ns_labels_.find(w.ns);
    return candidates(w, it == ns_labels_.end() ? Labels{} : it->second, ptrs_, root_ns_);
  }

  // The stored object of the policy `key`, or null.
  const json* object(const std::string& key) const {
    auto it = objects_.find(key);
    return it == objects_.end() ? nullptr : &it->second;
  }

  // This cluster with `p` in place of the policy of the same key (or added).
  Cluster with(std::shared_ptr<const Policy> p) const {
    Cluster c = *this;
    c.policies_.clear();
    for (const auto& q : policies_) {
      if (q->key() != p->key()) c.policies_.push_back(q);
    }
    c.policies_.push_back(std::move(p));
    c.ptrs_.clear();
    for (const auto& q : c.policies_) c.ptrs_.push_back(q.get());
    return c;
  }

 private:
  std::string root_ns_;
  std::map<std::string, json> objects_;
  std::vector<std::shared_ptr<const Policy>> policies_;
  std::vector<const Policy*> ptrs_;
  std::map<std::string, Labels> ns_labels_;
};

// kube::Resource of a workload kind.
kube::Resource workload_resource(WorkloadKind kind) {
  return kube::resources::workloads_of_kind(kind_name(kind));
}

// A kind as kubectl's users write it: deployment(s)/deploy, statefulset(s)/sts,
// daemonset(s)/ds, any case.
std::optional<WorkloadKind> kind_argument(std::string k) {
  for (auto& ch : k) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (k == "deployment" || k == "deployments" || k == "deploy") return WorkloadKind::kDeployment;
  if (k == "statefulset" || k == "statefulsets" || k == "sts") return WorkloadKind::kStatefulSet;
  if (k == "daemonset" || k == "daemonsets" || k == "ds") return WorkloadKind::kDaemonSet;
  return std::nullopt;
}

// Every workload of `ns` ("": all namespaces), of each kind.
std::vector<std::pair<WorkloadKind, json>> list_workloads(kube::Client& client,
                                                          const std::string& ns) {
  std::vector<std::pair<WorkloadKind, json>> out;
  for (WorkloadKind kind : kWorkloadKinds) {
    auto list = client.list(workload_resource(kind), ns);
    if (!list) {
      fail("listing " + workload_resource(kind).plural + ": " + list.error().to_string());
    }
    for (auto& item : list->items) out.emplace_back(kind, std::move(item));
  }
  return out;
}

// What one workload receives and whether it carries it.
struct Verdict {
  Workload workload;
  std::vector<Candidate> candidates;
  std::optional<EffectiveConfig> config;
  DesiredEnv desired;
  std::string state;  // configured | pending | held | opted-out | not-governed
  std::string rollout;
};

Verdict judge(const Cluster& cluster, const json& object, WorkloadKind kind, WallTime now) {
  Verdict v;
  v.workload = read_workload(object, kind);
  const Workload& w = v.workload;
  switch (rollout_state(object, kind)) {
    case RolloutState::kComplete:
      v.rollout = "complete";
      break;
    case RolloutState::kRolling:
      v.rollout = "rolling";
      break;
    case RolloutState::kFailed:
      v.rollout = "failed";
      break;
  }
  auto inject = w.annotations.find(naming::kInjectAnnotation);
  const bool opted_out = inject != w.annotations.end() && inject->second == "false";
  v.candidates = cluster.candidates_of(w);
  v.config = effective_config(v.candidates, now);
  if (!v.config) {
    v.state = "not-governed";
    return v;
  }
  if (opted_out) {
    v.state = "opted-out";
    return v;
  }
  if (!v.config->unusable.empty()) {
    v.state = "held";
    return v;
  }
  v.desired = desired_env(*v.config, w);
  // The operator's own test (apply_intent.h): it sends nothing exactly when this holds.
  const bool carried = up_to_date(w, v.desired, v.config->policies);
  v.state = carried ? "configured" : "pending";
  return v;
}

json verdict_json(const Verdict& v, WallTime now) {
  json out = {{"namespace", v.workload.ns},
              {"kind", kind_name(v.workload.kind)},
              {"name", v.workload.name},
              {"state", v.state},
              {"rollout", v.rollout}};
  if (!v.config) return out;
  const EffectiveConfig& c = *v.config;
  out["governing"] = c.governing;
  out["policies"] = c.policies;
  out["sampler"] = c.effective_sampler();
  out["ratio"] = c.effective_ratio();
  out["source"] = c.ratio_source();
  out["ratioFrom"] = c.ratio_policy();
  out["endpoint"] = c.endpoint;
  if (c.debug) {
    out["debug"] = {{"policy", c.debug->policy},
                    {"ratio", c.debug->ratio},
                    {"expiresAt", format_rfc3339(c.debug->expires_at)},
                    {"remaining", short_duration(std::chrono::duration_cast<std::chrono::seconds>(
                                      c.debug->expires_at - now))}};
  }
  if (!c.operation_debug.empty()) {
    // §5: only remote mode serves them, through the strategies the operator writes for a
    // managed Jaeger (operation_strategies); otherwise they apply to nothing, and say why.
    const std::string unserved =
        c.mode != "remote" ? "restart mode cannot select operations; set spec.sampling.mode remote"
        : !c.strategies_served()
            ? "the operator writes no sampling strategies for a Jaeger it does not manage"
            : "";
    json ops = json::array();
    for (const auto& [operation, bump] : c.operation_debug) {
      ops.push_back({{"operation", operation},
                     {"policy", bump.policy},
                     {"ratio", bump.ratio},
                     {"expiresAt", format_rfc3339(bump.expires_at)},
                     {"remaining", short_duration(std::chrono::duration_cast<std::chrono::seconds>(
                                       bump.expires_at - now))},
                     {"served", unserved.empty()}});
      if (!unserved.empty()) ops.back()["notServed"] = unserved;
    }
    out["operationDebug"] = ops;
  }
  if (!c.unusable.empty()) out["held"] = c.unusable;
  json conflicts = json::array();
  for (const auto& x : v.desired.conflicts) {
    conflicts.push_back(
        {{"container", x.container}, {"variable", x.variable}, {"reason", x.reason}});
  }
  out["conflicts"] = conflicts;
  return out;
}

// The API server of the kubeconfig's context, and the namespace a command works in: -n, else the
// context's (kubectl's rule).
struct Session {
  std::unique_ptr<kube::Client> client;
  std::string ns;
};

Session connect(const Args& a) {
  auto config = kube::load_config(a.kubeconfig, kube::kServiceAccountDir, a.context);
  if (!config) fail(config.error().message);
  // The program name is the field manager the API server records for the policy edits.
  auto transport = kube::make_http_transport(*config, "kubectl-tracing/0.1");
  if (!transport) fail(transport.error().message);
  kube::ClientOptions options;
  options.qps = 0;
  return {std::make_unique<kube::Client>(*transport, options), a.ns.empty() ? config->ns : a.ns};
}

// The DEBUG column: a whole-service bump's remaining time; else the per-operation bumps, how
// many and the first to end, or that they are not served (why says why).
std::string debug_column(const json& verdict) {
  if (verdict.contains("debug")) return verdict["debug"]["remaining"];
  const json ops = verdict.value("operationDebug", json::array());
  if (ops.empty()) return "-";
  const std::string count = std::to_string(ops.size()) + (ops.size() == 1 ? " op" : " ops");
  if (!ops[0].value("served", false)) return "- (" + count + ": not served)";
  const json* first = &ops[0];
  for (const auto& o : ops) {
    if (o["expiresAt"].get<std::string>() < (*first)["expiresAt"].get<std::string>()) first = &o;
  }
  return (*first)["remaining"].get<std::string>() + " (" + count + ")";
}

int status(const Args& a) {
  Session session = connect(a);
  kube::Client& client = *session.client;
  Cluster cluster(client, a.root_ns);
  const WallTime now = std::chrono::system_clock::now();
  json items = json::array();
  std::vector<std::vector<std::string>> rows = {{"NAMESPACE", "KIND", "NAME", "POLICY", "SAMPLER",
                                                 "RATIO", "SOURCE", "DEBUG", "STATE", "CONFLICTS",
                                                 "ROLLOUT"}};
  for (const auto& [kind, d] : list_workloads(client, a.all_namespaces ? "" : session.ns)) {
    Verdict v = judge(cluster, d, kind, now);
    if (v.state == "not-governed") continue;
    json j = verdict_json(v, now);
    items.push_back(j);
    rows.push_back({j["namespace"], j["kind"], j["name"], j.value("governing", "-"),
                    j.value("sampler", "-"), j.value("ratio", "-"), j.value("source", "-"),
                    debug_column(j), j["state"],
                    std::to_string(j.value("conflicts", json::array()).size()), j["rollout"]});
  }
  if (a.output == "json") {
    std::cout << json{{"workloads", items}}.dump(2) << "\n";
  } else if (items.empty()) {
    std::cout << "No workloads governed by a TracingPolicy.\n";
  } else {
    print_table(rows);
  }
  return 0;
}

std::string rank_name(Rank r) {
  switch (r) {
    case Rank::kNamespaceWithSelector:
      return "namespace policy with a selector";
    case Rank::kNamespaceWithoutSelector:
      return "namespace policy";
    case Rank::kRootWithSelector:
      return "root policy with a selector";
    case Rank::kRootWithoutSelector:
      return "root policy";
  }
  return "";
}

int why(const Args& a) {
  if (a.positional.size() != 1) fail("why takes one [KIND/]NAME", 2);
  const std::string& arg = a.positional[0];
  WorkloadKind kind = WorkloadKind::kDeployment;
  std::string name = arg;
  if (auto slash = arg.find('/'); slash != std::string::npos) {
    auto k = kind_argument(arg.substr(0, slash));
    if (!k)
      fail("why: \"" + arg.substr(0, slash) +
               "\" is no workload kind (deployment, statefulset, daemonset)",
           2);
    kind = *k;
    name = arg.substr(slash + 1);
  }
  Session session = connect(a);
  kube::Client& client = *session.client;
  Cluster cluster(client, a.root_ns);
  const std::string& ns = session.ns;
  auto d = client.get(workload_resource(kind), ns, name);
  if (!d) {
    fail(std::string(kind_name(kind)) + " " + ns + "/" + name + ": " + d.error().to_string());
  }
  const WallTime now = std::chrono::system_clock::now();
  Verdict v = judge(cluster, *d, kind, now);
  json out = verdict_json(v, now);
  json cands = json::array();
  for (const auto& c : v.candidates) {
    cands.push_back({{"policy", c.policy->key()},
                     {"rank", rank_name(c.rank)},
                     {"priority", c.policy->spec.priority}});
  }
  out["candidates"] = cands;
  json sources = json::object();
  for (const auto& [group, from] : field_sources(v.candidates)) sources[group] = from;
  out["fieldSources"] = sources;
  json writes = json::object();
  for (const auto& [container, entries] : v.desired.env) {
    for (const auto& e : entries) writes[container][e.name] = e.entry.value("value", "");
  }
  if (v.state != "opted-out" && v.state != "held") out["writes"] = writes;
  if (a.output == "json") {
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::cout << "Deployment " << ns << "/" << a.positional[0] << ": " << v.state;
  if (v.state == "not-governed") {
    std::cout << " (no TracingPolicy selects it)\n";
    return 0;
  }
  std::cout << ", rollout " << v.rollout << "\n\nPolicies that apply, most specific first:\n";
  for (const auto& c : cands) {
    std::cout << "  " << c["policy"].get<std::string>() << "  (" << c["rank"].get<std::string>()
              << ", priority " << c["priority"] << ")\n";
  }
  std::cout << "\nEach field group comes from:\n";
  for (const auto& [group, from] : field_sources(v.candidates)) {
    std::cout << "  " << group << ": " << (from.empty() ? "(default)" : from) << "\n";
  }
  std::cout << "\nEffective: sampler " << out.value("sampler", "") << ", ratio "
            << out.value("ratio", "") << " (" << out.value("source", "") << ", from "
            << out.value("ratioFrom", "") << "), exporting to " << out.value("endpoint", "")
            << "\n";
  if (out.contains("debug")) {
    std::cout << "Debug bump of " << out["debug"]["policy"].get<std::string>() << " ends in "
              << out["debug"]["remaining"].get<std::string>() << "\n";
  }
  for (const auto& o : out.value("operationDebug", json::array())) {
    std::cout << "Debug bump of operation " << o["operation"].get<std::string>() << " to "
              << o["ratio"].get<std::string>() << " by " << o["policy"].get<std::string>()
              << ", ends in " << o["remaining"].get<std::string>()
              << (o["served"].get<bool>()
                      ? ""
                      : " (not served: " + o["notServed"].get<std::string>() + ")")
              << "\n";
  }
  if (out.contains("held"))
    std::cout << "Kept as it is: " << out["held"].get<std::string>() << "\n";
  if (!v.desired.env.empty()) {
    std::cout << "\nThe operator writes:\n";
    for (const auto& [container, entries] : v.desired.env) {
      for (const auto& e : entries) {
        std::cout << "  " << container << ": " << e.name << "=" << e.entry.value("value", "")
                  << "\n";
      }
    }
  }
  for (const auto& x : v.desired.conflicts) {
    std::cout << "Conflict: " << x.container << " sets " << x.variable << " itself (" << x.reason
              << "); left alone unless the policy sets override: true\n";
  }
  return 0;
}

// What the operator writes into `v`'s containers: "container/VAR" → value; empty when it writes
// nothing (not governed, opted out, held: its own entries then go or stay as they are).
std::map<std::string, std::string> writes_of(const Verdict& v) {
  std::map<std::string, std::string> out;
  if (v.state != "configured" && v.state != "pending") return out;
  for (const auto& [container, entries] : v.desired.env) {
    for (const auto& e : entries) out[container + "/" + e.name] = e.entry.value("value", "");
  }
  return out;
}

int diff(const Args& a, const std::string& file) {
  json object;
  try {
    object = file.size() > 5 && file.substr(file.size() - 5) == ".json"
                 ? json::parse(std::ifstream(file))
                 : tracing::yaml::load_yaml_file(file);
  } catch (const std::exception& e) {
    fail(file + ": " + e.what());
  }
  if (!object.is_object() || object.value("kind", "") != naming::kKind) {
    fail(file + ": not a TracingPolicy");
  }
  Session session = connect(a);
  kube::Client& client = *session.client;
  if (!object["metadata"].contains("namespace")) object["metadata"]["namespace"] = session.ns;
  Cluster before(client, a.root_ns);
  // The stored status carries a running debug bump on: the same debug spec keeps its clock.
  const std::string key =
      object["metadata"].value("namespace", "") + "/" + object["metadata"].value("name", "");
  if (const json* live = before.object(key); live && live->contains("status")) {
    object["status"] = (*live)["status"];
  }
  ParseResult r = parse_policy(object);
  if (!r.policy) fail(file + ": " + r.error);
  Cluster after = before.with(std::make_shared<const Policy>(std::move(*r.policy)));
  const WallTime now = std::chrono::system_clock::now();
  json changes = json::array();
  for (const auto& [kind, d] : list_workloads(client, "")) {
    Verdict was = judge(before, d, kind, now), will = judge(after, d, kind, now);
    auto old_writes = writes_of(was), new_writes = writes_of(will);
    const std::string old_gov = was.config ? was.config->governing : "";
    const std::string new_gov = will.config ? will.config->governing : "";
    if (old_writes == new_writes && old_gov == new_gov) continue;
    json vars = json::array();
    for (const auto& [k, v] : new_writes) {
      auto it = old_writes.find(k);
      if (it == old_writes.end()) {
        vars.push_back({{"variable", k}, {"to", v}});
      } else if (it->second != v) {
        vars.push_back({{"variable", k}, {"from", it->second}, {"to", v}});
      }
    }
    for (const auto& [k, v] : old_writes) {
      if (!new_writes.count(k)) vars.push_back({{"variable", k}, {"from", v}});
    }
    changes.push_back({{"namespace", was.workload.ns},
                       {"kind", kind_name(was.workload.kind)},
                       {"name", was.workload.name},
                       {"governing", {{"from", old_gov}, {"to", new_gov}}},
                       {"variables", vars}});
  }
  if (a.output == "json") {
    std::cout << json{{"policy", key}, {"workloads", changes}}.dump(2) << "\n";
    return 0;
  }
  if (changes.empty()) {
    std::cout << "Applying " << key << " changes no workload.\n";
    return 0;
  }
  for (const auto& c : changes) {
    std::cout << workload_key(*kind_named(c["kind"].get<std::string>()),
                              c["namespace"].get<std::string>(), c["name"].get<std::string>());
    const auto& g = c["governing"];
    if (g["from"] != g["to"]) {
      std::cout << "  (governed by " << (g["from"] == "" ? "none" : g["from"].get<std::string>())
                << " -> " << (g["to"] == "" ? "none" : g["to"].get<std::string>()) << ")";
    }
    std::cout << "\n";
    for (const auto& v : c["variables"]) {
      const std::string var = v["variable"];
      if (!v.contains("from")) {
        std::cout << "  + " << var << "=" << v["to"].get<std::string>() << "\n";
      } else if (!v.contains("to")) {
        std::cout << "  - " << var << "=" << v["from"].get<std::string>() << "\n";
      } else {
        std::cout << "  ~ " << var << ": " << v["from"].get<std::string>() << " -> "
                  << v["to"].get<std::string>() << "\n";
      }
    }
  }
  std::cout << changes.size() << " workload(s) would change.\n";
  return 0;
}

int patch_policy(const Args& a, const json& patch, const std::string& what) {
  if (a.positional.size() != 1) fail(a.command + " takes one POLICY", 2);
  Session session = connect(a);
  kube::Client& client = *session.client;
  const std::string& ns = session.ns;
  auto r = client.patch(Cluster::tracing_policies(), ns, a.positional[0], patch,
                        kube::PatchType::kMerge);
  if (!r) fail("TracingPolicy " + ns + "/" + a.positional[0] + ": " + r.error().to_string());
  std::cout << "tracingpolicy.tracing.rollout.dev/" << a.positional[0] << " " << what << "\n";
  return 0;
}

int bump(const Args& a) {
  if (a.ratio.empty() || a.for_.empty()) fail("bump needs --ratio R and --for D", 2);
  if (!parse_duration(a.for_)) fail("--for: \"" + a.for_ + "\" is not a duration (e.g. 15m)", 2);
  // A merge patch keeps what it does not name: until and operations of an earlier bump are
  // removed, so this one is a whole-service bump for the duration given.
  json debug = {
      {"ratio", a.ratio}, {"duration", a.for_}, {"until", nullptr}, {"operations", nullptr}};
  debug["reason"] = a.reason.empty() ? json(nullptr) : json(a.reason);
  return patch_policy(a, {{"spec", {{"debug", debug}}}}, "bumped to " + a.ratio + " for " + a.for_);
}

}  // namespace

int main(int argc, char** argv) {
  Args a = parse_args(argc, argv);
  if (a.command == "status") return status(a);
  if (a.command == "why") return why(a);
  if (a.command == "bump") return bump(a);
  if (a.command == "diff") {
    if (a.file.empty()) fail("diff needs -f FILE", 2);
    return diff(a, a.file);
  }
  if (a.command == "pause") {
    return patch_policy(a, {{"spec", {{"rollout", {{"paused", true}}}}}}, "paused");
  }
  if (a.command == "resume") {
    return patch_policy(a, {{"spec", {{"rollout", {{"paused", false}}}}}}, "resumed");
  }
  fail("unknown command \"" + a.command + "\" (see --help)", 2);
}
