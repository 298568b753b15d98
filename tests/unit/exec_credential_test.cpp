#include "operator/kube/exec_credential.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "operator/kube/system_trust.h"

namespace tracing::kube {
namespace {

using namespace std::chrono_literals;

ExecConfig v1_plugin() {
  ExecConfig e;
  e.api_version = "client.authentication.k8s.io/v1";
  e.command = "get-token";
  e.args = {"--cluster", "dev"};
  e.interactive_mode = "Never";
  e.user = "admin";
  return e;
}

ClusterConfig cluster() {
  ClusterConfig c;
  c.server = "https://127.0.0.1:6443";
  c.ca_pem = "CA";
  c.tls_server_name = "kubernetes";
  return c;
}

const std::string kTokenCredential =
    R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",)"
    R"("status":{"token":"t-1","expirationTimestamp":"2026-11-30T12:00:00Z"}})";

std::string error_of(const Result<ExecCredential>& r) {
  return r.ok() ? "<parsed>" : r.error().message;
}

// ---- KUBERNETES_EXEC_INFO and interactive mode ------------------------------------------

TEST(ExecInfo, IsTheSpecClientGoEncodes) {
  EXPECT_EQ(exec_info(v1_plugin(), cluster(), false),
            R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1",)"
            R"("spec":{"interactive":false}})"
            "\n");
}

TEST(ExecInfo, CarriesTheClusterWhenAsked) {
  ExecConfig e = v1_plugin();
  e.api_version = "client.authentication.k8s.io/v1beta1";
  e.provide_cluster_info = true;
  e.cluster_config_json = R"({"audience":"sts"})";
  EXPECT_EQ(
      exec_info(e, cluster(), true),
      R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1",)"
      R"("spec":{"cluster":{"server":"https://127.0.0.1:6443","tls-server-name":"kubernetes",)"
      R"("certificate-authority-data":"Q0E=","config":{"audience":"sts"}},"interactive":true}})"
      "\n");
}

TEST(ExecInteractive, FollowsClientGoWithAndWithoutATerminal) {
  ExecConfig e = v1_plugin();
  e.interactive_mode = "Never";
  EXPECT_FALSE(*exec_interactive(e, true));
  EXPECT_FALSE(*exec_interactive(e, false));
  e.interactive_mode = "IfAvailable";
  EXPECT_TRUE(*exec_interactive(e, true));
  EXPECT_FALSE(*exec_interactive(e, false));
  e.interactive_mode = "Always";
  EXPECT_TRUE(*exec_interactive(e, true));
  auto no_terminal = exec_interactive(e, false);
  ASSERT_FALSE(no_terminal.ok());
  EXPECT_EQ(no_terminal.error().message,
            "exec plugin get-token (user \"admin\"): cannot support interactive mode: standard "
            "input is not a terminal (interactiveMode: Always)");
}

// ---- the plugin's output -----------------------------------------------------------------

TEST(ExecCredentialOutput, ParsesTokenAndExpiry) {
  auto c = parse_exec_credential(kTokenCredential, v1_plugin());
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->token, "t-1");
  ASSERT_TRUE(c->expires_at.has_value());
  EXPECT_EQ(std::chrono::system_clock::to_time_t(*c->expires_at), 1796040000);
}

TEST(ExecCredentialOutput, ParsesExpiryWithFractionAndOffset) {
  auto c = parse_exec_credential(
      R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",)"
      R"("status":{"token":"t","expirationTimestamp":"2026-11-30T13:30:00.5+01:30"}})",
      v1_plugin());
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(*c->expires_at, std::chrono::system_clock::from_time_t(1796040000) + 500ms);
}

TEST(ExecCredentialOutput, ParsesClientCertificateAndKeyWithoutExpiry) {
  auto c = parse_exec_credential(
      R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{)"
      R"("clientCertificateData":"-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n",)"
      R"("clientKeyData":"-----BEGIN PRIVATE KEY-----\ny\n-----END PRIVATE KEY-----\n"}})",
      v1_plugin());
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->token, "");
  EXPECT_NE(c->client_cert_pem.find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_NE(c->client_key_pem.find("BEGIN PRIVATE KEY"), std::string::npos);
  EXPECT_FALSE(c->expires_at.has_value());
}

TEST(ExecCredentialOutput, ReportsMalformedOutputAsClientGoDoes) {
  const std::string who = "exec plugin get-token (user \"admin\"): ";
  const ExecConfig e = v1_plugin();
  EXPECT_EQ(error_of(parse_exec_credential("token please", e)),
            who + "decoding stdout: not a JSON object: printed \"token please\"");
  EXPECT_EQ(error_of(parse_exec_credential("", e)),
            who + "decoding stdout: not a JSON object: printed nothing");
  EXPECT_EQ(
      error_of(parse_exec_credential(R"({"kind":"ExecCredential","status":{"token":"t"}})", e)),
      who + "decoding stdout: Object 'apiVersion' is missing");
  EXPECT_EQ(error_of(parse_exec_credential(
                R"({"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential",)"
                R"("status":{"token":"t"}})",
                e)),
            who +
                "exec plugin is configured to use API version client.authentication.k8s.io/v1, "
                "plugin returned version client.authentication.k8s.io/v1beta1");
  EXPECT_EQ(error_of(parse_exec_credential(
                R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential"})", e)),
            who + "exec plugin didn't return a status field");
  EXPECT_EQ(error_of(parse_exec_credential(
                R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",)"
                R"("status":{}})",
                e)),
            who + "exec plugin didn't return a token or cert/key pair");
  EXPECT_EQ(error_of(parse_exec_credential(
                R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",)"
                R"("status":{"clientKeyData":"-----BEGIN PRIVATE KEY-----"}})",
                e)),
            who + "exec plugin returned only certificate or key, not both");
  EXPECT_EQ(
      error_of(parse_exec_credential(
          R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",)"
          R"("status":{"token":"t","expirationTimestamp":"tomorrow"}})",
          e)),
      who + "decoding stdout: status.expirationTimestamp \"tomorrow\" is not an RFC 3339 time");
}

// ---- running it ---------------------------------------------------------------------------

TEST(RunProcess, PassesArgsAndExactlyTheGivenEnvironmentAndCollectsStdout) {
  auto out = run_process(
      "sh", {"-c", "printf '%s|%s|%s' \"$1\" \"$GREETING\" \"${HOME-unset}\"", "sh", "arg one"},
      {"PATH=/usr/bin:/bin", "GREETING=hello"}, false);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->exit_code, 0);
  EXPECT_EQ(out->stdout_text, "arg one|hello|unset");
}

