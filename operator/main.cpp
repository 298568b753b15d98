// tracing-operator: flags and wiring only.
#include <pthread.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "controllers/api/duration.h"
#include "controllers/naming.h"
#include "controllers/reconcilers/manager.h"
#include "operator/kube/client.h"
#include "operator/kube/config.h"
#include "operator/kube/http.h"
#include "operator/kube/system_trust.h"
#include "operator/runtime/heap_trim.h"
#include "operator/runtime/http_server.h"
#include "operator/runtime/leader_election.h"
#include "operator/runtime/metrics.h"

namespace {

// SIGTERM must end the process well inside a Pod's default 30 s grace period.
constexpr time_t kShutdownBoundSeconds = 20;

struct Flags {
  std::string kubeconfig;
  std::string context;  // kubeconfig context; default: its current-context
  std::string root_namespace = "tracing-system";
  int workers = 4;
  double qps = 20;
  bool qps_auto = true;  // --qps auto (the default): no limit while the server applies APF
  int burst = 30;
  std::string metrics_bind_address = ":8080";
  std::string health_probe_bind_address = ":8081";
  bool root_namespace_set = false;
  bool leader_elect = false;
  std::string leader_election_namespace;  // default: the in-cluster namespace, else root
  std::chrono::seconds lease_duration{15};
  std::chrono::seconds renew_deadline{10};
  std::chrono::seconds retry_period{2};
  std::chrono::seconds resync_period{600};
  std::chrono::seconds health_stall_after{900};
  int max_concurrent_reverts = 25;
  std::chrono::seconds override_backoff{30};
  std::string log_format = "text";
  std::string log_level = "info";
};

const char* kUsage = R"(Usage: tracing-operator [flags]

  --kubeconfig PATH              kubeconfig file (default: in-cluster, else $KUBECONFIG with its
                                 files merged as kubectl does, else ~/.kube/config)
  --context NAME                 kubeconfig context to use (default: the current-context); a
                                 kubeconfig is then required, in-cluster config is not used
  --root-namespace NS            policies there apply cluster-wide (default: the in-cluster
                                 namespace, else tracing-system)
  --workers N                    concurrent reconciles (default 4)
  --qps Q|auto / --burst B       client-side rate limit; 0 turns it off; auto (the default): none
                                 while the API server applies Priority and Fairness (its
                                 responses carry X-Kubernetes-PF-* headers), else 20 (burst 30)
  --metrics-bind-address ADDR    Prometheus /metrics (default :8080)
  --health-probe-bind-address ADDR  /healthz and /readyz (default :8081)
  --leader-elect                 only the holder of the Lease "tracing-operator" writes; the others
                                 keep their caches warm and take over when it goes
  --leader-election-namespace NS the Lease's namespace (default: the in-cluster namespace, else
                                 the root namespace)
  --leader-election-lease-duration D  how long a standby waits on a Lease that stopped moving (15s)
  --leader-election-renew-deadline D  a leader that has not renewed for this long stops (10s)
  --leader-election-retry-period D    between two tries to acquire or renew (2s)
  --resync-period D               queue every workload and policy again this often; 0 = never (10m)
  --max-concurrent-reverts N     reverts rolling at once when the policy that governed sets no
                                 rollout.maxConcurrent or is gone; 0 = no bound (25)
  --override-backoff D           an override: true variable another manager keeps taking back is
                                 retaken twice, then left alone for D, doubling each time it is
                                 taken back again (at most 15m) (30s)
  --health-stall-after D         /healthz fails when a reconcile or a watch loop is stuck this long (15m)
  --log-format json|text         (default text)
  --log-level debug|info|warn|error  (default info)
)";

