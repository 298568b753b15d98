#include "tests/integration/operator_harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>
#include <vector>

#include "plugin/yaml_json.h"

extern char** environ;

namespace tracing::testing {

namespace {

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

kube::Resource crds() { return kube::resources::custom_resource_definitions(); }

std::vector<json> load_yaml_documents(const std::string& path) {
  std::vector<json> out;
  for (const auto& doc : YAML::LoadAllFromFile(path)) {
    if (doc.IsNull()) continue;
    out.push_back(yaml::yaml_to_json(doc));
  }
  return out;
}

// Server-side apply as the test's own manager: creates or updates.
void apply_object(kube::Client& c, const json& obj) {
  static const std::map<std::string, kube::Resource> by_kind = {
      {"CustomResourceDefinition", crds()},
      {"ClusterRole", {"rbac.authorization.k8s.io", "v1", "clusterroles", false, "ClusterRole"}},
      {"ClusterRoleBinding",
       {"rbac.authorization.k8s.io", "v1", "clusterrolebindings", false, "ClusterRoleBinding"}},
      {"Role", {"rbac.authorization.k8s.io", "v1", "roles", true, "Role"}},
      {"RoleBinding", {"rbac.authorization.k8s.io", "v1", "rolebindings", true, "RoleBinding"}},
      {"ServiceAccount", {"", "v1", "serviceaccounts", true, "ServiceAccount"}},
      {"Namespace", kube::resources::namespaces()},
  };
  auto it = by_kind.find(obj.value("kind", ""));
  ASSERT_NE(it, by_kind.end()) << "no resource for kind " << obj.value("kind", "");
  std::string ns = obj["metadata"].value("namespace", "");
  auto r = c.apply(it->second, ns, obj["metadata"]["name"].get<std::string>(), obj,
                   {"tracing-tests", true, ""});
  ASSERT_TRUE(r) << r.error().to_string();
}

// TRACING_OPERATOR_BIN when set (scripts/test's ThreadSanitizer pass names that build's
// binary), else this build's.
std::string default_operator_binary() {
  const char* bin = std::getenv("TRACING_OPERATOR_BIN");
  return bin && *bin ? bin : std::string(TRACING_BINARY_DIR) + "/bin/tracing-operator";
}

}  // namespace

std::string sanitizer_report(const std::string& log_path) {
  std::ifstream in(log_path);
  static const char* const kMarkers[] = {
      "WARNING: ThreadSanitizer:", "ERROR: ThreadSanitizer:", "ERROR: AddressSanitizer:",
      "SUMMARY: UndefinedBehaviorSanitizer",
      // The operator's own check of its kept status tallies (TRACING_OPERATOR_VERIFY_STATUS_TALLY,
      // set below for every test's operator): a count kept wrong is a bug here too.
      "status tally mismatch"};
  std::string report;
  bool in_report = false;
  for (std::string line; std::getline(in, line);) {
    if (!in_report) {
      for (const char* m : kMarkers) in_report = in_report || line.find(m) != std::string::npos;
    }
    if (in_report) {
      report += line + "\n";
      if (report.size() > 8000) break;  // the first report, which is the one to fix first
    }
  }
  return report;
}

void install_crd_and_rbac(kube::Client& admin) {
  std::string root = TRACING_SOURCE_DIR;
  for (const auto& doc :
       load_yaml_documents(root + "/crds/tracing.rollout.dev_tracingpolicies.yaml")) {
    apply_object(admin, doc);
  }
  apply_object(
      admin,
      {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "tracing-system"}}}});
  for (const auto& doc : load_yaml_documents(root + "/deploy/rbac.yaml")) apply_object(admin, doc);
  apply_object(admin, {{"apiVersion", "rbac.authorization.k8s.io/v1"},
                       {"kind", "ClusterRoleBinding"},
                       {"metadata", {{"name", "tracing-operator-test-user"}}},
                       {"roleRef",
                        {{"apiGroup", "rbac.authorization.k8s.io"},
                         {"kind", "ClusterRole"},
                         {"name", "tracing-operator"}}},
                       {"subjects", json::array({{{"apiGroup", "rbac.authorization.k8s.io"},
                                                  {"kind", "User"},
                                                  {"name", "tracing-operator"}}})}});
  ASSERT_TRUE(eventually([&] {
    auto served = admin.is_served("tracing.rollout.dev", "v1alpha1", "tracingpolicies");
    return served && *served;
  }));
}

