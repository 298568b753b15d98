// Kubeconfigs as kubectl reads them, against the real API server: exec credential plugins (a
// real plugin process, the API server's own token and client-certificate authentication), an
// HTTP CONNECT proxy in front of it, and the operator binary picking a context of merged files.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "operator/kube/config.h"
#include "tests/integration/fixture.h"
#include "tests/integration/operator_harness.h"
#include "tests/integration/tcp_proxy.h"

namespace tracing::testing {
namespace {

namespace fs = std::filesystem;

const char* kAdminToken = "admin-token-0123456789abcdef";
const char* kTesterToken = "tester-token-0123456789abcdef";

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A real credential plugin: a Python script that records each run (its arguments,
// KUBERNETES_EXEC_INFO, PLUGIN_GREETING and whether it had a terminal) in its state directory
// and prints the ExecCredential whose status is the n-th of `credentials` (the last repeats).
const char* kPlugin = R"(#!/usr/bin/env python3
import json, os, pathlib, sys
d = pathlib.Path(sys.argv[1])
runs = d / "runs"
n = int(runs.read_text()) + 1 if runs.exists() else 1
runs.write_text(str(n))
(d / f"args.{n}").write_text(json.dumps(sys.argv[2:]))
(d / f"exec-info.{n}").write_text(os.environ.get("KUBERNETES_EXEC_INFO", "<unset>"))
(d / f"greeting.{n}").write_text(os.environ.get("PLUGIN_GREETING", "<unset>"))
(d / f"stdin.{n}").write_text(sys.stdin.read())
if (d / "exit").exists():
    sys.exit(int((d / "exit").read_text()))
statuses = json.loads((d / "credentials").read_text())
print(json.dumps({"apiVersion": os.environ.get("PLUGIN_API_VERSION", "client.authentication.k8s.io/v1"),
                  "kind": "ExecCredential", "status": statuses[min(n, len(statuses)) - 1]}))
)";

class Kubeconfig : public ClusterTest {
 protected:
  void SetUp() override {
    ClusterTest::SetUp();
    std::string tmpl = (fs::temp_directory_path() / "kubeconfig_test.XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    std::ofstream(dir_ / "plugin") << kPlugin;
    fs::permissions(dir_ / "plugin", fs::perms::owner_all);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    ClusterTest::TearDown();
  }

  void credentials(const json& statuses) { std::ofstream(dir_ / "credentials") << statuses.dump(); }
  int runs() const {
    std::ifstream in(dir_ / "runs");
    int n = 0;
    in >> n;
    return n;
  }
  std::string recorded(const std::string& what, int run) const {
    return read((dir_ / (what + "." + std::to_string(run))).string());
  }

  // A kubeconfig whose user runs the plugin (`exec` lines go under `exec:`), next to the plugin
  // (so the relative command ./plugin resolves against its directory).
  std::string plugin_kubeconfig(const std::string& exec_extra = "") {
    const std::string path = (dir_ / "config").string();
    std::ofstream(path) << "apiVersion: v1\n"
                           "kind: Config\n"
                           "clusters:\n"
                           "- name: local\n"
                           "  cluster:\n"
                           "    server: " +
                               config_.server +
                               "\n"
                               "    certificate-authority: " +
                               cp_path("pki/ca.crt") +
                               "\n"
                               "users:\n"
                               "- name: plugin-user\n"
                               "  user:\n"
                               "    exec:\n"
                               "      apiVersion: client.authentication.k8s.io/v1\n"
                               "      command: ./plugin\n"
                               "      args: ['" +
                               dir_.string() +
                               "', --cluster, local]\n"
                               "      env: [{name: PLUGIN_GREETING, value: hello}]\n"
                               "      interactiveMode: Never\n" +
                               exec_extra +
                               "contexts:\n"
                               "- name: local\n"
                               "  context: {cluster: local, user: plugin-user}\n"
                               "current-context: local\n";
    return path;
  }

  std::unique_ptr<kube::Client> plugin_client(const std::string& exec_extra = "") {
    auto config = kube::load_kubeconfig(plugin_kubeconfig(exec_extra));
    EXPECT_TRUE(config.ok()) << config.error().message;
    EXPECT_TRUE(config->exec.has_value());
    return make_client(*config);
  }

  fs::path dir_;
};

TEST_F(Kubeconfig, ExecPluginTokenAuthenticatesWithTheApiServer) {
  credentials(json::array({{{"token", kAdminToken}}}));
  auto client = plugin_client();
  auto ns = client->get(kube::resources::namespaces(), "", ns_);
  ASSERT_TRUE(ns.ok()) << ns.error().to_string();
  EXPECT_EQ((*ns)["metadata"]["name"], ns_);

  ASSERT_EQ(runs(), 1);
  EXPECT_EQ(recorded("args", 1), R"(["--cluster", "local"])");
  EXPECT_EQ(recorded("greeting", 1), "hello");
  EXPECT_EQ(recorded("exec-info", 1),
            R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1",)"
            R"("spec":{"interactive":false}})"
            "\n");
  EXPECT_EQ(recorded("stdin", 1), "");  // interactiveMode Never: /dev/null

  // Without an expiry the credential is kept: more requests, no more runs.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client->get(kube::resources::namespaces(), "", ns_).ok());
  EXPECT_EQ(runs(), 1);
}

TEST_F(Kubeconfig, TheApiServerSeesThePluginsIdentity) {
  // The tester token authenticates as tester-token-user, whom RBAC denies.
  credentials(json::array({{{"token", kTesterToken}}}));
  auto denied = plugin_client()->get(kube::resources::namespaces(), "", ns_);
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().code, 403);
  EXPECT_NE(denied.error().message.find("User \"tester-token-user\""), std::string::npos)
      << denied.error().message;
}

TEST_F(Kubeconfig, ExecPluginRunsAgainAfterA401AndTheRequestIsRetried) {
  credentials(json::array({{{"token", "not-a-valid-token"}}, {{"token", kAdminToken}}}));
  auto client = plugin_client();
  auto ns = client->get(kube::resources::namespaces(), "", ns_);
  ASSERT_TRUE(ns.ok()) << ns.error().to_string();
  EXPECT_EQ(runs(), 2);
  ASSERT_TRUE(client->get(kube::resources::namespaces(), "", ns_).ok());
  EXPECT_EQ(runs(), 2);
}

TEST_F(Kubeconfig, ARequestRefusedTwiceReturnsThe401) {
  credentials(json::array({{{"token", "not-a-valid-token"}}}));
  auto r = plugin_client()->get(kube::resources::namespaces(), "", ns_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, 401);
  EXPECT_EQ(runs(), 2);  // the first try and the one retry
}

TEST_F(Kubeconfig, ExecCredentialIsKeptUntilItsExpirationTimestamp) {
  const std::time_t expiry = std::time(nullptr) + 3;
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&expiry));
  credentials(json::array(
      {{{"token", kAdminToken}, {"expirationTimestamp", stamp}}, {{"token", kAdminToken}}}));
  auto client = plugin_client();
  ASSERT_TRUE(client->get(kube::resources::namespaces(), "", ns_).ok());
  ASSERT_TRUE(client->get(kube::resources::namespaces(), "", ns_).ok());
  EXPECT_EQ(runs(), 1);
  std::this_thread::sleep_until(std::chrono::system_clock::from_time_t(expiry) + 200ms);
  ASSERT_TRUE(client->get(kube::resources::namespaces(), "", ns_).ok());
  EXPECT_EQ(runs(), 2);
}

