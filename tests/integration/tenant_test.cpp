// Tenants and remote sampling (SPEC §6, issue 9) end to end: the operator's own process, the real
// API server, a root policy in remote mode and tenant namespaces whose workloads share a service
// name. Jaeger keys its strategies by service name, so a tenant's policy must not change the
// ratio another namespace's workload of the same name is sampled at; it is told so instead
// (Degraded, reason SharedServiceName).
#include "tests/integration/operator_fixture.h"

namespace tracing::testing {
namespace {

using kube::resources::config_maps;
using kube::resources::deployments;

class Tenants : public OperatorTest {
 protected:
  // The strategies file of the managed Jaeger in `ns` (null until the operator wrote it).
  json strategies(const std::string& ns) {
    auto cm = client_->get(config_maps(), ns, "jaeger-sampling-strategies");
    if (!cm) return json();
    return json::parse((*cm)["data"].value("strategies.json", "null"), nullptr, false);
  }

  // The ratio the strategies file in `ns` serves `service` (-1 when it names no such service).
  double served(const std::string& ns, const std::string& service) {
    json s = strategies(ns);
    if (!s.is_object()) return -1;
    for (const auto& st : s.value("service_strategies", json::array())) {
      if (st.value("service", "") == service) return st.value("param", -1.0);
    }
    return -1;
  }

  bool wait_served(const std::string& ns, const std::string& service, double ratio) {
    bool ok = eventually([&] { return served(ns, service) == ratio; });
    if (!ok) {
      ADD_FAILURE() << "strategies in " << ns << " serve " << service << " at "
                    << served(ns, service) << ", expected " << ratio << ": "
                    << strategies(ns).dump() << "\noperator log " << op_->log_path();
    }
    return ok;
  }

  // The policy's Degraded condition (an empty object until there is one).
  json degraded(const std::string& ns, const std::string& name) {
    auto p = client_->get(kPolicies, ns, name);
    if (!p) return json::object();
    for (const auto& c : p->value("status", json::object()).value("conditions", json::array())) {
      if (c.value("type", "") == "Degraded") return c;
    }
    return json::object();
  }

  // Waits until the policy's Degraded condition has `status` and `reason`, with a message
  // containing each of `texts`.
  bool wait_degraded(const std::string& ns, const std::string& name, const std::string& status,
                     const std::string& reason, const std::vector<std::string>& texts = {}) {
    bool ok = eventually([&] {
      json c = degraded(ns, name);
      if (c.value("status", "") != status || c.value("reason", "") != reason) return false;
      for (const auto& t : texts) {
        if (c.value("message", "").find(t) == std::string::npos) return false;
      }
      return true;
    });
    if (!ok) {
      ADD_FAILURE() << "policy " << ns << "/" << name << " Degraded: " << degraded(ns, name).dump()
                    << "\nexpected " << status << " " << reason << "\noperator log "
                    << op_->log_path();
    }
    return ok;
  }

  // A Deployment whose OTEL_SERVICE_NAME is `service` (label app.kubernetes.io/name).
  void service(const std::string& ns, const std::string& name, const std::string& service) {
    workload(ns, name, {{"app.kubernetes.io/name", service}});
  }

  // The Warning events on policy ns/name with `reason`.
  int warnings(const std::string& ns, const std::string& name, const std::string& reason) {
    auto list = client_->list(kube::resources::events(), ns);
    int n = 0;
    if (!list) return n;
    for (const auto& e : list->items) {
      if (e.value("reason", "") == reason && e.value("type", "") == "Warning" &&
          e.value("regarding", json::object()).value("name", "") == name) {
        ++n;
      }
    }
    return n;
  }
};

const json kRootRemote = {{"sampling", {{"mode", "remote"}, {"ratio", "0.1"}}}};

TEST_F(Tenants, ANamespacePolicyCannotChangeTheRatioOfAServiceNameAnotherNamespaceRuns) {
  const std::string a = make_namespace("tenant-a");
  const std::string b = make_namespace("tenant-b");
  service(a, "checkout", "checkout");
  service(b, "checkout", "checkout");
  op_->start();
  apply_policy(root_, "cluster", kRootRemote);
  ASSERT_TRUE(wait_served(root_, "checkout", 0.1));

  // Tenant A asks for every trace of its checkout: B's checkout would be sampled at 1 too.
  apply_policy(a, "tenant", {{"sampling", {{"mode", "remote"}, {"ratio", "1"}}}});
  ASSERT_TRUE(
      wait_degraded(a, "tenant", "True", "SharedServiceName",
                    {"service checkout also runs in namespace " + b + " on the same managed Jaeger",
                     "the ratio 1 this policy sets is refused", "checkout is served 0.1"}));
  // The pass that reported it wrote the strategies before: 0.1 is what Jaeger serves now.
  EXPECT_EQ(served(root_, "checkout"), 0.1) << strategies(root_).dump();
  EXPECT_TRUE(eventually([&] { return warnings(a, "tenant", "SharedServiceName") >= 1; }))
      << "a Warning event on the policy";
  // Neither the root policy nor the other tenant is blamed.
  EXPECT_NE(degraded(root_, "cluster").value("reason", ""), "SharedServiceName");

  // B's checkout gone, A's is the only one of that name: its policy decides.
  ASSERT_TRUE(client_->remove(deployments(), b, "checkout"));
  ASSERT_TRUE(wait_served(root_, "checkout", 1));
  ASSERT_TRUE(wait_degraded(a, "tenant", "False", "AsExpected"));
}

TEST_F(Tenants, ADebugBumpFromANamespacePolicyIsRefusedWhileAnotherNamespaceRunsTheService) {
  const std::string a = make_namespace("tenant-a");
  const std::string b = make_namespace("tenant-b");
  service(a, "checkout", "checkout");
  service(b, "checkout", "checkout");
  service(a, "cart", "cart");
  op_->start();
  apply_policy(root_, "cluster", kRootRemote);
  ASSERT_TRUE(wait_served(root_, "checkout", 0.1));
  ASSERT_TRUE(wait_served(root_, "cart", 0.1));

  apply_policy(a, "incident", {{"debug", {{"ratio", "1"}, {"duration", "10m"}}}});
  // cart runs in A only: the bump applies to it; checkout's is refused.
  ASSERT_TRUE(wait_served(root_, "cart", 1));
  ASSERT_TRUE(wait_degraded(
      a, "incident", "True", "SharedServiceName",
      {"service checkout also runs in namespace " + b + " on the same managed Jaeger",
       "the ratio 1 this policy's debug bump sets is refused", "checkout is served 0.1"}));
  EXPECT_EQ(served(root_, "checkout"), 0.1) << strategies(root_).dump();
}

TEST_F(Tenants, ANamespacePolicyWithItsOwnManagedJaegerIsNotRefused) {
  const std::string a = make_namespace("tenant-a");
  const std::string b = make_namespace("tenant-b");
  service(a, "checkout", "checkout");
  service(b, "checkout", "checkout");
  op_->start();
  apply_policy(root_, "cluster", kRootRemote);
  // A's workloads report to A's own Jaeger: its strategies file is A's alone.
  apply_policy(
      a, "tenant",
      {{"sampling", {{"mode", "remote"}, {"ratio", "1"}}}, {"jaeger", {{"mode", "managed"}}}});
  ASSERT_TRUE(wait_served(a, "checkout", 1));
  ASSERT_TRUE(wait_served(root_, "checkout", 0.1));
  ASSERT_TRUE(op_->wait_idle(2));
  ASSERT_TRUE(wait_degraded(a, "tenant", "False", "AsExpected"));
}

}  // namespace
}  // namespace tracing::testing
