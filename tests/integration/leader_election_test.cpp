// Leader election with two operator processes against the real API server: exactly one writes,
// a killed leader is replaced within lease duration + retry period (and a change made meanwhile
// is applied), SIGTERM hands the Lease over within seconds, and a leader cut off from the API
// server stops writing before its Lease can expire for anyone else, also when the API server's
// responses are slow (the elector in this process, through a relay).

#include "operator/runtime/leader_election.h"

#include <atomic>
#include <fstream>
#include <optional>
#include <regex>
#include <thread>

#include "controllers/api/time.h"
#include "tests/integration/operator_fixture.h"
#include "tests/integration/tcp_proxy.h"

namespace tracing::testing {
namespace {

using kube::resources::deployments;
using kube::resources::namespaces;
using Clock = std::chrono::steady_clock;

// Short durations keep the test quick; their relations are the defaults' (15s/10s/2s).
const std::vector<std::string> kElection = {"--leader-elect", "--leader-election-lease-duration=6s",
                                            "--leader-election-renew-deadline=3s",
                                            "--leader-election-retry-period=1s"};

// The identity an operator process logged ("leader election: ID waiting for Lease ...").
std::string identity_in_log(const std::string& path) {
  std::ifstream in(path);
  static const std::regex waiting("leader election: (\\S+) waiting for Lease");
  std::string id;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, waiting)) id = m[1];
  }
  return id;
}

class LeaderElection : public OperatorTest {
 protected:
  void SetUp() override {
    OperatorTest::SetUp();
    if (HasFatalFailure()) return;
    for (const char* name : {"a", "b"}) {
      std::string log = log_path(std::string(".") + name);
      std::remove(log.c_str());
      ops_.push_back(std::make_unique<OperatorProcess>(root_, log));
    }
    for (int i = 0; i < 3; ++i) {
      auto d = client_->create(deployments(), ns_, deployment("w" + std::to_string(i)));
      ASSERT_TRUE(d) << d.error().to_string();
    }
  }
  void TearDown() override {
    for (auto& op : ops_) op->stop();
    OperatorTest::TearDown();
  }

  void set_ratio(const std::string& ratio) {
    apply_policy(ns_, "p",
                 {{"exporter", {{"endpoint", "http://collector.obs.svc:4317"}}},
                  {"sampling", {{"ratio", ratio}}}});
  }
  bool all_have_ratio(const std::string& ratio) {
    for (int i = 0; i < 3; ++i) {
      auto d = client_->get(deployments(), ns_, "w" + std::to_string(i));
      if (!d) return false;
      bool found = false;
      for (const auto& e :
           (*d)["spec"]["template"]["spec"]["containers"][0].value("env", json::array())) {
        if (e.value("name", "") == "OTEL_TRACES_SAMPLER_ARG" && e.value("value", "") == ratio) {
          found = true;
        }
      }
      if (!found) return false;
    }
    return true;
  }
  // The index of the process whose /metrics says it leads, or -1 (none, or both).
  int leader() const {
    int found = -1, count = 0;
    for (size_t i = 0; i < ops_.size(); ++i) {
      if (ops_[i]->running() && ops_[i]->metric("tracing_operator_leader") == 1) {
        found = static_cast<int>(i);
        ++count;
      }
    }
    return count == 1 ? found : -1;
  }
  json lease() {
    auto l = client_->get(kube::resources::leases(), root_, "tracing-operator");
    return l ? *l : json();
  }

  std::vector<std::unique_ptr<OperatorProcess>> ops_;
};

