// A real Jaeger v2 on loopback for tests (the binary scripts/jaeger builds, path in
// $TRACING_JAEGER_BIN), and the small HTTP and file helpers the tests drive it with.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "controllers/jaeger.h"

namespace tracing::testing {

// `n` distinct loopback ports nobody listens on now. Empty on failure.
std::vector<int> free_ports(size_t n);
// A connected TCP socket to 127.0.0.1:port, or -1.
int connect_loopback(int port);

struct Response {
  int status = 0;
  std::string body;
};
// GET http://127.0.0.1:port<target> over HTTP/1.0; nullopt when the connection fails.
std::optional<Response> http_get(int port, const std::string& target);

// Writes a file atomically (a new file renamed over the old), as the kubelet updates a
// ConfigMap volume.
void write_atomically(const std::filesystem::path& path, const std::string& content);
std::string read_file(const std::filesystem::path& path);

// The Jaeger process, stopped (SIGTERM, then SIGKILL after 15 s) when it goes out of scope.
class JaegerProcess {
 public:
  JaegerProcess(const std::string& bin, const std::filesystem::path& config,
                const std::filesystem::path& log);
  JaegerProcess(const JaegerProcess&) = delete;
  JaegerProcess& operator=(const JaegerProcess&) = delete;
  ~JaegerProcess();
  bool started() const { return pid_ > 0; }
  bool running();
  // SIGTERM and wait up to `grace`; SIGKILL after that. The wait status.
  std::optional<int> stop(std::chrono::milliseconds grace);

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  bool exited_ = false;
};

// The sampling rate Jaeger's HTTP sampling endpoint serves `service`, or nullopt.
std::optional<double> served_rate(int sampling_http, const std::string& service,
                                  std::string* body = nullptr);

// A real Jaeger v2 on loopback ports ($TRACING_JAEGER_BIN), from the config the operator's
// renderer produces and a strategies file the test fills with what the operator wrote into its
// ConfigMap. Construction waits until it is healthy (a test failure when it is not).
class LocalJaeger {
 public:
  LocalJaeger();
  void set_strategies(const std::string& json_text);
  std::optional<double> rate(const std::string& service);
  // Traces Jaeger's query API holds for `service` (with a span named `operation`, if given).
  int traces(const std::string& service, const std::string& operation = "");
  // The query API's answer for those traces (its "data" array; empty when it failed).
  nlohmann::json trace_list(const std::string& service, const std::string& operation = "");
  // One trace by id (its "data"[0]); null when Jaeger has no such trace.
  nlohmann::json trace(const std::string& trace_id);
  int otlp_grpc() const { return o_.otlp_grpc; }
  int sampling_grpc() const { return o_.sampling_grpc; }
  int query_http() const { return o_.query_http; }

 private:
  controllers::JaegerConfigOptions o_;
  std::filesystem::path dir_;
  std::unique_ptr<JaegerProcess> process_;
};

}  // namespace tracing::testing
