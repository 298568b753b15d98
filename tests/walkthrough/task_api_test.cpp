// The Task API story end to end: a TracingPolicy governs a Deployment describing the Task API
// (examples/task-api, FastAPI) with a Dapr sidecar. The test takes only what the operator wrote —
// the container's env and the Dapr Configuration — maps the cluster's Service names to a local
// Jaeger (there is no cluster DNS or kubelet here), and runs the app and a real daprd
// ($TRACING_DAPRD_BIN, built by scripts/dapr) with exactly those, as the pod would. Jaeger's
// query API then shows what a user would see: one trace per POST /tasks crossing app → sidecar →
// state store, and which span holds the delay. Ratio 0 traces nothing; a debug bump to 1 (a
// rollout: both processes restarted with the new env and Configuration) traces every request;
// after expiry (another rollout) nothing again. Beside it, DaprHotReload: what daprd does with a
// Configuration changed in place, without a rollout.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "controllers/api/time.h"
#include "tests/integration/kubelet_env.h"
#include "tests/integration/local_jaeger.h"
#include "tests/integration/operator_fixture.h"

namespace tracing::testing {
namespace {

namespace fs = std::filesystem;
using kube::resources::deployments;

// How long POST /tasks sleeps in its `enrich-task` span (the README's story uses 3 s).
constexpr double kDelaySeconds = 0.5;

// POST http://127.0.0.1:port<target> with a JSON body over HTTP/1.0; nullopt when the
// connection fails.
std::optional<Response> http_post(int port, const std::string& target, const std::string& body) {
  int fd = connect_loopback(port);
  if (fd < 0) return std::nullopt;
  timeval tv{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string req =
      "POST " + target + " HTTP/1.0\r\nHost: 127.0.0.1\r\n" +
      "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n\r\n" + body;
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return std::nullopt;
  }
  std::string raw;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) raw.append(buf, static_cast<size_t>(n));
  ::close(fd);
  auto head_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos) return std::nullopt;
  Response r;
  r.status = std::atoi(raw.c_str() + raw.find(' ') + 1);
  r.body = raw.substr(head_end + 4);
  return r;
}

// A child process with exactly `env`, its output in `log`; SIGTERM (then SIGKILL) on stop, as
// the kubelet ends a container in a rollout.
class Process {
 public:
  Process(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
          const fs::path& log, const fs::path& cwd = {}) {
    std::vector<std::string> envs;
    for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& e : envs) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = argv;
    std::vector<char*> argp;
    for (auto& a : args) argp.push_back(a.data());
    argp.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                     0644);
    posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, cwd.c_str());
    if (posix_spawn(&pid_, argp[0], &fa, nullptr, argp.data(), envp.data()) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process() { stop(); }
  bool started() const { return pid_ > 0; }
  bool running() {
    if (pid_ <= 0 || exited_) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) exited_ = true;
    return !exited_;
  }
  // SIGTERM, up to 20 s for a graceful exit (flushing spans), then SIGKILL. Whether it exited
  // within the grace period.
  bool stop() {
    if (!running()) return true;
    ::kill(pid_, SIGTERM);
    if (eventually([&] { return !running(); }, 20s)) return true;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    exited_ = true;
    return false;
  }

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
};

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