TEST_F(LeaderElection, ExactlyOneWritesAndAKilledLeaderIsReplacedWithTheChangeMadeMeanwhile) {
  const size_t offset = audit_log_size();
  set_ratio("0.3");
  ops_[0]->start(kElection);
  ops_[1]->start(kElection);
  ASSERT_TRUE(eventually([&] { return all_have_ratio("0.3"); }));
  ASSERT_TRUE(eventually([&] { return leader() >= 0; }));
  const int first = leader();
  const int standby = 1 - first;
  const std::string leader_id = identity_in_log(ops_[first]->log_path());
  ASSERT_FALSE(leader_id.empty());
  // The standby joins the election once its informers have synced, which can be after the
  // leader has configured everything (ThreadSanitizer slows the sync several times over).
  std::string standby_id;
  ASSERT_TRUE(eventually([&] {
    standby_id = identity_in_log(ops_[standby]->log_path());
    return !standby_id.empty();
  })) << "the standby never said it waits for the Lease; log "
      << ops_[standby]->log_path();
  EXPECT_EQ(lease()["spec"].value("holderIdentity", ""), leader_id);
  EXPECT_EQ(ops_[standby]->metric("tracing_operator_leader"), 0);
  EXPECT_EQ(ops_[standby]->metric("tracing_operator_informer_objects{resource=\"deployments\"}"),
            ops_[first]->metric("tracing_operator_informer_objects{resource=\"deployments\"}"))
      << "the standby's caches are as warm as the leader's";

  // Exactly one writer: every write by the operator's identity carries the leader's instance.
  int leader_writes = 0;
  for (const auto& [agent, n] : audit_writes_by_agent_since(offset)) {
    EXPECT_EQ(agent.find(standby_id), std::string::npos) << n << " write(s) by the standby";
    if (agent.find(leader_id) != std::string::npos) leader_writes += n;
  }
  EXPECT_GE(leader_writes, 3) << "the leader configured the three workloads";

  // SIGKILL: no release. The standby waits out the Lease (6 s from when it last saw it move).
  ops_[first]->kill();
  const auto killed = Clock::now();
  set_ratio("0.6");
  ASSERT_TRUE(eventually([&] { return leader() == standby; }, 20s));
  const auto took = Clock::now() - killed;
  EXPECT_LT(took, 6s + 2200ms + 1s) << "lease duration + a jittered retry period (+ slack)";
  EXPECT_EQ(lease()["spec"].value("holderIdentity", ""), standby_id);
  EXPECT_TRUE(eventually([&] { return all_have_ratio("0.6"); }))
      << "the change made while nobody led is applied by the new leader";
  std::cerr << "[ election ] takeover after SIGKILL: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n";
}

TEST_F(LeaderElection, SigtermReleasesTheLeaseAndTheStandbyTakesOverWithinSeconds) {
  set_ratio("0.3");
  ops_[0]->start(kElection);
  ASSERT_TRUE(eventually([&] { return leader() == 0; }));
  ops_[1]->start(kElection);
  ASSERT_TRUE(eventually([&] { return all_have_ratio("0.3"); }));
  EXPECT_EQ(leader(), 0) << "a running leader is not preempted";

  const auto t0 = Clock::now();
  EXPECT_EQ(ops_[0]->stop(), 0) << ops_[0]->last_exit();
  const json released = lease();
  EXPECT_TRUE(released["spec"].value("holderIdentity", "").empty() ||
              released["spec"].value("holderIdentity", "") == identity_in_log(ops_[1]->log_path()))
      << "SIGTERM clears the holder (unless the standby already took it): " << released.dump();
  ASSERT_TRUE(eventually([&] { return leader() == 1; }, 10s));
  const auto took = Clock::now() - t0;
  EXPECT_LT(took, 3s) << "one jittered retry period (1 s x up to 2.2) after the release";
  set_ratio("0.7");
  EXPECT_TRUE(eventually([&] { return all_have_ratio("0.7"); }));
  std::cerr << "[ election ] takeover after SIGTERM: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n";
}