TEST(RunProcess, GivesANonInteractivePluginNoStandardInput) {
  auto out = run_process("sh", {"-c", "cat; echo end"}, {"PATH=/usr/bin:/bin"}, false);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->stdout_text, "end\n");
}

TEST(RunProcess, ReportsExitCodeSignalAndMissingCommand) {
  auto failed = run_process("sh", {"-c", "exit 3"}, {}, false);
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->exit_code, 3);
  auto killed = run_process("sh", {"-c", "kill -9 $$"}, {}, false);
  ASSERT_TRUE(killed.ok());
  EXPECT_EQ(killed->exit_code, -1);
  EXPECT_EQ(killed->signal, 9);
  auto missing = run_process("no-such-plugin-anywhere", {}, {}, false);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "not found");
}

// skip_unused_system_bundle points SSL_CERT_FILE at nothing only when the cluster's CA is
// configured (or verification is off); a plugin inherits the environment as it was before.
TEST(SystemBundle, IsSkippedOnlyWhenUnusedAndAPluginInheritsTheUsersSetting) {
  const char* before = std::getenv("SSL_CERT_FILE");
  const std::optional<std::string> saved =
      before ? std::optional<std::string>(before) : std::nullopt;
  auto plugin_sees = [] {
    auto out = run_process("sh", {"-c", "printf '%s' \"${SSL_CERT_FILE-unset}\""},
                           inherited_environment(), false);
    return out.ok() ? out->stdout_text : "run failed: " + out.error().message;
  };
  unsetenv("SSL_CERT_FILE");

  ClusterConfig system_trust = cluster();
  system_trust.ca_pem.clear();
  EXPECT_FALSE(skip_unused_system_bundle(system_trust));
  EXPECT_EQ(std::getenv("SSL_CERT_FILE"), nullptr);

  ASSERT_TRUE(skip_unused_system_bundle(cluster()));
  ASSERT_NE(std::getenv("SSL_CERT_FILE"), nullptr);
  EXPECT_STREQ(std::getenv("SSL_CERT_FILE"), "/nonexistent/tracing-operator-trusts-the-cluster-ca");
  EXPECT_EQ(plugin_sees(), "unset");

  // Verification off: nothing is trusted, so the bundle is skipped too.
  ClusterConfig unverified = system_trust;
  unverified.insecure_skip_tls_verify = true;
  EXPECT_TRUE(skip_unused_system_bundle(unverified));
  EXPECT_EQ(plugin_sees(), "unset");

  // The user's own setting is overridden for the transport and handed to plugins as it was.
  setenv("SSL_CERT_FILE", "/etc/ssl/mine.pem", 1);
  ASSERT_TRUE(skip_unused_system_bundle(cluster()));
  EXPECT_STREQ(std::getenv("SSL_CERT_FILE"), "/nonexistent/tracing-operator-trusts-the-cluster-ca");
  EXPECT_EQ(plugin_sees(), "/etc/ssl/mine.pem");
  EXPECT_FALSE(skip_unused_system_bundle(system_trust));
  EXPECT_EQ(plugin_sees(), "/etc/ssl/mine.pem");

  if (saved) {
    setenv("SSL_CERT_FILE", saved->c_str(), 1);
  } else {
    unsetenv("SSL_CERT_FILE");
  }
}