void grant_leader_election(kube::Client& admin, const std::string& ns) {
  for (auto doc : load_yaml_documents(std::string(TRACING_SOURCE_DIR) + "/deploy/rbac.yaml")) {
    if (doc.value("kind", "") != "Role") continue;
    doc["metadata"]["namespace"] = ns;
    apply_object(admin, doc);
    apply_object(admin, {{"apiVersion", "rbac.authorization.k8s.io/v1"},
                         {"kind", "RoleBinding"},
                         {"metadata", {{"name", "tracing-operator-test-user"}, {"namespace", ns}}},
                         {"roleRef",
                          {{"apiGroup", "rbac.authorization.k8s.io"},
                           {"kind", "Role"},
                           {"name", doc["metadata"]["name"]}}},
                         {"subjects", json::array({{{"apiGroup", "rbac.authorization.k8s.io"},
                                                    {"kind", "User"},
                                                    {"name", "tracing-operator"}}})}});
    return;
  }
  ADD_FAILURE() << "deploy/rbac.yaml has no Role";
}

void install_dapr_crd(kube::Client& admin) {
  for (const auto& doc :
       load_yaml_documents(std::string(TRACING_SOURCE_DIR) +
                           "/../shared/testdata/crds/dapr.io_configurations.yaml")) {
    apply_object(admin, doc);
  }
  ASSERT_TRUE(eventually([&] {
    auto served = admin.is_served("dapr.io", "v1alpha1", "configurations");
    return served && *served;
  }));
}

void uninstall_dapr_crd(kube::Client& admin) {
  (void)admin.remove(crds(), "", "configurations.dapr.io");
  ASSERT_TRUE(eventually(
      [&] {
        auto served = admin.is_served("dapr.io", "v1alpha1", "configurations");
        return served && !*served;
      },
      60s));
}

OperatorProcess::OperatorProcess(std::string root_namespace, std::string log_path,
                                 std::string binary)
    : root_(std::move(root_namespace)),
      log_(std::move(log_path)),
      binary_(binary.empty() ? default_operator_binary() : std::move(binary)) {}

OperatorProcess::~OperatorProcess() {
  if (pid_ > 0) stop();
}

void OperatorProcess::start(const std::vector<std::string>& extra_args) {
  spawn(extra_args);
  if (pid_ <= 0) return;
  bool ready = eventually(
      [&] {
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
          pid_ = -1;
          return true;
        }
        return get(health_port_, "/readyz") == "ok";
      },
      60s);
  ASSERT_TRUE(ready && pid_ > 0) << "the operator did not become ready; log: " << log_;
}

void OperatorProcess::spawn(const std::vector<std::string>& extra_args) {
  metrics_port_ = free_port();
  health_port_ = free_port();
  std::vector<std::string> args = {
      binary_,
      "--kubeconfig=" + (kubeconfig_.empty() ? cp_path("pki/operator.kubeconfig") : kubeconfig_),
      "--root-namespace=" + root_,
      "--metrics-bind-address=127.0.0.1:" + std::to_string(metrics_port_),
      "--health-probe-bind-address=127.0.0.1:" + std::to_string(health_port_),
      "--log-level=debug",
      // No kubelet runs pods here, so no rollout ever completes: unbounded reverts, unless a
      // test of revert pacing passes its own.
      "--max-concurrent-reverts=0",
  };
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  // Every status pass checks its kept tally against a count over every workload.
  std::vector<std::string> env_strings = {"TRACING_OPERATOR_VERIFY_STATUS_TALLY=1"};
  for (char** e = environ; *e; ++e) {
    if (std::string_view(*e).starts_with("TRACING_OPERATOR_VERIFY_STATUS_TALLY=")) continue;
    env_strings.emplace_back(*e);
  }
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  int rc = posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) pid_ = -1;
  ASSERT_EQ(rc, 0) << "cannot start " << argv[0];
}

