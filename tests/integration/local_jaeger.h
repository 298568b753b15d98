// A real Jaeger v2 on loopback for tests (the binary scripts/jaeger builds, path in
// $TRACING_JAEGER_BIN), and the small HTTP and file helpers the tests drive it with.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

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

}  // namespace tracing::testing
