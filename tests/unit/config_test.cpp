#include "operator/kube/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace tracing::kube {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

// PEM-shaped text: the loader checks the shape, TLS checks the content later.
const std::string kCaPem = "-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n";
const std::string kCertPem = "-----BEGIN CERTIFICATE-----\nQ0VSVA==\n-----END CERTIFICATE-----\n";
const std::string kKeyPem = "-----BEGIN PRIVATE KEY-----\nS0VZ\n-----END PRIVATE KEY-----\n";

std::string base64(const std::string& in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 63]);
  }
  if (i + 1 == in.size()) {
    const unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    const unsigned v =
        (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63], '='};
  }
  return out;
}

// A fresh directory, removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "config_test.XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string path(const std::string& name = "") const {
    return name.empty() ? path_.string() : (path_ / name).string();
  }
  std::string write(const std::string& name, const std::string& text) const {
    const fs::path p = path_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }

 private:
  fs::path path_;
};

// Sets (or, with nullopt, unsets) an environment variable for the scope of a test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = getenv(name)) old_ = old;
    if (value) {
      setenv(name, value->c_str(), 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// A kubeconfig with one context "dev" → cluster "local", user "admin".
std::string kubeconfig(const std::string& cluster, const std::string& user,
                       const std::string& context_extra = "") {
  return "apiVersion: v1\n"
         "kind: Config\n"
         "current-context: dev\n"
         "clusters:\n"
         "- name: local\n"
         "  cluster:\n" +
         cluster +
         "users:\n"
         "- name: admin\n"
         "  user:\n" +
         user +
         "contexts:\n"
         "- name: dev\n"
         "  context:\n"
         "    cluster: local\n"
         "    user: admin\n" +
         context_extra;
}

const std::string kServer = "    server: https://127.0.0.1:6443\n";
const std::string kToken = "    token: abc\n";

// The error message of a load expected to fail with InvalidConfig.
std::string error_of(const Result<ClusterConfig>& r) {
  if (r.ok()) return "<loaded: " + r->source + ">";
  EXPECT_EQ(r.error().code, 0);
  EXPECT_EQ(r.error().reason, "InvalidConfig");
  return r.error().message;
}

// ---- kubeconfig: what loads --------------------------------------------------------------

TEST(Kubeconfig, LoadsEmbeddedClientCertificateKeyAndCa) {
  TempDir dir;
  const std::string path = dir.write(
      "config", kubeconfig(kServer + "    certificate-authority-data: " + base64(kCaPem) + "\n",
                           "    client-certificate-data: " + base64(kCertPem) + "\n" +
                               "    client-key-data: " + base64(kKeyPem) + "\n"));
  auto config = load_kubeconfig(path);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->server, "https://127.0.0.1:6443");
  EXPECT_EQ(config->ca_pem, kCaPem);
  EXPECT_EQ(config->client_cert_pem, kCertPem);
  EXPECT_EQ(config->client_key_pem, kKeyPem);
  EXPECT_FALSE(config->insecure_skip_tls_verify);
  EXPECT_EQ(config->token, "");
  EXPECT_EQ(config->token_file, "");
  EXPECT_EQ(config->source, "kubeconfig " + path + ", context \"dev\"");
}

TEST(Kubeconfig, ResolvesRelativeCertificatePathsAgainstItsDirectory) {
  TempDir dir;
  dir.write("kube/pki/ca.crt", kCaPem);
  dir.write("kube/pki/admin.crt", kCertPem);
  const std::string key = dir.write("elsewhere/admin.key", kKeyPem);
  const std::string path =
      dir.write("kube/config", kubeconfig(kServer + "    certificate-authority: pki/ca.crt\n",
                                          "    client-certificate: ./pki/admin.crt\n"
                                          "    client-key: " +
                                              key + "\n"));
  // The working directory is not the kubeconfig's, so only resolving against it finds them.
  ASSERT_NE(fs::current_path(), fs::path(dir.path("kube")));
  auto config = load_kubeconfig(path);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->ca_pem, kCaPem);
  EXPECT_EQ(config->client_cert_pem, kCertPem);
  EXPECT_EQ(config->client_key_pem, kKeyPem);
}

TEST(Kubeconfig, PrefersEmbeddedDataOverFilePaths) {
  TempDir dir;
  const std::string path =
      dir.write("config", kubeconfig(kServer + "    certificate-authority: missing-ca.crt\n" +
                                         "    certificate-authority-data: " + base64(kCaPem) + "\n",
                                     "    client-certificate: missing.crt\n"
                                     "    client-certificate-data: " +
                                         base64(kCertPem) + "\n" + "    client-key: missing.key\n" +
                                         "    client-key-data: " + base64(kKeyPem) + "\n"));
  auto config = load_kubeconfig(path);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->ca_pem, kCaPem);
  EXPECT_EQ(config->client_cert_pem, kCertPem);
  EXPECT_EQ(config->client_key_pem, kKeyPem);
}

TEST(Kubeconfig, LoadsStaticBearerToken) {
  TempDir dir;
  const std::string path = dir.write("config", kubeconfig(kServer, kToken));
  auto config = load_kubeconfig(path);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->token, "abc");
  EXPECT_EQ(config->token_file, "");
  EXPECT_EQ(config->client_cert_pem, "");
  EXPECT_EQ(config->ca_pem, "");
}

TEST(Kubeconfig, RecordsResolvedTokenFileWithoutReadingIt) {
  TempDir dir;
  const std::string path =
      dir.write("config", kubeconfig(kServer, "    tokenFile: secrets/token\n"));
  auto config = load_kubeconfig(path);  // secrets/token does not exist yet: not an error here
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->token_file, dir.path("secrets/token"));
  EXPECT_EQ(config->token, "");
}