// Parses "--name value", "--name=value" and boolean "--name". Returns an error message.
std::optional<std::string> parse_flags(int argc, char** argv, Flags& f) {
  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (a.rfind("--", 0) != 0) return "unexpected argument \"" + a + "\"";
    std::string name = a.substr(2), value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    auto take = [&]() -> std::optional<std::string> {
      if (has_value) return value;
      if (i + 1 >= args.size()) return std::nullopt;
      return args[++i];
    };
    auto need = [&](std::string& out) -> std::optional<std::string> {
      auto v = take();
      if (!v) return "flag --" + name + " needs a value";
      out = *v;
      return std::nullopt;
    };
    auto need_number = [&](auto& out, double min) -> std::optional<std::string> {
      auto v = take();
      if (!v) return "flag --" + name + " needs a value";
      try {
        size_t used = 0;
        double d = std::stod(*v, &used);
        if (used != v->size() || d < min) throw std::invalid_argument("");
        out = static_cast<std::remove_reference_t<decltype(out)>>(d);
        if (static_cast<double>(out) != d) throw std::invalid_argument("");
      } catch (const std::exception&) {
        return "flag --" + name + ": \"" + *v +
               "\" is not a number >= " + std::to_string(static_cast<int>(min));
      }
      return std::nullopt;
    };
    std::optional<std::string> err;
    if (name == "kubeconfig") {
      err = need(f.kubeconfig);
    } else if (name == "context") {
      err = need(f.context);
      if (!err && f.context.empty()) err = "flag --context needs a non-empty value";
    } else if (name == "root-namespace") {
      err = need(f.root_namespace);
      f.root_namespace_set = true;
    } else if (name == "workers") {
      err = need_number(f.workers, 1);
    } else if (name == "max-concurrent-reverts") {
      err = need_number(f.max_concurrent_reverts, 0);
    } else if (name == "qps") {
      if (has_value ? value == "auto" : i + 1 < args.size() && args[i + 1] == "auto") {
        if (!has_value) ++i;
        f.qps = 20;
        f.qps_auto = true;
      } else {
        err = need_number(f.qps, 0);
        f.qps_auto = false;
      }
    } else if (name == "burst") {
      err = need_number(f.burst, 1);
    } else if (name == "metrics-bind-address") {
      err = need(f.metrics_bind_address);
    } else if (name == "health-probe-bind-address") {
      err = need(f.health_probe_bind_address);
    } else if (name == "leader-elect") {
      f.leader_elect = !has_value || value == "true";
      if (has_value && value != "true" && value != "false") {
        err = "flag --leader-elect takes true or false, not \"" + value + "\"";
      }
    } else if (name == "health-stall-after") {
      std::string text;
      err = need(text);
      auto d = err ? std::nullopt : tracing::controllers::parse_duration(text);
      if (!err && (!d || d->count() < 3)) {
        err = "flag --health-stall-after: \"" + text +
              "\" is not a duration of at least 3s (e.g. 15m)";
      } else if (!err) {
        f.health_stall_after = *d;
      }
    } else if (name == "override-backoff") {
      std::string text;
      err = need(text);
      auto d = err ? std::nullopt : tracing::controllers::parse_duration(text);
      if (!err && (!d || d->count() < 1)) {
        err =
            "flag --override-backoff: \"" + text + "\" is not a duration of at least 1s (e.g. 30s)";
      } else if (!err) {
        f.override_backoff = *d;
      }
    } else if (name == "resync-period") {
      std::string text;
      err = need(text);
      auto d = err           ? std::nullopt
               : text == "0" ? std::optional<std::chrono::seconds>(0)
                             : tracing::controllers::parse_duration(text);
      if (!err && !d) {
        err = "flag --resync-period: \"" + text + "\" is not a duration (e.g. 10m; 0 turns it off)";
      } else if (!err) {
        f.resync_period = *d;
      }
    } else if (name == "leader-election-namespace") {
      err = need(f.leader_election_namespace);
    } else if (name == "leader-election-lease-duration" ||
               name == "leader-election-renew-deadline" || name == "leader-election-retry-period") {
      std::string text;
      err = need(text);
      auto d = err ? std::nullopt : tracing::controllers::parse_duration(text);
      if (!err && (!d || d->count() < 1)) {
        err = "flag --" + name + ": \"" + text + "\" is not a duration of at least 1s (e.g. 15s)";
      } else if (!err) {
        (name == "leader-election-lease-duration"   ? f.lease_duration
         : name == "leader-election-renew-deadline" ? f.renew_deadline
                                                    : f.retry_period) = *d;
      }
    } else if (name == "log-format") {
      err = need(f.log_format);
      if (!err && f.log_format != "json" && f.log_format != "text") {
        err = "flag --log-format takes json or text, not \"" + f.log_format + "\"";
      }
    } else if (name == "log-level") {
      err = need(f.log_level);
      if (!err && spdlog::level::from_str(f.log_level) == spdlog::level::off &&
          f.log_level != "off") {
        err = "flag --log-level takes debug, info, warn or error, not \"" + f.log_level + "\"";
      }
    } else {
      err = "unknown flag --" + name;
    }
    if (err) return err;
  }
  return std::nullopt;
}