TEST_F(LeaderElection, ALeaderCutOffFromTheApiServerStopsBeforeItsLeaseCanExpire) {
  set_ratio("0.3");
  // JSON lines: their timestamps are UTC with microseconds, like the Lease's renewTime.
  std::vector<std::string> args = kElection;
  args.push_back("--log-format=json");
  ops_[0]->start(args);
  ASSERT_TRUE(eventually([&] { return leader() == 0 && all_have_ratio("0.3"); }));

  // The API server goes away (gracefully: it may still serve a renewal while it stops).
  std::thread stopper([] { EXPECT_EQ(controlplane("stop-apiserver"), 0); });
  int code = 0;
  bool exited = false;
  const auto t0 = Clock::now();
  while (!(exited = ops_[0]->exited(&code)) && Clock::now() - t0 < 30s) {
    std::this_thread::sleep_for(10ms);
  }
  const auto exited_at = std::chrono::system_clock::now();
  stopper.join();
  ASSERT_EQ(controlplane("start-apiserver"), 0);
  ASSERT_TRUE(exited) << "the cut-off leader is still running";
  EXPECT_EQ(code, 1) << "a lost Lease exits non-zero so the Pod restarts";

  // Oracle: the Lease as etcd kept it. Its last renewTime (this machine's clock, like ours) is the
  // earliest moment from which another replica could count the lease duration.
  json kept;
  ASSERT_TRUE(eventually([&] { return !(kept = lease()).is_null(); }, 60s));
  const auto renewed = controllers::parse_rfc3339(kept["spec"].value("renewTime", ""));
  ASSERT_TRUE(renewed) << kept.dump();
  // What matters is when it stopped writing: the operator logs "leadership lost: finishing
  // in-flight work" once its client is shut down (no request starts after that). Leaving the
  // process takes longer, the more so under ThreadSanitizer, and writes nothing.
  std::optional<controllers::WallTime> stopped_writing;
  std::ifstream in(ops_[0]->log_path());
  for (std::string line; std::getline(in, line);) {
    json entry = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (entry.is_object() &&
        entry.value("msg", "") == "leadership lost: finishing in-flight work") {
      stopped_writing = controllers::parse_rfc3339(entry.value("ts", ""));
    }
  }
  ASSERT_TRUE(stopped_writing) << "no \"leadership lost\" line in " << ops_[0]->log_path();
  const auto ms = [](auto d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  };
  EXPECT_GT(*stopped_writing - *renewed, 0s);
  EXPECT_LT(*stopped_writing - *renewed, 6s)
      << "stopped writing before its Lease could expire for another replica";
  EXPECT_LT(exited_at - *stopped_writing, 10s) << "and then exits";
  std::cerr << "[ election ] cut-off leader stopped writing " << ms(*stopped_writing - *renewed)
            << " ms after its last renewal (lease duration 6000 ms, renew deadline 3000 ms) and "
               "exited "
            << ms(exited_at - *stopped_writing) << " ms later\n";
}

// The elector in this process, its requests relayed to the real API server with every response
// held back 1.5 s. The API server acts on a renewal when it gets it; the elector learns of it
// 1.5 s later. A standby counts the lease duration from when it saw the Lease move, so the
// leader's renew deadline must count from when it sent that renewal, not from its response.
class LeaseRenewal : public ClusterTest {
 protected:
  // An election in the test's namespace with a 1 s retry period, its client's requests going
  // through proxy_ (made on the first call; 8 s timeouts: the proxy's delay holds back a TLS
  // handshake's round trips too).
  runtime::LeaderElectionConfig election(const std::string& identity,
                                         std::chrono::milliseconds lease,
                                         std::chrono::milliseconds renew) {
    runtime::LeaderElectionConfig le;
    le.ns = ns_;
    le.identity = identity;
    le.lease_duration = lease;
    le.renew_deadline = renew;
    le.retry_period = 1s;
    EXPECT_EQ(runtime::validate(le), "");
    if (!proxy_) {  // config_ is known from SetUp on
      proxy_ = std::make_unique<TcpProxy>("127.0.0.1", server_port(config_));
      relayed_ = make_client(via(*proxy_, config_), kube::ClientOptions{0, 1, 8s});
    }
    return le;
  }

  std::unique_ptr<TcpProxy> proxy_;
  std::unique_ptr<kube::Client> relayed_;  // destroyed before proxy_
};