TEST(Kubeconfig, ReadsInsecureSkipTlsVerifyAndTlsServerName) {
  TempDir dir;
  const std::string path =
      dir.write("config", kubeconfig(kServer + "    insecure-skip-tls-verify: true\n" +
                                         "    tls-server-name: kubernetes.default.svc\n",
                                     kToken));
  auto config = load_kubeconfig(path);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_TRUE(config->insecure_skip_tls_verify);
  EXPECT_EQ(config->tls_server_name, "kubernetes.default.svc");
}

TEST(Kubeconfig, ContextArgumentOverridesCurrentContext) {
  TempDir dir;
  const std::string path =
      dir.write("config",
                "current-context: dev\n"
                "clusters:\n"
                "- name: local\n"
                "  cluster: {server: 'https://local:6443'}\n"
                "- name: remote\n"
                "  cluster: {server: 'https://remote:443'}\n"
                "users:\n"
                "- name: admin\n"
                "  user: {token: admin-token}\n"
                "- name: robot\n"
                "  user: {token: robot-token}\n"
                "contexts:\n"
                "- name: dev\n"
                "  context: {cluster: local, user: admin}\n"
                "- name: prod\n"
                "  context: {cluster: remote, user: robot, namespace: tracing}\n");

  auto current = load_kubeconfig(path);
  ASSERT_TRUE(current.ok()) << current.error().message;
  EXPECT_EQ(current->server, "https://local:6443");
  EXPECT_EQ(current->token, "admin-token");

  auto prod = load_kubeconfig(path, "prod");
  ASSERT_TRUE(prod.ok()) << prod.error().message;
  EXPECT_EQ(prod->server, "https://remote:443");
  EXPECT_EQ(prod->token, "robot-token");
  EXPECT_EQ(prod->ns, "tracing");
  EXPECT_EQ(prod->source, "kubeconfig " + path + ", context \"prod\"");
}

TEST(Kubeconfig, TakesNamespaceFromContext) {
  TempDir dir;
  const std::string path =
      dir.write("config", kubeconfig(kServer, kToken, "    namespace: observability\n"));
  auto config = load_kubeconfig(path);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->ns, "observability");
}

TEST(Kubeconfig, DefaultsNamespaceToDefault) {
  TempDir dir;
  const std::string path = dir.write("config", kubeconfig(kServer, kToken));
  auto config = load_kubeconfig(path);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->ns, "default");
}

TEST(Kubeconfig, ContextWithoutUserIsAnonymous) {
  TempDir dir;
  const std::string path = dir.write("config",
                                     "current-context: anon\n"
                                     "clusters:\n"
                                     "- name: local\n"
                                     "  cluster: {server: 'http://127.0.0.1:8080'}\n"
                                     "contexts:\n"
                                     "- name: anon\n"
                                     "  context: {cluster: local}\n");
  auto config = load_kubeconfig(path);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->server, "http://127.0.0.1:8080");
  EXPECT_EQ(config->token, "");
  EXPECT_EQ(config->token_file, "");
  EXPECT_EQ(config->client_cert_pem, "");
}

TEST(Kubeconfig, DropsTrailingSlashFromServer) {
  TempDir dir;
  const std::string path = dir.write(
      "config", kubeconfig("    server: https://rancher.example/k8s/clusters/c-1/\n", kToken));
  auto config = load_kubeconfig(path);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->server, "https://rancher.example/k8s/clusters/c-1");
}

TEST(Kubeconfig, DecodesBase64FoldedAcrossLines) {
  TempDir dir;
  std::string encoded = base64(kCertPem);
  encoded.insert(20, "\n      ");  // a multi-line plain scalar; YAML folds the break to a space
  const std::string path = dir.write(
      "config", kubeconfig(kServer, "    client-certificate-data: " + encoded + "\n" +
                                        "    client-key-data: " + base64(kKeyPem) + "\n"));
  auto config = load_kubeconfig(path);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->client_cert_pem, kCertPem);
}

// ---- kubeconfig: what is refused, and how it says so -------------------------------------

TEST(Kubeconfig, ReportsMissingFile) {
  TempDir dir;
  EXPECT_EQ(error_of(load_kubeconfig(dir.path("nope"))),
            "cannot read kubeconfig " + dir.path("nope") + ": No such file or directory");
}

TEST(Kubeconfig, ReportsYamlSyntaxErrorWithLineAndColumn) {
  TempDir dir;
  const std::string path = dir.write("config", "current-context: dev\n  clusters: []\n");
  EXPECT_EQ(error_of(load_kubeconfig(path)),
            "kubeconfig " + path + ": invalid YAML at line 2, column 11: illegal map value");
}

TEST(Kubeconfig, ReportsEmptyFile) {
  TempDir dir;
  const std::string path = dir.write("config", "");
  EXPECT_EQ(error_of(load_kubeconfig(path)), "kubeconfig " + path + ": the file is empty");
}

TEST(Kubeconfig, ReportsUnsetCurrentContext) {
  TempDir dir;
  const std::string path = dir.write("config", "apiVersion: v1\nclusters: []\n");
  EXPECT_EQ(error_of(load_kubeconfig(path)),
            "kubeconfig " + path + ": current-context is not set and no context was given");
}

TEST(Kubeconfig, ReportsCurrentContextMissingFromContexts) {
  TempDir dir;
  std::string text = kubeconfig(kServer, kToken);
  text.replace(text.find("current-context: dev"), 20, "current-context: foo");
  const std::string path = dir.write("config", text);
  EXPECT_EQ(error_of(load_kubeconfig(path)),
            "kubeconfig " + path + ": current-context \"foo\" not found in contexts");
}

