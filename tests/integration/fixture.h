// Shared pieces of the integration tests: the local control plane started by
// scripts/controlplane (KUBECONFIG and TRACING_CP_DIR come from scripts/test), clients for its
// identities, throw-away namespaces, and waiting for a condition.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "operator/kube/client.h"
#include "operator/kube/config.h"

namespace tracing::testing {

using json = nlohmann::json;
using namespace std::chrono_literals;

// Path of a file of the control plane's state (TRACING_CP_DIR), e.g. "pki/tester.kubeconfig".
std::string cp_path(const std::string& relative);
// The admin kubeconfig ($KUBECONFIG).
std::string admin_kubeconfig();
kube::ClusterConfig load(const std::string& kubeconfig);
std::unique_ptr<kube::Client> make_client(const kube::ClusterConfig& config,
                                          kube::ClientOptions options = {50, 100});
// Runs `scripts/controlplane ARGS` and returns its exit status.
int controlplane(const std::string& args);
// Port of the API server in a config's server URL.
int server_port(const kube::ClusterConfig& config);

// Polls `pred` every 20 ms until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 30s);

// Deletes `namespaces` and, first, everything in them an operator reads (TracingPolicies, their
// finalizers dropped since the operator that would remove them is gone; workloads, ConfigMaps,
// Services, Dapr Configurations), and waits until that content is gone (not the namespaces:
// the namespace controller waits 5 s before it starts); false if some is still there.
bool empty_and_delete_namespaces(kube::Client& admin, const std::vector<std::string>& namespaces);

// A test with an admin client and its own namespace, emptied (as empty_and_delete_namespaces) and
// deleted afterwards: nothing it leaves reaches a later test's operator.
class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  json config_map(const std::string& name, const json& data = json::object()) const;
  json deployment(const std::string& name, const json& env = json::array()) const;

  kube::ClusterConfig config_;
  std::unique_ptr<kube::Client> client_;
  std::string ns_;
};

}  // namespace tracing::testing