TEST_F(LeaseRenewal, TheRenewDeadlineCountsFromWhenTheLastRenewalWasSentNotFromItsSlowResponse) {
  // A try is a GET and a PUT, 3 s with the delay (6 s if it opens a connection: TLS's round trips
  // are held back too), so renewals keep succeeding within a 10 s deadline.
  const auto le = election("slow-responses_0001", 20s, 10s);
  runtime::LeaderElector elector(*relayed_, le);
  ASSERT_TRUE(elector.acquire());

  auto renew_time = [&] {
    auto l = client_->get(kube::resources::leases(), ns_, "tracing-operator");
    return l ? (*l)["spec"].value("renewTime", "") : std::string();
  };
  proxy_->set_response_delay(1500ms);
  std::atomic<bool> returned{false};
  bool kept_leading = true;
  std::chrono::system_clock::time_point lost_at;
  std::thread renewing([&] {
    kept_leading = elector.renew();
    lost_at = std::chrono::system_clock::now();
    returned = true;
  });
  // Two renewals seen in etcd: the second was sent, and will be answered, with the delay in place.
  // Right after it, another holder takes the Lease, so every later try fails (it reads the Lease
  // held), each after a delayed response: the elector can renew no more.
  std::string seen = renew_time();
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(eventually([&] { return renew_time() != seen; }, 15s)) << "renewal " << i;
    seen = renew_time();
  }
  auto held = client_->get(kube::resources::leases(), ns_, "tracing-operator");
  ASSERT_TRUE(held);
  ASSERT_EQ((*held)["spec"].value("renewTime", ""), seen);
  (*held)["spec"]["holderIdentity"] = "someone-else_0002";
  auto taken = client_->replace(kube::resources::leases(), ns_, "tracing-operator", *held);
  ASSERT_TRUE(taken) << taken.error().to_string();
  ASSERT_TRUE(eventually([&] { return returned.load(); }, 20s));
  renewing.join();
  EXPECT_FALSE(kept_leading) << "renew() reports leadership lost";

  const auto renewed = controllers::parse_rfc3339(seen);
  ASSERT_TRUE(renewed) << seen;
  // From its last renewal's start (the renewTime it wrote) the elector gives up after the renew
  // deadline, plus at most the one GET in flight then (1.5 s). Counted from that renewal's
  // response it would be 3 s later (its GET and its PUT), or more.
  const auto after = std::chrono::duration_cast<std::chrono::milliseconds>(lost_at - *renewed);
  EXPECT_GE(after, le.renew_deadline);
  EXPECT_LT(after, le.renew_deadline + 2250ms) << "lost " << after.count() << " ms after renewTime";
  std::cerr << "[ election ] with 1.5 s responses, leadership lost " << after.count()
            << " ms after the last renewal's renewTime (renew deadline 10000 ms)\n";
}

// A Lease won by a try answered after the renew deadline (a cold TLS connection under a sanitizer,
// a slow API server) is held but not led on: the elector renews it at once and leads only once a
// try is answered in time. Leading on it would mean giving it up at once (the CI flake of stop 27).
TEST_F(LeaseRenewal, ALeaseWonBySlowResponsesIsRenewedBeforeItLeads) {
  const auto le = election("slow-start_0003", 6s, 3s);
  runtime::LeaderElector elector(*relayed_, le);
  proxy_->set_response_delay(1600ms);  // a try (a read, then a write) takes >= 3.2 s
  std::atomic<bool> acquired{false};
  std::thread acquiring([&] { acquired = elector.acquire(); });
  auto holder = [&] {
    auto l = client_->get(kube::resources::leases(), ns_, "tracing-operator");
    return l ? (*l)["spec"].value("holderIdentity", "") : std::string();
  };
  ASSERT_TRUE(eventually([&] { return holder() == le.identity; }, 20s));
  // Held, but every try still takes longer than the deadline: it must not lead on it.
  EXPECT_FALSE(eventually([&] { return acquired.load(); }, 3s))
      << "led on a Lease whose response came after the deadline";
  proxy_->set_response_delay(0ms);
  acquiring.join();
  ASSERT_TRUE(acquired.load());
  // Leading on it: renewals keep succeeding until stopped.
  std::atomic<bool> renewed{false}, returned{false};
  std::thread renewing([&] {
    renewed = elector.renew();
    returned = true;
  });
  EXPECT_FALSE(eventually([&] { return returned.load(); }, 5s))
      << "gave the Lease up while the API server answers in time";
  elector.stop();
  renewing.join();
  EXPECT_TRUE(renewed.load()) << "renew() returns true when stopped, false when leadership is lost";
  EXPECT_EQ(holder(), le.identity);
}

}  // namespace
}  // namespace tracing::testing