TEST_F(Kubeconfig, ExecPluginClientCertificateAuthenticates) {
  credentials(json::array({{{"clientCertificateData", read(cp_path("pki/tester.crt"))},
                            {"clientKeyData", read(cp_path("pki/tester.key"))}}}));
  auto denied = plugin_client()->get(kube::resources::namespaces(), "", ns_);
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().code, 403);
  EXPECT_NE(denied.error().message.find("User \"tester\""), std::string::npos)
      << denied.error().message;

  fs::remove(dir_ / "runs");
  credentials(json::array({{{"clientCertificateData", read(cp_path("pki/admin.crt"))},
                            {"clientKeyData", read(cp_path("pki/admin.key"))}}}));
  auto ok = plugin_client()->get(kube::resources::namespaces(), "", ns_);
  EXPECT_TRUE(ok.ok()) << ok.error().to_string();
}

TEST_F(Kubeconfig, ACertificateTheApiServerRejectsIsReplacedAfterThe401) {
  // A client certificate from a CA the API server does not trust: it answers 401.
  const std::string key = (dir_ / "stranger.key").string(), crt = (dir_ / "stranger.crt").string();
  ASSERT_EQ(std::system(("openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=stranger -days 1 "
                         "-keyout " +
                         key + " -out " + crt + " 2>/dev/null")
                            .c_str()),
            0);
  credentials(json::array({{{"clientCertificateData", read(crt)}, {"clientKeyData", read(key)}},
                           {{"clientCertificateData", read(cp_path("pki/admin.crt"))},
                            {"clientKeyData", read(cp_path("pki/admin.key"))}}}));
  auto client = plugin_client();
  auto ns = client->get(kube::resources::namespaces(), "", ns_);
  ASSERT_TRUE(ns.ok()) << ns.error().to_string();
  EXPECT_EQ(runs(), 2);
}