// A runner that records each run and answers from a script.
struct FakePlugin {
  std::vector<std::string> outputs;  // one per run; the last repeats
  int exit_code = 0;
  std::vector<std::vector<std::string>> envs;
  std::vector<bool> interactive;
  bool missing = false;
  ProcessRunner runner() {
    return [this](const std::string&, const std::vector<std::string>&,
                  const std::vector<std::string>& env, bool inter) -> Result<ProcessOutput> {
      if (missing) return ApiError{0, "ExecPluginFailed", "not found", {}, std::nullopt};
      envs.push_back(env);
      interactive.push_back(inter);
      ProcessOutput out;
      out.exit_code = exit_code;
      out.stdout_text = outputs[std::min(envs.size(), outputs.size()) - 1];
      return out;
    };
  }
};

std::string token_credential(const std::string& token, const std::string& expiry = "") {
  return R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":")" +
         token + "\"" + (expiry.empty() ? "" : R"(,"expirationTimestamp":")" + expiry + "\"") +
         "}}";
}

struct Clock {
  std::chrono::system_clock::time_point t = std::chrono::system_clock::from_time_t(1796040000);
};

ExecCredentialSource::Options options(FakePlugin& plugin, Clock& clock, bool terminal = false) {
  ExecCredentialSource::Options o;
  o.run = plugin.runner();
  o.now = [&clock] { return clock.t; };
  o.stdin_is_terminal = [terminal] { return terminal; };
  o.environ = [] { return std::vector<std::string>{"PATH=/bin", "AWS_PROFILE=default"}; };
  return o;
}

TEST(ExecCredentialSource, KeepsTheCredentialUntilItExpires) {
  FakePlugin plugin{{token_credential("t-1", "2026-11-30T12:05:00Z"),
                     token_credential("t-2", "2026-11-30T12:10:00Z")}};
  Clock clock;  // 12:00:00
  ExecCredentialSource source(v1_plugin(), cluster(), options(plugin, clock));
  EXPECT_EQ((*source.get())->token, "t-1");
  clock.t += 4min + 59s;
  EXPECT_EQ((*source.get())->token, "t-1");
  EXPECT_EQ(source.runs(), 1);
  clock.t += 2s;  // past 12:05:00
  EXPECT_EQ((*source.get())->token, "t-2");
  EXPECT_EQ(source.runs(), 2);
}

TEST(ExecCredentialSource, KeepsACredentialWithoutExpiryUntilInvalidated) {
  FakePlugin plugin{{token_credential("t-1"), token_credential("t-2")}};
  Clock clock;
  ExecCredentialSource source(v1_plugin(), cluster(), options(plugin, clock));
  auto first = *source.get();
  clock.t += std::chrono::hours(24 * 365);
  EXPECT_EQ(*source.get(), first);
  source.invalidate(first);  // a 401 answered a request sent with it
  EXPECT_EQ((*source.get())->token, "t-2");
}

