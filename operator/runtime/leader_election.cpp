#include "operator/runtime/leader_election.h"

#include <spdlog/spdlog.h>

#include <ctime>
#include <random>

#include "operator/runtime/event_correlator.h"  // format_micro_time

namespace tracing::runtime {

namespace {

using json = nlohmann::json;
using std::chrono::milliseconds;
using steady = std::chrono::steady_clock;

bool same(const LeaseRecord& a, const LeaseRecord& b) {
  return a.holder == b.holder && a.lease_duration_seconds == b.lease_duration_seconds &&
         a.acquire_time == b.acquire_time && a.renew_time == b.renew_time &&
         a.transitions == b.transitions;
}

}  // namespace

std::string validate(const LeaderElectionConfig& c) {
  if (c.retry_period <= milliseconds(0)) return "the retry period must be positive";
  if (c.renew_deadline * 10 <= c.retry_period * 12) {
    return "the renew deadline must be longer than 1.2 x the retry period";
  }
  if (c.lease_duration <= c.renew_deadline) {
    return "the lease duration must be longer than the renew deadline";
  }
  if (c.lease_duration < std::chrono::seconds(1)) return "the lease duration must be >= 1s";
  if (c.ns.empty()) return "the Lease needs a namespace";
  if (c.identity.empty()) return "the candidate needs an identity";
  return "";
}

LeaseRecord lease_record_of(const json& lease) {
  LeaseRecord r;
  const json spec = lease.value("spec", json::object());
  auto str = [&spec](const char* key) {
    auto it = spec.find(key);
    return it != spec.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto num = [&spec](const char* key) {
    auto it = spec.find(key);
    return it != spec.end() && it->is_number_integer() ? it->get<int>() : 0;
  };
  r.holder = str("holderIdentity");
  r.lease_duration_seconds = num("leaseDurationSeconds");
  r.acquire_time = str("acquireTime");
  r.renew_time = str("renewTime");
  r.transitions = num("leaseTransitions");
  return r;
}

json lease_spec(const LeaseRecord& r) {
  json spec = {{"leaseDurationSeconds", r.lease_duration_seconds},
               {"acquireTime", r.acquire_time},
               {"renewTime", r.renew_time},
               {"leaseTransitions", r.transitions}};
  if (!r.holder.empty()) spec["holderIdentity"] = r.holder;
  return spec;
}

LeaderElector::LeaderElector(kube::Client& client, LeaderElectionConfig config)
    : client_(client), config_(std::move(config)) {}

bool LeaderElector::try_acquire_or_renew(std::optional<steady::time_point> give_up_at) {
  const auto wall_now = std::chrono::system_clock::now();
  const auto now = steady::now();
  const int duration_s = static_cast<int>(
      std::chrono::duration_cast<std::chrono::seconds>(config_.lease_duration).count());
  LeaseRecord mine{config_.identity, duration_s, format_micro_time(wall_now),
                   format_micro_time(wall_now), 0};

  auto got = client_.get(kube::resources::leases(), config_.ns, config_.name);
  if (give_up_at && steady::now() >= *give_up_at) return false;  // too late to write: see renew()
  if (!got) {
    if (!got.error().is_not_found()) {
      spdlog::warn("leader election: reading Lease {}/{}: {}", config_.ns, config_.name,
                   got.error().to_string());
      return false;
    }
    json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                  {"kind", "Lease"},
                  {"metadata", {{"name", config_.name}, {"namespace", config_.ns}}},
                  {"spec", lease_spec(mine)}};
    auto created = client_.create(kube::resources::leases(), config_.ns, lease);
    if (!created) {
      if (!created.error().is_already_exists()) {
        spdlog::warn("leader election: creating Lease {}/{}: {}", config_.ns, config_.name,
                     created.error().to_string());
      }
      return false;
    }
    observed_ = mine;
    observed_version_ = (*created)["metadata"].value("resourceVersion", "");
    observed_at_ = now;
    return true;
  }

  const json& lease = *got;
  LeaseRecord current = lease_record_of(lease);
  const std::string version = lease["metadata"].value("resourceVersion", "");
  if (version != observed_version_ || !same(current, observed_)) {
    observed_ = current;
    observed_version_ = version;
    observed_at_ = now;
  }
  if (!current.holder.empty() && current.holder != config_.identity) {
    const auto held_for = std::chrono::seconds(
        current.lease_duration_seconds > 0 ? current.lease_duration_seconds : duration_s);
    if (observed_at_ + held_for > now) return false;  // held, and not yet expired as we see it
  }

  if (current.holder == config_.identity) {
    mine.acquire_time = current.acquire_time;
    mine.transitions = current.transitions;
  } else {
    mine.transitions = current.transitions + 1;
  }
  json updated = lease;
  updated["spec"] = lease_spec(mine);
  auto put = client_.replace(kube::resources::leases(), config_.ns, config_.name, updated);
  if (!put) {
    if (!put.error().is_conflict()) {
      spdlog::warn("leader election: updating Lease {}/{}: {}", config_.ns, config_.name,
                   put.error().to_string());
    }
    return false;
  }
  observed_ = mine;
  observed_version_ = (*put)["metadata"].value("resourceVersion", "");
  observed_at_ = now;
  return true;
}

std::chrono::milliseconds LeaderElector::jittered(milliseconds d) {
  // client-go's wait.Jitter(retryPeriod, 1.2): up to 1.2 x more.
  static thread_local std::mt19937 rng{std::random_device{}()};
  std::uniform_real_distribution<double> extra(0.0, 1.2);
  return d + milliseconds(static_cast<int64_t>(static_cast<double>(d.count()) * extra(rng)));
}

bool LeaderElector::sleep_for(milliseconds d) {
  std::unique_lock<std::mutex> g(mu_);
  cv_.wait_for(g, d, [this] { return stopping_; });
  return !stopping_;
}

bool LeaderElector::acquire() {
  spdlog::info("leader election: {} waiting for Lease {}/{}", config_.identity, config_.ns,
               config_.name);
  std::string last_holder;
  for (;;) {
    {
      std::lock_guard<std::mutex> g(mu_);
      if (stopping_) return false;
    }
    if (try_acquire_or_renew()) {
      leader_ = true;  // holds it: release() gives it back
      // Leading needs time to spare: renew() gives up renew_deadline after the successful try
      // started. A try answered later than that (a cold connection, a slow API server) holds the
      // Lease but may not lead on it; it is renewed at once, which a warm connection answers in
      // time. Meanwhile nothing writes, and no standby can take it.
      const auto took = steady::now() - observed_at_;
      if (took >= config_.renew_deadline) {
        spdlog::warn(
            "leader election: {} holds Lease {}/{}, but the response took {} ms (renew deadline "
            "{} ms): renewing before it leads",
            config_.identity, config_.ns, config_.name,
            std::chrono::duration_cast<milliseconds>(took).count(), config_.renew_deadline.count());
        continue;
      }
      spdlog::info("leader election: {} acquired Lease {}/{}", config_.identity, config_.ns,
                   config_.name);
      return true;
    }
    if (observed_.holder != last_holder) {
      last_holder = observed_.holder;
      spdlog::info("leader election: Lease {}/{} is held by {}", config_.ns, config_.name,
                   last_holder.empty() ? "nobody" : last_holder);
    }
    if (!sleep_for(jittered(config_.retry_period))) return false;
  }
}

bool LeaderElector::renew() {
  // The deadline runs from when the last successful renewal started (the acquiring try, at
  // first), not from when its response came: the Lease moved between the two, and a standby counts
  // the lease duration from when it saw it move. So a slow response cannot stretch a leader's
  // time past what any standby allows it. No try starts at or after the deadline, and a try
  // that finds it passed after its GET sends no PUT: leadership ends at most one request timeout
  // after the deadline.
  auto last_renewed = observed_at_;
  for (;;) {
    const auto deadline = last_renewed + config_.renew_deadline;
    for (;;) {
      {
        std::lock_guard<std::mutex> g(mu_);
        if (stopping_) return true;
      }
      if (steady::now() < deadline && try_acquire_or_renew(deadline)) {
        last_renewed = observed_at_;  // set by the try to the moment it started
        break;
      }
      if (steady::now() >= deadline) {
        leader_ = false;
        spdlog::error(
            "leader election: {} could not renew Lease {}/{} within {} ms: leadership "
            "lost",
            config_.identity, config_.ns, config_.name, config_.renew_deadline.count());
        return false;
      }
      auto left = std::chrono::duration_cast<milliseconds>(deadline - steady::now());
      if (!sleep_for(std::max(milliseconds(0), std::min(config_.retry_period, left)))) return true;
    }
    if (!sleep_for(config_.retry_period)) return true;
  }
}

void LeaderElector::stop() {
  {
    std::lock_guard<std::mutex> g(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
}

kube::Status LeaderElector::release() {
  if (!leader_.exchange(false)) return kube::Ok{};
  auto got = client_.get(kube::resources::leases(), config_.ns, config_.name);
  if (!got) return got.error();
  if (lease_record_of(*got).holder != config_.identity) return kube::Ok{};  // not ours any more
  const std::string now = format_micro_time(std::chrono::system_clock::now());
  json released = *got;
  released["spec"] = lease_spec({"", 1, now, now, observed_.transitions});
  auto put = client_.replace(kube::resources::leases(), config_.ns, config_.name, released);
  if (!put) return put.error();
  spdlog::info("leader election: {} released Lease {}/{}", config_.identity, config_.ns,
               config_.name);
  return kube::Ok{};
}

}  // namespace tracing::runtime