// The Task API pod, run locally: the app container (uvicorn) and its daprd sidecar, started with
// the env the operator wrote and the Configuration it wrote (exported to the file daprd reads in
// self-hosted mode), each with cluster Service names mapped to the local Jaeger.
class TaskApiPod {
 public:
  TaskApiPod(const fs::path& dir, const Vars& env, const json& configuration, int round)
      : dir_(dir) {
    const char* python = std::getenv("TRACING_OTEL_PYTHON");
    const char* daprd = std::getenv("TRACING_DAPRD_BIN");
    EXPECT_TRUE(python && *python) << "TRACING_OTEL_PYTHON is not set: scripts/test sets it";
    EXPECT_TRUE(daprd && *daprd) << "TRACING_DAPRD_BIN is not set: scripts/test sets it";
    if (!python || !*python || !daprd || !*daprd) return;
    auto ports = free_ports(5);
    EXPECT_EQ(ports.size(), 5u);
    if (ports.size() != 5) return;
    app_port_ = ports[0];
    dapr_http_ = ports[1];

    // In the pod: the operator's env plus what the Dapr injector gives the app container.
    Vars app_env = env;
    app_env["DAPR_HTTP_PORT"] = std::to_string(dapr_http_);
    app_env["TASK_API_DELAY_SECONDS"] = std::to_string(kDelaySeconds);
    const std::string round_tag = "-" + std::to_string(round);
    app_ = std::make_unique<Process>(
        std::vector<std::string>{python, "-m", "uvicorn", "main:app", "--host", "127.0.0.1",
                                 "--port", std::to_string(app_port_), "--no-access-log"},
        app_env, dir_ / ("app" + round_tag + ".log"),
        fs::path(TRACING_SOURCE_DIR) / "examples/task-api");
    EXPECT_TRUE(app_->started());
    EXPECT_TRUE(eventually(
        [&] {
          int fd = connect_loopback(app_port_);
          if (fd >= 0) ::close(fd);
          return fd >= 0;
        },
        60s))
        << "the app did not listen; log " << dir_ / ("app" + round_tag + ".log");

    // daprd self-hosted: the Configuration as a file, an in-memory state store component.
    const fs::path config = dir_ / ("config" + round_tag + ".yaml");
    write_atomically(config, configuration.dump(2));  // JSON is YAML
    fs::create_directories(dir_ / "resources");
    json store = {{"apiVersion", "dapr.io/v1alpha1"},
                  {"kind", "Component"},
                  {"metadata", {{"name", "statestore"}}},
                  {"spec", {{"type", "state.in-memory"}, {"version", "v1"}}}};
    write_atomically(dir_ / "resources/statestore.yaml", store.dump(2));
    daprd_ = std::make_unique<Process>(
        std::vector<std::string>{
            daprd, "--mode=standalone", "--app-id=task-api",
            "--app-port=" + std::to_string(app_port_), "--app-protocol=http",
            "--dapr-http-port=" + std::to_string(dapr_http_),
            "--dapr-grpc-port=" + std::to_string(ports[2]),
            "--dapr-internal-grpc-port=" + std::to_string(ports[3]),
            "--metrics-port=" + std::to_string(ports[4]), "--config=" + config.string(),
            "--resources-path=" + (dir_ / "resources").string(), "--log-level=info"},
        Vars{{"HOME", dir_.string()}}, dir_ / ("daprd" + round_tag + ".log"));
    EXPECT_TRUE(daprd_->started());
    EXPECT_TRUE(eventually(
        [&] {
          auto r = http_get(dapr_http_, "/v1.0/healthz");
          return r && r->status == 204;
        },
        60s))
        << "daprd not healthy; log " << dir_ / ("daprd" + round_tag + ".log");
  }
  // A rollout ends the pod: both containers get SIGTERM and flush what they hold.
  void stop() {
    if (daprd_) {
      EXPECT_TRUE(daprd_->stop()) << "daprd did not exit on SIGTERM";
    }
    if (app_) {
      EXPECT_TRUE(app_->stop()) << "the app did not exit on SIGTERM";
    }
  }
  ~TaskApiPod() { stop(); }
  // POST /tasks; the app's answer (with the request's trace id and whether it was sampled).
  json create_task(const std::string& title) {
    auto r = http_post(app_port_, "/tasks", json({{"title", title}}).dump());
    EXPECT_TRUE(r && r->status == 201)
        << (r ? std::to_string(r->status) + " " + r->body : "no answer");
    if (!r || r->status != 201) return json::object();
    // Read back through the sidecar: the state store really holds it.
    json saved = json::parse(r->body, nullptr, false);
    auto back = http_get(dapr_http_, "/v1.0/state/statestore/" + saved.value("id", ""));
    EXPECT_TRUE(back && back->status == 200 &&
                json::parse(back->body, nullptr, false)["title"] == title)
        << (back ? back->body : "no answer");
    return saved;
  }

