// A real Jaeger v2 (built by scripts/jaeger from tests/jaeger, path in $TRACING_JAEGER_BIN) runs
// the config and strategies the operator renders: it serves the rendered ratios on its sampling
// endpoint and picks up a rewritten strategies file without a restart (SPEC §6, §8).
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

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

#include "controllers/jaeger.h"
#include "tests/integration/fixture.h"
#include "tests/integration/local_jaeger.h"

extern char** environ;

namespace tracing::controllers {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;
using testing::connect_loopback;
using testing::free_ports;
using testing::http_get;
using testing::JaegerProcess;
using testing::read_file;
using testing::served_rate;
using testing::write_atomically;

using testing::eventually;

TEST(JaegerBinary, ServesTheRenderedStrategiesAndReloadsThem) {
  const char* bin = std::getenv("TRACING_JAEGER_BIN");
  if (!bin || !*bin) {
    FAIL() << "TRACING_JAEGER_BIN is not set: run through scripts/test, or set it to the last "
              "line of `scripts/jaeger build`";
  }

  std::string tmpl = (fs::temp_directory_path() / "jaeger-binary-test-XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr) << "mkdtemp: " << std::strerror(errno);
  const fs::path dir = tmpl;
  const fs::path config = dir / "config.yaml";
  const fs::path strategies = dir / "strategies.json";
  const fs::path log = dir / "jaeger.log";

  JaegerConfigOptions o;
  o.host = "127.0.0.1";
  std::vector<int> ports = free_ports(8);
  ASSERT_EQ(ports.size(), 8u) << "no free loopback ports";
  o.otlp_grpc = ports[0];
  o.otlp_http = ports[1];
  o.query_http = ports[2];
  o.query_grpc = ports[3];
  o.sampling_http = ports[4];
  o.sampling_grpc = ports[5];
  o.health = ports[6];
  o.metrics = ports[7];
  o.strategies_path = strategies.string();
  o.reload_interval_seconds = 1;
  write_atomically(config, jaeger_config_yaml(o));
  write_atomically(strategies, render_strategies("0.1", {{"task-api", "0.25"}}));

  JaegerProcess jaeger(bin, config, log);
  ASSERT_TRUE(jaeger.started()) << "could not start " << bin;
  auto log_tail = [&] {
    std::string l = read_file(log);
    return "\n--- " + log.string() + " (last 4000 bytes) ---\n" +
           l.substr(l.size() > 4000 ? l.size() - 4000 : 0);
  };

  // Healthy: healthcheckv2 answers 200 on /status once every component has started.
  bool healthy = eventually(
      [&] {
        if (!jaeger.running()) return true;  // stop waiting; reported below
        auto r = http_get(o.health, "/status");
        return r && r->status == 200;
      },
      60s);
  ASSERT_TRUE(jaeger.running()) << "jaeger exited during start-up" << log_tail();
  ASSERT_TRUE(healthy) << "jaeger not healthy within 60 s" << log_tail();

  // The rendered strategies, as SDKs fetch them.
  std::string body;
  EXPECT_EQ(served_rate(o.sampling_http, "task-api", &body), 0.25) << body << log_tail();
  std::cout << "sampling endpoint, service=task-api: " << body << std::endl;
  EXPECT_EQ(served_rate(o.sampling_http, "some-other-service", &body), 0.1) << body;
  std::cout << "sampling endpoint, unknown service: " << body << std::endl;

  // Spans are accepted on both OTLP ports.
  for (int port : {o.otlp_grpc, o.otlp_http}) {
    int fd = connect_loopback(port);
    EXPECT_GE(fd, 0) << "OTLP port " << port << " refuses connections";
    if (fd >= 0) ::close(fd);
  }

  // A rewritten strategies file is served without a restart, within a few reload intervals.
  write_atomically(strategies, render_strategies("0.1", {{"task-api", "1"}}));
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(eventually([&] { return served_rate(o.sampling_http, "task-api") == 1.0; }, 20s))
      << "still serving " << served_rate(o.sampling_http, "task-api").value_or(-1) << log_tail();
  std::cout << "reload observed after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - start)
                   .count()
            << " ms" << std::endl;
  EXPECT_EQ(served_rate(o.sampling_http, "some-other-service"), 0.1);

  // Per-operation strategies (§5 "one operation"): Jaeger's loader takes the rendered
  // operation_strategies and serves them as operationSampling, the service's param as the
  // default for every other operation.
  write_atomically(strategies, render_strategies("0.1", {{"task-api", "0"}},
                                                 {{"task-api", {{"POST /tasks", "1"}}}}));
  json served;
  EXPECT_TRUE(eventually(
      [&] {
        auto r = http_get(o.sampling_http, "/?service=task-api");
        served = r && r->status == 200 ? json::parse(r->body, nullptr, false) : json();
        return served.is_object() && served.contains("operationSampling");
      },
      20s))
      << "no operationSampling served: " << served.dump() << log_tail();
  std::cout << "sampling endpoint, service=task-api with an operation strategy: " << served.dump()
            << std::endl;
  const json& ops = served.value("operationSampling", json::object());
  EXPECT_EQ(ops.value("defaultSamplingProbability", -1.0), 0.0) << served.dump();
  EXPECT_EQ(
      ops.value("perOperationStrategies", json()),
      json::parse(R"([{"operation":"POST /tasks","probabilisticSampling":{"samplingRate":1}}])"))
      << served.dump();
  EXPECT_EQ(served_rate(o.sampling_http, "task-api"), 0.0);
  EXPECT_EQ(served_rate(o.sampling_http, "some-other-service"), 0.1)
      << "another service gets no operation strategy";
  EXPECT_TRUE(jaeger.running()) << "jaeger restarted or exited" << log_tail();

  // SIGTERM: a clean, prompt exit.
  auto status = jaeger.stop(15s);
  ASSERT_TRUE(status.has_value()) << "jaeger ignored SIGTERM for 15 s (killed)" << log_tail();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
      << "wait status " << *status << log_tail();

  if (!::testing::Test::HasFailure()) fs::remove_all(dir);
}

}  // namespace
}  // namespace tracing::controllers
