// Where the API server is and how to authenticate to it: kubeconfig files (several merged as
// kubectl merges $KUBECONFIG), the in-cluster service account, and the bearer token that rotates
// underneath a running process.
//
// Everything here is pure parsing plus file reads; no network. Every loader returns a complete
// ClusterConfig or an ApiError{code 0, reason "InvalidConfig"} whose message names the file and
// the field at fault (`kubeconfig /x/config: clusters[name="local"].cluster.server is missing`),
// so a misconfigured operator says what to fix on its first log line.
//
// Certificates, keys and CA bundles are read when the config is loaded and carried as PEM text.
// Bearer tokens from a file are not: a kubelet-projected service-account token rotates, so only
// its path is recorded and TokenSource re-reads it.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "operator/kube/error.h"

namespace tracing::kube {

inline constexpr const char* kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

// A kubeconfig user's `exec` credential plugin (client-go's ExecConfig), validated as client-go
// validates it. Run by ExecCredentialSource (exec_credential.h).
struct ExecConfig {
  std::string api_version;  // client.authentication.k8s.io/v1 or /v1beta1
  // As written, except that a path containing '/' is made absolute against the kubeconfig's
  // directory (client-go's ResolveLocalPaths); a bare name is looked up in $PATH when run.
  std::string command;
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;  // added to the process's environment
  std::string install_hint;
  bool provide_cluster_info = false;
  // "Never", "IfAvailable" or "Always"; v1beta1 defaults to "IfAvailable", v1 requires it.
  std::string interactive_mode;
  // The cluster's `extensions[name="client.authentication.k8s.io/exec"].extension`, as JSON text
  // ("" when absent); handed to the plugin with provideClusterInfo.
  std::string cluster_config_json;
  std::string user;  // the kubeconfig user's name, for messages
};

struct ClusterConfig {
  std::string server;  // https://host:port (http:// accepted, e.g. a local test server)
  std::string ca_pem;  // CA bundle PEM text; empty = system trust
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;  // SNI / name to verify instead of the server's host; may be empty
  std::string client_cert_pem;  // both set or both empty
  std::string client_key_pem;
  std::string token;       // static bearer token; may be empty
  std::string token_file;  // bearer token file, re-read by TokenSource; may be empty
  // The user's exec credential plugin; set only when the user has no token, tokenFile or client
  // certificate (client-go ignores exec when any of them is there).
  std::optional<ExecConfig> exec;
  // The cluster's proxy-url ("" = none; $HTTPS_PROXY and friends then apply, see proxy.h).
  std::string proxy_url;
  std::string ns = "default";
  // Human-readable origin, for the startup log: `kubeconfig /x/config, context "dev"` or
  // "in-cluster".
  std::string source;
};

// Loads `context` (or, when empty, the current-context) of the kubeconfig at `path` (which must
// exist: `--kubeconfig`, never merged). Relative file paths inside the kubeconfig resolve against
// the kubeconfig's directory. `*-data` fields take precedence over the matching file fields, as
// in kubectl. Fails on anything this client cannot honour rather than silently connecting
// differently: auth-provider plugins, basic auth, impersonation, a proxy-url other than http://.
Result<ClusterConfig> load_kubeconfig(const std::string& path, const std::string& context = "");

// Loads `context` (or, when empty, the merged current-context) from several kubeconfig files
// merged by client-go's loading rules (clientcmd.ClientConfigLoadingRules.Load), as kubectl
// merges the paths of $KUBECONFIG:
// - empty paths and repeated paths are ignored; files that do not exist are skipped (all
//   missing is an error); a file that exists but cannot be read or parsed is an error;
// - clusters, users and contexts: the first file to define a name wins, whole (an entry of the
//   same name in a later file is ignored, even its fields the first one lacks);
// - current-context: the first file that sets it (non-empty) wins;
// - a name defined twice within one file is an error (as client-go's conversion says);
// - relative paths resolve against the directory of the file the entry came from.
// A context may name a cluster or user defined in another file.
Result<ClusterConfig> load_kubeconfig_files(const std::vector<std::string>& paths,
                                            const std::string& context = "");

// The paths of a $KUBECONFIG value: split at ':', empty ones and repeats dropped.
std::vector<std::string> split_kubeconfig_paths(const std::string& value);

// The pod's service account: server from KUBERNETES_SERVICE_HOST/PORT, CA from sa_dir/ca.crt
// (required), token_file = sa_dir/token (must be readable now), namespace from POD_NAMESPACE,
// else sa_dir/namespace, else "default".
Result<ClusterConfig> in_cluster_config(const std::string& sa_dir = kServiceAccountDir);

// Resolves the configuration in the order of kubectl/controller-runtime:
//   1. `kubeconfig_flag`, when non-empty (that file alone);
//   2. in-cluster, when KUBERNETES_SERVICE_HOST is set and sa_dir/token exists — unless a
//      `context` is given, which only a kubeconfig can honour;
//   3. $KUBECONFIG, every path merged (load_kubeconfig_files);
//   4. $HOME/.kube/config.
// `context` (the --context flag) picks a kubeconfig context instead of the current-context.
// `sa_dir` exists for tests; production callers leave it defaulted.
Result<ClusterConfig> load_config(const std::string& kubeconfig_flag,
                                  const std::string& sa_dir = kServiceAccountDir,
                                  const std::string& context = "");

// The bearer token to send, kept fresh across token rotation. Thread-safe.
//
// With a token file (which wins over a static token, as in client-go), token() returns the
// file's contents with surrounding whitespace trimmed, re-reading the file once the cached value
// is 60 s old. If a periodic re-read fails (or finds the file empty), the cached token is kept
// and the file is tried again on the next call; with nothing cached (first call, or after
// invalidate()) the failure is returned. Without a token file it returns the static token, which
// may be empty (see empty()).
class TokenSource {
 public:
  static constexpr std::chrono::seconds kRefreshPeriod{60};

  TokenSource(
      std::string static_token, std::string token_file,
      std::function<std::chrono::steady_clock::time_point()> now = std::chrono::steady_clock::now);

  Result<std::string> token();
  // Drops the cached file token: call after a 401 so the next token() re-reads the file.
  void invalidate();
  // True when there is neither a static token nor a token file: send no Authorization header.
  bool empty() const;

 private:
  const std::string static_token_;
  const std::string token_file_;
  const std::function<std::chrono::steady_clock::time_point()> now_;

  std::mutex mu_;
  std::optional<std::string> cached_;              // guarded by mu_
  std::chrono::steady_clock::time_point read_at_;  // guarded by mu_
};

}  // namespace tracing::kube