// The log message as a JSON string body: quotes, backslashes and control characters escaped, so
// every line of --log-format json parses whatever the message holds.
class JsonMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    static const char* hex = "0123456789abcdef";
    for (char ch : std::string_view(msg.payload.data(), msg.payload.size())) {
      auto c = static_cast<unsigned char>(ch);
      if (c == '"' || c == '\\') {
        dest.push_back('\\');
        dest.push_back(ch);
      } else if (c < 0x20) {
        char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        dest.append(esc, esc + 6);
      } else {
        dest.push_back(ch);
      }
    }
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessageFlag>();
  }
};

void setup_logging(const Flags& f) {
  auto logger = spdlog::stderr_color_mt("tracing-operator");
  if (f.log_format == "json") {
    auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    formatter->add_flag<JsonMessageFlag>('*').set_pattern(
        R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","logger":"%n","msg":"%*"})");
    logger->set_formatter(std::move(formatter));
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  }
  logger->set_level(spdlog::level::from_str(f.log_level));
  spdlog::set_default_logger(logger);
}

// How the process was asked to stop: by a signal, or by losing the Lease.
class StopRequest {
 public:
  void request(std::string why, int exit_code) {
    std::lock_guard<std::mutex> g(mu_);
    if (!why_.empty()) return;
    why_ = std::move(why);
    exit_code_ = exit_code;
    cv_.notify_all();
  }
  bool requested() {
    std::lock_guard<std::mutex> g(mu_);
    return !why_.empty();
  }
  // Blocks until requested, or for at most `timeout`; returns the exit code the request asks
  // for, or nullopt when not requested yet.
  std::optional<int> wait_for(std::string& why, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> g(mu_);
    if (!cv_.wait_for(g, timeout, [this] { return !why_.empty(); })) return std::nullopt;
    why = why_;
    return exit_code_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::string why_;
  int exit_code_ = 0;
};

// hostname_<random hex>: unique per process, also when two run on one host.
std::string make_identity() {
  char host[256] = "tracing-operator";
  gethostname(host, sizeof host - 1);
  std::mt19937_64 rng{std::random_device{}()};
  char suffix[17];
  std::snprintf(suffix, sizeof suffix, "%016llx", static_cast<unsigned long long>(rng()));
  return std::string(host) + "_" + suffix;
}

// glibc gives each thread that allocates an arena of its own, up to 8 per core; freed memory
// stays in the arena that held it. The operator's threads (HTTP client pool, informers, workers)
// allocate the store in one and free list pages in others, so at 3,000 Deployments the default
// held 54-60 MiB resident where 2 arenas hold 46 MiB (one: 45.5 MiB), at the same CPU.
// glibc also raises its mmap threshold to the size of each mmapped block it frees (up to 32 MiB),
// so once the first list page's response body (~1 MB) is freed, the later ones come from the heap,
// between the records that stay. A fixed threshold of 128 KiB (glibc's initial one) keeps them
// mapped and unmapped whole. At 10,000 Deployments, restarted: 34.3-35.6 -> 33.8-34.0 MiB resident
// (README, Benchmarks). MALLOC_ARENA_MAX, MALLOC_MMAP_THRESHOLD_ or GLIBC_TUNABLES in the
// environment still decide (runtime::malloc_settings, tested in heap_trim_test.cpp).
void tune_malloc() {
  tracing::runtime::apply_malloc_settings(
      tracing::runtime::malloc_settings([](const char* name) { return std::getenv(name); }));
}

}  // namespace