TEST(Kubeconfig, ReportsContextArgumentMissingFromContexts) {
  TempDir dir;
  const std::string path = dir.write("config", kubeconfig(kServer, kToken));
  EXPECT_EQ(error_of(load_kubeconfig(path, "staging")),
            "kubeconfig " + path + ": context \"staging\" not found in contexts");
}

TEST(Kubeconfig, ReportsContextNamingMissingCluster) {
  TempDir dir;
  std::string text = kubeconfig(kServer, kToken);
  text.replace(text.find("cluster: local"), 14, "cluster: gone");
  const std::string path = dir.write("config", text);
  EXPECT_EQ(error_of(load_kubeconfig(path)),
            "kubeconfig " + path +
                ": contexts[name=\"dev\"].context.cluster \"gone\" not found in clusters");
}

TEST(Kubeconfig, ReportsContextNamingMissingUser) {
  TempDir dir;
  std::string text = kubeconfig(kServer, kToken);
  text.replace(text.find("user: admin"), 11, "user: ghost");
  const std::string path = dir.write("config", text);
  EXPECT_EQ(
      error_of(load_kubeconfig(path)),
      "kubeconfig " + path + ": contexts[name=\"dev\"].context.user \"ghost\" not found in users");
}

TEST(Kubeconfig, ReportsMissingServer) {
  TempDir dir;
  const std::string path =
      dir.write("config", kubeconfig("    insecure-skip-tls-verify: true\n", kToken));
  EXPECT_EQ(error_of(load_kubeconfig(path)),
            "kubeconfig " + path + ": clusters[name=\"local\"].cluster.server is missing");
}

TEST(Kubeconfig, ReportsServerWithoutHttpScheme) {
  TempDir dir;
  const std::string path = dir.write("config", kubeconfig("    server: 10.0.0.1:6443\n", kToken));
  EXPECT_EQ(error_of(load_kubeconfig(path)),
            "kubeconfig " + path +
                ": clusters[name=\"local\"].cluster.server \"10.0.0.1:6443\" must start with "
                "https:// or http://");
}

TEST(Kubeconfig, ReportsFieldOfTheWrongType) {
  TempDir dir;
  const std::string path = dir.write("config", kubeconfig("    server: {host: x}\n", kToken));
  EXPECT_EQ(error_of(load_kubeconfig(path)),
            "kubeconfig " + path + ": clusters[name=\"local\"].cluster.server must be a string");

  const std::string path3 = dir.write("config3", "current-context: [dev]\n");
  EXPECT_EQ(error_of(load_kubeconfig(path3)),
            "kubeconfig " + path3 + ": current-context must be a string");

  const std::string path2 = dir.write(
      "config2", kubeconfig(kServer + "    insecure-skip-tls-verify: sometimes\n", kToken));
  EXPECT_EQ(error_of(load_kubeconfig(path2)),
            "kubeconfig " + path2 +
                ": clusters[name=\"local\"].cluster.insecure-skip-tls-verify must be true or "
                "false");
}

TEST(Kubeconfig, ReportsInvalidBase64NamingTheField) {
  TempDir dir;
  const std::string path =
      dir.write("config", kubeconfig(kServer, "    client-certificate-data: " + base64(kCertPem) +
                                                  "\n" + "    client-key-data: not*base64\n"));
  EXPECT_EQ(
      error_of(load_kubeconfig(path)),
      "kubeconfig " + path + ": users[name=\"admin\"].user.client-key-data is not valid base64");
}

TEST(Kubeconfig, ReportsTruncatedBase64) {
  TempDir dir;
  std::string encoded = base64(kCaPem);
  encoded.pop_back();  // no longer a whole number of 4-character groups
  const std::string path = dir.write(
      "config", kubeconfig(kServer + "    certificate-authority-data: " + encoded + "\n", kToken));
  EXPECT_EQ(
      error_of(load_kubeconfig(path)),
      "kubeconfig " + path +
          ": clusters[name=\"local\"].cluster.certificate-authority-data is not valid base64");
}

TEST(Kubeconfig, ReportsDataThatIsNotPem) {
  TempDir dir;
  const std::string path = dir.write(
      "config",
      kubeconfig(kServer + "    certificate-authority-data: " + base64(base64(kCaPem)) + "\n",
                 kToken));
  EXPECT_EQ(error_of(load_kubeconfig(path)),
            "kubeconfig " + path +
                ": clusters[name=\"local\"].cluster.certificate-authority-data does not decode to "
                "PEM (no \"-----BEGIN\" line)");
}

TEST(Kubeconfig, ReportsClientCertificateWithoutKey) {
  TempDir dir;
  const std::string path = dir.write(
      "config", kubeconfig(kServer, "    client-certificate-data: " + base64(kCertPem) + "\n"));
  EXPECT_EQ(error_of(load_kubeconfig(path)),
            "kubeconfig " + path +
                ": users[name=\"admin\"].user has client-certificate-data but neither "
                "client-key nor client-key-data");
}

TEST(Kubeconfig, ReportsUnreadableCertificateFileWithResolvedPath) {
  TempDir dir;
  dir.write("admin.key", kKeyPem);
  const std::string path = dir.write("config", kubeconfig(kServer,
                                                          "    client-certificate: missing.crt\n"
                                                          "    client-key: admin.key\n"));
  EXPECT_EQ(error_of(load_kubeconfig(path)),
            "kubeconfig " + path +
                ": cannot read users[name=\"admin\"].user.client-certificate file " +
                dir.path("missing.crt") + ": No such file or directory");
}

