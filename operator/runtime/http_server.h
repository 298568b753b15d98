// The operator's small HTTP endpoints: /metrics (Prometheus text) on one address, /healthz and
// /readyz on another (§11). Addresses are ":8080" (all interfaces), "127.0.0.1:8080", or "0"
// (disabled).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "operator/kube/error.h"

namespace tracing::runtime {

struct Endpoints {
  std::function<std::string()> metrics;    // Prometheus text exposition
  std::function<bool()> ready;             // /readyz: 200 when true, 503 otherwise
  std::function<std::string()> unhealthy;  // /healthz: 200 when "", else 500 with the reason
};

class HttpServer {
 public:
  HttpServer(std::string metrics_address, std::string health_address, Endpoints endpoints);
  ~HttpServer();
  kube::Status start();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Resident set size of this process in bytes (from /proc/self/statm), for /metrics.
uint64_t resident_memory_bytes();

}  // namespace tracing::runtime