 private:
  fs::path dir_;
  int app_port_ = 0;
  int dapr_http_ = 0;
  std::unique_ptr<Process> app_;
  std::unique_ptr<Process> daprd_;
};

// A Jaeger trace's span, with what the tree and the assertions need.
struct Span {
  std::string id, parent, name, who;  // who: "app" (Python SDK) or "daprd" (Go SDK)
  int64_t start = 0, duration = 0;    // µs
  json tags;
};

std::string tag(const json& tags, const std::string& key) {
  for (const auto& t : tags) {
    if (t.value("key", "") == key && t["value"].is_string()) return t["value"];
  }
  return "";
}

std::vector<Span> spans_of(const json& trace) {
  std::map<std::string, std::string> language;  // processID → telemetry.sdk.language
  const json processes = trace.value("processes", json::object());
  for (const auto& [pid, p] : processes.items()) {
    language[pid] = tag(p.value("tags", json::array()), "telemetry.sdk.language");
  }
  std::vector<Span> out;
  for (const auto& s : trace.value("spans", json::array())) {
    Span span;
    span.id = s.value("spanID", "");
    span.name = s.value("operationName", "");
    span.start = s.value("startTime", int64_t{0});
    span.duration = s.value("duration", int64_t{0});
    span.tags = s.value("tags", json::array());
    for (const auto& r : s.value("references", json::array())) {
      if (r.value("refType", "") == "CHILD_OF") span.parent = r.value("spanID", "");
    }
    // The Python SDK says its language; daprd's spans come from its "dapr-diagnostics" tracer.
    if (language[s.value("processID", "")] == "python") {
      span.who = "app";
    } else if (tag(span.tags, "otel.scope.name") == "dapr-diagnostics") {
      span.who = "daprd";
    } else {
      span.who = "?";
    }
    out.push_back(span);
  }
  std::sort(out.begin(), out.end(), [](const Span& a, const Span& b) { return a.start < b.start; });
  return out;
}

// The trace as text: one line per span, children indented under their parent, with durations.
std::string span_tree(const json& trace) {
  auto spans = spans_of(trace);
  std::set<std::string> ids;
  for (const auto& s : spans) ids.insert(s.id);
  std::ostringstream out;
  out << "trace " << trace.value("traceID", "") << "\n";
  std::function<void(const std::string&, int)> print = [&](const std::string& parent, int depth) {
    for (const auto& s : spans) {
      bool root = s.parent.empty() || !ids.count(s.parent);
      if ((parent.empty() && root) || (!parent.empty() && s.parent == parent)) {
        char ms[32];
        std::snprintf(ms, sizeof ms, "%8.1f ms", static_cast<double>(s.duration) / 1000.0);
        out << std::string(2 + 2 * depth, ' ') << ms << "  [" << s.who << "] " << s.name << "\n";
        print(s.id, depth + 1);
      }
    }
  };
  print("", 0);
  return out.str();
}