TEST(Kubeconfig, LoadsExecPluginWithArgsEnvAndCommandResolvedAgainstItsDirectory) {
  TempDir dir;
  const std::string path =
      dir.write("sub/config", kubeconfig(kServer,
                                         "    exec:\n"
                                         "      apiVersion: client.authentication.k8s.io/v1\n"
                                         "      command: ./bin/get-token\n"
                                         "      args: [eks, get-token, --cluster, x]\n"
                                         "      env:\n"
                                         "      - {name: AWS_PROFILE, value: prod}\n"
                                         "      - {name: EMPTY}\n"
                                         "      installHint: apt install get-token\n"
                                         "      provideClusterInfo: true\n"
                                         "      interactiveMode: Never\n"));
  auto config = load_kubeconfig(path);
  ASSERT_TRUE(config.ok()) << config.error().message;
  ASSERT_TRUE(config->exec.has_value());
  const ExecConfig& exec = *config->exec;
  EXPECT_EQ(exec.api_version, "client.authentication.k8s.io/v1");
  EXPECT_EQ(exec.command, dir.path("sub/bin/get-token"));
  EXPECT_EQ(exec.args, (std::vector<std::string>{"eks", "get-token", "--cluster", "x"}));
  EXPECT_EQ(exec.env, (std::vector<std::pair<std::string, std::string>>{{"AWS_PROFILE", "prod"},
                                                                        {"EMPTY", ""}}));
  EXPECT_EQ(exec.install_hint, "apt install get-token");
  EXPECT_TRUE(exec.provide_cluster_info);
  EXPECT_EQ(exec.interactive_mode, "Never");
  EXPECT_EQ(exec.user, "admin");
  EXPECT_TRUE(config->token.empty());
}

TEST(Kubeconfig, LooksUpBareExecCommandInPathLater) {
  TempDir dir;
  const std::string path =
      dir.write("config", kubeconfig(kServer,
                                     "    exec:\n"
                                     "      apiVersion: client.authentication.k8s.io/v1beta1\n"
                                     "      command: aws\n"));
  auto config = load_kubeconfig(path);
  ASSERT_TRUE(config.ok()) << config.error().message;
  ASSERT_TRUE(config->exec.has_value());
  EXPECT_EQ(config->exec->command, "aws");
  // v1beta1 defaults interactiveMode as client-go's SetDefaults_ExecConfig does.
  EXPECT_EQ(config->exec->interactive_mode, "IfAvailable");
}

TEST(Kubeconfig, ReportsV1ExecPluginWithoutInteractiveMode) {
  TempDir dir;
  const std::string path =
      dir.write("config", kubeconfig(kServer,
                                     "    exec:\n"
                                     "      apiVersion: client.authentication.k8s.io/v1\n"
                                     "      command: aws\n"));
  EXPECT_EQ(error_of(load_kubeconfig(path)),
            "kubeconfig " + path +
                ": users[name=\"admin\"].user.exec.interactiveMode is missing (required with "
                "client.authentication.k8s.io/v1; Never, IfAvailable or Always)");
}

TEST(Kubeconfig, ReportsInvalidExecPluginFields) {
  TempDir dir;
  const std::string user = "users[name=\"admin\"].user.exec";
  auto error = [&](const std::string& exec) {
    return error_of(
        load_kubeconfig(dir.write("config", kubeconfig(kServer, "    exec:\n" + exec))));
  };
  const std::string path = dir.path("config");
  EXPECT_EQ(error("      apiVersion: client.authentication.k8s.io/v1alpha1\n      command: x\n"),
            "kubeconfig " + path + ": " + user +
                ".apiVersion \"client.authentication.k8s.io/v1alpha1\" is not "
                "client.authentication.k8s.io/v1 or /v1beta1");
  EXPECT_EQ(error("      command: x\n      interactiveMode: Never\n"),
            "kubeconfig " + path + ": " + user + ".apiVersion is missing");
  EXPECT_EQ(error("      apiVersion: client.authentication.k8s.io/v1\n      interactiveMode: "
                  "Never\n"),
            "kubeconfig " + path + ": " + user + ".command is missing");
  EXPECT_EQ(error("      apiVersion: client.authentication.k8s.io/v1\n      command: x\n"
                  "      interactiveMode: Sometimes\n"),
            "kubeconfig " + path + ": " + user +
                ".interactiveMode \"Sometimes\" is not Never, IfAvailable or Always");
  EXPECT_EQ(error("      apiVersion: client.authentication.k8s.io/v1\n      command: x\n"
                  "      interactiveMode: Never\n      env: [{value: v}]\n"),
            "kubeconfig " + path + ": " + user + ".env[0].name is missing");
  EXPECT_EQ(error("      apiVersion: client.authentication.k8s.io/v1\n      command: x\n"
                  "      interactiveMode: Never\n      args: [[a]]\n"),
            "kubeconfig " + path + ": " + user + ".args[0] must be a string");
}

TEST(Kubeconfig, IgnoresExecPluginWhenTheUserHasAToken) {
  // client-go's exec authenticator steps aside for a token or client certificate.
  TempDir dir;
  const std::string path =
      dir.write("config", kubeconfig(kServer, kToken + "    exec:\n"
                                                       "      apiVersion: "
                                                       "client.authentication.k8s.io/v1\n"
                                                       "      command: aws\n"
                                                       "      interactiveMode: Never\n"));
  auto config = load_kubeconfig(path);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_FALSE(config->exec.has_value());
  EXPECT_EQ(config->token, "abc");
}

