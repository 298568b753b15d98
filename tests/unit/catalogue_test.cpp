// Parity between the CRD and the operator (§4: every spec the CRD accepts, the operator parses).
// tests/integration/crd_test.cpp shows that the API server accepts every policy of
// tests/catalogue/valid-policies.yaml and refuses every one of invalid-policies.yaml; here every
// accepted one must parse, and, alone, add up to a configuration the operator can write, whose
// env values a kubelet expands to exactly what the policy says.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "controllers/api/policy.h"
#include "controllers/api/workload.h"
#include "controllers/decision.h"
#include "controllers/naming.h"
#include "plugin/yaml_json.h"
#include "tests/integration/kubelet_env.h"

namespace tracing::controllers {
namespace {

using namespace std::chrono_literals;

const std::string kCatalogue = std::string(TRACING_SOURCE_DIR) + "/tests/catalogue/";

json entries(const std::string& file) {
  try {
    json all = yaml::load_yaml_file(kCatalogue + file);
    if (all.is_array()) return all;
    ADD_FAILURE() << file << ": expected a YAML list";
  } catch (const std::exception& e) {
    ADD_FAILURE() << e.what();
  }
  return json::array();
}

// The policy as the API server returns it: in a namespace, with a uid and a generation.
json as_stored(json policy, const std::string& ns = "shop") {
  policy["metadata"]["namespace"] = ns;
  policy["metadata"]["uid"] = "uid-" + policy["metadata"].value("name", "");
  policy["metadata"]["generation"] = 1;
  return policy;
}

TEST(Catalogue, EveryPolicyTheApiServerAcceptsParses) {
  const json valid = entries("valid-policies.yaml");
  EXPECT_GE(valid.size(), 15u);
  for (const auto& e : valid) {
    SCOPED_TRACE(e.value("name", "?"));
    ParseResult r = parse_policy(as_stored(e["policy"]));
    EXPECT_TRUE(r.policy.has_value()) << r.error;
  }
}

TEST(Catalogue, EveryAcceptedPolicyAloneAddsUpToEnvTheKubeletLeavesAsThePolicySaysIt) {
  const WallTime now = std::chrono::sys_days{std::chrono::year{2026} / 11 / 26} + 12h;
  for (const auto& e : entries("valid-policies.yaml")) {
    SCOPED_TRACE(e.value("name", "?"));
    const std::string ns(63, 'n');  // the longest namespace name
    ParseResult r = parse_policy(as_stored(e["policy"], ns));
    if (!r.policy) continue;  // reported above
    const Policy& p = *r.policy;
    // The most demanding workload it could configure: longest names, every container, a
    // Secret-backed variable before the operator's.
    Workload w;
    w.ns = ns;
    w.name = std::string(253, 'd');
    w.labels = {{"app", "web"}};
    for (const auto& [k, v] : p.spec.selector ? p.spec.selector->match_labels : Labels{}) {
      w.labels[k] = v;
    }
    if (p.spec.selector) {
      for (const auto& req : p.spec.selector->match_expressions) {
        if (req.op == "In") w.labels[req.key] = req.values.front();
        if (req.op == "NotIn" || req.op == "DoesNotExist") w.labels.erase(req.key);
        if (req.op == "Exists") w.labels[req.key] = "x";
      }
    }
    const EnvVar secret{"DB_PASSWORD",
                        {{"name", "DB_PASSWORD"},
                         {"valueFrom", {{"secretKeyRef", {{"name", "db"}, {"key", "password"}}}}}}};
    for (const auto& c : p.spec.containers.value_or(std::vector<std::string>{"app"})) {
      w.containers.push_back(Container{c, {secret}});
    }
    std::vector<const Policy*> ps = {&p};
    // A namespace policy: its namespaceSelector is ignored.
    auto cands = candidates(w, {}, ps, "tracing-system");
    ASSERT_EQ(cands.size(), 1u) << "the test workload should be selected";
    auto c = effective_config(cands, now);
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->unusable, "");
    DesiredEnv d = desired_env(*c, w);
    for (const auto& [container, env] : d.env) {
      json list = json::array({secret.entry});
      for (const auto& v : env) list.push_back(v.entry);
      testing::Vars seen = testing::kubelet_env(list, {{"db", {{"password", "s3cr3t"}}}});
      for (const auto& [name, value] : seen) {
        if (name == "DB_PASSWORD") continue;
        EXPECT_EQ(value.find("s3cr3t"), std::string::npos) << name << "=" << value;
      }
      EXPECT_EQ(seen[naming::kOtelEndpoint], c->endpoint) << "expanded to what the policy says";
      EXPECT_LE(seen[naming::kOtelResourceAttributes].size(), kMaxResourceAttributesBytes + 340);
    }
  }
}

}  // namespace
}  // namespace tracing::controllers