class TaskApiStory : public OperatorTest {
 protected:
  json container_env(const std::string& name, const std::string& container) {
    auto d = client_->get(deployments(), ns_, name);
    if (!d) return json();
    for (const auto& c : (*d)["spec"]["template"]["spec"]["containers"]) {
      if (c["name"] == container) return c.value("env", json::array());
    }
    return json();
  }
  std::string env_value(const std::string& variable) {
    for (const auto& e : container_env("task-api", "api")) {
      if (e["name"] == variable) return e.value("value", "");
    }
    return "<unset>";
  }
  json template_annotations() {
    auto d = client_->get(deployments(), ns_, "task-api");
    return d ? (*d)["spec"]["template"]["metadata"].value("annotations", json::object())
             : json::object();
  }
  json dapr_tracing() {
    auto c = client_->get(kDaprConfigurations, ns_, "tracing");
    return c ? (*c)["spec"].value("tracing", json::object()) : json::object();
  }
  // Waits until the operator has written `ratio` into both the env and the Configuration the
  // template names (a rollout's new pod template).
  bool wait_ratio(const std::string& ratio) {
    bool ok = eventually(
        [&] {
          return env_value("OTEL_TRACES_SAMPLER_ARG") == ratio &&
                 dapr_tracing().value("samplingRate", "") == ratio &&
                 template_annotations().value("dapr.io/config", "") == "tracing";
        },
        90s);
    if (!ok) {
      ADD_FAILURE() << "ratio " << ratio << " not written: env "
                    << container_env("task-api", "api").dump() << "; Dapr tracing "
                    << dapr_tracing().dump() << "; annotations " << template_annotations().dump()
                    << "; operator log " << op_->log_path();
    }
    return ok;
  }
  // What the pod would start with now, cluster names mapped to the local Jaeger.
  std::unique_ptr<TaskApiPod> rollout(LocalJaeger& jaeger, int round) {
    const std::string collector = "jaeger-collector." + ns_ + ".svc:4317";
    const std::string local = "127.0.0.1:" + std::to_string(jaeger.otlp_grpc());
    Vars env = kubelet_env(container_env("task-api", "api"));
    EXPECT_TRUE(env.count("OTEL_EXPORTER_OTLP_ENDPOINT")) << json(env).dump();
    for (auto& [k, v] : env) v = replace_all(v, collector, local);
    auto c = client_->get(kDaprConfigurations, ns_, "tracing");
    EXPECT_TRUE(c.ok());
    if (!c) return nullptr;
    json config = {{"apiVersion", (*c)["apiVersion"]},
                   {"kind", (*c)["kind"]},
                   {"metadata", {{"name", (*c)["metadata"]["name"]}}},
                   {"spec", (*c)["spec"]}};
    EXPECT_EQ(config["spec"]["tracing"]["otel"].value("endpointAddress", ""), collector);
    config["spec"]["tracing"]["otel"]["endpointAddress"] = local;
    return std::make_unique<TaskApiPod>(dir_, env, config, round);
  }

  fs::path dir_;
};