TEST(Kubeconfig, CarriesTheClusterExecExtensionAsJson) {
  TempDir dir;
  const std::string path = dir.write(
      "config", kubeconfig(kServer + "    extensions:\n"
                                     "    - name: other\n"
                                     "      extension: {ignored: true}\n"
                                     "    - name: client.authentication.k8s.io/exec\n"
                                     "      extension: {audience: sts, retries: 3, strict: true, "
                                     "zone: \"42\"}\n",
                           "    exec:\n"
                           "      apiVersion: client.authentication.k8s.io/v1\n"
                           "      command: aws\n"
                           "      interactiveMode: Never\n"
                           "      provideClusterInfo: true\n"));
  auto config = load_kubeconfig(path);
  ASSERT_TRUE(config.ok()) << config.error().message;
  ASSERT_TRUE(config->exec.has_value());
  EXPECT_EQ(config->exec->cluster_config_json,
            R"({"audience":"sts","retries":3,"strict":true,"zone":"42"})");
}

TEST(Kubeconfig, ReadsAnHttpProxyUrl) {
  TempDir dir;
  const std::string path = dir.write(
      "config", kubeconfig(kServer + "    proxy-url: http://user:pw@proxy:3128\n", kToken));
  auto config = load_kubeconfig(path);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->proxy_url, "http://user:pw@proxy:3128");
}

TEST(Kubeconfig, RefusesAProxyUrlTheTransportCannotSpeak) {
  TempDir dir;
  const std::string path =
      dir.write("config", kubeconfig(kServer + "    proxy-url: socks5://proxy:1080\n", kToken));
  EXPECT_EQ(error_of(load_kubeconfig(path)),
            "kubeconfig " + path +
                ": clusters[name=\"local\"].cluster.proxy-url \"socks5://proxy:1080\": a socks5:// "
                "proxy is not supported by this client's HTTP transport (cpprestsdk speaks to "
                "proxies in plain HTTP only); use an http:// proxy");
}

TEST(Kubeconfig, ReportsANameDefinedTwiceInOneFile) {
  TempDir dir;
  const std::string path = dir.write("config",
                                     "current-context: dev\n"
                                     "clusters:\n"
                                     "- {name: local, cluster: {server: 'https://a:6443'}}\n"
                                     "- {name: local, cluster: {server: 'https://b:6443'}}\n");
  EXPECT_EQ(error_of(load_kubeconfig(path)),
            "kubeconfig " + path + ": clusters[1]: duplicate name \"local\" in clusters");
}

TEST(Kubeconfig, RejectsImpersonationRatherThanIgnoringIt) {
  TempDir dir;
  const std::string path = dir.write("config", kubeconfig(kServer, kToken + "    as: root\n"));
  EXPECT_EQ(
      error_of(load_kubeconfig(path)),
      "kubeconfig " + path + ": users[name=\"admin\"].user.as: impersonation is not supported");
}

// ---- several kubeconfig files, merged by client-go's rules --------------------------------

TEST(KubeconfigMerge, FirstFileToDefineANameWinsTheWholeEntry) {
  TempDir dir;
  const std::string a = dir.write("a",
                                  "current-context: dev\n"
                                  "users:\n"
                                  "- {name: admin, user: {token: from-a}}\n");
  const std::string b = dir.write("b",
                                  "clusters:\n"
                                  "- {name: local, cluster: {server: 'https://b:6443'}}\n"
                                  "users:\n"
                                  "- {name: admin, user: {tokenFile: /b/token}}\n"
                                  "contexts:\n"
                                  "- {name: dev, context: {cluster: local, user: admin}}\n");
  auto config = load_kubeconfig_files({a, b});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->server, "https://b:6443");
  EXPECT_EQ(config->token, "from-a");
  // The later file's fields of the same user are not merged into the first one's.
  EXPECT_EQ(config->token_file, "");
  EXPECT_EQ(config->source, "kubeconfig " + a + ":" + b + ", context \"dev\"");
}

TEST(KubeconfigMerge, CurrentContextComesFromTheFirstFileThatSetsIt) {
  TempDir dir;
  const std::string entries =
      "clusters:\n"
      "- {name: one, cluster: {server: 'https://one:6443'}}\n"
      "- {name: two, cluster: {server: 'https://two:6443'}}\n"
      "contexts:\n"
      "- {name: ctx-one, context: {cluster: one}}\n"
      "- {name: ctx-two, context: {cluster: two}}\n";
  const std::string a = dir.write("a", entries);
  const std::string b = dir.write("b", "current-context: ctx-two\n");
  const std::string c = dir.write("c", "current-context: ctx-one\n");
  auto config = load_kubeconfig_files({a, b, c});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->server, "https://two:6443");

  auto picked = load_kubeconfig_files({a, b, c}, "ctx-one");
  ASSERT_TRUE(picked.ok()) << picked.error().message;
  EXPECT_EQ(picked->server, "https://one:6443");
}

TEST(KubeconfigMerge, ResolvesRelativePathsAgainstTheFileEachEntryCameFrom) {
  TempDir dir;
  dir.write("clusters/ca.crt", kCaPem);
  dir.write("users/client.crt", kCertPem);
  dir.write("users/client.key", kKeyPem);
  const std::string contexts = dir.write("contexts/config",
                                         "current-context: dev\n"
                                         "contexts:\n"
                                         "- {name: dev, context: {cluster: c, user: u}}\n");
  const std::string clusters = dir.write(
      "clusters/config",
      "clusters:\n"
      "- {name: c, cluster: {server: 'https://c:6443', certificate-authority: ca.crt}}\n");
  const std::string users = dir.write("users/config",
                                      "users:\n"
                                      "- name: u\n"
                                      "  user: {client-certificate: client.crt, client-key: "
                                      "client.key, tokenFile: token}\n");
  auto config = load_kubeconfig_files({contexts, clusters, users});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->ca_pem, kCaPem);
  EXPECT_EQ(config->client_cert_pem, kCertPem);
  EXPECT_EQ(config->client_key_pem, kKeyPem);
  EXPECT_EQ(config->token_file, dir.path("users/token"));
}