void OperatorProcess::check_sanitizer_report() const {
  std::string report = sanitizer_report(log_);
  EXPECT_EQ(report, "") << "the operator (" << binary_ << ") reported an error; log " << log_;
}

int OperatorProcess::wait_for_exit() {
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  check_sanitizer_report();
  if (WIFEXITED(status)) {
    last_exit_ = "exit " + std::to_string(WEXITSTATUS(status));
    return WEXITSTATUS(status);
  }
  last_exit_ = WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status)) + " (" +
                                         strsignal(WTERMSIG(status)) + ")"
                                   : "status " + std::to_string(status);
  return -1;
}

bool OperatorProcess::exited(int* code) {
  if (pid_ <= 0) return true;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) != pid_) return false;
  pid_ = -1;
  check_sanitizer_report();
  if (WIFEXITED(status)) {
    last_exit_ = "exit " + std::to_string(WEXITSTATUS(status));
    if (code) *code = WEXITSTATUS(status);
  } else {
    last_exit_ = "signal " + std::to_string(WTERMSIG(status));
    if (code) *code = -1;
  }
  return true;
}

int OperatorProcess::stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  return wait_for_exit();
}

void OperatorProcess::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  wait_for_exit();
}

std::string OperatorProcess::get(int port, const std::string& path) const {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "";
  }
  std::string req = "GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n";
  (void)::write(fd, req.data(), req.size());
  std::string resp;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) resp.append(buf, static_cast<size_t>(n));
  ::close(fd);
  auto body = resp.find("\r\n\r\n");
  if (resp.rfind("HTTP/1.", 0) != 0 || resp.find(" 200 ") > 12 || body == std::string::npos) {
    return "";
  }
  return resp.substr(body + 4);
}

