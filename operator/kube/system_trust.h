// What the transport's TLS reads from the environment.
#pragma once

#include <string>
#include <vector>

#include "operator/kube/config.h"

namespace tracing::kube {

// cpprestsdk loads OpenSSL's default verify paths, the system's whole CA bundle, into the TLS
// context of every connection it opens, before the transport replaces that store with the
// cluster's CA (as client-go, a configured CA is all that is trusted). Measured at 10,000
// Deployments: 2.2 MB more resident memory and 1.2 s more CPU per restart (README, Benchmarks),
// for certificates that are then thrown away. When `config` gives a CA or skips verification, this
// sets SSL_CERT_FILE to kNoSystemBundle, a file that does not exist, so that load reads nothing (a
// user's own SSL_CERT_FILE is overridden for this process: the transport would not trust it
// either). Returns whether it set it. Call once, before other threads read the environment
// (main calls it before it makes a transport).
inline constexpr char kNoSystemBundle[] = "/nonexistent/tracing-operator-trusts-the-cluster-ca";
bool skip_unused_system_bundle(const ClusterConfig& config);

// This process's environment as it was before skip_unused_system_bundle changed it: what an exec
// credential plugin inherits.
std::vector<std::string> inherited_environment();

}  // namespace tracing::kube