TEST(KubeconfigMerge, SkipsFilesThatDoNotExist) {
  TempDir dir;
  const std::string b = dir.write("b", kubeconfig(kServer, kToken));
  auto config = load_kubeconfig_files({dir.path("missing"), b, dir.path("also-missing")});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->server, "https://127.0.0.1:6443");
  EXPECT_EQ(config->source, "kubeconfig " + b + ", context \"dev\"");
}

TEST(KubeconfigMerge, ReportsWhenNoFileExists) {
  TempDir dir;
  EXPECT_EQ(error_of(load_kubeconfig_files({dir.path("x"), dir.path("y")})),
            "no kubeconfig file exists: " + dir.path("x") + ", " + dir.path("y"));
}

TEST(KubeconfigMerge, AFileThatCannotBeParsedIsAnErrorEvenAfterAGoodOne) {
  TempDir dir;
  const std::string a = dir.write("a", kubeconfig(kServer, kToken));
  const std::string b = dir.write("b", "clusters: [\n");
  const std::string message = error_of(load_kubeconfig_files({a, b}));
  EXPECT_TRUE(message.starts_with("kubeconfig " + b + ": invalid YAML at line")) << message;
}

TEST(KubeconfigMerge, AnEmptyFileContributesNothing) {
  TempDir dir;
  const std::string a = dir.write("a", "");
  const std::string b = dir.write("b", kubeconfig(kServer, kToken));
  auto config = load_kubeconfig_files({a, b});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->token, "abc");
  EXPECT_EQ(error_of(load_kubeconfig_files({a})), "kubeconfig " + a + ": the file is empty");
}

TEST(KubeconfigMerge, NamesEveryFileWhenTheContextIsMissing) {
  TempDir dir;
  const std::string a = dir.write("a", kubeconfig(kServer, kToken));
  const std::string b = dir.write("b", "current-context: other\n");
  EXPECT_EQ(error_of(load_kubeconfig_files({a, b}, "prod")),
            "kubeconfig " + a + ":" + b + ": context \"prod\" not found in contexts");
}

TEST(KubeconfigMerge, ReportsAnEntryNamingTheFileItCameFrom) {
  TempDir dir;
  const std::string a = dir.write("a",
                                  "current-context: dev\n"
                                  "contexts:\n"
                                  "- {name: dev, context: {cluster: local}}\n");
  const std::string b = dir.write("b",
                                  "clusters:\n"
                                  "- {name: local, cluster: {server: 'ftp://x'}}\n");
  EXPECT_EQ(error_of(load_kubeconfig_files({a, b})),
            "kubeconfig " + b +
                ": clusters[name=\"local\"].cluster.server \"ftp://x\" must start with https:// "
                "or http://");
}

TEST(KubeconfigMerge, SplitsTheVariableDroppingEmptyAndRepeatedPaths) {
  EXPECT_EQ(split_kubeconfig_paths(":/a::/b:/a:"), (std::vector<std::string>{"/a", "/b"}));
  EXPECT_EQ(split_kubeconfig_paths(""), std::vector<std::string>{});
}

// ---- in-cluster -------------------------------------------------------------------------

struct ServiceAccountDir {
  TempDir dir;
  ServiceAccountDir(bool with_namespace = true) {
    dir.write("token", "sa-token\n");
    dir.write("ca.crt", kCaPem);
    if (with_namespace) dir.write("namespace", "tracing-system");
  }
};

TEST(InCluster, BuildsConfigFromServiceEnvironmentAndAccountFiles) {
  ServiceAccountDir sa;
  ScopedEnv host("KUBERNETES_SERVICE_HOST", "10.96.0.1");
  ScopedEnv port("KUBERNETES_SERVICE_PORT", "443");
  ScopedEnv ns("POD_NAMESPACE", std::nullopt);
  auto config = in_cluster_config(sa.dir.path());
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->server, "https://10.96.0.1:443");
  EXPECT_EQ(config->ca_pem, kCaPem);
  EXPECT_EQ(config->token_file, sa.dir.path("token"));
  EXPECT_EQ(config->token, "");
  EXPECT_EQ(config->ns, "tracing-system");
  EXPECT_EQ(config->source, "in-cluster");
}

TEST(InCluster, BracketsIpv6ServiceHost) {
  ServiceAccountDir sa;
  ScopedEnv host("KUBERNETES_SERVICE_HOST", "fd00:10:96::1");
  ScopedEnv port("KUBERNETES_SERVICE_PORT", "443");
  auto config = in_cluster_config(sa.dir.path());
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->server, "https://[fd00:10:96::1]:443");
}

TEST(InCluster, PrefersPodNamespaceVariableOverNamespaceFile) {
  ServiceAccountDir sa;
  ScopedEnv host("KUBERNETES_SERVICE_HOST", "10.96.0.1");
  ScopedEnv port("KUBERNETES_SERVICE_PORT", "443");
  ScopedEnv ns("POD_NAMESPACE", "from-env");
  auto config = in_cluster_config(sa.dir.path());
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->ns, "from-env");
}

TEST(InCluster, DefaultsNamespaceWithoutVariableOrFile) {
  ServiceAccountDir sa(/*with_namespace=*/false);
  ScopedEnv host("KUBERNETES_SERVICE_HOST", "10.96.0.1");
  ScopedEnv port("KUBERNETES_SERVICE_PORT", "443");
  ScopedEnv ns("POD_NAMESPACE", std::nullopt);
  auto config = in_cluster_config(sa.dir.path());
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->ns, "default");
}

