#include "operator/runtime/leader_election.h"

#include <gtest/gtest.h>

namespace tracing::runtime {
namespace {

using namespace std::chrono_literals;

LeaderElectionConfig config(std::chrono::milliseconds lease, std::chrono::milliseconds renew,
                            std::chrono::milliseconds retry) {
  LeaderElectionConfig c;
  c.ns = "tracing-system";
  c.identity = "host_0123";
  c.lease_duration = lease;
  c.renew_deadline = renew;
  c.retry_period = retry;
  return c;
}

TEST(LeaderElectionConfig, AcceptsClientGosDefaults) {
  EXPECT_EQ(validate(config(15s, 10s, 2s)), "");
}

TEST(LeaderElectionConfig, RefusesDurationsThatLetTwoLeadersOverlap) {
  EXPECT_EQ(validate(config(10s, 10s, 2s)),
            "the lease duration must be longer than the renew deadline");
  EXPECT_EQ(validate(config(15s, 2400ms, 2s)),
            "the renew deadline must be longer than 1.2 x the retry period");
  EXPECT_EQ(validate(config(15s, 10s, 0s)), "the retry period must be positive");
  auto no_ns = config(15s, 10s, 2s);
  no_ns.ns = "";
  EXPECT_EQ(validate(no_ns), "the Lease needs a namespace");
}

TEST(LeaseRecord, ReadsTheSpecTheApiServerHolds) {
  auto lease = nlohmann::json::parse(R"({
    "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
    "metadata": {"name": "tracing-operator", "namespace": "tracing-system"},
    "spec": {"holderIdentity": "pod-a_00ff", "leaseDurationSeconds": 15,
             "acquireTime": "2026-11-30T05:00:00.000000Z",
             "renewTime": "2026-11-30T05:01:02.345678Z", "leaseTransitions": 3}})");
  LeaseRecord r = lease_record_of(lease);
  EXPECT_EQ(r.holder, "pod-a_00ff");
  EXPECT_EQ(r.lease_duration_seconds, 15);
  EXPECT_EQ(r.acquire_time, "2026-11-30T05:00:00.000000Z");
  EXPECT_EQ(r.renew_time, "2026-11-30T05:01:02.345678Z");
  EXPECT_EQ(r.transitions, 3);
}

TEST(LeaseRecord, AReleasedLeaseHasNoHolderField) {
  auto spec = lease_spec({"", 1, "2026-11-30T05:00:00.000000Z", "2026-11-30T05:00:00.000000Z", 4});
  EXPECT_EQ(spec, nlohmann::json::parse(R"({"leaseDurationSeconds": 1,
      "acquireTime": "2026-11-30T05:00:00.000000Z", "renewTime": "2026-11-30T05:00:00.000000Z",
      "leaseTransitions": 4})"));
  EXPECT_EQ(lease_record_of({{"spec", spec}}).holder, "");
}

TEST(LeaseRecord, AnEmptyOrMistypedSpecReadsAsFree) {
  LeaseRecord r = lease_record_of(
      nlohmann::json::parse(R"({"spec": {"holderIdentity": 7, "leaseDurationSeconds": "15"}})"));
  EXPECT_EQ(r.holder, "");
  EXPECT_EQ(r.lease_duration_seconds, 0);
  EXPECT_EQ(lease_record_of(nlohmann::json::object()).holder, "");
}

}  // namespace
}  // namespace tracing::runtime