TEST_F(TaskApiStory, OneTracePerRequestCrossesAppSidecarAndStoreOnlyWhileTheBumpLasts) {
  LocalJaeger jaeger;
  install_dapr_crd(*client_);
  dir_ = fs::path(TRACING_BINARY_DIR) / "test-logs" / "task-api-story";
  fs::remove_all(dir_);
  fs::create_directories(dir_);

  // The Task API as examples/demo/workloads.yaml describes it, with its Dapr sidecar.
  json d = {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata",
       {{"name", "task-api"},
        {"namespace", ns_},
        {"labels", {{"app", "task-api"}, {"app.kubernetes.io/name", "task-api"}}}}},
      {"spec",
       {{"replicas", 1},
        {"selector", {{"matchLabels", {{"app", "task-api"}}}}},
        {"template",
         {{"metadata",
           {{"labels", {{"app", "task-api"}, {"app.kubernetes.io/name", "task-api"}}},
            {"annotations",
             {{"dapr.io/enabled", "true"},
              {"dapr.io/app-id", "task-api"},
              {"dapr.io/app-port", "8000"}}}}},
          {"spec",
           {{"containers", json::array({{{"name", "api"},
                                         {"image", "registry.example/task-api:1"},
                                         {"command", {"uvicorn", "main:app", "--host", "0.0.0.0"}},
                                         {"env", json::array({{{"name", "LOG_LEVEL"},
                                                               {"value", "info"}}})}}})}}}}}}}};
  auto created = client_->create(deployments(), ns_, d);
  ASSERT_TRUE(created) << created.error().to_string();

  op_->start();
  json spec = {
      {"selector", {{"matchLabels", {{"app", "task-api"}}}}},
      {"serviceName", {{"fromLabel", "app.kubernetes.io/name"}}},
      {"sampling", {{"sampler", "parentbased_traceidratio"}, {"ratio", "0"}, {"mode", "restart"}}},
      {"dapr", {{"mode", "auto"}, {"restartOnChange", true}}}};
  apply_policy(ns_, "task-api", spec);

  // Base: ratio 0 — neither the app nor the sidecar traces.
  ASSERT_TRUE(wait_ratio("0"));
  EXPECT_EQ(env_value("OTEL_SERVICE_NAME"), "task-api");
  auto pod = rollout(jaeger, 1);
  ASSERT_TRUE(pod);
  std::set<std::string> base_ids;
  for (int i = 0; i < 3; ++i) {
    json t = pod->create_task("base " + std::to_string(i));
    EXPECT_EQ(t.value("sampled", true), false) << t.dump();
    base_ids.insert(t.value("trace_id", ""));
  }
  pod.reset();  // the bump's rollout ends this pod; what it held is flushed on SIGTERM

  // A debug bump to 1: a rollout with the new env and Configuration; every request traced.
  auto until = std::chrono::system_clock::now() + 45s;
  spec["debug"] = {{"ratio", "1"},
                   {"until", controllers::format_rfc3339(until)},
                   {"reason", "which hop makes POST /tasks slow?"}};
  apply_policy(ns_, "task-api", spec);
  ASSERT_TRUE(wait_ratio("1"));
  pod = rollout(jaeger, 2);
  ASSERT_TRUE(pod);
  const int kBumped = 4;
  std::vector<std::string> bumped_ids;
  for (int i = 0; i < kBumped; ++i) {
    json t = pod->create_task("bumped " + std::to_string(i));
    EXPECT_EQ(t.value("sampled", false), true) << t.dump();
    bumped_ids.push_back(t.value("trace_id", ""));
  }
  ASSERT_TRUE(std::chrono::system_clock::now() < until)
      << "the bumped requests must run while the bump lasts; raise its length";

  // One trace per POST /tasks, each crossing app → sidecar → store under one trace id.
  EXPECT_TRUE(eventually([&] { return jaeger.traces("task-api", "POST /tasks") == kBumped; }, 30s))
      << "Jaeger holds " << jaeger.traces("task-api", "POST /tasks") << " POST /tasks traces";
  std::string printed;
  for (const auto& id : bumped_ids) {
    json trace;
    // daprd exports its spans in its own batch: wait until both sides are in.
    EXPECT_TRUE(eventually(
        [&] {
          trace = jaeger.trace(id);
          auto spans = spans_of(trace);
          return std::any_of(spans.begin(), spans.end(),
                             [](const Span& s) { return s.who == "daprd"; }) &&
                 std::any_of(spans.begin(), spans.end(),
                             [](const Span& s) { return s.name == "POST /tasks"; });
        },
        30s))
        << "trace " << id << ": " << trace.dump();
    auto spans = spans_of(trace);
    auto find = [&](const std::function<bool(const Span&)>& pred) -> const Span* {
      auto it = std::find_if(spans.begin(), spans.end(), pred);
      return it == spans.end() ? nullptr : &*it;
    };
    const Span* server =
        find([](const Span& s) { return s.who == "app" && s.name == "POST /tasks"; });
    const Span* validation = find([](const Span& s) { return s.name == "validate-task"; });
    const Span* slow = find([](const Span& s) { return s.name == "enrich-task"; });
    const Span* client = find([](const Span& s) { return s.who == "app" && s.name == "POST"; });
    // daprd's span for the state API call, which it reports as the store's (db.*).
    const Span* save = find([](const Span& s) {
      return s.who == "daprd" && tag(s.tags, "dapr.api") == "POST /v1.0/state/statestore" &&
             tag(s.tags, "db.name") == "statestore";
    });
    ASSERT_TRUE(server && validation && slow && client && save) << span_tree(trace);
    EXPECT_EQ(trace.value("traceID", ""), id);
    EXPECT_EQ(validation->parent, server->id);
    EXPECT_EQ(slow->parent, server->id);
    EXPECT_EQ(client->parent, server->id) << "the call to the sidecar is the app's";
    EXPECT_EQ(save->parent, client->id) << "daprd continued the app's trace context";
    const auto delay_us = static_cast<int64_t>(kDelaySeconds * 1e6);
    EXPECT_GE(slow->duration, delay_us) << "the slow span carries the delay";
    EXPECT_GE(server->duration, delay_us);
    for (const auto& s : spans) {
      if (s.id == slow->id || s.id == server->id) continue;
      EXPECT_LT(s.duration, delay_us) << s.name << " takes " << s.duration
                                      << " µs: only the slow span and the request carry the delay\n"
                                      << span_tree(trace);
    }
    if (printed.empty()) printed = span_tree(trace);
  }
  std::cout << "\nOne POST /tasks, as Jaeger shows it (durations in ms):\n"
            << printed << std::flush;
  for (const auto& id : base_ids) {
    EXPECT_TRUE(jaeger.trace(id).is_null()) << "ratio 0 exported trace " << id;
  }

  // After expiry: the operator returns to ratio 0 by itself (another rollout); nothing traced.
  ASSERT_TRUE(wait_ratio("0"));
  pod.reset();
  pod = rollout(jaeger, 3);
  ASSERT_TRUE(pod);
  std::set<std::string> after_ids;
  for (int i = 0; i < 3; ++i) {
    json t = pod->create_task("after " + std::to_string(i));
    EXPECT_EQ(t.value("sampled", true), false) << t.dump();
    after_ids.insert(t.value("trace_id", ""));
  }
  pod.reset();  // flushes whatever either process held
  // Nothing can be awaited for an absence: both processes flushed on exit and Jaeger's batch
  // stores within 200 ms, so 2 s with no new trace is the bound.
  const int all = jaeger.traces("task-api");
  EXPECT_FALSE(eventually([&] { return jaeger.traces("task-api") != all; }, 2s));
  EXPECT_EQ(jaeger.traces("task-api", "POST /tasks"), kBumped);
  for (const auto& id : after_ids) {
    EXPECT_TRUE(jaeger.trace(id).is_null()) << "after expiry trace " << id << " was exported";
  }
}

