// Exec credential plugins (client.authentication.k8s.io/v1 and v1beta1), run as client-go's
// exec authenticator (k8s.io/client-go/plugin/pkg/client/auth/exec) runs them:
// - the command with its args, the process's environment plus the config's env, and
//   KUBERNETES_EXEC_INFO holding an ExecCredential with spec.interactive (and spec.cluster when
//   provideClusterInfo is set);
// - interactiveMode: Never gives the plugin no standard input; IfAvailable gives it the terminal
//   when standard input is one, else none; Always without a terminal is an error, the plugin
//   is not run;
// - standard input, when not given, is /dev/null; standard error is the process's own;
// - the plugin's stdout must be an ExecCredential of the configured apiVersion with a token or a
//   client certificate and key (both);
// - the credential is kept until its status.expirationTimestamp (forever without one), and run
//   again after the API server answers 401 to a request sent with it.
// Unlike client-go, the plugin has no allowlist (pluginPolicy is not read).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operator/kube/config.h"
#include "operator/kube/error.h"

namespace tracing::kube {

// What a plugin returned.
struct ExecCredential {
  std::string token;            // may be empty when a certificate is returned
  std::string client_cert_pem;  // both set or both empty
  std::string client_key_pem;
  std::optional<std::chrono::system_clock::time_point> expires_at;  // none: never expires
};

// The KUBERNETES_EXEC_INFO value for one run (JSON, as client-go encodes it).
std::string exec_info(const ExecConfig& exec, const ClusterConfig& cluster, bool interactive);

// Whether the plugin gets standard input, by client-go's isInteractive; an error for "Always"
// when standard input is not a terminal.
Result<bool> exec_interactive(const ExecConfig& exec, bool stdin_is_terminal);

// Parses and checks a plugin's standard output.
Result<ExecCredential> parse_exec_credential(std::string_view stdout_text, const ExecConfig& exec);

struct ProcessOutput {
  int exit_code = 0;  // -1 when killed by a signal
  int signal = 0;     // the signal, when killed by one
  std::string stdout_text;
};

// Runs `command` (looked up in $PATH when it has no '/') with `args` and exactly `env`. With
// `interactive` the child shares this process's standard input, else reads /dev/null; its
// standard error is this process's. Fails (reason "ExecPluginFailed") when it cannot be started;
// an exit status is a value.
using ProcessRunner = std::function<Result<ProcessOutput>(
    const std::string& command, const std::vector<std::string>& args,
    const std::vector<std::string>& env, bool interactive)>;
Result<ProcessOutput> run_process(const std::string& command, const std::vector<std::string>& args,
                                  const std::vector<std::string>& env, bool interactive);

// The credential of one exec plugin, cached. Thread-safe; a run happens under the lock, so
// concurrent callers share one run.
class ExecCredentialSource {
 public:
  struct Options {
    ProcessRunner run = run_process;
    std::function<std::chrono::system_clock::time_point()> now = std::chrono::system_clock::now;
    std::function<bool()> stdin_is_terminal;            // default: isatty(0)
    std::function<std::vector<std::string>()> environ;  // default: inherited_environment()
  };

  // `cluster` is what provideClusterInfo hands the plugin.
  ExecCredentialSource(ExecConfig exec, const ClusterConfig& cluster, Options options);
  ExecCredentialSource(ExecConfig exec, const ClusterConfig& cluster)
      : ExecCredentialSource(std::move(exec), cluster, Options{}) {}

  // The cached credential while it has not expired, else the plugin's next one. Errors
  // (reason "ExecPluginFailed") say which plugin failed and how.
  Result<std::shared_ptr<const ExecCredential>> get();
  // The API server answered 401 to a request sent with `used`: unless the plugin has run again
  // since, the next get() runs it.
  void invalidate(const std::shared_ptr<const ExecCredential>& used);
  // How many times the plugin ran (for logs and tests).
  int runs() const;

 private:
  Result<std::shared_ptr<const ExecCredential>> run_locked();

  const ExecConfig exec_;
  const ClusterConfig cluster_;
  Options options_;

  mutable std::mutex mu_;
  std::shared_ptr<const ExecCredential> cached_;  // guarded by mu_
  int runs_ = 0;                                  // guarded by mu_
};

}  // namespace tracing::kube
