// kubectl-tracing (SPEC §13) against the real API server and the operator's own process: what
// the plugin says a workload receives is checked against what the operator then writes (an
// independent oracle: the Deployment's env), and its edits against the policy as stored.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/integration/operator_fixture.h"

namespace tracing::testing {
namespace {

using kube::resources::deployments;

class KubectlTracing : public OperatorTest {
 protected:
  // Runs the plugin with the admin kubeconfig; stdout and stderr together, or (`stderr_to`)
  // stderr into that file.
  std::string plugin(const std::string& args, int* status = nullptr,
                     const std::string& stderr_to = "") {
    return run_capture(std::string(TRACING_BINARY_DIR) + "/bin/kubectl-tracing --kubeconfig " +
                           admin_kubeconfig() + " --root-namespace " + root_ + " " + args +
                           (stderr_to.empty() ? " 2>&1" : " 2>>" + stderr_to),
                       status);
  }
  json plugin_json(const std::string& args) {
    int status = -1;
    const std::string err = log_path("-plugin-stderr");
    std::string out = plugin(args + " -o json", &status, err);
    EXPECT_EQ(status, 0) << out << "\nstderr in " << err;
    json j = json::parse(out, nullptr, false);
    EXPECT_TRUE(j.is_object()) << out;
    return j.is_object() ? j : json::object();
  }
  // The Deployment's container "app" env as name → value.
  std::map<std::string, std::string> env_of(const std::string& ns, const std::string& name) {
    std::map<std::string, std::string> out;
    auto d = client_->get(deployments(), ns, name);
    if (!d) return out;
    for (const auto& e : (*d)["spec"]["template"]["spec"]["containers"][0].value("env", json())) {
      out[e.value("name", "")] = e.value("value", "");
    }
    return out;
  }
  json by_name(const json& status, const std::string& name) {
    for (const auto& w : status.value("workloads", json::array())) {
      if (w.value("name", "") == name) return w;
    }
    return json::object();
  }
};

TEST_F(KubectlTracing, StatusAndWhyTellWhatEachWorkloadReceivesAndTheOperatorWritesIt) {
  workload(ns_, "api", {{"app", "api"}},
           json::array({{{"name", "OTEL_PROPAGATORS"}, {"value", "b3"}}}));
  workload(ns_, "web", {{"app", "web"}});
  workload(ns_, "batch", {{"app", "batch"}});
  apply_policy(
      root_, "cluster",
      {{"namespaceSelector", {{"matchLabels", {{"kubernetes.io/metadata.name", ns_}}}}},
       {"selector",
        {{"matchExpressions",
          json::array({{{"key", "app"}, {"operator", "In"}, {"values", {"api", "web"}}}})}}},
       {"exporter", {{"endpoint", "http://collector.obs.svc:4317"}}},
       {"sampling", {{"ratio", "0.1"}}}});
  apply_policy(
      ns_, "team",
      {{"selector", {{"matchLabels", {{"app", "api"}}}}}, {"sampling", {{"ratio", "0.5"}}}});

  // The operator is not running yet: both governed workloads are pending, batch is not listed.
  json before = plugin_json("status -n " + ns_);
  ASSERT_EQ(before["workloads"].size(), 2u) << before.dump();
  EXPECT_EQ(by_name(before, "api")["state"], "pending");
  EXPECT_EQ(by_name(before, "web")["state"], "pending");

  op_->start();
  ASSERT_TRUE(eventually([&] { return env_of(ns_, "web")["OTEL_TRACES_SAMPLER_ARG"] == "0.1"; }));
  ASSERT_TRUE(eventually([&] { return env_of(ns_, "api")["OTEL_TRACES_SAMPLER_ARG"] == "0.5"; }));

  json after = plugin_json("status -n " + ns_);
  json api = by_name(after, "api"), web = by_name(after, "web");
  EXPECT_EQ(api["state"], "configured") << after.dump();
  EXPECT_EQ(api["governing"], ns_ + "/team");
  EXPECT_EQ(api["ratio"], "0.5");
  EXPECT_EQ(api["source"], "base");
  EXPECT_EQ(api["conflicts"], json::array({{{"container", "app"},
                                            {"variable", "OTEL_PROPAGATORS"},
                                            {"reason", api["conflicts"][0].value("reason", "")}}}));
  EXPECT_EQ(web["state"], "configured");
  EXPECT_EQ(web["governing"], root_ + "/cluster");
  EXPECT_EQ(web["ratio"], "0.1");
  EXPECT_EQ(web["endpoint"], "http://collector.obs.svc:4317");
  // All namespaces: the same two, and no more from this namespace.
  int here = 0;
  json all = plugin_json("status -A");
  for (const auto& w : all.value("workloads", json::array())) here += w["namespace"] == ns_;
  EXPECT_EQ(here, 2) << all.dump().substr(0, 2000);

  json why = plugin_json("why api -n " + ns_);
  EXPECT_EQ(why["candidates"], json::array({{{"policy", ns_ + "/team"},
                                             {"rank", "namespace policy with a selector"},
                                             {"priority", 0}},
                                            {{"policy", root_ + "/cluster"},
                                             {"rank", "root policy with a selector"},
                                             {"priority", 0}}}));
  EXPECT_EQ(why["fieldSources"]["sampling"], ns_ + "/team");
  EXPECT_EQ(why["fieldSources"]["exporter"], root_ + "/cluster");
  EXPECT_EQ(why["fieldSources"]["propagators"], "");
  // What it says the operator writes is what the operator wrote.
  std::map<std::string, std::string> said;
  for (const auto& [k, v] : why["writes"]["app"].items()) said[k] = v.get<std::string>();
  std::map<std::string, std::string> written;
  for (const auto& [k, v] : env_of(ns_, "api")) {
    if (k.rfind("OTEL_", 0) == 0 && k != "OTEL_PROPAGATORS") written[k] = v;
  }
  EXPECT_EQ(said, written);
  EXPECT_EQ(said.count("OTEL_TRACES_SAMPLER_ARG"), 1u) << why.dump();

  // diff -f: what applying a file would change, checked against what the operator then does.
  const std::string file = log_path("-team.yaml");
  {
    std::ofstream out(file);
    out << "apiVersion: tracing.rollout.dev/v1alpha1\nkind: TracingPolicy\n"
        << "metadata: {name: team}\n"
        << "spec:\n  selector: {matchLabels: {app: api}}\n  sampling: {ratio: \"0.6\"}\n";
  }
  // Whether diff writes is read from the audit log, by its user agent: the policy's own
  // resourceVersion also moves when the running operator writes its status (the workloads'
  // rollouts go on meanwhile), which is no write of diff's.
  const size_t audit = audit_log_size();
  json diff = plugin_json("diff -f " + file + " -n " + ns_);
  EXPECT_EQ(
      diff,
      (json{{"policy", ns_ + "/team"},
            {"workloads",
             json::array({{{"namespace", ns_},
                           {"kind", "Deployment"},
                           {"name", "api"},
                           {"governing", {{"from", ns_ + "/team"}, {"to", ns_ + "/team"}}},
                           {"variables", json::array({{{"variable", "app/OTEL_TRACES_SAMPLER_ARG"},
                                                       {"from", "0.5"},
                                                       {"to", "0.6"}}})}}})}}));
  int plugin_writes = 0;
  for (const auto& [agent, n] : audit_writes_by_agent_since(audit, "admin")) {
    if (agent.rfind("kubectl-tracing/", 0) == 0) plugin_writes += n;
  }
  EXPECT_EQ(plugin_writes, 0) << "diff writes nothing";
  std::string out = kubectl("apply --server-side -n " + ns_ + " -f " + file);
  EXPECT_TRUE(eventually([&] { return env_of(ns_, "api")["OTEL_TRACES_SAMPLER_ARG"] == "0.6"; }))
      << out;
  EXPECT_EQ(env_of(ns_, "web")["OTEL_TRACES_SAMPLER_ARG"], "0.1") << "as diff said: unchanged";

  std::string table = plugin("why batch -n " + ns_);
  EXPECT_NE(table.find("not-governed"), std::string::npos) << table;
  table = plugin("status -n " + ns_);
  EXPECT_NE(table.find("POLICY"), std::string::npos) << table;
  EXPECT_NE(table.find(ns_ + "/team"), std::string::npos) << table;
}

// §5 "one operation": status and why show a bump limited to operations, with its end, and
// whether the workload's sampling mode serves it (remote) or it applies to nothing (restart).
TEST_F(KubectlTracing, StatusAndWhyShowPerOperationBumpsAndWhetherTheyAreServed) {
  workload(ns_, "tasks", {{"app", "tasks"}});
  const std::string until = "2099-01-01T00:00:00Z";
  // Remote mode with a managed Jaeger (no exporter endpoint): served by its strategies.
  json spec = {
      {"sampling", {{"ratio", "0.1"}, {"mode", "remote"}}},
      {"debug", {{"ratio", "1"}, {"until", until}, {"operations", {"POST /tasks", "GET /tasks"}}}}};
  apply_policy(ns_, "p", spec);
  json remote = by_name(plugin_json("status -n " + ns_), "tasks");
  EXPECT_EQ(remote["ratio"], "0.1") << "an operations bump leaves the service's ratio";
  EXPECT_FALSE(remote.contains("debug")) << remote.dump();
  ASSERT_EQ(remote["operationDebug"].size(), 2u) << remote.dump();
  for (const auto& o : remote["operationDebug"]) {
    EXPECT_EQ(o["policy"], ns_ + "/p");
    EXPECT_EQ(o["ratio"], "1");
    EXPECT_EQ(o["expiresAt"], until);
    EXPECT_EQ(o["served"], true);
    EXPECT_FALSE(o.contains("notServed"));
  }
  EXPECT_EQ(remote["operationDebug"][0]["operation"], "GET /tasks");
  EXPECT_EQ(remote["operationDebug"][1]["operation"], "POST /tasks");
  std::string table = plugin("status -n " + ns_);
  EXPECT_NE(table.find("(2 ops)"), std::string::npos) << table;
  std::string why = plugin("why tasks -n " + ns_);
  EXPECT_NE(why.find("Debug bump of operation POST /tasks to 1 by " + ns_ + "/p, ends in "),
            std::string::npos)
      << why;
  EXPECT_EQ(why.find("not served"), std::string::npos) << why;

  // Restart mode: applies to nothing (§5), and is never widened to the whole service.
  spec["sampling"]["mode"] = "restart";
  apply_policy(ns_, "p", spec);
  json restart = by_name(plugin_json("status -n " + ns_), "tasks");
  ASSERT_EQ(restart["operationDebug"].size(), 2u) << restart.dump();
  EXPECT_EQ(restart["operationDebug"][0]["served"], false);
  EXPECT_EQ(restart["ratio"], "0.1");
  table = plugin("status -n " + ns_);
  EXPECT_NE(table.find("(2 ops: not served)"), std::string::npos) << table;
  why = plugin("why tasks -n " + ns_);
  EXPECT_NE(why.find("(not served: restart mode cannot select operations"), std::string::npos)
      << why;

  // Remote mode with an external Jaeger: the operator writes it no strategies.
  spec["sampling"]["mode"] = "remote";
  spec["exporter"] = {{"endpoint", "http://collector.obs.svc:4317"}};
  spec["jaeger"] = {{"mode", "external"}, {"samplingEndpoint", "http://jaeger.obs.svc:5779"}};
  apply_policy(ns_, "p", spec);
  json external = by_name(plugin_json("status -n " + ns_), "tasks");
  ASSERT_EQ(external["operationDebug"].size(), 2u) << external.dump();
  EXPECT_EQ(external["operationDebug"][0]["served"], false);
  EXPECT_EQ(external["operationDebug"][0]["notServed"],
            "the operator writes no sampling strategies for a Jaeger it does not manage");
}

TEST_F(KubectlTracing, BumpPauseAndResumeEditThePolicyAndBadInputIsRefusedNamingIt) {
  workload(ns_, "api", {{"app", "api"}});
  // An earlier bump limited to one operation (restart mode: it applies to nothing), ending at an
  // instant: `bump` replaces it with a whole-service bump for its duration.
  apply_policy(
      ns_, "team",
      {{"exporter", {{"endpoint", "http://collector.obs.svc:4317"}}},
       {"sampling", {{"ratio", "0.1"}}},
       {"debug",
        {{"ratio", "0.5"}, {"until", "2030-01-01T00:00:00Z"}, {"operations", {"POST /tasks"}}}}});
  op_->start();
  ASSERT_TRUE(eventually([&] { return env_of(ns_, "api")["OTEL_TRACES_SAMPLER_ARG"] == "0.1"; }));

  int status = -1;
  std::string out =
      plugin("bump team --ratio 1 --for 15m --reason 'incident 42' -n " + ns_, &status);
  EXPECT_EQ(status, 0) << out;
  auto p = client_->get(kPolicies, ns_, "team");
  ASSERT_TRUE(p);
  EXPECT_EQ((*p)["spec"]["debug"],
            (json{{"ratio", "1"}, {"duration", "15m"}, {"reason", "incident 42"}}));
  EXPECT_TRUE(eventually([&] { return env_of(ns_, "api")["OTEL_TRACES_SAMPLER_ARG"] == "1"; }));
  json api;
  EXPECT_TRUE(eventually([&] {
    api = by_name(plugin_json("status -n " + ns_), "api");
    return api.value("source", "") == "debug";
  })) << api.dump();
  const std::string remaining = api["debug"].value("remaining", "");
  EXPECT_TRUE(remaining.rfind("14m", 0) == 0 || remaining == "15m") << remaining;

  out = plugin("pause team -n " + ns_, &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_EQ((*client_->get(kPolicies, ns_, "team"))["spec"]["rollout"]["paused"], true);
  out = plugin("resume team -n " + ns_, &status);
  EXPECT_EQ(status, 0) << out;
  EXPECT_EQ((*client_->get(kPolicies, ns_, "team"))["spec"]["rollout"]["paused"], false);

  // Refused before anything is sent: a duration that is none.
  out = plugin("bump team --ratio 1 --for 15minutes -n " + ns_, &status);
  EXPECT_EQ(status, 2);
  EXPECT_NE(out.find("--for"), std::string::npos) << out;
  // Refused by the API server's schema, naming the field.
  out = plugin("bump team --ratio 2 --for 15m -n " + ns_, &status);
  EXPECT_EQ(status, 1);
  EXPECT_NE(out.find("spec.debug.ratio"), std::string::npos) << out;
  out = plugin("pause nothing-here -n " + ns_, &status);
  EXPECT_EQ(status, 1);
  EXPECT_NE(out.find("not found"), std::string::npos) << out;
}

// The audit-log reader the write counts here rest on: after a rotation (the control plane keeps
// one backup, audit-<time>.log) the lines after an offset are the newest backup's remainder and
// then the new log; without one, the log's own remainder. Files laid out as kube-apiserver's log
// rotation names them; the expected lines are written out, not derived.
TEST(AuditLog, LinesAfterAnOffsetIncludeTheRotatedBackupsRemainder) {
  char tmpl[] = "/tmp/tracing-audit-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::filesystem::path dir = tmpl;
  const auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name, std::ios::binary) << text;
  };
  write("audit.log", "a1\na2\na3\nb1\n");
  EXPECT_EQ(audit_lines_since(dir / "audit.log", 3), (std::vector<std::string>{"a2", "a3", "b1"}));

  write("audit-2026-12-01T09-00-00.000.log", "older\n");
  write("audit-2026-12-01T10-00-00.000.log", "a1\na2\na3\n");
  write("audit.log", "b\n");  // shorter than the offset: it rotated since
  EXPECT_EQ(audit_lines_since(dir / "audit.log", 3), (std::vector<std::string>{"a2", "a3", "b"}))
      << "rotated: the newest backup's remainder, then the new log";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tracing::testing