TEST(ExecCredentialSource, RunsOnceForSeveralRequestsRefusedWithTheSameCredential) {
  FakePlugin plugin{{token_credential("t-1"), token_credential("t-2"), token_credential("t-3")}};
  Clock clock;
  ExecCredentialSource source(v1_plugin(), cluster(), options(plugin, clock));
  auto stale = *source.get();
  source.invalidate(stale);
  auto fresh = *source.get();
  EXPECT_EQ(fresh->token, "t-2");
  source.invalidate(stale);  // a second 401 for the old credential: already replaced
  EXPECT_EQ(*source.get(), fresh);
  EXPECT_EQ(source.runs(), 2);
}

TEST(ExecCredentialSource, HandsThePluginItsEnvironmentAndExecInfo) {
  FakePlugin plugin{{token_credential("t")}};
  Clock clock;
  ExecConfig e = v1_plugin();
  e.env = {{"AWS_PROFILE", "prod"}, {"EXTRA", "1"}};
  ExecCredentialSource source(e, cluster(), options(plugin, clock));
  ASSERT_TRUE(source.get().ok());
  ASSERT_EQ(plugin.envs.size(), 1u);
  EXPECT_EQ(plugin.envs[0],
            (std::vector<std::string>{
                "PATH=/bin", "AWS_PROFILE=prod", "EXTRA=1",
                "KUBERNETES_EXEC_INFO=" + exec_info(e, cluster(), /*interactive=*/false)}));
  EXPECT_EQ(plugin.interactive, std::vector<bool>{false});
}

TEST(ExecCredentialSource, NeverModeGetsNoTerminalEvenWhenThereIsOne) {
  FakePlugin plugin{{token_credential("t")}};
  Clock clock;
  ExecCredentialSource never(v1_plugin(), cluster(), options(plugin, clock, /*terminal=*/true));
  ASSERT_TRUE(never.get().ok());
  ExecConfig e = v1_plugin();
  e.interactive_mode = "IfAvailable";
  ExecCredentialSource if_available(e, cluster(), options(plugin, clock, /*terminal=*/true));
  ASSERT_TRUE(if_available.get().ok());
  EXPECT_EQ(plugin.interactive, (std::vector<bool>{false, true}));
  EXPECT_NE(plugin.envs[1].back().find(R"("interactive":true)"), std::string::npos);
}

TEST(ExecCredentialSource, AlwaysModeWithoutATerminalDoesNotRunThePlugin) {
  FakePlugin plugin{{token_credential("t")}};
  Clock clock;
  ExecConfig e = v1_plugin();
  e.interactive_mode = "Always";
  ExecCredentialSource source(e, cluster(), options(plugin, clock, /*terminal=*/false));
  auto r = source.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "ExecPluginFailed");
  EXPECT_EQ(source.runs(), 0);
}

TEST(ExecCredentialSource, ReportsAMissingCommandWithItsInstallHint) {
  FakePlugin plugin{{}};
  plugin.missing = true;
  Clock clock;
  ExecConfig e = v1_plugin();
  e.install_hint = "Install get-token with: apt install get-token";
  ExecCredentialSource source(e, cluster(), options(plugin, clock));
  auto r = source.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            "exec plugin get-token (user \"admin\"): executable get-token not found\n\n"
            "It looks like you are trying to use a client-go credential plugin that is not "
            "installed.\n\nTo learn more about this feature, consult the documentation available "
            "at:\n      https://kubernetes.io/docs/reference/access-authn-authz/authentication/"
            "#client-go-credential-plugins\n\nInstall get-token with: apt install get-token");
}

TEST(ExecCredentialSource, ReportsANonZeroExitAndCachesNothing) {
  FakePlugin plugin{{token_credential("t")}};
  plugin.exit_code = 2;
  Clock clock;
  ExecCredentialSource source(v1_plugin(), cluster(), options(plugin, clock));
  auto r = source.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            "exec plugin get-token (user \"admin\"): executable get-token failed with exit code 2");
  plugin.exit_code = 0;
  EXPECT_EQ((*source.get())->token, "t");
  EXPECT_EQ(source.runs(), 2);
}

}  // namespace
}  // namespace tracing::kube
