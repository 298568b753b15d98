#include "operator/kube/system_trust.h"

#include <cstdlib>
#include <mutex>
#include <optional>
#include <string_view>

extern char** environ;

namespace tracing::kube {

namespace {

constexpr char kVariable[] = "SSL_CERT_FILE";

struct Saved {
  std::mutex mu;
  std::optional<std::string> value;  // the user's SSL_CERT_FILE, when ours replaced it
};

Saved& saved() {
  static Saved s;
  return s;
}

}  // namespace

bool skip_unused_system_bundle(const ClusterConfig& config) {
  if (config.ca_pem.empty() && !config.insecure_skip_tls_verify) return false;
  Saved& s = saved();
  std::lock_guard<std::mutex> lock(s.mu);
  const char* now = std::getenv(kVariable);
  if (now == nullptr) {
    s.value.reset();
  } else if (std::string_view(now) != kNoSystemBundle) {
    s.value = now;
  }
  return setenv(kVariable, kNoSystemBundle, /*overwrite=*/1) == 0;
}

std::vector<std::string> inherited_environment() {
  const std::string own = std::string(kVariable) + "=" + kNoSystemBundle;
  Saved& s = saved();
  std::lock_guard<std::mutex> lock(s.mu);
  std::vector<std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (*e == own) {
      if (s.value) out.push_back(std::string(kVariable) + "=" + *s.value);
    } else {
      out.emplace_back(*e);
    }
  }
  return out;
}

}  // namespace tracing::kube