TEST(InCluster, ReportsUnsetServiceHostAndPort) {
  ServiceAccountDir sa;
  {
    ScopedEnv host("KUBERNETES_SERVICE_HOST", std::nullopt);
    ScopedEnv port("KUBERNETES_SERVICE_PORT", "443");
    EXPECT_EQ(error_of(in_cluster_config(sa.dir.path())),
              "in-cluster config: environment variable KUBERNETES_SERVICE_HOST is not set");
  }
  {
    ScopedEnv host("KUBERNETES_SERVICE_HOST", "10.96.0.1");
    ScopedEnv port("KUBERNETES_SERVICE_PORT", std::nullopt);
    EXPECT_EQ(error_of(in_cluster_config(sa.dir.path())),
              "in-cluster config: environment variable KUBERNETES_SERVICE_PORT is not set");
  }
  {
    ScopedEnv host("KUBERNETES_SERVICE_HOST", "10.96.0.1");
    ScopedEnv port("KUBERNETES_SERVICE_PORT", "https");
    EXPECT_EQ(error_of(in_cluster_config(sa.dir.path())),
              "in-cluster config: environment variable KUBERNETES_SERVICE_PORT=\"https\" is not "
              "a port number");
  }
}

TEST(InCluster, ReportsMissingTokenAndCaFiles) {
  ScopedEnv host("KUBERNETES_SERVICE_HOST", "10.96.0.1");
  ScopedEnv port("KUBERNETES_SERVICE_PORT", "443");
  TempDir dir;
  EXPECT_EQ(error_of(in_cluster_config(dir.path())),
            "in-cluster config: cannot read service account token " + dir.path("token") +
                ": No such file or directory");
  dir.write("token", "t");
  EXPECT_EQ(error_of(in_cluster_config(dir.path())),
            "in-cluster config: cannot read service account CA " + dir.path("ca.crt") +
                ": No such file or directory");
}

// ---- resolution order -------------------------------------------------------------------

TEST(LoadConfig, ExplicitPathWinsOverEverything) {
  ServiceAccountDir sa;
  TempDir dir;
  const std::string flag = dir.write("flag", kubeconfig("    server: https://flag:6443\n", kToken));
  const std::string env = dir.write("env", kubeconfig("    server: https://env:6443\n", kToken));
  ScopedEnv host("KUBERNETES_SERVICE_HOST", "10.96.0.1");
  ScopedEnv port("KUBERNETES_SERVICE_PORT", "443");
  ScopedEnv kubeconfig_env("KUBECONFIG", env);
  auto config = load_config(flag, sa.dir.path());
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->server, "https://flag:6443");
}

TEST(LoadConfig, UsesInClusterWhenServiceHostIsSetAndTokenExists) {
  ServiceAccountDir sa;
  TempDir dir;
  const std::string env = dir.write("env", kubeconfig("    server: https://env:6443\n", kToken));
  ScopedEnv host("KUBERNETES_SERVICE_HOST", "10.96.0.1");
  ScopedEnv port("KUBERNETES_SERVICE_PORT", "443");
  ScopedEnv kubeconfig_env("KUBECONFIG", env);
  auto config = load_config("", sa.dir.path());
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->source, "in-cluster");
}

TEST(LoadConfig, FallsBackToKubeconfigVariableWithoutServiceAccountToken) {
  TempDir empty_sa;
  TempDir dir;
  const std::string env = dir.write("env", kubeconfig("    server: https://env:6443\n", kToken));
  ScopedEnv host("KUBERNETES_SERVICE_HOST", "10.96.0.1");
  ScopedEnv kubeconfig_env("KUBECONFIG", env);
  auto config = load_config("", empty_sa.path());
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->server, "https://env:6443");
}

TEST(LoadConfig, MergesEveryPathOfKubeconfigList) {
  TempDir dir;
  const std::string first = dir.write("a", kubeconfig("    server: https://a:6443\n", kToken));
  const std::string second =
      dir.write("b",
                "clusters:\n"
                "- {name: other, cluster: {server: 'https://b:6443'}}\n"
                "contexts:\n"
                "- {name: b-ctx, context: {cluster: other, user: admin, namespace: from-b}}\n");
  ScopedEnv host("KUBERNETES_SERVICE_HOST", std::nullopt);
  ScopedEnv kubeconfig_env("KUBECONFIG", ":" + first + ":" + dir.path("missing") + ":" + second);
  auto config = load_config("", dir.path());
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->server, "https://a:6443");

  // A context of the second file, with the first file's user.
  auto b = load_config("", dir.path(), "b-ctx");
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->server, "https://b:6443");
  EXPECT_EQ(b->token, "abc");
  EXPECT_EQ(b->ns, "from-b");
}

TEST(LoadConfig, ContextAppliesToTheExplicitPath) {
  TempDir dir;
  const std::string flag =
      dir.write("flag", kubeconfig("    server: https://flag:6443\n", kToken,
                                   "- name: other\n"
                                   "  context: {cluster: local, namespace: o}\n"));
  auto config = load_config(flag, dir.path(), "other");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->ns, "o");
  EXPECT_EQ(config->token, "");  // the context names no user
  EXPECT_EQ(error_of(load_config(flag, dir.path(), "nope")),
            "kubeconfig " + flag + ": context \"nope\" not found in contexts");
}

TEST(LoadConfig, AContextSkipsInClusterConfig) {
  ServiceAccountDir sa;
  TempDir dir;
  const std::string env = dir.write("env", kubeconfig("    server: https://env:6443\n", kToken));
  ScopedEnv host("KUBERNETES_SERVICE_HOST", "10.96.0.1");
  ScopedEnv port("KUBERNETES_SERVICE_PORT", "443");
  ScopedEnv kubeconfig_env("KUBECONFIG", env);
  auto config = load_config("", sa.dir.path(), "dev");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->server, "https://env:6443");
}