double OperatorProcess::metric(const std::string& series) const {
  std::istringstream in(get(metrics_port_, "/metrics"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

bool OperatorProcess::wait_idle(uint64_t min_workload_reconciles, std::chrono::milliseconds timeout,
                                bool timed_requeues_expected) const {
  // A waiting key of the cluster queue is a timer (a debug bump's next change, a write's echo
  // awaited), not pending work, so only that queue's ready keys count.
  const bool idle = eventually(
      [&] {
        return metric("tracing_operator_workqueue_depth{queue=\"workload\"}") == 0 &&
               metric("tracing_operator_workqueue_depth{queue=\"policy\"}") == 0 &&
               (timed_requeues_expected ||
                metric("tracing_operator_workqueue_waiting{queue=\"policy\"}") == 0) &&
               metric("tracing_operator_workqueue_depth{queue=\"cluster\"}") == 0 &&
               metric("tracing_operator_reconciles_in_flight") == 0 &&
               metric("tracing_operator_events_pending") == 0 &&
               metric("tracing_operator_reconciles_total{controller=\"workload\"}") >=
                   static_cast<double>(min_workload_reconciles);
      },
      timeout);
  if (!idle) {  // say what kept it busy: a CI failure has only this output to go on
    std::cerr << "wait_idle: not idle after " << timeout.count() << " ms; operator log " << log_
              << "\n";
    // Whether it still runs (every metric reads -1 when /metrics does not answer).
    std::ifstream stat("/proc/" + std::to_string(pid_) + "/stat");
    std::string stat_line;
    std::getline(stat, stat_line);
    const auto paren = stat_line.rfind(')');
    std::cerr << "  process " << pid_ << " state "
              << (paren != std::string::npos && paren + 2 < stat_line.size()
                      ? stat_line.substr(paren + 2, 1)
                      : "gone")
              << " (Z: exited, not reaped)\n";
    for (const char* m :
         {"tracing_operator_workqueue_depth{queue=\"workload\"}",
          "tracing_operator_workqueue_depth{queue=\"policy\"}",
          "tracing_operator_workqueue_waiting{queue=\"policy\"}",
          "tracing_operator_workqueue_depth{queue=\"cluster\"}",
          "tracing_operator_workqueue_waiting{queue=\"cluster\"}",
          "tracing_operator_reconciles_in_flight", "tracing_operator_events_pending",
          "tracing_operator_reconciles_total{controller=\"workload\"}"}) {
      std::cerr << "  " << m << " " << metric(m) << "\n";
    }
    // The log's last lines that are not debug: what the operator was doing.
    std::ifstream in(log_);
    std::vector<std::string> tail;
    for (std::string line; std::getline(in, line);) {
      if (line.find(" debug ") != std::string::npos) continue;
      tail.push_back(line.substr(0, 300));
      if (tail.size() > 30) tail.erase(tail.begin());
    }
    for (const auto& line : tail) std::cerr << "  | " << line << "\n";
  }
  return idle;
}

size_t audit_log_size() {
  std::ifstream in(cp_path("audit.log"), std::ios::ate | std::ios::binary);
  return in ? static_cast<size_t>(in.tellg()) : 0;
}

std::vector<std::string> audit_lines_since(const std::filesystem::path& log, size_t offset) {
  std::vector<std::string> lines;
  const auto read = [&lines](const std::filesystem::path& file, size_t from) {
    std::ifstream in(file, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(from));
    for (std::string line; std::getline(in, line);) lines.push_back(std::move(line));
  };
  std::error_code ec;
  if (std::filesystem::file_size(log, ec) < offset && !ec) {  // rotated since
    const std::string prefix = log.stem().string() + "-";     // audit-<time>.log
    std::filesystem::path newest;
    for (const auto& e : std::filesystem::directory_iterator(log.parent_path(), ec)) {
      const std::string name = e.path().filename().string();
      if (name.starts_with(prefix) && name.ends_with(".log") && e.path() > newest)
        newest = e.path();
    }
    if (!newest.empty()) read(newest, offset);
    offset = 0;
  }
  read(log, offset);
  return lines;
}

std::map<std::string, int> audit_writes_by_agent_since(size_t offset, const std::string& user,
                                                       const std::string& uri_prefix) {
  std::map<std::string, int> writes;
  for (const std::string& line : audit_lines_since(cp_path("audit.log"), offset)) {
    auto ev = json::parse(line, nullptr, false);
    if (!ev.is_object()) continue;
    std::string verb = ev.value("verb", "");
    if (ev["user"].value("username", "") == user &&
        ev.value("requestURI", "").rfind(uri_prefix, 0) == 0 &&
        (verb == "create" || verb == "update" || verb == "patch" || verb == "delete")) {
      ++writes[ev.value("userAgent", "")];
    }
  }
  return writes;
}

int audit_writes_since(size_t offset, const std::string& user, const std::string& uri_prefix) {
  int writes = 0;
  for (const auto& [agent, n] : audit_writes_by_agent_since(offset, user, uri_prefix)) writes += n;
  return writes;
}

std::string run_capture(const std::string& cmd, int* status) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) {
    if (status) *status = -1;
    return out;
  }
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int rc = pclose(p);
  if (status) *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return out;
}

std::string kubectl(const std::string& args) {
  return run_capture(cp_path("bin/kubectl") + " --kubeconfig " + admin_kubeconfig() + " " + args +
                     " 2>&1");
}

json kstatus_of(const json& object) {
  const char* reference = std::getenv("TRACING_BENCH_REFERENCE");
  if (!reference || !*reference) return json();
  char path[] = "/tmp/tracing-kstatus-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return json{{"error", std::string("mkstemp: ") + std::strerror(errno)}};
  close(fd);
  std::ofstream(path) << object.dump();
  int status = -1;
  std::string out = run_capture(std::string(reference) + " kstatus < " + path + " 2>&1", &status);
  std::remove(path);
  if (status != 0) return json{{"error", out}};
  json result = json::parse(out, nullptr, /*allow_exceptions=*/false);
  return result.is_object() ? result : json{{"error", out}};
}

}  // namespace tracing::testing
