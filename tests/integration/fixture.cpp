#include "tests/integration/fixture.h"

#include <cstdlib>
#include <random>
#include <thread>

#include "operator/kube/http.h"

namespace tracing::testing {

namespace {
std::string env_or_die(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) {
    ADD_FAILURE() << name << " is not set: run the integration tests through scripts/test";
    std::abort();
  }
  return v;
}
}  // namespace

std::string cp_path(const std::string& relative) {
  return env_or_die("TRACING_CP_DIR") + "/" + relative;
}

std::string admin_kubeconfig() { return env_or_die("KUBECONFIG"); }

kube::ClusterConfig load(const std::string& kubeconfig) {
  auto c = kube::load_kubeconfig(kubeconfig);
  if (!c) {
    ADD_FAILURE() << c.error().to_string();
    std::abort();
  }
  return *c;
}

std::unique_ptr<kube::Client> make_client(const kube::ClusterConfig& config,
                                          kube::ClientOptions options) {
  auto t = kube::make_http_transport(config, "tracing-tests/1.0");
  if (!t) {
    ADD_FAILURE() << t.error().to_string();
    std::abort();
  }
  return std::make_unique<kube::Client>(*t, options);
}

int controlplane(const std::string& args) {
  std::string cmd = std::string(TRACING_SOURCE_DIR) + "/scripts/controlplane " + args + " >&2";
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

int server_port(const kube::ClusterConfig& config) {
  auto colon = config.server.rfind(':');
  return std::stoi(config.server.substr(colon + 1));
}

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

void ClusterTest::SetUp() {
  config_ = load(admin_kubeconfig());
  client_ = make_client(config_);
  static std::mt19937_64 rng{std::random_device{}()};
  std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  for (auto& c : test) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  ns_ = "t-" + test.substr(0, 40) + "-" + std::to_string(rng() % 100000);
  auto created =
      client_->create(kube::resources::namespaces(), "",
                      {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns_}}}});
  ASSERT_TRUE(created) << created.error().to_string();
}

void ClusterTest::TearDown() {
  if (client_ && !ns_.empty()) {
    EXPECT_TRUE(empty_and_delete_namespaces(*client_, {ns_}))
        << "objects an operator reads left in namespace " << ns_;
  }
}

bool empty_and_delete_namespaces(kube::Client& admin, const std::vector<std::string>& namespaces) {
  const kube::Resource policies{"tracing.rollout.dev", "v1alpha1", "tracingpolicies", true,
                                "TracingPolicy"};
  // What an operator reads, in any namespace: deleted here, because the namespace controller
  // only starts on a deleted namespace 5 s later (its fixed namespaceDeletionGracePeriod), and
  // what lingers meanwhile would be governed by the next test's root policies.
  const std::vector<kube::Resource> read_by_the_operator = {
      policies,
      kube::resources::deployments(),
      kube::resources::stateful_sets(),
      kube::resources::daemon_sets(),
      kube::resources::config_maps(),
      {"", "v1", "services", true, "Service"},
      {"dapr.io", "v1alpha1", "configurations", true, "Configuration"}};
  // The names of `r` in `ns`; none when it is not served (Dapr's CRD absent: 404). Not the CA
  // bundle a root-CA publisher would put back.
  auto names = [&](const kube::Resource& r, const std::string& ns) {
    std::vector<std::string> out;
    if (auto list = admin.list(r, ns); list) {
      for (const auto& o : list->items) {
        if (o["metadata"]["name"] != "kube-root-ca.crt") out.push_back(o["metadata"]["name"]);
      }
    }
    return out;
  };
  for (const auto& ns : namespaces) {
    for (const auto& r : read_by_the_operator) {
      for (const auto& name : names(r, ns)) {
        if (r.plural == policies.plural) {  // the operator that would drop them is gone
          (void)admin.patch(r, ns, name, {{"metadata", {{"finalizers", nullptr}}}},
                            kube::PatchType::kMerge);
        }
        (void)admin.remove(r, ns, name);
      }
    }
    (void)admin.remove(kube::resources::namespaces(), "", ns);
  }
  // The namespaces themselves are left to the namespace controller; once their content is gone
  // nothing in them reaches an operator.
  return eventually(
      [&] {
        for (const auto& ns : namespaces) {
          for (const auto& r : read_by_the_operator) {
            if (!names(r, ns).empty()) return false;
          }
        }
        return true;
      },
      120s);
}

json ClusterTest::config_map(const std::string& name, const json& data) const {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", ns_}}},
          {"data", data}};
}

json ClusterTest::deployment(const std::string& name, const json& env) const {
  json container = {{"name", "app"}, {"image", "registry.example/app:1"}};
  if (!env.empty()) container["env"] = env;
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", {{"name", name}, {"namespace", ns_}, {"labels", {{"app", name}}}}},
          {"spec",
           {{"replicas", 1},
            {"selector", {{"matchLabels", {{"app", name}}}}},
            {"template",
             {{"metadata", {{"labels", {{"app", name}}}}},
              {"spec", {{"containers", json::array({container})}}}}}}}};
}

}  // namespace tracing::testing