TEST_F(Kubeconfig, ExecPluginFailuresAreClearErrors) {
  credentials(json::array({{{"token", kAdminToken}}}));
  // A non-zero exit.
  std::ofstream(dir_ / "exit") << "3";
  auto failed = plugin_client()->get(kube::resources::namespaces(), "", ns_);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().reason, "ExecPluginFailed");
  EXPECT_NE(failed.error().message.find("executable " + (dir_ / "plugin").string() +
                                        " failed with exit code 3"),
            std::string::npos)
      << failed.error().message;
  fs::remove(dir_ / "exit");

  // Output of another apiVersion.
  {
    ::setenv("PLUGIN_API_VERSION", "client.authentication.k8s.io/v1beta1", 1);
    auto wrong = plugin_client()->get(kube::resources::namespaces(), "", ns_);
    ::unsetenv("PLUGIN_API_VERSION");
    ASSERT_FALSE(wrong.ok());
    EXPECT_NE(wrong.error().message.find("plugin returned version "
                                         "client.authentication.k8s.io/v1beta1"),
              std::string::npos)
        << wrong.error().message;
  }

  // A command that is not installed, with its hint.
  const std::string path = plugin_kubeconfig("      installHint: 'pip install the-plugin'\n");
  std::string text = read(path);
  text.replace(text.find("command: ./plugin"), 17, "command: no-such-credential-plugin");
  std::ofstream(path) << text;
  auto config = kube::load_kubeconfig(path);
  ASSERT_TRUE(config.ok()) << config.error().message;
  auto missing = make_client(*config)->get(kube::resources::namespaces(), "", ns_);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("executable no-such-credential-plugin not found"),
            std::string::npos)
      << missing.error().message;
  EXPECT_TRUE(missing.error().message.ends_with("pip install the-plugin"))
      << missing.error().message;
}

// ---- proxies -----------------------------------------------------------------------------

// A config for the API server by a name only the proxy can resolve ("kubernetes" is in its
// serving certificate; the proxy tunnels every CONNECT to the API server).
kube::ClusterConfig by_name_only(const kube::ClusterConfig& admin) {
  kube::ClusterConfig c = admin;
  c.server = "https://kubernetes:" + std::to_string(server_port(admin));
  c.client_cert_pem.clear();
  c.client_key_pem.clear();
  c.token = kAdminToken;
  return c;
}

