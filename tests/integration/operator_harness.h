// The operator as its own process, as a user runs it: build/bin/tracing-operator with the
// operator identity's kubeconfig (RBAC from deploy/rbac.yaml, nothing more), its own root
// namespace, /metrics and /readyz on free loopback ports.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "tests/integration/fixture.h"

namespace tracing::testing {

// Installs the TracingPolicy CRD (crds/) and the operator's RBAC (deploy/rbac.yaml, bound to the
// test identity "tracing-operator"), idempotently, and waits until the CRD is served.
void install_crd_and_rbac(kube::Client& admin);

// Grants the operator identity its Lease in `ns` (--leader-elect: the root namespace, unless
// --leader-election-namespace says otherwise): deploy/rbac.yaml's Role, put in `ns`, bound to the
// test identity. Removed with the namespace.
void grant_leader_election(kube::Client& admin, const std::string& ns);

// Installs Dapr's own Configuration CRD (../shared/testdata/crds) and waits until it is served;
// uninstall_dapr_crd removes it and waits until it is not.
void install_dapr_crd(kube::Client& admin);
void uninstall_dapr_crd(kube::Client& admin);

// The first sanitizer report (ThreadSanitizer, AddressSanitizer, UBSan), or the operator's own
// "status tally mismatch" (set for every test's operator: OperatorProcess), in an operator's log
// and what follows it, or "" when there is none.
std::string sanitizer_report(const std::string& log_path);

// Every exit of the process it runs (stop, kill, exited) fails the test when its log holds a
// sanitizer report: a TSan build with halt_on_error exits at its first report, which a test
// would otherwise only see as an operator gone quiet.
class OperatorProcess {
 public:
  // `binary`: default $TRACING_OPERATOR_BIN when set, else build/bin/tracing-operator (e.g. an
  // ASan build's instead).
  OperatorProcess(std::string root_namespace, std::string log_path, std::string binary = "");
  ~OperatorProcess();
  // The kubeconfig it is started with (default: the operator identity's, pki/operator.kubeconfig),
  // e.g. a copy pointing at a TcpProxy in front of the API server.
  void set_kubeconfig(std::string path) { kubeconfig_ = std::move(path); }
  // Starts it and waits for /readyz (informers synced).
  void start(const std::vector<std::string>& extra_args = {});
  // Starts it and returns at once.
  void spawn(const std::vector<std::string>& extra_args = {});
  // SIGTERM and wait; returns the exit status (-1 if it did not exit normally).
  int stop();
  // How the last stop() or kill() ended it: "exit 0", "signal 11 (Segmentation fault)".
  const std::string& last_exit() const { return last_exit_; }
  // SIGKILL: a crash, no cleanup.
  void kill();
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // Whether it has exited by itself (without waiting); its exit code (-1: a signal) in `code`.
  bool exited(int* code);
  // One sample of /metrics, e.g. metric("tracing_operator_workqueue_depth{queue=\"workload\"}").
  double metric(const std::string& series) const;
  // The whole /metrics text; whether /readyz and /healthz answer 200.
  std::string metrics_text() const { return get(metrics_port_, "/metrics"); }
  bool ready() const { return get(health_port_, "/readyz") == "ok"; }
  bool healthy() const { return get(health_port_, "/healthz") == "ok"; }
  // Waits until both queues are empty, nothing is in flight (reconciles, Event writes), and at
  // least `min_workload_reconciles` workload reconciles ran: everything the operator knew of was
  // handled once.
  // With `timed_requeues_expected` (a debug bump is running), keys waiting for a deadline do not
  // count as pending work.
  bool wait_idle(uint64_t min_workload_reconciles, std::chrono::milliseconds timeout = 60s,
                 bool timed_requeues_expected = false) const;
  const std::string& log_path() const { return log_; }

 private:
  std::string get(int port, const std::string& path) const;
  void check_sanitizer_report() const;
  int wait_for_exit();
  std::string root_;
  std::string log_;
  std::string binary_;
  std::string kubeconfig_;
  std::string last_exit_;
  pid_t pid_ = -1;
  int metrics_port_ = 0;
  int health_port_ = 0;
};

// Mutating requests (create/update/patch/delete) by user `user` in the API server's audit log
// after byte `offset`, to paths starting with `uri_prefix` ("": any). audit_log_size() gives the
// offset to start from.
size_t audit_log_size();
int audit_writes_since(size_t offset, const std::string& user = "tracing-operator",
                       const std::string& uri_prefix = "");
// The lines of the audit log `log` after byte `offset`. The control plane keeps one rotated
// backup (--audit-log-maxbackup=1, named audit-<time>.log beside it): when the log is now shorter
// than `offset` it rotated since, and those lines are the newest backup's remainder followed by
// the whole new log. (A log that rotated and then grew past `offset` again is not told apart.)
std::vector<std::string> audit_lines_since(const std::filesystem::path& log, size_t offset);
// The same writes counted by the request's User-Agent (the operator's names its instance).
std::map<std::string, int> audit_writes_by_agent_since(size_t offset,
                                                       const std::string& user = "tracing-operator",
                                                       const std::string& uri_prefix = "");

// Runs a shell command; returns its stdout, and its exit status in `status` when given.
std::string run_capture(const std::string& cmd, int* status = nullptr);

// Runs the local control plane's kubectl as the admin; returns stdout.
std::string kubectl(const std::string& args);

// The status kstatus (sigs.k8s.io/cli-utils, as Flux and kpt compute it) gives `object`:
// {"status": "Current"|"InProgress"|"Failed"|..., "message": ...}, from the reference program's
// `kstatus` mode ($TRACING_BENCH_REFERENCE); null when that variable is unset (the caller
// skips), an object with "error" when the program failed.
json kstatus_of(const json& object);
inline constexpr const char* kNoKstatus =
    "TRACING_BENCH_REFERENCE is unset (scripts/test sets it to tests/benchmarks/reference/build's "
    "program): kstatus checks skipped";

}  // namespace tracing::testing
