// Where the API server is and how to authenticate to it: kubeconfig files, the in-cluster service
// account, and the bearer token that rotates underneath a running process.
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

#include "operator/kube/error.h"

namespace tracing::kube {

inline constexpr const char* kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

struct ClusterConfig {
  std::string server;  // https://host:port (http:// accepted, e.g. a local test server)
  std::string ca_pem;  // CA bundle PEM text; empty = system trust
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;  // SNI / name to verify instead of the server's host; may be empty
  std::string client_cert_pem;  // both set or both empty
  std::string client_key_pem;
  std::string token;       // static bearer token; may be empty
  std::string token_file;  // bearer token file, re-read by TokenSource; may be empty
  std::string ns = "default";
  // Human-readable origin, for the startup log: `kubeconfig /x/config, context "dev"` or
  // "in-cluster".
  std::string source;
};

// Loads `context` (or, when empty, the current-context) of the kubeconfig at `path`.
// Relative file paths inside the kubeconfig resolve against the kubeconfig's directory.
// `*-data` fields take precedence over the matching file fields, as in kubectl. Fails on
// anything this client cannot honour rather than silently connecting differently: exec and
// auth-provider plugins, basic auth, impersonation, proxy-url.
Result<ClusterConfig> load_kubeconfig(const std::string& path, const std::string& context = "");

// The pod's service account: server from KUBERNETES_SERVICE_HOST/PORT, CA from sa_dir/ca.crt
// (required), token_file = sa_dir/token (must be readable now), namespace from POD_NAMESPACE,
// else sa_dir/namespace, else "default".
Result<ClusterConfig> in_cluster_config(const std::string& sa_dir = kServiceAccountDir);

// Resolves the configuration in the order of kubectl/controller-runtime:
//   1. `kubeconfig_flag`, when non-empty;
//   2. in-cluster, when KUBERNETES_SERVICE_HOST is set and sa_dir/token exists;
//   3. $KUBECONFIG (only its first path: lists are not merged);
//   4. $HOME/.kube/config.
// `sa_dir` exists for tests; production callers leave it defaulted.
Result<ClusterConfig> load_config(const std::string& kubeconfig_flag,
                                  const std::string& sa_dir = kServiceAccountDir);

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