TEST_F(Kubeconfig, ProxyUrlTunnelsThroughAnHttpConnectProxyWithCredentials) {
  TcpProxy proxy("127.0.0.1", server_port(config_));
  proxy.set_connect_mode(true);
  kube::ClusterConfig c = by_name_only(config_);
  c.proxy_url = "http://user:pw@127.0.0.1:" + std::to_string(proxy.port());
  auto ns = make_client(c)->get(kube::resources::namespaces(), "", ns_);
  ASSERT_TRUE(ns.ok()) << ns.error().to_string();
  auto heads = proxy.connect_requests();
  ASSERT_FALSE(heads.empty());
  EXPECT_TRUE(heads[0].starts_with("CONNECT kubernetes:" + std::to_string(server_port(config_)) +
                                   " HTTP/1.1\r\n"))
      << heads[0];
  EXPECT_NE(heads[0].find("Proxy-Authorization: Basic dXNlcjpwdw=="), std::string::npos)
      << heads[0];
}

TEST_F(Kubeconfig, HttpsProxyVariableIsUsedUnlessNoProxyExemptsTheServer) {
  TcpProxy proxy("127.0.0.1", server_port(config_));
  proxy.set_connect_mode(true);
  const std::string url = "http://127.0.0.1:" + std::to_string(proxy.port());
  ::setenv("HTTPS_PROXY", url.c_str(), 1);
  auto via_proxy = make_client(by_name_only(config_))->get(kube::resources::namespaces(), "", ns_);
  ::setenv("NO_PROXY", "other.example,kubernetes", 1);
  auto direct = make_client(by_name_only(config_))->get(kube::resources::namespaces(), "", ns_);
  ::unsetenv("NO_PROXY");
  ::unsetenv("HTTPS_PROXY");
  ASSERT_TRUE(via_proxy.ok()) << via_proxy.error().to_string();
  EXPECT_EQ(proxy.connect_requests().size(), 1u);
  // Exempted, the client resolves "kubernetes" itself, and cannot.
  ASSERT_FALSE(direct.ok());
  EXPECT_TRUE(direct.error().is_network()) << direct.error().to_string();
  EXPECT_EQ(proxy.connect_requests().size(), 1u);
}

// ---- the operator binary: --context over merged $KUBECONFIG files -----------------------

TEST_F(Kubeconfig, OperatorConnectsWithTheContextNamedOverMergedFiles) {
  install_crd_and_rbac(*client_);
  // The first file sets a current-context that leads nowhere and a context for the operator's
  // identity, whose cluster and user live in the control plane's operator.kubeconfig.
  const std::string contexts = (dir_ / "contexts").string();
  std::ofstream(contexts) << "current-context: broken\n"
                             "clusters:\n"
                             "- {name: nowhere, cluster: {server: 'https://127.0.0.1:1'}}\n"
                             "contexts:\n"
                             "- {name: broken, context: {cluster: nowhere}}\n"
                             "- {name: as-operator, context: {cluster: local, user: operator}}\n";
  const std::string list =
      contexts + ":" + (dir_ / "missing").string() + ":" + cp_path("pki/operator.kubeconfig");
  // Restored however the test ends: the other tests of this process read $KUBECONFIG.
  struct RestoreKubeconfig {
    std::string saved = admin_kubeconfig();
    ~RestoreKubeconfig() { ::setenv("KUBECONFIG", saved.c_str(), 1); }
  } restore;
  ::setenv("KUBECONFIG", list.c_str(), 1);
  OperatorProcess op(ns_, (dir_ / "operator.log").string());
  op.start({"--kubeconfig=", "--context=as-operator"});  // "" = no flag: $KUBECONFIG
  EXPECT_TRUE(op.ready());
  EXPECT_EQ(op.stop(), 0);
  const std::string log = read(op.log_path());
  EXPECT_NE(log.find("(kubeconfig " + contexts + ":" + cp_path("pki/operator.kubeconfig") +
                     ", context \"as-operator\")"),
            std::string::npos)
      << log;
}

}  // namespace
}  // namespace tracing::testing
