#include "tests/integration/local_jaeger.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/fixture.h"

extern char** environ;

namespace tracing::testing {

using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {
bool poll_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}
}  // namespace

// `n` distinct loopback ports nobody listens on now: the kernel's picks, all held open while
// picking (so none repeats), then released for Jaeger to bind. Empty on failure.
std::vector<int> free_ports(size_t n) {
  std::vector<int> fds, ports;
  for (size_t i = 0; i < n; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) break;
    fds.push_back(fd);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      break;
    }
    ports.push_back(ntohs(a.sin_port));
  }
  for (int fd : fds) ::close(fd);
  if (ports.size() != n) ports.clear();
  return ports;
}

// A TCP connection to 127.0.0.1:port with send/receive timeouts, or -1.
int connect_loopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// GET http://127.0.0.1:port<target> over HTTP/1.0 (the server closes after the response).
// nullopt when the connection fails or the response is not HTTP.
std::optional<Response> http_get(int port, const std::string& target) {
  int fd = connect_loopback(port);
  if (fd < 0) return std::nullopt;
  std::string req = "GET " + target + " HTTP/1.0\r\nHost: 127.0.0.1:" + std::to_string(port) +
                    "\r\nAccept: application/json\r\n\r\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return std::nullopt;
  }
  std::string raw;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) raw.append(buf, static_cast<size_t>(n));
  ::close(fd);
  if (n < 0 || raw.rfind("HTTP/1.", 0) != 0) return std::nullopt;
  auto head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos) return std::nullopt;
  Response r;
  r.status = std::atoi(raw.c_str() + raw.find(' ') + 1);
  r.body = raw.substr(head_end + 4);
  return r;
}

// Writes `content` to `path` the way the kubelet updates a ConfigMap volume: atomically (a new
// file renamed over the old), so Jaeger never reads a half-written file.
void write_atomically(const fs::path& path, const std::string& content) {
  fs::path tmp = path;
  tmp += ".tmp";
  std::ofstream(tmp, std::ios::trunc) << content;
  fs::rename(tmp, path);
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

JaegerProcess::JaegerProcess(const std::string& bin, const fs::path& config, const fs::path& log) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::string config_arg = "--config=" + config.string();
  std::vector<char*> argv{const_cast<char*>(bin.c_str()), config_arg.data(), nullptr};
  if (posix_spawn(&pid_, bin.c_str(), &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
  posix_spawn_file_actions_destroy(&fa);
}

JaegerProcess::~JaegerProcess() {
  if (running()) stop(15s);
}

bool JaegerProcess::running() {
  if (pid_ <= 0 || exited_) return false;
  if (::waitpid(pid_, &status_, WNOHANG) == pid_) exited_ = true;
  return !exited_;
}

std::optional<int> JaegerProcess::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return std::nullopt;
  if (running()) {
    ::kill(pid_, SIGTERM);
    if (!poll_until([&] { return !running(); }, grace)) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status_, 0);
      exited_ = true;
      return std::nullopt;
    }
  }
  return status_;
}

// The sampling rate Jaeger's HTTP sampling endpoint serves `service`, or nullopt when the
// response is not a probabilistic strategy.
std::optional<double> served_rate(int sampling_http, const std::string& service,
                                  std::string* body) {
  auto r = http_get(sampling_http, "/?service=" + service);
  if (!r || r->status != 200) return std::nullopt;
  if (body) *body = r->body;
  json j = json::parse(r->body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("probabilisticSampling")) return std::nullopt;
  const json& rate = j["probabilisticSampling"]["samplingRate"];
  if (!rate.is_number()) return std::nullopt;
  return rate.get<double>();
}

LocalJaeger::LocalJaeger() {
  const char* bin = std::getenv("TRACING_JAEGER_BIN");
  EXPECT_TRUE(bin && *bin) << "TRACING_JAEGER_BIN is not set: scripts/test sets it";
  if (!bin || !*bin) return;
  std::string tmpl = (fs::temp_directory_path() / "op-jaeger-XXXXXX").string();
  dir_ = ::mkdtemp(tmpl.data());
  auto ports = free_ports(8);
  EXPECT_EQ(ports.size(), 8u);
  if (ports.size() != 8) return;
  o_.host = "127.0.0.1";
  o_.otlp_grpc = ports[0];
  o_.otlp_http = ports[1];
  o_.query_http = ports[2];
  o_.query_grpc = ports[3];
  o_.sampling_http = ports[4];
  o_.sampling_grpc = ports[5];
  o_.health = ports[6];
  o_.metrics = ports[7];
  o_.strategies_path = (dir_ / "strategies.json").string();
  o_.reload_interval_seconds = 1;
  write_atomically(dir_ / "config.yaml", controllers::jaeger_config_yaml(o_));
  set_strategies(controllers::render_strategies("0.01", {}));
  process_ = std::make_unique<JaegerProcess>(bin, dir_ / "config.yaml", dir_ / "jaeger.log");
  EXPECT_TRUE(eventually(
      [&] {
        auto r = http_get(o_.health, "/status");
        return r && r->status == 200;
      },
      60s))
      << "jaeger not healthy; log " << (dir_ / "jaeger.log");
}

void LocalJaeger::set_strategies(const std::string& json_text) {
  write_atomically(dir_ / "strategies.json", json_text);
}

std::optional<double> LocalJaeger::rate(const std::string& service) {
  return served_rate(o_.sampling_http, service);
}

namespace {
std::string url_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}
}  // namespace

json LocalJaeger::trace_list(const std::string& service, const std::string& operation) {
  std::string target = "/api/traces?service=" + url_encode(service) + "&limit=1000&lookback=1h";
  if (!operation.empty()) target += "&operation=" + url_encode(operation);
  auto r = http_get(o_.query_http, target);
  if (!r || r->status != 200) return json::array();
  auto j = json::parse(r->body, nullptr, false);
  return j.is_object() && j["data"].is_array() ? j["data"] : json::array();
}

int LocalJaeger::traces(const std::string& service, const std::string& operation) {
  return static_cast<int>(trace_list(service, operation).size());
}

json LocalJaeger::trace(const std::string& trace_id) {
  auto r = http_get(o_.query_http, "/api/traces/" + trace_id);
  if (!r || r->status != 200) return json();
  auto j = json::parse(r->body, nullptr, false);
  return j.is_object() && j["data"].is_array() && !j["data"].empty() ? j["data"][0] : json();
}

}  // namespace tracing::testing