// Why `dapr.restartOnChange` still matters with Dapr 1.18 (README, "Dapr hot reload and
// restartOnChange"): daprd 1.18 reloads a changed Configuration by itself (HotReload, on by
// default: an in-process runtime restart on SIGHUP; in self-hosted mode for a Configuration in a
// --resources-path directory) and logs the new sampler — but its own spans come from a tracer
// bound to the first TracerProvider (pkg/diagnostics/tracing.go, a package-level otel.Tracer),
// which the reload shuts down. So a reloaded daprd exports nothing until its process restarts,
// while a restarted one (a rolled pod) exports with the new settings. When this test fails, Dapr
// has fixed that: then sidecars follow a Configuration without a rollout, and the docs of
// restartOnChange change.
TEST(DaprHotReload, ReloadsTheChangedConfigurationButExportsNoSpansUntilRestarted) {
  const char* daprd = std::getenv("TRACING_DAPRD_BIN");
  ASSERT_TRUE(daprd && *daprd) << "TRACING_DAPRD_BIN is not set: scripts/test sets it";
  LocalJaeger jaeger;
  const fs::path dir = fs::path(TRACING_BINARY_DIR) / "test-logs" / "dapr-hot-reload";
  fs::remove_all(dir);
  fs::create_directories(dir / "resources");
  json store = {{"apiVersion", "dapr.io/v1alpha1"},
                {"kind", "Component"},
                {"metadata", {{"name", "statestore"}}},
                {"spec", {{"type", "state.in-memory"}, {"version", "v1"}}}};
  write_atomically(dir / "resources/statestore.yaml", store.dump(2));
  auto configuration = [&](const std::string& rate) {
    return json{{"apiVersion", "dapr.io/v1alpha1"},
                {"kind", "Configuration"},
                {"metadata", {{"name", "tracing"}}},
                {"spec",
                 {{"tracing",
                   {{"samplingRate", rate},
                    {"otel",
                     {{"endpointAddress", "127.0.0.1:" + std::to_string(jaeger.otlp_grpc())},
                      {"isSecure", false},
                      {"protocol", "grpc"}}}}}}}}
        .dump(2);
  };
  // The Configuration inside the watched directory, as the file daprd reads (--config).
  const fs::path config = dir / "resources/tracing.yaml";
  write_atomically(config, configuration("0"));

  // A daprd as a sidecar starts; `app_id` is also the service name its spans carry.
  auto start = [&](const std::string& app_id, int& http_port) -> std::unique_ptr<Process> {
    auto ports = free_ports(4);
    EXPECT_EQ(ports.size(), 4u);
    if (ports.size() != 4) return nullptr;
    http_port = ports[0];
    auto p = std::make_unique<Process>(
        std::vector<std::string>{
            daprd, "--mode=standalone", "--app-id=" + app_id,
            "--dapr-http-port=" + std::to_string(ports[0]),
            "--dapr-grpc-port=" + std::to_string(ports[1]),
            "--dapr-internal-grpc-port=" + std::to_string(ports[2]),
            "--metrics-port=" + std::to_string(ports[3]), "--config=" + config.string(),
            "--resources-path=" + (dir / "resources").string(), "--log-level=info"},
        Vars{{"HOME", dir.string()}}, dir / (app_id + ".log"));
    EXPECT_TRUE(p->started());
    EXPECT_TRUE(eventually(
        [&] {
          auto r = http_get(http_port, "/v1.0/healthz");
          return r && r->status == 204;
        },
        60s))
        << app_id << " not healthy; log " << dir / (app_id + ".log");
    return p;
  };
  // Requests without a trace context: the sampling rate alone decides (a root span each).
  const int kRequests = 3;
  auto save = [&](int http_port, const std::string& who) {
    for (int i = 0; i < kRequests; ++i) {
      auto r = http_post(http_port, "/v1.0/state/statestore",
                         json::array({{{"key", who + std::to_string(i)}, {"value", i}}}).dump());
      EXPECT_TRUE(r && r->status == 204) << (r ? r->body : "no answer");
    }
  };
  const std::string rate_one = "root:TraceIDRatioBased{1}";
  auto samplers = [&](const std::string& app_id, const std::string& what) {
    const std::string log = read_file(dir / (app_id + ".log"));
    int n = 0;
    for (size_t at = log.find(what); at != std::string::npos; at = log.find(what, at + 1)) ++n;
    return n;
  };

  int reloaded_port = 0;
  auto reloaded = start("reloaded", reloaded_port);
  ASSERT_TRUE(reloaded);
  EXPECT_NE(read_file(dir / "reloaded.log").find("HotReload"), std::string::npos)
      << "HotReload is not among daprd's enabled features";
  save(reloaded_port, "before");
  // The change in place (the operator's patch, as a file): daprd reloads without a restart.
  write_atomically(config, configuration("1"));
  EXPECT_TRUE(eventually([&] { return samplers("reloaded", rate_one) >= 1; }, 30s))
      << "daprd did not reload the Configuration; log " << dir / "reloaded.log";
  EXPECT_TRUE(eventually(
      [&] {
        auto r = http_get(reloaded_port, "/v1.0/healthz");
        return r && r->status == 204;
      },
      30s));
  EXPECT_TRUE(reloaded->running()) << "the reload must not end the process";
  save(reloaded_port, "after");
  EXPECT_TRUE(reloaded->stop()) << "daprd did not exit on SIGTERM";  // flushes what it holds

  // The same Configuration read at start, as by a rolled pod: every request traced.
  int restarted_port = 0;
  auto restarted = start("restarted", restarted_port);
  ASSERT_TRUE(restarted);
  EXPECT_EQ(samplers("restarted", rate_one), 1);
  save(restarted_port, "restarted");
  EXPECT_TRUE(restarted->stop());
  EXPECT_TRUE(eventually([&] { return jaeger.traces("restarted") == kRequests; }, 30s))
      << "Jaeger holds " << jaeger.traces("restarted") << " traces of the restarted daprd";
  // The reloaded daprd exited before the restarted one started, so anything it exported reached
  // Jaeger before the restarted one's traces, which are in.
  EXPECT_EQ(jaeger.traces("reloaded"), 0)
      << "the hot-reloaded daprd exported spans: Dapr now applies tracing on reload";
}

}  // namespace
}  // namespace tracing::testing
