// Leader election through a coordination.k8s.io/v1 Lease, as client-go's leaderelection package
// does it, so that of several replicas exactly one writes.
//
// Guarantees:
// - A Lease held by another identity is taken only once it has not changed for its
//   leaseDurationSeconds as measured on this process's own monotonic clock, from the moment this
//   process saw its current version: the holder's timestamps are never compared with our clock,
//   so clock skew between nodes cannot cut a lease short.
// - Every write to the Lease is a PUT carrying the resourceVersion that was read (or a create):
//   of two candidates racing for an expired Lease, one gets a 409 and stays a standby.
// - A leader whose last successful renewal started `renew_deadline` ago gives up: renew() returns
//   false (at most one request timeout later), and the caller must stop writing at once. With
//   renew_deadline + one request timeout (the elector's client times out after retry_period) <
//   lease_duration, the old leader has stopped before any standby can see the Lease expire.
// - release() clears holderIdentity (leaseDurationSeconds 1), so a standby takes over at its next
//   retry instead of waiting out the lease.
//
// Caveats: the Lease's own timestamps are informational (kubectl shows them); a holder that
// keeps renewing is never preempted.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>

#include "operator/kube/client.h"

namespace tracing::runtime {

struct LeaderElectionConfig {
  std::string ns;  // the Lease's namespace: the operator's own
  std::string name = "tracing-operator";
  std::string identity;  // unique per process: hostname + random suffix
  std::chrono::milliseconds lease_duration{15000};
  std::chrono::milliseconds renew_deadline{10000};
  std::chrono::milliseconds retry_period{2000};
};

// What makes a configuration safe (client-go's checks): lease_duration > renew_deadline >
// 1.2 * retry_period, every one positive; "" when valid, else why not.
std::string validate(const LeaderElectionConfig& config);

// The Lease's spec as the algorithm reads and writes it.
struct LeaseRecord {
  std::string holder;
  int lease_duration_seconds = 0;
  std::string acquire_time;  // RFC 3339 with microseconds (MicroTime)
  std::string renew_time;
  int transitions = 0;
};

LeaseRecord lease_record_of(const nlohmann::json& lease);
nlohmann::json lease_spec(const LeaseRecord& record);

class LeaderElector {
 public:
  // `client` should be the elector's own (its own rate limit, short request timeouts), so a
  // busy operator never starves its renewals.
  LeaderElector(kube::Client& client, LeaderElectionConfig config);

  // Blocks until this process holds the Lease with a try answered within renew_deadline of its
  // start (true), or stop() is called (false).
  bool acquire();
  // Renews every retry_period while leading. Returns false as soon as a renewal has not
  // succeeded within renew_deadline (leadership lost: stop writing now), true once stop() is
  // called.
  bool renew();
  // Wakes acquire() and renew(); they return. Thread-safe.
  void stop();
  // Gives the Lease up if this process holds it (after it has stopped writing).
  kube::Status release();

 private:
  // One round of client-go's tryAcquireOrRenew: true when we hold the Lease afterwards. With
  // `give_up_at`, no write is sent once it has passed. On success observed_at_ is the moment the
  // round started.
  bool try_acquire_or_renew(
      std::optional<std::chrono::steady_clock::time_point> give_up_at = std::nullopt);
  // Sleeps `d` unless stop() is called first (returns false then).
  bool sleep_for(std::chrono::milliseconds d);
  std::chrono::milliseconds jittered(std::chrono::milliseconds d);

  kube::Client& client_;
  const LeaderElectionConfig config_;
  std::atomic<bool> leader_{false};

  // What we last saw of the Lease, and when (our monotonic clock) it last changed.
  std::string observed_version_;
  LeaseRecord observed_;
  std::chrono::steady_clock::time_point observed_at_{};

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
};

}  // namespace tracing::runtime