int main(int argc, char** argv) {
  tune_malloc();
  // SIGTERM and SIGINT are taken by sigwait() on the signal thread below; every thread started
  // later inherits the mask, so no thread is interrupted by them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Flags flags;
  if (auto err = parse_flags(argc, argv, flags)) {
    std::cerr << "tracing-operator: " << *err << "\n\n" << kUsage;
    return 2;
  }
  setup_logging(flags);

  // The first signal asks for a clean stop; a second one, or a stop that overruns its bound (it
  // should not: the manager abandons requests after its grace period), ends the process at once,
  // as controller-runtime does.
  StopRequest stop;
  std::thread([&stop, signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    stop.request(sig == SIGTERM ? "SIGTERM" : "SIGINT", 0);
    // This thread outlives main(): from here on it touches nothing that static destruction
    // frees (no logger), and only a real second signal or the bound ends the process.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(kShutdownBoundSeconds);
    const char* why = "tracing-operator: shutdown took too long: exiting without finishing\n";
    for (;;) {
      auto left = deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::steady_clock::duration::zero()) break;
      auto secs = std::chrono::duration_cast<std::chrono::seconds>(left);
      struct timespec bound = {static_cast<time_t>(secs.count()),
                               static_cast<long>((left - secs) / std::chrono::nanoseconds(1))};
      if (sigtimedwait(&signals, nullptr, &bound) > 0) {
        why = "tracing-operator: second signal: exiting without finishing\n";
        break;
      }
      // EINTR (another signal's handler ran) or EAGAIN (the bound): look at the clock again.
    }
    (void)!write(STDERR_FILENO, why, std::strlen(why));
    std::_Exit(1);
  }).detach();

  // Test-only: where the service account's token, CA and namespace are
  // (tests/helm/incluster_test.py plays the kubelet); a Pod has them at the standard path.
  const char* sa_dir = std::getenv("TRACING_SERVICE_ACCOUNT_DIR");
  auto config = tracing::kube::load_config(flags.kubeconfig,
                                           sa_dir != nullptr && *sa_dir != '\0'
                                               ? std::string(sa_dir)
                                               : std::string(tracing::kube::kServiceAccountDir),
                                           flags.context);
  if (!config) {
    spdlog::error("{}", config.error().message);
    return 1;
  }
  if (tracing::kube::skip_unused_system_bundle(*config)) {
    spdlog::debug("the system's CA bundle is not used: SSL_CERT_FILE={} for this process",
                  tracing::kube::kNoSystemBundle);
  }
  const bool in_cluster = config->source == "in-cluster";
  if (!flags.root_namespace_set && in_cluster) flags.root_namespace = config->ns;
  const std::string identity = make_identity();
  const std::string user_agent = std::string(tracing::kube::kUserAgent) + " (" + identity + ")";
  auto transport = tracing::kube::make_http_transport(*config, user_agent);
  if (!transport) {
    spdlog::error("{}", transport.error().message);
    return 1;
  }
  tracing::kube::ClientOptions client_options;
  client_options.qps = flags.qps;
  client_options.burst = flags.burst;
  client_options.unlimited_under_flow_control = flags.qps_auto;
  tracing::kube::Client client(*transport, client_options);
  auto served = client.is_served(tracing::naming::kGroup, tracing::naming::kVersion,
                                 tracing::naming::kPlural);
  if (!served) {
    spdlog::error("cannot reach the API server {}: {}", config->server, served.error().to_string());
    return 1;
  }
  if (!*served) {
    spdlog::error("the TracingPolicy CRD ({}/{}) is not installed: kubectl apply -f crds/",
                  tracing::naming::kGroup, tracing::naming::kVersion);
    return 1;
  }
  spdlog::info("connected to {} ({}); root namespace {}", config->server, config->source,
               flags.root_namespace);

  // The elector has a client of its own: its renewals never wait behind the operator's rate
  // limit, and each try ends within one retry period.
  std::unique_ptr<tracing::kube::Client> election_client;
  std::unique_ptr<tracing::runtime::LeaderElector> elector;
  if (flags.leader_elect) {
    tracing::runtime::LeaderElectionConfig le;
    le.ns = !flags.leader_election_namespace.empty() ? flags.leader_election_namespace
            : in_cluster                             ? config->ns
                                                     : flags.root_namespace;
    le.identity = identity;
    le.lease_duration = flags.lease_duration;
    le.renew_deadline = flags.renew_deadline;
    le.retry_period = flags.retry_period;
    if (auto why = tracing::runtime::validate(le); !why.empty()) {
      std::cerr << "tracing-operator: leader election: " << why << "\n";
      return 2;
    }
    auto le_transport = tracing::kube::make_http_transport(*config, user_agent);
    if (!le_transport) {
      spdlog::error("{}", le_transport.error().message);
      return 1;
    }
    election_client = std::make_unique<tracing::kube::Client>(
        *le_transport,
        tracing::kube::ClientOptions{0, 1, std::max(flags.retry_period, std::chrono::seconds(1))});
    elector = std::make_unique<tracing::runtime::LeaderElector>(*election_client, le);
  }

  tracing::controllers::ManagerOptions options;
  options.root_namespace = flags.root_namespace;
  options.workers = flags.workers;
  options.instance = identity;
  options.resync_period = flags.resync_period;
  options.max_concurrent_reverts = flags.max_concurrent_reverts;
  options.override_backoff = flags.override_backoff;
  // The tests' check of the policies' kept status tallies (README, Building and testing).
  const char* verify = std::getenv("TRACING_OPERATOR_VERIFY_STATUS_TALLY");
  options.verify_status_tally = verify && std::string_view(verify) == "1";
  options.health_stall_after = flags.health_stall_after;
  tracing::controllers::Manager manager(client, options);
  tracing::runtime::HeapTrimmer trimmer(std::chrono::seconds(2));
  std::atomic<bool> leading{false};
  tracing::runtime::HttpServer http(
      flags.metrics_bind_address, flags.health_probe_bind_address,
      {[&manager, &leading, &trimmer] {
         tracing::runtime::MetricsWriter w;
         w.family("tracing_operator_leader", "gauge",
                  "1 while this process holds the Lease (always 1 without --leader-elect once "
                  "running), else 0.");
         w.sample("tracing_operator_leader", "", leading ? 1 : 0);
         w.family("tracing_operator_build_info", "gauge", "The operator's version; always 1.");
         w.sample("tracing_operator_build_info",
                  "version=\"" + std::string(tracing::kube::kVersion) + "\"", 1);
         w.family("tracing_operator_heap_trims_total", "counter",
                  "Times the heap's free pages were returned to the system (once per burst of "
                  "work, 2 s after it ends).");
         w.sample("tracing_operator_heap_trims_total", "", trimmer.trims());
         w.family("tracing_operator_heap_trim_pending", "gauge",
                  "1 from work until the heap is next trimmed, else 0.");
         w.sample("tracing_operator_heap_trim_pending", "", trimmer.pending() ? 1 : 0);
         return manager.metrics() + w.text();
       },
       [&manager] { return manager.ready(); }, [&manager] { return manager.unhealthy(); }});
  if (auto s = http.start(); !s) {
    spdlog::error("{}", s.error().message);
    manager.stop();
    return 1;
  }
  // A standby syncs its caches like the leader, so a takeover starts warm; only workers write.
  if (auto s = manager.start(std::chrono::seconds(120), /*with_workers=*/!elector,
                             [&stop] { return stop.requested(); });
      !s) {
    http.stop();
    manager.stop();
    if (s.error().is_shutting_down()) {
      spdlog::info("stopped before the informers synced");
      return 0;
    }
    spdlog::error("{}", s.error().message);
    return 1;
  }

  std::thread election;
  std::thread starter;  // starts the workers of a new leader, off the renewing thread
  if (elector) {
    election = std::thread([&] {
      if (!elector->acquire()) return;  // stopped while waiting
      leading = true;
      // Starting reads the cluster once (the Dapr names taken): renewing must not wait for it.
      starter = std::thread([&] { manager.start_workers(); });
      spdlog::info("leading: running with {} workers", flags.workers);
      if (elector->renew()) return;  // stopped while leading
      // Lost: another replica may take the Lease once it expires; stop writing now, before that.
      leading = false;
      client.shut_down();
      stop.request("leadership lost", 1);
    });
  } else {
    leading = true;
    spdlog::info("running with {} workers", flags.workers);
  }

  // Until asked to stop, the heap's free pages go back to the system each time the operator has
  // been quiet for 2 s after work (runtime/heap_trim.h).
  std::string why;
  std::optional<int> stopping;
  while (!(stopping = stop.wait_for(why, std::chrono::seconds(1)))) {
    trimmer.observe(manager.activity(), std::chrono::steady_clock::now());
  }
  const int exit_code = *stopping;
  spdlog::info("{}: finishing in-flight work", why);
  http.stop();
  if (elector) {
    elector->stop();
    election.join();
  }
  manager.stop();  // ends a start_workers() still reading (the client shuts down)
  if (starter.joinable()) starter.join();
  if (elector && exit_code == 0) {
    // Only now that nothing writes: the standby may take over at its next retry.
    if (auto s = elector->release(); !s) {
      spdlog::warn("releasing the Lease: {}", s.error().to_string());
    }
  }
  spdlog::info("stopped after {} reconciles and {} writes", manager.reconciles(),
               client.counts().writes.load());
  return exit_code;
}
