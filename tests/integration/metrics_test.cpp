// /metrics, /readyz and /healthz of a running operator: Prometheus' own linter (client_golang's
// promlint, built into the control plane binary) passes on the exposition, the series a user
// alerts on are there with values that follow what happened, and /readyz follows the watches.

#include <signal.h>

#include <fstream>

#include "tests/integration/operator_fixture.h"

namespace tracing::testing {
namespace {

using kube::resources::deployments;
using kube::resources::namespaces;

using Metrics = OperatorTest;

TEST_F(Metrics, TheExpositionPassesPromlintAndFollowsWhatHappened) {
  ASSERT_TRUE(client_->create(deployments(), ns_, deployment("a")));
  json opted_out = deployment("b");
  opted_out["metadata"]["annotations"] = {{"tracing.rollout.dev/inject", "false"}};
  ASSERT_TRUE(client_->create(deployments(), ns_, opted_out));
  op_->start();
  apply_policy(ns_, "p",
               {{"exporter", {{"endpoint", "http://collector.obs.svc:4317"}}},
                {"sampling", {{"ratio", "0.2"}}},
                {"debug", {{"ratio", "1"}, {"duration", "10m"}}}});
  if (HasFatalFailure()) return;
  ASSERT_TRUE(eventually([&] {
    return op_->metric("tracing_operator_workloads{state=\"configured\"}") == 1 &&
           op_->metric("tracing_operator_debug_bumps_active") == 1;
  }));
  EXPECT_EQ(op_->metric("tracing_operator_workloads{state=\"opted_out\"}"), 1);
  EXPECT_EQ(op_->metric("tracing_operator_workloads{state=\"conflicted\"}"), 0);
  EXPECT_EQ(op_->metric("tracing_operator_leader"), 1) << "without --leader-elect it always leads";
  EXPECT_EQ(op_->metric("tracing_operator_build_info{version=\"0.1\"}"), 1);
  // Quiet once the workloads are configured (the debug bump's expiry is a timer 10 minutes out):
  // the heap is trimmed after the burst, and nothing is pending until the next work.
  EXPECT_TRUE(eventually([&] {
    return op_->metric("tracing_operator_heap_trims_total") >= 1 &&
           op_->metric("tracing_operator_heap_trim_pending") == 0;
  })) << "trims "
      << op_->metric("tracing_operator_heap_trims_total") << ", pending "
      << op_->metric("tracing_operator_heap_trim_pending");
  EXPECT_GE(op_->metric("tracing_operator_api_responses_total{method=\"PATCH\",code=\"200\"}"), 1)
      << "the apply that configured workload a";
  EXPECT_GE(op_->metric("tracing_operator_reconcile_duration_seconds_count{controller=\"workload\","
                        "result=\"success\"}"),
            2);
  EXPECT_EQ(
      op_->metric("tracing_operator_reconcile_duration_seconds_bucket{controller=\"workload\","
                  "result=\"success\",le=\"+Inf\"}"),
      op_->metric("tracing_operator_reconcile_duration_seconds_count{controller=\"workload\","
                  "result=\"success\"}"));
  EXPECT_GE(
      op_->metric("tracing_operator_workqueue_queue_duration_seconds_count{queue=\"workload\"}"),
      2);

  const std::string text = op_->metrics_text();
  ASSERT_FALSE(text.empty());
  const std::string file = std::string(TRACING_BINARY_DIR) + "/test-logs/Metrics.exposition.txt";
  std::ofstream(file) << text;
  int status = 0;
  std::string lint =
      run_capture(cp_path("bin/controlplane") + " promlint < '" + file + "' 2>&1", &status);
  EXPECT_EQ(status, 0) << "promlint:\n" << lint;
  // Each family exactly once: HELP and TYPE lines are not repeated or interleaved.
  EXPECT_EQ(text.find("# TYPE tracing_operator_informer_objects"),
            text.rfind("# TYPE tracing_operator_informer_objects"));
}

TEST_F(Metrics, ReadyzFollowsTheWatchesAndHealthzStaysUpWhileTheApiServerIsAway) {
  op_->start();
  ASSERT_TRUE(op_->ready());
  ASSERT_TRUE(op_->healthy());
  ASSERT_EQ(controlplane("stop-apiserver"), 0);
  EXPECT_TRUE(eventually([&] { return !op_->ready(); }, 60s))
      << "/readyz still 200 with every watch failing";
  EXPECT_TRUE(op_->healthy()) << "an unreachable API server is not a wedged process";
  ASSERT_EQ(controlplane("start-apiserver"), 0);
  EXPECT_TRUE(eventually([&] { return op_->ready(); }, 60s)) << "/readyz did not come back";
}

// A wedged loop: the API server frozen (SIGSTOP) keeps every watch open with nothing in it, so
// the informer loops stop moving; past --health-stall-after /healthz is 500, and it is 200 again
// once the API server runs.
TEST_F(Metrics, HealthzFailsWhileAWatchLoopIsStuckAndRecovers) {
  op_->start({"--health-stall-after=6s"});
  ASSERT_TRUE(op_->healthy());
  std::ifstream pid_file(cp_path("apiserver.pid"));
  pid_t apiserver = 0;
  pid_file >> apiserver;
  ASSERT_GT(apiserver, 0) << "no " << cp_path("apiserver.pid");
  struct Resume {
    pid_t pid;
    ~Resume() { ::kill(pid, SIGCONT); }
  } resume{apiserver};
  ASSERT_EQ(::kill(apiserver, SIGSTOP), 0);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(eventually([&] { return !op_->healthy(); }, 30s)) << "/healthz stayed 200";
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, 3s) << "not before the loops could have stalled";
  ::kill(apiserver, SIGCONT);
  EXPECT_TRUE(eventually([&] { return op_->healthy(); }, 60s)) << "/healthz did not recover";
  std::cerr << "[ health ] /healthz failed "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
            << " ms after the API server froze (bound 6 s)\n";
}

// --resync-period: every workload is looked at again without any event, and a converged one
// costs no write.
TEST_F(Metrics, APeriodicResyncReconcilesAgainAndWritesNothing) {
  ASSERT_TRUE(client_->create(deployments(), ns_, deployment("a")));
  op_->start({"--resync-period=2s"});
  apply_policy(ns_, "p",
               {{"exporter", {{"endpoint", "http://collector.obs.svc:4317"}}},
                {"sampling", {{"ratio", "0.2"}}}});
  if (HasFatalFailure()) return;
  ASSERT_TRUE(eventually(
      [&] { return op_->metric("tracing_operator_workloads{state=\"configured\"}") == 1; }));
  ASSERT_TRUE(op_->wait_idle(1));
  const size_t offset = audit_log_size();
  const double before = op_->metric("tracing_operator_reconciles_total{controller=\"workload\"}");
  EXPECT_TRUE(eventually(
      [&] {
        return op_->metric("tracing_operator_reconciles_total{controller=\"workload\"}") >=
               before + 2;
      },
      20s))
      << "two resyncs reconcile workload a again";
  EXPECT_EQ(audit_writes_since(offset), 0) << "a converged workload costs no write";
}

}  // namespace
}  // namespace tracing::testing