TEST(LoadConfig, FallsBackToHomeKubeConfig) {
  TempDir home;
  home.write(".kube/config", kubeconfig("    server: https://home:6443\n", kToken));
  ScopedEnv host("KUBERNETES_SERVICE_HOST", std::nullopt);
  ScopedEnv kubeconfig_env("KUBECONFIG", std::nullopt);
  ScopedEnv home_env("HOME", home.path());
  auto config = load_config("", home.path());
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->server, "https://home:6443");
  EXPECT_EQ(config->source, "kubeconfig " + home.path(".kube/config") + ", context \"dev\"");
}

TEST(LoadConfig, ExplainsEachSourceTriedWhenNoneIsFound) {
  TempDir home;
  ScopedEnv host("KUBERNETES_SERVICE_HOST", "10.96.0.1");
  ScopedEnv kubeconfig_env("KUBECONFIG", std::nullopt);
  ScopedEnv home_env("HOME", home.path());
  EXPECT_EQ(error_of(load_config("", home.path())),
            "no cluster configuration found: no kubeconfig flag, not in a cluster "
            "(KUBERNETES_SERVICE_HOST is set but " +
                home.path("token") + " does not exist), KUBECONFIG is not set, and " +
                home.path(".kube/config") + " does not exist");
}

// ---- TokenSource ------------------------------------------------------------------------

// A clock the test moves by hand.
struct FakeClock {
  std::chrono::steady_clock::time_point t{std::chrono::hours(1)};
  std::function<std::chrono::steady_clock::time_point()> fn() {
    return [this] { return t; };
  }
};

std::string token_of(TokenSource& source) {
  auto t = source.token();
  return t.ok() ? *t : "<error: " + t.error().message + ">";
}

TEST(TokenSource, ReturnsStaticTokenWithoutFile) {
  TokenSource source("static", "");
  EXPECT_FALSE(source.empty());
  EXPECT_EQ(token_of(source), "static");
}

TEST(TokenSource, IsEmptyWithNeitherTokenNorFile) {
  TokenSource source("", "");
  EXPECT_TRUE(source.empty());
  EXPECT_EQ(token_of(source), "");
}

TEST(TokenSource, TrimsTrailingNewlineFromFile) {
  TempDir dir;
  const std::string file = dir.write("token", "  eyJhbGciOi.token\n");
  TokenSource source("", file);
  EXPECT_FALSE(source.empty());
  EXPECT_EQ(token_of(source), "eyJhbGciOi.token");
}

TEST(TokenSource, FileWinsOverStaticToken) {
  TempDir dir;
  const std::string file = dir.write("token", "from-file\n");
  TokenSource source("static", file);
  EXPECT_EQ(token_of(source), "from-file");
}

TEST(TokenSource, RereadsFileOnlyOnceSixtySecondsOld) {
  TempDir dir;
  const std::string file = dir.write("token", "first\n");
  FakeClock clock;
  TokenSource source("", file, clock.fn());
  EXPECT_EQ(token_of(source), "first");

  dir.write("token", "second\n");  // the kubelet rotates the token
  clock.t += seconds(59);
  EXPECT_EQ(token_of(source), "first");
  clock.t += seconds(1);
  EXPECT_EQ(token_of(source), "second");

  dir.write("token", "third\n");
  clock.t += seconds(59);  // the minute counts from the last read, not the first
  EXPECT_EQ(token_of(source), "second");
  clock.t += seconds(1);
  EXPECT_EQ(token_of(source), "third");
}

TEST(TokenSource, InvalidateForcesRereadBeforeSixtySeconds) {
  TempDir dir;
  const std::string file = dir.write("token", "old\n");
  FakeClock clock;
  TokenSource source("", file, clock.fn());
  EXPECT_EQ(token_of(source), "old");
  dir.write("token", "new\n");
  clock.t += seconds(1);
  EXPECT_EQ(token_of(source), "old");
  source.invalidate();  // the API server answered 401
  EXPECT_EQ(token_of(source), "new");
}

TEST(TokenSource, KeepsCachedTokenWhenPeriodicRereadFails) {
  TempDir dir;
  const std::string file = dir.write("token", "cached\n");
  FakeClock clock;
  TokenSource source("", file, clock.fn());
  EXPECT_EQ(token_of(source), "cached");
  fs::remove(file);
  clock.t += seconds(120);
  EXPECT_EQ(token_of(source), "cached");
  dir.write("token", "back\n");  // a failed re-read does not restart the minute
  EXPECT_EQ(token_of(source), "back");
}

TEST(TokenSource, ReportsUnreadableFileWhenNothingIsCached) {
  TempDir dir;
  const std::string file = dir.write("token", "cached\n");
  TokenSource source("", file);
  EXPECT_EQ(token_of(source), "cached");
  fs::remove(file);
  source.invalidate();
  auto token = source.token();
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.error().message,
            "cannot read token file " + file + ": No such file or directory");

  dir.write("token", "\n");
  EXPECT_EQ(token_of(source), "<error: token file " + file + " is empty>");
}

TEST(TokenSource, ServesConcurrentCallersWhileInvalidated) {
  TempDir dir;
  const std::string file = dir.write("token", "shared\n");
  TokenSource source("", file);
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 200; ++j) {
        if (j % 10 == 0) source.invalidate();
        auto t = source.token();
        if (!t.ok() || *t != "shared") ++wrong;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace tracing::kube
